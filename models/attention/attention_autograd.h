// Attention under autograd (grad mode on and q, k or v requiring grad).
//
// MemoryEfficientAttention is a custom autograd Function. Its forward runs
// over blocks of query rows, as the inference path does, and keeps only q,
// k, v, the output and each query row's log-sum-exp of the scaled scores;
// its backward recomputes the probabilities block by block from q, k and
// that log-sum-exp, as flash attention does:
//   P  = exp(Q·Kᵀ·scale − lse)        D  = rowsum(dO ∘ O)
//   dV = Pᵀ·dO                         dP = dO·Vᵀ
//   dS = P ∘ (dP − D)                  dQ = dS·K·scale,  dK = dSᵀ·Q·scale
// so a training step never holds a [queries × keys] matrix per layer: the
// stock formulation keeps every layer's probabilities until backward (a
// 512² SD 1.5 step: 1 GiB for each of five 4096-token self-attentions).
//
// StockAttention is that stock formulation (ATen matmul + softmax, the
// probabilities saved by autograd), what PyTorch eager and diffusers run;
// it exists for benchmarks and tests to compare against.
#ifndef DREAMSHOT_MODELS_ATTENTION_ATTENTION_AUTOGRAD_H_
#define DREAMSHOT_MODELS_ATTENTION_ATTENTION_AUTOGRAD_H_

#include <ATen/core/Tensor.h>

#include "models/attention/attention.h"

namespace dreamshot::models::internal {

// q: [B, Lq, H·D], k: [B, Lk, H·D], v: [B, Lk, H·Dv] → [B, Lq, H·Dv] with
// v's dtype (heads = 1: plain [N, L, D] tensors), differentiable in q, k
// and v (not twice: backward records no graph). Softmax statistics are
// float32 (float64 for float64 inputs). float32 on the CPU runs the kernels
// of cpu_attention_training.h on blocks of `cpu_training_block_bytes`;
// everything else ATen ops on blocks of `max_score_bytes`.
at::Tensor MemoryEfficientAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads,
                                    double scale, const AttentionOptions& options);

// [B, L, H·D] ↔ [B·H, L, D], as upstream's head_to_batch_dim and
// batch_to_head_dim (copies unless heads = 1).
at::Tensor SplitHeads(const at::Tensor& t, int64_t heads);
at::Tensor MergeHeads(const at::Tensor& t, int64_t heads);

// q: [N, Lq, D], k: [N, Lk, D], v: [N, Lk, Dv]: softmax(Q·Kᵀ·scale)·V through ATen ops under autograd.
at::Tensor StockAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale);

}  // namespace dreamshot::models::internal

#endif  // DREAMSHOT_MODELS_ATTENTION_ATTENTION_AUTOGRAD_H_
