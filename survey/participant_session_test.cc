// The participant rules (survey/participant_session.h) against a real
// store: consent first, open surveys only, own pairs only, replays stored
// once, finished after the last pair.
#include "survey/participant_session.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "experiments/store.h"
#include "experiments/store_set.h"
#include "survey/participant_token.h"
#include "survey/survey_admin.h"
#include "survey/survey_status.h"
#include "tests/survey_test_pairs.h"

namespace dreamshot::survey {
namespace {

using ::testing::HasSubstr;

constexpr int kPairsPerParticipant = 3;

class ParticipantSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(::testing::TempDir()) + "/participant-session-" + std::to_string(counter_++);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = experiments::ExperimentStore::Open(dir_ + "/experiments.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    stores_ = std::make_unique<experiments::StoreSet>(store_.get());
    surveys_ = stores_->surveys();
    // More pairs than a participant sees: some are not theirs.
    auto pairs = testing::StoreTestPairs(stores_->all(), dir_ + "/artifacts", 5, 8);
    ASSERT_TRUE(pairs.ok()) << pairs.status();
    pairs_run_ = pairs->run_id;
    survey_ = Create("study");
  }

  // A draft survey of all stored pairs.
  experiments::Survey Create(const std::string& name) {
    NewSurvey request;
    request.name = name;
    request.pair_runs = {pairs_run_};
    request.config.pairs_per_participant = kPairsPerParticipant;
    auto created = CreateSurvey(stores_->all(), request);
    EXPECT_TRUE(created.ok()) << created.status();
    return created.ok() ? *created : experiments::Survey();
  }

  void Set(const experiments::Survey& survey, SurveyStatus status) {
    auto changed = ChangeSurveyStatus(*surveys_, survey.id, status);
    ASSERT_TRUE(changed.ok()) << changed.status();
  }

  // A participant of the open survey "study" who joined and, if asked, consented.
  ParticipantSession Joined(bool consent = true) {
    auto token = ParticipantSession::Join(*surveys_, "study");
    EXPECT_TRUE(token.ok()) << token.status();
    token_ = token.ok() ? *token : "";
    auto session = ParticipantSession::Resume(*surveys_, "study", token_);
    EXPECT_TRUE(session.ok()) << session.status();
    if (consent) {
      EXPECT_TRUE(session->Consent().ok());
    }
    return *std::move(session);
  }

  static Submission Answers(const ParticipantSession& session, int64_t position, const std::string& each,
                            const std::string& key = "k") {
    Submission s;
    s.position = position;
    s.answers.assign(session.config().questions.size(), each);
    s.idempotency_key = key + std::to_string(position);
    s.elapsed_ms = 1500;
    return s;
  }

  size_t StoredAnswers() { return surveys_->ListSurveyAnswers(survey_.id)->size(); }

  static inline int counter_ = 0;
  std::string dir_;
  std::unique_ptr<experiments::ExperimentStore> store_;
  std::unique_ptr<experiments::StoreSet> stores_;
  experiments::SurveyStore* surveys_ = nullptr;
  int64_t pairs_run_ = 0;
  experiments::Survey survey_;
  std::string token_;
};

TEST(SurveyStatusTest, NamesRoundTrip) {
  for (SurveyStatus s : {SurveyStatus::kDraft, SurveyStatus::kOpen, SurveyStatus::kClosed}) {
    auto parsed = ParseSurveyStatus(SurveyStatusName(s));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, s);
  }
  EXPECT_STREQ(SurveyStatusName(SurveyStatus::kOpen), "open");
  EXPECT_EQ(ParseSurveyStatus("Open").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSurveyStatus("").status().code(), absl::StatusCode::kInvalidArgument);
  experiments::Survey odd;
  odd.status = "paused";
  EXPECT_EQ(StatusOf(odd).status().code(), absl::StatusCode::kInternal);
}

