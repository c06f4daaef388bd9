#include "dataset/pool_item.h"

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "core/png.h"
#include "core/sha256.h"

namespace dreamshot::dataset {

using nlohmann::json;

std::string DropReasonsJson(const std::vector<DropReason>& drops) {
  json out = json::array();
  for (const DropReason& d : drops) out.push_back({{"filter", d.filter}, {"detail", d.detail}});
  return out.dump();
}

absl::StatusOr<std::vector<DropReason>> ParseDropReasons(const std::string& text) {
  const json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_array()) return absl::InvalidArgumentError(absl::StrCat("drop reasons are not a JSON array: ", text));
  std::vector<DropReason> out;
  for (const json& d : parsed) {
    if (!d.is_object() || !d.contains("filter") || !d["filter"].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("a drop reason needs a \"filter\" string: ", d.dump()));
    }
    out.push_back({d["filter"].get<std::string>(), d.value("detail", std::string())});
  }
  return out;
}

experiments::DatasetItem ToDatasetItem(const AnalyzedShot& a) {
  experiments::DatasetItem item;
  item.source = a.shot.source;
  item.shot_index = a.shot.index;
  item.start_frame = a.shot.start_frame;
  item.end_frame = a.shot.end_frame;
  item.start_s = a.shot.start_s;
  item.end_s = a.shot.end_s;
  item.keyframe = a.keyframe;
  json detector = {{"name", a.shot.detector}};
  for (const auto& [key, value] : a.shot.detector_params) detector[key] = value;
  if (a.shot.fade_in) detector["fade_in"] = true;
  if (a.shot.fade_out) detector["fade_out"] = true;
  item.detector_json = detector.dump();
  item.kept = a.kept();
  item.drop_reasons_json = DropReasonsJson(a.analysis.drops);
  bool analysed = a.has_keyframe;
  for (const DropReason& d : a.analysis.drops) analysed = analysed && d.filter != kAnalysisErrorDrop;
  if (analysed) item.phash = a.analysis.phash;
  item.crop_x = a.analysis.crop.x;
  item.crop_y = a.analysis.crop.y;
  item.crop_width = a.analysis.crop.width;
  item.crop_height = a.analysis.crop.height;
  const ScaleLabel& label = a.analysis.label;
  item.scale = ShotScaleName(label.scale);
  item.fine_scale = FineShotScaleName(label.fine);
  item.scale_confidence = label.confidence;
  item.scale_method = label.method;
  item.scale_evidence = label.evidence;
  return item;
}

absl::StatusOr<std::string> TrainingPng(const AnalyzedShot& a) {
  const cv::Mat& bgr = a.analysis.training_image;
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    return absl::FailedPreconditionError(absl::StrCat(a.shot.source, " shot ", a.shot.index, " has no training image"));
  }
  core::PngImage png;
  png.width = bgr.cols;
  png.height = bgr.rows;
  png.channels = 3;
  png.pixels.resize(static_cast<size_t>(bgr.total()) * 3);
  cv::Mat rgb(bgr.rows, bgr.cols, CV_8UC3, png.pixels.data());
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  const Box& c = a.analysis.crop;
  const json provenance = {{"source", a.shot.source},
                           {"shot", a.shot.index},
                           {"keyframe", a.keyframe},
                           {"crop", {{"x", c.x}, {"y", c.y}, {"width", c.width}, {"height", c.height}}}};
  png.texts.emplace_back("dreamshot", provenance.dump());
  return core::EncodePng(png);
}

std::string PoolImagePath(const std::string& prefix, const std::string& source, int64_t shot_index) {
  char shot[32];
  std::snprintf(shot, sizeof shot, "shot-%04lld.png", static_cast<long long>(shot_index));
  const std::string stem = std::filesystem::path(source).stem().string();
  return absl::StrCat(prefix, "/", stem, "-", core::Sha256Hex(source).substr(0, 8), "/", shot);
}

}  // namespace dreamshot::dataset
