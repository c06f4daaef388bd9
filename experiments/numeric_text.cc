#include "experiments/numeric_text.h"

#include <cmath>
#include <string>

#include "absl/strings/numbers.h"

namespace dreamshot::experiments {

std::optional<double> ParseNumericText(absl::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  // Only decimal notation: digits, sign, one dot, exponent.
  for (char c : text) {
    const bool ok = (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' ||
                    c == 'E';
    if (!ok) return std::nullopt;
  }
  double value = 0;
  if (!absl::SimpleAtod(text, &value) || !std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace dreamshot::experiments