TEST_F(ParticipantSessionTest, JoinGivesAFreshAssignmentThatResumeOpens) {
  Set(survey_, SurveyStatus::kOpen);
  auto invitation = Invitation(*surveys_, "study");
  ASSERT_TRUE(invitation.ok()) << invitation.status();
  EXPECT_EQ(invitation->pairs_per_participant, kPairsPerParticipant);

  ParticipantSession session = Joined(/*consent=*/false);
  EXPECT_TRUE(WellFormedToken(token_));
  EXPECT_EQ(session.total(), kPairsPerParticipant);
  EXPECT_EQ(session.next_position(), 0);
  EXPECT_FALSE(session.consented());
  EXPECT_FALSE(session.finished());
  for (int64_t p = 0; p < kPairsPerParticipant; ++p) EXPECT_TRUE(session.IsAssigned(p)) << p;
  EXPECT_FALSE(session.IsAssigned(-1));
  EXPECT_FALSE(session.IsAssigned(kPairsPerParticipant));

  auto second = ParticipantSession::Join(*surveys_, "study");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(*second, token_) << "every join is a new participant";
  EXPECT_EQ(surveys_->ListSurveyParticipants(survey_.id)->size(), 2u);
  EXPECT_EQ(ParticipantSession::Join(*surveys_, "nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(ParticipantSessionTest, ConsentComesBeforePairsAndAnswers) {
  Set(survey_, SurveyStatus::kOpen);
  ParticipantSession session = Joined(/*consent=*/false);
  EXPECT_EQ(session.Pair(0).status().code(), absl::StatusCode::kPermissionDenied);
  auto refused = session.Answer(Answers(session, 0, "A"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("consent"));
  EXPECT_EQ(StoredAnswers(), 0u);

  ASSERT_TRUE(session.Consent().ok());
  EXPECT_TRUE(session.consented());
  EXPECT_TRUE(session.Pair(0).ok());
  ASSERT_TRUE(session.Consent().ok()) << "consenting again changes nothing";
  auto resumed = ParticipantSession::Resume(*surveys_, "study", token_);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_TRUE(resumed->consented()) << "consent is stored";
}

TEST_F(ParticipantSessionTest, OnlyAnOpenSurveyTakesParticipantsAndAnswers) {
  // A draft shows no invitation and takes nobody.
  EXPECT_EQ(Invitation(*surveys_, "study").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ParticipantSession::Join(*surveys_, "study").status().code(), absl::StatusCode::kFailedPrecondition);

  Set(survey_, SurveyStatus::kOpen);
  ParticipantSession held = Joined();
  Set(survey_, SurveyStatus::kClosed);
  auto join = ParticipantSession::Join(*surveys_, "study");
  EXPECT_EQ(join.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(join.status().message()), HasSubstr("closed"));
  EXPECT_EQ(Invitation(*surveys_, "study").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ParticipantSession::Resume(*surveys_, "study", token_).status().code(),
            absl::StatusCode::kFailedPrecondition)
      << "a closed survey's links expire";
  // A session read before the survey closed: the store refuses its answers.
  EXPECT_EQ(held.Answer(Answers(held, 0, "A")).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(StoredAnswers(), 0u);
  EXPECT_EQ(surveys_->ListSurveyParticipants(survey_.id)->size(), 1u);

  Set(survey_, SurveyStatus::kOpen);
  EXPECT_TRUE(ParticipantSession::Resume(*surveys_, "study", token_).ok()) << "reopened, the link works again";
}

TEST_F(ParticipantSessionTest, ATokenOpensOnlyItsOwnParticipantOnItsOwnSurvey) {
  Set(survey_, SurveyStatus::kOpen);
  Joined();
  const experiments::Survey other = Create("other");
  Set(other, SurveyStatus::kOpen);
  auto elsewhere = ParticipantSession::Resume(*surveys_, "other", token_);
  EXPECT_EQ(elsewhere.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(elsewhere.status().message()), HasSubstr("another survey"));
  // Another survey's token stays unauthenticated here even when that
  // survey is closed: its state is none of this page's business.
  Set(other, SurveyStatus::kClosed);
  EXPECT_EQ(ParticipantSession::Resume(*surveys_, "other", token_).status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ParticipantSession::Resume(*surveys_, "study", std::string(64, 'f')).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ParticipantSession::Resume(*surveys_, "study", "not-a-token").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(ParticipantSession::Resume(*surveys_, "study", "").status().code(), absl::StatusCode::kUnauthenticated);
}

TEST_F(ParticipantSessionTest, APairNotAssignedIsNotFound) {
  Set(survey_, SurveyStatus::kOpen);
  ParticipantSession session = Joined();
  for (int64_t position : {int64_t{-1}, int64_t{kPairsPerParticipant}, int64_t{999}}) {
    EXPECT_EQ(session.Pair(position).status().code(), absl::StatusCode::kNotFound) << position;
    EXPECT_EQ(session.Answer(Answers(session, position, "A")).status().code(), absl::StatusCode::kNotFound) << position;
  }
  EXPECT_EQ(StoredAnswers(), 0u);
}

TEST_F(ParticipantSessionTest, InvalidAnswersStoreNothing) {
  Set(survey_, SurveyStatus::kOpen);
  ParticipantSession session = Joined();
  Submission too_few = Answers(session, 0, "A");
  too_few.answers.pop_back();
  Submission bad_option = Answers(session, 0, "A");
  bad_option.answers[1] = "C";
  Submission negative_time = Answers(session, 0, "A");
  negative_time.elapsed_ms = -1;
  Submission no_key = Answers(session, 0, "A");
  no_key.idempotency_key.clear();
  for (const Submission& s : {too_few, bad_option, negative_time, no_key}) {
    EXPECT_EQ(session.Answer(s).status().code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(StoredAnswers(), 0u);
  EXPECT_EQ(session.next_position(), 0);
}

TEST_F(ParticipantSessionTest, AResentAnswerIsAReplayAndADifferentOneIsRefused) {
  Set(survey_, SurveyStatus::kOpen);
  ParticipantSession session = Joined();
  const Submission first = Answers(session, 0, "A");
  auto stored = session.Answer(first);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_FALSE(*stored);
  const size_t questions = session.config().questions.size();
  EXPECT_EQ(StoredAnswers(), questions);

  // The same answers again, from this session and from a fresh one (a
  // retried request after a lost response).
  auto replayed = session.Answer(first);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  EXPECT_TRUE(*replayed);
  auto resumed = ParticipantSession::Resume(*surveys_, "study", token_);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ(resumed->next_position(), 1);
  auto again = resumed->Answer(first);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(*again);
  EXPECT_EQ(StoredAnswers(), questions) << "stored once";

  EXPECT_EQ(session.Answer(Answers(session, 0, "B")).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(StoredAnswers(), questions);
}

TEST_F(ParticipantSessionTest, AnswersMeanTheSystemsAsShown) {
  Set(survey_, SurveyStatus::kOpen);
  ParticipantSession session = Joined();
  auto participants = surveys_->ListSurveyParticipants(survey_.id);
  ASSERT_EQ(participants->size(), 1u);
  auto assignments = surveys_->ListSurveyAssignments((*participants)[0].id);
  auto items = surveys_->ListSurveyItems(survey_.id);
  ASSERT_TRUE(assignments.ok() && items.ok());
  for (const experiments::SurveyAssignment& a : *assignments) {
    const experiments::SurveyItem* item = nullptr;
    for (const auto& i : *items) item = i.id == a.item_id ? &i : item;
    ASSERT_NE(item, nullptr);
    auto pair = session.Pair(a.position);
    ASSERT_TRUE(pair.ok()) << pair.status();
    EXPECT_EQ(pair->artifact_a, a.swapped ? item->artifact_y : item->artifact_x);
    EXPECT_EQ(pair->artifact_b, a.swapped ? item->artifact_x : item->artifact_y);
    EXPECT_EQ(pair->total, kPairsPerParticipant);
    ASSERT_TRUE(session.Answer(Answers(session, a.position, "A")).ok());
  }
  auto answers = surveys_->ListSurveyAnswers(survey_.id);
  ASSERT_TRUE(answers.ok()) << answers.status();
  EXPECT_EQ(answers->size(), kPairsPerParticipant * session.config().questions.size());
  for (const experiments::SurveyAnswer& answer : *answers) {
    bool swapped = false;
    for (const auto& a : *assignments) swapped = a.item_id == answer.item_id ? a.swapped : swapped;
    EXPECT_EQ(answer.shown, "A");
    EXPECT_EQ(answer.choice, swapped ? "y" : "x") << "item " << answer.item_id;
  }
}

TEST_F(ParticipantSessionTest, FinishedAfterTheLastPair) {
  Set(survey_, SurveyStatus::kOpen);
  ParticipantSession session = Joined();
  for (int64_t position = 0; position < kPairsPerParticipant; ++position) {
    EXPECT_FALSE(session.finished());
    EXPECT_EQ(session.next_position(), position);
    ASSERT_TRUE(session.Answer(Answers(session, position, "neither")).ok());
  }
  EXPECT_TRUE(session.finished());
  EXPECT_EQ(session.next_position(), kPairsPerParticipant);
  EXPECT_TRUE((*surveys_->ListSurveyParticipants(survey_.id))[0].finished_ms.has_value()) << "the store knows too";
  auto resumed = ParticipantSession::Resume(*surveys_, "study", token_);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_TRUE(resumed->finished());
  EXPECT_EQ(resumed->next_position(), kPairsPerParticipant);
  // Answered out of order, a participant is finished only when none is left.
  ParticipantSession late = Joined();
  ASSERT_TRUE(late.Answer(Answers(late, 2, "B")).ok());
  ASSERT_TRUE(late.Answer(Answers(late, 1, "B")).ok());
  EXPECT_EQ(late.next_position(), 0);
  EXPECT_FALSE(late.finished());
  ASSERT_TRUE(late.Answer(Answers(late, 0, "B")).ok());
  EXPECT_TRUE(late.finished());
}

}  // namespace
}  // namespace dreamshot::survey
