#include "models/attention/attention.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "models/attention/cpu_attention.h"

namespace dreamshot::models {
namespace {

torch::Tensor Naive(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale) {
  return torch::matmul(torch::softmax(torch::matmul(q, k.transpose(1, 2)) * scale, -1), v);
}

// Reference for [B, L, H·D] inputs: split heads, naive attention, merge.
torch::Tensor NaiveMultiHead(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             int64_t heads, double scale) {
  auto split = [&](const torch::Tensor& t) {
    return t.reshape({t.size(0), t.size(1), heads, -1}).permute({0, 2, 1, 3}).reshape(
        {t.size(0) * heads, t.size(1), -1});
  };
  torch::Tensor o = Naive(split(q), split(k), split(v), scale);
  return o.reshape({q.size(0), heads, q.size(1), -1}).permute({0, 2, 1, 3}).reshape({q.size(0), q.size(1), -1});
}

TEST(AttentionTest, BlockedEqualsNaive) {
  torch::manual_seed(0);
  torch::Tensor q = torch::randn({3, 37, 8}), k = torch::randn({3, 19, 8}), v = torch::randn({3, 19, 5});
  const torch::Tensor want = Naive(q, k, v, 0.35);
  for (int64_t budget : {int64_t{0}, int64_t{1}, int64_t{3 * 19 * 4 * 5}, int64_t{1} << 30}) {
    AttentionOptions options;
    options.max_score_bytes = budget;
    torch::Tensor got = ScaledDotProductAttention(q, k, v, 0.35, options);
    EXPECT_TRUE(torch::allclose(got, want, 1e-5, 1e-6)) << "budget " << budget;
  }
}

TEST(AttentionTest, CpuKernelAppliesOnlyToFloatInferenceOnTheCpu) {
  torch::Tensor f = torch::randn({1, 4, 8});
  EXPECT_TRUE(internal::CpuBlockedAttentionApplies(f, f, f));
  torch::Tensor d = f.to(torch::kDouble);
  EXPECT_FALSE(internal::CpuBlockedAttentionApplies(d, d, d));
  torch::Tensor g = f.clone().requires_grad_(true);
  EXPECT_FALSE(internal::CpuBlockedAttentionApplies(g, f, f));
  {
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(internal::CpuBlockedAttentionApplies(g, f, f));
  }
  EXPECT_FALSE(internal::CpuBlockedAttentionApplies(f.transpose(1, 2), f, f));  // last dim strided
}

// The CPU kernel reads heads through strides: feed it projections that are
// slices of wider tensors (row stride ≠ H·D), many query blocks with a ragged
// last one, and more keys than one score block holds.
TEST(AttentionTest, MultiHeadKernelEqualsNaiveOnStridedInputs) {
  torch::manual_seed(1);
  const int64_t b = 2, heads = 3, d = 8, dv = 6, lq = 301, lk = 157;
  torch::Tensor q_wide = torch::randn({b, lq, heads * d + 5});
  torch::Tensor kv_wide = torch::randn({b, lk, heads * (d + dv) + 2});
  torch::Tensor q = q_wide.narrow(2, 5, heads * d);
  torch::Tensor k = kv_wide.narrow(2, 0, heads * d);
  torch::Tensor v = kv_wide.narrow(2, heads * d, heads * dv);
  const torch::Tensor want = NaiveMultiHead(q, k, v, heads, 0.3);
  for (int64_t cache_bytes : {int64_t{1}, int64_t{8 * lk * 4 + 100}, int64_t{512} << 10}) {
    AttentionOptions options;
    options.cpu_cache_bytes = cache_bytes;
    torch::NoGradGuard no_grad;
    torch::Tensor got = MultiHeadAttention(q, k, v, heads, 0.3, options);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_TRUE(got.is_contiguous());
    EXPECT_LT((got - want).abs().max().item<double>(), 2e-6) << "cache bytes " << cache_bytes;
  }
}

// Both CPU kernels on the shapes that matter: head sizes of SD 1.5/2.x and
// the VAE, key counts that are not a multiple of the 16-key panel (77 text
// tokens), single rows, scores far apart (softmax saturation).
TEST(AttentionTest, CpuKernelsEqualNaive) {
  torch::manual_seed(3);
  struct Shape {
    int64_t b, lq, lk, heads, d, dv;
  };
  const Shape shapes[] = {{2, 50, 77, 2, 40, 40}, {1, 31, 33, 1, 64, 64}, {1, 1, 1, 1, 8, 8},
                          {1, 7, 130, 1, 512, 512}, {2, 13, 16, 3, 12, 24}};
  for (const Shape& s : shapes) {
    // q is a column slice of a wider tensor: rows are read through strides.
    torch::Tensor q = (torch::randn({s.b, s.lq, s.heads * s.d + 3}) * 3).narrow(2, 3, s.heads * s.d);
    torch::Tensor k = torch::randn({s.b, s.lk, s.heads * s.d});
    torch::Tensor v = torch::randn({s.b, s.lk, s.heads * s.dv});
    const double scale = 1.0 / std::sqrt(static_cast<double>(s.d));
    const torch::Tensor want = NaiveMultiHead(q, k, v, s.heads, scale);
    torch::NoGradGuard no_grad;
    for (auto kernel : {internal::CpuAttentionKernel::kAuto, internal::CpuAttentionKernel::kBlas}) {
      const torch::Tensor got = internal::CpuBlockedAttention(q, k, v, s.heads, scale, 512 << 10, kernel);
      EXPECT_LT((got - want).abs().max().item<double>(), 1e-5)
          << "lq " << s.lq << " lk " << s.lk << " d " << s.d << " kernel " << static_cast<int>(kernel);
    }
  }
}

TEST(AttentionTest, MultiHeadFallbackMatchesAndPropagatesGradients) {
  torch::manual_seed(2);
  const int64_t heads = 2;
  torch::Tensor q = torch::randn({2, 9, heads * 4}, torch::kDouble).requires_grad_(true);
  torch::Tensor k = torch::randn({2, 5, heads * 4}, torch::kDouble).requires_grad_(true);
  torch::Tensor v = torch::randn({2, 5, heads * 3}, torch::kDouble).requires_grad_(true);
  torch::Tensor got = MultiHeadAttention(q, k, v, heads, 0.5);
  torch::Tensor want = NaiveMultiHead(q, k, v, heads, 0.5);
  EXPECT_TRUE(torch::allclose(got, want, 1e-12, 1e-12));
  got.sum().backward();
  torch::Tensor gq = q.grad().clone();
  q.grad().zero_();
  want.sum().backward();
  EXPECT_TRUE(torch::allclose(gq, q.grad(), 1e-10, 1e-12));
  // float32 with autograd on takes the ATen path as well, and still matches.
  torch::Tensor qf = q.detach().to(torch::kFloat).requires_grad_(true);
  torch::Tensor out = MultiHeadAttention(qf, k.detach().to(torch::kFloat), v.detach().to(torch::kFloat), heads, 0.5);
  EXPECT_TRUE(out.requires_grad());
  EXPECT_TRUE(torch::allclose(out.to(torch::kDouble), want.detach(), 1e-5, 1e-6));
}

// diffusers' upcast_attention: float32 scores and softmax, the probabilities
// cast to the values' dtype for the value product.
TEST(AttentionTest, Float32ScoresWithLowPrecisionValues) {
  torch::manual_seed(4);
  torch::NoGradGuard no_grad;
  const torch::Tensor q = torch::randn({2, 9, 8}), k = torch::randn({2, 5, 8});
  const torch::Tensor v = torch::randn({2, 5, 8}).to(torch::kBFloat16);
  const torch::Tensor probs = torch::softmax(torch::matmul(q, k.transpose(1, 2)) * 0.5, -1).to(torch::kBFloat16);
  const torch::Tensor want = torch::matmul(probs.to(torch::kFloat), v.to(torch::kFloat));
  const torch::Tensor got = MultiHeadAttention(q, k, v, /*heads=*/1, 0.5);
  EXPECT_EQ(got.scalar_type(), torch::kBFloat16);
  EXPECT_LT((got.to(torch::kFloat) - want).abs().max().item<double>(), 0.02);
}

// The ATen path must not read uninitialised score memory: freed NaNs that
// the allocator hands back stay out of the result (baddbmm with beta = 0
// on an empty tensor let them through).
TEST(AttentionTest, AtenPathIgnoresStaleMemory) {
  torch::manual_seed(5);
  const torch::Tensor q = torch::randn({4, 6, 8}, torch::requires_grad());
  const torch::Tensor k = torch::randn({4, 7, 8}), v = torch::randn({4, 7, 8});
  for (int i = 0; i < 3; ++i) {
    { torch::Tensor stale = torch::full({4, 6, 7}, std::numeric_limits<float>::quiet_NaN()); }
    const torch::Tensor got = MultiHeadAttention(q, k, v, /*heads=*/1, 0.3);
    ASSERT_TRUE(torch::isfinite(got).all().item<bool>()) << "round " << i;
    EXPECT_TRUE(torch::allclose(got, Naive(q, k, v, 0.3), 1e-5, 1e-6));
  }
}

TEST(AttentionTest, EmptyKeysGiveZerosAndEmptyQueriesGiveEmpty) {
  torch::NoGradGuard no_grad;
  torch::Tensor q = torch::randn({1, 3, 4}), k = torch::randn({1, 0, 4}), v = torch::randn({1, 0, 4});
  EXPECT_TRUE(MultiHeadAttention(q, k, v, 2, 1.0).eq(0).all().item<bool>());
  EXPECT_EQ(MultiHeadAttention(torch::randn({1, 0, 4}), q, q, 2, 1.0).size(1), 0);
}

TEST(AttentionTest, QueryBlockRespectsTheBudget) {
  AttentionOptions options;
  options.max_score_bytes = 64 << 20;
  // 64×64 latents, batch 2 × 8 heads: 4096 keys of 4 bytes per query row and head.
  const int64_t block = AttentionQueryBlock(16, 4096, 4096, 4, options, false);
  EXPECT_EQ(block, (64 << 20) / (16 * 4096 * 4));
  EXPECT_EQ(AttentionQueryBlock(1, 10, 10, 4, options, false), 10);
  options.max_score_bytes = 1;
  EXPECT_EQ(AttentionQueryBlock(1, 10, 10, 4, options, false), 1);
  EXPECT_GE(AttentionQueryBlock(16, 4096, 4096, 4, {}, false), 1);
}

}  // namespace
}  // namespace dreamshot::models
