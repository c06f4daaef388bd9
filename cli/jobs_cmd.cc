// dreamshot jobs list | show | watch | cancel | retry: the jobs dreamshotd
// runs (generations, pair sets, pool builds), through JobService.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/command.h"
#include "cli/interrupt.h"
#include "cli/job_follow.h"
#include "cli/progress_bar.h"
#include "cli/table.h"
#include "dreamshot/v1/dataset.pb.h"
#include "dreamshot/v1/generator.pb.h"
#include "dreamshot/v1/trainer.pb.h"

namespace dreamshot::cli {
namespace {

constexpr int kMaxPageSize = 1000;

absl::StatusOr<v1::JobState> ParseState(const std::string& text) {
  v1::JobState state;
  if (v1::JobState_Parse(absl::StrCat("JOB_", absl::AsciiStrToUpper(text)), &state) &&
      state != v1::JOB_STATE_UNSPECIFIED) {
    return state;
  }
  return UsageError(absl::StrCat("--state must be queued, running, finished, failed, cancelled or interrupted, got '",
                                 text, "'"));
}

absl::StatusOr<int64_t> ParseJobId(const std::string& text) { return ParseId(text, "job id"); }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "42s", "3m", "5h", "2d".
std::string Age(int64_t since_ms, int64_t now_ms) {
  if (since_ms <= 0) return "";
  const int64_t s = std::max<int64_t>(0, (now_ms - since_ms) / 1000);
  if (s < 120) return absl::StrCat(s, "s");
  if (s < 7200) return absl::StrCat(s / 60, "m");
  if (s < 172800) return absl::StrCat(s / 3600, "h");
  return absl::StrCat(s / 86400, "d");
}

// What a job's line says beyond its state: why it did not finish.
std::string Outcome(const v1::Job& job) {
  if (job.error().empty()) return "";
  return job.error_code().empty() ? job.error() : absl::StrCat(job.error_code(), ": ", job.error());
}

absl::Status List(Context& ctx) {
  v1::ListJobsRequest request;
  for (const std::string& s : ctx.args.GetAll("state")) {
    absl::StatusOr<v1::JobState> state = ParseState(s);
    if (!state.ok()) return state.status();
    request.add_states(*state);
  }
  request.set_kind(ctx.args.GetOr("kind", ""));
  request.set_device(ctx.args.GetOr("device", ""));
  if (auto parent = ctx.args.Get("parent")) {
    absl::StatusOr<int64_t> id = ParseId(*parent, "--parent");
    if (!id.ok()) return id.status();
    request.set_parent_id(*id);
  }
  int64_t limit = 50;
  if (auto text = ctx.args.Get("limit")) {
    absl::StatusOr<int64_t> n = ParseId(*text, "--limit");
    if (!n.ok()) return n.status();
    limit = *n;
  }
  request.set_page_token(ctx.args.GetOr("page-token", ""));
  std::vector<v1::Job> jobs;
  std::string next;
  while (true) {
    request.set_page_size(static_cast<int32_t>(std::min<int64_t>(limit - jobs.size(), kMaxPageSize)));
    v1::ListJobsResponse response;
    absl::Status status = ctx.client.Call(ctx.client.jobs(), &v1::JobService::Stub::ListJobs, request, &response);
    if (!status.ok()) return status;
    if (ctx.global.json) {
      status = PrintJson(response, ctx.out);
      if (!status.ok()) return status;
    }
    jobs.insert(jobs.end(), response.jobs().begin(), response.jobs().end());
    next = response.next_page_token();
    if (next.empty() || static_cast<int64_t>(jobs.size()) >= limit) break;
    request.set_page_token(next);
  }
  if (ctx.global.json) return absl::OkStatus();
  const int64_t now = NowMs();
  Table table({"ID", "KIND", "STATE", "DEVICE", "PRI", "RUN", "TRIES", "AGE", "PARENT", "ERROR"});
  for (const v1::Job& job : jobs) {
    table.AddRow({absl::StrCat(job.id()), job.kind(), JobStateName(job.state()), job.device(),
                  absl::StrCat(job.priority()), job.run_id() > 0 ? absl::StrCat(job.run_id()) : "",
                  absl::StrCat(job.attempts()), Age(job.created_ms(), now),
                  job.parent_id() > 0 ? absl::StrCat(job.parent_id()) : "", Outcome(job)});
  }
  ctx.out << table.Render();
  if (jobs.empty()) ctx.out << "(no jobs match)\n";
  if (!next.empty()) ctx.out << "next page: --page-token " << next << "\n";
  return absl::OkStatus();
}

absl::Status Show(Context& ctx) {
  absl::StatusOr<int64_t> id = ParseJobId(ctx.args.Positional(0));
  if (!id.ok()) return id.status();
  v1::GetJobRequest request;
  request.set_job_id(*id);
  v1::Job job;
  absl::Status status = ctx.client.Call(ctx.client.jobs(), &v1::JobService::Stub::GetJob, request, &job);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(job, ctx.out);
  const int64_t now = NowMs();
  ctx.out << "job " << job.id() << " (" << job.kind() << ")\n"
          << "  state      " << JobStateName(job.state()) << "\n"
          << "  device     " << (job.device().empty() ? "(a group)" : job.device()) << ", priority "
          << job.priority() << ", owner " << job.owner() << "\n";
  if (job.run_id() > 0) ctx.out << "  run        " << job.run_id() << "\n";
  if (job.parent_id() > 0) ctx.out << "  parent     " << job.parent_id() << "\n";
  if (job.children() > 0) ctx.out << "  jobs       " << job.children() << " (dreamshot jobs list --parent " << job.id() << ")\n";
  ctx.out << "  attempts   " << job.attempts();
  if (job.auto_retries() > 0) {
    ctx.out << " (" << job.auto_retries() << (job.auto_retries() == 1 ? " automatic resume" : " automatic resumes")
            << " after a restart)";
  }
  ctx.out << "\n  created    " << Age(job.created_ms(), now) << " ago\n";
  if (job.started_ms() > 0) ctx.out << "  started    " << Age(job.started_ms(), now) << " ago\n";
  if (job.ended_ms() > 0) ctx.out << "  ended      " << Age(job.ended_ms(), now) << " ago\n";
  if (!job.error().empty()) ctx.out << "  error      " << Outcome(job) << "\n";
  if (!job.config_json().empty()) ctx.out << "  config     " << job.config_type() << " " << job.config_json() << "\n";
  return absl::OkStatus();
}

// One line for a result the job published.
std::optional<std::string> DescribeOutput(const google::protobuf::Any& any) {
  if (v1::GenerateResponse r; any.UnpackTo(&r) && r.has_image()) {
    return absl::StrCat("image ", r.image().artifact().path(), " (artifact ", r.image().artifact().id(), ", seed ",
                        r.image().seed(), ")");
  }
  if (v1::GeneratePairsResponse r; any.UnpackTo(&r) && r.has_pair()) {
    return absl::StrCat("pair ", r.pair().id(), ": ", r.pair().label_a(), " vs ", r.pair().label_b(), ", seed ",
                        r.pair().seed());
  }
  if (v1::TrainResult r; any.UnpackTo(&r)) {
    return absl::StrCat("adapter ", r.adapter().path(), " (artifact ", r.adapter().id(), ") after ", r.steps(),
                        " steps", r.resumed_from() > 0 ? absl::StrCat(", resumed at step ", r.resumed_from()) : "",
                        r.skipped_images_size() > 0 ? absl::StrCat("; ", r.skipped_images_size(), " images skipped")
                                                    : "");
  }
  if (v1::BuildPoolResponse r; any.UnpackTo(&r)) {
    if (r.has_source()) {
      return absl::StrCat("source ", r.source().source(), r.source().failed() ? " failed: " : ": ",
                          r.source().failed() ? r.source().detail() : absl::StrCat(r.source().shots(), " shots"));
    }
    if (r.has_report()) return absl::StrCat("pool report: ", r.report().items(), " items");
  }
  return std::nullopt;
}

struct ProgressLine {
  int64_t done = 0, total = 0;
  std::string stage;
  double eta_s = 0;
};

// How far, from whichever service's progress it is.
std::optional<ProgressLine> DescribeProgress(const google::protobuf::Any& any) {
  if (v1::GenerateResponse r; any.UnpackTo(&r) && r.has_progress()) {
    return ProgressLine{r.progress().step(), r.progress().total(), r.progress().message(), r.progress().eta_s()};
  }
  if (v1::GeneratePairsResponse r; any.UnpackTo(&r) && r.has_progress()) {
    return ProgressLine{r.progress().step(), r.progress().total(), r.progress().message(), r.progress().eta_s()};
  }
  if (v1::TrainProgress r; any.UnpackTo(&r)) {
    return ProgressLine{r.step(), r.max_steps(),
                        r.step() > 0 ? absl::StrFormat("%s, loss %.4f", r.message(), r.loss()) : r.message(), 0};
  }
  if (v1::BuildPoolResponse r; any.UnpackTo(&r) && r.has_progress()) {
    const auto& p = r.progress();
    return ProgressLine{p.sources_done() + p.sources_skipped(), p.sources_total(),
                        absl::StrCat(p.message(), ", ", p.shots(), " shots"), 0};
  }
  return std::nullopt;
}

}  // namespace

std::string JobStateName(v1::JobState state) {
  std::string name = v1::JobState_Name(state);
  if (name.rfind("JOB_", 0) == 0) name = name.substr(4);
  return absl::AsciiStrToLower(name);
}

absl::Status JobOutcome(const v1::Job& job) {
  switch (job.state()) {
    case v1::JOB_FINISHED:
      return absl::OkStatus();
    case v1::JOB_INTERRUPTED:
      return absl::UnavailableError(absl::StrCat("job ", job.id(), " was interrupted (", job.error(),
                                                 "); `dreamshot jobs retry ", job.id(), "` runs it again"));
    default:
      break;
  }
  absl::StatusCode code = absl::StatusCode::kUnknown;
  for (int c = 1; c <= 16; ++c) {
    if (absl::StatusCodeToString(static_cast<absl::StatusCode>(c)) == job.error_code()) {
      code = static_cast<absl::StatusCode>(c);
    }
  }
  return absl::Status(code, absl::StrCat("job ", job.id(), " ", JobStateName(job.state()), ": ", job.error()));
}

namespace {

absl::Status Watch(Context& ctx) {
  absl::StatusOr<int64_t> id = ParseJobId(ctx.args.Positional(0));
  if (!id.ok()) return id.status();
  int64_t after_seq = 0;
  if (auto after = ctx.args.Get("after-seq")) {
    absl::StatusOr<int64_t> seq = ParseInt64(*after, "--after-seq");
    if (!seq.ok()) return seq.status();
    if (*seq < 0) return UsageError("--after-seq must not be negative");
    after_seq = *seq;
  }
  return FollowJob(ctx, *id, after_seq);
}

absl::Status Cancel(Context& ctx) {
  absl::StatusOr<int64_t> id = ParseJobId(ctx.args.Positional(0));
  if (!id.ok()) return id.status();
  v1::CancelJobRequest request;
  request.set_job_id(*id);
  v1::Job job;
  absl::Status status = ctx.client.Call(ctx.client.jobs(), &v1::JobService::Stub::CancelJob, request, &job);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(job, ctx.out);
  if (job.state() == v1::JOB_RUNNING) {
    ctx.out << "job " << job.id() << ": cancelling (it stops at its next step)\n";
  } else {
    ctx.out << "job " << job.id() << ": " << JobStateName(job.state()) << "\n";
  }
  return absl::OkStatus();
}

absl::Status Retry(Context& ctx) {
  absl::StatusOr<int64_t> id = ParseJobId(ctx.args.Positional(0));
  if (!id.ok()) return id.status();
  v1::RetryJobRequest request;
  request.set_job_id(*id);
  v1::RetryJobResponse response;
  absl::Status status = ctx.client.Call(ctx.client.jobs(), &v1::JobService::Stub::RetryJob, request, &response);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(response, ctx.out);
  for (const v1::Job& job : response.jobs()) {
    ctx.out << "job " << job.id() << ": queued again";
    if (job.run_id() > 0) ctx.out << " (continues run " << job.run_id() << ")";
    ctx.out << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status FollowJob(Context& ctx, int64_t job_id, int64_t after_seq) {
  v1::WatchJobRequest request;
  request.set_job_id(job_id);
  request.set_after_seq(after_seq);
  grpc::ClientContext context;
  ctx.client.Prepare(&context, /*streaming=*/true);
  std::optional<CancelOnInterrupt> interrupt(&context);  // detaches; the job goes on
  auto reader = ctx.client.jobs().WatchJob(&context, request);
  ProgressBar bar(std::cerr, ::isatty(STDERR_FILENO) != 0);
  v1::JobEvent event;
  std::optional<v1::Job> last;
  int64_t seq = after_seq;
  while (reader->Read(&event)) {
    seq = std::max(seq, event.seq());
    if (ctx.global.json) {
      absl::Status status = PrintJson(event, ctx.out);
      if (!status.ok()) return status;
    }
    if (event.has_job()) {
      last = event.job();
      if (!ctx.global.json) {
        bar.Clear();
        ctx.out << "job " << event.job().id() << ": " << JobStateName(event.job().state());
        if (event.job().run_id() > 0) ctx.out << " (run " << event.job().run_id() << ")";
        ctx.out << "\n" << std::flush;
      }
    } else if (event.has_output() && !ctx.global.json) {
      bar.Clear();
      ctx.out << (DescribeOutput(event.output()).value_or(absl::StrCat("output ", event.output().type_url())))
              << "\n" << std::flush;
    } else if (event.has_progress() && !ctx.global.json) {
      if (auto p = DescribeProgress(event.progress())) bar.Update(p->done, p->total, p->stage, p->eta_s);
    } else if (event.missed() > 0 && !ctx.global.json) {
      bar.Clear();
      ctx.out << "(" << event.missed() << " earlier events are no longer kept)\n";
    }
  }
  bar.Clear();
  const bool interrupted = interrupt->interrupted();
  interrupt.reset();
  const grpc::Status finished = reader->Finish();
  if (interrupted) {
    std::cerr << "dreamshot: stopped watching; job " << job_id << " goes on (`dreamshot jobs watch " << job_id
              << " --after-seq " << seq << "`)\n";
    return InterruptedError();
  }
  absl::Status status = ctx.client.Check(finished);
  if (!status.ok()) return status;
  if (!last.has_value()) return absl::InternalError("the watch ended without the job's state");
  return JobOutcome(*last);
}

std::vector<Command> JobsCommands() {
  const PositionalSpec kJob{"JOB"};
  std::vector<Command> c;
  c.push_back({{"jobs", "list", "List jobs, newest first: kind, state, device, run, attempts, error.",
                "Generations, pair sets and pool builds are jobs; queued ones survive a restart of dreamshotd.",
                {},
                {{"state", "STATE", "queued, running, finished, failed, cancelled or interrupted", true},
                 {"kind", "KIND", "generate, pairs, build_pool, detect_shots"},
                 {"device", "DEVICE", "cpu, cuda:0, dataset-build, ..."},
                 {"parent", "JOB", "only the jobs of this group (a sweep)"},
                 {"limit", "N", "show at most N jobs (default 50)"},
                 {"page-token", "TOKEN", "continue a previous listing"}}},
               List});
  c.push_back({{"jobs", "show", "Show a job: state, run, attempts, error and the request it runs.", "", {kJob}, {}},
               Show});
  c.push_back({{"jobs", "watch", "Follow a job until it ends; exits with its outcome.",
                "Prints state changes and results, with a progress bar on a terminal. Ctrl-C stops watching (exit "
                "130) and leaves the job running; --after-seq goes on from the last event seen.",
                {kJob},
                {{"after-seq", "N", "start after event N"}}},
               Watch});
  c.push_back({{"jobs", "cancel", "Cancel a job: a queued one leaves at once, a running one stops at its next step.",
                "A group (a sweep) cancels each of its jobs.", {kJob}, {}},
               Cancel});
  c.push_back({{"jobs", "retry", "Queue a failed, cancelled or interrupted job again; it continues its run.",
                "For a group, each such job in it. A finished job is refused (FAILED_PRECONDITION, exit 5).",
                {kJob},
                {}},
               Retry});
  return c;
}

}  // namespace dreamshot::cli
