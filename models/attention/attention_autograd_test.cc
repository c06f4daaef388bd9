// Attention under autograd: the memory-efficient Function's gradients
// against a float64 matmul + softmax + matmul reference, and what it keeps
// alive between forward and backward.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/caching_cpu_allocator.h"
#include "models/attention/attention.h"

namespace dreamshot::models {
namespace {

struct Shape {
  const char* name;
  int64_t n, lq, lk, d, dv;
  int64_t max_score_bytes;  // 0: default; small: several query blocks
};

// Sets the process-wide autograd mode for one scope.
class ScopedAutogradMode {
 public:
  explicit ScopedAutogradMode(AttentionAutograd mode) : previous_(GetAttentionAutograd()) {
    SetAttentionAutogradForComparison(mode);
  }
  ~ScopedAutogradMode() { SetAttentionAutogradForComparison(previous_); }

 private:
  AttentionAutograd previous_;
};

struct Grads {
  torch::Tensor out, dq, dk, dv;
};

Grads Reference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& dout,
                double scale) {
  torch::Tensor q64 = q.detach().to(torch::kDouble).requires_grad_(true);
  torch::Tensor k64 = k.detach().to(torch::kDouble).requires_grad_(true);
  torch::Tensor v64 = v.detach().to(torch::kDouble).requires_grad_(true);
  torch::Tensor out = torch::matmul(torch::softmax(torch::matmul(q64, k64.transpose(1, 2)) * scale, -1), v64);
  out.backward(dout.to(torch::kDouble));
  return {out.detach(), q64.grad(), k64.grad(), v64.grad()};
}

Grads Ours(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, const torch::Tensor& dout,
           double scale, const AttentionOptions& options) {
  std::vector<torch::Tensor> leaves;
  for (const torch::Tensor& t : {q, k, v}) leaves.push_back(t.detach().clone().requires_grad_(true));
  torch::Tensor out = ScaledDotProductAttention(leaves[0], leaves[1], leaves[2], scale, options);
  out.backward(dout.to(out.scalar_type()));
  return {out.detach(), leaves[0].grad(), leaves[1].grad(), leaves[2].grad()};
}

// Relative to the largest reference value; gradients that are zero in
// exact arithmetic (one key: the softmax is constant) are held to 1e-3 of
// that absolute error.
double MaxRelativeError(const torch::Tensor& got, const torch::Tensor& want) {
  const double err = (got.to(torch::kDouble) - want).abs().max().item<double>();
  return err / std::max(want.abs().max().item<double>(), 1e-3);
}

void ExpectClose(const Grads& got, const Grads& want, double tolerance, const std::string& what) {
  EXPECT_LT(MaxRelativeError(got.out, want.out), tolerance) << what << " out";
  EXPECT_LT(MaxRelativeError(got.dq, want.dq), tolerance) << what << " dq";
  EXPECT_LT(MaxRelativeError(got.dk, want.dk), tolerance) << what << " dk";
  EXPECT_LT(MaxRelativeError(got.dv, want.dv), tolerance) << what << " dv";
}

const Shape kShapes[] = {
    {"self-attention, 64 tokens", 4, 64, 64, 40, 40, 0},
    {"cross-attention, 77 keys", 4, 64, 77, 40, 40, 0},
    {"odd sizes", 3, 37, 19, 7, 5, 0},
    // 3·19·4 bytes per query row: 5 rows per forward block, 2 per backward
    // block (P and dS both count), the last block of each ragged.
    {"odd sizes, small blocks", 3, 37, 19, 7, 5, 3 * 19 * 4 * 5},
    {"cross-attention, one row per block", 2, 33, 77, 16, 24, 1},
    {"single query and key", 1, 1, 1, 8, 8, 0},
};

TEST(AttentionAutogradTest, Float32GradientsMatchFloat64Reference) {
  torch::manual_seed(0);
  for (const Shape& s : kShapes) {
    // Scores a few units apart, as trained networks give, so that the
    // softmax is neither uniform nor one-hot.
    torch::Tensor q = torch::randn({s.n, s.lq, s.d}) * 2, k = torch::randn({s.n, s.lk, s.d});
    torch::Tensor v = torch::randn({s.n, s.lk, s.dv}), dout = torch::randn({s.n, s.lq, s.dv});
    const double scale = 1.0 / std::sqrt(static_cast<double>(s.d));
    AttentionOptions options;
    options.max_score_bytes = s.max_score_bytes;
    ExpectClose(Ours(q, k, v, dout, scale, options), Reference(q, k, v, dout, scale), 2e-6, s.name);
  }
}

// Reference for [B, L, H·D] projections: split heads, reference, merge.
Grads MultiHeadReference(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                         const torch::Tensor& dout, int64_t heads, double scale) {
  auto split = [&](const torch::Tensor& t) {
    return t.reshape({t.size(0), t.size(1), heads, -1}).permute({0, 2, 1, 3}).reshape(
        {t.size(0) * heads, t.size(1), -1});
  };
  auto merge = [&](const torch::Tensor& t) {
    return t.reshape({q.size(0), heads, t.size(1), -1}).permute({0, 2, 1, 3}).reshape(
        {q.size(0), t.size(1), -1});
  };
  Grads g = Reference(split(q), split(k), split(v), split(dout), scale);
  return {merge(g.out), merge(g.dq), merge(g.dk), merge(g.dv)};
}

// The CPU kernels read heads through strides: projections that are column
// slices of wider tensors, several query blocks with a ragged last one, and
// SD 1.5's shapes (8 heads × 40; 77 text tokens).
TEST(AttentionAutogradTest, MultiHeadOnStridedProjectionsMatchesReference) {
  torch::manual_seed(6);
  struct Case {
    int64_t b, lq, lk, heads, d, dv, block_bytes;  // 0: default
  };
  // Blocks of 8 rows (the least), of 16 (45 rows: 16, 16, 13) and single ones.
  const Case cases[] = {{2, 64, 64, 8, 40, 40, 0},  {2, 64, 77, 8, 40, 40, 0}, {2, 301, 157, 3, 8, 6, 1},
                        {1, 45, 45, 2, 16, 16, 16 * 45 * 4 + 100}, {2, 1, 77, 8, 40, 40, 0}};
  for (const Case& c : cases) {
    const torch::Tensor q = (torch::randn({c.b, c.lq, c.heads * c.d + 5}) * 2).narrow(2, 5, c.heads * c.d);
    const torch::Tensor kv = torch::randn({c.b, c.lk, c.heads * (c.d + c.dv) + 2});
    const torch::Tensor k = kv.narrow(2, 0, c.heads * c.d), v = kv.narrow(2, c.heads * c.d, c.heads * c.dv);
    const torch::Tensor dout = torch::randn({c.b, c.lq, c.heads * c.dv});
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.d));
    AttentionOptions options;
    options.max_score_bytes = c.block_bytes;
    std::vector<torch::Tensor> leaves;
    for (const torch::Tensor& t : {q, k, v}) leaves.push_back(t.detach().requires_grad_(true));
    // Leaves that are views of wider tensors keep their strides.
    torch::Tensor out = MultiHeadAttention(leaves[0], leaves[1], leaves[2], c.heads, scale, options);
    out.backward(dout);
    const std::string what = "lq " + std::to_string(c.lq) + " lk " + std::to_string(c.lk) + " heads " +
                             std::to_string(c.heads);
    ExpectClose({out.detach(), leaves[0].grad(), leaves[1].grad(), leaves[2].grad()},
                MultiHeadReference(q, k, v, dout, c.heads, scale), 2e-6, what);
  }
}

