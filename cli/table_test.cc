#include "cli/table.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace dreamshot::cli {
namespace {

TEST(TableTest, AlignsNumbersRightAndTextLeft) {
  Table table({"ID", "NAME", "VALUE"});
  table.AddRow({"1", "alpha", "0.5"});
  table.AddRow({"12", "b", "nan"});
  EXPECT_EQ(table.Render(),
            "ID  NAME   VALUE\n"
            " 1  alpha    0.5\n"
            "12  b        nan\n");
}

TEST(TableTest, TruncatesLongCellsWithEllipsis) {
  Table table({"K"});
  table.SetMaxWidth(0, 5);
  table.AddRow({"abcdefgh"});
  EXPECT_EQ(table.Render(), "K\nabcd\xE2\x80\xA6\n");
  EXPECT_EQ(DisplayWidth("a\xC2\xB1" "b"), 3u);
  EXPECT_EQ(Truncate("short", 10), "short");
}

TEST(FormatTest, Numbers) {
  EXPECT_EQ(FormatNumber(0.1234567), "0.123457");
  EXPECT_EQ(FormatNumber(1e-7), "1e-07");
  EXPECT_EQ(FormatNumber(std::nan("")), "nan");
  EXPECT_EQ(FormatNumber(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(FormatNumber(8), "8");
}

TEST(FormatTest, DurationsAndBytes) {
  EXPECT_EQ(FormatDuration(850), "850ms");
  EXPECT_EQ(FormatDuration(12345), "12.3s");
  EXPECT_EQ(FormatDuration(187000), "3m07s");
  EXPECT_EQ(FormatDuration(3720000), "1h02m");
  EXPECT_EQ(FormatDuration(-1), "-");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
}

TEST(FormatTest, Times) {
  EXPECT_EQ(FormatTime(0), "-");
  const std::string t = FormatTime(1764079387000);
  EXPECT_EQ(t.size(), 19u) << t;
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[13], ':');
}

TEST(LooksNumericTest, Cases) {
  EXPECT_TRUE(LooksNumeric("-3.5e-4"));
  EXPECT_TRUE(LooksNumeric("12%"));
  EXPECT_TRUE(LooksNumeric("-"));
  EXPECT_FALSE(LooksNumeric("abc"));
  EXPECT_FALSE(LooksNumeric("2026-11-25 14:03:07"));
}

}  // namespace
}  // namespace dreamshot::cli
