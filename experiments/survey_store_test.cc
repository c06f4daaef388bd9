// Surveys: items, participants with their assignments, answers.
#include "experiments/survey_store.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

#include "experiments/artifact_store.h"
#include "experiments/store_test_util.h"

namespace dreamshot::experiments {
namespace {

class SurveyStoreTest : public StoreTestBase {
 protected:
  void SetUp() override {
    StoreTestBase::SetUp();
    artifacts_ = std::make_unique<ArtifactStore>(store_->database());
    surveys_ = std::make_unique<SurveyStore>(store_->database(), store_->changes());
  }

  std::unique_ptr<ArtifactStore> artifacts_;
  std::unique_ptr<SurveyStore> surveys_;
};

TEST_F(SurveyStoreTest, SurveyParticipantSnapshotHoldsOnlyTheAssignedItems) {
  experiments::Run pairs = NewRunWith({});
  std::vector<SurveyItem> items(5);
  for (int i = 0; i < 5; ++i) {
    for (int side = 0; side < 2; ++side) {
      Artifact a{0, pairs.id, "image",    std::to_string(i) + (side ? "b.png" : "a.png"), std::string(64, 'a'),
                 1, 0,        "file:///x"};
      (side ? items[i].artifact_y : items[i].artifact_x) = artifacts_->AddArtifact(a)->id;
    }
    items[i].prompt = "prompt " + std::to_string(i);
    items[i].shot_type = i % 2 ? "close" : "long";
    items[i].label_x = "base";
    items[i].label_y = "lora";
  }
  Survey definition;
  definition.run_id = NewRunWith({}).id;
  definition.name = "snap";
  auto survey = surveys_->CreateSurvey(definition, items);
  ASSERT_TRUE(survey.ok()) << survey.status();
  ASSERT_TRUE(surveys_->SetSurveyStatus(survey->id, "open").ok());
  auto stored = surveys_->ListSurveyItems(survey->id);
  ASSERT_EQ(stored->size(), 5u);
  auto join = [&](const std::string& hash, std::vector<SurveyAssignment> assignments) {
    return surveys_->AddSurveyParticipant(survey->id, hash, [&](int64_t, const std::map<int64_t, int64_t>&) {
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
  ASSERT_TRUE(surveys_->RecordSurveyAnswers(p->id, answers).ok());

  auto snapshot = surveys_->GetSurveyParticipantSnapshot("hash-1");
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
  EXPECT_EQ(surveys_->GetSurveyParticipantSnapshot("nobody").status().code(), absl::StatusCode::kNotFound);
}

// The survey's writes that watchers of the run store wait for (its status
// moves its run) still bump the run store's change version.
TEST_F(SurveyStoreTest, SurveyChangesBumpTheRunStoresChangeVersion) {
  experiments::Run pairs = NewRunWith({});
  SurveyItem item;
  item.label_x = "base";
  item.label_y = "lora";
  for (int side = 0; side < 2; ++side) {
    Artifact a{0, pairs.id, "image", side ? "b.png" : "a.png", std::string(64, 'a'), 1, 0, "file:///x"};
    (side ? item.artifact_y : item.artifact_x) = artifacts_->AddArtifact(a)->id;
  }
  Survey definition;
  definition.run_id = NewRunWith({}).id;
  definition.name = "watched";
  auto survey = surveys_->CreateSurvey(definition, {item});
  ASSERT_TRUE(survey.ok()) << survey.status();
  const int64_t item_id = (*surveys_->ListSurveyItems(survey->id))[0].id;

  uint64_t version = store_->ChangeVersion();
  ASSERT_TRUE(surveys_->SetSurveyStatus(survey->id, "open").ok());
  EXPECT_GT(store_->ChangeVersion(), version);

  version = store_->ChangeVersion();
  auto p = surveys_->AddSurveyParticipant(survey->id, "hash", [&](int64_t, const std::map<int64_t, int64_t>&) {
    return absl::StatusOr<std::vector<SurveyAssignment>>(std::vector<SurveyAssignment>{{0, item_id, false}});
  });
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_GT(store_->ChangeVersion(), version);

  SurveyAnswer answer;
  answer.item_id = item_id;
  answer.shown = "A";
  answer.choice = "x";
  answer.idempotency_key = "k";
  version = store_->ChangeVersion();
  ASSERT_TRUE(surveys_->RecordSurveyAnswers(p->id, {answer}).ok());
  EXPECT_GT(store_->ChangeVersion(), version);
  // A replay stores nothing and wakes no one.
  version = store_->ChangeVersion();
  ASSERT_TRUE(surveys_->RecordSurveyAnswers(p->id, {answer}).value());
  EXPECT_EQ(store_->ChangeVersion(), version);
}

}  // namespace
}  // namespace dreamshot::experiments
