#include "survey/results.h"

#include <cmath>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "survey/results_format.h"
#include "survey/statistics.h"

namespace dreamshot::survey {
namespace {

using ::testing::HasSubstr;

// The hand-computed example of docs/survey.md ("Reading the results"):
// base (x) vs lora (y); item 3 has its sides the other way round; item 9 is
// an attention check (identical images, expected "neither").
ResultsInput HandExample() {
  ResultsInput in;
  in.question_keys = {"preference", "shot_type"};
  in.items = {{1, "base", "lora", "close", ""},
              {2, "base", "lora", "long", ""},
              {3, "lora", "base", "long", ""},
              {9, "base", "base", "long", "neither"}};
  auto answer = [&](int64_t p, int64_t item, const char* q0, int64_t ms) {
    in.answers.push_back({p, item, 0, q0, ms});
    in.answers.push_back({p, item, 1, "neither", ms});
  };
  answer(0, 1, "y", 4000);
  answer(0, 2, "y", 6000);
  answer(0, 3, "x", 5000);  // lora: y in the comparison's orientation
  answer(1, 1, "x", 2000);
  answer(1, 2, "neither", 3000);
  answer(1, 3, "y", 10000);  // base: x
  answer(2, 1, "y", 1000);
  answer(2, 2, "y", 8000);
  answer(2, 9, "neither", 500);  // passes its check
  answer(3, 1, "x", 7000);
  answer(3, 9, "x", 700);  // fails it: excluded
  in.participants_joined = 5;
  in.finished = {0, 1, 3};
  return in;
}

ResultsOptions FewResamples() {
  ResultsOptions o;
  o.resamples = 400;
  o.seed = 7;
  return o;
}

const ShareRow& Row(const SurveyResults& r, const std::string& question, const std::string& shot_type) {
  for (const ShareRow& row : r.rows) {
    if (row.question == question && row.shot_type == shot_type) return row;
  }
  ADD_FAILURE() << "no row " << question << "/" << shot_type;
  static ShareRow none;
  return none;
}

TEST(ResultsTest, HandComputedSharesAndTests) {
  auto r = ComputeResults(HandExample(), FewResamples());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->participants_joined, 5);
  EXPECT_EQ(r->participants_answered, 4);
  EXPECT_EQ(r->participants_included, 3);
  EXPECT_EQ(r->excluded_attention, 1);
  // 2 questions × (all, close, long), one comparison.
  ASSERT_EQ(r->rows.size(), 6u);
  EXPECT_EQ(r->rows[0].shot_type, "");
  EXPECT_EQ(r->rows[1].shot_type, "close");
  EXPECT_EQ(r->rows[2].shot_type, "long");

  const ShareRow& all = Row(*r, "preference", "");
  EXPECT_EQ(all.system_x, "base");
  EXPECT_EQ(all.system_y, "lora");
  EXPECT_EQ(all.answers, 8);
  EXPECT_EQ(all.participants, 3);
  EXPECT_EQ(all.x.count, 2);
  EXPECT_EQ(all.y.count, 5);
  EXPECT_EQ(all.neither.count, 1);
  EXPECT_DOUBLE_EQ(all.x.share, 0.25);
  EXPECT_DOUBLE_EQ(all.y.share, 0.625);
  EXPECT_DOUBLE_EQ(all.neither.share, 0.125);
  // 2 vs 5: 2 · (C(7,0) + C(7,1) + C(7,2)) / 2^7 = 58/128.
  EXPECT_NEAR(all.sign_test_p, 58.0 / 128.0, 1e-12);  // log-space beta: ~1e-15 off
  // Majorities: participant 0 lora, 1 base, 2 lora; 1 vs 2 gives p = 1.
  EXPECT_EQ(all.participants_prefer_x, 1);
  EXPECT_EQ(all.participants_prefer_y, 2);
  EXPECT_DOUBLE_EQ(all.participant_sign_test_p, 1.0);

  // The intervals are those of the statistics, fed per participant.
  const Proportion wilson = WilsonInterval(5, 8);
  EXPECT_DOUBLE_EQ(all.y.wilson.low, wilson.low);
  EXPECT_DOUBLE_EQ(all.y.wilson.high, wilson.high);
  auto boot = BootstrapShares({{1, 1, 1}, {0, 2, 0}, {1, 1}}, 3, 400, 7);
  ASSERT_TRUE(boot.ok());
  EXPECT_DOUBLE_EQ(all.x.bootstrap.low, (*boot)[0].low);
  EXPECT_DOUBLE_EQ(all.y.bootstrap.high, (*boot)[1].high);
  EXPECT_DOUBLE_EQ(all.neither.bootstrap.high, (*boot)[2].high);

