// The encoding cache on its own: keys, weights fingerprints, round trips,
// and damaged entries that count as misses and are replaced.
#include "core/encoding_cache.h"

#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace dreamshot::core {
namespace {

namespace fs = std::filesystem;

std::string FreshDir() {
  const std::string dir = std::string(::testing::TempDir()) + "/encoding-cache-" + std::to_string(::getpid()) + "-" +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name();
  fs::remove_all(dir);
  return dir;
}

const CacheKeyParts kParts = {{"kind", "test"}, {"image_sha256", "ab12"}, {"resolution", "64"}};
const CacheEntrySpec kSpec = {{{"mean", {1, 4, 8, 8}}, {"logvar", {1, 4, 8, 8}}}, c10::kFloat};

std::map<std::string, at::Tensor> Entry() {
  torch::manual_seed(5);
  return {{"mean", torch::randn({1, 4, 8, 8})}, {"logvar", torch::randn({1, 4, 8, 8})}};
}

TEST(CacheKeyTest, EveryPartCounts) {
  EXPECT_EQ(CacheKey(kParts), CacheKey(kParts));
  EXPECT_EQ(CacheKey(kParts).size(), 64u);
  CacheKeyParts other = kParts;
  other["resolution"] = "72";
  EXPECT_NE(CacheKey(other), CacheKey(kParts));
  // "a=b" + "c=" must not collide with "a=" + "c=b"-style rearrangements.
  EXPECT_NE(CacheKey({{"a", "b"}, {"c", ""}}), CacheKey({{"a", ""}, {"c", "b"}}));
}

TEST(WeightsFingerprintTest, FollowsTheWeightsNotTheObject) {
  torch::manual_seed(1);
  torch::nn::Linear a(4, 3);
  torch::manual_seed(1);
  torch::nn::Linear b(4, 3);
  auto fa = WeightsFingerprint(*a);
  auto fb = WeightsFingerprint(*b);
  ASSERT_TRUE(fa.ok()) << fa.status();
  ASSERT_TRUE(fb.ok());
  EXPECT_EQ(*fa, *fb);
  {
    torch::NoGradGuard no_grad;
    b->weight[0][0].add_(1e-3);
  }
  EXPECT_NE(*WeightsFingerprint(*b), *fa);
  a->to(torch::kDouble);
  EXPECT_NE(*WeightsFingerprint(*a), *fa);
}

TEST(EncodingCacheTest, StoresAndFindsAnEntryWithItsRecord) {
  EncodingCache cache(FreshDir(), "latents");
  EXPECT_FALSE(cache.Find(kParts, kSpec).has_value());
  ASSERT_TRUE(cache.Store(kParts, Entry(), {{"dreamshot.prompt", "a man"}}).ok());
  auto hit = cache.Find(kParts, kSpec);
  ASSERT_TRUE(hit.has_value());
  EXPECT_TRUE(torch::equal(hit->tensors.at("mean"), Entry().at("mean")));
  EXPECT_TRUE(torch::equal(hit->tensors.at("logvar"), Entry().at("logvar")));
  EXPECT_EQ(hit->record.at("dreamshot.prompt"), "a man");
  EXPECT_EQ(hit->record.at("dreamshot.image_sha256"), "ab12");
  EXPECT_EQ(cache.stats().hits, 1);
  EXPECT_EQ(cache.stats().misses, 1);
  EXPECT_EQ(cache.stats().stored, 1);
  EXPECT_EQ(fs::path(cache.PathOf(kParts)).parent_path().filename().string(), CacheKey(kParts).substr(0, 2));
}

TEST(EncodingCacheTest, DamagedEntriesAreMissesAndAreReplaced) {
  EncodingCache cache(FreshDir(), "latents");
  const std::string path = cache.PathOf(kParts);
  ASSERT_TRUE(cache.Store(kParts, Entry()).ok());
  // Truncated.
  fs::resize_file(path, fs::file_size(path) / 2);
  EXPECT_FALSE(cache.Find(kParts, kSpec).has_value());
  EXPECT_EQ(cache.stats().damaged, 1);
  ASSERT_TRUE(cache.Store(kParts, Entry()).ok());
  EXPECT_TRUE(cache.Find(kParts, kSpec).has_value());
  // Garbage.
  std::ofstream(path, std::ios::trunc) << "not a safetensors file";
  EXPECT_FALSE(cache.Find(kParts, kSpec).has_value());
  EXPECT_EQ(cache.stats().damaged, 2);
  // Another entry's file under this name, and the wrong shape or dtype.
  CacheKeyParts other = kParts;
  other["resolution"] = "72";
  ASSERT_TRUE(cache.Store(other, Entry()).ok());
  fs::copy_file(cache.PathOf(other), path, fs::copy_options::overwrite_existing);
  EXPECT_FALSE(cache.Find(kParts, kSpec).has_value());
  ASSERT_TRUE(cache.Store(kParts, {{"mean", torch::zeros({1, 4, 8, 9})}, {"logvar", torch::zeros({1, 4, 8, 8})}}).ok());
  EXPECT_FALSE(cache.Find(kParts, kSpec).has_value());
  ASSERT_TRUE(cache.Store(kParts, {{"mean", torch::zeros({1, 4, 8, 8}, torch::kDouble)},
                                   {"logvar", torch::zeros({1, 4, 8, 8})}})
                  .ok());
  EXPECT_FALSE(cache.Find(kParts, kSpec).has_value());
  EXPECT_EQ(cache.stats().damaged, 5);
  EXPECT_EQ(cache.stats().hits, 1);
}

}  // namespace
}  // namespace dreamshot::core
