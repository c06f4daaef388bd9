// LoRA files applied to the tiny reference model through the pipeline:
// they change the image, formats agree, and removing them restores the base
// model exactly.
#include "diffusion/pipeline/applied_loras.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/model_source.h"
#include "core/testdata_paths.h"
#include "diffusion/pipeline/text_to_image.h"

namespace dreamshot::diffusion {
namespace {

class AppliedLorasTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto source = core::ModelSource::Open(core::ReferencePath("tiny_sd"));
    ASSERT_TRUE(source.ok()) << source.status();
    auto loaded = StableDiffusionModels::Load(*source, core::DeviceSpec{});
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    models_ = std::make_unique<StableDiffusionModels>(std::move(*loaded));
  }

  at::Tensor Generate() {
    TextToImageRequest r;
    r.prompt = "Close Shot, an old sailor";
    r.width = r.height = 32;
    r.steps = 3;
    r.scheduler.name = "ddim";
    r.seeds = {3};
    auto result = GenerateImages(*models_, r);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->images : at::Tensor();
  }

  std::unique_ptr<StableDiffusionModels> models_;
};

TEST_F(AppliedLorasTest, ChangesTheImageAndRestoresTheBaseWhenRemoved) {
  const at::Tensor base = Generate();
  at::Tensor peft, kohya;
  {
    auto applied = AppliedLoras::Apply(*models_, {{core::ReferencePath("lora/pytorch_lora_weights.safetensors"), 1.0}});
    ASSERT_TRUE(applied.ok()) << applied.status();
    ASSERT_EQ((*applied)->records().size(), 1u);
    EXPECT_EQ((*applied)->records()[0].name, "pytorch_lora_weights");
    EXPECT_EQ((*applied)->records()[0].sha256.size(), 64u);
    peft = Generate();
  }
  EXPECT_GT((peft - base).abs().max().item<double>(), 1e-3);
  EXPECT_TRUE(Generate().equal(base));  // removed: bit-identical to the base model again
  {
    auto applied = AppliedLoras::Apply(*models_, {{core::ReferencePath("lora/lora_kohya.safetensors"), 1.0}});
    ASSERT_TRUE(applied.ok()) << applied.status();
    kohya = Generate();
  }
  EXPECT_LT((kohya - peft).abs().max().item<double>(), 1e-5);
}

TEST_F(AppliedLorasTest, TwoHalfScalesEqualOneFullScale) {
  const std::string file = core::ReferencePath("lora/pytorch_lora_weights.safetensors");
  at::Tensor full, halves;
  {
    auto applied = AppliedLoras::Apply(*models_, {{file, 1.0}});
    ASSERT_TRUE(applied.ok());
    full = Generate();
  }
  {
    auto applied = AppliedLoras::Apply(*models_, {{file, 0.5}, {file, 0.5}});
    ASSERT_TRUE(applied.ok()) << applied.status();
    halves = Generate();
  }
  EXPECT_LT((full - halves).abs().max().item<double>(), 1e-5);
}

TEST_F(AppliedLorasTest, AFailedApplyLeavesTheBaseModel) {
  const at::Tensor base = Generate();
  auto applied = AppliedLoras::Apply(*models_, {{core::ReferencePath("lora/pytorch_lora_weights.safetensors"), 1.0},
                                                {"/nonexistent/lora.safetensors", 1.0}});
  ASSERT_FALSE(applied.ok());
  EXPECT_NE(applied.status().message().find("/nonexistent/lora.safetensors"), std::string::npos)
      << applied.status();
  EXPECT_TRUE(Generate().equal(base));
}

}  // namespace
}  // namespace dreamshot::diffusion
