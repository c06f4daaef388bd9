// OpenBLAS chooses its kernels from the CPU model name. Virtual machines
// that report a generic model ("Intel(R) Xeon(R) Processor") make it fall
// back to its Prescott (SSE3) kernels even when the CPU has AVX2/AVX-512:
// a 1024² fp32 matmul then runs at 36 GFLOP/s instead of 147 (bench/
// matmul_benchmark, 2 cores). OpenBLAS reads OPENBLAS_CORETYPE only while
// it loads, before main, so a binary that does heavy math calls this first
// (as the first step of core::InitCpu, core/cpu_init.h):
// when the variable is unset it names the core the CPU's features support
// and re-executes the process once with it. A value the user set is kept.
#ifndef DREAMSHOT_CORE_BLAS_CORE_TYPE_H_
#define DREAMSHOT_CORE_BLAS_CORE_TYPE_H_

#include <string>

namespace dreamshot::core {

// "SkylakeX" (AVX-512 F/BW/VL/DQ/CD), "Haswell" (AVX2 + FMA), or "" (let
// OpenBLAS decide).
std::string BlasCoreTypeForThisCpu();

// Returns only if nothing needed to change (or exec failed).
void ReexecWithBlasCoreType(char** argv);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_BLAS_CORE_TYPE_H_
