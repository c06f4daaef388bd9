// What an unexpected exception may tell a client: one line. LibTorch's
// c10::Error::what() appends a C++ backtrace (frames, library paths and
// memory addresses) to the message, and catch-alls that forward what()
// would hand it to every client; these keep the first line for the client
// and log the whole text server-side. Torch-free: any std::exception.
#ifndef DREAMSHOT_CORE_EXCEPTION_TEXT_H_
#define DREAMSHOT_CORE_EXCEPTION_TEXT_H_

#include <exception>
#include <string>

#include "absl/strings/string_view.h"

namespace dreamshot::core {

// The first line of `what`, trimmed and cut to 300 characters ("…" marks a
// cut); "unknown error" when empty.
std::string OneLineMessage(absl::string_view what);

// Logs e.what() in full (glog, ERROR) with `context` and returns
// OneLineMessage(e.what()) for the client.
std::string ReportUnexpectedException(const std::exception& e, absl::string_view context);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_EXCEPTION_TEXT_H_
