#include "jobs/job_runner.h"

#include <glog/logging.h>

#include <exception>

#include "absl/strings/str_cat.h"
#include "core/exception_text.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/store.h"
#include "jobs/job_run.h"

namespace dreamshot::jobs {

using experiments::JobRecord;
using experiments::JobState;

namespace {

constexpr char kStoppedWhileRunning[] = "the server stopped while this run was active";

bool IsGroup(const JobRecord& job) { return job.device.empty(); }

}  // namespace

JobRunner::JobRunner(experiments::ExperimentStore* store, RunnerOptions options)
    : store_(store), jobs_(store->database()), options_(std::move(options)), events_(options_.events) {}

JobRunner::~JobRunner() { Shutdown(); }

void JobRunner::Register(JobKind kind) {
  std::string name = kind.name;
  kinds_[name] = std::move(kind);
}

void JobRunner::AddProgressListener(ProgressListener listener) { listeners_.push_back(std::move(listener)); }

int JobRunner::Lane::Load() const {
  int grouped = 0;
  for (const auto& [group, n] : group_jobs) grouped += n;
  return running + static_cast<int>(queued.size()) - grouped + static_cast<int>(group_jobs.size());
}

int64_t JobRunner::Lane::Next(const std::map<int64_t, int>& group_limits) const {
  for (const auto& [priority, id] : queued) {
    auto group = group_of.find(id);
    if (group == group_of.end()) return id;
    auto limit = group_limits.find(group->second);
    if (limit == group_limits.end() || limit->second <= 0) return id;
    auto running_now = group_running.find(group->second);
    if (running_now == group_running.end() || running_now->second < limit->second) return id;
  }
  return 0;
}

void JobRunner::Lane::Add(int64_t id, int priority, int64_t group) {
  if (!queued.insert({-priority, id}).second) return;
  if (group > 0) {
    group_of[id] = group;
    ++group_jobs[group];
  }
}

bool JobRunner::Lane::Unqueue(int64_t id, int priority) { return queued.erase({-priority, id}) > 0; }

void JobRunner::Lane::Finish(int64_t id) {
  auto group = group_of.find(id);
  if (group == group_of.end()) return;
  if (--group_jobs[group->second] <= 0) group_jobs.erase(group->second);
  group_of.erase(group);
}

JobRunner::Lane& JobRunner::LaneFor(const std::string& device) {
  auto& lane = lanes_[device];
  if (!lane) {
    lane = std::make_unique<Lane>();
    lane->device = device;
    auto c = options_.concurrency.find(device);
    lane->concurrency = std::max(1, c != options_.concurrency.end() ? c->second : options_.default_concurrency);
    for (int i = 0; i < lane->concurrency; ++i) lane->workers.emplace_back([this, l = lane.get()] { Work(l); });
  }
  return *lane;
}

absl::StatusOr<RecoveryReport> JobRunner::Start() {
  RecoveryReport report;
  // We hold the store's lock: no other process runs these jobs.
  ASSIGN_OR_RETURN(std::vector<JobRecord> interrupted,
                   jobs_.InterruptRunning("the server stopped while it ran"));
  for (const JobRecord& job : interrupted) {
    ++report.interrupted;
    if (OwnsRun(job) && job.run.run_id > 0) {
      const std::string note =
          absl::StrCat("found interrupted at ", experiments::NoteTime(core::NowMillis()), " (", kStoppedWhileRunning, ")");
      if (store_->EndRun(job.run.run_id, experiments::RunStatus::kFailed, note).ok()) ++report.failed_runs;
    }
    auto kind = kinds_.find(job.kind);
    if (kind != kinds_.end() && kind->second.resumable && job.auto_retries < options_.max_auto_retries) {
      RETURN_IF_ERROR(jobs_.Requeue(job.id, /*automatic=*/true, "resumed").status());
      ++report.resumed;
    }
  }
  // Runs a server made before jobs were stored (or whose job row is gone).
  ASSIGN_OR_RETURN(int64_t legacy, store_->FailInterruptedRuns(kStoppedWhileRunning));
  report.failed_runs += legacy;

  ASSIGN_OR_RETURN(std::vector<std::string> devices, jobs_.QueuedDevices());
  std::vector<JobRecord> queued;
  for (const std::string& device : devices) {
    ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, jobs_.Queued(device));
    queued.insert(queued.end(), jobs.begin(), jobs.end());
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    started_ = true;
  }
  for (const JobRecord& job : queued) {
    auto kind = kinds_.find(job.kind);
    if (kind != kinds_.end() && !kind->second.survives_restart) {
      RETURN_IF_ERROR(jobs_.End(job.id, JobState::kCancelled, static_cast<int>(absl::StatusCode::kCancelled),
                                "the call that made it went away when the server stopped")
                          .status());
      continue;
    }
    Enqueue(job);
    ++report.queued;
  }
  // A group stays running in the store across a restart, but its run was
  // failed above with the other running ones, and children left
  // interrupted may leave it nothing to wait for: settle each.
  experiments::JobQuery running;
  running.states = {JobState::kRunning};
  running.limit = 1 << 20;
  ASSIGN_OR_RETURN(std::vector<JobRecord> groups, jobs_.List(running));
  for (const JobRecord& group : groups) {
    if (IsGroup(group)) Settle(group.id);
  }
  return report;
}

