#include "dataset/labels/label_import.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace dreamshot::dataset::labels {
namespace {

const KnownKeys kPool = {"s1", "s2", "s3", "s4", "s5", "films/a/0001.jpg"};

std::vector<std::string> Issues(const std::vector<ImportIssue>& issues) {
  std::vector<std::string> out;
  for (const ImportIssue& i : issues) out.push_back(i.ToString());
  return out;
}

TEST(LabelImportTest, CsvRowsWithCoarseFineAndConfidence) {
  absl::StatusOr<LabelImport> got = ParseLabels(
      "ID,Scale,fine,confidence\n"
      "s1,close,ECS,0.9\n"
      "s2,MS,,\n"                  // fine name in the scale column
      "s3,\"long shot\",FS,1\n"
      "films/a/0001.jpg,LS,,0.25\n",  // keys are matched exactly, whatever they look like
      TableFormat::kCsv, "labels.csv", kPool);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->issues.empty()) << testing::PrintToString(Issues(got->issues));
  ASSERT_EQ(got->labels.size(), 4u);
  EXPECT_EQ(got->labels[0].key, "s1");
  EXPECT_EQ(got->labels[0].label.scale, ShotScale::kClose);
  EXPECT_EQ(got->labels[0].label.fine, FineShotScale::kExtremeClose);
  EXPECT_DOUBLE_EQ(got->labels[0].label.confidence, 0.9);
  EXPECT_EQ(got->labels[0].label.method, "imported:labels.csv");
  EXPECT_EQ(got->labels[0].label.evidence, "labels.csv:2");
  EXPECT_EQ(got->labels[1].label.scale, ShotScale::kMedium);
  EXPECT_EQ(got->labels[1].label.fine, FineShotScale::kMedium);
  EXPECT_DOUBLE_EQ(got->labels[1].label.confidence, 1.0);  // none given
  EXPECT_EQ(got->labels[1].label.evidence, "labels.csv:3 (no confidence given)");
  EXPECT_EQ(got->labels[2].label.fine, FineShotScale::kFull);
  EXPECT_EQ(got->labels[3].label.scale, ShotScale::kLong);
  EXPECT_EQ(got->labels[3].line, 5);
}

TEST(LabelImportTest, BadCsvRowsAreReportedByLineAndTheRestImported) {
  absl::StatusOr<LabelImport> got = ParseLabels(
      "path,scale,confidence\n"
      "films/a/0001.jpg,close,0.8\n"
      "nowhere.jpg,close,\n"
      "films/a/0001.jpg,long,\n"
      ",medium,\n"
      "s1,wide,\n"
      "s2,close,1.7\n"
      "s3,\"close\",0.5,extra\n"
      "s4,\"medium\nshot\",\n"  // a newline inside quotes: not a scale
      "s5,\"long\n",
      TableFormat::kCsv, "labels.csv", kPool);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->labels.size(), 1u);
  EXPECT_EQ(got->labels[0].key, "films/a/0001.jpg");
  EXPECT_EQ(Issues(got->issues),
            (std::vector<std::string>{
                "labels.csv:3: unknown path 'nowhere.jpg' (not in the pool)",
                "labels.csv:4: duplicate path 'films/a/0001.jpg' (first on line 2)",
                "labels.csv:5: no id or path",
                "labels.csv:6: scale 'wide' is not close/medium/long or ECS/CS/MS/FS/LS (unknown labels are not "
                "imported)",
                "labels.csv:7: confidence '1.7' is not a number in [0, 1]",
                "labels.csv:8: has 4 fields, the header has 3 (an unquoted comma in a value?)",
                "labels.csv:9: scale 'medium\nshot' is not close/medium/long or ECS/CS/MS/FS/LS (unknown labels are "
                "not imported)",
                "labels.csv:11: quoted field opened on line 11 is never closed (missing \")",
            }));
}

