#include "parity/tensor_diff.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace dreamshot::parity {
namespace {

TEST(TensorDiffTest, ReportsLargestErrorAndItsIndex) {
  torch::Tensor expected = torch::zeros({2, 3});
  torch::Tensor actual = expected.clone();
  actual.index_put_({1, 2}, 0.5);
  actual.index_put_({0, 1}, 1e-6);
  TensorDiff d = CompareTensors(actual, expected, 1e-4, 1e-4);
  EXPECT_FALSE(d.within_tolerance);
  EXPECT_DOUBLE_EQ(d.max_abs_err, 0.5);
  EXPECT_EQ(d.where, "[1, 2]: got 0.5 expected 0");
  actual.index_put_({1, 2}, 0.0);
  EXPECT_TRUE(CompareTensors(actual, expected, 1e-4, 1e-4).within_tolerance);
}

TEST(TensorDiffTest, RelativeToleranceScalesWithExpected) {
  torch::Tensor expected = torch::full({1}, 1000.0);
  EXPECT_TRUE(CompareTensors(expected + 0.05, expected, 1e-4, 1e-4).within_tolerance);
  EXPECT_FALSE(CompareTensors(expected + 0.2, expected, 1e-4, 1e-4).within_tolerance);
}

TEST(TensorDiffTest, ShapeMismatchAndNanFail) {
  TensorDiff shape = CompareTensors(torch::zeros({2}), torch::zeros({3}), 1, 1);
  EXPECT_FALSE(shape.shapes_match);
  EXPECT_FALSE(shape.within_tolerance);
  EXPECT_EQ(shape.where, "shape [2] vs expected [3]");
  torch::Tensor nan = torch::zeros({2});
  nan.index_put_({1}, std::nan(""));
  EXPECT_FALSE(CompareTensors(nan, torch::zeros({2}), 1, 1).within_tolerance);
}

}  // namespace
}  // namespace dreamshot::parity
