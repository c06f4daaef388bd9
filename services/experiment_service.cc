#include "services/experiment_service.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "experiments/compare.h"
#include "experiments/downsample.h"
#include "rpc/grpc_status.h"
#include "services/artifact_download.h"
#include "services/artifact_upload.h"
#include "services/config_flatten.h"
#include "services/experiment_convert.h"
#include "services/metric_watch.h"

namespace dreamshot::services {

using rpc::ToGrpcStatus;

namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

absl::Status RequireRunId(int64_t run_id) {
  if (run_id <= 0) return absl::InvalidArgumentError("run_id must be a positive run id");
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ResolveExperiment(experiments::ExperimentStore* store,
                                          const v1::CreateRunRequest& r) {
  if (r.experiment_id() > 0) return r.experiment_id();
  if (r.experiment_name().empty()) {
    return absl::InvalidArgumentError("name the run's experiment (experiment_id or experiment_name)");
  }
  ASSIGN_OR_RETURN(experiments::Experiment e, store->GetExperimentByName(r.experiment_name()));
  return e.id;
}

// The artifact a GetArtifact request names, which must belong to its run.
absl::StatusOr<experiments::Artifact> FindArtifact(experiments::ExperimentStore& store,
                                                   experiments::ArtifactStore& artifacts,
                                                   const v1::GetArtifactRequest& r) {
  switch (r.artifact_case()) {
    case v1::GetArtifactRequest::kPath: {
      // (run, path) is unique; listing also says NOT_FOUND for an unknown run.
      ASSIGN_OR_RETURN(std::vector<experiments::Artifact> list, artifacts.ListArtifacts(r.run_id()));
      for (experiments::Artifact& a : list) {
        if (a.path == r.path()) return std::move(a);
      }
      return absl::NotFoundError(absl::StrCat("run ", r.run_id(), " has no artifact at path '", r.path(), "'"));
    }
    case v1::GetArtifactRequest::kArtifactId: {
      RETURN_IF_ERROR(store.GetRun(r.run_id()).status());
      absl::StatusOr<experiments::Artifact> a = artifacts.GetArtifact(r.artifact_id());
      if (a.ok() && a->run_id == r.run_id()) return a;
      if (!a.ok() && a.status().code() != absl::StatusCode::kNotFound) return a.status();
      return absl::NotFoundError(absl::StrCat("run ", r.run_id(), " has no artifact ", r.artifact_id()));
    }
    default:
      return absl::InvalidArgumentError("name the artifact: its path in the run or its artifact_id");
  }
}

}  // namespace

ExperimentServiceImpl::ExperimentServiceImpl(experiments::ExperimentStore* store, experiments::ArtifactStore* artifacts,
                                             experiments::ArtifactBlobs* blobs, const RpcGuard* guard,
                                             ExperimentServiceOptions options)
    : store_(store),
      artifacts_(artifacts),
      blobs_(blobs),
      guard_(guard),
      options_(options),
      active_watches_(std::make_shared<std::atomic<int>>(0)) {}

ServerUnaryReactor* ExperimentServiceImpl::CreateExperiment(CallbackServerContext* context,
                                                            const v1::CreateExperimentRequest* request,
                                                            v1::Experiment* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(experiments::Experiment e,
                     store_->CreateExperiment(request->name(), request->description(),
                                              {request->tags().begin(), request->tags().end()}));
    ToProto(e, response);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* ExperimentServiceImpl::GetExperiment(CallbackServerContext* context,
                                                         const v1::GetExperimentRequest* request,
                                                         v1::Experiment* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    absl::StatusOr<experiments::Experiment> e;
    switch (request->experiment_case()) {
      case v1::GetExperimentRequest::kId:
        e = store_->GetExperiment(request->id());
        break;
      case v1::GetExperimentRequest::kName:
        e = store_->GetExperimentByName(request->name());
        break;
      default:
        return absl::InvalidArgumentError("name the experiment by id or name");
    }
    if (!e.ok()) return e.status();
    ToProto(*e, response);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* ExperimentServiceImpl::ListExperiments(CallbackServerContext* context,
                                                           const v1::ListExperimentsRequest*,
                                                           v1::ListExperimentsResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<experiments::Experiment> list, store_->ListExperiments());
    for (const auto& e : list) ToProto(e, response->add_experiments());
    return absl::OkStatus();
  });
}

