#include "experiments/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "experiments/artifact_blobs.h"
#include "experiments/artifact_store.h"
#include "experiments/store_test_util.h"
#include "experiments/survey_store.h"

namespace dreamshot::experiments {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The run store: experiments, runs, params, tags, metrics and search.
class StoreTest : public StoreTestBase {};

TEST_F(StoreTest, ExperimentsAreUniqueByName) {
  auto dup = store_->CreateExperiment("shots", "", {});
  EXPECT_EQ(dup.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(dup.status().message()), HasSubstr("'shots' already exists"));
  auto by_name = store_->GetExperimentByName("shots");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->tags.at("team"), "ds");
  EXPECT_EQ(store_->GetExperiment(999).status().code(), absl::StatusCode::kNotFound);
  auto list = store_->ListExperiments();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "shots");
}

TEST_F(StoreTest, RunLifecycleMovesForwardOnly) {
  NewRun r;
  r.experiment_id = experiment_.id;
  r.status = RunStatus::kQueued;
  auto run = store_->CreateRun(r);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->status, RunStatus::kQueued);
  EXPECT_FALSE(run->start_ms.has_value());

  auto running = store_->UpdateRun(run->id, {RunStatus::kRunning, std::nullopt, std::nullopt});
  ASSERT_TRUE(running.ok());
  EXPECT_TRUE(running->start_ms.has_value());
  auto done = store_->UpdateRun(run->id, {RunStatus::kFinished, std::nullopt, std::string("good")});
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(done->end_ms.has_value());
  EXPECT_EQ(done->notes, "good");

  auto back = store_->UpdateRun(run->id, {RunStatus::kRunning, std::nullopt, std::nullopt});
  EXPECT_EQ(back.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(back.status().message()), HasSubstr("is finished and cannot become running"));
  EXPECT_EQ(store_->UpdateRun(12345, {}).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, CreateRunChecksExperimentAndParent) {
  NewRun r;
  r.experiment_id = 77;
  EXPECT_EQ(store_->CreateRun(r).status().code(), absl::StatusCode::kNotFound);
  r.experiment_id = experiment_.id;
  r.parent_run_id = 5555;
  auto orphan = store_->CreateRun(r);
  EXPECT_EQ(orphan.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(orphan.status().message()), HasSubstr("parent run 5555"));
  r.status = RunStatus::kFinished;
  r.parent_run_id.reset();
  EXPECT_EQ(store_->CreateRun(r).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, ParamsAreWriteOnceAndTagsMutable) {
  experiments::Run run = NewRunWith({{"lora_rank", "8"}});
  EXPECT_TRUE(store_->LogParams(run.id, {{"lora_rank", "8"}, {"lr", "1e-4"}}).ok());
  absl::Status changed = store_->LogParams(run.id, {{"lora_rank", "16"}});
  EXPECT_EQ(changed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(changed.message()), HasSubstr("already '8'"));
  auto tagged = store_->SetTags(run.id, {{"keep", "yes"}, {"x", "1"}}, {});
  ASSERT_TRUE(tagged.ok());
  tagged = store_->SetTags(run.id, {{"keep", "no"}}, {"x"});
  ASSERT_TRUE(tagged.ok());
  EXPECT_EQ(tagged->tags, (Tags{{"keep", "no"}}));
  EXPECT_EQ(tagged->params, (Params{{"lora_rank", "8"}, {"lr", "1e-4"}}));
}

TEST_F(StoreTest, MetricsKeepHistoryLatestAndExtremes) {
  experiments::Run run = NewRunWith({});
  std::vector<MetricPoint> batch;
  for (int step = 0; step < 10; ++step) batch.push_back({"loss", step, 1.0 / (step + 1), 0});
  batch.push_back({"clip_t", 0, 0.30, 1000});
  auto logged = store_->LogMetrics(run.id, batch);
  ASSERT_TRUE(logged.ok()) << logged.status();
  EXPECT_EQ(logged->accepted, 11);
  // An older step arriving late does not become "latest", but counts.
  ASSERT_TRUE(store_->LogMetrics(run.id, {{"loss", 3, 5.0, 0}}).ok());
  auto got = store_->GetRun(run.id);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->metrics.size(), 2u);
  const MetricSummary& loss = got->metrics[1];
  EXPECT_EQ(loss.key, "loss");
  EXPECT_EQ(loss.step, 9);
  EXPECT_DOUBLE_EQ(loss.value, 0.1);
  EXPECT_DOUBLE_EQ(loss.min, 0.1);
  EXPECT_DOUBLE_EQ(loss.max, 5.0);
  EXPECT_EQ(loss.count, 11);
  auto history = store_->GetMetricHistory(run.id, "loss");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 11u);
  EXPECT_EQ((*history)[3].step, 3);
  EXPECT_EQ(store_->GetMetricHistory(run.id, "nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, NanIsStoredAndReadBackAsNan) {
  experiments::Run run = NewRunWith({});
  ASSERT_TRUE(store_->LogMetrics(run.id, {{"loss", 0, 1.0, 0}, {"loss", 1, std::nan(""), 0}}).ok());
  auto history = store_->GetMetricHistory(run.id, "loss");
  ASSERT_TRUE(history.ok());
  EXPECT_TRUE(std::isnan((*history)[1].value));
  auto got = store_->GetRun(run.id);
  EXPECT_TRUE(std::isnan(got->metrics[0].value));
  EXPECT_DOUBLE_EQ(got->metrics[0].min, 1.0);
}

TEST_F(StoreTest, BadMetricBatchesWriteNothing) {
  experiments::Run run = NewRunWith({});
  auto bad = store_->LogMetrics(run.id, {{"loss", 0, 1.0, 0}, {"", 1, 2.0, 0}});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  auto negative = store_->LogMetrics(run.id, {{"loss", -1, 1.0, 0}});
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->LogMetrics(4242, {{"loss", 0, 1.0, 0}}).status().code(), absl::StatusCode::kNotFound);
  std::vector<MetricPoint> huge(kMaxMetricPointsPerBatch + 1, MetricPoint{"x", 0, 0, 0});
  EXPECT_EQ(store_->LogMetrics(run.id, huge).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetMetricHistory(run.id, "loss").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, RetriedRequestIdIsAppliedOnce) {
  experiments::Run run = NewRunWith({});
  auto first = store_->LogMetrics(run.id, {{"loss", 0, 1.0, 0}}, "req-1");
  auto retry = store_->LogMetrics(run.id, {{"loss", 0, 1.0, 0}}, "req-1");
  ASSERT_TRUE(first.ok() && retry.ok());
  EXPECT_FALSE(first->duplicate_request);
  EXPECT_TRUE(retry->duplicate_request);
  EXPECT_EQ(store_->GetMetricHistory(run.id, "loss")->size(), 1u);
  experiments::Run other = NewRunWith({});
  EXPECT_EQ(store_->LogMetrics(other.id, {{"loss", 0, 1.0, 0}}, "req-1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(StoreTest, MetricsSinceFollowsLoggingOrder) {
  experiments::Run run = NewRunWith({});
  ASSERT_TRUE(store_->LogMetrics(run.id, {{"a", 0, 1, 0}, {"b", 0, 2, 0}}).ok());
  auto all = store_->MetricsSince(run.id, 0, {}, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  ASSERT_TRUE(store_->LogMetrics(run.id, {{"a", 1, 3, 0}}).ok());
  auto fresh = store_->MetricsSince(run.id, all->back().seq, {"a"}, 100);
  ASSERT_EQ(fresh->size(), 1u);
  EXPECT_EQ((*fresh)[0].point.step, 1);
  EXPECT_GE(*store_->LastMetricSeq(run.id), (*fresh)[0].seq);
}

TEST_F(StoreTest, SearchFiltersOrdersAndPages) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) {
    experiments::Run run = NewRunWith({{"lora_rank", std::to_string(4 << i)}}, {{"keep", i % 2 ? "yes" : "no"}});
    ASSERT_TRUE(store_->LogMetrics(run.id, {{"clip_t", 0, 0.30 + 0.01 * i, 0}}).ok());
    ids.push_back(run.id);
  }
  RunQuery q;
  q.experiment_ids = {experiment_.id};
  q.filter = "params.lora_rank >= 8 and (metrics.clip_t > 0.325 or tags.keep = 'yes')";
  q.order_by = "metrics.clip_t desc";
  q.page_size = 2;
  auto page = store_->SearchRuns(q);
  ASSERT_TRUE(page.ok()) << page.status();
  std::vector<int64_t> got;
  for (const experiments::Run& r : page->runs) got.push_back(r.id);
  EXPECT_THAT(got, ElementsAre(ids[4], ids[3]));
  ASSERT_FALSE(page->next_page_token.empty());
  q.page_token = page->next_page_token;
  page = store_->SearchRuns(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->runs.size(), 1u);
  EXPECT_EQ(page->runs[0].id, ids[1]);
  EXPECT_TRUE(page->next_page_token.empty());

  RunQuery changed = q;
  changed.filter = "params.lora_rank >= 4";
  EXPECT_EQ(store_->SearchRuns(changed).status().code(), absl::StatusCode::kInvalidArgument);
  RunQuery malformed;
  malformed.filter = "metrics.clip_t >";
  EXPECT_EQ(store_->SearchRuns(malformed).status().code(), absl::StatusCode::kInvalidArgument);
  RunQuery unknown_experiment;
  unknown_experiment.experiment_ids = {999};
  EXPECT_EQ(store_->SearchRuns(unknown_experiment).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, FailInterruptedRunsMarksOnlyActiveRunsTheServerMade) {
  const Tags server_made = {{"dreamshot.kind", "dataset"}};
  experiments::Run active = NewRunWith({}, server_made);
  experiments::Run done = NewRunWith({}, server_made);
  // A training script's run: its client may be alive; the server's restart is not its end.
  experiments::Run client = NewRunWith({});
  ASSERT_TRUE(store_->UpdateRun(done.id, {RunStatus::kFinished, std::nullopt, std::nullopt}).ok());
  auto n = store_->FailInterruptedRuns("server died");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(store_->GetRun(active.id)->status, RunStatus::kFailed);
  // An event with its time (the end time), not a state: a resumed run may finish.
  const experiments::Run failed = *store_->GetRun(active.id);
  EXPECT_EQ(failed.notes, "found interrupted at " + NoteTime(*failed.end_ms) + " (server died)");
  EXPECT_EQ(store_->GetRun(done.id)->status, RunStatus::kFinished);
  EXPECT_EQ(store_->GetRun(client.id)->status, RunStatus::kRunning);
  EXPECT_EQ(store_->GetRun(client.id)->notes, "");
}

TEST_F(StoreTest, FailInterruptedRunsLeavesSurveyRunsAlone) {
  // A survey stays open for days across server restarts; its run is not
  // work a dead process left behind.
  experiments::Run survey_run = NewRunWith({}, {{"dreamshot.kind", "survey"}});
  experiments::Run job = NewRunWith({}, {{"dreamshot.kind", "pairs"}});
  ArtifactStore artifacts(store_->database());
  SurveyStore surveys(store_->database(), store_->changes());
  Survey survey;
  survey.run_id = survey_run.id;
  survey.name = "restart-proof";
  ArtifactBlobs blobs(TempPath("blobs"));
  auto blob = blobs.PutBytes("png");
  ASSERT_TRUE(blob.ok());
  int64_t ids[2];
  for (int side = 0; side < 2; ++side) {
    Artifact a{0, job.id, "image", side ? "b.png" : "a.png", blob->sha256, blob->size_bytes, 0, blob->uri};
    auto stored = artifacts.AddArtifact(a);
    ASSERT_TRUE(stored.ok()) << stored.status();
    ids[side] = stored->id;
  }
  SurveyItem item;
  item.label_x = "base";
  item.label_y = "lora";
  item.artifact_x = ids[0];
  item.artifact_y = ids[1];
  auto created = surveys.CreateSurvey(survey, {item});
  ASSERT_TRUE(created.ok()) << created.status();
  auto n = store_->FailInterruptedRuns("server died");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(store_->GetRun(survey_run.id)->status, RunStatus::kRunning);
  EXPECT_EQ(store_->GetRun(job.id)->status, RunStatus::kFailed);

  // The run follows the survey: finished when it closes, running when reopened.
  ASSERT_TRUE(surveys.SetSurveyStatus(created->id, "open").ok());
  ASSERT_TRUE(surveys.SetSurveyStatus(created->id, "closed").ok());
  auto closed = store_->GetRun(survey_run.id);
  EXPECT_EQ(closed->status, RunStatus::kFinished);
  EXPECT_TRUE(closed->end_ms.has_value());
  ASSERT_TRUE(surveys.SetSurveyStatus(created->id, "open").ok());
  auto reopened = store_->GetRun(survey_run.id);
  EXPECT_EQ(reopened->status, RunStatus::kRunning);
  EXPECT_FALSE(reopened->end_ms.has_value());
}

TEST_F(StoreTest, StoreSurvivesReopen) {
  experiments::Run run = NewRunWith({{"seed", "1"}});
  ASSERT_TRUE(store_->LogMetrics(run.id, {{"loss", 0, 0.5, 0}}).ok());
  store_.reset();
  auto reopened = ExperimentStore::Open(path_);
  ASSERT_TRUE(reopened.ok());
  auto got = (*reopened)->GetRun(run.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->params.at("seed"), "1");
  EXPECT_EQ(got->metrics[0].value, 0.5);
}

TEST(StoreOpenTest, RefusesFilesThatAreNotDreamShotStores) {
  const std::string text = TempPath("not-a-db.txt");
  std::ofstream(text) << "this is not a database, just some text that is long enough to matter........"
                         "................................................................";
  auto store = ExperimentStore::Open(text);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(text));
  std::ifstream check(text);
  std::string first_line;
  std::getline(check, first_line);
  EXPECT_THAT(first_line, HasSubstr("this is not a database"));  // left untouched
}

}  // namespace
}  // namespace dreamshot::experiments
