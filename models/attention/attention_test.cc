#include "models/attention/attention.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace dreamshot::models {
namespace {

torch::Tensor Naive(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, double scale) {
  return torch::matmul(torch::softmax(torch::matmul(q, k.transpose(1, 2)) * scale, -1), v);
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