void JobRunner::Enqueue(const JobRecord& job) {
  events_.Open(job.id);
  if (job.parent_id > 0) LearnGroupLimit(job.parent_id);
  {
    std::lock_guard<std::mutex> lock(mu_);
    LaneFor(job.device).Add(job.id, job.priority, job.parent_id);
  }
  work_.notify_all();
}

int JobRunner::GroupLimitOf(const JobRecord& group) const {
  auto kind = kinds_.find(group.kind);
  if (kind == kinds_.end() || !kind->second.max_running_children) return 0;
  return kind->second.max_running_children(group);
}

void JobRunner::LearnGroupLimit(int64_t group_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (group_limits_.count(group_id) > 0) return;
  }
  absl::StatusOr<JobRecord> group = jobs_.Get(group_id);
  const int limit = group.ok() ? GroupLimitOf(*group) : 0;
  std::lock_guard<std::mutex> lock(mu_);
  group_limits_[group_id] = limit;
}

absl::StatusOr<Submitted> JobRunner::Submit(const experiments::NewJob& job) {
  auto kind = kinds_.find(job.kind);
  if (kind == kinds_.end()) return absl::InvalidArgumentError(absl::StrCat("no job kind '", job.kind, "'"));
  if (!kind->second.run) {
    return absl::InvalidArgumentError(absl::StrCat("job kind '", job.kind, "' is a kind of group, not of job"));
  }
  if (job.device.empty()) return absl::InvalidArgumentError("a job needs a device to run on");
  if (job.parent_id > 0) LearnGroupLimit(job.parent_id);
  Submitted submitted;
  {
    // Held across the insert so that two submissions cannot both take the
    // last place of a device.
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || !started_) return absl::UnavailableError("the server is stopping: no new jobs");
    Lane& lane = LaneFor(job.device);
    const int load = lane.Load();
    // A group already here has its place.
    if (load >= options_.capacity && (job.parent_id <= 0 || lane.group_jobs.count(job.parent_id) == 0)) {
      return absl::ResourceExhaustedError(absl::StrCat("the ", job.device, " queue is full: ", load,
                                                       " jobs waiting or running (capacity ", options_.capacity,
                                                       "); retry later"));
    }
    ASSIGN_OR_RETURN(submitted.job, jobs_.Create(job));
    const std::pair<int, int64_t> key{-job.priority, submitted.job.id};
    submitted.ahead = lane.running;
    for (const auto& other : lane.queued) {
      if (other < key) ++submitted.ahead;
    }
    events_.Open(submitted.job.id);
    lane.Add(submitted.job.id, job.priority, job.parent_id);
  }
  work_.notify_all();
  if (submitted.job.parent_id > 0) Settle(submitted.job.parent_id);
  return submitted;
}

absl::StatusOr<JobRecord> JobRunner::CreateGroupLocked(const experiments::NewJob& group) {
  experiments::NewJob g = group;
  g.group = true;
  g.device.clear();
  if (g.run.mode != experiments::RunMode::kNew) g.run = {};
  g.run.run_id = 0;
  ASSIGN_OR_RETURN(JobRecord created, jobs_.Create(g));
  if (created.run.mode == experiments::RunMode::kNew) {
    absl::StatusOr<int64_t> run = StartJobRun(*store_, jobs_, created);
    if (!run.ok()) {
      (void)jobs_.End(created.id, JobState::kFailed, static_cast<int>(run.status().code()),
                      std::string(run.status().message()));
      return run.status();
    }
    created.run.run_id = *run;
  }
  group_limits_[created.id] = GroupLimitOf(created);
  events_.Open(created.id);
  return created;
}

absl::StatusOr<JobRecord> JobRunner::CreateGroup(const experiments::NewJob& group) {
  std::lock_guard<std::mutex> lock(mu_);
  return CreateGroupLocked(group);
}