TEST(LabelImportTest, FineMustAgreeWithScale) {
  absl::StatusOr<LabelImport> got = ParseLabels("id,scale,fine\ns1,close,FS\ns2,CS,ECS\ns3,medium,XL\n",
                                                TableFormat::kCsv, "l.csv", kPool);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_TRUE(got->labels.empty());
  EXPECT_EQ(Issues(got->issues), (std::vector<std::string>{
                                     "l.csv:2: fine 'FS' means long but scale 'close' says close",
                                     "l.csv:3: fine 'ECS' contradicts scale 'CS'",
                                     "l.csv:4: fine 'XL' is not ECS/CS/MS/FS/LS",
                                 }));
}

TEST(LabelImportTest, CsvHeaderWithoutRequiredColumnsFailsTheFile) {
  absl::StatusOr<LabelImport> got = ParseLabels("name,scale\ns1,close\n", TableFormat::kCsv, "l.csv", kPool);
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(got.status().message(), "l.csv:1: header has no column id or path (has: name, scale)");
  EXPECT_EQ(ParseLabels("", TableFormat::kCsv, "l.csv", kPool).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LabelImportTest, JsonlRowsAndMalformedLines) {
  absl::StatusOr<LabelImport> got = ParseLabels(
      "{\"id\": \"s1\", \"scale\": \"close\", \"confidence\": 0.75}\n"
      "\n"
      "{\"id\": \"s2\", \"scale\": \"medium\"\n"  // unterminated object
      "[\"s3\", \"long\"]\n"
      "{\"id\": \"s3\", \"scale\": {\"coarse\": \"long\"}}\n"
      "{\"id\": \"s4\", \"scale\": \"FS\", \"fine\": null}\n"
      "{\"id\": \"zz\", \"scale\": \"long\"}\n"
      "{\"id\": \"s5\", \"scale\": \"long\", \"confidence\": \"high\"}\n",
      TableFormat::kJsonl, "labels.jsonl", kPool);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->labels.size(), 2u);
  EXPECT_EQ(got->labels[0].key, "s1");
  EXPECT_DOUBLE_EQ(got->labels[0].label.confidence, 0.75);
  EXPECT_EQ(got->labels[1].key, "s4");
  EXPECT_EQ(got->labels[1].label.fine, FineShotScale::kFull);
  EXPECT_EQ(got->labels[1].line, 6);
  const std::vector<std::string> issues = Issues(got->issues);
  ASSERT_EQ(issues.size(), 5u) << testing::PrintToString(issues);
  EXPECT_EQ(issues[0].rfind("labels.jsonl:3: invalid JSON: ", 0), 0u) << issues[0];
  EXPECT_EQ(issues[1], "labels.jsonl:4: expected a JSON object, got array");
  EXPECT_EQ(issues[2], "labels.jsonl:5: field \"scale\" is a JSON object, expected a string or number");
  EXPECT_EQ(issues[3], "labels.jsonl:7: unknown id 'zz' (not in the pool)");
  EXPECT_EQ(issues[4], "labels.jsonl:8: confidence 'high' is not a number in [0, 1]");
}

