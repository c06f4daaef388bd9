// How surveys are named and found (survey/survey_admin.h): names are never
// all digits; the participant pages find a survey by name only, so a
// numeric URL segment can never reach a survey by its id; the admin lookup
// takes digits as an id. And the number of pairs per participant stored is
// the number participants get.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "experiments/store.h"
#include "experiments/store_set.h"
#include "survey/survey_admin.h"
#include "survey/survey_config.h"
#include "tests/survey_test_pairs.h"

namespace dreamshot {
namespace {

using ::testing::HasSubstr;

class SurveyLookupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::string(::testing::TempDir()) + "/survey-lookup-" + std::to_string(counter_++);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = experiments::ExperimentStore::Open(dir_ + "/experiments.db");
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    stores_ = std::make_unique<experiments::StoreSet>(store_.get());
    auto pairs = testing::StoreTestPairs(stores_->all(), dir_ + "/artifacts", 4, 8);
    ASSERT_TRUE(pairs.ok()) << pairs.status();
    pairs_run_ = pairs->run_id;
  }

  absl::StatusOr<experiments::Survey> Create(const std::string& name, int per_participant = 2,
                                             bool allow_fewer = false) {
    survey::NewSurvey request;
    request.name = name;
    request.pair_runs = {pairs_run_};
    request.config.pairs_per_participant = per_participant;
    request.allow_fewer_pairs = allow_fewer;
    return survey::CreateSurvey(stores_->all(), request);
  }

  // A survey named `name` written straight into the store, as one created
  // before names had to hold a non-digit would be.
  experiments::Survey CreateLegacy(const std::string& name) {
    auto pairs = stores_->pairs()->ListImagePairs(pairs_run_);
    EXPECT_TRUE(pairs.ok() && !pairs->empty());
    experiments::SurveyItem item;
    item.pair_id = (*pairs)[0].id;
    item.label_x = (*pairs)[0].label_a;
    item.label_y = (*pairs)[0].label_b;
    item.artifact_x = (*pairs)[0].artifact_a;
    item.artifact_y = (*pairs)[0].artifact_b;
    experiments::Survey survey;
    survey.run_id = pairs_run_;
    survey.name = name;
    survey.config_json = survey::ToJson(survey::SurveyConfig());
    auto stored = stores_->surveys()->CreateSurvey(survey, {item});
    EXPECT_TRUE(stored.ok()) << stored.status();
    return stored.ok() ? *stored : experiments::Survey();
  }

  static inline int counter_ = 0;
  std::string dir_;
  std::unique_ptr<experiments::ExperimentStore> store_;
  std::unique_ptr<experiments::StoreSet> stores_;
  int64_t pairs_run_ = 0;
};

TEST_F(SurveyLookupTest, NamesOfDigitsOnlyAreRefused) {
  for (const std::string name : {"2", "007", "12345678901234567890"}) {
    absl::StatusOr<experiments::Survey> created = Create(name);
    EXPECT_EQ(created.status().code(), absl::StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(std::string(created.status().message()), HasSubstr("all digits")) << name;
  }
  for (const std::string name : {"v2", "2.0", "2-b", "_1"}) {
    EXPECT_TRUE(Create(name).ok()) << name;
  }
  EXPECT_EQ(survey::ValidateSurveyName("a b").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(survey::ValidateSurveyName("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(survey::ValidateSurveyName("closeups").ok());
}

// Survey ids 1 and 2 are "alpha" and "beta"; survey 3 is a legacy survey
// named "1". Every digit string that is some survey's id resolves, on the
// participant side, to the survey of that NAME or to nothing.
TEST_F(SurveyLookupTest, TheParticipantLookupNeverResolvesAnId) {
  auto alpha = Create("alpha");
  auto beta = Create("beta");
  ASSERT_TRUE(alpha.ok() && beta.ok());
  ASSERT_EQ(alpha->id, 1);
  ASSERT_EQ(beta->id, 2);
  const experiments::Survey legacy = CreateLegacy("1");
  ASSERT_EQ(legacy.id, 3);

  auto one = survey::FindSurveyByName(*stores_->surveys(), "1");
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_EQ(one->id, 3) << "/s/1 is the survey named 1, not survey id 1";
  EXPECT_EQ(one->name, "1");
  for (const std::string id : {"2", "3"}) {
    EXPECT_EQ(survey::FindSurveyByName(*stores_->surveys(), id).status().code(), absl::StatusCode::kNotFound)
        << "survey id " << id << " exists but has no such name";
  }
  auto by_name = survey::FindSurveyByName(*stores_->surveys(), "beta");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->id, 2);

  // The admin lookup: digits are an id, anything else a name.
  auto admin_one = survey::FindSurvey(*stores_->surveys(), "1");
  ASSERT_TRUE(admin_one.ok());
  EXPECT_EQ(admin_one->name, "alpha");
  auto admin_three = survey::FindSurvey(*stores_->surveys(), "3");
  ASSERT_TRUE(admin_three.ok());
  EXPECT_EQ(admin_three->name, "1") << "the legacy survey is reached by its id";
  auto admin_beta = survey::FindSurvey(*stores_->surveys(), "beta");
  ASSERT_TRUE(admin_beta.ok());
  EXPECT_EQ(admin_beta->id, 2);
  EXPECT_EQ(survey::FindSurvey(*stores_->surveys(), "99").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SurveyLookupTest, MorePairsPerParticipantThanThePoolIsRefusedOrClampedAndStored) {
  auto refused = Create("too-many", 36);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("36"));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("only 4 pairs"));
  EXPECT_EQ(survey::FindSurveyByName(*stores_->surveys(), "too-many").status().code(), absl::StatusCode::kNotFound)
      << "nothing stored";

  auto clamped = Create("fewer", 36, /*allow_fewer=*/true);
  ASSERT_TRUE(clamped.ok()) << clamped.status();
  auto config = survey::SurveyConfigFromJson(clamped->config_json);
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->pairs_per_participant, 4) << "the number stored is the number used";
  auto run = store_->GetRun(clamped->run_id);
  ASSERT_TRUE(run.ok());
  std::map<std::string, std::string> params(run->params.begin(), run->params.end());
  EXPECT_EQ(params["pairs_per_participant"], "4");

  auto exact = Create("exact", 4);
  ASSERT_TRUE(exact.ok()) << exact.status();
  EXPECT_EQ(survey::SurveyConfigFromJson(exact->config_json)->pairs_per_participant, 4);
}

}  // namespace
}  // namespace dreamshot
