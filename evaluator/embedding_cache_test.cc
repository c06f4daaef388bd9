// The embedding cache with a stand-in encoder (per-channel means of the
// pixel values) that counts its calls: a second pass reads everything back,
// the key follows the preprocessing and the weights, bad embeddings are
// named and not stored.
#include "evaluator/embedding_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>

namespace dreamshot::evaluator {
namespace {

using ::testing::HasSubstr;

Image8 Solid(uint8_t r, uint8_t g, uint8_t b) {
  Image8 image{40, 30, 3, {}};
  for (int i = 0; i < 40 * 30; ++i) image.pixels.insert(image.pixels.end(), {r, g, b});
  return image;
}

class EmbeddingCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "/embedding-cache-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(root_);
    images_ = {Solid(255, 0, 0), Solid(0, 255, 0), Solid(10, 20, 30)};
    for (size_t i = 0; i < images_.size(); ++i) {
      inputs_.push_back({"img" + std::to_string(i), "sha" + std::to_string(i), &images_[i]});
    }
  }

  Embedder MeanColour() {
    Embedder e;
    e.kind = "test_mean_colour";
    e.weights_fingerprint = "w1";
    e.dim = 3;
    e.preprocessing = ClipPreprocessing();
    e.embed = [this](const at::Tensor& pixels) -> absl::StatusOr<at::Tensor> {
      ++calls_;
      return pixels.mean({2, 3});
    };
    return e;
  }

  std::string root_;
  std::vector<Image8> images_;
  std::vector<ImageToEmbed> inputs_;
  int calls_ = 0;
};

TEST_F(EmbeddingCacheTest, ASecondPassReadsEveryEmbeddingBack) {
  core::EncodingCache cache(root_, "embeddings");
  EmbedStats first;
  auto a = EmbedImages(inputs_, MeanColour(), /*batch_size=*/2, &cache, &first);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(calls_, 2);  // batches of 2 and 1
  EXPECT_EQ(first.computed, 3);
  EXPECT_GT((*a)[0][0].item<float>(), (*a)[0][1].item<float>());  // red is red
  EmbedStats second;
  auto b = EmbedImages(inputs_, MeanColour(), 2, &cache, &second);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(calls_, 2);
  EXPECT_EQ(second.cached, 3);
  EXPECT_TRUE(torch::equal(*a, *b));
  // Without a cache, everything is computed again, to the same values.
  auto c = EmbedImages(inputs_, MeanColour(), 8, nullptr);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(calls_, 3);
  EXPECT_TRUE(torch::equal(*a, *c));
}

TEST_F(EmbeddingCacheTest, OtherWeightsOrPreprocessingAreOtherEntries) {
  core::EncodingCache cache(root_, "embeddings");
  ASSERT_TRUE(EmbedImages(inputs_, MeanColour(), 4, &cache).ok());
  Embedder retrained = MeanColour();
  retrained.weights_fingerprint = "w2";
  EmbedStats stats;
  ASSERT_TRUE(EmbedImages(inputs_, retrained, 4, &cache, &stats).ok());
  EXPECT_EQ(stats.computed, 3);
  Embedder letterboxed = MeanColour();
  letterboxed.preprocessing = ClipPreprocessing(Framing::kLetterbox);
  stats = {};
  ASSERT_TRUE(EmbedImages(inputs_, letterboxed, 4, &cache, &stats).ok());
  EXPECT_EQ(stats.computed, 3);
}

TEST_F(EmbeddingCacheTest, BadEmbeddingsAreNamedAndNotStored) {
  core::EncodingCache cache(root_, "embeddings");
  Embedder nan = MeanColour();
  nan.embed = [](const at::Tensor& pixels) -> absl::StatusOr<at::Tensor> {
    at::Tensor out = pixels.mean({2, 3});
    out[out.size(0) - 1][0] = NAN;
    return out;
  };
  auto r = EmbedImages(inputs_, nan, 8, &cache);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("NaN or infinite embedding for image 'img2'"));
  EmbedStats stats;
  ASSERT_TRUE(EmbedImages(inputs_, MeanColour(), 8, &cache, &stats).ok());
  EXPECT_EQ(stats.cached, 2);  // the two good ones were kept
  EXPECT_EQ(stats.computed, 1);

  Embedder wide = MeanColour();
  wide.dim = 4;
  r = EmbedImages(inputs_, wide, 8, nullptr);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("returned [3, 3] for a batch of 3 images; expected [3, 4]"));
  Embedder none;
  EXPECT_EQ(EmbedImages(inputs_, none, 8, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EmbedImages(inputs_, MeanColour(), 0, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dreamshot::evaluator
