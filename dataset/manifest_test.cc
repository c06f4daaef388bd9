#include "dataset/manifest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/csv.h"

namespace dreamshot::dataset {
namespace {

experiments::DatasetItem Item() {
  experiments::DatasetItem d;
  d.id = 7;
  d.source = "films/a, b.mkv";
  d.shot_index = 3;
  d.start_frame = 120;
  d.end_frame = 240;
  d.start_s = 5.005;
  d.end_s = 10.01;
  d.keyframe = 181;
  d.detector_json = R"({"name":"content","threshold":27})";
  d.phash = 0xF00000000000000Aull;
  d.crop_x = 0;
  d.crop_y = 60;
  d.crop_width = 1920;
  d.crop_height = 960;
  d.scale = "close";
  d.fine_scale = "CS";
  d.scale_confidence = 0.8;
  d.scale_method = "faces";
  d.caption = "a man says \"hello\"\nand leaves";
  return d;
}

TEST(ManifestTest, JsonlCarriesEveryFieldWithNestedJson) {
  auto jsonl = ManifestJsonl({Item()}, {{7, {"train/close"}}});
  ASSERT_TRUE(jsonl.ok());
  const auto j = nlohmann::json::parse(jsonl->substr(0, jsonl->find('\n')));
  EXPECT_EQ(j["source"], "films/a, b.mkv");
  EXPECT_EQ(j["detector"]["threshold"], 27);
  EXPECT_EQ(j["phash"], "f00000000000000a");
  EXPECT_EQ(j["crop"]["height"], 960);
  EXPECT_EQ(j["image_artifact"], nullptr);
  EXPECT_EQ(j["splits"][0], "train/close");
  EXPECT_EQ(j["caption"], "a man says \"hello\"\nand leaves");
  EXPECT_EQ(std::count(jsonl->begin(), jsonl->end(), '\n'), 1);
}

TEST(ManifestTest, CsvQuotesFieldsThatNeedIt) {
  const std::string csv = ManifestCsv({Item()});
  EXPECT_NE(csv.find("\"films/a, b.mkv\""), std::string::npos);
  EXPECT_NE(csv.find("\"a man says \"\"hello\"\"\nand leaves\""), std::string::npos);
  // Read back with the project's CSV reader: one header, one record, every
  // field where the header says.
  const core::CsvTable table = core::ParseCsv(csv);
  ASSERT_TRUE(table.errors.empty());
  ASSERT_EQ(table.records.size(), 2u);
  const std::vector<std::string>& header = table.records[0].fields;
  const std::vector<std::string>& row = table.records[1].fields;
  ASSERT_EQ(row.size(), header.size());
  auto column = [&](const std::string& name) {
    return row[std::find(header.begin(), header.end(), name) - header.begin()];
  };
  EXPECT_EQ(column("source"), "films/a, b.mkv");
  EXPECT_EQ(column("caption"), "a man says \"hello\"\nand leaves");
  EXPECT_EQ(column("scale"), "close");
}

}  // namespace
}  // namespace dreamshot::dataset
