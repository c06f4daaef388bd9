#include "experiments/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "experiments/artifact_blobs.h"

namespace dreamshot::experiments {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return std::string(::testing::TempDir()) + "/" + name + "-" + std::to_string(::getpid());
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TempPath(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".db";
    std::remove(path_.c_str());
    auto store = ExperimentStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    auto e = store_->CreateExperiment("shots", "close/medium/long", {{"team", "ds"}});
    ASSERT_TRUE(e.ok()) << e.status();
    experiment_ = *e;
  }

  experiments::Run NewRunWith(Params params, Tags tags = {}) {
    NewRun r;
    r.experiment_id = experiment_.id;
    r.name = "run";
    r.params = std::move(params);
    r.tags = std::move(tags);
    auto run = store_->CreateRun(r);
    EXPECT_TRUE(run.ok()) << run.status();
    return *run;
  }

  std::string path_;
  std::unique_ptr<ExperimentStore> store_;
  Experiment experiment_;
};

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
  Survey survey;
  survey.run_id = survey_run.id;
  survey.name = "restart-proof";
  ArtifactBlobs blobs(TempPath("blobs"));
  auto blob = blobs.PutBytes("png");
  ASSERT_TRUE(blob.ok());
  int64_t ids[2];
  for (int side = 0; side < 2; ++side) {
    Artifact a{0, job.id, "image", side ? "b.png" : "a.png", blob->sha256, blob->size_bytes, 0, blob->uri};
    auto stored = store_->AddArtifact(a);
    ASSERT_TRUE(stored.ok()) << stored.status();
    ids[side] = stored->id;
  }
  SurveyItem item;
  item.label_x = "base";
  item.label_y = "lora";
  item.artifact_x = ids[0];
  item.artifact_y = ids[1];
  auto created = store_->CreateSurvey(survey, {item});
  ASSERT_TRUE(created.ok()) << created.status();
  auto n = store_->FailInterruptedRuns("server died");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(store_->GetRun(survey_run.id)->status, RunStatus::kRunning);
  EXPECT_EQ(store_->GetRun(job.id)->status, RunStatus::kFailed);

  // The run follows the survey: finished when it closes, running when reopened.
  ASSERT_TRUE(store_->SetSurveyStatus(created->id, "open").ok());
  ASSERT_TRUE(store_->SetSurveyStatus(created->id, "closed").ok());
  auto closed = store_->GetRun(survey_run.id);
  EXPECT_EQ(closed->status, RunStatus::kFinished);
  EXPECT_TRUE(closed->end_ms.has_value());
  ASSERT_TRUE(store_->SetSurveyStatus(created->id, "open").ok());
  auto reopened = store_->GetRun(survey_run.id);
  EXPECT_EQ(reopened->status, RunStatus::kRunning);
  EXPECT_FALSE(reopened->end_ms.has_value());
}

TEST_F(StoreTest, ArtifactsAreContentAddressedAndUniquePerPath) {
  experiments::Run run = NewRunWith({});
  ArtifactBlobs blobs(TempPath("blobs"));
  auto blob = blobs.PutBytes("hello");
  ASSERT_TRUE(blob.ok()) << blob.status();
  EXPECT_EQ(blob->sha256, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  std::ifstream in(blobs.PathFor(blob->sha256));
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "hello");
  Artifact a{0, run.id, "image", "samples/0.png", blob->sha256, blob->size_bytes, 0, blob->uri};
  ASSERT_TRUE(store_->AddArtifact(a).ok());
  EXPECT_EQ(store_->AddArtifact(a).status().code(), absl::StatusCode::kAlreadyExists);
  auto list = store_->ListArtifacts(run.id);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].size_bytes, 5);
  EXPECT_EQ(blobs.PutFile("/no/such/file").status().code(), absl::StatusCode::kNotFound);
  const std::string source = TempPath("source.bin");
  std::ofstream(source) << "hello";
  auto from_file = blobs.PutFile(source);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->sha256, blob->sha256);  // same content, same blob
  EXPECT_EQ(from_file->size_bytes, 5);
}

