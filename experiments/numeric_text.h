// Params are stored as text (as given) and, when the text is a plain finite
// number, also as a REAL so that `params.lora_rank >= 8` compares numerically.
#ifndef DREAMSHOT_EXPERIMENTS_NUMERIC_TEXT_H_
#define DREAMSHOT_EXPERIMENTS_NUMERIC_TEXT_H_

#include <optional>

#include "absl/strings/string_view.h"

namespace dreamshot::experiments {

// "8", "-1.5e-4", "0.0001" -> the number; "8 ", "0x10", "inf", "nan", "" -> nullopt.
std::optional<double> ParseNumericText(absl::string_view text);

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_NUMERIC_TEXT_H_
