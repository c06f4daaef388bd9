#include "models/blocks/conv.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace dreamshot::models {
namespace {

torch::nn::Conv2d MakeConv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t padding,
                           bool bias = true) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(bias));
}

struct Case {
  int64_t in, out, kernel, stride, padding, batch, height, width;
  bool bias;
};

// The GEMM algorithm against LibTorch's convolution on the geometries the
// UNet and VAE use (forced, so that it meets shapes the threshold would not
// pick).
TEST(Conv2dForwardTest, GemmAlgorithmsEqualLibTorch) {
  torch::manual_seed(0);
  const Case cases[] = {
      {16, 64, 3, 1, 1, 2, 2, 3, true},     // non-square, batch 2
      {16, 24, 3, 2, 0, 1, 9, 8, true},     // stride 2 without padding (VAE downsample after its pad)
      {16, 24, 3, 2, 1, 2, 7, 7, false},    // stride 2 with padding, no bias
      {24, 16, 1, 1, 0, 3, 5, 6, true},     // 1×1 shortcut
      {3, 8, 3, 1, 1, 1, 4, 1, true},       // width 1: padding on both sides of every row
  };
  for (const Case& c : cases) {
    torch::nn::Conv2d conv = MakeConv(c.in, c.out, c.kernel, c.stride, c.padding, c.bias);
    const torch::Tensor x = torch::randn({c.batch, c.in, c.height, c.width});
    torch::NoGradGuard no_grad;
    const torch::Tensor want = conv->forward(x);
    for (auto algorithm : {Conv2dAlgorithm::kBatchGemm}) {
      const torch::Tensor got = Conv2dForwardWith(algorithm, *conv, x);
      ASSERT_EQ(got.sizes(), want.sizes());
      EXPECT_LT((got - want).abs().max().item<double>(), 1e-4)
          << c.in << "→" << c.out << " k" << c.kernel << " s" << c.stride << " algorithm "
          << static_cast<int>(algorithm);
    }
  }
}

TEST(Conv2dForwardTest, BatchGemmPropagatesGradients) {
  torch::manual_seed(1);
  torch::nn::Conv2d conv = MakeConv(8, 64, 3, 1, 1);
  const torch::Tensor x = torch::randn({1, 8, 3, 3}, torch::requires_grad());
  ASSERT_EQ(ChooseConv2dAlgorithm(*conv, x), Conv2dAlgorithm::kBatchGemm);
  Conv2dForward(*conv, x).square().sum().backward();
  const torch::Tensor got_x = x.grad().clone(), got_w = conv->weight.grad().clone();
  x.grad().zero_();
  conv->weight.grad().zero_();
  conv->forward(x).square().sum().backward();
  EXPECT_TRUE(torch::allclose(got_x, x.grad(), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(got_w, conv->weight.grad(), 1e-4, 1e-5));
}

TEST(Conv2dForwardTest, ChoosesByShapeAndDtype) {
  torch::nn::Conv2d conv = MakeConv(8, 64, 3, 1, 1);
  EXPECT_EQ(ChooseConv2dAlgorithm(*conv, torch::randn({2, 8, 8, 8})), Conv2dAlgorithm::kLibTorch);  // 128 columns
  EXPECT_EQ(ChooseConv2dAlgorithm(*conv, torch::randn({1, 8, 4, 4})), Conv2dAlgorithm::kBatchGemm);  // 16 columns
  EXPECT_EQ(ChooseConv2dAlgorithm(*conv, torch::randn({1, 8, 4, 4}, torch::kDouble)), Conv2dAlgorithm::kLibTorch);
  torch::nn::Conv2d grouped(torch::nn::Conv2dOptions(8, 64, 3).padding(1).groups(2));
  EXPECT_EQ(ChooseConv2dAlgorithm(*grouped, torch::randn({1, 8, 2, 2})), Conv2dAlgorithm::kLibTorch);
  torch::nn::Conv2d reflect(torch::nn::Conv2dOptions(8, 64, 3).padding(1).padding_mode(torch::kReflect));
  EXPECT_EQ(ChooseConv2dAlgorithm(*reflect, torch::randn({1, 8, 2, 2})), Conv2dAlgorithm::kLibTorch);
}

}  // namespace
}  // namespace dreamshot::models