ServerUnaryReactor* ExperimentServiceImpl::CreateRun(CallbackServerContext* context,
                                                     const v1::CreateRunRequest* request,
                                                     v1::Run* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    experiments::NewRun run;
    ASSIGN_OR_RETURN(run.experiment_id, ResolveExperiment(store_, *request));
    run.name = request->name();
    if (request->parent_run_id() > 0) run.parent_run_id = request->parent_run_id();
    run.tags = {request->tags().begin(), request->tags().end()};
    run.notes = request->notes();
    if (request->has_config()) {
      ASSIGN_OR_RETURN(FlattenedConfig config, FlattenConfig(request->config()));
      run.config_type = config.type_name;
      run.config_json = config.json;
      run.params = std::move(config.params);
    }
    for (const v1::Param& p : request->params()) {
      auto [it, inserted] = run.params.emplace(p.key(), p.value());
      if (!inserted && it->second != p.value()) {
        return absl::InvalidArgumentError(absl::StrCat("param '", p.key(), "' is given twice ('",
                                                       it->second, "' and '", p.value(), "')"));
      }
    }
    if (request->status() != v1::RUN_STATUS_UNSPECIFIED) {
      ASSIGN_OR_RETURN(run.status, FromProto(request->status()));
    }
    ASSIGN_OR_RETURN(experiments::Run created, store_->CreateRun(run));
    ToProto(created, response);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* ExperimentServiceImpl::GetRun(CallbackServerContext* context,
                                                  const v1::GetRunRequest* request, v1::Run* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireRunId(request->run_id()));
    ASSIGN_OR_RETURN(experiments::Run run, store_->GetRun(request->run_id()));
    ToProto(run, response);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* ExperimentServiceImpl::UpdateRun(CallbackServerContext* context,
                                                     const v1::UpdateRunRequest* request,
                                                     v1::Run* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireRunId(request->run_id()));
    experiments::RunUpdate update;
    if (request->status() != v1::RUN_STATUS_UNSPECIFIED) {
      ASSIGN_OR_RETURN(update.status, FromProto(request->status()));
    }
    if (request->set_name()) update.name = request->name();
    if (request->set_notes()) update.notes = request->notes();
    ASSIGN_OR_RETURN(experiments::Run run, store_->UpdateRun(request->run_id(), update));
    ToProto(run, response);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* ExperimentServiceImpl::SetTags(CallbackServerContext* context,
                                                   const v1::SetTagsRequest* request, v1::Run* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireRunId(request->run_id()));
    ASSIGN_OR_RETURN(experiments::Run run,
                     store_->SetTags(request->run_id(), {request->set().begin(), request->set().end()},
                                     {request->remove().begin(), request->remove().end()}));
    ToProto(run, response);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* ExperimentServiceImpl::LogParams(CallbackServerContext* context,
                                                     const v1::LogParamsRequest* request,
                                                     v1::LogParamsResponse*) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireRunId(request->run_id()));
    experiments::Params params;
    for (const v1::Param& p : request->params()) {
      auto [it, inserted] = params.emplace(p.key(), p.value());
      if (!inserted && it->second != p.value()) {
        return absl::InvalidArgumentError(absl::StrCat("param '", p.key(), "' is given twice"));
      }
    }
    return store_->LogParams(request->run_id(), params);
  });
}

ServerUnaryReactor* ExperimentServiceImpl::LogMetrics(CallbackServerContext* context,
                                                      const v1::LogMetricsRequest* request,
                                                      v1::LogMetricsResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireRunId(request->run_id()));
    std::vector<experiments::MetricPoint> points;
    points.reserve(request->points_size());
    for (const v1::MetricPoint& p : request->points()) points.push_back(FromProto(p));
    ASSIGN_OR_RETURN(experiments::LogMetricsResult result,
                     store_->LogMetrics(request->run_id(), std::move(points), request->request_id()));
    response->set_accepted(result.accepted);
    response->set_duplicate_request(result.duplicate_request);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* ExperimentServiceImpl::GetMetricHistory(CallbackServerContext* context,
                                                            const v1::GetMetricHistoryRequest* request,
                                                            v1::GetMetricHistoryResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireRunId(request->run_id()));
    if (request->max_points() < 0) return absl::InvalidArgumentError("max_points must be >= 0");
    ASSIGN_OR_RETURN(std::vector<experiments::MetricPoint> history,
                     store_->GetMetricHistory(request->run_id(), request->key()));
    response->set_total_points(static_cast<int64_t>(history.size()));
    std::vector<experiments::SeriesPoint> series;
    series.reserve(history.size());
    for (const auto& p : history) series.push_back({p.step, p.value, p.wall_ms});
    for (const auto& p : experiments::DownsampleLttb(series, static_cast<size_t>(request->max_points()))) {
      ToProto(experiments::MetricPoint{request->key(), p.step, p.value, p.wall_ms}, response->add_points());
    }
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::WatchMetricsResponse>* ExperimentServiceImpl::WatchMetrics(
    CallbackServerContext* context, const v1::WatchMetricsRequest* request) {
  absl::Status status = guard_->Authenticate(*context);
  if (status.ok()) status = RequireRunId(request->run_id());
  if (!status.ok()) return FailedMetricWatch(ToGrpcStatus(status));
  return StartMetricWatch(store_, *request, {options_.max_concurrent_watches, options_.watch_poll},
                          active_watches_);
}

