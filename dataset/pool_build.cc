#include "dataset/pool_build.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/problem_list.h"
#include "core/status_macros.h"
#include "dataset/pool_item.h"

namespace dreamshot::dataset {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The build's shared state: counters for progress reports, the first fatal
// error, and the throttle that keeps reports to one per interval.
class BuildState {
 public:
  BuildState(const PoolBuildProgressFn& progress, double interval_s, const core::CancelFlag& cancel)
      : progress_(progress), interval_s_(interval_s), cancel_(cancel) {}

  // Should workers stop (cancelled, or another worker failed)?
  bool stopping() const { return cancel_.cancelled() || failed_.load(); }

  void Fail(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    if (first_error_.ok()) first_error_ = std::move(status);
    failed_ = true;
  }
  absl::Status first_error() {
    std::lock_guard<std::mutex> lock(mu_);
    return first_error_;
  }

  void Begin(int64_t total, int64_t skipped) {
    std::lock_guard<std::mutex> lock(mu_);
    p_.stage = "analysing";
    p_.sources_total = total;
    p_.sources_skipped = skipped;
    ReportLocked(true);
  }
  void Start(const std::string& source) {
    std::lock_guard<std::mutex> lock(mu_);
    p_.active.push_back(source);
    ReportLocked(false);
  }
  void AddFrames(int64_t frames) {
    std::lock_guard<std::mutex> lock(mu_);
    p_.frames += frames;
    ReportLocked(false);
  }
  void AddShot(bool kept) {
    std::lock_guard<std::mutex> lock(mu_);
    ++p_.shots;
    if (kept) ++p_.kept;
    ReportLocked(false);
  }
  // `recorded`: the outcome is in the store (not a source cut short by a stop).
  void Finish(PoolSourceOutcome outcome, bool recorded) {
    std::lock_guard<std::mutex> lock(mu_);
    p_.active.erase(std::remove(p_.active.begin(), p_.active.end(), outcome.source), p_.active.end());
    if (!recorded) return;
    ++p_.sources_done;
    if (outcome.failed) ++p_.sources_failed;
    p_.finished = std::move(outcome);
    ReportLocked(true);
    p_.finished.reset();
  }
  void Stage(const std::string& stage) {
    std::lock_guard<std::mutex> lock(mu_);
    p_.stage = stage;
    ReportLocked(true);
  }
  PoolBuildProgress snapshot() {
    std::lock_guard<std::mutex> lock(mu_);
    PoolBuildProgress copy = p_;
    copy.elapsed_s = SecondsSince(start_);
    return copy;
  }

 private:
  void ReportLocked(bool force) {
    if (!progress_) return;
    const Clock::time_point now = Clock::now();
    if (!force && std::chrono::duration<double>(now - last_report_).count() < interval_s_) return;
    last_report_ = now;
    p_.elapsed_s = SecondsSince(start_);
    progress_(p_);
  }

  const PoolBuildProgressFn& progress_;
  const double interval_s_;
  const core::CancelFlag& cancel_;
  std::atomic<bool> failed_{false};
  std::mutex mu_;
  absl::Status first_error_;
  PoolBuildProgress p_;
  const Clock::time_point start_ = Clock::now();
  Clock::time_point last_report_ = Clock::now();
};

// One source's items and images on their way to the store.
class SourceCollector {
 public:
  SourceCollector(experiments::ArtifactBlobs& blobs, const std::string& prefix, BuildState& state)
      : blobs_(blobs), prefix_(prefix), state_(state) {}

  absl::Status Add(const AnalyzedShot& shot) {
    experiments::DatasetItem item = ToDatasetItem(shot);
    if (item.kept) {
      ASSIGN_OR_RETURN(std::string png, TrainingPng(shot));
      ASSIGN_OR_RETURN(experiments::StoredBlob blob, blobs_.PutBytes(png));
      experiments::DatasetItemImage image;
      image.item = items_.size();
      image.artifact.kind = "image";
      image.artifact.path = PoolImagePath(prefix_, shot.shot.source, shot.shot.index);
      image.artifact.sha256 = blob.sha256;
      image.artifact.size_bytes = blob.size_bytes;
      image.artifact.uri = blob.uri;
      images_.push_back(std::move(image));
      ++kept_;
    }
    items_.push_back(std::move(item));
    state_.AddShot(items_.back().kept);
    return absl::OkStatus();
  }

