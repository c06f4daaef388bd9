// Requests as the services run them, on the tiny reference model: PNGs that
// carry their record, one progress bar over the request, cancellation, and
// A/B pairs through a base model and the same model plus a LoRA.
#include "diffusion/pipeline/image_generation.h"

#include <gtest/gtest.h>

#include "core/sha256.h"
#include "core/testdata_paths.h"

namespace dreamshot::diffusion {
namespace {

ModelChoice TinyModel() {
  ModelChoice m;
  m.base.path = core::ReferencePath("tiny_sd");
  return m;
}

TextToImageRequest Request() {
  TextToImageRequest r;
  r.prompt = "Close Shot, an old sailor";
  r.negative_prompt = "blurry";
  r.width = r.height = 32;
  r.steps = 3;
  r.scheduler.name = "ddim";
  r.seeds = {7, 8, 9};
  return r;
}

TEST(ImageGenerationTest, ImagesCarryTheirRecordAndRepeatExactly) {
  ModelCache cache(1LL << 30);
  std::vector<RenderedImage> first, second;
  std::vector<GenerationProgress> progress;
  auto collect = [](std::vector<RenderedImage>* out) {
    return [out](RenderedImage image) {
      out->push_back(std::move(image));
      return absl::OkStatus();
    };
  };
  ASSERT_TRUE(RenderImages(cache, TinyModel(), Request(), /*batch_size=*/2,
                           [&](const GenerationProgress& p) {
                             progress.push_back(p);
                             return true;
                           },
                           collect(&first))
                  .ok());
  ASSERT_TRUE(RenderImages(cache, TinyModel(), Request(), 2, nullptr, collect(&second)).ok());
  ASSERT_EQ(first.size(), 3u);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(first[k].index, k);
    EXPECT_EQ(first[k].seed, Request().seeds[k]);
    EXPECT_EQ(first[k].png, second[k].png) << "seed " << first[k].seed;
    auto record = ParseGenerationParametersText(GenerationParametersOfPng(first[k].png).value());
    ASSERT_TRUE(record.ok()) << record.status();
    EXPECT_EQ(record->seed, first[k].seed);
    EXPECT_EQ(record->prompt, "Close Shot, an old sailor");
    EXPECT_EQ(record->scheduler, "ddim");
    EXPECT_EQ(record->model_name, "tiny_sd");
    EXPECT_EQ(record->model_sha256.size(), 64u);
  }
  EXPECT_NE(first[0].png, first[1].png);
  // Two batches (2 + 1 images) of 3 steps: one bar from 0 to 6.
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.front().stage, "preparing model");
  EXPECT_EQ(progress.back().done, 6);
  EXPECT_EQ(progress.back().total, 6);
  for (size_t i = 1; i < progress.size(); ++i) EXPECT_GE(progress[i].done, progress[i - 1].done);
  EXPECT_EQ(cache.stats().loads, 1);
}

TEST(ImageGenerationTest, PndmCountsItsExtraStepInTheTotal) {
  ModelCache cache(1LL << 30);
  TextToImageRequest r = Request();
  r.scheduler.name = "";  // tiny_sd's own: PNDM, which repeats its second timestep
  r.seeds = {1};
  GenerationProgress last;
  ASSERT_TRUE(RenderImages(
                  cache, TinyModel(), r, 1,
                  [&](const GenerationProgress& p) {
                    last = p;
                    return true;
                  },
                  [](RenderedImage image) {
                    EXPECT_EQ(image.record.scheduler, "pndm");
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(last.done, 4);
  EXPECT_EQ(last.total, 4);
}

TEST(ImageGenerationTest, ProgressCanCancelAndNothingIsHandedOutAfterwards) {
  ModelCache cache(1LL << 30);
  int images = 0;
  absl::Status status = RenderImages(
      cache, TinyModel(), Request(), 1, [](const GenerationProgress& p) { return p.done < 4; },
      [&](RenderedImage) {
        ++images;
        return absl::OkStatus();
      });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(images, 1);  // the first image (steps 1–3) was done before step 4 cancelled
  status = RenderImages(cache, TinyModel(), Request(), 1, [](const GenerationProgress&) { return false; },
                        [](RenderedImage) { return absl::OkStatus(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
}

TEST(ImageGenerationTest, PairsShareSeedsAndDifferByTheLora) {
  ModelCache cache(1LL << 30);
  PairPlan plan;
  plan.a = TinyModel();
  plan.b = TinyModel();
  plan.b.loras.push_back({core::ReferencePath("lora/pytorch_lora_weights.safetensors"), 1.0});
  plan.prompts = {{"Close Shot, an old sailor", "close"}, {"Long Shot, a harbour at dawn", "long"}};
  plan.settings = Request();
  plan.settings.seeds = {11, 12};
  std::vector<RenderedPair> pairs;
  ASSERT_TRUE(RenderPairs(cache, plan, nullptr, [&](RenderedPair pair) {
                pairs.push_back(std::move(pair));
                return absl::OkStatus();
              }).ok());
  ASSERT_EQ(pairs.size(), 4u);
  EXPECT_EQ(pairs[1].prompt.prompt, "Close Shot, an old sailor");
  EXPECT_EQ(pairs[1].seed, 12u);
  EXPECT_EQ(pairs[2].prompt.shot_type, "long");
  for (const RenderedPair& p : pairs) {
    EXPECT_EQ(p.a.seed, p.seed);
    EXPECT_EQ(p.b.seed, p.seed);
    EXPECT_NE(p.a.png, p.b.png);
    EXPECT_TRUE(p.a.record.loras.empty());
    ASSERT_EQ(p.b.record.loras.size(), 1u);
    EXPECT_EQ(p.b.record.loras[0].name, "pytorch_lora_weights");
    EXPECT_EQ(p.b.record.loras[0].sha256, core::Sha256HexOfFile(plan.b.loras[0].path).value());
  }
  EXPECT_EQ(cache.stats().loads, 1);  // one resident base serves both sides
  // Side a of a later request is the base model again: the LoRA was removed.
  std::vector<RenderedImage> again;
  TextToImageRequest r = Request();
  r.seeds = {11};
  ASSERT_TRUE(RenderImages(cache, plan.a, r, 1, nullptr, [&](RenderedImage image) {
                again.push_back(std::move(image));
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(again[0].png, pairs[0].a.png);
}

TEST(ImageGenerationTest, BadInputFailsBeforeAnyStep) {
  ModelCache cache(1LL << 30);
  int steps = 0;
  auto count = [&](const GenerationProgress& p) {
    steps = static_cast<int>(p.done);
    return true;
  };
  auto none = [](RenderedImage) { return absl::OkStatus(); };
  ModelChoice missing = TinyModel();
  missing.base.path = "/no/such/model";
  EXPECT_EQ(RenderImages(cache, missing, Request(), 1, count, none).code(), absl::StatusCode::kNotFound);
  ModelChoice unfit = TinyModel();
  unfit.loras.push_back({core::ReferencePath("tiny_sd/unet/diffusion_pytorch_model.safetensors"), 1.0});
  absl::Status status = RenderImages(cache, unfit, Request(), 1, count, none);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(steps, 0) << status;
  TextToImageRequest r = Request();
  r.width = 33;
  EXPECT_EQ(RenderImages(cache, TinyModel(), r, 1, count, none).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(steps, 0);
}

}  // namespace
}  // namespace dreamshot::diffusion
