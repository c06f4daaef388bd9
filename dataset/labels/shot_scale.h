// Shot scale from people detections: how big the main subject is in the
// frame. The result is an ESTIMATE with a confidence, never ground truth —
// people themselves agree on shot scale only moderately (CineScale reports
// Fleiss' κ 0.64) and a detector adds its own misses and false positives.
//
// Rules (film-grammar rules of thumb, thresholds in ShotScaleConfig):
//  * The subject is the largest face (frontal or profile) scoring at least
//    `min_score` and `subject_relative_score` × the best face's score; the
//    closest person sets the framing. Its measure is face
//    height / frame height: ≥ 0.5 ECS, ≥ 0.25 CS, ≥ 0.1 MS, ≥ 0.055 FS, else
//    LS. Method "faces".
//  * Without a face, the largest body: a full-body box (head to feet in the
//    frame) is FS when it is at least half the frame height, else LS; an
//    upper-body (head-and-shoulders) box counts as a face 0.4 of its height
//    and takes the face rule, unless a full body holds it (same person).
//    Method "people".
//  * Nothing found: LS with `no_people_confidence` (0.2), method "none".
//    Frames without people in films are mostly establishing and landscape
//    shots, but also object inserts (close): the low confidence lets a
//    min-confidence filter (e.g. 0.5) drop them.
//
// Confidence = detector score × (0.5 + 0.5 × margin), margin =
// min(1, |ln(measure / t)| / ln(margin_ratio)) with t the nearest threshold:
// at a threshold the label is a coin flip between two neighbours (0.5 × score),
// 1.5× (margin_ratio) away from it the label is as sure as the detection.
// ScaleLabel::confidence is for the three-way scale (distance to the
// close/medium and medium/long thresholds only); `fine_confidence` also
// counts the ECS/CS and FS/LS thresholds. A full body in frame is long
// (FS or LS) whatever its size, so its three-way confidence is the score.
#ifndef DREAMSHOT_DATASET_LABELS_SHOT_SCALE_H_
#define DREAMSHOT_DATASET_LABELS_SHOT_SCALE_H_

#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "dataset/labels/detection.h"
#include "dataset/types.h"

namespace dreamshot::dataset::labels {

struct ShotScaleConfig {
  // Face height / frame height, lower bounds of each fine scale. A face
  // filling half the frame height leaves no room for the chin-to-crown head,
  // let alone shoulders (ECS); a quarter leaves head and shoulders (CS);
  // down to a tenth shows the body to the waist or knees (MS); below, a
  // standing figure (≈ 9 face boxes: 7.5 heads, the box ≈ 0.85 of a head)
  // fills at least half the frame down to 0.055 (FS), else it is small in
  // its surroundings (LS).
  double extreme_close_face = 0.5;
  double close_face = 0.25;
  double medium_face = 0.10;
  double full_face = 0.055;
  // Full-body box height / frame height: FS at or above, LS below (the same
  // "figure fills half the frame" rule as full_face).
  double full_body = 0.5;
  // An upper-body (head-and-shoulders) box counts as a face this fraction of
  // its height: the head is about half of the Haar cascade's 22x18 window
  // and the face box about 0.85 of the head.
  double upper_body_face_ratio = 0.4;
  double min_score = 0.25;       // detections below are ignored
  // Faces scoring under this fraction of the best face's score are not the
  // subject: Haar's texture false positives (a jersey crest, foliage) are
  // weak and often large, a real subject's face is usually the strongest
  // detection (messi5.jpg: a 0.45 crest twice the size of the 0.63 face).
  double subject_relative_score = 0.75;
  double margin_ratio = 1.5;     // see the confidence formula above
  double no_people_confidence = 0.2;

  // OK when thresholds descend and ratios are in range; else INVALID_ARGUMENT.
  absl::Status Validate() const;
};

struct ScaleEstimate {
  ScaleLabel label;              // confidence: for the three-way scale
  double fine_confidence = 0;    // for the five-way scale
  double measure = 0;            // face(-equivalent) or body height / frame height; 0 with no people
  std::optional<Detection> subject;
};

// INVALID_ARGUMENT for a non-positive frame size or an invalid config.
absl::StatusOr<ScaleEstimate> EstimateShotScale(const std::vector<Detection>& detections, int frame_width,
                                                int frame_height, const ShotScaleConfig& config = {});

}  // namespace dreamshot::dataset::labels

#endif  // DREAMSHOT_DATASET_LABELS_SHOT_SCALE_H_
