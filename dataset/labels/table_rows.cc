#include "dataset/labels/table_rows.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/csv.h"

namespace dreamshot::dataset::labels {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

absl::StatusOr<Table> ReadCsvTable(absl::string_view text, absl::string_view source,
                                   const std::vector<std::vector<std::string>>& required) {
  core::CsvTable csv = core::ParseCsv(text);
  Table table;
  for (const core::CsvError& e : csv.errors) table.issues.push_back({std::string(source), e.line, e.reason});
  if (csv.records.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ":1: no header row (expected columns like ",
                                                   "id,scale or id,caption)"));
  }
  const core::CsvRecord& header = csv.records.front();
  std::vector<std::string> columns;
  for (const std::string& f : header.fields) columns.push_back(Lower(std::string(absl::StripAsciiWhitespace(f))));
  for (const auto& alternatives : required) {
    const bool found = std::any_of(alternatives.begin(), alternatives.end(), [&](const std::string& a) {
      return std::find(columns.begin(), columns.end(), a) != columns.end();
    });
    if (!found) {
      return absl::InvalidArgumentError(absl::StrCat(source, ":", header.line, ": header has no column ",
                                                     absl::StrJoin(alternatives, " or "), " (has: ",
                                                     absl::StrJoin(columns, ", "), ")"));
    }
  }
  for (size_t r = 1; r < csv.records.size(); ++r) {
    const core::CsvRecord& rec = csv.records[r];
    if (rec.fields.size() != columns.size()) {
      table.issues.push_back({std::string(source), rec.line,
                              absl::StrCat("has ", rec.fields.size(), " fields, the header has ", columns.size(),
                                           " (an unquoted comma in a value?)")});
      continue;
    }
    TableRow row;
    row.line = rec.line;
    for (size_t c = 0; c < columns.size(); ++c) {
      if (!rec.fields[c].empty()) row.fields[columns[c]] = rec.fields[c];
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

Table ReadJsonlTable(absl::string_view text, absl::string_view source) {
  Table table;
  int line = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == absl::string_view::npos) end = text.size();
    ++line;
    const absl::string_view raw = absl::StripAsciiWhitespace(text.substr(start, end - start));
    start = end + 1;
    if (raw.empty()) continue;
    auto issue = [&](std::string reason) { table.issues.push_back({std::string(source), line, std::move(reason)}); };
    nlohmann::json obj;
    try {
      obj = nlohmann::json::parse(raw.begin(), raw.end());
    } catch (const nlohmann::json::exception& e) {
      issue(absl::StrCat("invalid JSON: ", e.what()));
      continue;
    }
    if (!obj.is_object()) {
      issue(absl::StrCat("expected a JSON object, got ", obj.type_name()));
      continue;
    }
    TableRow row;
    row.line = line;
    bool ok = true;
    for (const auto& [key, value] : obj.items()) {
      const std::string name = Lower(key);
      if (value.is_string()) {
        if (!value.get<std::string>().empty()) row.fields[name] = value.get<std::string>();
      } else if (value.is_number() || value.is_boolean()) {
        row.fields[name] = value.dump();
      } else if (!value.is_null()) {
        issue(absl::StrCat("field \"", key, "\" is a JSON ", value.type_name(), ", expected a string or number"));
        ok = false;
        break;
      }
    }
    if (ok) table.rows.push_back(std::move(row));
  }
  return table;
}

}  // namespace

std::string ImportIssue::ToString() const {
  return absl::StrCat(file, ":", line, ": ", severity == Severity::kWarning ? "warning: " : "", reason);
}

std::string TableRow::Get(const std::string& name) const {
  auto it = fields.find(name);
  return it == fields.end() ? std::string() : it->second;
}

absl::StatusOr<Table> ReadTable(absl::string_view text, TableFormat format, absl::string_view source,
                                const std::vector<std::vector<std::string>>& required) {
  if (format == TableFormat::kCsv) return ReadCsvTable(text, source, required);
  return ReadJsonlTable(text, source);
}

absl::StatusOr<TableFormat> FormatFromPath(const std::string& path) {
  const std::string lower = Lower(path);
  auto ends_with = [&](absl::string_view suffix) { return absl::EndsWith(lower, suffix); };
  if (ends_with(".csv")) return TableFormat::kCsv;
  if (ends_with(".jsonl") || ends_with(".ndjson")) return TableFormat::kJsonl;
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": unknown table format (expected .csv, .jsonl or .ndjson)"));
}

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open for reading"));
  std::ostringstream out;
  out << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return out.str();
}

}  // namespace dreamshot::dataset::labels