TEST_F(StoreTest, ImagePairsLinkTwoArtifactsOfTheirRun) {
  experiments::Run run = NewRunWith({});
  experiments::Run other = NewRunWith({});
  auto add = [&](int64_t run_id, const std::string& path) {
    Artifact a{0, run_id, "image", path, std::string(64, 'a'), 1, 0, "file:///x"};
    return store_->AddArtifact(a)->id;
  };
  const int64_t a = add(run.id, "a/0.png"), b = add(run.id, "b/0.png"), foreign = add(other.id, "b/0.png");
  // A seed above 2^63 keeps its bits through SQLite's signed integers.
  ImagePair pair{0, run.id, "close shot of a man", "close", 0xF000000000000001ull, "baseline", "finetuned", a, b, 0};
  auto stored = store_->AddImagePair(pair);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_GT(stored->id, 0);
  EXPECT_GT(stored->created_ms, 0);
  auto list = store_->ListImagePairs(run.id);
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].seed, 0xF000000000000001ull);
  EXPECT_EQ((*list)[0].prompt, "close shot of a man");
  EXPECT_EQ((*list)[0].shot_type, "close");
  EXPECT_EQ((*list)[0].label_b, "finetuned");
  EXPECT_EQ((*list)[0].artifact_b, b);

  ImagePair bad = pair;
  bad.artifact_b = foreign;
  auto refused = store_->AddImagePair(bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("belongs to run"));
  bad.artifact_b = 999999;
  EXPECT_EQ(store_->AddImagePair(bad).status().code(), absl::StatusCode::kNotFound);
  bad = pair;
  bad.label_b = "baseline";
  EXPECT_EQ(store_->AddImagePair(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = pair;
  bad.run_id = 424242;
  EXPECT_EQ(store_->AddImagePair(bad).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->ListImagePairs(run.id)->size(), 1u);  // nothing else was stored
  EXPECT_TRUE(store_->ListImagePairs(other.id)->empty());
}

TEST_F(StoreTest, SurveyParticipantSnapshotHoldsOnlyTheAssignedItems) {
  experiments::Run pairs = NewRunWith({});
  std::vector<SurveyItem> items(5);
  for (int i = 0; i < 5; ++i) {
    for (int side = 0; side < 2; ++side) {
      Artifact a{0, pairs.id, "image",    std::to_string(i) + (side ? "b.png" : "a.png"), std::string(64, 'a'),
                 1, 0,        "file:///x"};
      (side ? items[i].artifact_y : items[i].artifact_x) = store_->AddArtifact(a)->id;
    }
    items[i].prompt = "prompt " + std::to_string(i);
    items[i].shot_type = i % 2 ? "close" : "long";
    items[i].label_x = "base";
    items[i].label_y = "lora";
  }
  Survey definition;
  definition.run_id = NewRunWith({}).id;
  definition.name = "snap";
  auto survey = store_->CreateSurvey(definition, items);
  ASSERT_TRUE(survey.ok()) << survey.status();
  ASSERT_TRUE(store_->SetSurveyStatus(survey->id, "open").ok());
  auto stored = store_->ListSurveyItems(survey->id);
  ASSERT_EQ(stored->size(), 5u);
  auto join = [&](const std::string& hash, std::vector<SurveyAssignment> assignments) {
    return store_->AddSurveyParticipant(survey->id, hash, [&](int64_t, const std::map<int64_t, int64_t>&) {
      return absl::StatusOr<std::vector<SurveyAssignment>>(assignments);
    });
  };
  const int64_t third = (*stored)[3].id, first = (*stored)[1].id;
  auto p = join("hash-1", {{0, third, true}, {1, first, false}});
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_TRUE(join("hash-2", {{0, (*stored)[0].id, false}}).ok());
  SurveyAnswer answer;
  answer.item_id = first;
  answer.shown = "A";
  answer.choice = "x";
  answer.idempotency_key = "k";
  std::vector<SurveyAnswer> answers = {answer, answer};
  answers[1].question = 1;
  ASSERT_TRUE(store_->RecordSurveyAnswers(p->id, answers).ok());

  auto snapshot = store_->GetSurveyParticipantSnapshot("hash-1");
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  EXPECT_EQ(snapshot->participant.id, p->id);
  EXPECT_EQ(snapshot->survey.name, "snap");
  EXPECT_EQ(snapshot->survey.status, "open");
  ASSERT_EQ(snapshot->assigned.size(), 2u) << "the participant's items, not the survey's five";
  EXPECT_EQ(snapshot->assigned[0].assignment.position, 0);
  EXPECT_EQ(snapshot->assigned[0].assignment.item_id, third);
  EXPECT_TRUE(snapshot->assigned[0].assignment.swapped);
  EXPECT_EQ(snapshot->assigned[0].item.prompt, "prompt 3");
  EXPECT_EQ(snapshot->assigned[0].item.artifact_y, items[3].artifact_y);
  EXPECT_EQ(snapshot->assigned[0].answered, 0);
  EXPECT_EQ(snapshot->assigned[1].item.id, first);
  EXPECT_EQ(snapshot->assigned[1].item.shot_type, "close");
  EXPECT_FALSE(snapshot->assigned[1].assignment.swapped);
  EXPECT_EQ(snapshot->assigned[1].answered, 2);
  EXPECT_EQ(store_->GetSurveyParticipantSnapshot("nobody").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(StoreTest, DatasetPoolsCommitPerSourceLabelAndSplit) {
  experiments::Run run = NewRunWith({});
  auto shot = [](const std::string& source, int64_t index, bool kept) {
    DatasetItem d;
    d.source = source;
    d.shot_index = index;
    d.start_frame = index * 100;
    d.end_frame = index * 100 + 99;
    d.end_s = 4.1;
    d.keyframe = index * 100 + 50;
    d.kept = kept;
    d.phash = 0x8000000000000001ull;  // the top bit survives SQLite's signed integers
    if (!kept) d.drop_reasons_json = R"([{"filter":"blur","detail":"variance of Laplacian 12 < 60"}])";
    return d;
  };
  ASSERT_TRUE(store_
                  ->CommitDatasetSource(run.id, {"a.mkv", "done", "", 3, 300, 0},
                                        {shot("a.mkv", 0, true), shot("a.mkv", 1, false), shot("a.mkv", 2, true)})
                  .ok());
  ASSERT_TRUE(store_->CommitDatasetSource(run.id, {"broken.avi", "failed", "cannot decode", 0, 0, 0}, {}).ok());
  // A resumed build that redoes a source replaces its items.
  ASSERT_TRUE(store_
                  ->CommitDatasetSource(run.id, {"a.mkv", "done", "", 3, 300, 0},
                                        {shot("a.mkv", 0, true), shot("a.mkv", 1, false), shot("a.mkv", 2, true)})
                  .ok());
  auto items = store_->ListDatasetItems(run.id);
  ASSERT_TRUE(items.ok()) << items.status();
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[0].phash, 0x8000000000000001ull);
  EXPECT_FALSE((*items)[1].kept);
  EXPECT_THAT((*items)[1].drop_reasons_json, HasSubstr("blur"));
  EXPECT_EQ(store_->ListDatasetItems(run.id, /*kept_only=*/true)->size(), 2u);
  auto sources = store_->ListDatasetSources(run.id);
  ASSERT_EQ(sources->size(), 2u);
  EXPECT_EQ((*sources)[1].status, "failed");
  EXPECT_EQ((*sources)[1].detail, "cannot decode");

  const int64_t first = (*items)[0].id, third = (*items)[2].id;
  ASSERT_TRUE(
      store_->SetDatasetLabels(run.id, {{first, "close", "CS", 0.8, "faces", "face 0.31 of frame height"}}).ok());
  // All or nothing: an unknown item changes nothing.
  EXPECT_EQ(
      store_->SetDatasetLabels(run.id, {{third, "long", "LS", 0.5, "people", ""}, {999999, "long", "", 0, "", ""}})
          .code(),
      absl::StatusCode::kNotFound);
  ASSERT_TRUE(store_->SetDatasetCaptions(run.id, {{first, "a man looks at the sea", "captions.jsonl"}}).ok());
  items = store_->ListDatasetItems(run.id);
  EXPECT_EQ((*items)[0].scale, "close");
  EXPECT_EQ((*items)[0].fine_scale, "CS");
  EXPECT_EQ((*items)[0].caption, "a man looks at the sea");
  EXPECT_EQ((*items)[2].scale, "unknown");

  ASSERT_TRUE(store_->CreateDatasetSplits(run.id, {{"train/close", {third, first}}}).ok());
  // Together or not at all: "eval" is not created when "train/close" exists.
  EXPECT_EQ(store_->CreateDatasetSplits(run.id, {{"eval", {third}}, {"train/close", {first}}}).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CreateDatasetSplits(run.id, {{"eval", {first, first}}}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetDatasetSplit(run.id, "train/close").value(), (std::vector<int64_t>{third, first}));
  EXPECT_EQ(store_->GetDatasetSplit(run.id, "eval").status().code(), absl::StatusCode::kNotFound);
  auto splits = store_->ListDatasetSplits(run.id);
  ASSERT_EQ(splits->size(), 1u);
  EXPECT_EQ(splits->at("train/close"), 2);
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
