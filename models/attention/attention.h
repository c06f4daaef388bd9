// Scaled dot-product attention, softmax(Q·Kᵀ·scale)·V, computed in query
// blocks so that the [queries × keys] score matrix of a 64×64-latent
// self-attention (4096 × 4096 per head) never exists for all heads at once.
// LibTorch 1.13 has no public fused attention kernel, so this is the one
// implementation every model calls; a fused kernel would slot in here.
//
// Three paths behind one interface:
//  - float32 on the CPU without autograd: cache-blocked kernel
//    (cpu_attention.h) that reads heads through strides and keeps each
//    thread's scores in L2;
//  - autograd needed (grad mode on and q, k or v requiring grad): a custom
//    autograd Function whose backward recomputes the probabilities from the
//    saved log-sum-exp instead of keeping them (attention_autograd.h);
//  - everything else (CUDA, half precision): ATen batched matmuls over
//    blocks of query rows sized by `max_score_bytes`.
#ifndef DREAMSHOT_MODELS_ATTENTION_ATTENTION_H_
#define DREAMSHOT_MODELS_ATTENTION_ATTENTION_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace dreamshot::models {

struct AttentionOptions {
  // Upper bound on the bytes of one block of attention scores. 0: chosen
  // from free memory (1/8 of it, clamped to [16 MiB, 512 MiB]; a fixed
  // 512 MiB on CUDA).
  int64_t max_score_bytes = 0;
  // Score bytes per thread in the CPU kernel: half of a 1 MiB L2, so the
  // GEMM panels fit beside it. Lower `max_score_bytes` lowers it too.
  int64_t cpu_cache_bytes = 512 << 10;
  // The same for the CPU kernels under autograd (forward with log-sum-exp,
  // and backward, which holds two such blocks per thread). Their dK/dV
  // GEMMs take the block's rows as depth, so taller blocks pay even beyond
  // L2: 4096-token self-attention, 16 heads × 40, forward + backward on 2
  // cores: 1.66 s at 512 KiB, 1.27 s at 2 MiB, 1.20 s at 8 MiB
  // (//bench:attention_training_benchmark). Lower `max_score_bytes` lowers
  // it too.
  int64_t cpu_training_block_bytes = 2 << 20;
};

// q: [N, Lq, D], k: [N, Lk, D], v: [N, Lk, Dv] (N = batch × heads) → [N, Lq, Dv].
// `scale` multiplies Q·Kᵀ (usually 1/sqrt(D)). No mask. Scores and softmax
// are computed in q's dtype, the probabilities cast to v's dtype for the
// value product, and the result has v's dtype: float32 q/k with half v is
// diffusers' upcast_attention.
at::Tensor ScaledDotProductAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                     double scale, const AttentionOptions& options = {});

// q: [B, Lq, H·D], k: [B, Lk, H·D], v: [B, Lk, H·Dv], the layout of the
// q/k/v projections → [B, Lq, H·Dv] with heads concatenated as upstream's
// head_to_batch_dim/batch_to_head_dim do.
at::Tensor MultiHeadAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads,
                              double scale, const AttentionOptions& options = {});

// How attention is differentiated when autograd needs it. kStock is the
// formulation PyTorch eager and diffusers train with (ATen matmul + softmax,
// every probability matrix saved for backward); it is here only so that
// //bench:train_step_benchmark and tests can compare against it in one
// process. Process-wide; models and the trainer never set it.
enum class AttentionAutograd {
  kMemoryEfficient,  // the default
  kStock,
};
void SetAttentionAutogradForComparison(AttentionAutograd mode);
AttentionAutograd GetAttentionAutograd();

// Rows of queries per block for the given shapes (exposed for tests and benchmarks).
int64_t AttentionQueryBlock(int64_t n, int64_t lq, int64_t lk, int64_t element_bytes,
                            const AttentionOptions& options, bool on_cuda);

}  // namespace dreamshot::models

#endif  // DREAMSHOT_MODELS_ATTENTION_ATTENTION_H_
