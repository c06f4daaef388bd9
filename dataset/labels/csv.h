// RFC 4180 CSV: comma-separated fields, double-quoted fields may hold commas,
// newlines and doubled quotes (""). Records that break the grammar are
// reported with their line and skipped, so one bad row of an external file
// does not lose the rest.
#ifndef DREAMSHOT_DATASET_LABELS_CSV_H_
#define DREAMSHOT_DATASET_LABELS_CSV_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace dreamshot::dataset::labels {

struct CsvRecord {
  int line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

struct CsvError {
  int line = 0;
  std::string reason;
};

struct CsvTable {
  std::vector<CsvRecord> records;  // blank lines are skipped
  std::vector<CsvError> errors;
};

// Accepts \n or \r\n line ends and a leading UTF-8 byte-order mark. A quote
// inside an unquoted field is kept literally (as Python's csv module does);
// text after a closing quote (`"a"b`) and a quote left open at the end of
// the text are errors.
CsvTable ParseCsv(absl::string_view text);

}  // namespace dreamshot::dataset::labels

#endif  // DREAMSHOT_DATASET_LABELS_CSV_H_
