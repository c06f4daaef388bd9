#include "parity/tensor_diff.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace dreamshot::parity {

TensorDiff CompareTensors(const at::Tensor& actual, const at::Tensor& expected, double atol, double rtol) {
  TensorDiff diff;
  if (actual.sizes() != expected.sizes()) {
    diff.shapes_match = false;
    diff.within_tolerance = false;
    diff.max_abs_err = std::numeric_limits<double>::infinity();
    diff.where = absl::StrCat("shape [", absl::StrJoin(actual.sizes(), ", "), "] vs expected [",
                              absl::StrJoin(expected.sizes(), ", "), "]");
    return diff;
  }
  if (actual.numel() == 0) return diff;
  const torch::Tensor a = actual.detach().to(torch::kCPU, torch::kDouble);
  const torch::Tensor e = expected.detach().to(torch::kCPU, torch::kDouble);
  torch::Tensor err = (a - e).abs();
  // NaN anywhere is a failure, and is reported as such.
  err = torch::where(torch::isnan(err), torch::full_like(err, std::numeric_limits<double>::infinity()), err);
  const int64_t flat = err.flatten().argmax().item<int64_t>();
  diff.max_abs_err = err.flatten()[flat].item<double>();
  diff.within_tolerance = (err <= atol + rtol * e.abs()).all().item<bool>();
  std::vector<int64_t> index(err.dim());
  int64_t rest = flat;
  for (int64_t d = err.dim() - 1; d >= 0; --d) {
    index[d] = rest % err.size(d);
    rest /= err.size(d);
  }
  diff.where = absl::StrCat("[", absl::StrJoin(index, ", "), "]: got ", a.flatten()[flat].item<double>(),
                            " expected ", e.flatten()[flat].item<double>());
  return diff;
}

}  // namespace dreamshot::parity
