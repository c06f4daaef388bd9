#include "dataset/sources.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace dreamshot::dataset {
namespace {

namespace fs = std::filesystem;

void Touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

class SourcesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::path(testing::TempDir()) / "sources_test";
    fs::remove_all(root_);
    Touch(root_ / "films" / "b.MKV");
    Touch(root_ / "films" / "a.mp4");
    Touch(root_ / "films" / "notes.txt");
    Touch(root_ / "films" / "stills" / "frame.PNG");
    Touch(root_ / "single.avi");
    Touch(root_ / "odd.bin");
  }
  fs::path root_;
};

TEST(SourceNamesTest, ExtensionsAreCaseInsensitive) {
  EXPECT_TRUE(IsImageFileName("/x/a.JPEG"));
  EXPECT_TRUE(IsVideoFileName("/x/a.Mp4"));
  EXPECT_FALSE(IsVideoFileName("/x/a.png"));
  EXPECT_FALSE(IsImageFileName("/x/a.mp4"));
  EXPECT_FALSE(IsImageFileName("/x/png"));
}

TEST_F(SourcesTest, FoldersAreSearchedRecursivelyAndSorted) {
  auto expanded = ExpandSources({(root_ / "films").string(), (root_ / "single.avi").string()});
  ASSERT_TRUE(expanded.ok()) << expanded.status();
  ASSERT_EQ(expanded->files.size(), 4u);
  EXPECT_EQ(expanded->files[0].path, (root_ / "films" / "a.mp4").string());
  EXPECT_EQ(expanded->files[1].path, (root_ / "films" / "b.MKV").string());
  EXPECT_EQ(expanded->files[2].path, (root_ / "films" / "stills" / "frame.PNG").string());
  EXPECT_TRUE(expanded->files[2].still);
  EXPECT_FALSE(expanded->files[0].still);
  EXPECT_EQ(expanded->files[3].path, (root_ / "single.avi").string());
  ASSERT_EQ(expanded->ignored.size(), 1u);
  EXPECT_EQ(expanded->ignored[0], (root_ / "films" / "notes.txt").string());
}

TEST_F(SourcesTest, APathNamedTwiceIsReadOnce) {
  auto expanded = ExpandSources({(root_ / "films").string(), (root_ / "films" / "a.mp4").string(),
                                 (root_ / "films" / ".." / "films" / "a.mp4").string()});
  ASSERT_TRUE(expanded.ok()) << expanded.status();
  EXPECT_EQ(expanded->files.size(), 3u);
}

TEST_F(SourcesTest, AFileWithAnUnknownExtensionIsTriedAsAVideo) {
  auto expanded = ExpandSources({(root_ / "odd.bin").string()});
  ASSERT_TRUE(expanded.ok()) << expanded.status();
  ASSERT_EQ(expanded->files.size(), 1u);
  EXPECT_FALSE(expanded->files[0].still);
}

TEST_F(SourcesTest, MissingPathsAndEmptyFoldersAreErrors) {
  auto missing = ExpandSources({(root_ / "nope").string()});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope"), std::string::npos);
  fs::create_directories(root_ / "empty");
  Touch(root_ / "empty" / "readme.md");
  auto empty = ExpandSources({(root_ / "empty").string()});
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("1 other files ignored"), std::string::npos);
  EXPECT_EQ(ExpandSources({}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dreamshot::dataset
