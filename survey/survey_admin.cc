#include "survey/survey_admin.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "experiments/artifact_store.h"
#include "experiments/pair_store.h"
#include "experiments/store.h"
#include "survey/broken_image.h"

namespace dreamshot::survey {
namespace {

bool AllDigits(const std::string& text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

absl::StatusOr<std::vector<experiments::ImagePair>> CollectPairs(experiments::PairStore& pairs_store,
                                                                 const NewSurvey& request) {
  std::vector<experiments::ImagePair> pairs;
  std::set<int64_t> seen;
  for (int64_t run : request.pair_runs) {
    ASSIGN_OR_RETURN(std::vector<experiments::ImagePair> of_run, pairs_store.ListImagePairs(run));
    for (auto& p : of_run) {
      if (seen.insert(p.id).second) pairs.push_back(std::move(p));
    }
  }
  for (int64_t id : request.pair_ids) {
    ASSIGN_OR_RETURN(experiments::ImagePair p, pairs_store.GetImagePair(id));
    if (seen.insert(p.id).second) pairs.push_back(std::move(p));
  }
  if (pairs.empty())
    return absl::InvalidArgumentError("the survey has no image pairs: name runs or pairs that hold some");
  return pairs;
}

// Attention items, three per check a participant sees, made from pairs
// spread over the pool and alternating sides, so they are not all the same
// picture. Identical: one image on both sides, "neither" is the only right
// answer. Broken: the image against an obviously broken copy (stored as an
// artifact of the survey's run), the intact side x is right.
absl::StatusOr<std::vector<experiments::SurveyItem>> AttentionItems(experiments::ArtifactStore& artifacts,
                                                                    const NewSurvey& request,
                                                                    const std::vector<experiments::ImagePair>& pairs,
                                                                    int64_t run_id) {
  const std::string& style = request.config.attention_style;
  std::vector<experiments::SurveyItem> items;
  const size_t checks = std::min(pairs.size(), static_cast<size_t>(request.config.attention_checks) * 3);
  for (size_t i = 0; i < checks; ++i) {
    const experiments::ImagePair& p = pairs[i * pairs.size() / checks];
    const bool side_a = i % 2 == 0;
    experiments::SurveyItem item;
    item.prompt = p.prompt;
    item.shot_type = p.shot_type;
    item.label_x = side_a ? p.label_a : p.label_b;
    item.artifact_x = side_a ? p.artifact_a : p.artifact_b;
    const bool broken = style == "broken" || (style == "both" && (i / 2) % 2 == 1);
    if (!broken) {
      item.attention = "neither";
      item.label_y = item.label_x;
      item.artifact_y = item.artifact_x;
      items.push_back(std::move(item));
      continue;
    }
    if (request.blobs == nullptr) {
      return absl::FailedPreconditionError("broken-image attention checks need the artifact store");
    }
    ASSIGN_OR_RETURN(experiments::Artifact intact, artifacts.GetArtifact(item.artifact_x));
    ASSIGN_OR_RETURN(std::string intact_png, experiments::ReadBlobUri(intact.uri));
    absl::StatusOr<std::string> broken_png = BreakImage(intact_png);
    if (!broken_png.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("pair ", p.id, ": cannot make a broken-image check from artifact ",
                                                     intact.id, ": ", broken_png.status().message()));
    }
    ASSIGN_OR_RETURN(experiments::StoredBlob blob, request.blobs->PutBytes(*broken_png));
    experiments::Artifact artifact;
    artifact.run_id = run_id;
    artifact.kind = "image";
    artifact.path = absl::StrCat("attention/broken-", i, "-artifact", intact.id, ".png");
    artifact.sha256 = blob.sha256;
    artifact.size_bytes = blob.size_bytes;
    artifact.uri = blob.uri;
    ASSIGN_OR_RETURN(experiments::Artifact stored, artifacts.AddArtifact(artifact));
    item.attention = "x";
    item.label_y = "broken";
    item.artifact_y = stored.id;
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

absl::Status ValidateSurveyName(const std::string& name) {
  if (name.empty() || name.size() > 100) return absl::InvalidArgumentError("a survey name needs 1 to 100 characters");
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return absl::InvalidArgumentError(absl::StrCat(
          "survey name '", name, "' may hold letters, digits, '-', '_' and '.' only (it is part of its URL)"));
    }
  }
  if (AllDigits(name)) {
    return absl::InvalidArgumentError(absl::StrCat("survey name '", name,
                                                   "' is all digits: a name needs a letter, '-', '_' or '.' "
                                                   "(a number names a survey's id)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<experiments::Survey> FindSurvey(experiments::SurveyStore& store, const std::string& name_or_id) {
  if (!AllDigits(name_or_id)) return store.GetSurveyByName(name_or_id);
  int64_t id = 0;
  if (!absl::SimpleAtoi(name_or_id, &id)) return absl::NotFoundError(absl::StrCat("no survey with id ", name_or_id));
  return store.GetSurvey(id);
}

absl::StatusOr<experiments::Survey> FindSurveyByName(experiments::SurveyStore& store, const std::string& name) {
  return store.GetSurveyByName(name);
}

absl::StatusOr<experiments::Survey> ChangeSurveyStatus(experiments::SurveyStore& store, int64_t survey_id,
                                                       SurveyStatus to) {
  if (to == SurveyStatus::kDraft) return absl::InvalidArgumentError("a survey can be opened or closed, not made a draft");
  // The store keeps the state as its word (and checks the transition).
  return store.SetSurveyStatus(survey_id, SurveyStatusName(to));
}

absl::StatusOr<experiments::Survey> CreateSurvey(const experiments::Stores& stores, const NewSurvey& request) {
  RETURN_IF_ERROR(ValidateSurveyName(request.name));
  RETURN_IF_ERROR(Validate(request.config));
  absl::StatusOr<experiments::Survey> taken = stores.surveys->GetSurveyByName(request.name);
  if (taken.ok()) return absl::AlreadyExistsError(absl::StrCat("a survey named '", request.name, "' exists already"));
  if (taken.status().code() != absl::StatusCode::kNotFound) return taken.status();
  ASSIGN_OR_RETURN(std::vector<experiments::ImagePair> pairs, CollectPairs(*stores.pairs, request));
  // What is stored is what participants get: never a number the pool cannot give.
  SurveyConfig config = request.config;
  const int pool = static_cast<int>(std::min<size_t>(pairs.size(), std::numeric_limits<int>::max()));
  if (config.pairs_per_participant > pool) {
    if (!request.allow_fewer_pairs) {
      return absl::InvalidArgumentError(absl::StrCat(
          "pairs_per_participant is ", config.pairs_per_participant, " but the survey's pool holds only ", pool,
          " pair", pool == 1 ? "" : "s", ": ask for at most ", pool,
          ", or allow fewer pairs (allow_fewer_pairs; `survey create --allow-fewer-pairs`)"));
    }
    config.pairs_per_participant = pool;
  }

  std::vector<experiments::SurveyItem> items;
  for (const experiments::ImagePair& p : pairs) {
    experiments::SurveyItem item;
    item.pair_id = p.id;
    item.prompt = p.prompt;
    item.shot_type = p.shot_type;
    item.label_x = p.label_a;
    item.label_y = p.label_b;
    item.artifact_x = p.artifact_a;
    item.artifact_y = p.artifact_b;
    items.push_back(std::move(item));
  }
  ASSIGN_OR_RETURN(experiments::Experiment experiment, stores.runs->GetOrCreateExperiment(request.experiment));
  experiments::NewRun run;
  run.experiment_id = experiment.id;
  run.name = request.name;
  run.tags = {{"dreamshot.kind", "survey"}};
  run.params = {{"pairs", std::to_string(pairs.size())},
                {"pairs_per_participant", std::to_string(config.pairs_per_participant)},
                {"attention_checks", std::to_string(config.attention_checks)},
                {"attention_style", config.attention_style},
                {"questions", std::to_string(config.questions.size())},
                {"seed", std::to_string(config.seed)}};
  run.config_type = "dreamshot.survey.SurveyConfig";
  run.config_json = ToJson(config);
  ASSIGN_OR_RETURN(experiments::Run created, stores.runs->CreateRun(run));
  experiments::Survey survey;
  survey.run_id = created.id;
  survey.name = request.name;
  survey.config_json = run.config_json;
  absl::StatusOr<experiments::Survey> stored = [&]() -> absl::StatusOr<experiments::Survey> {
    ASSIGN_OR_RETURN(std::vector<experiments::SurveyItem> checks,
                     AttentionItems(*stores.artifacts, request, pairs, created.id));
    for (auto& item : checks) items.push_back(std::move(item));
    return stores.surveys->CreateSurvey(survey, items);
  }();
  if (!stored.ok()) {
    experiments::RunUpdate failed;
    failed.status = experiments::RunStatus::kFailed;
    failed.notes = absl::StrCat("survey not created: ", stored.status().ToString());
    (void)stores.runs->UpdateRun(created.id, failed);  // the caller hears the error either way
  }
  return stored;
}

absl::StatusOr<SurveyProgress> GetSurveyProgress(experiments::SurveyStore& store, int64_t survey_id) {
  SurveyProgress p;
  ASSIGN_OR_RETURN(p.survey, store.GetSurvey(survey_id));
  ASSIGN_OR_RETURN(std::vector<experiments::SurveyItem> items, store.ListSurveyItems(survey_id));
  std::map<int64_t, int64_t> shown;
  for (const auto& item : items) {
    if (item.attention.empty()) {
      ++p.items;
      ++p.items_by_shot_type[item.shot_type.empty() ? "unknown" : item.shot_type];
      shown[item.id] = 0;
    } else {
      ++p.attention_items;
    }
  }
  // A fixed number of reads however many participants there are: the
  // status is polled while a survey runs.
  ASSIGN_OR_RETURN(std::vector<experiments::SurveyParticipant> participants, store.ListSurveyParticipants(survey_id));
  for (const auto& participant : participants) {
    ++p.participants;
    if (participant.consented_ms) ++p.consented;
    if (participant.finished_ms) ++p.finished;
  }
  ASSIGN_OR_RETURN(auto counts, store.SurveyShownCounts(survey_id));
  for (const auto& [item, n] : counts) {
    if (auto it = shown.find(item); it != shown.end()) it->second = n;
  }
  ASSIGN_OR_RETURN(std::vector<experiments::SurveyAnswer> answers, store.ListSurveyAnswers(survey_id));
  std::set<std::pair<int64_t, int64_t>> answered;  // (participant, item)
  for (const auto& a : answers) answered.insert({a.participant_id, a.item_id});
  p.answered_items = static_cast<int64_t>(answered.size());
  if (!shown.empty()) {
    p.min_shown = p.max_shown = shown.begin()->second;
    for (const auto& [id, n] : shown) {
      p.min_shown = std::min(p.min_shown, n);
      p.max_shown = std::max(p.max_shown, n);
    }
  }
  return p;
}

}  // namespace dreamshot::survey