absl::StatusOr<GroupSubmitted> JobRunner::SubmitGroup(const experiments::NewJob& group,
                                                      std::vector<experiments::NewJob> children) {
  for (const experiments::NewJob& child : children) {
    auto kind = kinds_.find(child.kind);
    if (kind == kinds_.end() || !kind->second.run) {
      return absl::InvalidArgumentError(absl::StrCat("no job kind '", child.kind, "'"));
    }
    if (child.device.empty()) return absl::InvalidArgumentError("a job needs a device to run on");
  }
  GroupSubmitted out;
  {
    // Held throughout, as in Submit: nobody takes the place the check found.
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || !started_) return absl::UnavailableError("the server is stopping: no new jobs");
    std::set<std::string> devices;
    for (const experiments::NewJob& child : children) devices.insert(child.device);
    for (const std::string& device : devices) {
      const int load = LaneFor(device).Load();
      if (load >= options_.capacity) {
        return absl::ResourceExhaustedError(absl::StrCat("the ", device, " queue is full: ", load,
                                                         " jobs waiting or running (capacity ", options_.capacity,
                                                         "); retry later"));
      }
    }
    ASSIGN_OR_RETURN(out.group, CreateGroupLocked(group));
    for (experiments::NewJob& child : children) {
      child.parent_id = out.group.id;
      Lane& lane = LaneFor(child.device);
      Submitted submitted;
      ASSIGN_OR_RETURN(submitted.job, jobs_.Create(child));
      const std::pair<int, int64_t> key{-child.priority, submitted.job.id};
      submitted.ahead = lane.running;
      for (const auto& other : lane.queued) {
        if (other < key) ++submitted.ahead;
      }
      events_.Open(submitted.job.id);
      lane.Add(submitted.job.id, child.priority, out.group.id);
      out.children.push_back(std::move(submitted));
    }
  }
  work_.notify_all();
  Settle(out.group.id);
  return out;
}

void JobRunner::Work(Lane* lane) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    int64_t id = 0;
    work_.wait(lock, [&] {
      if (stopping_ || lane->running >= lane->concurrency) return stopping_;
      id = lane->Next(group_limits_);
      return id > 0;
    });
    if (stopping_) return;
    for (auto it = lane->queued.begin(); it != lane->queued.end(); ++it) {
      if (it->second == id) {
        lane->queued.erase(it);
        break;
      }
    }
    ++lane->running;
    auto group = lane->group_of.find(id);
    const int64_t group_id = group == lane->group_of.end() ? 0 : group->second;
    if (group_id > 0) ++lane->group_running[group_id];
    active_[id] = std::make_shared<Active>();
    lock.unlock();
    RunOne(id);
    lock.lock();
    --lane->running;
    if (group_id > 0 && --lane->group_running[group_id] <= 0) lane->group_running.erase(group_id);
    lane->Finish(id);
    active_.erase(id);
    work_.notify_all();
  }
}

void JobRunner::PublishState(const JobRecord& job) {
  JobEvent event;
  event.type = JobEvent::Type::kState;
  event.job = job;
  events_.Publish(job.id, std::move(event));
}

void JobRunner::Settle(int64_t parent_id) {
  absl::StatusOr<JobRecord> group = jobs_.SettleGroup(parent_id);
  if (group.ok()) {
    // Running again after it ended (a retried child), or after a restart:
    // its channel is live again, so watchers follow this round to its end.
    if (!experiments::IsTerminal(group->state)) events_.Open(parent_id);
    SyncGroupRun(*group);
    PublishState(*group);
  } else {
    LOG(WARNING) << "job group " << parent_id << ": " << group.status();
  }
}

void JobRunner::SyncGroupRun(const JobRecord& group) {
  if (group.run.run_id <= 0 || !OwnsRun(group)) return;
  absl::StatusOr<experiments::Run> run = store_->GetRun(group.run.run_id);
  if (!run.ok()) return;
  const bool run_ended = experiments::IsTerminal(run->status);
  const std::string when = experiments::NoteTime(core::NowMillis());
  if (!experiments::IsTerminal(group.state)) {
    if (run_ended) (void)store_->ReopenRun(run->id, absl::StrCat("running again at ", when));
    return;
  }
  const experiments::RunStatus wanted = group.state == JobState::kFinished ? experiments::RunStatus::kFinished
                                        : group.state == JobState::kCancelled ? experiments::RunStatus::kCancelled
                                                                               : experiments::RunStatus::kFailed;
  if (run_ended && run->status == wanted) return;
  // Ended otherwise behind the group's back (a restart fails the runs it
  // finds running, the group's included): the group's outcome stands.
  if (run_ended && !store_->ReopenRun(run->id, "").ok()) return;
  EndJobRun(*store_, group, run->id, group.state,
            absl::Status(static_cast<absl::StatusCode>(group.error_code), group.error));
}