  const ShareRow& close = Row(*r, "preference", "close");
  EXPECT_EQ(close.answers, 3);
  EXPECT_EQ(close.x.count, 1);
  EXPECT_EQ(close.y.count, 2);
  const ShareRow& long_shots = Row(*r, "preference", "long");
  EXPECT_EQ(long_shots.answers, 5);
  EXPECT_EQ(long_shots.x.count, 1);
  EXPECT_EQ(long_shots.y.count, 3);
  EXPECT_EQ(long_shots.neither.count, 1);

  const ShareRow& shot = Row(*r, "shot_type", "");
  EXPECT_EQ(shot.neither.count, 8);
  EXPECT_DOUBLE_EQ(shot.sign_test_p, 1.0);
}

TEST(ResultsTest, HandComputedAgreementTimeAndAttention) {
  auto r = ComputeResults(HandExample(), FewResamples());
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->agreement.size(), 2u);
  // Items 1 (x1 y2), 2 (y2 n1), 3 (x1 y1): P̄ = (1/3 + 1/3 + 0) / 3 = 2/9,
  // p = (2, 5, 1)/8, P̄e = 15/32, κ = (2/9 − 15/32) / (17/32) = −71/153.
  EXPECT_EQ(r->agreement[0].items, 3);
  EXPECT_EQ(r->agreement[0].ratings, 8);
  ASSERT_TRUE(r->agreement[0].kappa.has_value());
  EXPECT_NEAR(*r->agreement[0].kappa, -71.0 / 153.0, 1e-12);
  // Everyone answered "neither": κ is undefined, and says why.
  EXPECT_FALSE(r->agreement[1].kappa.has_value());
  EXPECT_FALSE(r->agreement[1].note.empty());
  // Two systems: no Bradley–Terry.
  EXPECT_TRUE(r->rankings.empty());
  // Pairs of included participants: 1 2 3 4 5 6 8 10 s.
  EXPECT_EQ(r->timed_pairs, 8);
  EXPECT_DOUBLE_EQ(r->median_seconds_per_pair, 4.5);
  ASSERT_EQ(r->attention.size(), 2u);
  EXPECT_EQ(r->attention[0].participant, 2);
  EXPECT_EQ(r->attention[0].failed, 0);
  EXPECT_FALSE(r->attention[0].excluded);
  EXPECT_EQ(r->attention[1].participant, 3);
  EXPECT_EQ(r->attention[1].checks, 1);
  EXPECT_EQ(r->attention[1].failed, 1);
  EXPECT_TRUE(r->attention[1].excluded);
}

TEST(ResultsTest, ToleratedAttentionFailuresAndFinishedOnly) {
  ResultsOptions lenient = FewResamples();
  lenient.max_attention_failures = 1;
  auto r = ComputeResults(HandExample(), lenient);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->participants_included, 4);
  EXPECT_EQ(Row(*r, "preference", "").x.count, 3);

  ResultsOptions finished = FewResamples();
  finished.finished_only = true;
  r = ComputeResults(HandExample(), finished);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->participants_included, 2);
  EXPECT_EQ(r->excluded_unfinished, 1);
  EXPECT_EQ(r->excluded_attention, 1);
  EXPECT_EQ(Row(*r, "preference", "").answers, 6);
}

TEST(ResultsTest, SameInputSameResultsBitForBit) {
  auto a = ComputeResults(HandExample(), FewResamples());
  auto b = ComputeResults(HandExample(), FewResamples());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(ResultsMarkdown({"s", SurveyStatus::kClosed}, *a), ResultsMarkdown({"s", SurveyStatus::kClosed}, *b));
}

