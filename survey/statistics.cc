#include "survey/statistics.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/statistics.h"

namespace dreamshot::survey {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Systems reachable from system 0 along edges i -> j where edge(i, j).
template <typename Edge>
std::vector<bool> Reachable(int systems, Edge edge) {
  std::vector<bool> seen(systems, false);
  std::vector<int> stack = {0};
  seen[0] = true;
  while (!stack.empty()) {
    const int i = stack.back();
    stack.pop_back();
    for (int j = 0; j < systems; ++j) {
      if (!seen[j] && edge(i, j)) {
        seen[j] = true;
        stack.push_back(j);
      }
    }
  }
  return seen;
}

std::string Unreached(const std::vector<bool>& seen) {
  std::vector<int> out;
  for (size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i]) out.push_back(static_cast<int>(i));
  }
  return absl::StrJoin(out, ", ");
}

}  // namespace

double SignTestPValue(int64_t wins_a, int64_t wins_b) {
  if (wins_a < 0 || wins_b < 0) return kNaN;
  // core's test is scipy's "no more likely than observed" sum; for p = 0.5
  // the pmf is symmetric, so that sum is exactly both tails, i.e.
  // min(1, 2 P(X <= min(a, b))). One implementation of the numerics.
  return core::BinomialTwoSidedPValue(wins_a, wins_a + wins_b, 0.5);
}

absl::StatusOr<std::vector<Proportion>> BootstrapShares(const std::vector<std::vector<int>>& answers, int categories,
                                                        int resamples, uint64_t seed, double level) {
  if (categories < 1) {
    return absl::InvalidArgumentError(absl::StrCat("BootstrapShares: categories must be >= 1, got ", categories));
  }
  if (resamples < 1) {
    return absl::InvalidArgumentError(absl::StrCat("BootstrapShares: resamples must be >= 1, got ", resamples));
  }
  if (!(level > 0.0 && level < 1.0)) {
    return absl::InvalidArgumentError(absl::StrCat("BootstrapShares: level must be in (0, 1), got ", level));
  }

  // Per non-empty participant: answer counts per category, and the total.
  const size_t k = static_cast<size_t>(categories);
  std::vector<std::vector<int64_t>> counts;
  std::vector<int64_t> totals;
  std::vector<int64_t> pooled(k, 0);
  int64_t pooled_total = 0;
  for (size_t p = 0; p < answers.size(); ++p) {
    if (answers[p].empty()) continue;
    std::vector<int64_t> c(k, 0);
    for (size_t a = 0; a < answers[p].size(); ++a) {
      const int category = answers[p][a];
      if (category < 0 || category >= categories) {
        return absl::InvalidArgumentError(absl::StrCat("BootstrapShares: participant ", p, " answer ", a,
                                                       " is category ", category, ", outside [0, ", categories, ")"));
      }
      ++c[category];
      ++pooled[category];
    }
    const int64_t total = static_cast<int64_t>(answers[p].size());
    pooled_total += total;
    counts.push_back(std::move(c));
    totals.push_back(total);
  }
  std::vector<Proportion> out(k);
  if (counts.empty()) return out;

  // replicate_shares[j][r]: category j's share in replicate r.
  std::vector<std::vector<double>> replicate_shares(k, std::vector<double>(static_cast<size_t>(resamples)));
  std::mt19937_64 rng(seed);
  const uint64_t participants = counts.size();
  std::vector<int64_t> sum(k);
  for (int r = 0; r < resamples; ++r) {
    std::fill(sum.begin(), sum.end(), 0);
    int64_t total = 0;
    for (uint64_t d = 0; d < participants; ++d) {
      const size_t p = core::UniformIndex(rng, participants);
      for (size_t j = 0; j < k; ++j) sum[j] += counts[p][j];
      total += totals[p];
    }
    // total > 0: every drawn participant has at least one answer.
    for (size_t j = 0; j < k; ++j) {
      replicate_shares[j][r] = static_cast<double>(sum[j]) / static_cast<double>(total);
    }
  }

  const double alpha = 1.0 - level;
  for (size_t j = 0; j < k; ++j) {
    std::vector<double>& shares = replicate_shares[j];
    std::sort(shares.begin(), shares.end());
    out[j].value = static_cast<double>(pooled[j]) / static_cast<double>(pooled_total);
    out[j].low = core::SortedQuantile(shares, alpha / 2.0);
    out[j].high = core::SortedQuantile(shares, 1.0 - alpha / 2.0);
  }
  return out;
}