void JobRunner::RunOne(int64_t id) {
  std::shared_ptr<Active> active;
  {
    std::lock_guard<std::mutex> lock(mu_);
    active = active_[id];
  }
  absl::StatusOr<JobRecord> started = jobs_.MarkStarted(id);
  if (!started.ok()) {
    LOG(WARNING) << "job " << id << " cannot start: " << started.status();
    // Left queued in the store but out of its lane it would wait forever,
    // and so would its watchers: end it with the reason.
    absl::StatusOr<JobRecord> job = jobs_.Get(id);
    if (job.ok() && job->state == JobState::kQueued) (void)EndQueued(*job, JobState::kFailed, started.status());
    return;
  }
  JobRecord job = *std::move(started);
  PublishState(job);
  auto kind = kinds_.find(job.kind);
  absl::Status outcome;
  int64_t run_id = 0;
  if (kind == kinds_.end()) {
    outcome = absl::FailedPreconditionError(absl::StrCat("this server has no job kind '", job.kind, "'"));
  } else {
    absl::StatusOr<int64_t> run = StartJobRun(*store_, jobs_, job);
    if (!run.ok()) {
      outcome = run.status();
    } else {
      run_id = *run;
      if (job.run.run_id != run_id) {
        job.run.run_id = run_id;
        PublishState(job);  // watchers learn the run
      }
      JobContext::Publisher publish = [this, id, &job, run_id](bool progress,
                                                               const google::protobuf::Message& message) {
        JobEvent event;
        event.type = progress ? JobEvent::Type::kProgress : JobEvent::Type::kOutput;
        event.payload_type = message.GetDescriptor()->full_name();
        event.payload = message.SerializeAsString();
        events_.Publish(id, std::move(event));
        if (progress) {
          for (const ProgressListener& listen : listeners_) listen(job, run_id, message);
        }
      };
      JobContext context(job, run_id, AttemptPrefix(job, kind->second.resumable), active->flag, std::move(publish));
      try {
        outcome = kind->second.run(context);
      } catch (const std::exception& e) {
        // One line for clients; a LibTorch backtrace goes to the log only.
        outcome = absl::InternalError(absl::StrCat(
            "job failed with an unexpected error: ",
            core::ReportUnexpectedException(e, absl::StrCat("job ", id, " (", job.kind, ")"))));
      }
    }
  }

  bool by_user, stopping;
  std::string reason;
  {
    std::lock_guard<std::mutex> lock(mu_);
    by_user = active->cancelled_by_user;
    reason = active->reason;
    stopping = stopping_;
  }
  JobState state = JobState::kFailed;
  if (outcome.ok()) {
    state = JobState::kFinished;
  } else if (active->flag.cancelled() && by_user) {
    state = JobState::kCancelled;
    outcome = absl::CancelledError(reason.empty() ? absl::StrCat("job ", id, " was cancelled") : reason);
  } else if (active->flag.cancelled() && stopping) {
    state = JobState::kInterrupted;
    outcome = absl::UnavailableError("the server stopped while it ran");
  }
  EndJobRun(*store_, job, run_id, state, outcome, /*note_cancel=*/!reason.empty());
  absl::StatusOr<JobRecord> ended = jobs_.End(id, state, static_cast<int>(outcome.code()),
                                              std::string(outcome.message()));
  if (!ended.ok()) {
    LOG(ERROR) << "job " << id << " ended " << experiments::JobStateName(state) << " but cannot be recorded: "
               << ended.status();
    return;
  }
  if (state == JobState::kInterrupted && kind != kinds_.end() && kind->second.resumable &&
      ended->auto_retries < options_.max_auto_retries) {
    // Stays queued in the store; the next start runs it.
    absl::StatusOr<JobRecord> requeued = jobs_.Requeue(id, /*automatic=*/true, "resumed");
    if (requeued.ok()) ended = std::move(requeued);
  }
  PublishState(*ended);
  if (ended->parent_id > 0) Settle(ended->parent_id);
}

absl::Status JobRunner::EndQueued(const JobRecord& job, JobState state, const absl::Status& why) {
  ASSIGN_OR_RETURN(JobRecord ended, jobs_.End(job.id, state, static_cast<int>(why.code()), std::string(why.message())));
  PublishState(ended);
  if (ended.parent_id > 0) Settle(ended.parent_id);
  return absl::OkStatus();
}