  std::vector<experiments::DatasetItem>& items() { return items_; }
  std::vector<experiments::DatasetItemImage>& images() { return images_; }
  int64_t kept() const { return kept_; }

 private:
  experiments::ArtifactBlobs& blobs_;
  const std::string& prefix_;
  BuildState& state_;
  std::vector<experiments::DatasetItem> items_;
  std::vector<experiments::DatasetItemImage> images_;
  int64_t kept_ = 0;
};

class Worker {
 public:
  Worker(experiments::DatasetStore& store, experiments::ArtifactBlobs& blobs, int64_t run_id,
         const PoolBuildOptions& options, std::unique_ptr<labels::PeopleDetector> people, BuildState& state)
      : store_(store), blobs_(blobs), run_id_(run_id), options_(options), people_(std::move(people)), state_(state) {}

  // Analyses and records one source; false when the build must stop.
  bool Process(const SourceFile& file) {
    state_.Start(file.path);
    const Clock::time_point start = Clock::now();
    SourceCollector collector(blobs_, options_.image_prefix, state_);
    absl::Status sink_error;  // store/disk trouble: fatal, unlike a bad source
    std::vector<std::string> warnings;
    experiments::DatasetSource record;
    record.source = file.path;
    absl::Status analysis = file.still ? AnalyzeOneStill(file.path, collector, &sink_error, &warnings)
                                       : AnalyzeOneVideo(file.path, collector, &sink_error, &warnings, &record.frames);
    if (file.still) record.frames = 1;
    PoolSourceOutcome outcome;
    outcome.source = file.path;
    if (!sink_error.ok()) {
      state_.Fail(sink_error);
      state_.Finish(std::move(outcome), false);
      return false;
    }
    if (analysis.code() == absl::StatusCode::kCancelled && state_.stopping()) {
      state_.Finish(std::move(outcome), false);  // cut short: not recorded, a resume redoes it
      return false;
    }
    if (analysis.ok()) {
      record.status = "done";
      record.detail = core::JoinProblems(warnings);
      record.shots = static_cast<int64_t>(collector.items().size());
    } else {
      record.status = "failed";
      record.detail = std::string(analysis.message());
      collector.items().clear();
      collector.images().clear();
    }
    absl::Status committed = store_.CommitDatasetSource(run_id_, record, collector.items(), collector.images());
    if (!committed.ok()) {
      state_.Fail(committed);
      state_.Finish(std::move(outcome), false);
      return false;
    }
    outcome.failed = !analysis.ok();
    outcome.detail = record.detail;
    outcome.shots = record.shots;
    outcome.kept = outcome.failed ? 0 : collector.kept();
    outcome.frames = record.frames;
    outcome.seconds = SecondsSince(start);
    state_.Finish(std::move(outcome), true);
    return !state_.stopping();
  }

 private:
  absl::Status AnalyzeOneVideo(const std::string& path, SourceCollector& collector, absl::Status* sink_error,
                               std::vector<std::string>* warnings, int64_t* frames) {
    int64_t counted = 0;  // frames already added to the build's count
    VideoAnalysisReport report;
    absl::Status status = AnalyzeVideo(
        path, options_.video, people_.get(),
        [&](AnalyzedShot shot) -> absl::Status {
          absl::Status added = collector.Add(shot);
          if (!added.ok()) *sink_error = added;
          return added;
        },
        &report,
        [&](const VideoAnalysisProgress& p) {
          if (p.stage == VideoAnalysisProgress::Stage::kDetecting && p.frame + 1 - counted >= 25) {
            state_.AddFrames(p.frame + 1 - counted);
            counted = p.frame + 1;
          }
          return !state_.stopping();
        });
    if (report.frames_read > counted) state_.AddFrames(report.frames_read - counted);
    *frames = report.frames_read;
    *warnings = report.warnings;
    return status;
  }

