// dreamshot metrics log | history | watch
#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/command.h"
#include "cli/interrupt.h"
#include "cli/table.h"
#include "core/csv.h"

namespace dreamshot::cli {
namespace {

constexpr size_t kBatchPoints = 10000;
constexpr int kAttempts = 3;

std::string RandomHex() {
  std::random_device device;
  const uint64_t value = (static_cast<uint64_t>(device()) << 32) ^ device();
  return absl::StrFormat("%016x", value);
}

// FNV-1a: a stable fingerprint of a batch, so re-running the same CSV upload
// produces the same request ids and the server skips batches it applied.
uint64_t Fingerprint(absl::string_view bytes, uint64_t hash = 1469598103934665603ULL) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

bool Retryable(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable || status.code() == absl::StatusCode::kDeadlineExceeded;
}

// Sends one batch, retrying transient failures with the same request id.
absl::StatusOr<v1::LogMetricsResponse> SendBatch(Client& client, const v1::LogMetricsRequest& request) {
  absl::Status status;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    v1::LogMetricsResponse response;
    status = client.Call(&Client::Stub::LogMetrics, request, &response);
    if (status.ok()) return response;
    if (!Retryable(status) || attempt == kAttempts) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500 * attempt));
  }
  return status;
}

// Reads the whole --csv input ('-': stdin).
absl::StatusOr<std::string> ReadInput(const std::string& path) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return absl::InvalidArgumentError(absl::StrCat("cannot read --csv file ", path));
    in = &file;
  }
  std::ostringstream text;
  text << in->rdbuf();
  if (in->bad()) return absl::InvalidArgumentError(absl::StrCat("error reading ", path));
  return text.str();
}

// Parses "key,step,value[,wall_ms]" records (core/csv.h, so quoted keys may
// hold commas); an optional header record starting with "key" is skipped,
// as are blank lines and records starting with '#'. Fields are trimmed.
absl::StatusOr<std::vector<v1::MetricPoint>> ReadCsv(const std::string& path) {
  absl::StatusOr<std::string> text = ReadInput(path);
  if (!text.ok()) return text.status();
  const core::CsvTable csv = core::ParseCsv(*text);
  auto error = [&](int line, const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": ", what));
  };
  if (!csv.errors.empty()) return error(csv.errors.front().line, csv.errors.front().reason);
  std::vector<v1::MetricPoint> points;
  for (const core::CsvRecord& record : csv.records) {
    std::vector<std::string> fields;
    for (const std::string& f : record.fields) fields.emplace_back(absl::StripAsciiWhitespace(f));
    if (fields.size() == 1 && fields[0].empty()) continue;  // a line of spaces
    if (fields[0].rfind('#', 0) == 0) continue;             // a comment
    if (points.empty() && absl::AsciiStrToLower(fields[0]) == "key") continue;  // header
    if (fields.size() < 3 || fields.size() > 4) {
      return error(record.line, absl::StrCat("expected key,step,value[,wall_ms], got ", fields.size(), " fields"));
    }
    v1::MetricPoint p;
    int64_t step = 0, wall_ms = 0;
    double value = 0;
    if (fields[0].empty()) return error(record.line, "empty metric key");
    if (!absl::SimpleAtoi(fields[1], &step)) {
      return error(record.line, absl::StrCat("step '", fields[1], "' is not an integer"));
    }
    if (!absl::SimpleAtod(fields[2], &value)) {
      return error(record.line, absl::StrCat("value '", fields[2], "' is not a number"));
    }
    if (fields.size() == 4 && !fields[3].empty() && !absl::SimpleAtoi(fields[3], &wall_ms)) {
      return error(record.line, absl::StrCat("wall_ms '", fields[3], "' is not an integer"));
    }
    p.set_key(fields[0]);
    p.set_step(step);
    p.set_value(value);
    p.set_wall_ms(wall_ms);
    points.push_back(std::move(p));
  }
  return points;
}

