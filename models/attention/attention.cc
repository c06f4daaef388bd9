#include "models/attention/attention.h"

#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "models/attention/attention_autograd.h"
#include "models/attention/cpu_attention.h"

namespace dreamshot::models {
namespace {

constexpr int64_t kMiB = int64_t{1} << 20;

std::atomic<AttentionAutograd> g_autograd_mode{AttentionAutograd::kMemoryEfficient};

int64_t CpuScoreBlockBytes(const AttentionOptions& options) {
  return options.max_score_bytes > 0 ? std::min(options.max_score_bytes, options.cpu_cache_bytes)
                                     : options.cpu_cache_bytes;
}

bool NeedsAutograd(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v) {
  return torch::GradMode::is_enabled() && (q.requires_grad() || k.requires_grad() || v.requires_grad());
}

int64_t FreeCpuBytes() {
  const long pages = ::sysconf(_SC_AVPHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page_size > 0 ? static_cast<int64_t>(pages) * page_size : 1024 * kMiB;
}

// ATen path: [N, Lq, D] × [N, Lk, D] × [N, Lk, Dv] in blocks of query rows.
at::Tensor BatchedMatmulAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, double scale,
                                  const AttentionOptions& options) {
  if (NeedsAutograd(q, k, v)) {
    return GetAttentionAutograd() == AttentionAutograd::kStock
               ? internal::StockAttention(q, k, v, scale)
               : internal::MemoryEfficientAttention(q, k, v, /*heads=*/1, scale, options);
  }
  const int64_t n = q.size(0), lq = q.size(1), lk = k.size(1);
  const int64_t block =
      AttentionQueryBlock(n, lq, lk, q.element_size(), options, q.device().is_cuda());
  const torch::Tensor kt = k.transpose(1, 2);  // [N, D, Lk]
  if (block >= lq) {
    // Not baddbmm on an empty tensor with beta = 0: LibTorch's small-matrix
    // CPU path multiplies the uninitialised memory by 0, and NaN · 0 = NaN.
    torch::Tensor scores = torch::bmm(q, kt).mul_(scale);
    return torch::bmm(scores.softmax(-1).to(v.scalar_type()), v);  // [N, Lq, Dv]
  }
  torch::Tensor out = torch::empty({n, lq, v.size(2)}, v.options());
  torch::Tensor scores = torch::zeros({n, block, lk}, q.options());  // finite: baddbmm's beta = 0 still reads it
  for (int64_t start = 0; start < lq; start += block) {
    const int64_t rows = std::min(block, lq - start);
    torch::Tensor s = scores.narrow(1, 0, rows);
    torch::baddbmm_out(s, s, q.narrow(1, start, rows), kt, /*beta=*/0, scale);  // [N, rows, Lk]
    torch::Tensor o = out.narrow(1, start, rows);
    torch::bmm_out(o, s.softmax(-1).to(v.scalar_type()), v);
  }
  return out;
}

}  // namespace

void SetAttentionAutogradForComparison(AttentionAutograd mode) { g_autograd_mode.store(mode); }

AttentionAutograd GetAttentionAutograd() { return g_autograd_mode.load(); }

int64_t AttentionQueryBlock(int64_t n, int64_t lq, int64_t lk, int64_t element_bytes,
                            const AttentionOptions& options, bool on_cuda) {
  int64_t budget = options.max_score_bytes;
  if (budget <= 0) {
    budget = on_cuda ? 512 * kMiB : std::clamp(FreeCpuBytes() / 8, 16 * kMiB, 512 * kMiB);
  }
  const int64_t bytes_per_query_row = std::max<int64_t>(1, n * lk * element_bytes);
  return std::clamp<int64_t>(budget / bytes_per_query_row, 1, std::max<int64_t>(lq, 1));
}

at::Tensor ScaledDotProductAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                     double scale, const AttentionOptions& options) {
  if (internal::CpuBlockedAttentionApplies(q, k, v)) {
    return internal::CpuBlockedAttention(q, k, v, /*heads=*/1, scale, CpuScoreBlockBytes(options));
  }
  return BatchedMatmulAttention(q, k, v, scale, options);
}

at::Tensor MultiHeadAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, int64_t heads,
                              double scale, const AttentionOptions& options) {
  if (internal::CpuBlockedAttentionApplies(q, k, v)) {
    return internal::CpuBlockedAttention(q, k, v, heads, scale, CpuScoreBlockBytes(options));
  }
  if (NeedsAutograd(q, k, v) && GetAttentionAutograd() == AttentionAutograd::kMemoryEfficient) {
    return internal::MemoryEfficientAttention(q, k, v, heads, scale, options);  // reads heads through strides
  }
  const at::Tensor out = BatchedMatmulAttention(internal::SplitHeads(q, heads), internal::SplitHeads(k, heads),
                                                internal::SplitHeads(v, heads), scale, options);
  return internal::MergeHeads(out, heads);
}

}  // namespace dreamshot::models
