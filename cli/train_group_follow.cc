#include "cli/train_group_follow.h"

#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/interrupt.h"
#include "cli/job_follow.h"
#include "cli/progress_bar.h"
#include "cli/table.h"

namespace dreamshot::cli {
namespace {

bool Ended(v1::JobState state) {
  return state != v1::JOB_QUEUED && state != v1::JOB_RUNNING && state != v1::JOB_STATE_UNSPECIFIED;
}

// One line per change of a child: started, ended (with its loss or why).
std::string ChildLine(const v1::SweepChild& c) {
  std::string line = absl::StrCat(c.name().empty() ? absl::StrCat("job ", c.job_id()) : c.name(), ": ",
                                  JobStateName(c.state()), c.stopped_early().empty() ? "" : " early");
  if (c.state() == v1::JOB_RUNNING) absl::StrAppend(&line, " (job ", c.job_id(), ", run ", c.run_id(), ")");
  if (Ended(c.state()) && c.has_loss()) {
    absl::StrAppend(&line, ", loss ", FormatNumber(c.loss()), " at step ", c.step());
  }
  if (!c.error().empty() && c.state() != v1::JOB_FINISHED) absl::StrAppend(&line, " (", c.error(), ")");
  if (!c.stopped_early().empty()) absl::StrAppend(&line, " (", c.stopped_early(), ")");
  return line;
}

}  // namespace

absl::StatusOr<v1::SweepStatusResponse> FetchTrainGroupStatus(Context& ctx, int64_t job_id) {
  v1::SweepStatusRequest request;
  request.set_job_id(job_id);
  v1::SweepStatusResponse response;
  absl::Status status =
      ctx.client.Call(ctx.client.trainer(), &v1::TrainerService::Stub::SweepStatus, request, &response);
  if (!status.ok()) return status;
  return response;
}

std::string TrainGroupCounts(const v1::SweepStatusResponse& s) {
  std::map<v1::JobState, int> n;
  int early = 0;
  for (const v1::SweepChild& c : s.children()) {
    ++n[c.state()];
    early += c.stopped_early().empty() ? 0 : 1;
  }
  std::vector<std::string> parts;
  for (v1::JobState state : {v1::JOB_FINISHED, v1::JOB_RUNNING, v1::JOB_QUEUED, v1::JOB_CANCELLED, v1::JOB_FAILED,
                             v1::JOB_INTERRUPTED}) {
    if (n[state] == 0) continue;
    parts.push_back(absl::StrCat(n[state], " ", JobStateName(state)));
    if (state == v1::JOB_FINISHED && early > 0) parts.push_back(absl::StrCat(early, " of them early"));
  }
  return absl::StrJoin(parts, ", ");
}

// Polls SweepStatus until the parent ends: a line per child that starts or
// ends, a bar over all the children's steps. Ctrl-C stops following.
absl::Status FollowTrainGroup(Context& ctx, int64_t parent_id, const std::string& label) {
  grpc::ClientContext unused;
  std::optional<CancelOnInterrupt> interrupt(&unused);
  ProgressBar bar(std::cerr, ::isatty(STDERR_FILENO) != 0);
  std::map<int64_t, v1::JobState> seen;
  const auto start = std::chrono::steady_clock::now();
  std::optional<int64_t> first_done;
  while (true) {
    absl::StatusOr<v1::SweepStatusResponse> s = FetchTrainGroupStatus(ctx, parent_id);
    if (!s.ok()) return s.status();
    int64_t done = 0, total = 0;
    for (const v1::SweepChild& c : s->children()) {
      total += c.max_steps();
      done += Ended(c.state()) ? c.max_steps() : c.step();
      auto before = seen.find(c.job_id());
      if (before != seen.end() && before->second == c.state()) continue;
      if (before == seen.end() && c.state() == v1::JOB_QUEUED) {
        seen[c.job_id()] = c.state();
        continue;
      }
      seen[c.job_id()] = c.state();
      bar.Clear();
      ctx.out << ChildLine(c) << "\n" << std::flush;
    }
    if (Ended(s->parent().state())) {
      bar.Clear();
      ctx.out << label << " " << parent_id << ": " << JobStateName(s->parent().state()) << " (" << TrainGroupCounts(*s)
              << ")\n";
      interrupt.reset();
      return JobOutcome(s->parent());
    }
    if (!first_done) first_done = done;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int64_t progressed = done - *first_done;
    const double eta = progressed > 0 ? elapsed * static_cast<double>(total - done) / progressed : 0;
    bar.Update(done, total, TrainGroupCounts(*s), eta);
    for (int i = 0; i < 10; ++i) {
      if (interrupt->interrupted()) {
        bar.Clear();
        std::cerr << "dreamshot: stopped following; " << label << " " << parent_id
                  << " goes on (`dreamshot sweep status " << parent_id << "`)\n";
        return InterruptedError();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace dreamshot::cli
