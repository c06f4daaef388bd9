#include "core/cpu_init.h"

#include <cstdlib>

#include "core/blas_core_type.h"
#include "core/caching_cpu_allocator.h"
#include "core/device.h"

namespace dreamshot::core {

CpuSettings InitCpu(char** argv, const CpuOptions& options) {
  ReexecWithBlasCoreType(argv);
  CpuSettings settings;
  const char* core_type = std::getenv("OPENBLAS_CORETYPE");
  settings.blas_core_type = core_type != nullptr ? core_type : "";
  settings.threads = InitCpuThreads(options.threads);
  settings.max_cached_bytes = InstallCachingCpuAllocator(options.max_cached_bytes);
  return settings;
}

}  // namespace dreamshot::core
