// `dreamshot dataset build`: videos and stills in, a filtered, labelled
// pool of shots with training images out, in the experiment store.
//
// Sources are analysed in parallel (one worker thread per source at a time,
// each with its own people detector; a video's decoding runs on a thread of
// its own besides). A source's items, training images and its "done" record
// are committed in one transaction when the source is finished, so a build
// that stops — Ctrl-C, a crash, a power cut — loses at most the sources in
// progress, and resuming skips every source the run records as done (or
// failed) and never duplicates an item. After the last source the
// near-duplicate pass runs over the whole pool (pool_dedup.h).
//
// A source that cannot be read (missing codec, corrupt or empty file,
// unsupported image) is recorded as failed with the reason and the build
// goes on; only store and disk errors stop it.
#ifndef DREAMSHOT_DATASET_POOL_BUILD_H_
#define DREAMSHOT_DATASET_POOL_BUILD_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/cancel_flag.h"
#include "dataset/filters/hash_index.h"
#include "dataset/labels/people_detector.h"
#include "dataset/pool_dedup.h"
#include "dataset/pool_summary.h"
#include "dataset/sources.h"
#include "dataset/video_analysis.h"
#include "experiments/artifact_blobs.h"
#include "experiments/dataset_store.h"

namespace dreamshot::dataset {

struct PoolBuildOptions {
  VideoAnalysisOptions video;  // analyze_keyframes is always on in a build
  labels::PeopleDetectorConfig people;
  int dedup_distance = filters::kDefaultDedupDistance;  // < 0: no near-duplicate pass
  int threads = 0;                                      // sources analysed at once; 0: one per core
  bool retry_failed = false;                            // redo sources the run records as failed
  std::string image_prefix = "pool";                    // artifact paths: see PoolImagePath
  double progress_interval_s = 0.5;
};

struct PoolSourceOutcome {
  std::string source;
  bool failed = false;
  std::string detail;  // why it failed, or what went wrong without failing it
  int64_t shots = 0, kept = 0, frames = 0;
  double seconds = 0;
};

struct PoolBuildProgress {
  std::string stage;            // "analysing", then "deduplicating"
  int64_t sources_total = 0;    // named by this build
  int64_t sources_skipped = 0;  // already recorded in the run
  int64_t sources_done = 0;     // finished by this build, failed ones included
  int64_t sources_failed = 0;
  int64_t shots = 0, kept = 0;  // analysed by this build so far
  int64_t frames = 0;           // source frames read by shot detection so far
  double elapsed_s = 0;
  std::vector<std::string> active;            // sources being read now
  std::optional<PoolSourceOutcome> finished;  // set on the report right after a source
};
// Called from worker threads, one call at a time.
using PoolBuildProgressFn = std::function<void(const PoolBuildProgress&)>;

struct PoolBuildResult {
  int64_t sources_analysed = 0, sources_skipped = 0, sources_failed = 0;
  int64_t shots = 0, kept = 0, frames = 0;  // by this build, before dedup
  double elapsed_s = 0;
  DedupOutcome dedup;
  PoolSummary summary;  // of the whole pool afterwards
};

// Builds (or resumes) the pool of `run_id`. CANCELLED when `cancel` is set
// (sources in progress are not recorded); FAILED_PRECONDITION naming the
// file when a people-detector model is missing; store and disk errors as
// they come.
absl::StatusOr<PoolBuildResult> BuildPool(experiments::DatasetStore& store, experiments::ArtifactBlobs& blobs,
                                          int64_t run_id, const std::vector<SourceFile>& sources,
                                          const PoolBuildOptions& options, const PoolBuildProgressFn& progress,
                                          const core::CancelFlag& cancel);

}  // namespace dreamshot::dataset

#endif  // DREAMSHOT_DATASET_POOL_BUILD_H_
