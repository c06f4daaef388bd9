#include "services/dataset_convert.h"

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace dreamshot::services {
namespace {

absl::Status InRange(const char* field, double value, double low, double high) {
  if (value < low || value > high) {
    return absl::InvalidArgumentError(absl::StrCat(field, " must be in [", low, ", ", high, "], got ", value));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<dataset::shots::ShotDetectionOptions> FromProto(const v1::ShotDetectionConfig& c) {
  using Options = dataset::shots::ShotDetectionOptions;
  Options o;
  if (c.detector().empty() || c.detector() == "content") {
    o.method = Options::Method::kContent;
  } else if (c.detector() == "adaptive") {
    o.method = Options::Method::kAdaptive;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("detection.detector must be content or adaptive, got '", c.detector(), "'"));
  }
  if (c.has_threshold()) {
    RETURN_IF_ERROR(InRange("detection.threshold", c.threshold(), 1, 255));
    o.content.threshold = c.threshold();
  }
  if (c.has_adaptive_ratio()) {
    RETURN_IF_ERROR(InRange("detection.adaptive_ratio", c.adaptive_ratio(), 1.01, 100));
    o.adaptive.ratio_threshold = c.adaptive_ratio();
  }
  if (c.has_min_shot_frames()) {
    RETURN_IF_ERROR(InRange("detection.min_shot_frames", c.min_shot_frames(), 1, 100000));
    o.min_shot_frames = c.min_shot_frames();
  }
  if (c.has_analysis_size()) {
    RETURN_IF_ERROR(InRange("detection.analysis_size", c.analysis_size(), 16, 4096));
    o.reader.analysis_max_side = c.analysis_size();
  }
  if (c.has_frame_step()) {
    RETURN_IF_ERROR(InRange("detection.frame_step", c.frame_step(), 1, 1000));
    o.reader.frame_step = c.frame_step();
  }
  return o;
}

absl::StatusOr<KeyframeSettings> FromProto(const v1::KeyframeConfig& c) {
  KeyframeSettings s;
  if (c.has_resolution()) {
    RETURN_IF_ERROR(InRange("keyframes.resolution", c.resolution(), 64, 4096));
    if (c.resolution() % 8 != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("keyframes.resolution must be a multiple of 8 (the VAE's factor), got ", c.resolution()));
    }
    s.analysis.crop.width = s.analysis.crop.height = c.resolution();
  }
  if (c.has_min_sharpness()) {
    RETURN_IF_ERROR(InRange("keyframes.min_sharpness", c.min_sharpness(), 0, 100000));
    s.analysis.filters.min_laplacian_variance = c.min_sharpness();
  }
  if (c.has_min_contrast()) {
    RETURN_IF_ERROR(InRange("keyframes.min_contrast", c.min_contrast(), 0, 128));
    s.analysis.filters.min_luma_std = c.min_contrast();
  }
  if (c.has_text_filter()) s.analysis.filters.check_text = c.text_filter();
  if (c.has_min_side()) {
    RETURN_IF_ERROR(InRange("keyframes.min_side", c.min_side(), 16, 8192));
    // The filter drops small pictures with a reason; the crop must accept
    // whatever the filter lets through.
    s.analysis.filters.min_side = c.min_side();
    s.analysis.crop.min_crop_side = c.min_side();
  }
  s.people.yunet_model = c.face_model();
  return s;
}

absl::StatusOr<dataset::PoolBuildOptions> FromProto(const v1::BuildPoolRequest& request) {
  dataset::PoolBuildOptions o;
  ASSIGN_OR_RETURN(o.video.detection, FromProto(request.detection()));
  ASSIGN_OR_RETURN(KeyframeSettings keyframes, FromProto(request.keyframes()));
  o.video.analysis = keyframes.analysis;
  o.people = keyframes.people;
  if (request.has_dedup_distance()) {
    RETURN_IF_ERROR(InRange("dedup_distance", request.dedup_distance(), -1, 32));
    o.dedup_distance = request.dedup_distance();
  }
  RETURN_IF_ERROR(InRange("threads", request.threads(), 0, 256));
  o.threads = request.threads();
  o.retry_failed = request.retry_failed();
  return o;
}

v1::ShotType ToShotType(dataset::ShotScale scale) {
  switch (scale) {
    case dataset::ShotScale::kClose:
      return v1::CLOSE;
    case dataset::ShotScale::kMedium:
      return v1::MEDIUM;
    case dataset::ShotScale::kLong:
      return v1::LONG;
    case dataset::ShotScale::kUnknown:
      break;
  }
  return v1::SHOT_TYPE_UNSPECIFIED;
}

void ToProto(const dataset::AnalyzedShot& a, bool with_analysis, v1::DetectedShot* out) {
  out->set_index(a.shot.index);
  out->set_start_frame(a.shot.start_frame);
  out->set_end_frame(a.shot.end_frame);
  out->set_start_s(a.shot.start_s);
  out->set_end_s(a.shot.end_s);
  out->set_detector(a.shot.detector);
  for (const auto& [key, value] : a.shot.detector_params) (*out->mutable_detector_params())[key] = value;
  out->set_fade_in(a.shot.fade_in);
  out->set_fade_out(a.shot.fade_out);
  if (!with_analysis) return;
  out->set_keyframe(a.keyframe);
  out->set_keyframe_s(a.keyframe_s);
  out->set_sharpness(a.sharpness);
  out->set_kept(a.kept());
  for (const dataset::DropReason& d : a.analysis.drops) {
    v1::Drop* drop = out->add_drops();
    drop->set_filter(d.filter);
    drop->set_detail(d.detail);
  }
  const dataset::ScaleLabel& l = a.analysis.label;
  v1::ShotScaleLabel* label = out->mutable_label();
  label->set_scale(ToShotType(l.scale));
  label->set_fine_scale(dataset::FineShotScaleName(l.fine));
  label->set_confidence(l.confidence);
  label->set_method(l.method);
  label->set_evidence(l.evidence);
}

void ToProto(const dataset::PoolSourceOutcome& o, v1::SourceOutcome* out) {
  out->set_source(o.source);
  out->set_failed(o.failed);
  out->set_detail(o.detail);
  out->set_shots(o.shots);
  out->set_kept(o.kept);
  out->set_frames(o.frames);
  out->set_seconds(o.seconds);
}

void ToProto(const dataset::PoolBuildProgress& p, v1::BuildProgress* out) {
  out->set_message(p.stage);
  out->set_sources_total(p.sources_total);
  out->set_sources_skipped(p.sources_skipped);
  out->set_sources_done(p.sources_done);
  out->set_sources_failed(p.sources_failed);
  out->set_shots(p.shots);
  out->set_kept(p.kept);
  out->set_frames(p.frames);
  out->set_elapsed_s(p.elapsed_s);
  out->set_shots_per_s(p.elapsed_s > 0 ? static_cast<double>(p.shots) / p.elapsed_s : 0);
  for (const std::string& a : p.active) out->add_active(a);
}

void ToProto(const dataset::PoolSummary& s, v1::PoolReport* out) {
  out->set_sources_done(s.sources_done);
  out->set_sources_failed(s.sources_failed);
  for (const experiments::DatasetSource& f : s.failed) {
    v1::SourceOutcome* failed = out->add_failed_sources();
    failed->set_source(f.source);
    failed->set_failed(true);
    failed->set_detail(f.detail);
  }
  out->set_items(s.items);
  out->set_kept(s.kept);
  out->set_captioned(s.captioned);
  for (const auto& [filter, count] : s.drops) (*out->mutable_drops())[filter] = count;
  if (auto it = s.drops.find(dataset::kDuplicateDrop); it != s.drops.end()) out->set_duplicates(it->second);
  using dataset::FineShotScale;
  using dataset::ShotScale;
  for (ShotScale scale : {ShotScale::kClose, ShotScale::kMedium, ShotScale::kLong, ShotScale::kUnknown}) {
    v1::LabelCount* c = out->add_scales();
    c->set_scale(dataset::ShotScaleName(scale));
    c->set_count(s.labels.count(scale));
    c->set_percent(s.labels.percent(scale));
    c->set_mean_confidence(s.labels.mean_confidence(scale));
  }
  for (FineShotScale fine : {FineShotScale::kExtremeClose, FineShotScale::kClose, FineShotScale::kMedium,
                             FineShotScale::kFull, FineShotScale::kLong, FineShotScale::kUnknown}) {
    v1::LabelCount* c = out->add_fine_scales();
    c->set_scale(dataset::FineShotScaleName(fine));
    c->set_count(s.labels.count(fine));
    c->set_percent(s.labels.percent(fine));
  }
  for (const auto& [name, count] : s.splits) (*out->mutable_splits())[name] = count;
}

}  // namespace dreamshot::services
