// Class images on the tiny reference model: the missing ones are generated,
// seeded and recorded; a second run (in the same or another class folder)
// reuses them byte for byte; a changed prompt or seed regenerates; the
// folder's own images count first; a cancel leaves only whole files.
#include "trainer/class_images.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "absl/strings/str_format.h"
#include "core/testdata_paths.h"
#include "diffusion/pipeline/generation_record.h"

namespace dreamshot::trainer {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> FilesUnder(const std::string& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class ClassImagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(::testing::TempDir()) + "/class-images-" + std::to_string(::getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    request_.base.path = core::ReferencePath("tiny_sd");
    request_.prompts = {"a close shot"};
    request_.num_class_images = 3;
    request_.class_dir = dir_ + "/class";
    request_.cache_root = dir_ + "/cache";
    request_.seed = 42;
    request_.settings.width = request_.settings.height = 32;
    request_.settings.steps = 2;
    request_.settings.scheduler.name = "ddim";
    request_.settings.batch_size = 2;
  }

  absl::StatusOr<ClassImageResult> Ensure(const ClassImageRequest& request,
                                          const ClassImageProgressFn& on_progress = nullptr,
                                          const core::CancelFlag* cancel = nullptr) {
    return EnsureClassImages(cache_, request, on_progress, cancel);
  }

  diffusion::ModelCache cache_{1LL << 30};
  std::string dir_;
  ClassImageRequest request_;
};

TEST_F(ClassImagesTest, GeneratesTheMissingImagesSeededAndRecorded) {
  std::vector<ClassImageProgress> progress;
  auto result = Ensure(request_, [&](const ClassImageProgress& p) { progress.push_back(p); });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->generated, 3);
  EXPECT_EQ(result->reused, 0);
  EXPECT_EQ(result->from_class_folder, 0);
  EXPECT_EQ(result->model_sha256.size(), 64u);
  ASSERT_EQ(result->images.size(), 3u);
  for (int64_t i = 0; i < 3; ++i) {
    const ClassImage& image = result->images[i];
    EXPECT_EQ(image.source, ClassImageSource::kGenerated);
    EXPECT_EQ(image.seed, ClassImageSeed(42, i));
    EXPECT_EQ(fs::path(image.path).parent_path().string(), request_.class_dir);
    EXPECT_EQ(fs::path(image.path).filename().string().substr(0, 12), absl::StrFormat("class-%05d-", i));
    auto record = diffusion::ParseGenerationParametersText(
        diffusion::GenerationParametersOfPng(ReadAll(image.path)).value());
    ASSERT_TRUE(record.ok()) << record.status();
    EXPECT_EQ(record->prompt, "a close shot");
    EXPECT_EQ(record->seed, image.seed);
    EXPECT_EQ(record->steps, 2);
    EXPECT_EQ(record->model_sha256, result->model_sha256);
    EXPECT_TRUE(cv::imread(image.path).size() == cv::Size(32, 32));
  }
  EXPECT_NE(result->images[0].seed, result->images[1].seed);
  EXPECT_NE(ReadAll(result->images[0].path), ReadAll(result->images[1].path));
  // The cache: a PNG and its sidecar per image, the sidecar naming what made it.
  const std::vector<std::string> cached = FilesUnder(request_.cache_root);
  ASSERT_EQ(cached.size(), 6u);
  ASSERT_EQ(fs::path(cached[0]).extension(), ".json");  // "<key>.json" sorts before "<key>.png"
  ASSERT_EQ(fs::path(cached[1]).replace_extension(".json").string(), cached[0]);
  const std::string sidecar = ReadAll(cached[0]);
  EXPECT_THAT(sidecar, HasSubstr(result->model_sha256));
  EXPECT_THAT(sidecar, HasSubstr("\"prompt\": \"a close shot\""));
  // One bar over the whole request: two batches of two steps (2 + 1 images).
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().generated, 3);
  EXPECT_EQ(progress.back().to_generate, 3);
  EXPECT_EQ(progress.back().steps_done, 4);
  EXPECT_EQ(progress.back().steps_total, 4);
  for (size_t i = 1; i < progress.size(); ++i) EXPECT_GE(progress[i].steps_done, progress[i - 1].steps_done);
}

