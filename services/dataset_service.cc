#include "services/dataset_service.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "services/dataset_convert.h"
#include "dataset/labels/label_import.h"
#include "dataset/manifest.h"
#include "dataset/pool_summary.h"
#include "dataset/sampling.h"
#include "dataset/types.h"

namespace dreamshot::services {
namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

absl::Status RequireRun(int64_t run_id) {
  if (run_id <= 0) return absl::InvalidArgumentError("run_id must be a positive run id");
  return absl::OkStatus();
}

// Item id → the splits it is in, for the manifest.
absl::StatusOr<std::map<int64_t, std::vector<std::string>>> SplitMembership(experiments::DatasetStore* store,
                                                                            int64_t run_id) {
  std::map<int64_t, std::vector<std::string>> membership;
  ASSIGN_OR_RETURN(auto splits, store->ListDatasetSplits(run_id));
  for (const auto& [name, count] : splits) {
    ASSIGN_OR_RETURN(std::vector<int64_t> ids, store->GetDatasetSplit(run_id, name));
    for (int64_t id : ids) membership[id].push_back(name);
  }
  return membership;
}

// The keys an import row may use for an item: its id, or "<source>#<shot>".
struct PoolKeys {
  dataset::labels::KnownKeys known;
  std::map<std::string, int64_t> item_of;
};

absl::StatusOr<PoolKeys> KeysOf(experiments::DatasetStore* store, int64_t run_id) {
  ASSIGN_OR_RETURN(std::vector<experiments::DatasetItem> items, store->ListDatasetItems(run_id));
  if (items.empty()) return absl::FailedPreconditionError(absl::StrCat("run ", run_id, " has no dataset items"));
  PoolKeys keys;
  for (const auto& item : items) {
    for (std::string key : {absl::StrCat(item.id), absl::StrCat(item.source, "#", item.shot_index)}) {
      keys.known.insert(key);
      keys.item_of[key] = item.id;
    }
  }
  return keys;
}

void ToProto(const std::vector<dataset::labels::ImportIssue>& issues, v1::ImportResponse* response) {
  for (const auto& issue : issues) {
    v1::ImportIssue* out = response->add_issues();
    out->set_message(issue.ToString());
    out->set_dropped(issue.severity == dataset::labels::ImportIssue::Severity::kDropped);
  }
}

}  // namespace

ServerUnaryReactor* DatasetServiceImpl::ImportLabels(CallbackServerContext* context, const v1::ImportRequest* request,
                                                     v1::ImportResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireRun(request->run_id()));
    ASSIGN_OR_RETURN(PoolKeys keys, KeysOf(datasets_, request->run_id()));
    dataset::labels::ImportOptions options;
    if (request->has_default_confidence()) options.default_confidence = request->default_confidence();
    ASSIGN_OR_RETURN(dataset::labels::LabelImport imported,
                     dataset::labels::ImportLabels(request->path(), keys.known, options));
    std::vector<experiments::DatasetLabelUpdate> updates;
    for (const auto& row : imported.labels) {
      const dataset::ScaleLabel& l = row.label;
      updates.push_back({keys.item_of.at(row.key), dataset::ShotScaleName(l.scale), dataset::FineShotScaleName(l.fine),
                         l.confidence, l.method, l.evidence});
    }
    RETURN_IF_ERROR(datasets_->SetDatasetLabels(request->run_id(), updates));
    response->set_applied(static_cast<int64_t>(updates.size()));
    ToProto(imported.issues, response);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* DatasetServiceImpl::ImportCaptions(CallbackServerContext* context,
                                                       const v1::ImportRequest* request,
                                                       v1::ImportResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireRun(request->run_id()));
    ASSIGN_OR_RETURN(PoolKeys keys, KeysOf(datasets_, request->run_id()));
    ASSIGN_OR_RETURN(dataset::labels::CaptionImport imported,
                     dataset::labels::ImportCaptions(request->path(), keys.known));
    std::vector<experiments::DatasetCaptionUpdate> updates;
    for (const auto& row : imported.captions) {
      updates.push_back({keys.item_of.at(row.key), row.caption, absl::StrCat(request->path(), ":", row.line)});
    }
    RETURN_IF_ERROR(datasets_->SetDatasetCaptions(request->run_id(), updates));
    response->set_applied(static_cast<int64_t>(updates.size()));
    ToProto(imported.issues, response);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* DatasetServiceImpl::DrawSplits(CallbackServerContext* context,
                                                   const v1::DrawSplitsRequest* request,
                                                   v1::DrawSplitsResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireRun(request->run_id()));
    ASSIGN_OR_RETURN(std::vector<experiments::DatasetItem> items,
                     datasets_->ListDatasetItems(request->run_id(), /*kept_only=*/true));
    std::vector<dataset::PoolEntry> pool;
    pool.reserve(items.size());
    for (const auto& item : items) {
      const std::optional<dataset::ShotScale> scale = dataset::ParseShotScale(item.scale);
      pool.push_back({item.id, scale.value_or(dataset::ShotScale::kUnknown), item.scale_confidence});
    }
    dataset::SplitOptions options;
    options.train_per_scale = request->train_per_scale();
    options.eval_total = request->eval_total();
    options.seed = request->seed();
    options.min_confidence = request->min_confidence();
    ASSIGN_OR_RETURN(auto splits, dataset::DrawSplits(pool, options));
    std::map<std::string, std::vector<int64_t>> named;
    for (auto& [name, ids] : splits) {
      if (ids.empty()) continue;  // e.g. no eval set asked for
      response->mutable_split_sizes()->insert({request->prefix() + name, static_cast<int64_t>(ids.size())});
      named[request->prefix() + name] = std::move(ids);
    }
    return datasets_->CreateDatasetSplits(request->run_id(), named);
  });
}

ServerUnaryReactor* DatasetServiceImpl::ExportManifest(CallbackServerContext* context,
                                                       const v1::ExportManifestRequest* request,
                                                       v1::ExportManifestResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireRun(request->run_id()));
    const std::string format = request->format().empty() ? "jsonl" : request->format();
    if (format != "jsonl" && format != "csv") {
      return absl::InvalidArgumentError(absl::StrCat("manifest format must be jsonl or csv, got '", format, "'"));
    }
    ASSIGN_OR_RETURN(std::vector<experiments::DatasetItem> items,
                     datasets_->ListDatasetItems(request->run_id(), request->kept_only()));
    ASSIGN_OR_RETURN(auto membership, SplitMembership(datasets_, request->run_id()));
    if (format == "csv") {
      response->set_content(dataset::ManifestCsv(items, membership));
    } else {
      ASSIGN_OR_RETURN(std::string jsonl, dataset::ManifestJsonl(items, membership));
      response->set_content(std::move(jsonl));
    }
    response->set_items(static_cast<int64_t>(items.size()));
    return absl::OkStatus();
  });
}

ServerUnaryReactor* DatasetServiceImpl::DescribePool(CallbackServerContext* context,
                                                     const v1::DescribePoolRequest* request,
                                                     v1::PoolReport* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireRun(request->run_id()));
    ASSIGN_OR_RETURN(dataset::PoolSummary summary, dataset::SummarizePool(*datasets_, request->run_id()));
    ToProto(summary, response);
    response->set_run_id(request->run_id());
    return absl::OkStatus();
  });
}

}  // namespace dreamshot::services
