// RETURN_IF_ERROR / ASSIGN_OR_RETURN for absl::Status and absl::StatusOr.
// Debian's Abseil (20220623) ships neither, so they are defined once here.
#ifndef DREAMSHOT_CORE_STATUS_MACROS_H_
#define DREAMSHOT_CORE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define DS_STATUS_CONCAT_INNER_(a, b) a##b
#define DS_STATUS_CONCAT_(a, b) DS_STATUS_CONCAT_INNER_(a, b)

// Evaluates `expr` (an absl::Status) and returns it from the caller if not OK.
#define RETURN_IF_ERROR(expr)                                  \
  do {                                                         \
    ::absl::Status ds_status_ = (expr);                        \
    if (!ds_status_.ok()) return ds_status_;                   \
  } while (false)

// `ASSIGN_OR_RETURN(auto x, Foo());` declares/assigns x from a StatusOr or
// returns its error from the caller.
#define ASSIGN_OR_RETURN(lhs, expr) \
  DS_ASSIGN_OR_RETURN_IMPL_(DS_STATUS_CONCAT_(ds_statusor_, __LINE__), lhs, expr)

#define DS_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                              \
  if (!statusor.ok()) return statusor.status();        \
  lhs = std::move(statusor).value()

#endif  // DREAMSHOT_CORE_STATUS_MACROS_H_