TEST_F(ClassImagesTest, ASecondRunReusesTheImagesInAnyClassFolder) {
  auto first = Ensure(request_);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = Ensure(request_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->generated, 0);
  EXPECT_EQ(second->reused, 3);
  ClassImageRequest elsewhere = request_;
  elsewhere.class_dir = dir_ + "/another-class-folder";
  auto third = Ensure(elsewhere);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->generated, 0);
  EXPECT_EQ(third->reused, 3);
  ClassImageRequest no_folder = request_;
  no_folder.class_dir = "";
  auto fourth = Ensure(no_folder);
  ASSERT_TRUE(fourth.ok()) << fourth.status();
  EXPECT_EQ(fourth->generated, 0);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(second->images[i].path, first->images[i].path);
    EXPECT_EQ(second->images[i].source, ClassImageSource::kReused);
    EXPECT_EQ(fs::path(third->images[i].path).parent_path().string(), elsewhere.class_dir);
    EXPECT_THAT(fourth->images[i].path, HasSubstr(request_.cache_root));
    const std::string bytes = ReadAll(first->images[i].path);
    EXPECT_EQ(ReadAll(third->images[i].path), bytes);
    EXPECT_EQ(ReadAll(fourth->images[i].path), bytes);
  }
  // More images: only the new slots are generated.
  ClassImageRequest more = request_;
  more.num_class_images = 5;
  auto fifth = Ensure(more);
  ASSERT_TRUE(fifth.ok()) << fifth.status();
  EXPECT_EQ(fifth->generated, 2);
  EXPECT_EQ(fifth->reused, 3);
}

TEST_F(ClassImagesTest, AChangedPromptOrSeedRegenerates) {
  ASSERT_TRUE(Ensure(request_).ok());
  ClassImageRequest other_prompt = request_;
  other_prompt.prompts = {"a long shot"};
  auto prompt = Ensure(other_prompt);
  ASSERT_TRUE(prompt.ok()) << prompt.status();
  EXPECT_EQ(prompt->generated, 3);
  EXPECT_EQ(prompt->ignored.size(), 3u);  // the first run's files, kept but not used
  ClassImageRequest other_seed = request_;
  other_seed.seed = 43;
  auto seed = Ensure(other_seed);
  ASSERT_TRUE(seed.ok()) << seed.status();
  EXPECT_EQ(seed->generated, 3);
  ClassImageRequest other_steps = request_;
  other_steps.settings.steps = 3;
  auto steps = Ensure(other_steps);
  ASSERT_TRUE(steps.ok()) << steps.status();
  EXPECT_EQ(steps->generated, 3);
  // The batch size is not part of what an image is.
  ClassImageRequest other_batch = request_;
  other_batch.settings.batch_size = 1;
  auto batch = Ensure(other_batch);
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->generated, 0);
}

TEST_F(ClassImagesTest, TheFoldersOwnImagesCountFirstAndPromptsCycle) {
  fs::create_directories(request_.class_dir);
  cv::imwrite(request_.class_dir + "/b_photo.png", cv::Mat(40, 40, CV_8UC3, cv::Scalar(1, 2, 3)));
  cv::imwrite(request_.class_dir + "/a_photo.jpg", cv::Mat(40, 40, CV_8UC3, cv::Scalar(3, 2, 1)));
  std::ofstream(request_.class_dir + "/a_photo.txt") << "not an image";
  ClassImageRequest r = request_;
  r.prompts = {"p0", "p1"};
  auto result = Ensure(r);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->from_class_folder, 2);
  EXPECT_EQ(result->generated, 1);
  ASSERT_EQ(result->images.size(), 3u);
  EXPECT_EQ(fs::path(result->images[0].path).filename(), "a_photo.jpg");
  EXPECT_EQ(result->images[0].prompt, "p0");
  EXPECT_EQ(result->images[1].prompt, "p1");
  EXPECT_EQ(result->images[2].prompt, "p0");
  EXPECT_EQ(result->images[2].seed, ClassImageSeed(42, 2));
  EXPECT_EQ(result->Prompted()[1].path, result->images[1].path);
  // Enough images of its own: the model is not even looked at.
  ClassImageRequest enough = r;
  enough.num_class_images = 2;
  enough.base.path = dir_ + "/no-such-model";
  enough.cache_root = "";
  auto own = Ensure(enough);
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_EQ(own->from_class_folder, 2);
  EXPECT_EQ(own->model_sha256, "");
}

