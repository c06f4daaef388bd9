#include "models/attention/attention_autograd.h"

#include <ATen/record_function.h>
#include <torch/torch.h>

#include <limits>

#include "models/attention/cpu_attention_training.h"

namespace dreamshot::models::internal {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Softmax statistics and the probabilities are kept in float32 (float64 for
// float64 inputs): half-precision exp/sum lose the tail of long rows.
at::ScalarType StatType(const at::Tensor& q) { return q.scalar_type() == at::kDouble ? at::kDouble : at::kFloat; }

// Q_blk·Kᵀ·scale in the statistics dtype: [N, rows, Lk].
at::Tensor BlockScores(const at::Tensor& q_block, const at::Tensor& kt, double scale, at::ScalarType stat) {
  at::Tensor s = at::bmm(q_block, kt);
  if (s.scalar_type() != stat) s = s.to(stat);
  return s.mul_(scale);
}

int64_t CpuTrainingBlockBytes(const AttentionOptions& options) {
  return options.max_score_bytes > 0 ? std::min(options.max_score_bytes, options.cpu_training_block_bytes)
                                     : options.cpu_training_block_bytes;
}

// acc += a·b, with a·b computed in a's dtype (acc may be wider).
void AccumulateProduct(at::Tensor& acc, const at::Tensor& a, const at::Tensor& b) {
  if (a.scalar_type() == acc.scalar_type()) {
    acc.baddbmm_(a, b);
  } else {
    acc.add_(at::bmm(a, b));
  }
}

// The ATen path (CUDA, half precision, any device): [N, Lq, D] inputs,
// blocks of query rows sized by `max_score_bytes`.
struct AtenForwardResult {
  at::Tensor out;  // [N, Lq, Dv]
  at::Tensor lse;  // [N, Lq, 1], statistics dtype
};

AtenForwardResult AtenForward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                              const AttentionOptions& options) {
  const int64_t n = q.size(0), lq = q.size(1), lk = k.size(1);
  const at::ScalarType stat = StatType(q);
  at::Tensor out = at::empty({n, lq, v.size(2)}, v.options());
  at::Tensor lse = at::empty({n, lq, 1}, q.options().dtype(stat));  // log Σ_j exp(s_ij), per query row
  if (lk == 0) {
    out.zero_();
    lse.fill_(-std::numeric_limits<double>::infinity());
    return {out, lse};
  }
  const int64_t block = AttentionQueryBlock(n, lq, lk, c10::elementSize(stat), options, q.device().is_cuda());
  const at::Tensor kt = k.transpose(1, 2);
  for (int64_t start = 0; start < lq; start += block) {
    const int64_t rows = std::min(block, lq - start);
    at::Tensor p = BlockScores(q.narrow(1, start, rows), kt, scale, stat);
    const at::Tensor row_max = p.amax(-1, /*keepdim=*/true);
    p.sub_(row_max).exp_();
    const at::Tensor row_sum = p.sum(-1, /*keepdim=*/true);
    p.div_(row_sum);
    lse.narrow(1, start, rows).copy_(row_sum.log().add_(row_max));
    at::Tensor o = out.narrow(1, start, rows);
    at::bmm_out(o, p.to(v.scalar_type()), v);
  }
  return {out, lse};
}

AttentionGrads AtenBackward(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& out,
                            const at::Tensor& lse, const at::Tensor& dout, double scale,
                            const AttentionOptions& options, bool need_q, bool need_k, bool need_v) {
  const int64_t n = q.size(0), lq = q.size(1), lk = k.size(1);
  const at::ScalarType stat = StatType(q);
  at::Tensor dq = need_q ? at::empty_like(q, at::MemoryFormat::Contiguous) : at::Tensor();
  // dK and dV sum over every query block: accumulate in the statistics dtype.
  at::Tensor dk_acc = need_k ? at::zeros(k.sizes(), k.options().dtype(stat)) : at::Tensor();
  at::Tensor dv_acc = need_v ? at::zeros(v.sizes(), v.options().dtype(stat)) : at::Tensor();
  // P and dS of a block are alive together: both count against the budget.
  const int64_t block =
      AttentionQueryBlock(n, lq, lk, 2 * c10::elementSize(stat), options, q.device().is_cuda());
  const at::Tensor kt = k.transpose(1, 2), vt = v.transpose(1, 2);
  for (int64_t start = 0; start < lq; start += block) {
    const int64_t rows = std::min(block, lq - start);
    const at::Tensor q_block = q.narrow(1, start, rows);
    const at::Tensor dout_block = dout.narrow(1, start, rows);
    const at::Tensor p = BlockScores(q_block, kt, scale, stat).sub_(lse.narrow(1, start, rows)).exp_();
    if (need_v) AccumulateProduct(dv_acc, p.to(v.scalar_type()).transpose(1, 2), dout_block);
    if (!need_q && !need_k) continue;
    at::Tensor ds = at::bmm(dout_block, vt);  // dP: [N, rows, Lk]
    if (ds.scalar_type() != stat) ds = ds.to(stat);
    const at::Tensor d = (dout_block.to(stat) * out.narrow(1, start, rows).to(stat)).sum(-1, /*keepdim=*/true);
    ds.sub_(d).mul_(p);
    const at::Tensor ds_q = ds.to(q.scalar_type());
    if (need_q) {
      at::Tensor dq_block = dq.narrow(1, start, rows);
      at::bmm_out(dq_block, ds_q, k);
    }
    if (need_k) AccumulateProduct(dk_acc, ds_q.transpose(1, 2), q_block);
  }
  if (need_q) dq.mul_(scale);
  return {dq, need_k ? dk_acc.mul_(scale).to(k.scalar_type()) : at::Tensor(),
          need_v ? dv_acc.to(v.scalar_type()) : at::Tensor()};
}

// Inputs are in the projections' layout, [B, L, H·D]; `heads` = 1 is the
// plain [N, L, D] case.
struct MemoryEfficientAttentionFunction : torch::autograd::Function<MemoryEfficientAttentionFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            int64_t heads, double scale, int64_t max_score_bytes, int64_t cpu_block_bytes) {
    RECORD_FUNCTION("dreamshot::memory_efficient_attention_forward", std::vector<c10::IValue>{});
    AttentionOptions options;
    options.max_score_bytes = max_score_bytes;
    options.cpu_training_block_bytes = cpu_block_bytes;
    at::Tensor out, lse;
    if (CpuTrainingAttentionApplies(q, k, v)) {
      AttentionForwardResult result = CpuAttentionForwardWithLse(q, k, v, heads, scale, CpuTrainingBlockBytes(options));
      out = std::move(result.out);
      lse = std::move(result.lse);
    } else {
      AtenForwardResult result = AtenForward(SplitHeads(q, heads), SplitHeads(k, heads), SplitHeads(v, heads),
                                             scale, options);
      out = MergeHeads(result.out, heads);
      lse = std::move(result.lse);
    }
    ctx->save_for_backward({q, k, v, out, lse});
    ctx->saved_data["heads"] = heads;
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["max_score_bytes"] = max_score_bytes;
    ctx->saved_data["cpu_block_bytes"] = cpu_block_bytes;
    return out;
  }

  // Double backward is not supported: the gradients are computed in place
  // with grad mode off and carry no graph, so create_graph is refused
  // rather than silently giving zero second derivatives.
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    TORCH_CHECK(!at::GradMode::is_enabled(),
                "memory-efficient attention does not support double backward (create_graph=true)");
    RECORD_FUNCTION("dreamshot::memory_efficient_attention_backward", std::vector<c10::IValue>{});
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &out = saved[3], &lse = saved[4];
    const int64_t heads = ctx->saved_data["heads"].toInt();
    const double scale = ctx->saved_data["scale"].toDouble();
    AttentionOptions options;
    options.max_score_bytes = ctx->saved_data["max_score_bytes"].toInt();
    options.cpu_training_block_bytes = ctx->saved_data["cpu_block_bytes"].toInt();
    const bool need_q = ctx->needs_input_grad(0), need_k = ctx->needs_input_grad(1),
               need_v = ctx->needs_input_grad(2);
    AttentionGrads grads;
    if (CpuTrainingAttentionApplies(q, k, v)) {
      grads = CpuAttentionBackward(q, k, v, out, lse, grad_outputs[0], heads, scale, CpuTrainingBlockBytes(options),
                                   need_q, need_k, need_v);
    } else {
      grads = AtenBackward(SplitHeads(q, heads), SplitHeads(k, heads), SplitHeads(v, heads), SplitHeads(out, heads),
                           lse, SplitHeads(grad_outputs[0], heads), scale, options, need_q, need_k, need_v);
      for (at::Tensor* g : {&grads.dq, &grads.dk, &grads.dv}) {
        if (g->defined()) *g = MergeHeads(*g, heads);
      }
    }
    return {grads.dq, grads.dk, grads.dv, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor SplitHeads(const at::Tensor& t, int64_t heads) {
  if (heads == 1) return t;
  const int64_t b = t.size(0), l = t.size(1), d = t.size(2) / heads;
  return t.reshape({b, l, heads, d}).permute({0, 2, 1, 3}).reshape({b * heads, l, d});
}

at::Tensor MergeHeads(const at::Tensor& t, int64_t heads) {
  if (heads == 1) return t;
  const int64_t l = t.size(1), d = t.size(2), b = t.size(0) / heads;
  return t.view({b, heads, l, d}).permute({0, 2, 1, 3}).reshape({b, l, heads * d});
}

at::Tensor MemoryEfficientAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads,
                                    double scale, const AttentionOptions& options) {
  return MemoryEfficientAttentionFunction::apply(q, k, v, heads, scale, options.max_score_bytes,
                                                 options.cpu_training_block_bytes);
}

at::Tensor StockAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale) {
  // Scaled in place, as diffusers' baddbmm(alpha=scale) does in one op: the
  // product's autograd node keeps its inputs, not its output.
  const at::Tensor probs = at::softmax(at::matmul(q, k.transpose(1, 2)).mul_(scale), -1);
  return at::matmul(probs.to(v.scalar_type()), v);
}

}  // namespace dreamshot::models::internal
