// Comparing an output tensor with its upstream reference the way the parity
// cases define it: |actual - expected| <= atol + rtol * |expected| everywhere,
// reporting the largest absolute error and where it is.
#ifndef DREAMSHOT_PARITY_TENSOR_DIFF_H_
#define DREAMSHOT_PARITY_TENSOR_DIFF_H_

#include <ATen/core/Tensor.h>

#include <string>

namespace dreamshot::parity {

struct TensorDiff {
  bool shapes_match = true;
  bool within_tolerance = true;
  double max_abs_err = 0;
  std::string where;  // "[1, 5, 3]: got 0.12 expected 0.11", or the shape mismatch
};

TensorDiff CompareTensors(const at::Tensor& actual, const at::Tensor& expected, double atol, double rtol);

}  // namespace dreamshot::parity

#endif  // DREAMSHOT_PARITY_TENSOR_DIFF_H_
