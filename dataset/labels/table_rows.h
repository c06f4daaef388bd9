// Tables produced elsewhere (labels, captions) as rows of named text
// fields, from CSV with a header row or from JSONL (one JSON object per
// line). Malformed lines become issues naming file:line; the caller
// validates the fields.
#ifndef DREAMSHOT_DATASET_LABELS_TABLE_ROWS_H_
#define DREAMSHOT_DATASET_LABELS_TABLE_ROWS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::dataset::labels {

enum class TableFormat { kCsv, kJsonl };

// What went wrong with one line of an imported file. kDropped: the row was
// not imported; kWarning: it was, changed or flagged as `reason` says.
struct ImportIssue {
  enum class Severity { kDropped, kWarning };
  std::string file;
  int line = 0;
  std::string reason;
  Severity severity = Severity::kDropped;
  // "labels.csv:7: unknown id 'x' (not in the pool)"; warnings add "warning: ".
  std::string ToString() const;
};

struct TableRow {
  int line = 0;
  // Lower-cased column (CSV) or key (JSONL) → value; JSON numbers and
  // booleans as their JSON text, null and "" left out.
  std::map<std::string, std::string> fields;

  // The value or "" when absent.
  std::string Get(const std::string& name) const;
};

struct Table {
  std::vector<TableRow> rows;
  std::vector<ImportIssue> issues;
};

// `source` names the file in issues. A CSV header that lacks `required`
// columns is INVALID_ARGUMENT naming source:line (each inner vector is a set
// of alternatives, e.g. {"id", "path"}); in JSONL each row is checked by the
// caller instead.
absl::StatusOr<Table> ReadTable(absl::string_view text, TableFormat format, absl::string_view source,
                                const std::vector<std::vector<std::string>>& required);

// Format from the file name: .csv → CSV, .jsonl/.ndjson → JSONL.
absl::StatusOr<TableFormat> FormatFromPath(const std::string& path);
// The whole file; NOT_FOUND naming it when missing or unreadable.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

}  // namespace dreamshot::dataset::labels

#endif  // DREAMSHOT_DATASET_LABELS_TABLE_ROWS_H_
