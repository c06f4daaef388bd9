#include "diffusion/pipeline/model_cache.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/testdata_paths.h"

namespace dreamshot::diffusion {
namespace {

namespace fs = std::filesystem;

std::string TinySd() { return core::ReferencePath("tiny_sd"); }

// A copy of the tiny model under the test's temporary folder.
std::string CopyOfTinySd(const std::string& name) {
  const fs::path dst = fs::path(std::getenv("TEST_TMPDIR")) / name;
  fs::remove_all(dst);
  fs::copy(TinySd(), dst, fs::copy_options::recursive);
  return dst.string();
}

core::DeviceSpec Bf16() {
  core::DeviceSpec spec;
  spec.dtype = c10::kBFloat16;
  return spec;
}

TEST(ModelCacheTest, TheSameContentIsLoadedOnceWhateverItsPath) {
  ModelCache cache(int64_t{1} << 30);
  auto a = cache.Get({TinySd(), "", {}});
  ASSERT_TRUE(a.ok()) << a.status();
  auto b = cache.Get({CopyOfTinySd("copy"), "", {}});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(cache.stats().loads, 1);
  EXPECT_EQ(cache.stats().hits, 1);
  EXPECT_EQ(cache.stats().resident_bytes, ParameterBytes(**a));
  // Another dtype is another entry.
  auto c = cache.Get({TinySd(), "", Bf16()});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_NE(a->get(), c->get());
  EXPECT_EQ(cache.stats().loads, 2);
}

TEST(ModelCacheTest, ChangedFilesAreAnotherModel) {
  ModelCache cache(int64_t{1} << 30);
  const std::string copy = CopyOfTinySd("changed");
  const std::string before = cache.ContentHash(copy, "").value();
  EXPECT_EQ(before, cache.ContentHash(TinySd(), "").value());
  std::ofstream(copy + "/unet/config.json", std::ios::app) << "\n";
  EXPECT_NE(cache.ContentHash(copy, "").value(), before);
}

TEST(ModelCacheTest, IdleModelsAreEvictedPastTheBudgetHeldOnesAreNot) {
  const int64_t one = [] {
    ModelCache probe(int64_t{1} << 30);
    return ParameterBytes(**probe.Get({TinySd(), "", {}}));
  }();
  ModelCache cache(one + one / 4);  // room for one float32 copy and a bit
  {
    auto held = cache.Get({TinySd(), "", {}}).value();
    auto other = cache.Get({TinySd(), "", Bf16()});  // does not fit, but `held` is in use
    ASSERT_TRUE(other.ok());
    EXPECT_EQ(cache.stats().evictions, 0);
    EXPECT_EQ(cache.stats().entries, 2);
  }
  // Both idle now: loading a third model drops the least recently used.
  const std::string third_path = CopyOfTinySd("third");
  std::ofstream(third_path + "/vae/config.json", std::ios::app) << "\n";  // other content: another model
  auto third = cache.Get({third_path, "", {}});
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(cache.stats().loads, 3);
  EXPECT_GE(cache.stats().evictions, 1);
  EXPECT_LE(cache.stats().resident_bytes, one + one / 4);
}

TEST(ModelCacheTest, ConcurrentRequestsLoadOnce) {
  ModelCache cache(int64_t{1} << 30);
  std::shared_ptr<StableDiffusionModels> a, b;
  std::thread t1([&] { a = cache.Get({TinySd(), "", {}}).value(); });
  std::thread t2([&] { b = cache.Get({TinySd(), "", {}}).value(); });
  t1.join();
  t2.join();
  EXPECT_EQ(a.get(), b.get());
  EXPECT_EQ(cache.stats().loads, 1);
}

TEST(ModelCacheTest, FailuresNameThePathAndAreNotCached) {
  ModelCache cache(int64_t{1} << 30);
  auto missing = cache.Get({"/nonexistent/model", "", {}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/model"), std::string::npos) << missing.status();
  const std::string broken = CopyOfTinySd("broken");
  fs::remove(broken + "/unet/diffusion_pytorch_model.safetensors");
  EXPECT_FALSE(cache.Get({broken, "", {}}).ok());
  EXPECT_EQ(cache.stats().entries, 0);
}

}  // namespace
}  // namespace dreamshot::diffusion
