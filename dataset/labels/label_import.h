// Shot-scale labels and captions produced outside DreamShot (annotators, an
// external classifier or captioner), imported into a shot pool.
//
// Files: CSV with a header row, or JSONL with one object per line, using the
// same names (case-insensitive):
//   labels:   id or path, scale, [fine], [confidence]
//   captions: id or path, caption
// `scale` is close / medium / long (also "close shot", CS, MS, LS) or one of
// the five fine scales ECS / CS / MS / FS / LS, which then also sets the fine
// scale; `fine` must agree with `scale` (ECS, CS → close; MS → medium;
// FS, LS → long). `confidence` is in [0, 1]; when absent the producer gave
// none and ImportOptions::default_confidence (1.0: taken as asserted) is
// recorded. Imported labels are still estimates, not ground truth: human
// annotators agree on shot scale only moderately (CineScale: Fleiss' κ 0.64).
//
// Rows are keyed by `id` when present, else `path`, and must name a member of
// the pool (`known`, matched exactly). Bad rows — unknown keys, duplicates
// (the first row wins), unparseable scales or confidences, empty captions,
// malformed CSV/JSON — are reported per line (file:line: reason) and left
// out; the valid rows are returned. Only an unreadable file, an unknown
// extension or a CSV header missing a required column fail the whole import.
//
// Captions that begin with a shot-type phrase ("close shot, ...", "a medium
// shot of ...", "Extreme close-up: ...") have the phrase STRIPPED, and a
// warning is reported: at training time the prompt is built as "<shot type>
// shot, <caption>" from the pool's label, so a phrase left in the caption
// would be said twice, or contradict the label. The stripped phrase is kept
// in ImportedCaption::shot_phrase for inspection.
#ifndef DREAMSHOT_DATASET_LABELS_LABEL_IMPORT_H_
#define DREAMSHOT_DATASET_LABELS_LABEL_IMPORT_H_

#include <string>
#include <unordered_set>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "dataset/labels/table_rows.h"
#include "dataset/types.h"

namespace dreamshot::dataset::labels {

using KnownKeys = std::unordered_set<std::string>;

struct ImportOptions {
  double default_confidence = 1.0;  // for rows without a confidence
};

struct ImportedLabel {
  std::string key;  // the row's id, or its path
  int line = 0;
  ScaleLabel label;  // method "imported:<file>", evidence "<file>:<line>"
};

struct LabelImport {
  std::vector<ImportedLabel> labels;
  std::vector<ImportIssue> issues;
};

struct ImportedCaption {
  std::string key;
  int line = 0;
  std::string caption;      // whitespace-trimmed, shot-type phrase removed
  std::string shot_phrase;  // the removed phrase ("" when none), e.g. "A medium shot of"
};

struct CaptionImport {
  std::vector<ImportedCaption> captions;
  std::vector<ImportIssue> issues;
};

// From a file; the format from its extension (.csv, .jsonl, .ndjson).
absl::StatusOr<LabelImport> ImportLabels(const std::string& path, const KnownKeys& known,
                                         const ImportOptions& options = {});
absl::StatusOr<CaptionImport> ImportCaptions(const std::string& path, const KnownKeys& known);

// From text already read; `source` names the file in issues.
absl::StatusOr<LabelImport> ParseLabels(absl::string_view text, TableFormat format, absl::string_view source,
                                        const KnownKeys& known, const ImportOptions& options = {});
absl::StatusOr<CaptionImport> ParseCaptions(absl::string_view text, TableFormat format, absl::string_view source,
                                            const KnownKeys& known);

// The length of the shot-type phrase that opens `caption`, with the
// punctuation and spaces after it ("close shot, " / "a medium shot of "), or
// 0. A phrase needs "shot" or "close-up" ("a close friend" is not one).
size_t ShotPhraseLength(absl::string_view caption);

}  // namespace dreamshot::dataset::labels

#endif  // DREAMSHOT_DATASET_LABELS_LABEL_IMPORT_H_
