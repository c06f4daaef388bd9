#include "dataset/manifest.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/csv.h"

namespace dreamshot::dataset {
namespace {

using nlohmann::json;

// Stored JSON fields are ours, but a hand-edited store must not abort an
// export: unparsable text is kept as a string.
json ParsedOrText(const std::string& text) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? json(text) : parsed;
}

std::vector<std::string> SplitsOf(const std::map<int64_t, std::vector<std::string>>& splits, int64_t id) {
  auto it = splits.find(id);
  return it == splits.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace

absl::StatusOr<std::string> ManifestJsonl(const std::vector<experiments::DatasetItem>& items,
                                          const std::map<int64_t, std::vector<std::string>>& splits) {
  std::string out;
  for (const experiments::DatasetItem& d : items) {
    json j = {
        {"id", d.id},
        {"source", d.source},
        {"shot_index", d.shot_index},
        {"start_frame", d.start_frame},
        {"end_frame", d.end_frame},
        {"start_s", d.start_s},
        {"end_s", d.end_s},
        {"keyframe", d.keyframe},
        {"detector", ParsedOrText(d.detector_json.empty() ? "{}" : d.detector_json)},
        {"kept", d.kept},
        {"drop_reasons", ParsedOrText(d.drop_reasons_json)},
        {"phash", d.phash ? json(absl::StrCat(absl::Hex(*d.phash, absl::kZeroPad16))) : json(nullptr)},
        {"crop", {{"x", d.crop_x}, {"y", d.crop_y}, {"width", d.crop_width}, {"height", d.crop_height}}},
        {"image_artifact", d.image_artifact ? json(*d.image_artifact) : json(nullptr)},
        {"scale", d.scale},
        {"fine_scale", d.fine_scale},
        {"scale_confidence", d.scale_confidence},
        {"scale_method", d.scale_method},
        {"scale_evidence", d.scale_evidence},
        {"caption", d.caption},
        {"caption_source", d.caption_source},
        {"splits", SplitsOf(splits, d.id)},
    };
    // Invalid UTF-8 in a path or caption would throw inside dump().
    absl::StrAppend(&out, j.dump(-1, ' ', false, json::error_handler_t::replace), "\n");
  }
  return out;
}

std::string ManifestCsv(const std::vector<experiments::DatasetItem>& items,
                        const std::map<int64_t, std::vector<std::string>>& splits) {
  std::string out =
      "id,source,shot_index,start_frame,end_frame,start_s,end_s,keyframe,kept,drop_reasons,phash,crop_x,crop_y,"
      "crop_width,crop_height,image_artifact,scale,fine_scale,scale_confidence,scale_method,caption,splits\n";
  for (const experiments::DatasetItem& d : items) {
    const std::vector<std::string> fields = {
        absl::StrCat(d.id),
        d.source,
        absl::StrCat(d.shot_index),
        absl::StrCat(d.start_frame),
        absl::StrCat(d.end_frame),
        absl::StrCat(d.start_s),
        absl::StrCat(d.end_s),
        absl::StrCat(d.keyframe),
        d.kept ? "1" : "0",
        d.drop_reasons_json,
        d.phash ? absl::StrCat(absl::Hex(*d.phash, absl::kZeroPad16)) : "",
        absl::StrCat(d.crop_x),
        absl::StrCat(d.crop_y),
        absl::StrCat(d.crop_width),
        absl::StrCat(d.crop_height),
        d.image_artifact ? absl::StrCat(*d.image_artifact) : "",
        d.scale,
        d.fine_scale,
        absl::StrCat(d.scale_confidence),
        d.scale_method,
        d.caption,
        absl::StrJoin(SplitsOf(splits, d.id), ";"),
    };
    out += core::CsvRow(fields);
  }
  return out;
}

}  // namespace dreamshot::dataset
