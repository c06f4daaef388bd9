// What the model case runners share: opening a case's model folder, its
// first case file and tolerances, and folding output comparisons into one
// CaseResult (the largest error; the first failing output and where).
#ifndef DREAMSHOT_PARITY_CASE_IO_H_
#define DREAMSHOT_PARITY_CASE_IO_H_

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/safetensors.h"
#include "parity/case_runner.h"

namespace dreamshot::parity {

struct ModelCase {
  std::string model_folder;  // absolute: reference_dir/<model>
  std::vector<std::string> files;
  double atol = 1e-4;
  double rtol = 1e-4;
};

// Reads `model`, `files` (at least one), `atol`, `rtol` of a case. When
// `atol` is an object of per-output tolerances ({"pixel_values": 1e-05,
// "embeds": 1e-05}), m.atol keeps its default and the runner reads each
// with OutputTolerance.
absl::StatusOr<ModelCase> ReadModelCase(const ParityCase& c);

// atol[`output`] of a case whose atol is an object (INVALID_ARGUMENT when
// missing, naming the case).
absl::StatusOr<double> OutputTolerance(const ParityCase& c, const std::string& output);

class OutputChecker {
 public:
  OutputChecker(const core::SafetensorsFile& expected, double atol, double rtol);
  // Compares `actual` with the reference tensor `name`; a reference set that
  // lacks `name` (an optional debug output) is skipped.
  absl::Status CheckIfPresent(const std::string& name, const at::Tensor& actual);
  // The same with this output's own atol (reported as the case's tolerance
  // when this output has the largest error).
  absl::Status CheckIfPresent(const std::string& name, const at::Tensor& actual, double atol);
  // Also prints "  <name>: max abs error E (atol T)" per output checked, as
  // the cases with many outputs of different tolerances do.
  void set_print_each(bool print) { print_each_ = print; }
  int checked() const { return checked_; }
  const CaseResult& result() const { return result_; }

 private:
  const core::SafetensorsFile& expected_;
  double atol_, rtol_;
  int checked_ = 0;
  bool print_each_ = false;
  CaseResult result_;
};

}  // namespace dreamshot::parity

#endif  // DREAMSHOT_PARITY_CASE_IO_H_
