// Plain-text output: aligned tables and the formatting of times, durations,
// sizes and numbers that every `dreamshot` command shares.
#ifndef DREAMSHOT_CLI_TABLE_H_
#define DREAMSHOT_CLI_TABLE_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace dreamshot::cli {

// A table with a header row. Columns are separated by two spaces; a column
// whose cells all look numeric ("-" and "" count as numeric) is right-aligned
// unless its alignment is set. Cells wider than the column's limit (default
// kDefaultMaxWidth display columns) are cut and end in "…". Widths count
// UTF-8 code points, so "±" and "…" are one column each.
class Table {
 public:
  enum class Align { kAuto, kLeft, kRight };
  static constexpr size_t kDefaultMaxWidth = 48;

  explicit Table(std::vector<std::string> header);

  void SetAlign(size_t column, Align align);
  void SetMaxWidth(size_t column, size_t width);  // 0: never truncate
  // Missing cells are blank; extra cells are an error of the caller (dropped).
  void AddRow(std::vector<std::string> cells);

  size_t rows() const { return rows_.size(); }
  // The rendered table, one line per row, each ending in '\n' and without
  // trailing spaces.
  std::string Render() const;

 private:
  std::vector<std::string> header_;
  std::vector<Align> align_;
  std::vector<size_t> max_width_;
  std::vector<std::vector<std::string>> rows_;
};

// Number of display columns of UTF-8 text (code points).
size_t DisplayWidth(absl::string_view text);
// Cuts text to at most `width` display columns, ending in "…" when cut.
std::string Truncate(absl::string_view text, size_t width);
// True for text such as "12", "-3.5", "1e-4", "nan", "inf", "12.5%".
bool LooksNumeric(absl::string_view text);

// ms since the Unix epoch -> local time "2026-11-25 14:03:07"; 0 -> "-".
std::string FormatTime(int64_t ms_since_epoch);
// A duration: "850ms", "12.3s", "3m07s", "1h02m", "2d03h"; negative -> "-".
std::string FormatDuration(int64_t ms);
// A double in %.6g style; NaN -> "nan", infinities -> "inf" / "-inf".
std::string FormatNumber(double value);
// A byte count: "512 B", "1.5 KiB", "12.0 MiB".
std::string FormatBytes(int64_t bytes);

}  // namespace dreamshot::cli

#endif  // DREAMSHOT_CLI_TABLE_H_
