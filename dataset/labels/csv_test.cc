#include "dataset/labels/csv.h"

#include <gtest/gtest.h>

namespace dreamshot::dataset::labels {
namespace {

using Fields = std::vector<std::string>;

TEST(CsvTest, QuotedFieldsHoldCommasQuotesAndNewlines) {
  const CsvTable t = ParseCsv(
      "id,caption\r\n"
      "a,\"a man, a plan\"\r\n"
      "b,\"she said \"\"cut\"\"\"\n"
      "c,\"two\nlines\"\n"
      "\n"
      "d,\n"
      "e,\"\"\n");
  EXPECT_TRUE(t.errors.empty());
  ASSERT_EQ(t.records.size(), 6u);
  EXPECT_EQ(t.records[0].fields, (Fields{"id", "caption"}));
  EXPECT_EQ(t.records[1].fields, (Fields{"a", "a man, a plan"}));
  EXPECT_EQ(t.records[2].fields, (Fields{"b", "she said \"cut\""}));
  EXPECT_EQ(t.records[3].fields, (Fields{"c", "two\nlines"}));
  // Records are numbered by the line they start on: the newline inside c's
  // caption and the blank line both count.
  EXPECT_EQ(t.records[3].line, 4);
  EXPECT_EQ(t.records[4].fields, (Fields{"d", ""}));
  EXPECT_EQ(t.records[4].line, 7);
  EXPECT_EQ(t.records[5].fields, (Fields{"e", ""}));
}

TEST(CsvTest, ByteOrderMarkAndMissingFinalNewline) {
  const CsvTable t = ParseCsv("\xEF\xBB\xBFid,scale\nx,close");
  ASSERT_EQ(t.records.size(), 2u);
  EXPECT_EQ(t.records[0].fields, (Fields{"id", "scale"}));
  EXPECT_EQ(t.records[1].fields, (Fields{"x", "close"}));
}

TEST(CsvTest, BadRecordsAreReportedWithTheirLineAndSkipped) {
  const CsvTable t = ParseCsv(
      "id,scale\n"
      "a,\"close\"x\n"   // text after a closing quote
      "b,medium\n"
      "c,\"never closed\n"
      "d,long\n");
  ASSERT_EQ(t.errors.size(), 2u);
  EXPECT_EQ(t.errors[0].line, 2);
  EXPECT_NE(t.errors[0].reason.find("after a closing quote"), std::string::npos);
  EXPECT_EQ(t.errors[1].line, 4);
  EXPECT_NE(t.errors[1].reason.find("never closed"), std::string::npos);
  ASSERT_EQ(t.records.size(), 2u);  // header and b; d is swallowed by c's open quote
  EXPECT_EQ(t.records[1].fields, (Fields{"b", "medium"}));
  EXPECT_EQ(t.records[1].line, 3);
}

TEST(CsvTest, QuoteInsideAnUnquotedFieldIsLiteral) {
  const CsvTable t = ParseCsv("a,5\" screen\n");
  ASSERT_EQ(t.records.size(), 1u);
  EXPECT_EQ(t.records[0].fields, (Fields{"a", "5\" screen"}));
}

}  // namespace
}  // namespace dreamshot::dataset::labels
