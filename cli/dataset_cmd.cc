// dreamshot dataset splits | export: the pool of a dataset-building run.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/table.h"

namespace dreamshot::cli {
namespace {

absl::Status Splits(Context& ctx) {
  absl::StatusOr<int64_t> run_id = ParseRunId(ctx.args.Positional(0));
  if (!run_id.ok()) return run_id.status();
  v1::DrawSplitsRequest request;
  request.set_run_id(*run_id);
  for (const auto& [flag, set] : std::vector<std::pair<const char*, void (v1::DrawSplitsRequest::*)(int64_t)>>{
           {"train-per-scale", &v1::DrawSplitsRequest::set_train_per_scale},
           {"eval", &v1::DrawSplitsRequest::set_eval_total}}) {
    absl::StatusOr<int64_t> value = ParseInt64(*ctx.args.Get(flag), absl::StrCat("--", flag));
    if (!value.ok()) return value.status();
    (request.*set)(*value);
  }
  if (auto seed = ctx.args.Get("seed")) {
    absl::StatusOr<int64_t> value = ParseInt64(*seed, "--seed");
    if (!value.ok()) return value.status();
    request.set_seed(static_cast<uint64_t>(*value));
  }
  if (auto confidence = ctx.args.Get("min-confidence")) {
    absl::StatusOr<double> value = ParseDouble(*confidence, "--min-confidence");
    if (!value.ok()) return value.status();
    request.set_min_confidence(*value);
  }
  request.set_prefix(ctx.args.GetOr("prefix", ""));
  v1::DrawSplitsResponse response;
  absl::Status status = ctx.client.Call(ctx.client.dataset(), &v1::DatasetService::Stub::DrawSplits, request, &response);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(response, ctx.out);
  Table table({"SPLIT", "ITEMS"});
  std::map<std::string, int64_t> sorted(response.split_sizes().begin(), response.split_sizes().end());
  for (const auto& [name, size] : sorted) table.AddRow({name, absl::StrCat(size)});
  ctx.out << table.Render();
  return absl::OkStatus();
}

absl::Status Export(Context& ctx) {
  absl::StatusOr<int64_t> run_id = ParseRunId(ctx.args.Positional(0));
  if (!run_id.ok()) return run_id.status();
  v1::ExportManifestRequest request;
  request.set_run_id(*run_id);
  request.set_format(ctx.args.GetOr("format", "jsonl"));
  request.set_kept_only(ctx.args.Has("kept-only"));
  v1::ExportManifestResponse response;
  absl::Status status =
      ctx.client.Call(ctx.client.dataset(), &v1::DatasetService::Stub::ExportManifest, request, &response);
  if (!status.ok()) return status;
  const std::string out = ctx.args.GetOr("out", "");
  if (out.empty()) {
    ctx.out << response.content();
    return absl::OkStatus();
  }
  std::ofstream file(out, std::ios::binary);
  file << response.content();
  file.close();
  if (!file) return absl::InternalError(absl::StrCat("cannot write ", out));
  std::cerr << "wrote " << response.items() << " items to " << out << "\n";
  return absl::OkStatus();
}

absl::Status Import(Context& ctx, bool labels) {
  absl::StatusOr<int64_t> run_id = ParseRunId(ctx.args.Positional(0));
  if (!run_id.ok()) return run_id.status();
  v1::ImportRequest request;
  request.set_run_id(*run_id);
  request.set_path(AbsolutePath(ctx.args.Positional(1)));
  if (auto confidence = ctx.args.Get("default-confidence")) {
    absl::StatusOr<double> value = ParseDouble(*confidence, "--default-confidence");
    if (!value.ok()) return value.status();
    request.set_default_confidence(*value);
  }
  v1::ImportResponse response;
  auto method = labels ? &v1::DatasetService::Stub::ImportLabels : &v1::DatasetService::Stub::ImportCaptions;
  absl::Status status = ctx.client.Call(ctx.client.dataset(), method, request, &response);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(response, ctx.out);
  int dropped = 0;
  for (const v1::ImportIssue& issue : response.issues()) {
    ctx.out << issue.message() << "\n";
    dropped += issue.dropped();
  }
  ctx.out << "applied " << response.applied() << " " << (labels ? "label" : "caption")
          << (response.applied() == 1 ? "" : "s") << "; " << dropped << " row(s) left out\n";
  return absl::OkStatus();
}

}  // namespace

std::vector<Command> DatasetCommands() {
  const PositionalSpec run{"RUN"};
  return {
      {{"dataset", "splits", "Draw seeded, stratified training and evaluation splits from a pool.",
        "Per shot scale (close, medium, long) --train-per-scale items for training, and an evaluation set of "
        "--eval items split evenly over the scales, disjoint from the training sets. Stored as named splits of "
        "the run (train/close, train/medium, train/long, eval; --prefix to draw again).",
        {run},
        {{"train-per-scale", "N", "training items per shot scale", false, true},
         {"eval", "N", "evaluation items, a multiple of 3", false, true},
         {"seed", "N", "the draw's seed (default 0)"},
         {"min-confidence", "C", "only labels with at least this confidence"},
         {"prefix", "TEXT", "prefix of the split names"}}},
       Splits},
      {{"dataset", "export", "Print or write a pool's manifest (JSONL or CSV) with every item's provenance.",
        "",
        {run},
        {{"format", "FORMAT", "jsonl (default) or csv"},
         {"kept-only", "", "leave out items a filter dropped"},
         {"out", "FILE", "write to FILE instead of stdout"}}},
       Export},
      {{"dataset", "import-labels", "Import shot-scale labels from a CSV or JSONL file into a pool.",
        "Columns/keys: id (item id) or path (\"<source>#<shot>\"), scale (close/medium/long or ECS/CS/MS/FS/LS), "
        "optional fine and confidence. Bad rows are listed with file:line and left out; the rest are applied "
        "together.",
        {run, {"FILE"}},
        {{"default-confidence", "C", "confidence of rows that give none (default 1)"}}},
       [](Context& ctx) { return Import(ctx, /*labels=*/true); }},
      {{"dataset", "import-captions", "Import captions (id or path, caption) from a CSV or JSONL file into a pool.",
        "A leading shot-type phrase (\"close shot, ...\") is stripped with a warning: training prompts add the "
        "pool's label themselves.",
        {run, {"FILE"}},
        {}},
       [](Context& ctx) { return Import(ctx, /*labels=*/false); }},
  };
}

}  // namespace dreamshot::cli
