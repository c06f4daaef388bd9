// The PNG inputs of the image cases (`images` in cases.json, or else the
// .png entries of `files`; relative to the reference folder), decoded, in
// the listed order.
#ifndef DREAMSHOT_PARITY_CASE_IMAGES_H_
#define DREAMSHOT_PARITY_CASE_IMAGES_H_

#include <vector>

#include "absl/status/statusor.h"
#include "evaluator/image8.h"
#include "parity/case_runner.h"

namespace dreamshot::parity {

absl::StatusOr<std::vector<evaluator::Image8>> ReadCaseImages(const ParityCase& c);

}  // namespace dreamshot::parity

#endif  // DREAMSHOT_PARITY_CASE_IMAGES_H_