absl::StatusOr<double> FleissKappa(const std::vector<std::vector<int64_t>>& counts) {
  if (counts.empty()) {
    return absl::FailedPreconditionError("FleissKappa: no items (need at least one item with two ratings)");
  }
  if (counts[0].empty()) {
    return absl::InvalidArgumentError("FleissKappa: items have no categories");
  }
  const size_t k = counts[0].size();
  std::vector<double> category_totals(k, 0.0);
  double ratings = 0.0;  // Σ n_i over kept items
  double sum_p = 0.0;    // Σ P_i
  int64_t items = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i].size() != k) {
      return absl::InvalidArgumentError(
          absl::StrCat("FleissKappa: item ", i, " has ", counts[i].size(), " categories, item 0 has ", k));
    }
    double n_i = 0.0;
    double squares = 0.0;
    for (size_t j = 0; j < k; ++j) {
      const int64_t c = counts[i][j];
      if (c < 0) {
        return absl::InvalidArgumentError(absl::StrCat("FleissKappa: item ", i, " category ", j, " has count ", c));
      }
      n_i += static_cast<double>(c);
      squares += static_cast<double>(c) * static_cast<double>(c);
    }
    if (n_i < 2.0) continue;  // one rating cannot agree or disagree
    for (size_t j = 0; j < k; ++j) {
      category_totals[j] += static_cast<double>(counts[i][j]);
    }
    ratings += n_i;
    sum_p += (squares - n_i) / (n_i * (n_i - 1.0));
    ++items;
  }
  if (items == 0) {
    return absl::FailedPreconditionError("FleissKappa: no item has at least two ratings");
  }
  const double p_bar = sum_p / static_cast<double>(items);
  double p_e = 0.0;
  for (double t : category_totals) p_e += (t / ratings) * (t / ratings);
  // P̄e == 1 exactly when one category holds every rating (its share is then
  // computed as exactly 1, the others as 0); kappa is 0/0 there.
  if (p_e >= 1.0) {
    return absl::FailedPreconditionError(
        "FleissKappa: all ratings are in one category, so chance agreement is "
        "1 and kappa is undefined");
  }
  return (p_bar - p_e) / (1.0 - p_e);
}