ServerUnaryReactor* ExperimentServiceImpl::LogArtifact(CallbackServerContext* context,
                                                       const v1::LogArtifactRequest* request,
                                                       v1::ArtifactRef* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireRunId(request->run_id()));
    // Check the run before writing any bytes.
    RETURN_IF_ERROR(store_->GetRun(request->run_id()).status());
    absl::StatusOr<experiments::StoredBlob> blob;
    switch (request->source_case()) {
      case v1::LogArtifactRequest::kContent:
        blob = blobs_->PutBytes(request->content());
        break;
      case v1::LogArtifactRequest::kServerPath:
        blob = blobs_->PutFile(request->server_path());
        break;
      default:
        return absl::InvalidArgumentError("an artifact needs content or a server_path");
    }
    if (!blob.ok()) return blob.status();
    experiments::Artifact artifact;
    artifact.run_id = request->run_id();
    artifact.kind = request->kind();
    artifact.path = request->path();
    artifact.sha256 = blob->sha256;
    artifact.size_bytes = blob->size_bytes;
    artifact.uri = blob->uri;
    ASSIGN_OR_RETURN(experiments::Artifact stored, artifacts_->AddArtifact(artifact));
    ToProto(stored, response);
    return absl::OkStatus();
  });
}

grpc::ServerReadReactor<v1::UploadArtifactRequest>* ExperimentServiceImpl::UploadArtifact(
    CallbackServerContext* context, v1::ArtifactRef* response) {
  return StartArtifactUpload(context, *guard_, artifacts_, blobs_,
                             {options_.max_upload_chunk_bytes, options_.max_artifact_bytes}, response);
}

ServerUnaryReactor* ExperimentServiceImpl::ListArtifacts(CallbackServerContext* context,
                                                         const v1::ListArtifactsRequest* request,
                                                         v1::ListArtifactsResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireRunId(request->run_id()));
    ASSIGN_OR_RETURN(std::vector<experiments::Artifact> list, artifacts_->ListArtifacts(request->run_id()));
    for (const auto& a : list) ToProto(a, response->add_artifacts());
    return absl::OkStatus();
  });
}

grpc::ServerWriteReactor<v1::GetArtifactResponse>* ExperimentServiceImpl::GetArtifact(
    CallbackServerContext* context, const v1::GetArtifactRequest* request) {
  absl::StatusOr<experiments::Artifact> artifact = [&]() -> absl::StatusOr<experiments::Artifact> {
    RETURN_IF_ERROR(guard_->Authenticate(*context));
    RETURN_IF_ERROR(RequireRunId(request->run_id()));
    return FindArtifact(*store_, *artifacts_, *request);
  }();
  if (!artifact.ok()) return FailedArtifactDownload(ToGrpcStatus(artifact.status()));
  return StartArtifactDownload(*artifact, options_.artifact_chunk_bytes);
}

ServerUnaryReactor* ExperimentServiceImpl::SearchRuns(CallbackServerContext* context,
                                                      const v1::SearchRunsRequest* request,
                                                      v1::SearchRunsResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    experiments::RunQuery query;
    query.experiment_ids.assign(request->experiment_ids().begin(), request->experiment_ids().end());
    query.filter = request->filter();
    query.order_by = request->order_by();
    query.page_size = request->page_size();
    query.page_token = request->page_token();
    ASSIGN_OR_RETURN(experiments::RunPage page, store_->SearchRuns(query));
    for (const auto& run : page.runs) ToProto(run, response->add_runs());
    response->set_next_page_token(page.next_page_token);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* ExperimentServiceImpl::CompareRuns(CallbackServerContext* context,
                                                       const v1::CompareRunsRequest* request,
                                                       v1::CompareRunsResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    const int n = request->run_ids_size();
    if (n < 2 || n > options_.max_compare_runs) {
      return absl::InvalidArgumentError(absl::StrCat("compare takes 2 to ", options_.max_compare_runs,
                                                     " runs, got ", n));
    }
    ASSIGN_OR_RETURN(std::vector<experiments::Run> runs,
                     store_->GetRuns({request->run_ids().begin(), request->run_ids().end()}));
    for (const auto& run : runs) ToProto(run, response->add_runs());
    ToProto(experiments::CompareRuns(runs), response);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* ExperimentServiceImpl::AggregateRuns(CallbackServerContext* context,
                                                         const v1::AggregateRunsRequest* request,
                                                         v1::AggregateRunsResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    experiments::RunQuery query;
    query.experiment_ids.assign(request->experiment_ids().begin(), request->experiment_ids().end());
    query.filter = request->filter();
    query.order_by = "attributes.run_id asc";
    ASSIGN_OR_RETURN(std::vector<experiments::Run> runs,
                     store_->SearchAllRuns(query, options_.max_aggregate_runs));
    experiments::AggregateOptions options;
    options.ignore_params.assign(request->ignore_params().begin(), request->ignore_params().end());
    options.metrics.assign(request->metrics().begin(), request->metrics().end());
    options.confidence = request->confidence() == 0 ? 0.95 : request->confidence();
    ASSIGN_OR_RETURN(std::vector<experiments::RunGroupAggregate> groups,
                     experiments::AggregateRuns(runs, options));
    for (const auto& g : groups) ToProto(g, response->add_groups());
    response->set_confidence(options.confidence);
    return absl::OkStatus();
  });
}

}  // namespace dreamshot::services
