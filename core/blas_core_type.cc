#include "core/blas_core_type.h"

#include <stdlib.h>
#include <unistd.h>

namespace dreamshot::core {

std::string BlasCoreTypeForThisCpu() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512cd")) {
    return "SkylakeX";
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return "";
}

void ReexecWithBlasCoreType(char** argv) {
  if (::getenv("OPENBLAS_CORETYPE") != nullptr) return;
  const std::string core = BlasCoreTypeForThisCpu();
  if (core.empty()) return;
  ::setenv("OPENBLAS_CORETYPE", core.c_str(), 1);
  ::execv("/proc/self/exe", argv);
  // exec failed (no /proc?): carry on with OpenBLAS's own choice.
}

}  // namespace dreamshot::core