  absl::Status AnalyzeOneStill(const std::string& path, SourceCollector& collector, absl::Status* sink_error,
                               std::vector<std::string>* warnings) {
    ASSIGN_OR_RETURN(AnalyzedShot shot, AnalyzeStill(path, options_.video.analysis, *people_, warnings));
    *sink_error = collector.Add(shot);
    return *sink_error;
  }

  experiments::DatasetStore& store_;
  experiments::ArtifactBlobs& blobs_;
  const int64_t run_id_;
  const PoolBuildOptions& options_;
  std::unique_ptr<labels::PeopleDetector> people_;
  BuildState& state_;
};

}  // namespace

absl::StatusOr<PoolBuildResult> BuildPool(experiments::DatasetStore& store, experiments::ArtifactBlobs& blobs,
                                          int64_t run_id, const std::vector<SourceFile>& sources,
                                          const PoolBuildOptions& options, const PoolBuildProgressFn& progress,
                                          const core::CancelFlag& cancel) {
  PoolBuildOptions effective = options;
  effective.video.analyze_keyframes = true;
  ASSIGN_OR_RETURN(std::vector<experiments::DatasetSource> recorded, store.ListDatasetSources(run_id));
  std::set<std::string> skip;
  for (const auto& r : recorded) {
    if (r.status == "done" || !effective.retry_failed) skip.insert(r.source);
  }
  std::vector<SourceFile> todo;
  for (const SourceFile& s : sources) {
    if (skip.count(s.path) == 0) todo.push_back(s);
  }
  // The first detector is made here so that a missing model file fails the
  // build before any work.
  ASSIGN_OR_RETURN(std::unique_ptr<labels::PeopleDetector> first, labels::PeopleDetector::Create(effective.people));

  BuildState state(progress, effective.progress_interval_s, cancel);
  state.Begin(static_cast<int64_t>(sources.size()), static_cast<int64_t>(sources.size() - todo.size()));
  int threads = effective.threads > 0 ? effective.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(1, std::min<int>(threads, static_cast<int>(todo.size())));
  std::atomic<size_t> next{0};
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < threads; ++t) {
    std::unique_ptr<labels::PeopleDetector> people = std::move(first);
    if (people == nullptr) {
      ASSIGN_OR_RETURN(people, labels::PeopleDetector::Create(effective.people));
    }
    workers.push_back(std::make_unique<Worker>(store, blobs, run_id, effective, std::move(people), state));
  }
  auto run = [&](Worker* worker) {
    while (!state.stopping()) {
      const size_t i = next.fetch_add(1);
      if (i >= todo.size() || !worker->Process(todo[i])) return;
    }
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < workers.size(); ++t) pool.emplace_back(run, workers[t].get());
  run(workers[0].get());
  for (std::thread& t : pool) t.join();

  RETURN_IF_ERROR(state.first_error());
  const PoolBuildProgress done = state.snapshot();
  if (cancel.cancelled()) {
    return absl::CancelledError(
        absl::StrCat("build cancelled after ", done.sources_done, " of ", todo.size(), " sources; resume it to go on"));
  }
  PoolBuildResult result;
  result.sources_analysed = done.sources_done;
  result.sources_skipped = done.sources_skipped;
  result.sources_failed = done.sources_failed;
  result.shots = done.shots;
  result.kept = done.kept;
  result.frames = done.frames;
  state.Stage("deduplicating");
  ASSIGN_OR_RETURN(result.dedup, MarkDuplicates(store, run_id, effective.dedup_distance));
  ASSIGN_OR_RETURN(result.summary, SummarizePool(store, run_id));
  result.elapsed_s = state.snapshot().elapsed_s;
  return result;
}

}  // namespace dreamshot::dataset
