#include "models/blocks/banded_conv.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace dreamshot::models {
namespace {

torch::nn::Conv2d MakeConv(int64_t in, int64_t out, int64_t kernel) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).padding((kernel - 1) / 2));
}

double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// 64 channels × 512 wide: 128 KiB per input row, so a 16 MiB band is 128
// rows and 300 rows make three bands, the last one ragged.
class BandedConvTest : public ::testing::Test {
 protected:
  void SetUp() override { torch::manual_seed(0); }
  torch::NoGradGuard no_grad_;
  torch::Tensor x_ = torch::randn({1, 64, 300, 512});
};

TEST_F(BandedConvTest, PlainRowsEqualTheConvolution) {
  for (int64_t kernel : {3, 1}) {
    torch::nn::Conv2d conv = MakeConv(64, 8, kernel);
    EXPECT_LT(MaxAbsDiff(BandedConv2d(*conv, RowsOf(x_)), conv->forward(x_)), 1e-4) << "kernel " << kernel;
  }
}

TEST_F(BandedConvTest, AccumulatesIntoAGivenTensor) {
  torch::nn::Conv2d conv = MakeConv(64, 8, 3);
  const torch::Tensor base = torch::randn({1, 8, 300, 512});
  torch::Tensor into = base.clone();
  const torch::Tensor got = BandedConv2d(*conv, RowsOf(x_), into, RowsOf(into).rows);
  EXPECT_EQ(got.data_ptr(), into.data_ptr());
  EXPECT_LT(MaxAbsDiff(got, base + conv->forward(x_)), 1e-4);
}

TEST_F(BandedConvTest, GroupNormSiluRowsUseWholeTensorStatistics) {
  torch::nn::GroupNorm norm(torch::nn::GroupNormOptions(32, 64).eps(1e-6));
  norm->weight.uniform_(0.5, 1.5);
  norm->bias.uniform_(-0.5, 0.5);
  const torch::Tensor shifted = x_ * 3 + torch::arange(64).view({1, 64, 1, 1});  // groups with distinct means
  torch::nn::Conv2d conv = MakeConv(64, 8, 3);
  const torch::Tensor want = conv->forward(torch::silu(norm->forward(shifted)));
  EXPECT_LT(MaxAbsDiff(BandedConv2d(*conv, GroupNormSiluRowsOf(*norm, shifted)), want), 1e-4);
}

TEST_F(BandedConvTest, UpsampledRowsEqualUpsamplingFirst) {
  const torch::Tensor small = torch::randn({2, 16, 151, 256});  // odd height: bands cut source rows in half
  torch::nn::Conv2d conv = MakeConv(16, 4, 3);
  const torch::Tensor want = conv->forward(torch::upsample_nearest2d(small, {302, 512}));
  const BandedInput up = Upsample2xRowsOf(small);
  EXPECT_EQ(up.height, 302);
  const torch::Tensor got = BandedConv2d(*conv, up);
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_LT(MaxAbsDiff(got, want), 1e-4);
}

TEST(UseBandedConvTest, OnlyLargeFloatInferenceSameConvolutions) {
  torch::nn::Conv2d conv = MakeConv(64, 8, 3);
  const torch::Tensor large = torch::zeros({1, 64, 512, 512});  // 64 MiB
  const torch::Tensor small = torch::zeros({1, 64, 64, 64});
  EXPECT_FALSE(UseBandedConv(*conv, RowsOf(large)));  // autograd on
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(UseBandedConv(*conv, RowsOf(large)));
  EXPECT_FALSE(UseBandedConv(*conv, RowsOf(small)));
  EXPECT_TRUE(UseBandedConv(*conv, Upsample2xRowsOf(torch::zeros({1, 64, 256, 256}))));
  torch::nn::Conv2d strided(torch::nn::Conv2dOptions(64, 8, 3).stride(2).padding(1));
  EXPECT_FALSE(UseBandedConv(*strided, RowsOf(large)));
  torch::nn::Conv2d unpadded(torch::nn::Conv2dOptions(64, 8, 3));
  EXPECT_FALSE(UseBandedConv(*unpadded, RowsOf(large)));
  EXPECT_FALSE(UseBandedConv(*conv, RowsOf(large.to(torch::kDouble))));
}

}  // namespace
}  // namespace dreamshot::models
