#include "parity/case_io.h"

#include <iostream>

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
  if (!c.spec.Object("atol").ok()) {  // an object: per-output tolerances (OutputTolerance)
    ASSIGN_OR_RETURN(m.atol, c.spec.Double("atol", m.atol));
  }
  ASSIGN_OR_RETURN(m.rtol, c.spec.Double("rtol", m.rtol));
  return m;
}

absl::StatusOr<double> OutputTolerance(const ParityCase& c, const std::string& output) {
  ASSIGN_OR_RETURN(core::JsonConfig atol, c.spec.Object("atol"));
  return atol.Double(output);
}

OutputChecker::OutputChecker(const core::SafetensorsFile& expected, double atol, double rtol)
    : expected_(expected), atol_(atol), rtol_(rtol) {
  result_.tolerance = atol;
}

absl::Status OutputChecker::CheckIfPresent(const std::string& name, const at::Tensor& actual) {
  return CheckIfPresent(name, actual, atol_);
}

absl::Status OutputChecker::CheckIfPresent(const std::string& name, const at::Tensor& actual, double atol) {
  if (!expected_.Contains(name)) return absl::OkStatus();
  ASSIGN_OR_RETURN(at::Tensor want, expected_.Load(name));
  const TensorDiff diff = CompareTensors(actual, want, atol, rtol_);
  ++checked_;
  if (print_each_) {
    std::cout << "  " << name << ": max abs error " << diff.max_abs_err << " (atol " << atol << ")"
              << (diff.within_tolerance ? "" : "  FAIL") << "\n";
  }
  if (diff.max_abs_err >= result_.max_abs_err) {
    result_.max_abs_err = diff.max_abs_err;
    result_.tolerance = atol;
  }
  if (!diff.within_tolerance && result_.passed) {
    result_.passed = false;
    result_.detail = absl::StrCat(name, " ", diff.where);
  }
  return absl::OkStatus();
}

}  // namespace dreamshot::parity