TEST(AttentionAutogradTest, Float64GradientsMatchToRoundingError) {
  torch::manual_seed(1);
  for (const Shape& s : kShapes) {
    torch::Tensor q = torch::randn({s.n, s.lq, s.d}, torch::kDouble) * 2;
    torch::Tensor k = torch::randn({s.n, s.lk, s.d}, torch::kDouble);
    torch::Tensor v = torch::randn({s.n, s.lk, s.dv}, torch::kDouble);
    torch::Tensor dout = torch::randn({s.n, s.lq, s.dv}, torch::kDouble);
    AttentionOptions options;
    options.max_score_bytes = s.max_score_bytes;
    ExpectClose(Ours(q, k, v, dout, 0.3, options), Reference(q, k, v, dout, 0.3), 1e-12, s.name);
  }
}

// Inputs that do not require grad get none, and the others are unchanged
// (cross-attention on frozen text states; LoRA on to_q only).
TEST(AttentionAutogradTest, OnlyRequestedGradients) {
  torch::manual_seed(2);
  const torch::Tensor q = torch::randn({2, 21, 8}), k = torch::randn({2, 13, 8}), v = torch::randn({2, 13, 6});
  const torch::Tensor dout = torch::randn({2, 21, 6});
  const Grads want = Reference(q, k, v, dout, 0.4);
  AttentionOptions options;
  options.max_score_bytes = 2 * 13 * 4 * 3;
  for (int mask = 1; mask < 8; ++mask) {
    torch::Tensor qg = q.clone().requires_grad_((mask & 1) != 0);
    torch::Tensor kg = k.clone().requires_grad_((mask & 2) != 0);
    torch::Tensor vg = v.clone().requires_grad_((mask & 4) != 0);
    ScaledDotProductAttention(qg, kg, vg, 0.4, options).backward(dout);
    const std::string what = "mask " + std::to_string(mask);
    ASSERT_EQ(qg.grad().defined(), (mask & 1) != 0) << what;
    ASSERT_EQ(kg.grad().defined(), (mask & 2) != 0) << what;
    ASSERT_EQ(vg.grad().defined(), (mask & 4) != 0) << what;
    if (mask & 1) EXPECT_LT(MaxRelativeError(qg.grad(), want.dq), 2e-6) << what;
    if (mask & 2) EXPECT_LT(MaxRelativeError(kg.grad(), want.dk), 2e-6) << what;
    if (mask & 4) EXPECT_LT(MaxRelativeError(vg.grad(), want.dv), 2e-6) << what;
  }
}

