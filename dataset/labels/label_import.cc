#include "dataset/labels/label_import.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <regex>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace dreamshot::dataset::labels {
namespace {

// "close shot, ", "A medium shot of ", "Extreme close-up: ", "medium long
// shot - ". Needs "shot" or "close-up" so "a close friend" is left alone.
std::regex ShotPhraseRegex() {
  return std::regex(
      R"(^\s*(?:(?:a|an|the)\s+)?(?:(?:extreme|very|medium|mid)[\s-]+)?)"
      R"((?:(?:close|medium|mid|long|wide|full|establishing|cowboy)[\s-]*shots?|close[\s-]?ups?)\b)"
      R"((?:\s*(?:of|showing)\b)?[\s,:;.\-]*)",
      std::regex::ECMAScript | std::regex::icase);
}

size_t PhraseLength(absl::string_view caption, const std::regex& re) {
  std::match_results<absl::string_view::const_iterator> m;
  if (!std::regex_search(caption.begin(), caption.end(), m, re)) return 0;
  return size_t(m.length(0));
}

// The row's key (id, else path) checked against the pool and earlier rows;
// nullopt after reporting why the row is dropped.
struct KeyChecker {
  absl::string_view source;
  const KnownKeys& known;
  std::map<std::string, int> first_line;  // key → line that introduced it

