// DatasetService's job-running methods: DetectShots (one video, on the
// look queue) and BuildPool (a pool build, streamed, on the build queue).
#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "dataset/pool_build.h"
#include "dataset/sources.h"
#include "dataset/video_analysis.h"
#include "services/dataset_convert.h"
#include "services/dataset_service.h"
#include "services/grpc_status.h"
#include "services/job_launch.h"

namespace dreamshot::services {
namespace {

constexpr char kDefaultExperiment[] = "datasets";
constexpr char kPoolKind[] = "dataset";

absl::Status RunDetectShots(const v1::DetectShotsRequest& request, v1::DetectShotsResponse* response,
                            const std::function<bool()>& keep_going) {
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
  RETURN_IF_ERROR(dataset::AnalyzeVideo(
      request.video(), options, people.get(),
      [&](dataset::AnalyzedShot shot) {
        ToProto(shot, options.analyze_keyframes, response->add_shots());
        return absl::OkStatus();
      },
      &report, [&](const dataset::VideoAnalysisProgress&) { return keep_going(); }));
  response->set_video(request.video());
  response->set_fps(report.info.fps);
  response->set_frames(report.frames_read);
  response->set_width(report.info.size.width);
  response->set_height(report.info.size.height);
  response->set_codec(report.info.codec);
  for (const std::string& w : report.warnings) response->add_warnings(w);
  response->set_seconds(absl::ToDoubleSeconds(absl::Now() - start));
  return absl::OkStatus();
}

// A resumed build takes its sources and settings from its run; only how it
// runs may change.
absl::StatusOr<v1::BuildPoolRequest> StoredBuild(experiments::ExperimentStore* store,
                                                 const v1::BuildPoolRequest& request) {
  if (request.sources_size() > 0 || request.has_detection() || request.has_keyframes() ||
      request.has_dedup_distance() || request.has_target()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "resume_run_id ", request.resume_run_id(),
        ": a resumed build takes its sources and settings from its run; give only threads and retry_failed"));
  }
  ASSIGN_OR_RETURN(experiments::Run run, store->GetRun(request.resume_run_id()));
  auto kind = run.tags.find("dreamshot.kind");
  if (kind == run.tags.end() || kind->second != kPoolKind ||
      run.config_type != v1::BuildPoolRequest::descriptor()->full_name()) {
    return absl::FailedPreconditionError(absl::StrCat("run ", run.id, " is not a dataset pool build"));
  }
  v1::BuildPoolRequest stored;
  const auto parsed = google::protobuf::util::JsonStringToMessage(run.config_json, &stored);
  if (!parsed.ok()) {
    return absl::DataLossError(
        absl::StrCat("run ", run.id, ": its stored build settings do not parse: ", parsed.ToString()));
  }
  if (request.threads() > 0) stored.set_threads(request.threads());
  stored.set_retry_failed(request.retry_failed());
  return stored;
}

absl::StatusOr<RunPlan> PlanBuild(experiments::ExperimentStore* store, const v1::BuildPoolRequest& build,
                                  int64_t resume_run_id, size_t files) {
  if (resume_run_id > 0) {
    RunPlan plan;
    plan.existing_run_id = resume_run_id;
    plan.reopen = true;
    plan.reopen_note = absl::StrCat("resumed at ", experiments::NoteTime(core::NowMillis()));
    plan.kind = kPoolKind;
    plan.path_prefix = "pool";
    return plan;
  }
  if (build.target().run_id() != 0) {
    return absl::InvalidArgumentError(
        "a pool is built in a run of its own: to go on with an earlier build give resume_run_id, not target.run_id");
  }
  // Params leave the source list out (it can outgrow a param value); the
  // stored config keeps it, which is what a resume reads.
  v1::BuildPoolRequest params = build;
  params.clear_sources();
  params.clear_target();
  const std::string first = std::filesystem::path(build.sources(0)).filename().string();
  ASSIGN_OR_RETURN(
      RunPlan plan,
      PlanRun(store, build.target(), params, kPoolKind,
              build.sources_size() == 1 ? first : absl::StrCat(first, " and ", build.sources_size() - 1, " more"),
              kDefaultExperiment, "pool"));
  plan.config.params["num_sources"] = std::to_string(build.sources_size());
  plan.config.params["num_files"] = std::to_string(files);
  v1::BuildPoolRequest stored = build;
  stored.clear_target();
  ASSIGN_OR_RETURN(FlattenedConfig full, FlattenConfig(stored));
  plan.config.json = full.json;
  return plan;
}

}  // namespace

