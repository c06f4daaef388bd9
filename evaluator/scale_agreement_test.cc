#include "evaluator/scale_agreement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dreamshot::evaluator {
namespace {

using dataset::ShotScale;
using ::testing::HasSubstr;

TEST(ScaleAgreementTest, CountsPerSystemAndScaleWithWilsonIntervals) {
  std::vector<ScaleJudgement> j;
  // base: 1 of 4 close shots judged close, 2 of 2 long.
  for (ShotScale e : {ShotScale::kClose, ShotScale::kMedium, ShotScale::kLong, ShotScale::kUnknown}) {
    j.push_back({"base", ShotScale::kClose, e});
  }
  j.push_back({"base", ShotScale::kLong, ShotScale::kLong});
  j.push_back({"base", ShotScale::kLong, ShotScale::kLong});
  // lora: 3 of 4 close.
  for (ShotScale e : {ShotScale::kClose, ShotScale::kClose, ShotScale::kClose, ShotScale::kMedium}) {
    j.push_back({"lora", ShotScale::kClose, e});
  }
  auto cells = ScaleAgreement(j);
  ASSERT_TRUE(cells.ok()) << cells.status();
  ASSERT_EQ(cells->size(), 5u);
  const AgreementCell& base_close = (*cells)[0];
  EXPECT_EQ(base_close.system, "base");
  EXPECT_EQ(base_close.scale, "close");
  EXPECT_EQ(base_close.agree, 1);
  EXPECT_EQ(base_close.n, 4);  // the unknown estimate counts as a miss
  // Wilson 95% for 1/4, from the formula: (0.25 + z²/8 ∓ z·sqrt(0.25·0.75/4 + z²/64)) / (1 + z²/4).
  EXPECT_NEAR(base_close.share.value, 0.25, 1e-15);
  EXPECT_NEAR(base_close.share.low, 0.04558726, 1e-7);
  EXPECT_NEAR(base_close.share.high, 0.69935816, 1e-7);
  EXPECT_EQ((*cells)[1].scale, "long");
  EXPECT_EQ((*cells)[1].agree, 2);
  EXPECT_EQ((*cells)[2].scale, "all");
  EXPECT_EQ((*cells)[2].agree, 3);
  EXPECT_EQ((*cells)[2].n, 6);
  EXPECT_EQ((*cells)[3].system, "lora");
  EXPECT_EQ((*cells)[3].agree, 3);
  EXPECT_EQ((*cells)[4].scale, "all");
}

TEST(ScaleAgreementTest, BadInputIsNamed) {
  EXPECT_EQ(ScaleAgreement({}).status().code(), absl::StatusCode::kInvalidArgument);
  const ScaleJudgement j[] = {{"base", ShotScale::kClose, ShotScale::kClose},
                              {"lora", ShotScale::kUnknown, ShotScale::kClose}};
  auto r = ScaleAgreement(j);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("judgement 1 (system 'lora') has no requested shot scale"));
}

}  // namespace
}  // namespace dreamshot::evaluator
