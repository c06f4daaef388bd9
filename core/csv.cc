#include "core/csv.h"

#include <utility>

namespace dreamshot::core {

std::string CsvField(absl::string_view value) {
  if (value.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(value);
  std::string quoted = "\"";
  for (char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string CsvRow(absl::Span<const std::string> fields) {
  if (fields.size() == 1 && fields[0].empty()) return "\"\"\n";
  std::string row;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) row += ',';
    row += CsvField(fields[i]);
  }
  row += '\n';
  return row;
}

CsvTable ParseCsv(absl::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  CsvTable table;
  CsvRecord record;
  std::string field;
  int line = 1;
  record.line = 1;
  bool bad = false;            // the current record broke the grammar: skip it
  bool field_started = false;  // something (even "") was read for this record
  size_t i = 0;
  const size_t n = text.size();

  auto end_record = [&](int next_line) {
    // A blank line starts no field; `""` is a record of one empty field.
    if (!bad && field_started) {
      record.fields.push_back(std::move(field));
      table.records.push_back(std::move(record));
    }
    record = CsvRecord{};
    record.line = next_line;
    field.clear();
    bad = false;
    field_started = false;
  };
  auto skip_to_line_end = [&]() {
    while (i < n && text[i] != '\n') ++i;
  };

  while (i < n) {
    const char c = text[i];
    if (c == '"' && field.empty() && !bad) {
      // Quoted field: runs to the next quote not doubled.
      field_started = true;
      const int opened = line;
      ++i;
      bool closed = false;
      while (i < n) {
        if (text[i] == '"') {
          if (i + 1 < n && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        if (text[i] == '\n') ++line;
        if (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') {
          ++i;  // \r\n inside a field is stored as \n
          continue;
        }
        field += text[i++];
      }
      if (!closed) {
        table.errors.push_back({record.line, "quoted field opened on line " + std::to_string(opened) +
                                                 " is never closed (missing \")"});
        bad = true;
        break;
      }
      const bool at_end = i >= n || text[i] == ',' || text[i] == '\n' ||
                          (text[i] == '\r' && (i + 1 == n || text[i + 1] == '\n'));
      if (!at_end) {
        table.errors.push_back({line, "unexpected text after a closing quote (a quote inside a quoted "
                                      "field must be doubled: \"\")"});
        bad = true;
        skip_to_line_end();
      }
      continue;
    }
    if (c == ',') {
      field_started = true;
      record.fields.push_back(std::move(field));
      field.clear();
      ++i;
      continue;
    }
    if (c == '\n' || (c == '\r' && (i + 1 == n || text[i + 1] == '\n'))) {
      i += c == '\r' ? (i + 1 < n ? 2 : 1) : 1;
      ++line;
      end_record(line);
      continue;
    }
    if (!bad) {
      field_started = true;
      field += c;
    }
    ++i;
  }
  end_record(line);
  return table;
}

}  // namespace dreamshot::core
