#include "trainer/pool_images.h"

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/sha256.h"
#include "core/status_macros.h"

namespace dreamshot::trainer {
namespace {

absl::StatusOr<std::string> FilePath(const experiments::Artifact& artifact) {
  constexpr absl::string_view kScheme = "file://";
  if (!absl::StartsWith(artifact.uri, kScheme)) {
    return absl::FailedPreconditionError(
        absl::StrCat("artifact ", artifact.id, " (", artifact.path, ") is not a local file: ", artifact.uri));
  }
  return artifact.uri.substr(kScheme.size());
}

std::string Where(const PoolSelection& s) {
  std::string out = absl::StrCat("pool run ", s.run_id);
  if (!s.split.empty()) absl::StrAppend(&out, " split '", s.split, "'");
  return out;
}

}  // namespace

absl::StatusOr<std::vector<CaptionedImage>> ListPoolImages(experiments::DatasetStore& datasets,
                                                           experiments::ArtifactStore& artifacts,
                                                           const PoolSelection& selection) {
  ASSIGN_OR_RETURN(std::vector<experiments::DatasetItem> items,
                   datasets.ListDatasetItems(selection.run_id, /*kept_only=*/true));
  std::vector<const experiments::DatasetItem*> chosen;
  if (selection.split.empty()) {
    for (const auto& item : items) chosen.push_back(&item);
  } else {
    ASSIGN_OR_RETURN(std::vector<int64_t> ids, datasets.GetDatasetSplit(selection.run_id, selection.split));
    std::map<int64_t, const experiments::DatasetItem*> by_id;
    for (const auto& item : items) by_id[item.id] = &item;
    for (int64_t id : ids) {
      auto it = by_id.find(id);
      if (it != by_id.end()) chosen.push_back(it->second);  // dropped since the split was made: left out
    }
  }
  std::map<std::string, int64_t> per_scale;
  std::vector<CaptionedImage> out;
  for (const experiments::DatasetItem* item : chosen) {
    ++per_scale[item->scale];
    if (!selection.scale.empty() && item->scale != selection.scale) continue;
    if (!item->image_artifact) {
      return absl::FailedPreconditionError(absl::StrCat(Where(selection), ": item ", item->id, " (shot ",
                                                        item->shot_index, " of ", item->source,
                                                        ") has no training image"));
    }
    ASSIGN_OR_RETURN(experiments::Artifact artifact, artifacts.GetArtifact(*item->image_artifact));
    ASSIGN_OR_RETURN(std::string path, FilePath(artifact));
    out.push_back({std::move(path), item->caption});
  }
  if (out.empty()) {
    std::vector<std::string> counts;
    for (const auto& [scale, n] : per_scale) counts.push_back(absl::StrCat(n, " ", scale));
    return absl::FailedPreconditionError(absl::StrCat(
        Where(selection), " has no kept item", selection.scale.empty() ? "" : " of scale '" + selection.scale + "'",
        " (it holds ", counts.empty() ? "none" : absl::StrJoin(counts, ", "), ")"));
  }
  return out;
}

absl::StatusOr<std::string> ImageSetSha256(const std::vector<CaptionedImage>& images) {
  core::Sha256Hasher hasher;
  for (const CaptionedImage& image : images) {
    ASSIGN_OR_RETURN(std::string file_sha, core::Sha256HexOfFile(image.path));
    // Lengths first, so no two different lists hash alike.
    hasher.Update(absl::StrCat(file_sha, ":", image.caption.size(), ":", image.caption, "\n"));
  }
  return hasher.FinalHex();
}

}  // namespace dreamshot::trainer
