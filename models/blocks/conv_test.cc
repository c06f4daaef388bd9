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

TEST(Conv2dForwardTest, GemmPathEqualsConvolution) {
  torch::manual_seed(0);
  const Case cases[] = {
      {16, 64, 3, 1, 1, 2, 2, 3, true},   // non-square, batch 2
      {16, 64, 3, 2, 0, 1, 5, 4, true},   // stride 2 without padding (VAE downsample after its pad)
      {16, 64, 3, 2, 1, 2, 3, 3, false},  // stride 2 with padding, no bias
      {24, 96, 1, 1, 0, 3, 2, 2, true},   // 1×1 shortcut
  };
  for (const Case& c : cases) {
    torch::nn::Conv2d conv = MakeConv(c.in, c.out, c.kernel, c.stride, c.padding, c.bias);
    const torch::Tensor x = torch::randn({c.batch, c.in, c.height, c.width});
    ASSERT_TRUE(Conv2dUsesGemm(*conv, x)) << c.out << " channels";
    torch::NoGradGuard no_grad;
    const torch::Tensor want = conv->forward(x);
    const torch::Tensor got = Conv2dForward(*conv, x);
    ASSERT_EQ(got.sizes(), want.sizes());
    EXPECT_LT((got - want).abs().max().item<double>(), 1e-5) << c.in << "→" << c.out << " k" << c.kernel;
  }
}

TEST(Conv2dForwardTest, GemmPathPropagatesGradients) {
  torch::manual_seed(1);
  torch::nn::Conv2d conv = MakeConv(8, 64, 3, 1, 1);
  const torch::Tensor x = torch::randn({1, 8, 3, 3}, torch::requires_grad());
  ASSERT_TRUE(Conv2dUsesGemm(*conv, x));
  Conv2dForward(*conv, x).square().sum().backward();
  const torch::Tensor got_x = x.grad().clone(), got_w = conv->weight.grad().clone();
  x.grad().zero_();
  conv->weight.grad().zero_();
  conv->forward(x).square().sum().backward();
  EXPECT_TRUE(torch::allclose(got_x, x.grad(), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(got_w, conv->weight.grad(), 1e-4, 1e-5));
}

TEST(Conv2dForwardTest, LargeActivationsAndOtherDtypesUseTheConvolution) {
  torch::nn::Conv2d conv = MakeConv(8, 64, 3, 1, 1);
  EXPECT_FALSE(Conv2dUsesGemm(*conv, torch::randn({2, 8, 8, 8})));  // 128 columns > 64 / 4
  EXPECT_TRUE(Conv2dUsesGemm(*conv, torch::randn({1, 8, 4, 4})));   // 16 columns
  EXPECT_FALSE(Conv2dUsesGemm(*conv, torch::randn({1, 8, 4, 4}, torch::kDouble)));
  torch::nn::Conv2d grouped(torch::nn::Conv2dOptions(8, 64, 3).padding(1).groups(2));
  EXPECT_FALSE(Conv2dUsesGemm(*grouped, torch::randn({1, 8, 2, 2})));
  torch::nn::Conv2d reflect(torch::nn::Conv2dOptions(8, 64, 3).padding(1).padding_mode(torch::kReflect));
  EXPECT_FALSE(Conv2dUsesGemm(*reflect, torch::randn({1, 8, 2, 2})));
}

}  // namespace
}  // namespace dreamshot::models
