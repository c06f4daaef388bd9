#include "cli/paired_csv.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace dreamshot::cli {
namespace {

// The error's message, or "" when parsing succeeded.
std::string ErrorOf(const std::string& text) {
  absl::StatusOr<PairedScores> scores = ParsePairedScores(text, "s.csv");
  if (scores.ok()) return "";
  EXPECT_EQ(scores.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(scores.status().message());
}

TEST(ParsePairedScoresTest, ReadsColumnsByNameInAnyOrder) {
  auto scores =
      ParsePairedScores("\xEF\xBB\xBF B , id,note, A\r\n0.5,x1,\"hello, world\",0.25\n\n1e-3,\"x,2\",,-2\n", "s.csv");
  ASSERT_TRUE(scores.ok()) << scores.status();
  ASSERT_EQ(scores->ids.size(), 2u);
  EXPECT_EQ(scores->ids[0], "x1");
  EXPECT_EQ(scores->ids[1], "x,2");
  EXPECT_EQ(scores->a[0], 0.25);
  EXPECT_EQ(scores->b[0], 0.5);
  EXPECT_EQ(scores->a[1], -2.0);
  EXPECT_EQ(scores->b[1], 1e-3);
}

TEST(ParsePairedScoresTest, ErrorsNameLineColumnAndRow) {
  EXPECT_EQ(ErrorOf(""), "s.csv: empty file (expected a header id,a,b and rows)");
  EXPECT_EQ(ErrorOf("id,a,c\n1,2,3\n"), "s.csv:1: the header must name the columns id, a and b; got 'id,a,c'");
  EXPECT_EQ(ErrorOf("id,a,b,A\n"), "s.csv:1: the header names column 'a' twice");
  EXPECT_EQ(ErrorOf("id,a,b\n"), "s.csv:1: no rows after the header");
  EXPECT_EQ(ErrorOf("id,a,b\nx,1,2\ny,1\n"), "s.csv:3: expected 3 fields as in the header, got 2");
  EXPECT_EQ(ErrorOf("id,a,b\nx,1,2\ny,1,abc\n"), "s.csv:3: column b of id 'y' is not a finite number: 'abc'");
  EXPECT_EQ(ErrorOf("id,a,b\nx,,2\n"), "s.csv:2: column a of id 'x' is not a finite number: ''");
  EXPECT_EQ(ErrorOf("id,a,b\nx,nan,2\n"), "s.csv:2: column a of id 'x' is not a finite number: 'nan'");
  EXPECT_EQ(ErrorOf("id,a,b\nx,inf,2\n"), "s.csv:2: column a of id 'x' is not a finite number: 'inf'");
  EXPECT_EQ(ErrorOf("id,a,b\nx,1,2\n\ny,3,4\nx,5,6\n"), "s.csv:5: duplicate id 'x' (first on line 2)");
  EXPECT_EQ(ErrorOf("id,a,b\n ,1,2\n"), "s.csv:2: empty id");
  EXPECT_NE(ErrorOf("id,a,b\n\"x,1,2\n").find("s.csv:2: "), std::string::npos);  // unclosed quote
}

TEST(ReadPairedScoresTest, MissingFileIsNotFound) {
  auto scores = ReadPairedScores("/nonexistent/dir/scores.csv");
  ASSERT_FALSE(scores.ok());
  EXPECT_EQ(scores.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(scores.status().message(), "cannot open /nonexistent/dir/scores.csv");
}

}  // namespace
}  // namespace dreamshot::cli
