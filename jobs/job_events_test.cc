#include "jobs/job_events.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

namespace dreamshot::jobs {
namespace {

using experiments::JobRecord;
using experiments::JobState;
using ::testing::ElementsAre;

JobEvent Output(const std::string& payload) {
  JobEvent e;
  e.type = JobEvent::Type::kOutput;
  e.payload_type = "test.Output";
  e.payload = payload;
  return e;
}

JobEvent Progress(const std::string& payload) {
  JobEvent e = Output(payload);
  e.type = JobEvent::Type::kProgress;
  return e;
}

JobEvent State(JobState state) {
  JobEvent e;
  e.type = JobEvent::Type::kState;
  e.job.id = 1;
  e.job.state = state;
  return e;
}

struct Recorder {
  std::vector<std::string> seen;
  std::vector<int64_t> seqs;
  JobEventHub::Sink Sink() {
    return [this](const JobEvent& e) {
      seqs.push_back(e.seq);
      switch (e.type) {
        case JobEvent::Type::kOutput: seen.push_back("out:" + e.payload); break;
        case JobEvent::Type::kProgress: seen.push_back("progress:" + e.payload); break;
        case JobEvent::Type::kGap: seen.push_back("gap:" + std::to_string(e.missed)); break;
        case JobEvent::Type::kServerStopping: seen.push_back("stopping"); break;
        case JobEvent::Type::kState:
          seen.push_back(std::string("state:") + experiments::JobStateName(e.job.state));
          return !experiments::IsTerminal(e.job.state);
      }
      return true;
    };
  }
};

TEST(JobEventHubTest, ALateWatcherGetsEveryOutputAndOnlyTheLatestProgress) {
  JobEventHub hub;
  hub.Open(1);
  hub.Publish(1, State(JobState::kRunning));
  hub.Publish(1, Progress("1/4"));
  hub.Publish(1, Output("a.png"));
  hub.Publish(1, Progress("2/4"));
  hub.Publish(1, Progress("3/4"));
  Recorder late;
  EXPECT_GT(hub.Watch(1, 0, JobRecord{}, late.Sink()), 0);
  EXPECT_THAT(late.seen, ElementsAre("state:running", "out:a.png", "progress:3/4"));
  EXPECT_THAT(late.seqs, ElementsAre(1, 3, 5));
  hub.Publish(1, Output("b.png"));
  hub.Publish(1, State(JobState::kFinished));
  EXPECT_THAT(late.seen, ElementsAre("state:running", "out:a.png", "progress:3/4", "out:b.png", "state:finished"));
}

TEST(JobEventHubTest, AWatcherThatReattachesFromItsLastSequenceNumberMissesNothingAndSeesNothingTwice) {
  JobEventHub hub;
  hub.Open(1);
  Recorder first;
  const int64_t watch = hub.Watch(1, 0, JobRecord{}, first.Sink());
  hub.Publish(1, Output("a.png"));
  ASSERT_TRUE(hub.Unwatch(1, watch));  // the client went away
  EXPECT_FALSE(hub.Unwatch(1, watch));
  hub.Publish(1, Output("b.png"));
  hub.Publish(1, Output("c.png"));
  Recorder again;
  hub.Watch(1, first.seqs.back(), JobRecord{}, again.Sink());
  EXPECT_THAT(first.seen, ElementsAre("out:a.png"));
  EXPECT_THAT(again.seen, ElementsAre("out:b.png", "out:c.png"));
}

TEST(JobEventHubTest, OutputsPastTheByteBoundAreDroppedOldestFirstAndAWatcherIsToldWhatItMissed) {
  JobEventHub::Options options;
  options.max_output_bytes_per_job = 10;
  JobEventHub hub(options);
  hub.Open(1);
  for (const char* p : {"aaaa", "bbbb", "cccc", "dddd"}) hub.Publish(1, Output(p));
  Recorder from_start;
  hub.Watch(1, 0, JobRecord{}, from_start.Sink());
  EXPECT_THAT(from_start.seen, ElementsAre("gap:2", "out:cccc", "out:dddd"));
  Recorder caught_up;
  hub.Watch(1, 2, JobRecord{}, caught_up.Sink());
  EXPECT_THAT(caught_up.seen, ElementsAre("out:cccc", "out:dddd"));
}

TEST(JobEventHubTest, AnEndedJobWithoutAChannelAnswersWithItsStoredState) {
  JobEventHub hub;
  JobRecord stored;
  stored.id = 9;
  stored.state = JobState::kFailed;
  Recorder watcher;
  EXPECT_EQ(hub.Watch(9, 0, stored, watcher.Sink()), 0);
  EXPECT_THAT(watcher.seen, ElementsAre("state:failed"));
}

TEST(JobEventHubTest, StoppingTellsEveryAttachedWatcherAndDetachesIt) {
  JobEventHub hub;
  hub.Open(1);
  hub.Open(2);
  Recorder a, b;
  const int64_t wa = hub.Watch(1, 0, JobRecord{}, a.Sink());
  hub.Watch(2, 0, JobRecord{}, b.Sink());
  hub.Stop([](int64_t id) {
    JobRecord r;
    r.id = id;
    return r;
  });
  EXPECT_THAT(a.seen, ElementsAre("stopping"));
  EXPECT_THAT(b.seen, ElementsAre("stopping"));
  EXPECT_FALSE(hub.Unwatch(1, wa));
  hub.Publish(1, Output("late"));
  EXPECT_THAT(a.seen, ElementsAre("stopping"));
}

TEST(JobEventHubTest, ARetriedJobsChannelStartsAnewAndDoesNotReplayTheEarlierEnd) {
  JobEventHub hub;
  hub.Open(1);
  hub.Publish(1, Output("first.png"));
  hub.Publish(1, State(JobState::kCancelled));
  hub.Open(1);  // retried
  hub.Publish(1, State(JobState::kRunning));
  hub.Publish(1, Output("second.png"));
  Recorder watcher;
  EXPECT_GT(hub.Watch(1, 0, JobRecord{}, watcher.Sink()), 0);
  EXPECT_THAT(watcher.seen, ElementsAre("gap:2", "state:running", "out:second.png"));
}

TEST(JobEventHubTest, OnlyTheLatestEndedChannelsAreKept) {
  JobEventHub::Options options;
  options.ended_jobs_kept = 1;
  JobEventHub hub(options);
  for (int64_t id : {1, 2}) {
    hub.Open(id);
    hub.Publish(id, Output("x"));
    hub.Publish(id, State(JobState::kFinished));
  }
  JobRecord stored;
  stored.state = JobState::kFinished;
  Recorder old_job, recent;
  hub.Watch(1, 0, stored, old_job.Sink());
  hub.Watch(2, 0, stored, recent.Sink());
  EXPECT_THAT(old_job.seen, ElementsAre("state:finished"));  // from the store
  EXPECT_THAT(recent.seen, ElementsAre("out:x", "state:finished"));
}

}  // namespace
}  // namespace dreamshot::jobs
