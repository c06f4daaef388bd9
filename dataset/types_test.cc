#include "dataset/types.h"

#include <gtest/gtest.h>

namespace dreamshot::dataset {
namespace {

TEST(ShotScaleTest, NamesRoundTripAndFiveMapToThree) {
  for (ShotScale s : {ShotScale::kClose, ShotScale::kMedium, ShotScale::kLong, ShotScale::kUnknown}) {
    EXPECT_EQ(ParseShotScale(ShotScaleName(s)), s);
  }
  for (FineShotScale f : {FineShotScale::kExtremeClose, FineShotScale::kClose, FineShotScale::kMedium,
                          FineShotScale::kFull, FineShotScale::kLong, FineShotScale::kUnknown}) {
    EXPECT_EQ(ParseFineShotScale(FineShotScaleName(f)), f);
  }
  EXPECT_EQ(ParseShotScale("Close Shot"), ShotScale::kClose);
  EXPECT_EQ(ParseShotScale("wide"), std::nullopt);
  EXPECT_EQ(CoarseScale(FineShotScale::kExtremeClose), ShotScale::kClose);
  EXPECT_EQ(CoarseScale(FineShotScale::kClose), ShotScale::kClose);
  EXPECT_EQ(CoarseScale(FineShotScale::kMedium), ShotScale::kMedium);
  EXPECT_EQ(CoarseScale(FineShotScale::kFull), ShotScale::kLong);
  EXPECT_EQ(CoarseScale(FineShotScale::kLong), ShotScale::kLong);
}

}  // namespace
}  // namespace dreamshot::dataset
