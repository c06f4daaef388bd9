// Cache-blocked multi-head attention for float32 on the CPU, inference only.
// Two kernels: the AVX2/FMA one (attention_kernel_avx2.h) and, for other
// CPUs or head sizes, the BLAS one described here.
//
// For each (batch, head) and block of query rows, Q_blk·Kᵀ goes into a
// per-thread score buffer sized to stay in L2, the softmax runs in place, and
// the block's output is multiplied straight into its slice of the result.
// Heads are read and written through strides ([B, L, H·D] projections), so
// there are no head-split copies and no [queries × keys] matrix per head or
// batch in memory. Threads split the (batch·head, query block) grid; the
// BLAS calls inside each run single-threaded.
#ifndef DREAMSHOT_MODELS_ATTENTION_CPU_ATTENTION_H_
#define DREAMSHOT_MODELS_ATTENTION_CPU_ATTENTION_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace dreamshot::models::internal {

// True when CpuBlockedAttention handles these inputs: float32 CPU tensors
// whose last dimension is contiguous, and no gradient is required.
bool CpuBlockedAttentionApplies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

enum class CpuAttentionKernel {
  kAuto,  // AVX2/FMA kernel when the CPU and head size allow it, else BLAS
  kBlas,  // BLAS GEMMs + ATen softmax on L2-sized score blocks
};

// q: [B, Lq, H·D], k: [B, Lk, H·D], v: [B, Lk, H·Dv] → [B, Lq, H·Dv]
// (contiguous). `score_block_bytes` bounds one thread's score buffer.
at::Tensor CpuBlockedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads,
                               double scale, int64_t score_block_bytes,
                               CpuAttentionKernel kernel = CpuAttentionKernel::kAuto);

}  // namespace dreamshot::models::internal

#endif  // DREAMSHOT_MODELS_ATTENTION_CPU_ATTENTION_H_
