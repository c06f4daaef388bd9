// The pipeline on the tiny reference model (its upstream parity runs in
// //parity:reference_parity_test): seeds, batches, guidance off,
// cancellation and request errors.
#include "diffusion/pipeline/text_to_image.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/model_source.h"
#include "core/testdata_paths.h"

namespace dreamshot::diffusion {
namespace {

class TextToImageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto source = core::ModelSource::Open(core::ReferencePath("tiny_sd"));
    ASSERT_TRUE(source.ok()) << source.status();
    auto loaded = StableDiffusionModels::Load(*source, core::DeviceSpec{});
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    models_ = new StableDiffusionModels(std::move(*loaded));
  }
  static void TearDownTestSuite() { delete models_; }

  static TextToImageRequest Request() {
    TextToImageRequest r;
    r.prompt = "Long Shot, a lighthouse at dusk";
    r.negative_prompt = "blurry";
    r.width = r.height = 32;
    r.steps = 3;
    r.scheduler.name = "euler_a";  // stochastic: the step noise is seeded too
    r.keep_step_latents = true;
    return r;
  }

  static StableDiffusionModels* models_;
};
StableDiffusionModels* TextToImageTest::models_ = nullptr;

TEST_F(TextToImageTest, TheSameSeedGivesBitIdenticalResults) {
  TextToImageRequest r = Request();
  r.seeds = {42};
  const TextToImageResult a = GenerateImages(*models_, r).value();
  const TextToImageResult b = GenerateImages(*models_, r).value();
  EXPECT_TRUE(a.latents.equal(b.latents));
  EXPECT_TRUE(a.images.equal(b.images));
  EXPECT_EQ(a.images.sizes(), (std::vector<int64_t>{1, 3, 32, 32}));
  EXPECT_GE(a.images.min().item<float>(), 0.0f);
  EXPECT_LE(a.images.max().item<float>(), 1.0f);
  r.seeds = {43};
  EXPECT_FALSE(GenerateImages(*models_, r).value().latents.equal(a.latents));
}

TEST_F(TextToImageTest, AnImagesNoiseDependsOnItsSeedOnlyNotItsBatchPosition) {
  const at::Tensor batch = SeededNoise({5, 9, 11}, 4, 4, 4);
  EXPECT_TRUE(batch[1].equal(SeededNoise({9}, 4, 4, 4)[0]));
  EXPECT_TRUE(batch[2].equal(SeededNoise({11}, 4, 4, 4)[0]));
  for (const char* sampler : {"ddim", "euler_a"}) {  // euler_a: the step noise follows the seed too
    TextToImageRequest r = Request();
    r.scheduler.name = sampler;
    r.seeds = {5, 9};
    const TextToImageResult pair = GenerateImages(*models_, r).value();
    r.seeds = {9};
    const TextToImageResult single = GenerateImages(*models_, r).value();
    ASSERT_EQ(pair.images.size(0), 2);
    EXPECT_LT((pair.images[1] - single.images[0]).abs().max().item<double>(), 1e-5) << sampler;
  }
}

TEST_F(TextToImageTest, GuidanceOfOneRunsTheConditionalBatchOnly) {
  TextToImageRequest r = Request();
  r.scheduler.name = "ddim";
  r.negative_prompt = "";  // a negative prompt without guidance is refused
  r.guidance_scale = 1.0;
  r.seeds = {1};
  const TextToImageResult plain = GenerateImages(*models_, r).value();
  r.guidance_scale = 7.5;
  const TextToImageResult guided = GenerateImages(*models_, r).value();
  EXPECT_FALSE(plain.latents.equal(guided.latents));
  EXPECT_EQ(plain.step_latents.size(), 3u);
}

TEST_F(TextToImageTest, ClipSkipTakesAnEarlierLayerThroughTheFinalNorm) {
  const std::vector<std::string> prompts = {"Medium Shot, two people talking"};
  const at::Tensor last = EncodePrompts(*models_, prompts).value();
  const at::Tensor skip1 = EncodePrompts(*models_, prompts, 1).value();
  const at::Tensor ids = torch::tensor(models_->tokenizer->Tokenize(prompts).input_ids).view({1, -1});
  const auto out = models_->text_encoder->Forward(ids, /*output_hidden_states=*/true).value();
  EXPECT_TRUE(last.equal(out.last_hidden_state));
  const auto& hidden = out.hidden_states;
  EXPECT_TRUE(skip1.equal(models_->text_encoder->FinalLayerNorm(hidden[hidden.size() - 2]).value()));
  EXPECT_GT((skip1 - last).abs().max().item<double>(), 1e-3);
  const int64_t layers = models_->text_encoder->config().num_hidden_layers;
  EXPECT_NE(EncodePrompts(*models_, prompts, layers).status().message().find("clip_skip must be in"),
            std::string::npos);
}

TEST_F(TextToImageTest, ACallbackCanCancelBetweenSteps) {
  TextToImageRequest r = Request();
  std::vector<int64_t> seen;
  auto result = GenerateImages(*models_, r, [&](int64_t done, int64_t total) {
    seen.push_back(done);
    EXPECT_EQ(total, 3);
    return done < 2;
  });
  EXPECT_EQ(result.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2}));
}

TEST_F(TextToImageTest, BadRequestsNameTheProblem) {
  TextToImageRequest r = Request();
  r.width = 30;
  auto bad_size = GenerateImages(*models_, r);
  EXPECT_EQ(bad_size.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad_size.status().message().find("multiples of 8, got 30×32"), std::string::npos);
  r = Request();
  r.steps = 0;
  EXPECT_NE(GenerateImages(*models_, r).status().message().find("steps must be ≥ 1, got 0"), std::string::npos);
  r = Request();
  r.guidance_scale = 0.5;  // with the negative prompt "blurry"
  auto ignored_negative = GenerateImages(*models_, r);
  EXPECT_EQ(ignored_negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ignored_negative.status().message().find("a negative prompt needs classifier-free guidance"),
            std::string::npos);
  r = Request();
  r.scheduler.name = "plms2";
  EXPECT_NE(GenerateImages(*models_, r).status().message().find("unknown scheduler \"plms2\""), std::string::npos);
  r = Request();
  r.initial_latents = torch::zeros({1, 4, 8, 8});  // the tiny VAE downsamples by 2: 32² needs 16²
  EXPECT_NE(GenerateImages(*models_, r).status().message().find("initial_latents must be [B, 4, 16, 16]"),
            std::string::npos);
  r.initial_latents = torch::zeros({2, 4, 16, 16});
  r.seeds = {1, 2, 3};
  EXPECT_NE(GenerateImages(*models_, r).status().message().find("3 seeds for 2 initial latents"), std::string::npos);
}

}  // namespace
}  // namespace dreamshot::diffusion
