#include "cli/paired_csv.h"

#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/csv.h"

namespace dreamshot::cli {

absl::StatusOr<PairedScores> ParsePairedScores(absl::string_view text, absl::string_view source) {
  auto error = [&](int line, absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(source, ":", line, ": ", what));
  };
  const core::CsvTable csv = core::ParseCsv(text);
  if (!csv.errors.empty()) return error(csv.errors.front().line, csv.errors.front().reason);
  if (csv.records.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": empty file (expected a header id,a,b and rows)"));
  }

  const core::CsvRecord& header = csv.records.front();
  std::map<std::string, size_t> column;  // "id", "a", "b" -> field index
  for (size_t i = 0; i < header.fields.size(); ++i) {
    const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(header.fields[i]));
    if (name != "id" && name != "a" && name != "b") continue;
    if (!column.emplace(name, i).second)
      return error(header.line, absl::StrCat("the header names column '", name, "' twice"));
  }
  if (column.size() != 3) {
    return error(header.line, absl::StrCat("the header must name the columns id, a and b; got '",
                                           absl::StrJoin(header.fields, ","), "'"));
  }

  PairedScores scores;
  std::map<std::string, int> first_line;  // id -> line of its row
  for (size_t r = 1; r < csv.records.size(); ++r) {
    const core::CsvRecord& record = csv.records[r];
    if (record.fields.size() != header.fields.size()) {
      return error(record.line, absl::StrCat("expected ", header.fields.size(), " fields as in the header, got ",
                                             record.fields.size()));
    }
    const std::string id(absl::StripAsciiWhitespace(record.fields[column["id"]]));
    if (id.empty()) return error(record.line, "empty id");
    if (auto [it, inserted] = first_line.emplace(id, record.line); !inserted) {
      return error(record.line, absl::StrCat("duplicate id '", id, "' (first on line ", it->second, ")"));
    }
    double values[2];
    const char* names[2] = {"a", "b"};
    for (int k = 0; k < 2; ++k) {
      const absl::string_view cell = absl::StripAsciiWhitespace(record.fields[column[names[k]]]);
      if (!absl::SimpleAtod(cell, &values[k]) || !std::isfinite(values[k])) {
        return error(record.line,
                     absl::StrCat("column ", names[k], " of id '", id, "' is not a finite number: '", cell, "'"));
      }
    }
    scores.ids.push_back(id);
    scores.a.push_back(values[0]);
    scores.b.push_back(values[1]);
  }
  if (scores.ids.empty()) {
    return error(header.line, "no rows after the header");
  }
  return scores;
}

absl::StatusOr<PairedScores> ReadPairedScores(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
    in = &file;
  }
  std::ostringstream text;
  text << in->rdbuf();
  if (in->bad()) return absl::InvalidArgumentError(absl::StrCat("error reading ", path));
  return ParsePairedScores(text.str(), path == "-" ? "<stdin>" : path);
}

}  // namespace dreamshot::cli
