#include "diffusion/pipeline/generation_record.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/png.h"

namespace dreamshot::diffusion {
namespace {

GenerationRecord Example() {
  GenerationRecord r;
  r.prompt = "Close Shot, Sarah, speaking: \"now\"\nsecond line";
  r.negative_prompt = "blurry, low quality";
  r.steps = 25;
  r.scheduler = "dpmpp_2m_karras";
  r.guidance_scale = 7.5;
  r.seed = 1234567890123ull;
  r.clip_skip = 1;
  r.width = 512;
  r.height = 768;
  r.model_name = "v1-5-pruned-emaonly";
  r.model_sha256 = "6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa";
  r.loras = {{"close_shot", std::string(64, 'a'), 0.8}, {"long_shot", std::string(64, 'b'), 1.0}};
  return r;
}

TEST(GenerationRecordTest, WritesA1111ParametersAndReadsThemBack) {
  const GenerationRecord r = Example();
  const std::string text = GenerationParametersText(r);
  EXPECT_NE(text.find("\nNegative prompt: blurry, low quality\nSteps: 25, Sampler: DPM++ 2M Karras, CFG scale: 7.5, "
                      "Seed: 1234567890123, Size: 512x768, Model hash: 6ce0161689, Clip skip: 2, Model: v1-5-pruned-emaonly, "
                      "Lora hashes: \"close_shot: aaaaaaaaaaaa, long_shot: bbbbbbbbbbbb\""),
            std::string::npos)
      << text;
  auto back = ParseGenerationParametersText(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->prompt, r.prompt);
  EXPECT_EQ(back->negative_prompt, r.negative_prompt);
  EXPECT_EQ(back->steps, 25);
  EXPECT_EQ(back->scheduler, "dpmpp_2m_karras");
  EXPECT_EQ(back->seed, r.seed);
  EXPECT_EQ(back->clip_skip, 1);
  EXPECT_EQ(back->width, 512);
  EXPECT_EQ(back->height, 768);
  EXPECT_EQ(back->model_sha256, r.model_sha256);
  ASSERT_EQ(back->loras.size(), 2u);
  EXPECT_EQ(back->loras[0].name, "close_shot");
  EXPECT_EQ(back->loras[0].sha256, std::string(64, 'a'));
  EXPECT_DOUBLE_EQ(back->loras[0].scale, 0.8);
}

TEST(GenerationRecordTest, PngCarriesPixelsAndParameters) {
  const at::Tensor image = torch::linspace(0, 1, 3 * 4 * 5).view({3, 4, 5});
  auto png = EncodeGeneratedPng(image, Example());
  ASSERT_TRUE(png.ok()) << png.status();
  auto decoded = core::DecodePng(*png);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->width, 5);
  EXPECT_EQ(decoded->height, 4);
  ASSERT_EQ(decoded->texts.size(), 1u);
  EXPECT_EQ(decoded->texts[0].first, "parameters");
  EXPECT_EQ(decoded->texts[0].second, GenerationParametersText(Example()));
  EXPECT_EQ(decoded->pixels[0], 0);     // R at (0, 0): 0
  EXPECT_EQ(decoded->pixels.back(), 255);  // B at (3, 4): 1
  EXPECT_EQ(decoded->pixels[1], static_cast<uint8_t>(std::lround(20.0 / 59 * 255)));  // G at (0, 0)
  EXPECT_EQ(GenerationParametersOfPng(*png).value(), GenerationParametersText(Example()));
  decoded->texts.clear();
  EXPECT_EQ(GenerationParametersOfPng(core::EncodePng(*decoded).value()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(GenerationParametersOfPng("not a png").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GenerationRecordTest, MalformedParametersAreNamed) {
  EXPECT_NE(ParseGenerationParametersText("a cat\nSteps: many").status().message().find("bad Steps \"many\""),
            std::string::npos);
  EXPECT_FALSE(ParseGenerationParametersText("no parameters line").ok());
  EXPECT_NE(EncodeGeneratedPng(torch::zeros({4, 2, 2}), Example()).status().message().find("[3, H, W]"),
            std::string::npos);
}

}  // namespace
}  // namespace dreamshot::diffusion