  std::optional<std::string> Check(const TableRow& row, std::vector<ImportIssue>* issues) {
    const bool by_id = !row.Get("id").empty();
    const std::string key = std::string(absl::StripAsciiWhitespace(by_id ? row.Get("id") : row.Get("path")));
    const char* what = by_id ? "id" : "path";
    auto drop = [&](std::string reason) {
      issues->push_back({std::string(source), row.line, std::move(reason)});
      return std::nullopt;
    };
    if (key.empty()) return drop("no id or path");
    if (known.count(key) == 0) return drop(absl::StrCat("unknown ", what, " '", key, "' (not in the pool)"));
    auto [it, inserted] = first_line.emplace(key, row.line);
    if (!inserted) return drop(absl::StrCat("duplicate ", what, " '", key, "' (first on line ", it->second, ")"));
    return key;
  }
};

bool ParseConfidence(const std::string& text, double* out) {
  const std::string t(absl::StripAsciiWhitespace(text));
  if (t.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(t.c_str(), &end);
  if (errno != 0 || end != t.c_str() + t.size() || !std::isfinite(v) || v < 0 || v > 1) return false;
  *out = v;
  return true;
}

// Fills label.scale / label.fine from the scale and fine columns, or returns
// why they cannot be read.
std::optional<std::string> ReadScales(const TableRow& row, ScaleLabel* label) {
  const std::string scale(absl::StripAsciiWhitespace(row.Get("scale")));
  const std::string fine(absl::StripAsciiWhitespace(row.Get("fine")));
  if (scale.empty()) return std::string("no scale");
  // ECS/CS/MS/FS/LS name a fine scale too; CS, MS and LS map to the same
  // three-way scale either way.
  if (auto f = ParseFineShotScale(scale); f && *f != FineShotScale::kUnknown) {
    label->fine = *f;
    label->scale = CoarseScale(*f);
  } else if (auto s = ParseShotScale(scale); s && *s != ShotScale::kUnknown) {
    label->scale = *s;
  } else {
    return absl::StrCat("scale '", scale,
                        "' is not close/medium/long or ECS/CS/MS/FS/LS (unknown labels are not imported)");
  }
  if (!fine.empty()) {
    auto f = ParseFineShotScale(fine);
    if (!f || *f == FineShotScale::kUnknown) return absl::StrCat("fine '", fine, "' is not ECS/CS/MS/FS/LS");
    if (CoarseScale(*f) != label->scale) {
      return absl::StrCat("fine '", fine, "' means ", ShotScaleName(CoarseScale(*f)), " but scale '", scale,
                          "' says ", ShotScaleName(label->scale));
    }
    if (label->fine != FineShotScale::kUnknown && label->fine != *f) {
      return absl::StrCat("fine '", fine, "' contradicts scale '", scale, "'");
    }
    label->fine = *f;
  }
  return std::nullopt;
}

}  // namespace

size_t ShotPhraseLength(absl::string_view caption) { return PhraseLength(caption, ShotPhraseRegex()); }

absl::StatusOr<LabelImport> ParseLabels(absl::string_view text, TableFormat format, absl::string_view source,
                                        const KnownKeys& known, const ImportOptions& options) {
  if (!(options.default_confidence >= 0 && options.default_confidence <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("ImportOptions::default_confidence ", options.default_confidence, " is not in [0, 1]"));
  }
  ASSIGN_OR_RETURN(Table table, ReadTable(text, format, source, {{"id", "path"}, {"scale"}}));
  LabelImport out;
  out.issues = std::move(table.issues);
  KeyChecker keys{source, known, {}};
  for (const TableRow& row : table.rows) {
    ScaleLabel label;
    if (auto error = ReadScales(row, &label)) {
      out.issues.push_back({std::string(source), row.line, *error});
      continue;
    }
    label.confidence = options.default_confidence;
    if (const std::string c = row.Get("confidence"); !c.empty() && !ParseConfidence(c, &label.confidence)) {
      out.issues.push_back(
          {std::string(source), row.line, absl::StrCat("confidence '", c, "' is not a number in [0, 1]")});
      continue;
    }
    // The key last, so a row dropped for its scale does not claim its id and
    // hide a later, valid row as a "duplicate".
    std::optional<std::string> key = keys.Check(row, &out.issues);
    if (!key) continue;
    label.method = absl::StrCat("imported:", source);
    label.evidence = absl::StrCat(source, ":", row.line,
                                  row.Get("confidence").empty() ? " (no confidence given)" : "");
    out.labels.push_back({std::move(*key), row.line, std::move(label)});
  }
  std::stable_sort(out.issues.begin(), out.issues.end(),
                   [](const ImportIssue& a, const ImportIssue& b) { return a.line < b.line; });
  return out;
}

absl::StatusOr<CaptionImport> ParseCaptions(absl::string_view text, TableFormat format, absl::string_view source,
                                            const KnownKeys& known) {
  ASSIGN_OR_RETURN(Table table, ReadTable(text, format, source, {{"id", "path"}, {"caption"}}));
  CaptionImport out;
  out.issues = std::move(table.issues);
  KeyChecker keys{source, known, {}};
  const std::regex phrase = ShotPhraseRegex();
  for (const TableRow& row : table.rows) {
    const std::string raw = row.Get("caption");
    std::string caption(absl::StripAsciiWhitespace(raw));
    if (caption.empty()) {
      out.issues.push_back({std::string(source), row.line, "empty caption"});
      continue;
    }
    ImportedCaption c;
    if (const size_t n = PhraseLength(caption, phrase); n > 0) {
      c.shot_phrase = std::string(absl::StripAsciiWhitespace(caption.substr(0, n)));
      caption = std::string(absl::StripAsciiWhitespace(caption.substr(n)));
      if (caption.empty()) {
        out.issues.push_back({std::string(source), row.line,
                              absl::StrCat("caption is only a shot-type phrase ('", c.shot_phrase, "')")});
        continue;
      }
    }
    std::optional<std::string> key = keys.Check(row, &out.issues);
    if (!key) continue;
    if (!c.shot_phrase.empty()) {
      out.issues.push_back({std::string(source), row.line,
                            absl::StrCat("caption starts with the shot-type phrase '", c.shot_phrase,
                                         "'; removed (training prompts prepend the pool's shot type)"),
                            ImportIssue::Severity::kWarning});
    }
    c.key = std::move(*key);
    c.line = row.line;
    c.caption = std::move(caption);
    out.captions.push_back(std::move(c));
  }
  std::stable_sort(out.issues.begin(), out.issues.end(),
                   [](const ImportIssue& a, const ImportIssue& b) { return a.line < b.line; });
  return out;
}

absl::StatusOr<LabelImport> ImportLabels(const std::string& path, const KnownKeys& known,
                                         const ImportOptions& options) {
  ASSIGN_OR_RETURN(TableFormat format, FormatFromPath(path));
  ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  return ParseLabels(text, format, path, known, options);
}

absl::StatusOr<CaptionImport> ImportCaptions(const std::string& path, const KnownKeys& known) {
  ASSIGN_OR_RETURN(TableFormat format, FormatFromPath(path));
  ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  return ParseCaptions(text, format, path, known);
}

}  // namespace dreamshot::dataset::labels
