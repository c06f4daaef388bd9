#include "jobs/job_events.h"

#include <algorithm>
#include <vector>

namespace dreamshot::jobs {

void JobEventHub::Open(int64_t job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& channel = channels_[job_id];
  if (!channel) channel = std::make_unique<Channel>();
  if (channel->ended) {
    // Queued again (a retry): live once more, and the earlier attempt's
    // events (its end above all) are not replayed as this attempt's; a
    // watcher from before is told how many it skips.
    channel->ended = false;
    ended_.remove(job_id);
    channel->outputs.clear();
    channel->output_bytes = 0;
    channel->progress.reset();
    channel->dropped_through = channel->next_seq - 1;
  }
}

void JobEventHub::Deliver(Channel& channel, const JobEvent& event) {
  for (auto it = channel.sinks.begin(); it != channel.sinks.end();) {
    if (it->second(event)) {
      ++it;
    } else {
      it = channel.sinks.erase(it);
    }
  }
}

void JobEventHub::Publish(int64_t job_id, JobEvent event) {
  std::lock_guard<std::mutex> lock(mu_);
  auto found = channels_.find(job_id);
  if (found == channels_.end()) return;
  Channel& channel = *found->second;
  event.seq = channel.next_seq++;
  if (event.type == JobEvent::Type::kState) channel.last_state = event;
  if (event.type == JobEvent::Type::kProgress) {
    channel.progress = event;
  } else {
    channel.output_bytes += static_cast<int64_t>(event.payload.size());
    channel.outputs.push_back(event);
    // The newest output always stays, however large.
    while (channel.output_bytes > options_.max_output_bytes_per_job && channel.outputs.size() > 1) {
      channel.output_bytes -= static_cast<int64_t>(channel.outputs.front().payload.size());
      channel.dropped_through = channel.outputs.front().seq;
      channel.outputs.pop_front();
    }
  }
  Deliver(channel, event);
  const bool terminal = event.type == JobEvent::Type::kState && experiments::IsTerminal(event.job.state);
  if (terminal && !channel.ended) {
    channel.ended = true;
    ended_.push_back(job_id);
    while (static_cast<int>(ended_.size()) > options_.ended_jobs_kept) {
      Retire(ended_.front());
      ended_.pop_front();
    }
  }
}

void JobEventHub::Retire(int64_t job_id) {
  auto found = channels_.find(job_id);
  // A watcher still attached to an ended job has had its terminal event.
  if (found != channels_.end()) channels_.erase(found);
}

int64_t JobEventHub::Watch(int64_t job_id, int64_t after_seq, const experiments::JobRecord& current, Sink sink) {
  std::lock_guard<std::mutex> lock(mu_);
  auto found = channels_.find(job_id);
  if (found == channels_.end()) {
    JobEvent state;
    state.type = JobEvent::Type::kState;
    state.job = current;
    sink(state);
    return 0;
  }
  Channel& channel = *found->second;
  std::vector<const JobEvent*> replay;
  if (after_seq < channel.dropped_through) {
    int64_t missed = 0;
    // Outputs and states the watcher has not seen and the channel dropped.
    missed = channel.dropped_through - after_seq;
    JobEvent gap;
    gap.type = JobEvent::Type::kGap;
    gap.seq = channel.dropped_through;
    gap.missed = missed;
    if (!sink(gap)) return 0;
  }
  for (const JobEvent& e : channel.outputs) {
    if (e.seq > after_seq) replay.push_back(&e);
  }
  if (channel.progress && channel.progress->seq > after_seq) replay.push_back(&*channel.progress);
  std::sort(replay.begin(), replay.end(), [](const JobEvent* a, const JobEvent* b) { return a->seq < b->seq; });
  for (const JobEvent* e : replay) {
    if (!sink(*e)) return 0;
  }
  if (channel.ended) {
    // A watcher that saw the end already is told it again, so it stops.
    if (channel.last_state.seq <= after_seq) sink(channel.last_state);
    return 0;
  }
  const int64_t id = next_watch_++;
  channel.sinks.emplace(id, std::move(sink));
  return id;
}

bool JobEventHub::Unwatch(int64_t job_id, int64_t watch_id) {
  if (watch_id == 0) return false;
  std::lock_guard<std::mutex> lock(mu_);
  auto found = channels_.find(job_id);
  if (found == channels_.end()) return false;
  return found->second->sinks.erase(watch_id) > 0;
}

void JobEventHub::Stop(const std::function<experiments::JobRecord(int64_t)>& current_of) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [job_id, channel] : channels_) {
    if (channel->sinks.empty()) continue;
    JobEvent stopping;
    stopping.type = JobEvent::Type::kServerStopping;
    stopping.seq = channel->next_seq;  // not a numbered event: nothing follows it
    stopping.job = current_of(job_id);
    for (auto& [id, sink] : channel->sinks) sink(stopping);
    channel->sinks.clear();
  }
}

}  // namespace dreamshot::jobs