// Half-precision inputs (and diffusers' upcast_attention: float32 q and k,
// low-precision v) keep their dtypes; statistics are float32, so the error
// is the inputs' rounding, not the softmax's.
TEST(AttentionAutogradTest, LowPrecisionDtypes) {
  torch::manual_seed(3);
  const torch::Tensor q = torch::randn({2, 40, 16}), k = torch::randn({2, 77, 16}), v = torch::randn({2, 77, 16});
  const torch::Tensor dout = torch::randn({2, 40, 16});
  AttentionOptions options;
  options.max_score_bytes = 2 * 77 * 4 * 7;
  for (torch::ScalarType dtype : {torch::kBFloat16, torch::kHalf}) {
    for (bool upcast : {false, true}) {
      const torch::ScalarType qk_dtype = upcast ? torch::kFloat : dtype;
      const torch::Tensor ql = q.to(qk_dtype), kl = k.to(qk_dtype), vl = v.to(dtype), dl = dout.to(dtype);
      Grads got;
      try {
        got = Ours(ql, kl, vl, dl, 0.25, options);
      } catch (const c10::Error& e) {
        // LibTorch 1.13 has no CPU half matmul; CUDA runs this dtype.
        if (dtype == torch::kHalf && !torch::cuda::is_available()) continue;
        throw;
      }
      const std::string what = std::string(c10::toString(dtype)) + (upcast ? " upcast" : "");
      EXPECT_EQ(got.out.scalar_type(), dtype) << what;
      EXPECT_EQ(got.dq.scalar_type(), qk_dtype) << what;
      EXPECT_EQ(got.dk.scalar_type(), qk_dtype) << what;
      EXPECT_EQ(got.dv.scalar_type(), dtype) << what;
      // Against the reference on the same rounded inputs.
      const Grads want = Reference(ql, kl, vl, dl, 0.25);
      const double tolerance = dtype == torch::kBFloat16 ? 3e-2 : 4e-3;
      ExpectClose(got, want, tolerance, what);
    }
  }
}

TEST(AttentionAutogradTest, CudaMatchesReference) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  torch::manual_seed(4);
  const torch::Tensor q = torch::randn({4, 300, 40}), k = torch::randn({4, 77, 40}), v = torch::randn({4, 77, 40});
  const torch::Tensor dout = torch::randn({4, 300, 40});
  const Grads want = Reference(q, k, v, dout, 0.2);
  AttentionOptions options;
  options.max_score_bytes = 4 * 77 * 4 * 64;
  for (torch::ScalarType dtype : {torch::kFloat, torch::kHalf, torch::kBFloat16}) {
    const auto cuda = torch::TensorOptions().device(torch::kCUDA).dtype(dtype);
    Grads got = Ours(q.to(cuda), k.to(cuda), v.to(cuda), dout.to(cuda), 0.2, options);
    for (torch::Tensor* t : {&got.out, &got.dq, &got.dk, &got.dv}) *t = t->cpu();
    // TF32 matmuls may be on for float32.
    ExpectClose(got, want, dtype == torch::kBFloat16 ? 3e-2 : 4e-3, c10::toString(dtype));
  }
}

