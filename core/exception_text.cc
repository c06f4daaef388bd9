#include "core/exception_text.h"

#include <glog/logging.h>

#include "absl/strings/ascii.h"

namespace dreamshot::core {

std::string OneLineMessage(absl::string_view what) {
  constexpr size_t kMaxLength = 300;
  absl::string_view line = what.substr(0, what.find_first_of("\r\n"));
  line = absl::StripAsciiWhitespace(line);
  if (line.empty()) return "unknown error";
  if (line.size() <= kMaxLength) return std::string(line);
  return std::string(line.substr(0, kMaxLength)) + "…";
}

std::string ReportUnexpectedException(const std::exception& e, absl::string_view context) {
  LOG(ERROR) << context << ": " << e.what();
  return OneLineMessage(e.what());
}

}  // namespace dreamshot::core
