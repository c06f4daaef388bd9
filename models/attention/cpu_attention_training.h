// The CPU float32 kernels of the memory-efficient attention Function
// (attention_autograd.h): forward with the per-row log-sum-exp, and the
// backward that recomputes the probabilities from it.
//
// Like the inference kernel (cpu_attention.h) they read heads straight out
// of the [B, L, H·D] projections through strides, so neither direction
// makes head-split copies, and work on blocks of query rows whose scores
// stay in L2, with BLAS GEMMs single-threaded inside each work item. The
// forward splits (batch·head, query block) over threads; the backward
// splits batch·heads, because dK and dV sum over all of a head's query
// blocks and each head's are written by one thread only.
#ifndef DREAMSHOT_MODELS_ATTENTION_CPU_ATTENTION_TRAINING_H_
#define DREAMSHOT_MODELS_ATTENTION_CPU_ATTENTION_TRAINING_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace dreamshot::models::internal {

// float32 CPU tensors of rank 3 whose rows are contiguous (last stride 1,
// row stride ≥ width): what the kernels below read.
bool CpuTrainingAttentionApplies(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v);

struct AttentionForwardResult {
  at::Tensor out;  // [B, Lq, H·Dv]
  at::Tensor lse;  // [B·H, Lq, 1] float32: log Σ_j exp(scale · q_i·k_j)
};

// q: [B, Lq, H·D], k: [B, Lk, H·D], v: [B, Lk, H·Dv]. `score_block_bytes`
// bounds one thread's block of scores.
AttentionForwardResult CpuAttentionForwardWithLse(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                                  int64_t heads, double scale, int64_t score_block_bytes);

struct AttentionGrads {
  at::Tensor dq, dk, dv;  // undefined where not requested
};

// Gradients for `dout` ([B, Lq, H·Dv]) from the forward's inputs, output and
// log-sum-exp. A thread holds two score blocks (P and dS).
AttentionGrads CpuAttentionBackward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                    const at::Tensor& out, const at::Tensor& lse, const at::Tensor& dout,
                                    int64_t heads, double scale, int64_t score_block_bytes, bool need_q, bool need_k,
                                    bool need_v);

}  // namespace dreamshot::models::internal

#endif  // DREAMSHOT_MODELS_ATTENTION_CPU_ATTENTION_TRAINING_H_
