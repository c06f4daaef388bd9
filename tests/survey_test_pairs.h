// Stored A/B image pairs for survey tests and benchmarks, the way
// `dreamshot pairs` stores them: a run, two PNG artifacts per pair (side a
// "base", side b "lora"), shot types cycling close, medium, long. Each
// picture is distinct, so a test can tell which artifact it was served.
#ifndef DREAMSHOT_TESTS_SURVEY_TEST_PAIRS_H_
#define DREAMSHOT_TESTS_SURVEY_TEST_PAIRS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "experiments/stores.h"

namespace dreamshot::testing {

struct StoredTestPairs {
  int64_t run_id = 0;
  std::map<int64_t, std::string> png_of_artifact;  // artifact id → PNG bytes
};

// `pairs` pairs of `size` × `size` RGB PNGs; blobs under `artifacts_dir`.
// Uses stores.runs, .artifacts and .pairs.
absl::StatusOr<StoredTestPairs> StoreTestPairs(const experiments::Stores& stores, const std::string& artifacts_dir,
                                               int pairs, int size);

}  // namespace dreamshot::testing

#endif  // DREAMSHOT_TESTS_SURVEY_TEST_PAIRS_H_