absl::StatusOr<std::vector<double>> BradleyTerryStrengths(int systems, const std::vector<Comparison>& comparisons,
                                                          double prior_wins, double tolerance, int max_iterations) {
  if (systems < 2) {
    return absl::InvalidArgumentError(absl::StrCat("BradleyTerryStrengths: need at least 2 systems, got ", systems));
  }
  if (!std::isfinite(prior_wins) || prior_wins < 0.0) {
    return absl::InvalidArgumentError(
        absl::StrCat("BradleyTerryStrengths: prior_wins must be finite and >= 0, got ", prior_wins));
  }
  if (!(tolerance > 0.0) || max_iterations < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("BradleyTerryStrengths: need tolerance > 0 and max_iterations >= 1, "
                     "got ",
                     tolerance, " and ", max_iterations));
  }
  const size_t s = static_cast<size_t>(systems);
  // wins[i][j]: wins of i over j; compared[i][j]: the pair has an entry.
  std::vector<std::vector<double>> wins(s, std::vector<double>(s, 0.0));
  std::vector<std::vector<bool>> compared(s, std::vector<bool>(s, false));
  for (size_t c = 0; c < comparisons.size(); ++c) {
    const Comparison& cmp = comparisons[c];
    if (cmp.a < 0 || cmp.a >= systems || cmp.b < 0 || cmp.b >= systems || cmp.a == cmp.b) {
      return absl::InvalidArgumentError(absl::StrCat("BradleyTerryStrengths: comparison ", c, " is between systems ",
                                                     cmp.a, " and ", cmp.b, "; need two different ones in [0, ",
                                                     systems, ")"));
    }
    if (!std::isfinite(cmp.wins_a) || !std::isfinite(cmp.wins_b) || cmp.wins_a < 0.0 || cmp.wins_b < 0.0) {
      return absl::InvalidArgumentError(absl::StrCat("BradleyTerryStrengths: comparison ", c, " has wins ", cmp.wins_a,
                                                     " and ", cmp.wins_b, "; need finite values >= 0"));
    }
    wins[cmp.a][cmp.b] += cmp.wins_a;
    wins[cmp.b][cmp.a] += cmp.wins_b;
    // An entry with no outcomes carries no information.
    if (cmp.wins_a + cmp.wins_b > 0.0) {
      compared[cmp.a][cmp.b] = compared[cmp.b][cmp.a] = true;
    }
  }
  for (size_t i = 0; i < s; ++i) {
    if (std::none_of(compared[i].begin(), compared[i].end(), [](bool b) { return b; })) {
      return absl::FailedPreconditionError(absl::StrCat("BradleyTerryStrengths: system ", i, " has no comparisons"));
    }
    for (size_t j = 0; j < s; ++j) {
      if (compared[i][j]) wins[i][j] += prior_wins;
    }
  }
  const std::vector<bool> connected =
      Reachable(systems, [&](int i, int j) { return static_cast<bool>(compared[i][j]); });
  if (std::find(connected.begin(), connected.end(), false) != connected.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("BradleyTerryStrengths: systems {", Unreached(connected),
                     "} are never compared with system 0, directly or through others"));
  }
  // Strongly connected "beats" graph <=> every system reaches 0 and 0 reaches
  // every system.
  const std::vector<bool> beaten_by_0 = Reachable(systems, [&](int i, int j) { return wins[i][j] > 0.0; });
  const std::vector<bool> beat_0 = Reachable(systems, [&](int i, int j) { return wins[j][i] > 0.0; });
  for (const std::vector<bool>* seen : {&beaten_by_0, &beat_0}) {
    if (std::find(seen->begin(), seen->end(), false) != seen->end()) {
      return absl::FailedPreconditionError(absl::StrCat("BradleyTerryStrengths: no maximum-likelihood fit: systems {",
                                                        Unreached(*seen), "} ",
                                                        seen == &beaten_by_0 ? "are never beaten by" : "never beat",
                                                        " system 0 or the systems it beats, so their strength ratio is "
                                                        "unbounded; pass prior_wins > 0"));
    }
  }

  std::vector<double> total_wins(s, 0.0);
  for (size_t i = 0; i < s; ++i) {
    for (size_t j = 0; j < s; ++j) total_wins[i] += wins[i][j];
  }
  std::vector<double> pi(s, 1.0);
  std::vector<double> next(s);
  double change = 0.0;
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    for (size_t i = 0; i < s; ++i) {
      double denom = 0.0;
      for (size_t j = 0; j < s; ++j) {
        if (j == i) continue;
        const double n_ij = wins[i][j] + wins[j][i];
        if (n_ij > 0.0) denom += n_ij / (pi[i] + pi[j]);
      }
      next[i] = total_wins[i] / denom;
    }
    // Geometric mean 1: the likelihood is scale-free, so fixing the scale
    // each step keeps the values from drifting and makes `change` meaningful.
    double mean_log = 0.0;
    for (double v : next) mean_log += std::log(v);
    mean_log /= static_cast<double>(s);
    change = 0.0;
    for (size_t i = 0; i < s; ++i) {
      next[i] = std::exp(std::log(next[i]) - mean_log);
      change = std::max(change, std::fabs(std::log(next[i] / pi[i])));
    }
    pi.swap(next);
    if (change <= tolerance) return pi;
  }
  return absl::FailedPreconditionError(absl::StrCat("BradleyTerryStrengths: did not converge in ", max_iterations,
                                                    " iterations (last change in log strength ", change, ")"));
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  // The lower middle is the largest of the elements before `mid`.
  const double lower = *std::max_element(values.begin(), values.begin() + mid);
  return lower / 2.0 + upper / 2.0;
}

}  // namespace dreamshot::survey
