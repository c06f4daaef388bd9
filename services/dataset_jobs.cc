#include "services/dataset_jobs.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/status_macros.h"
#include "dataset/pool_build.h"
#include "dataset/sources.h"
#include "dataset/video_analysis.h"
#include "dreamshot/v1/dataset.pb.h"
#include "services/dataset_convert.h"

namespace dreamshot::services {
namespace {

absl::Status RunDetectShots(const jobs::JobContext& ctx) {
  v1::DetectShotsRequest request;
  RETURN_IF_ERROR(ctx.ReadConfig(&request));
  dataset::VideoAnalysisOptions options;
  ASSIGN_OR_RETURN(options.detection, FromProto(request.detection()));
  options.analyze_keyframes = request.analyze_keyframes();
  std::unique_ptr<dataset::labels::PeopleDetector> people;
  if (options.analyze_keyframes) {
    ASSIGN_OR_RETURN(KeyframeSettings keyframes, FromProto(request.keyframes()));
    options.analysis = keyframes.analysis;
    ASSIGN_OR_RETURN(people, dataset::labels::PeopleDetector::Create(keyframes.people));
  }
  const absl::Time start = absl::Now();
  dataset::VideoAnalysisReport report;
  v1::DetectShotsResponse response;
  RETURN_IF_ERROR(dataset::AnalyzeVideo(
      request.video(), options, people.get(),
      [&](dataset::AnalyzedShot shot) {
        ToProto(shot, options.analyze_keyframes, response.add_shots());
        return absl::OkStatus();
      },
      &report, [&](const dataset::VideoAnalysisProgress&) { return !ctx.cancelled(); }));
  response.set_video(request.video());
  response.set_fps(report.info.fps);
  response.set_frames(report.frames_read);
  response.set_width(report.info.size.width);
  response.set_height(report.info.size.height);
  response.set_codec(report.info.codec);
  for (const std::string& w : report.warnings) response.add_warnings(w);
  response.set_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  ctx.Output(response);
  return absl::OkStatus();
}

absl::Status RunBuildPool(experiments::DatasetStore* store, experiments::ArtifactBlobs* blobs,
                          const jobs::JobContext& ctx) {
  using Response = v1::BuildPoolResponse;
  v1::BuildPoolRequest build;
  RETURN_IF_ERROR(ctx.ReadConfig(&build));
  ASSIGN_OR_RETURN(dataset::PoolBuildOptions options, FromProto(build));
  options.image_prefix = ctx.path_prefix();
  // Folders are listed again on resume: files added since join the pool.
  ASSIGN_OR_RETURN(dataset::ExpandedSources sources,
                   dataset::ExpandSources({build.sources().begin(), build.sources().end()}));
  const int64_t run_id = ctx.run_id();
  auto progress = [&](const dataset::PoolBuildProgress& p) {
    Response message;
    message.set_run_id(run_id);
    if (p.finished) {
      ToProto(*p.finished, message.mutable_source());
      ctx.Output(message);
      message.Clear();
      message.set_run_id(run_id);
    }
    ToProto(p, message.mutable_progress());
    ctx.Progress(message);
  };
  ASSIGN_OR_RETURN(dataset::PoolBuildResult result,
                   dataset::BuildPool(*store, *blobs, run_id, sources.files, options, progress, ctx.cancel_flag()));
  Response last;
  last.set_run_id(run_id);
  v1::PoolReport* report = last.mutable_report();
  ToProto(result.summary, report);
  report->set_run_id(run_id);
  report->set_elapsed_s(result.elapsed_s);
  for (const std::string& file : sources.ignored) report->add_ignored_files(file);
  ctx.Output(last);
  return absl::OkStatus();
}

}  // namespace

jobs::JobKind BuildPoolJobKind(experiments::DatasetStore* store, experiments::ArtifactBlobs* blobs) {
  jobs::JobKind kind;
  kind.name = kBuildPoolJob;
  kind.resumable = true;  // its run records each source as it is done
  kind.run = [store, blobs](jobs::JobContext& ctx) { return RunBuildPool(store, blobs, ctx); };
  return kind;
}

jobs::JobKind DetectShotsJobKind() {
  jobs::JobKind kind;
  kind.name = kDetectShotsJob;
  kind.survives_restart = false;
  kind.run = [](jobs::JobContext& ctx) { return RunDetectShots(ctx); };
  return kind;
}

}  // namespace dreamshot::services
