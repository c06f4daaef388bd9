#include "models/blocks/resnet.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace dreamshot::models {
namespace {

double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) { return (a - b).abs().max().item<double>(); }

// Inputs of 64 MiB take the banded, in-place inference path when autograd is
// off; with autograd on the same modules run the plain layer-by-layer path.
// Both must give the same output.
TEST(ResnetBlock2DTest, BandedInferenceEqualsThePlainPath) {
  torch::manual_seed(0);
  ResnetBlock2DOptions o;
  o.in_channels = 64;
  o.out_channels = 32;  // with a 1×1 conv_shortcut
  o.eps = 1e-6;
  o.output_scale_factor = 2.0;
  ResnetBlock2D block(o);
  const torch::Tensor x = torch::randn({1, 64, 512, 512});
  const torch::Tensor plain = block->forward(x).detach();
  torch::NoGradGuard no_grad;
  const torch::Tensor banded = block->forward(x);
  EXPECT_LT(MaxAbsDiff(banded, plain), 1e-4);

  ResnetBlock2DOptions same = o;
  same.in_channels = same.out_channels = 64;  // identity shortcut: adds into a copy of x
  ResnetBlock2D identity(same);
  torch::Tensor want;
  {
    torch::AutoGradMode grad(true);
    want = identity->forward(x).detach();
  }
  const torch::Tensor x_before = x.clone();
  EXPECT_LT(MaxAbsDiff(identity->forward(x), want), 1e-4);
  EXPECT_TRUE(x.equal(x_before));  // the input is not written
}

// A moved-in input is overwritten by the output, which must not change the
// result: batch 2 so that output rows of the second sample land in the first
// sample's input memory.
TEST(ResnetBlock2DTest, ConsumedInputHoldsTheOutputWithTheSameValues) {
  torch::manual_seed(2);
  for (int64_t out_channels : {32, 64}) {  // 1×1 shortcut, identity shortcut
    ResnetBlock2DOptions o;
    o.in_channels = 64;
    o.out_channels = out_channels;
    o.eps = 1e-6;
    ResnetBlock2D block(o);
    const torch::Tensor input = torch::randn({2, 64, 256, 512});
    const torch::Tensor want = block->forward(input).detach();
    torch::NoGradGuard no_grad;
    torch::Tensor x = input.clone();
    const void* memory = x.data_ptr();
    const torch::Tensor got = block->forward(std::move(x));
    EXPECT_EQ(got.data_ptr(), memory) << out_channels;
    EXPECT_EQ(got.sizes(), (std::vector<int64_t>{2, out_channels, 256, 512}));
    EXPECT_LT(MaxAbsDiff(got, want), 1e-4) << out_channels;
  }
}

TEST(Upsample2DTest, BandedInferenceEqualsUpsamplingFirst) {
  torch::manual_seed(1);
  Upsample2D up(64);
  const torch::Tensor x = torch::randn({1, 64, 256, 256});  // 64 MiB once upsampled
  const torch::Tensor plain = up->forward(x).detach();
  torch::NoGradGuard no_grad;
  EXPECT_LT(MaxAbsDiff(up->forward(x), plain), 1e-4);
}

}  // namespace
}  // namespace dreamshot::models
