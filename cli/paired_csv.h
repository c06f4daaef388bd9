// The input of `dreamshot stats paired`: a CSV of paired scores with a
// header naming the columns id, a and b (any order, any case; other columns
// are ignored), one row per item scored by both systems.
#ifndef DREAMSHOT_CLI_PAIRED_CSV_H_
#define DREAMSHOT_CLI_PAIRED_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::cli {

struct PairedScores {
  std::vector<std::string> ids;
  std::vector<double> a;
  std::vector<double> b;
};

// Parses `text` (core/csv.h grammar: quoted fields, \n or \r\n, a leading
// byte-order mark; blank lines skipped; fields trimmed of spaces). Errors
// (InvalidArgument) start with "SOURCE:LINE: " and name the problem: a CSV
// syntax error, a header without id, a and b (or naming one twice), a row
// with a different number of fields than the header, an empty id, a
// duplicate id (naming the line of its first row), a cell of a or b that is
// not a finite number (naming the column and the row's id), no rows.
absl::StatusOr<PairedScores> ParsePairedScores(absl::string_view text, absl::string_view source);

// Reads and parses the file at `path` ("-": standard input). NotFound when
// the file cannot be opened.
absl::StatusOr<PairedScores> ReadPairedScores(const std::string& path);

}  // namespace dreamshot::cli

#endif  // DREAMSHOT_CLI_PAIRED_CSV_H_
