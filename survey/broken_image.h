// The "obviously broken" picture of a broken-image attention check: the
// image cut into a 4 × 4 grid, the tiles moved (none stays in place) and
// every other one colour-inverted. Anyone looking prefers the intact
// picture on every question, so a participant who does not is not looking.
#ifndef DREAMSHOT_SURVEY_BROKEN_IMAGE_H_
#define DREAMSHOT_SURVEY_BROKEN_IMAGE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::survey {

// PNG in, PNG out (same size and channels; text chunks dropped).
// INVALID_ARGUMENT for bytes that are not a PNG or an image under 4 × 4.
// Deterministic.
absl::StatusOr<std::string> BreakImage(absl::string_view png);

}  // namespace dreamshot::survey

#endif  // DREAMSHOT_SURVEY_BROKEN_IMAGE_H_
