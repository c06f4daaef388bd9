// DatasetService's job-submitting methods: DetectShots (one video, in the
// shots lane, answered when its job ends) and BuildPool (a pool build in
// the build lane, streamed). Both validate the request and submit a job;
// services/dataset_jobs.cc runs them.
#include <google/protobuf/util/json_util.h>

#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "dataset/sources.h"
#include "services/config_flatten.h"
#include "services/dataset_convert.h"
#include "services/dataset_jobs.h"
#include "services/dataset_service.h"
#include "services/job_submit.h"
#include "services/job_watch.h"

namespace dreamshot::services {
namespace {

constexpr char kDefaultExperiment[] = "datasets";

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
  if (kind == run.tags.end() || kind->second != kPoolRunKind ||
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
  stored.set_resume_run_id(request.resume_run_id());
  *stored.mutable_job() = request.job();
  return stored;
}

absl::StatusOr<experiments::JobRunPlan> PlanBuild(experiments::ExperimentStore* store,
                                                  const v1::BuildPoolRequest& build, size_t files) {
  if (build.resume_run_id() > 0) {
    experiments::JobRunPlan plan;
    plan.mode = experiments::RunMode::kResume;
    plan.run_id = build.resume_run_id();
    plan.reopen_note = "resumed";
    plan.run_kind = kPoolRunKind;
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
  params.clear_job();
  const std::string first = std::filesystem::path(build.sources(0)).filename().string();
  ASSIGN_OR_RETURN(
      experiments::JobRunPlan plan,
      PlanRun(store, build.target(), params, kPoolRunKind,
              build.sources_size() == 1 ? first : absl::StrCat(first, " and ", build.sources_size() - 1, " more"),
              kDefaultExperiment, "pool"));
  plan.params["num_sources"] = std::to_string(build.sources_size());
  plan.params["num_files"] = std::to_string(files);
  v1::BuildPoolRequest stored = build;
  stored.clear_target();
  stored.clear_job();
  ASSIGN_OR_RETURN(FlattenedConfig full, FlattenConfig(stored));
  plan.config_json = full.json;
  return plan;
}

}  // namespace

grpc::ServerUnaryReactor* DatasetServiceImpl::DetectShots(grpc::CallbackServerContext* context,
                                                          const v1::DetectShotsRequest* request,
                                                          v1::DetectShotsResponse* response) {
  using Reactor = UnaryJobReactor<v1::DetectShotsResponse>;
  absl::Status status = guard_->Authenticate(*context);
  if (status.ok() && request->video().empty()) status = absl::InvalidArgumentError("video: give a path");
  if (!status.ok()) return Reactor::Refuse(status);
  experiments::JobRunPlan no_run;
  absl::StatusOr<experiments::NewJob> job = JobFor(kDetectShotsJob, kShotsLane, *request, no_run, v1::JobOptions());
  if (!job.ok()) return Reactor::Refuse(job.status());
  absl::StatusOr<jobs::Submitted> submitted = runner_->Submit(*job);
  if (!submitted.ok()) return Reactor::Refuse(submitted.status());
  return Reactor::Follow(runner_, submitted->job.id, response);
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
  absl::StatusOr<dataset::ExpandedSources> sources =
      dataset::ExpandSources({build.sources().begin(), build.sources().end()});
  if (!sources.ok()) return Refuse<Response>(sources.status());
  absl::StatusOr<experiments::JobRunPlan> plan = PlanBuild(store_, build, sources->files.size());
  if (!plan.ok()) return Refuse<Response>(plan.status());
  return SubmitAndStream<Response>(runner_, JobFor(kBuildPoolJob, kBuildLane, build, *std::move(plan), build.job()),
                                   build.job().detach());
}

}  // namespace dreamshot::services