TEST(CaptionImportTest, ShotPhrasesAreStrippedWithAWarning) {
  absl::StatusOr<CaptionImport> got = ParseCaptions(
      "id,caption\n"
      "s1,\"close shot, a man lights a cigarette\"\n"
      "s2,A medium shot of two women at a bar\n"
      "s3,\"Extreme close-up: an eye, trembling\"\n"
      "s4,a close friend waves from a train\n"
      "s5,  \n"
      "zz,a dog\n"
      "s1,again\n",
      TableFormat::kCsv, "captions.csv", kPool);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->captions.size(), 4u);
  EXPECT_EQ(got->captions[0].caption, "a man lights a cigarette");
  EXPECT_EQ(got->captions[0].shot_phrase, "close shot,");
  EXPECT_EQ(got->captions[1].caption, "two women at a bar");
  EXPECT_EQ(got->captions[1].shot_phrase, "A medium shot of");
  EXPECT_EQ(got->captions[2].caption, "an eye, trembling");
  EXPECT_EQ(got->captions[3].caption, "a close friend waves from a train");
  EXPECT_EQ(got->captions[3].shot_phrase, "");
  EXPECT_EQ(Issues(got->issues),
            (std::vector<std::string>{
                "captions.csv:2: warning: caption starts with the shot-type phrase 'close shot,'; removed (training "
                "prompts prepend the pool's shot type)",
                "captions.csv:3: warning: caption starts with the shot-type phrase 'A medium shot of'; removed "
                "(training prompts prepend the pool's shot type)",
                "captions.csv:4: warning: caption starts with the shot-type phrase 'Extreme close-up:'; removed "
                "(training prompts prepend the pool's shot type)",
                "captions.csv:6: empty caption",
                "captions.csv:7: unknown id 'zz' (not in the pool)",
                "captions.csv:8: duplicate id 's1' (first on line 2)",
            }));
}

TEST(CaptionImportTest, JsonlCaptionsAndPhraseOnlyCaptions) {
  absl::StatusOr<CaptionImport> got = ParseCaptions(
      "{\"path\": \"films/a/0001.jpg\", \"caption\": \"a long shot of a desert road\"}\n"
      "{\"id\": \"s2\", \"caption\": \"Close-up.\"}\n"
      "{\"id\": \"s3\", \"caption\": \"\"}\n"
      "{\"id\": \"s4\"}\n",
      TableFormat::kJsonl, "captions.jsonl", kPool);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->captions.size(), 1u);
  EXPECT_EQ(got->captions[0].key, "films/a/0001.jpg");
  EXPECT_EQ(got->captions[0].caption, "a desert road");
  const std::vector<std::string> issues = Issues(got->issues);
  ASSERT_EQ(issues.size(), 4u) << testing::PrintToString(issues);
  EXPECT_EQ(issues[1], "captions.jsonl:2: caption is only a shot-type phrase ('Close-up.')");
  EXPECT_EQ(issues[2], "captions.jsonl:3: empty caption");
  EXPECT_EQ(issues[3], "captions.jsonl:4: empty caption");
}

TEST(CaptionImportTest, ShotPhraseLength) {
  EXPECT_EQ(ShotPhraseLength("medium long shot - a farm"), std::string("medium long shot - ").size());
  EXPECT_EQ(ShotPhraseLength("the wide shot shows a city"), std::string("the wide shot ").size());
  EXPECT_EQ(ShotPhraseLength("closeup of a hand"), std::string("closeup of ").size());
  EXPECT_EQ(ShotPhraseLength("long shots of a river"), std::string("long shots of ").size());
  EXPECT_EQ(ShotPhraseLength("a long road"), 0u);
  EXPECT_EQ(ShotPhraseLength("shot in the dark"), 0u);
  EXPECT_EQ(ShotPhraseLength("closed doors"), 0u);
}

TEST(LabelImportTest, FilesByExtension) {
  const std::string dir = testing::TempDir();
  const std::string csv = dir + "/labels.csv", jsonl = dir + "/captions.jsonl";
  std::ofstream(csv) << "id,scale\ns1,close\n";
  std::ofstream(jsonl) << "{\"id\": \"s1\", \"caption\": \"a cat\"}\n";
  absl::StatusOr<LabelImport> labels = ImportLabels(csv, kPool);
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(labels->labels.size(), 1u);
  EXPECT_EQ(labels->labels[0].label.method, "imported:" + csv);
  absl::StatusOr<CaptionImport> captions = ImportCaptions(jsonl, kPool);
  ASSERT_TRUE(captions.ok()) << captions.status();
  EXPECT_EQ(captions->captions.size(), 1u);
  EXPECT_EQ(ImportLabels(dir + "/missing.csv", kPool).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ImportLabels(dir + "/labels.xlsx", kPool).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dreamshot::dataset::labels
