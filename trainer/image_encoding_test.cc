// EncodeImages through the latent and text-state caches on the tiny
// reference VAE and text encoder: a cached encoding is bit-identical to an
// uncached one with the same generator, a second encoding reads every
// entry, a change of resolution or weights misses, and a damaged entry is
// recomputed and rewritten.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "core/encoding_cache.h"
#include "core/testdata_paths.h"
#include "models/load_model.h"
#include "trainer/instance_images.h"

namespace dreamshot::trainer {
namespace {

namespace fs = std::filesystem;

class ImageEncodingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    vae_ = models::LoadModelFromFolder<models::vae::AutoencoderKL>(core::ReferencePath("tiny_sd/vae"),
                                                                   core::DeviceSpec{})
               ->release();
    text_ = models::LoadModelFromFolder<models::clip::ClipTextModel>(core::ReferencePath("tiny_sd/text_encoder"),
                                                                     core::DeviceSpec{})
                ->release();
    tokenizer_ = new models::clip::ClipTokenizer(
        *models::clip::ClipTokenizer::FromFolder(core::ReferencePath("tiny_sd/tokenizer")));
  }

  void SetUp() override {
    dir_ = std::string(::testing::TempDir()) + "/image-encoding-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_ + "/images");
    cv::RNG rng(7);
    for (int i = 0; i < 3; ++i) {
      cv::Mat noise(40 + 10 * i, 60, CV_8UC3);
      rng.fill(noise, cv::RNG::UNIFORM, 0, 256);
      const std::string path = dir_ + "/images/" + std::to_string(i) + (i == 1 ? ".jpg" : ".png");
      cv::imwrite(path, noise);
      // Images 0 and 2 share a prompt: the second reads the first's text states.
      images_.push_back({path, i == 1 ? "a sks close shot, a man" : "a sks long shot"});
    }
    std::ofstream(dir_ + "/images/broken.png") << "not an image";
    images_.push_back({dir_ + "/images/broken.png", "skipped"});
    options_.resolution = 32;
    options_.transform = {CropMode::kRandom, true, 11};
  }

  absl::StatusOr<std::vector<EncodedExample>> Encode(const EncodeOptions& options, EncodingReport* report,
                                                     uint64_t seed = 1) {
    at::Generator generator = at::detail::createCPUGenerator(seed);
    return EncodeImages(*vae_, *tokenizer_, *text_, images_, options, generator, report);
  }
  EncodeOptions Cached() const {
    EncodeOptions o = options_;
    o.cache_root = dir_ + "/cache";
    return o;
  }

  static void ExpectIdentical(const std::vector<EncodedExample>& a, const std::vector<EncodedExample>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_TRUE(torch::equal(a[i].latents, b[i].latents)) << "latents of example " << i;
      EXPECT_TRUE(torch::equal(a[i].text, b[i].text)) << "text of example " << i;
    }
  }

  static models::vae::AutoencoderKL* vae_;
  static models::clip::ClipTextModel* text_;
  static models::clip::ClipTokenizer* tokenizer_;
  std::string dir_;
  std::vector<PromptedImage> images_;
  EncodeOptions options_;
};

models::vae::AutoencoderKL* ImageEncodingTest::vae_ = nullptr;
models::clip::ClipTextModel* ImageEncodingTest::text_ = nullptr;
models::clip::ClipTokenizer* ImageEncodingTest::tokenizer_ = nullptr;