absl::Status LogCsv(Context& ctx, int64_t run_id, const std::string& path) {
  absl::StatusOr<std::vector<v1::MetricPoint>> points = ReadCsv(path);
  if (!points.ok()) return points.status();
  int64_t accepted = 0, duplicates = 0, batches = 0;
  for (size_t begin = 0; begin < points->size(); begin += kBatchPoints) {
    const size_t end = std::min(points->size(), begin + kBatchPoints);
    v1::LogMetricsRequest request;
    request.set_run_id(run_id);
    request.mutable_points()->Add(points->begin() + begin, points->begin() + end);
    const uint64_t hash = Fingerprint(request.SerializeAsString());
    request.set_request_id(absl::StrFormat("csv-%d-%016x-%d", run_id, hash, batches));
    absl::StatusOr<v1::LogMetricsResponse> response = SendBatch(ctx.client, request);
    if (!response.ok()) {
      return absl::Status(response.status().code(),
                          absl::StrCat(response.status().message(), " (batch ", batches + 1, ", ", accepted,
                                       " points logged before it; re-running skips those)"));
    }
    if (ctx.global.json) {
      absl::Status status = PrintJson(*response, ctx.out);
      if (!status.ok()) return status;
    }
    ++batches;
    accepted += response->accepted();
    duplicates += response->duplicate_request() ? 1 : 0;
  }
  if (!ctx.global.json) {
    ctx.out << "logged " << accepted << " points to run " << run_id << " in " << batches << " batch"
            << (batches == 1 ? "" : "es");
    if (duplicates > 0) ctx.out << " (" << duplicates << " already applied before)";
    ctx.out << "\n";
  }
  return absl::OkStatus();
}

absl::Status Log(Context& ctx) {
  absl::StatusOr<int64_t> run_id = ParseRunId(ctx.args.Positional(0));
  if (!run_id.ok()) return run_id.status();
  const std::vector<std::string>& words = ctx.args.positionals();
  if (auto csv = ctx.args.Get("csv")) {
    if (words.size() > 1) return UsageError("give KEY=VALUE points or --csv FILE, not both");
    if (ctx.args.Has("step")) return UsageError("--step does not apply to --csv (the file has a step column)");
    return LogCsv(ctx, *run_id, *csv);
  }
  if (words.size() < 2) return UsageError("'metrics log' needs KEY=VALUE points or --csv FILE");
  int64_t step = 0;
  if (auto text = ctx.args.Get("step")) {
    absl::StatusOr<int64_t> parsed = ParseInt64(*text, "--step");
    if (!parsed.ok()) return parsed.status();
    step = *parsed;
  }
  v1::LogMetricsRequest request;
  request.set_run_id(*run_id);
  request.set_request_id(absl::StrCat("cli-", RandomHex()));
  for (size_t i = 1; i < words.size(); ++i) {
    absl::StatusOr<std::pair<std::string, std::string>> kv = ParseKeyValue(words[i], "a metric");
    if (!kv.ok()) return kv.status();
    absl::StatusOr<double> value = ParseDouble(kv->second, absl::StrCat("metric '", kv->first, "'"));
    if (!value.ok()) return value.status();
    v1::MetricPoint* p = request.add_points();
    p->set_key(kv->first);
    p->set_step(step);
    p->set_value(*value);
  }
  absl::StatusOr<v1::LogMetricsResponse> response = SendBatch(ctx.client, request);
  if (!response.ok()) return response.status();
  if (ctx.global.json) return PrintJson(*response, ctx.out);
  ctx.out << "logged " << response->accepted() << " point" << (response->accepted() == 1 ? "" : "s")
          << " to run " << *run_id << " at step " << step << "\n";
  return absl::OkStatus();
}