TEST_F(ClassImagesTest, ACancelLeavesOnlyWholeImagesAndTheNextRunGoesOn) {
  ClassImageRequest r = request_;
  r.settings.batch_size = 1;
  core::CancelFlag cancel;
  auto cancelled = Ensure(
      r,
      [&](const ClassImageProgress& p) {
        if (p.generated >= 1) cancel.Cancel();
      },
      &cancel);
  ASSERT_EQ(cancelled.status().code(), absl::StatusCode::kCancelled) << cancelled.status();
  const std::vector<std::string> cached = FilesUnder(r.cache_root);
  const std::vector<std::string> linked = FilesUnder(r.class_dir);
  ASSERT_EQ(cached.size(), 2u);  // one PNG and its sidecar
  ASSERT_EQ(linked.size(), 1u);
  for (const std::string& f : cached) EXPECT_THAT(f, ::testing::Not(HasSubstr(".tmp")));
  EXPECT_EQ(ReadAll(linked[0]), ReadAll(cached[1]));  // cached[0] is the sidecar
  auto resumed = Ensure(r);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->reused, 1);
  EXPECT_EQ(resumed->generated, 2);
  // The interrupted run's image is the one an uninterrupted run makes.
  ClassImageRequest fresh = r;
  fresh.class_dir = dir_ + "/fresh";
  fresh.cache_root = dir_ + "/fresh-cache";
  auto uninterrupted = Ensure(fresh);
  ASSERT_TRUE(uninterrupted.ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ReadAll(resumed->images[i].path), ReadAll(uninterrupted->images[i].path)) << "slot " << i;
  }
}

TEST_F(ClassImagesTest, BadRequestsAreRefusedNamingTheField) {
  ClassImageRequest r = request_;
  r.prompts = {};
  EXPECT_THAT(std::string(Ensure(r).status().message()), HasSubstr("needs a class prompt"));
  r.prompts = {"ok", "  "};
  EXPECT_THAT(std::string(Ensure(r).status().message()), HasSubstr("class prompt 1 is blank"));
  r = request_;
  r.num_class_images = -1;
  EXPECT_THAT(std::string(Ensure(r).status().message()), HasSubstr("num_class_images"));
  r = request_;
  r.cache_root = "";
  EXPECT_THAT(std::string(Ensure(r).status().message()), HasSubstr("cache_root"));
  r = request_;
  r.settings.width = 30;
  EXPECT_THAT(std::string(Ensure(r).status().message()), HasSubstr("multiples of 8"));
  r = request_;
  r.settings.scheduler.name = "nonesuch";
  EXPECT_EQ(Ensure(r).status().code(), absl::StatusCode::kInvalidArgument);
  r = request_;
  r.settings.batch_size = 0;
  EXPECT_THAT(std::string(Ensure(r).status().message()), HasSubstr("batch_size"));
  EXPECT_FALSE(fs::exists(request_.cache_root));
  r = request_;
  r.num_class_images = 0;
  r.prompts = {};
  auto none = Ensure(r);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->images.empty());
}

TEST(ClassImageSeedTest, SeedsAre32BitAndDifferAcrossRunSeedsAndSlots) {
  EXPECT_EQ(ClassImageSeed(7, 3), ClassImageSeed(7, 3));
  EXPECT_NE(ClassImageSeed(7, 3), ClassImageSeed(7, 4));
  EXPECT_NE(ClassImageSeed(0, 1), ClassImageSeed(1, 0));
  for (int i = 0; i < 100; ++i) EXPECT_LE(ClassImageSeed(123, i), 0xFFFFFFFFULL);
}

}  // namespace
}  // namespace dreamshot::trainer
