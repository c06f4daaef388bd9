// CSV as RFC 4180 defines it, for every CSV the project reads or writes
// (dataset manifests, survey answer exports, imported label tables, metric
// uploads): comma-separated fields; a field holding a comma, a quote or a
// line break is double-quoted, with its quotes doubled ("").
#ifndef DREAMSHOT_CORE_CSV_H_
#define DREAMSHOT_CORE_CSV_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace dreamshot::core {

// ----------------------------------------------------------------- writing

// One field: as it is, or quoted when it holds a comma, a quote, CR or LF.
std::string CsvField(absl::string_view value);

// One record: the fields quoted as needed, joined by commas, ended by "\n"
// (RFC 4180 says CRLF; every reader, ours included, takes either, and the
// exports have always ended lines with LF). A record of one empty field is
// written `""`, so that it does not read back as a blank line.
std::string CsvRow(absl::Span<const std::string> fields);

// ----------------------------------------------------------------- reading

struct CsvRecord {
  int line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

struct CsvError {
  int line = 0;  // 1-based line of the record that broke the grammar
  std::string reason;
};

struct CsvTable {
  std::vector<CsvRecord> records;  // blank lines are skipped
  std::vector<CsvError> errors;
};

// Records that break the grammar are reported with their line and skipped,
// so one bad row of an external file does not lose the rest. Accepts \n or
// \r\n line ends and a leading UTF-8 byte-order mark; a \r\n inside a quoted
// field reads as \n. A quote inside an unquoted field is kept literally (as
// Python's csv module does); text after a closing quote (`"a"b`) is an
// error, and so is a quote left open at the end of the text (naming the
// line it was opened on; the records after it are part of the open field).
CsvTable ParseCsv(absl::string_view text);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_CSV_H_
