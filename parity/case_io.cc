#include "parity/case_io.h"

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "parity/tensor_diff.h"

namespace dreamshot::parity {

absl::StatusOr<ModelCase> ReadModelCase(const ParityCase& c) {
  ModelCase m;
  ASSIGN_OR_RETURN(std::string model_dir, c.spec.String("model"));
  m.model_folder = c.Path(model_dir);
  ASSIGN_OR_RETURN(m.files, c.spec.StringList("files"));
  if (m.files.empty()) return absl::InvalidArgumentError(absl::StrCat(c.name, ": no files listed"));
  ASSIGN_OR_RETURN(m.atol, c.spec.Double("atol", m.atol));
  ASSIGN_OR_RETURN(m.rtol, c.spec.Double("rtol", m.rtol));
  return m;
}

OutputChecker::OutputChecker(const core::SafetensorsFile& expected, double atol, double rtol)
    : expected_(expected), atol_(atol), rtol_(rtol) {
  result_.tolerance = atol;
}

absl::Status OutputChecker::CheckIfPresent(const std::string& name, const at::Tensor& actual) {
  if (!expected_.Contains(name)) return absl::OkStatus();
  ASSIGN_OR_RETURN(at::Tensor want, expected_.Load(name));
  const TensorDiff diff = CompareTensors(actual, want, atol_, rtol_);
  ++checked_;
  if (diff.max_abs_err >= result_.max_abs_err) result_.max_abs_err = diff.max_abs_err;
  if (!diff.within_tolerance && result_.passed) {
    result_.passed = false;
    result_.detail = absl::StrCat(name, " ", diff.where);
  }
  return absl::OkStatus();
}

}  // namespace dreamshot::parity