TEST(ResultsTest, BradleyTerryWhenMoreThanTwoSystems) {
  ResultsInput in;
  in.question_keys = {"preference"};
  in.items = {{1, "a", "b", "", ""}, {2, "b", "c", "", ""}, {3, "c", "a", "", ""}};
  // a beats b 3:1, b beats c 2:1 with a tie, a beats c 3:1.
  const char* answers[][3] = {{"x", "x", "y"}, {"x", "y", "y"}, {"x", "neither", "x"}, {"y", "x", "y"}};
  for (int p = 0; p < 4; ++p) {
    for (int item = 1; item <= 3; ++item) in.answers.push_back({p, item, 0, answers[p][item - 1], 1000});
  }
  auto r = ComputeResults(in, FewResamples());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->rows.size(), 3u);  // one per comparison, no shot types
  ASSERT_EQ(r->rankings.size(), 1u);
  ASSERT_EQ(r->rankings[0].systems.size(), 3u) << r->rankings[0].note;
  // The same fit by hand: systems in order of first appearance a, b, c.
  auto expected = BradleyTerryStrengths(3, {{0, 1, 3, 1}, {1, 2, 2.5, 1.5}, {2, 0, 1, 3}});
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(r->rankings[0].systems[0].system, "a");
  EXPECT_NEAR(r->rankings[0].systems[0].strength, (*expected)[0], 1e-9);
  EXPECT_EQ(r->rankings[0].systems[0].comparisons, 8);
  EXPECT_GT(r->rankings[0].systems[0].strength, r->rankings[0].systems[1].strength);
  EXPECT_GT(r->rankings[0].systems[1].strength, r->rankings[0].systems[2].strength);
}

TEST(ResultsTest, BadOptionsAndInputsAreNamed) {
  ResultsOptions o;
  o.resamples = 0;
  EXPECT_THAT(ComputeResults(HandExample(), o).status().message(), HasSubstr("resamples"));
  o = {};
  o.level = 1.0;
  EXPECT_THAT(ComputeResults(HandExample(), o).status().message(), HasSubstr("level"));
  ResultsInput in = HandExample();
  in.answers.push_back({0, 42, 0, "x", 0});
  EXPECT_THAT(ComputeResults(in, FewResamples()).status().message(), HasSubstr("unknown item 42"));
  in = HandExample();
  in.answers.push_back({0, 1, 5, "x", 0});
  EXPECT_THAT(ComputeResults(in, FewResamples()).status().message(), HasSubstr("unknown question 5"));
}

TEST(ResultsTest, NoAnswersYetGivesEmptyShares) {
  ResultsInput in = HandExample();
  in.answers.clear();
  auto r = ComputeResults(in, FewResamples());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Row(*r, "preference", "").answers, 0);
  EXPECT_EQ(r->timed_pairs, 0);
  EXPECT_THAT(ResultsMarkdown({"s", SurveyStatus::kOpen}, *r), HasSubstr("| preference | all | 0 | 0 |"));
}

TEST(ResultsFormatTest, MarkdownTable) {
  auto r = ComputeResults(HandExample(), FewResamples());
  ASSERT_TRUE(r.ok());
  const std::string md = ResultsMarkdown({"shots-v1", SurveyStatus::kClosed}, *r);
  EXPECT_THAT(md, HasSubstr("# Survey results: shots-v1 (closed)"));
  EXPECT_THAT(md, HasSubstr("## base vs lora"));
  EXPECT_THAT(md, HasSubstr("| Question | Shot type | Answers | Participants | base | lora | Neither |"));
  EXPECT_THAT(md, HasSubstr("| preference | all | 8 | 3 | 25.0% ("));
  EXPECT_THAT(md, HasSubstr("| 0.453 | 1 (1:2) |"));
  EXPECT_THAT(md, HasSubstr("| preference | 3 | 8 | -0.464 |"));
  EXPECT_THAT(md, HasSubstr("1 excluded for failing more than 0 attention check(s)"));
  EXPECT_THAT(md, HasSubstr("Median time per pair: 4.5 s over 8 pairs."));
  EXPECT_THAT(md, HasSubstr("1 of 2 participants who met a check passed every one; those who failed one:"));
  EXPECT_THAT(md, HasSubstr("| 3 | 1 | 1 | yes |"));
  EXPECT_THAT(md, ::testing::Not(HasSubstr("| 2 | 1 | 0 | no |")));
}

TEST(ResultsFormatTest, LabelsAreEscaped) {
  ResultsInput in = HandExample();
  for (RatedItem& item : in.items) {
    if (item.label_y == "lora") item.label_y = "<b>lo|ra</b>";
    if (item.label_x == "lora") item.label_x = "<b>lo|ra</b>";
  }
  auto r = ComputeResults(in, FewResamples());
  ASSERT_TRUE(r.ok());
  const std::string html = ResultsHtml({"s&t", SurveyStatus::kOpen}, *r);
  EXPECT_THAT(html, HasSubstr("&lt;b&gt;lo|ra&lt;/b&gt;"));
  EXPECT_THAT(html, HasSubstr("<title>Survey results: s&amp;t</title>"));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("<b>lo")));
  EXPECT_THAT(ResultsMarkdown({"s", SurveyStatus::kOpen}, *r), HasSubstr("| <b>lo\\|ra</b> |"));
}

}  // namespace
}  // namespace dreamshot::survey