TEST_F(ImageEncodingTest, CachedEncodingIsBitIdenticalAndTheSecondReadsEveryEntry) {
  EncodingReport plain_report;
  auto plain = Encode(options_, &plain_report);
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_EQ(plain->size(), 3u);
  EXPECT_EQ(plain_report.latent_hits + plain_report.latent_misses, 0);
  EXPECT_FALSE(fs::exists(dir_ + "/cache"));

  EncodingReport cold;
  auto first = Encode(Cached(), &cold);
  ASSERT_TRUE(first.ok()) << first.status();
  ExpectIdentical(*plain, *first);
  EXPECT_EQ(cold.latent_misses, 3);
  EXPECT_EQ(cold.latent_hits, 0);
  EXPECT_EQ(cold.text_misses, 2);
  EXPECT_EQ(cold.text_hits, 1);  // image 2 repeats image 0's prompt
  EXPECT_TRUE(cold.cache_write_errors.empty());
  EXPECT_EQ(cold.vae_fingerprint.size(), 64u);
  ASSERT_EQ(cold.skipped.size(), 1u);

  EncodingReport warm;
  auto second = Encode(Cached(), &warm);
  ASSERT_TRUE(second.ok()) << second.status();
  ExpectIdentical(*plain, *second);
  EXPECT_EQ(warm.latent_hits, 3);
  EXPECT_EQ(warm.latent_misses, 0);
  EXPECT_EQ(warm.text_hits, 3);
  ASSERT_EQ(warm.encoded.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(warm.encoded[i].latents_cached);
    EXPECT_TRUE(warm.encoded[i].text_cached);
    EXPECT_EQ(warm.encoded[i].sha256, cold.encoded[i].sha256);
    // The crop and flip are those the uncached encoding chose.
    EXPECT_EQ(warm.encoded[i].transform.left, plain_report.encoded[i].transform.left);
    EXPECT_EQ(warm.encoded[i].transform.top, plain_report.encoded[i].transform.top);
    EXPECT_EQ(warm.encoded[i].transform.flipped, plain_report.encoded[i].transform.flipped);
    EXPECT_EQ(warm.encoded[i].transform.resized_width, plain_report.encoded[i].transform.resized_width);
  }
  // Another generator seed: other samples of the same cached distributions,
  // as without the cache.
  auto plain_seed2 = Encode(options_, nullptr, 2);
  auto cached_seed2 = Encode(Cached(), nullptr, 2);
  ASSERT_TRUE(plain_seed2.ok() && cached_seed2.ok());
  ExpectIdentical(*plain_seed2, *cached_seed2);
  EXPECT_FALSE(torch::equal((*plain_seed2)[0].latents, (*plain)[0].latents));
}

TEST_F(ImageEncodingTest, ResolutionTransformAndWeightsAreInTheKey) {
  ASSERT_TRUE(Encode(Cached(), nullptr).ok());
  EncodingReport other_size;
  EncodeOptions larger = Cached();
  larger.resolution = 40;
  ASSERT_TRUE(Encode(larger, &other_size).ok());
  EXPECT_EQ(other_size.latent_misses, 3);
  EXPECT_EQ(other_size.text_hits, 3);  // prompts do not depend on the resolution

  EncodingReport other_crop;
  EncodeOptions centre = Cached();
  centre.transform = {};
  ASSERT_TRUE(Encode(centre, &other_crop).ok());
  EXPECT_EQ(other_crop.latent_misses, 3);

  EncodingReport other_weights;
  EncodeOptions fingerprinted = Cached();
  fingerprinted.vae_fingerprint = "another VAE";
  fingerprinted.text_encoder_fingerprint = "another text encoder";
  ASSERT_TRUE(Encode(fingerprinted, &other_weights).ok());
  EXPECT_EQ(other_weights.latent_misses, 3);
  EXPECT_EQ(other_weights.text_misses, 2);
  EXPECT_EQ(other_weights.vae_fingerprint, "another VAE");
}

TEST_F(ImageEncodingTest, TextCacheCanBeTurnedOff) {
  EncodeOptions latents_only = Cached();
  latents_only.cache_text = false;
  EncodingReport report;
  ASSERT_TRUE(Encode(latents_only, &report).ok());
  EXPECT_EQ(report.latent_misses, 3);
  EXPECT_EQ(report.text_hits + report.text_misses, 0);
  EXPECT_TRUE(fs::exists(dir_ + "/cache/latents"));
  EXPECT_FALSE(fs::exists(dir_ + "/cache/text"));
}

TEST_F(ImageEncodingTest, DamagedEntriesAreRecomputedAndRewritten) {
  auto plain = Encode(options_, nullptr);
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE(Encode(Cached(), nullptr).ok());
  std::vector<fs::path> entries;
  for (const auto& e : fs::recursive_directory_iterator(dir_ + "/cache/latents")) {
    if (e.is_regular_file()) entries.push_back(e.path());
  }
  ASSERT_EQ(entries.size(), 3u);
  std::ofstream(entries[0], std::ios::trunc) << "garbage";
  fs::resize_file(entries[1], 100);

  EncodingReport repaired;
  auto again = Encode(Cached(), &repaired);
  ASSERT_TRUE(again.ok()) << again.status();
  ExpectIdentical(*plain, *again);
  EXPECT_EQ(repaired.damaged_cache_entries, 2);
  EXPECT_EQ(repaired.latent_hits, 1);

  EncodingReport after;
  ASSERT_TRUE(Encode(Cached(), &after).ok());
  EXPECT_EQ(after.latent_hits, 3);
  EXPECT_EQ(after.damaged_cache_entries, 0);
}

}  // namespace
}  // namespace dreamshot::trainer