absl::Status History(Context& ctx) {
  absl::StatusOr<int64_t> run_id = ParseRunId(ctx.args.Positional(0));
  if (!run_id.ok()) return run_id.status();
  v1::GetMetricHistoryRequest request;
  request.set_run_id(*run_id);
  request.set_key(ctx.args.Positional(1));
  if (auto text = ctx.args.Get("max-points")) {
    absl::StatusOr<int64_t> n = ParseId(*text, "--max-points");
    if (!n.ok()) return n.status();
    request.set_max_points(*n);
  }
  v1::GetMetricHistoryResponse response;
  absl::Status status = ctx.client.Call(&Client::Stub::GetMetricHistory, request, &response);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(response, ctx.out);
  Table table({"STEP", "VALUE", "TIME"});
  for (const v1::MetricPoint& p : response.points()) {
    table.AddRow({absl::StrCat(p.step()), FormatNumber(p.value()), FormatTime(p.wall_ms())});
  }
  ctx.out << table.Render();
  if (response.total_points() == 0) {
    ctx.out << "no points for '" << request.key() << "' in run " << *run_id << "\n";
  } else if (response.points_size() < response.total_points()) {
    ctx.out << response.points_size() << " of " << response.total_points() << " points (downsampled)\n";
  } else {
    ctx.out << response.total_points() << " point" << (response.total_points() == 1 ? "" : "s") << "\n";
  }
  return absl::OkStatus();
}

absl::Status Watch(Context& ctx) {
  absl::StatusOr<int64_t> run_id = ParseRunId(ctx.args.Positional(0));
  if (!run_id.ok()) return run_id.status();
  v1::WatchMetricsRequest request;
  request.set_run_id(*run_id);
  for (const std::string& key : ctx.args.GetAll("key")) request.add_keys(key);
  request.set_from_start(ctx.args.Has("from-start"));

  grpc::ClientContext context;
  ctx.client.Prepare(&context, /*streaming=*/true);
  std::optional<CancelOnInterrupt> interrupt(&context);
  auto reader = ctx.client.stub().WatchMetrics(&context, request);
  v1::WatchMetricsResponse message;
  absl::Status status;
  v1::RunStatus last_status = v1::RUN_STATUS_UNSPECIFIED;
  while (status.ok() && reader->Read(&message)) {
    last_status = message.status();
    if (ctx.global.json) {
      status = PrintJson(message, ctx.out);
    } else {
      for (const v1::MetricPoint& p : message.points()) {
        ctx.out << FormatTime(p.wall_ms()) << "  step " << p.step() << "  " << p.key() << " = "
                << FormatNumber(p.value()) << "\n";
      }
    }
    ctx.out.flush();
  }
  if (!status.ok()) context.TryCancel();
  const grpc::Status finish = reader->Finish();
  const bool interrupted = interrupt->interrupted();
  interrupt.reset();
  if (interrupted) return InterruptedError();
  if (!status.ok()) return status;
  status = ctx.client.Check(finish);
  if (!status.ok()) return status;
  if (!ctx.global.json) ctx.out << "run " << *run_id << " ended: " << StatusName(last_status) << "\n";
  return absl::OkStatus();
}

}  // namespace

std::vector<Command> MetricsCommands() {
  const PositionalSpec run{"RUN"};
  std::vector<Command> c;
  c.push_back({{"metrics", "log", "Log metric points: KEY=VALUE words at one step, or a CSV file.",
                "The CSV has columns key,step,value[,wall_ms] (a header line is optional; '-' reads stdin) "
                "and is sent in batches of 10000 points. Each batch carries a request id derived from its "
                "content, so a retried or re-run upload is applied once.",
                {run, {"KEY=VALUE", false, true}},
                {{"step", "N", "the step of the KEY=VALUE points (default 0)"},
                 {"csv", "FILE", "read points from a CSV file"}}},
               Log});
  c.push_back({{"metrics", "history", "Print a metric's history (step, value, time).", "",
                {run, {"KEY"}},
                {{"max-points", "N", "downsample to at most N points (LTTB)"}}},
               History});
  c.push_back({{"metrics", "watch", "Print metric points as they are logged, until the run ends.",
                "Ctrl-C stops watching (exit 130). With --json, one WatchMetricsResponse per line.",
                {run},
                {{"key", "KEY", "only this metric (default: all)", true},
                 {"from-start", "", "first print the points logged before"}}},
               Watch});
  return c;
}

}  // namespace dreamshot::cli