TEST(AttentionAutogradTest, EmptyKeysGiveZeroOutputAndGradients) {
  torch::Tensor q = torch::randn({2, 5, 4}, torch::requires_grad());
  torch::Tensor k = torch::randn({2, 0, 4}, torch::requires_grad());
  torch::Tensor v = torch::randn({2, 0, 3}, torch::requires_grad());
  torch::Tensor out = ScaledDotProductAttention(q, k, v, 1.0);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{2, 5, 3}));
  EXPECT_TRUE(out.eq(0).all().item<bool>());
  out.sum().backward();
  EXPECT_TRUE(q.grad().eq(0).all().item<bool>());
  EXPECT_EQ(k.grad().numel(), 0);
}

TEST(AttentionAutogradTest, DoubleBackwardIsRefused) {
  torch::Tensor q = torch::randn({1, 4, 8}, torch::kDouble).requires_grad_(true);
  torch::Tensor kv = torch::randn({1, 4, 8}, torch::kDouble);
  torch::Tensor out = ScaledDotProductAttention(q, kv, kv, 0.5);
  EXPECT_THROW(torch::autograd::grad({out.sum()}, {q}, {}, /*retain_graph=*/true, /*create_graph=*/true),
               c10::Error);
}

TEST(AttentionAutogradTest, StockModeMatchesAndMultiHeadUsesTheSameSwitch) {
  torch::manual_seed(5);
  const int64_t heads = 2;
  const torch::Tensor q = torch::randn({2, 9, heads * 4}), k = torch::randn({2, 5, heads * 4});
  const torch::Tensor v = torch::randn({2, 5, heads * 3}), dout = torch::randn({2, 9, heads * 3});
  std::vector<Grads> results;
  for (AttentionAutograd mode : {AttentionAutograd::kMemoryEfficient, AttentionAutograd::kStock}) {
    ScopedAutogradMode scoped(mode);
    std::vector<torch::Tensor> leaves;
    for (const torch::Tensor& t : {q, k, v}) leaves.push_back(t.clone().requires_grad_(true));
    torch::Tensor out = MultiHeadAttention(leaves[0], leaves[1], leaves[2], heads, 0.5);
    out.backward(dout);
    results.push_back({out.detach(), leaves[0].grad(), leaves[1].grad(), leaves[2].grad()});
  }
  Grads stock = results[1];
  for (torch::Tensor* t : {&stock.out, &stock.dq, &stock.dk, &stock.dv}) *t = t->to(torch::kDouble);
  ExpectClose(results[0], stock, 2e-6, "memory-efficient vs stock");
}

// What a layer keeps for backward, through the caching allocator's count of
// live blocks (≥ 1 MiB): 8 heads × 1024 × 1024 float32 probabilities are
// 32 MiB; q, k, v and the output 1 MiB each. The stock mode keeps the
// probabilities, which shows the measurement sees them.
TEST(AttentionAutogradTest, KeepsNoQueryByKeyMatrixForBackward) {
  core::InstallCachingCpuAllocator();
  const int64_t n = 8, l = 1024, d = 32;
  const int64_t probs_bytes = n * l * l * 4;
  AttentionOptions options;
  options.max_score_bytes = 4 << 20;
  for (AttentionAutograd mode : {AttentionAutograd::kMemoryEfficient, AttentionAutograd::kStock}) {
    ScopedAutogradMode scoped(mode);
    const bool stock = mode == AttentionAutograd::kStock;
    torch::Tensor q = torch::randn({n, l, d}, torch::requires_grad());
    torch::Tensor k = torch::randn({n, l, d}, torch::requires_grad());
    torch::Tensor v = torch::randn({n, l, d}, torch::requires_grad());
    torch::Tensor dout = torch::randn({n, l, d});
    const int64_t before = core::GetCpuCacheStats().allocated_bytes;
    core::ResetPeakCpuAllocated();
    torch::Tensor out = ScaledDotProductAttention(q, k, v, 0.2, options);
    const int64_t held = core::GetCpuCacheStats().allocated_bytes - before;
    out.backward(dout);
    const int64_t peak = core::GetCpuCacheStats().peak_allocated_bytes - before;
    if (stock) {
      EXPECT_GE(held, probs_bytes) << "the measurement misses saved probabilities";
    } else {
      // The output (1 MiB); lse is 32 KiB.
      EXPECT_LE(held, 2 << 20);
      // Output, its gradient, dQ, dK, dV, D and one block each of P and
      // dS (4 MiB together): well below one probability matrix.
      EXPECT_LT(peak, probs_bytes / 2) << "peak " << peak;
    }
  }
}

}  // namespace
}  // namespace dreamshot::models
