// Progress fan-out: every job has a channel of numbered events (state
// changes, progress, outputs) that any number of watchers follow. A watcher
// names the last sequence number it saw and gets everything after it, then
// live events, so a client can drop off and attach again without losing an
// output. Progress is coalesced (a late watcher gets the latest, not every
// step). Outputs are kept up to a byte bound per job; a watcher asking for
// events already dropped gets a gap event saying how many it missed.
// Sequence numbers count within one server's life: a restarted server
// starts a job's channel again from 1.
#ifndef DREAMSHOT_JOBS_JOB_EVENTS_H_
#define DREAMSHOT_JOBS_JOB_EVENTS_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "experiments/job_types.h"

namespace dreamshot::jobs {

struct JobEvent {
  enum class Type {
    kState,           // `job` is the job as it is now
    kProgress,        // payload: the latest progress message
    kOutput,          // payload: a result (an image, a report)
    kGap,             // `missed` outputs were dropped before this watcher came
    kServerStopping,  // the server stops; the job stays as `job` says
  };
  int64_t seq = 0;
  Type type = Type::kState;
  experiments::JobRecord job;
  std::string payload_type;  // full protobuf message name
  std::string payload;       // serialized message
  int64_t missed = 0;
};

class JobEventHub {
 public:
  // Called with the hub's lock of the job held: must not block or call the
  // hub. Returns false to detach (after the terminal event, for example).
  using Sink = std::function<bool(const JobEvent&)>;

  struct Options {
    int64_t max_output_bytes_per_job = int64_t{64} << 20;
    int ended_jobs_kept = 64;  // channels of ended jobs kept for late watchers
  };
  JobEventHub() : JobEventHub(Options{}) {}
  explicit JobEventHub(Options options) : options_(options) {}

  // A channel for a job (idempotent): from its submission, or its recovery.
  // Opening the channel of an ended job (a retry) starts its events anew:
  // the earlier attempt's are no longer replayed.
  void Open(int64_t job_id);
  // Numbers and delivers an event. Without an open channel, nothing.
  void Publish(int64_t job_id, JobEvent event);
  // Attaches `sink` after replaying the events numbered above `after_seq`.
  // Without a channel (an ended job from before this server's start), the
  // sink gets one state event made from `current` and is not attached.
  // Returns a watch id for Unwatch (0 when not attached).
  int64_t Watch(int64_t job_id, int64_t after_seq, const experiments::JobRecord& current, Sink sink);
  // Detaches; false when the watch was already detached (its sink returned
  // false, or the hub stopped). After it returns the sink is never called.
  bool Unwatch(int64_t job_id, int64_t watch_id);
  // Gives every attached sink a kServerStopping event (with the job as
  // `current_of` says) and detaches it.
  void Stop(const std::function<experiments::JobRecord(int64_t)>& current_of);

 private:
  struct Channel {
    int64_t next_seq = 1;
    std::deque<JobEvent> outputs;  // and state changes, in order
    int64_t output_bytes = 0;
    int64_t dropped_through = 0;   // highest seq dropped from `outputs`
    std::optional<JobEvent> progress;
    JobEvent last_state;
    std::map<int64_t, Sink> sinks;
    bool ended = false;
  };
  void Deliver(Channel& channel, const JobEvent& event);
  void Retire(int64_t job_id);  // with mu_ held

  const Options options_;
  std::mutex mu_;
  int64_t next_watch_ = 1;
  std::map<int64_t, std::unique_ptr<Channel>> channels_;
  std::list<int64_t> ended_;  // oldest first
};

}  // namespace dreamshot::jobs

#endif  // DREAMSHOT_JOBS_JOB_EVENTS_H_
