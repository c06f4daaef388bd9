// The parity runner's vocabulary: a case from a reference folder's
// cases.json, the result of running it, and the table of case kinds this
// build implements. Later issues add their kinds to the table in
// case_registry.cc.
#ifndef DREAMSHOT_PARITY_CASE_RUNNER_H_
#define DREAMSHOT_PARITY_CASE_RUNNER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/device.h"
#include "core/json_config.h"

namespace dreamshot::parity {

struct ParityCase {
  std::string name;            // also its kind, e.g. "clip_text_model"
  std::string reference_dir;   // the folder holding cases.json
  core::JsonConfig spec;       // the case's entry in cases.json
  std::string Path(const std::string& relative) const { return reference_dir + "/" + relative; }
};

struct CaseResult {
  bool passed = true;
  double max_abs_err = 0;
  double tolerance = 0;        // atol the case was checked with
  std::string detail;          // which output and where, on failure
};

struct RunOptions {
  core::DeviceSpec device;     // cpu/float32 unless asked otherwise
};

// A runner checks every output of its case and merges them into one result.
using CaseRunnerFn = absl::StatusOr<CaseResult> (*)(const ParityCase&, const RunOptions&);

// nullptr when this build does not implement the case's kind (yet).
CaseRunnerFn FindRunner(const std::string& case_name);

// Reads cases.json of `reference_dir`.
absl::StatusOr<std::vector<ParityCase>> ReadCases(const std::string& reference_dir);

}  // namespace dreamshot::parity

#endif  // DREAMSHOT_PARITY_CASE_RUNNER_H_