grpc::ServerUnaryReactor* DatasetServiceImpl::DetectShots(grpc::CallbackServerContext* context,
                                                          const v1::DetectShotsRequest* request,
                                                          v1::DetectShotsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = guard_->Authenticate(*context);
  if (status.ok() && request->video().empty()) status = absl::InvalidArgumentError("video: give a path");
  if (!status.ok()) {
    reactor->Finish(ToGrpcStatus(status));
    return reactor;
  }
  // The request and response live until Finish, which `done` calls last.
  auto job = [request, response, context](const core::CancelFlag& flag) {
    return RunDetectShots(*request, response, [&] { return !flag.cancelled() && !context->IsCancelled(); });
  };
  absl::StatusOr<std::shared_ptr<core::JobHandle>> handle =
      queues_->For(kShotsQueue).Submit(std::move(job), [reactor](const absl::Status& outcome) {
        reactor->Finish(ToGrpcStatus(outcome));
      });
  if (!handle.ok()) reactor->Finish(ToGrpcStatus(handle.status()));
  return reactor;
}

grpc::ServerWriteReactor<v1::BuildPoolResponse>* DatasetServiceImpl::BuildPool(grpc::CallbackServerContext* context,
                                                                               const v1::BuildPoolRequest* request) {
  using Response = v1::BuildPoolResponse;
  absl::Status status = guard_->Authenticate(*context);
  if (!status.ok()) return Refuse<Response>(status);
  if (request->resume_run_id() < 0) {
    return Refuse<Response>(absl::InvalidArgumentError("resume_run_id must be a positive run id"));
  }
  v1::BuildPoolRequest build = *request;
  if (request->resume_run_id() > 0) {
    absl::StatusOr<v1::BuildPoolRequest> stored = StoredBuild(store_, *request);
    if (!stored.ok()) return Refuse<Response>(stored.status());
    build = std::move(*stored);
  } else if (build.sources_size() == 0) {
    return Refuse<Response>(absl::InvalidArgumentError("sources: give at least one video, image or folder"));
  }
  for (const std::string& source : build.sources()) {
    if (!std::filesystem::path(source).is_absolute()) {
      return Refuse<Response>(absl::InvalidArgumentError(
          absl::StrCat("source '", source, "' must be an absolute path on the server's machine")));
    }
  }
  absl::StatusOr<dataset::PoolBuildOptions> options = FromProto(build);
  if (!options.ok()) return Refuse<Response>(options.status());
  // Folders are listed again on resume: files added since join the pool.
  absl::StatusOr<dataset::ExpandedSources> sources =
      dataset::ExpandSources({build.sources().begin(), build.sources().end()});
  if (!sources.ok()) return Refuse<Response>(sources.status());
  absl::StatusOr<RunPlan> plan = PlanBuild(store_, build, request->resume_run_id(), sources->files.size());
  if (!plan.ok()) return Refuse<Response>(plan.status());

  auto body = [store = store_, blobs = blobs_, options = *std::move(options), files = std::move(sources->files),
               ignored = std::move(sources->ignored)](JobStream<Response>* stream, int64_t run_id,
                                                      const std::string& prefix,
                                                      const core::CancelFlag& flag) -> absl::Status {
    dataset::PoolBuildOptions run_options = options;
    run_options.image_prefix = prefix;
    auto progress = [&](const dataset::PoolBuildProgress& p) {
      Response message;
      message.set_run_id(run_id);
      if (p.finished) {
        ToProto(*p.finished, message.mutable_source());
        stream->Push(std::move(message));
        message.Clear();
        message.set_run_id(run_id);
      }
      ToProto(p, message.mutable_progress());
      stream->Push(std::move(message), /*coalescable=*/true);
    };
    ASSIGN_OR_RETURN(dataset::PoolBuildResult result,
                     dataset::BuildPool(*store, *blobs, run_id, files, run_options, progress, flag));
    Response last;
    last.set_run_id(run_id);
    v1::PoolReport* report = last.mutable_report();
    ToProto(result.summary, report);
    report->set_run_id(run_id);
    report->set_elapsed_s(result.elapsed_s);
    for (const std::string& file : ignored) report->add_ignored_files(file);
    stream->Push(std::move(last));
    return absl::OkStatus();
  };
  return Launch<Response>(store_, queues_->For(kBuildQueue), std::move(*plan), std::move(body));
}

}  // namespace dreamshot::services
