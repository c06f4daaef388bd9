#include "survey/results.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/statistics.h"
#include "core/status_macros.h"
#include "survey/survey_config.h"

namespace dreamshot::survey {
namespace {

enum Category { kX = 0, kY = 1, kNeither = 2 };

int CategoryOf(const std::string& choice) { return choice == "x" ? kX : choice == "y" ? kY : kNeither; }

// Shot scales in film order, then any other label alphabetically.
bool ShotTypeBefore(const std::string& a, const std::string& b) {
  auto rank = [](const std::string& s) {
    static const char* kOrder[] = {"close", "medium", "long"};
    for (int i = 0; i < 3; ++i) {
      if (s == kOrder[i]) return i;
    }
    return 3;
  };
  return rank(a) != rank(b) ? rank(a) < rank(b) : a < b;
}

// Which comparison (ordered pair of systems) an item belongs to, and whether
// its sides are the other way round: the first item met fixes a
// comparison's orientation, so "base vs lora" and "lora vs base" items pool.
struct Orientation {
  int comparison = 0;
  bool flipped = false;
};

struct Comparisons {
  std::vector<std::pair<std::string, std::string>> systems;
  std::map<int64_t, Orientation> of_item;
};

Comparisons FindComparisons(const std::vector<RatedItem>& items) {
  Comparisons out;
  for (const RatedItem& item : items) {
    if (!item.attention.empty()) continue;
    Orientation o;
    auto same = std::find(out.systems.begin(), out.systems.end(), std::make_pair(item.label_x, item.label_y));
    auto reversed = std::find(out.systems.begin(), out.systems.end(), std::make_pair(item.label_y, item.label_x));
    if (same != out.systems.end()) {
      o.comparison = static_cast<int>(same - out.systems.begin());
    } else if (reversed != out.systems.end()) {
      o.comparison = static_cast<int>(reversed - out.systems.begin());
      o.flipped = true;
    } else {
      o.comparison = static_cast<int>(out.systems.size());
      out.systems.emplace_back(item.label_x, item.label_y);
    }
    out.of_item[item.id] = o;
  }
  return out;
}

// An included answer on a real pair, in its comparison's orientation.
struct Vote {
  int64_t participant = 0;
  int64_t item_id = 0;
  int question = 0;
  int comparison = 0;
  int category = kNeither;
  const std::string* shot_type = nullptr;
};

ShareEstimate Estimate(int64_t count, int64_t n, const Proportion& bootstrap, double z) {
  ShareEstimate e;
  e.count = count;
  e.share = n > 0 ? static_cast<double>(count) / static_cast<double>(n) : 0.0;
  e.bootstrap = bootstrap;
  e.wilson = WilsonInterval(count, n, z);
  return e;
}

absl::StatusOr<ShareRow> MakeRow(const std::vector<const Vote*>& votes, const ResultsOptions& options) {
  ShareRow row;
  std::map<int64_t, std::vector<int>> per_participant;
  int64_t counts[3] = {0, 0, 0};
  for (const Vote* v : votes) {
    per_participant[v->participant].push_back(v->category);
    ++counts[v->category];
  }
  std::vector<std::vector<int>> answers;
  for (auto& [participant, categories] : per_participant) {
    const auto x = std::count(categories.begin(), categories.end(), kX);
    const auto y = std::count(categories.begin(), categories.end(), kY);
    if (x > y) ++row.participants_prefer_x;
    if (y > x) ++row.participants_prefer_y;
    answers.push_back(std::move(categories));
  }
  ASSIGN_OR_RETURN(std::vector<Proportion> bootstrap,
                   BootstrapShares(answers, 3, options.resamples, options.seed, options.level));
  const double z = core::NormalQuantile(0.5 + options.level / 2.0);
  row.answers = static_cast<int64_t>(votes.size());
  row.participants = static_cast<int64_t>(per_participant.size());
  row.x = Estimate(counts[kX], row.answers, bootstrap[kX], z);
  row.y = Estimate(counts[kY], row.answers, bootstrap[kY], z);
  row.neither = Estimate(counts[kNeither], row.answers, bootstrap[kNeither], z);
  row.sign_test_p = SignTestPValue(counts[kX], counts[kY]);
  row.participant_sign_test_p = SignTestPValue(row.participants_prefer_x, row.participants_prefer_y);
  return row;
}

Agreement AgreementOf(const std::string& question, int q, const std::vector<Vote>& votes) {
  Agreement a;
  a.question = question;
  std::map<int64_t, std::vector<int64_t>> counts;  // item → per category
  for (const Vote& v : votes) {
    if (v.question != q) continue;
    auto& c = counts[v.item_id];
    c.resize(3);
    ++c[v.category];
  }
  std::vector<std::vector<int64_t>> rated;
  for (auto& [item, c] : counts) {
    const int64_t n = c[0] + c[1] + c[2];
    if (n < 2) continue;
    ++a.items;
    a.ratings += n;
    rated.push_back(std::move(c));
  }
  if (rated.empty()) {
    a.note = "no pair was answered by two included participants";
    return a;
  }
  absl::StatusOr<double> kappa = FleissKappa(rated);
  if (kappa.ok()) {
    a.kappa = *kappa;
  } else {
    a.note = std::string(kappa.status().message());
  }
  return a;
}

Ranking RankingOf(const std::string& question, int q, const std::vector<Vote>& votes, const Comparisons& comparisons) {
  Ranking r;
  r.question = question;
  std::vector<std::string> systems;
  auto index = [&](const std::string& s) {
    auto it = std::find(systems.begin(), systems.end(), s);
    if (it != systems.end()) return static_cast<int>(it - systems.begin());
    systems.push_back(s);
    return static_cast<int>(systems.size() - 1);
  };
  std::vector<Comparison> outcomes;
  std::map<int, int64_t> involved;
  for (const Vote& v : votes) {
    const auto& [sx, sy] = comparisons.systems[v.comparison];
    if (v.question != q || sx == sy) continue;
    Comparison c;
    c.a = index(sx);
    c.b = index(sy);
    c.wins_a = v.category == kX ? 1.0 : v.category == kY ? 0.0 : 0.5;
    c.wins_b = 1.0 - c.wins_a;
    ++involved[c.a];
    ++involved[c.b];
    outcomes.push_back(c);
  }
  absl::StatusOr<std::vector<double>> strengths = BradleyTerryStrengths(static_cast<int>(systems.size()), outcomes);
  if (!strengths.ok()) {
    r.note = std::string(strengths.status().message());
    return r;
  }
  for (size_t i = 0; i < systems.size(); ++i) {
    r.systems.push_back({systems[i], (*strengths)[i], involved[static_cast<int>(i)]});
  }
  std::stable_sort(r.systems.begin(), r.systems.end(),
                   [](const SystemStrength& a, const SystemStrength& b) { return a.strength > b.strength; });
  return r;
}

}  // namespace

absl::StatusOr<SurveyResults> ComputeResults(const ResultsInput& input, const ResultsOptions& options) {
  if (options.resamples < 1) return absl::InvalidArgumentError("results: resamples must be at least 1");
  if (!(options.level > 0.0 && options.level < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat("results: level must lie in (0, 1), got ", options.level));
  }
  if (options.max_attention_failures < 0) {
    return absl::InvalidArgumentError("results: max_attention_failures must not be negative");
  }
  std::map<int64_t, const RatedItem*> item_of;
  for (const RatedItem& item : input.items) item_of[item.id] = &item;
  for (const RatedAnswer& a : input.answers) {
    if (!item_of.count(a.item_id)) {
      return absl::InvalidArgumentError(absl::StrCat("results: an answer names unknown item ", a.item_id));
    }
    if (a.question < 0 || a.question >= static_cast<int>(input.question_keys.size())) {
      return absl::InvalidArgumentError(absl::StrCat("results: an answer names unknown question ", a.question));
    }
    if (a.choice != "x" && a.choice != "y" && a.choice != "neither") {
      return absl::InvalidArgumentError(absl::StrCat("results: unknown choice '", a.choice, "'"));
    }
  }

  SurveyResults out;
  out.options = options;
  out.question_keys = input.question_keys;
  out.participants_joined = input.participants_joined;

  // Attention checks: a check fails when any of its answers is unexpected.
  std::map<std::pair<int64_t, int64_t>, bool> check_failed;  // (participant, item)
  std::set<int64_t> answered;
  for (const RatedAnswer& a : input.answers) {
    answered.insert(a.participant);
    const RatedItem& item = *item_of.at(a.item_id);
    if (item.attention.empty()) continue;
    check_failed[{a.participant, a.item_id}] |= a.choice != item.attention;
  }
  std::map<int64_t, AttentionReport> attention;
  for (const auto& [key, failed] : check_failed) {
    AttentionReport& r = attention[key.first];
    r.participant = key.first;
    ++r.checks;
    if (failed) ++r.failed;
  }
  std::set<int64_t> included;
  for (int64_t p : answered) {
    auto it = attention.find(p);
    if (it != attention.end() && it->second.failed > options.max_attention_failures) {
      it->second.excluded = true;
      ++out.excluded_attention;
    } else if (options.finished_only && !input.finished.count(p)) {
      ++out.excluded_unfinished;
    } else {
      included.insert(p);
    }
  }
  for (auto& [p, r] : attention) out.attention.push_back(r);
  out.participants_answered = static_cast<int64_t>(answered.size());
  out.participants_included = static_cast<int64_t>(included.size());

  const Comparisons comparisons = FindComparisons(input.items);
  std::vector<Vote> votes;
  std::map<std::pair<int64_t, int64_t>, int64_t> pair_ms;  // (participant, item) → time on it
  for (const RatedAnswer& a : input.answers) {
    const RatedItem& item = *item_of.at(a.item_id);
    if (!item.attention.empty() || !included.count(a.participant)) continue;
    const Orientation o = comparisons.of_item.at(a.item_id);
    int category = CategoryOf(a.choice);
    if (o.flipped && category != kNeither) category = category == kX ? kY : kX;
    votes.push_back({a.participant, a.item_id, a.question, o.comparison, category, &item.shot_type});
    int64_t& ms = pair_ms[{a.participant, a.item_id}];
    ms = std::max(ms, a.elapsed_ms);
  }

  for (int c = 0; c < static_cast<int>(comparisons.systems.size()); ++c) {
    std::vector<std::string> shot_types;
    for (const RatedItem& item : input.items) {
      auto o = comparisons.of_item.find(item.id);
      if (o == comparisons.of_item.end() || o->second.comparison != c || item.shot_type.empty()) continue;
      if (std::find(shot_types.begin(), shot_types.end(), item.shot_type) == shot_types.end()) {
        shot_types.push_back(item.shot_type);
      }
    }
    std::sort(shot_types.begin(), shot_types.end(), ShotTypeBefore);
    std::vector<std::string> scopes = {""};
    if (shot_types.size() > 1) scopes.insert(scopes.end(), shot_types.begin(), shot_types.end());
    for (int q = 0; q < static_cast<int>(input.question_keys.size()); ++q) {
      for (const std::string& scope : scopes) {
        std::vector<const Vote*> selected;
        for (const Vote& v : votes) {
          if (v.comparison == c && v.question == q && (scope.empty() || *v.shot_type == scope)) selected.push_back(&v);
        }
        ASSIGN_OR_RETURN(ShareRow row, MakeRow(selected, options));
        row.question = input.question_keys[q];
        row.shot_type = scope;
        row.system_x = comparisons.systems[c].first;
        row.system_y = comparisons.systems[c].second;
        out.rows.push_back(std::move(row));
      }
    }
  }

  std::set<std::string> systems;
  for (const auto& [sx, sy] : comparisons.systems) {
    if (sx == sy) continue;
    systems.insert(sx);
    systems.insert(sy);
  }
  for (int q = 0; q < static_cast<int>(input.question_keys.size()); ++q) {
    out.agreement.push_back(AgreementOf(input.question_keys[q], q, votes));
    if (systems.size() > 2) out.rankings.push_back(RankingOf(input.question_keys[q], q, votes, comparisons));
  }

  std::vector<double> seconds;
  for (const auto& [key, ms] : pair_ms) seconds.push_back(static_cast<double>(ms) / 1000.0);
  out.median_seconds_per_pair = Median(seconds);
  out.timed_pairs = static_cast<int64_t>(seconds.size());
  return out;
}

absl::StatusOr<ResultsInput> LoadResultsInput(experiments::SurveyStore& store, int64_t survey_id) {
  ASSIGN_OR_RETURN(experiments::Survey survey, store.GetSurvey(survey_id));
  ASSIGN_OR_RETURN(SurveyConfig config, SurveyConfigFromJson(survey.config_json));
  ResultsInput input;
  for (const Question& q : config.questions) input.question_keys.push_back(q.key);
  ASSIGN_OR_RETURN(std::vector<experiments::SurveyItem> items, store.ListSurveyItems(survey_id));
  for (const auto& i : items) input.items.push_back({i.id, i.label_x, i.label_y, i.shot_type, i.attention});
  ASSIGN_OR_RETURN(std::vector<experiments::SurveyParticipant> participants, store.ListSurveyParticipants(survey_id));
  std::map<int64_t, int64_t> seq_of;
  for (const auto& p : participants) {
    seq_of[p.id] = p.seq;
    if (p.finished_ms) input.finished.insert(p.seq);
  }
  input.participants_joined = static_cast<int64_t>(participants.size());
  ASSIGN_OR_RETURN(std::vector<experiments::SurveyAnswer> answers, store.ListSurveyAnswers(survey_id));
  for (const auto& a : answers) {
    input.answers.push_back({seq_of.at(a.participant_id), a.item_id, a.question, a.choice, a.elapsed_ms});
  }
  return input;
}

}  // namespace dreamshot::survey