absl::StatusOr<JobRecord> JobRunner::Cancel(int64_t id, const std::string& reason) {
  ASSIGN_OR_RETURN(JobRecord job, jobs_.Get(id));
  if (IsGroup(job)) {
    experiments::JobQuery children;
    children.parent_id = id;
    children.states = {JobState::kQueued, JobState::kRunning};
    children.limit = 1 << 20;
    ASSIGN_OR_RETURN(std::vector<JobRecord> active, jobs_.List(children));
    if (active.empty() && experiments::IsTerminal(job.state)) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", id, " is ", experiments::JobStateName(job.state), ": nothing in it to cancel"));
    }
    for (const JobRecord& child : active) (void)Cancel(child.id, reason);
    return jobs_.Get(id);
  }
  if (job.owner == experiments::JobOwner::kClient) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", id, " is run by a client, not by this server: stop it where it runs"));
  }
  // Ended already (its worker may still be finishing up): nothing to stop.
  if (experiments::IsTerminal(job.state)) {
    return absl::FailedPreconditionError(absl::StrCat("job ", id, " is ", experiments::JobStateName(job.state),
                                                      ": only a queued or running job can be cancelled"));
  }
  bool was_queued = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto lane = lanes_.find(job.device);
    if (lane != lanes_.end() && lane->second->Unqueue(id, job.priority)) {
      lane->second->Finish(id);
      was_queued = true;
    } else if (auto a = active_.find(id); a != active_.end()) {
      a->second->cancelled_by_user = true;
      a->second->reason = reason;
      a->second->flag.Cancel();
      return job;
    }
  }
  if (was_queued || job.state == JobState::kQueued) {
    RETURN_IF_ERROR(EndQueued(job, JobState::kCancelled,
                              absl::CancelledError(reason.empty()
                                                       ? absl::StrCat("job ", id, " was cancelled while queued")
                                                       : reason)));
    return jobs_.Get(id);
  }
  return absl::FailedPreconditionError(absl::StrCat("job ", id, " is ", experiments::JobStateName(job.state),
                                                    ": only a queued or running job can be cancelled"));
}

absl::StatusOr<std::vector<JobRecord>> JobRunner::Retry(int64_t id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || !started_) return absl::UnavailableError("the server is stopping: no new jobs");
  }
  ASSIGN_OR_RETURN(JobRecord job, jobs_.Get(id));
  std::vector<JobRecord> targets;
  if (IsGroup(job)) {
    experiments::JobQuery children;
    children.parent_id = id;
    children.states = {JobState::kFailed, JobState::kCancelled, JobState::kInterrupted};
    children.limit = 1 << 20;
    ASSIGN_OR_RETURN(targets, jobs_.List(children));
    if (targets.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", id, " is ", experiments::JobStateName(job.state),
                       " and none of its jobs failed, was cancelled or was interrupted"));
    }
  } else {
    if (job.owner == experiments::JobOwner::kClient) {
      return absl::FailedPreconditionError(absl::StrCat("job ", id, " is run by a client, not by this server"));
    }
    targets.push_back(job);
  }
  std::vector<JobRecord> queued;
  for (const JobRecord& target : targets) {
    ASSIGN_OR_RETURN(JobRecord requeued, jobs_.Requeue(target.id, /*automatic=*/false, "retried"));
    queued.push_back(std::move(requeued));
  }
  // The group runs again before any of its jobs can start (and end it
  // early, before the others are back in the queue).
  if (queued.front().parent_id > 0) Settle(queued.front().parent_id);
  for (const JobRecord& job : queued) {
    Enqueue(job);
    PublishState(job);
  }
  return queued;
}

absl::StatusOr<int64_t> JobRunner::Watch(int64_t id, int64_t after_seq, JobEventHub::Sink sink) {
  ASSIGN_OR_RETURN(JobRecord job, jobs_.Get(id));
  return events_.Watch(id, after_seq, job, std::move(sink));
}

void JobRunner::Shutdown() {
  std::lock_guard<std::mutex> shutdown(shutdown_mu_);
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (auto& [id, active] : active_) active->flag.Cancel();
    for (auto& [device, lane] : lanes_) {
      for (auto& t : lane->workers) workers.push_back(std::move(t));
      lane->workers.clear();
    }
  }
  work_.notify_all();
  for (auto& t : workers) t.join();
  events_.Stop([this](int64_t id) {
    absl::StatusOr<JobRecord> job = jobs_.Get(id);
    JobRecord out;
    if (job.ok()) out = *std::move(job);
    out.id = id;
    return out;
  });
}

}  // namespace dreamshot::jobs
