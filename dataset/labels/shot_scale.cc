#include "dataset/labels/shot_scale.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace dreamshot::dataset::labels {
namespace {

// (1 - margin) halves the detector's score at a threshold; see shot_scale.h.
double Confidence(double score, double measure, std::initializer_list<double> thresholds, double margin_ratio) {
  double nearest = std::numeric_limits<double>::infinity();
  for (double t : thresholds) nearest = std::min(nearest, std::abs(std::log(measure / t)));
  const double margin = std::min(1.0, nearest / std::log(margin_ratio));
  return std::clamp(score, 0.0, 1.0) * (0.5 + 0.5 * margin);
}

FineShotScale FineFromFace(double f, const ShotScaleConfig& c) {
  if (f >= c.extreme_close_face) return FineShotScale::kExtremeClose;
  if (f >= c.close_face) return FineShotScale::kClose;
  if (f >= c.medium_face) return FineShotScale::kMedium;
  if (f >= c.full_face) return FineShotScale::kFull;
  return FineShotScale::kLong;
}

bool Contains(const Box& outer, const Box& inner) {
  const int cx = inner.x + inner.width / 2, cy = inner.y + inner.height / 2;
  return cx >= outer.x && cx < outer.x + outer.width && cy >= outer.y && cy < outer.y + outer.height;
}

// Largest (by face-equivalent height) face, or else body, scoring at least
// min_score and, among faces, subject_relative_score of the best face. Full
// bodies compare as 1/9 of their height (a standing figure is about nine
// face boxes tall); an upper body inside a full body is the same person and
// gives way to it.
const Detection* PickSubject(const std::vector<Detection>& dets, bool faces, const ShotScaleConfig& c) {
  double best_score = 0;
  for (const Detection& d : dets) {
    if (d.IsFace() == faces) best_score = std::max(best_score, d.score);
  }
  const double floor = std::max(c.min_score, faces ? c.subject_relative_score * best_score : 0.0);
  auto usable = [&](const Detection& d) { return d.IsFace() == faces && d.score >= floor && !d.box.empty(); };
  const Detection* best = nullptr;
  double best_size = 0;
  for (const Detection& d : dets) {
    if (!usable(d)) continue;
    double size = d.box.height;
    if (d.kind == DetectionKind::kUpperBody) {
      const bool in_full_body = std::any_of(dets.begin(), dets.end(), [&](const Detection& o) {
        return o.kind == DetectionKind::kFullBody && usable(o) && Contains(o.box, d.box);
      });
      if (in_full_body) continue;
      size *= c.upper_body_face_ratio;
    }
    if (d.kind == DetectionKind::kFullBody) size /= 9.0;
    if (size > best_size) best = &d, best_size = size;
  }
  return best;
}

std::string Describe(const Detection& d) {
  return absl::StrFormat("%s score %.2f by %s at (%d,%d %dx%d)", DetectionKindName(d.kind), d.score, d.source,
                         d.box.x, d.box.y, d.box.width, d.box.height);
}

}  // namespace

absl::Status ShotScaleConfig::Validate() const {
  if (!(extreme_close_face > close_face && close_face > medium_face && medium_face > full_face && full_face > 0)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ShotScaleConfig: face thresholds must descend above 0, got extreme_close %g, close %g, medium %g, full %g",
        extreme_close_face, close_face, medium_face, full_face));
  }
  auto unit = [](double v) { return v >= 0 && v <= 1; };
  if (!(full_body > 0 && upper_body_face_ratio > 0 && margin_ratio > 1 && unit(min_score) &&
        unit(subject_relative_score) && unit(no_people_confidence))) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "ShotScaleConfig: need full_body > 0 (%g), upper_body_face_ratio > 0 (%g), margin_ratio > 1 (%g), "
        "min_score, subject_relative_score and no_people_confidence in [0, 1] (%g, %g, %g)",
        full_body, upper_body_face_ratio, margin_ratio, min_score, subject_relative_score, no_people_confidence));
  }
  return absl::OkStatus();
}

absl::StatusOr<ScaleEstimate> EstimateShotScale(const std::vector<Detection>& detections, int frame_width,
                                                int frame_height, const ShotScaleConfig& config) {
  if (frame_width <= 0 || frame_height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("EstimateShotScale: frame size ", frame_width, "x", frame_height, " is not positive"));
  }
  if (absl::Status s = config.Validate(); !s.ok()) return s;
  const ShotScaleConfig& c = config;
  const double height = frame_height;
  ScaleEstimate est;

  const Detection* subject = PickSubject(detections, /*faces=*/true, c);
  if (subject == nullptr) subject = PickSubject(detections, /*faces=*/false, c);
  if (subject == nullptr) {
    est.label.fine = FineShotScale::kLong;
    est.label.scale = ShotScale::kLong;
    est.label.confidence = est.fine_confidence = c.no_people_confidence;
    est.label.method = "none";
    est.label.evidence = absl::StrFormat(
        "no face or person scoring >= %.2f among %d detections; frames without people are mostly "
        "establishing shots, so LS at low confidence",
        c.min_score, int(detections.size()));
    return est;
  }
  est.subject = *subject;
  est.label.method = subject->IsFace() ? "faces" : "people";

  if (subject->kind == DetectionKind::kFullBody) {
    // The whole figure is in frame, so at least FS: the three-way label is
    // long whatever its size; only FS vs LS depends on the height.
    const double b = subject->box.height / height;
    est.measure = b;
    est.label.fine = b >= c.full_body ? FineShotScale::kFull : FineShotScale::kLong;
    est.label.confidence = std::clamp(subject->score, 0.0, 1.0);
    est.fine_confidence = Confidence(subject->score, b, {c.full_body}, c.margin_ratio);
    est.label.evidence = absl::StrFormat(
        "full body %.3f of frame height (%s); %s: FS at >= %.2f, else LS; fine confidence %.2f", b,
        Describe(*subject), b >= c.full_body ? "fills the frame" : "small in the frame", c.full_body,
        est.fine_confidence);
  } else {
    double f = subject->box.height / height;
    std::string what = absl::StrFormat("%s %.3f of frame height", DetectionKindName(subject->kind), f);
    if (subject->kind == DetectionKind::kUpperBody) {
      f *= c.upper_body_face_ratio;
      what = absl::StrFormat("upper body %.3f of frame height (a face of ~%.3f)", f / c.upper_body_face_ratio, f);
    }
    est.measure = f;
    est.label.fine = FineFromFace(f, c);
    est.label.confidence = Confidence(subject->score, f, {c.close_face, c.medium_face}, c.margin_ratio);
    est.fine_confidence = Confidence(subject->score, f,
                                     {c.extreme_close_face, c.close_face, c.medium_face, c.full_face}, c.margin_ratio);
    est.label.evidence = absl::StrFormat(
        "%s (%s); face bands ECS >= %.2f > CS >= %.2f > MS >= %.2f > FS >= %.3f > LS; fine confidence %.2f", what,
        Describe(*subject), c.extreme_close_face, c.close_face, c.medium_face, c.full_face, est.fine_confidence);
  }
  est.label.scale = CoarseScale(est.label.fine);
  return est;
}

}  // namespace dreamshot::dataset::labels
