#include "core/csv.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace dreamshot::core {
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

TEST(CsvTest, CrLfAndLfEndRecordsAlike) {
  const CsvTable t = ParseCsv("a,b\r\nc,d\ne,f\r\n");
  EXPECT_TRUE(t.errors.empty());
  ASSERT_EQ(t.records.size(), 3u);
  EXPECT_EQ(t.records[1].fields, (Fields{"c", "d"}));
  EXPECT_EQ(t.records[2].fields, (Fields{"e", "f"}));
  EXPECT_EQ(t.records[2].line, 3);
}

TEST(CsvTest, LineBreaksInsideQuotes) {
  // CRLF inside a quoted field reads as LF; a lone CR is kept.
  const CsvTable t = ParseCsv("\"one\r\ntwo\",\"cr\ronly\"\r\nnext,x\r\n");
  EXPECT_TRUE(t.errors.empty());
  ASSERT_EQ(t.records.size(), 2u);
  EXPECT_EQ(t.records[0].fields, (Fields{"one\ntwo", "cr\ronly"}));
  EXPECT_EQ(t.records[1].line, 3);
}

TEST(CsvTest, UnterminatedQuoteNamesTheLineItOpenedOn) {
  const CsvTable t = ParseCsv("id,caption\nx,ok\ny,\"runs on\nand on\n");
  ASSERT_EQ(t.errors.size(), 1u);
  EXPECT_EQ(t.errors[0].line, 3);
  EXPECT_EQ(t.errors[0].reason, "quoted field opened on line 3 is never closed (missing \")");
  ASSERT_EQ(t.records.size(), 2u);
  EXPECT_EQ(t.records[1].fields, (Fields{"x", "ok"}));
}

TEST(CsvWriterTest, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField(" spaced "), " spaced ");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("a\"b"), "\"a\"\"b\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
  EXPECT_EQ(CsvRow({"1", "a, b", "", "say \"hi\""}), "1,\"a, b\",,\"say \"\"hi\"\"\"\n");
  EXPECT_EQ(CsvRow({""}), "\"\"\n");
}

TEST(CsvWriterTest, WhatIsWrittenReadsBack) {
  const std::vector<Fields> rows = {
      {"id", "caption", "splits"},
      {"1", "a man, a plan", "train;test"},
      {"2", "she said \"cut\"\nand left", ""},
      {"3", "", "\"quoted\""},
      {""},
      {"5", " leading and trailing ", "5\" screen"},
  };
  std::string text;
  for (const Fields& row : rows) text += CsvRow(row);
  const CsvTable t = ParseCsv(text);
  EXPECT_TRUE(t.errors.empty());
  ASSERT_EQ(t.records.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(t.records[i].fields, rows[i]) << i;
  EXPECT_EQ(t.records[3].line, 5);  // the caption's newline counts
}

}  // namespace
}  // namespace dreamshot::core
