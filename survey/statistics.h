// Statistics for pairwise A/B surveys: interval estimates of answer shares
// (Wilson; a bootstrap over participants), the sign test between two systems,
// agreement between raters (Fleiss' kappa), Bradley–Terry strengths for more
// than two systems, and the median.
//
// All functions are pure and deterministic (the bootstrap given its seed, on
// every platform), so survey results can be recomputed from the stored
// answers and compared bit for bit.
#ifndef DREAMSHOT_SURVEY_STATISTICS_H_
#define DREAMSHOT_SURVEY_STATISTICS_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/statistics.h"

namespace dreamshot::survey {

// Wilson intervals live in core (the evaluator's shot-scale agreement uses
// them too); the survey names them as before.
using core::Proportion;
using core::WilsonInterval;

// Exact two-sided sign test of "A and B are equally preferred": the p-value
// of Binomial(wins_a + wins_b, 0.5) at wins_a, defined as
//   min(1, 2 · P(X <= min(wins_a, wins_b))),
// which for p = 0.5 equals the sum of the probabilities of all outcomes no
// more likely than the observed one (scipy.stats.binomtest). Ties
// ("neither") are left out by the caller, as the sign test requires.
// 0 vs 0 gives 1. Computed in log space through the regularized incomplete
// beta function (core/statistics.h), stable for n in the millions.
// Negative counts give NaN.
double SignTestPValue(int64_t wins_a, int64_t wins_b);

// Per-category answer shares with percentile bootstrap intervals that
// resample PARTICIPANTS, not answers: one participant's answers are
// correlated (taste, attention, screen), so treating them as independent
// would give intervals that are too narrow.
//
// answers[p] holds participant p's answers, each a category index in
// [0, categories) (e.g. 0 = system A, 1 = system B, 2 = neither).
// Participants without answers are skipped. value is the category's share of
// all answers. Each of `resamples` replicates draws as many participants as
// there are (non-empty) ones, uniformly with replacement, and pools their
// answers; low/high are the (1 − level)/2 and (1 + level)/2 quantiles of the
// replicate shares (linear interpolation between order statistics, R type 7).
//
// Deterministic given `seed` on every platform: std::mt19937_64's output is
// fixed by the standard and indices are drawn by rejection sampling rather
// than std::uniform_int_distribution (whose algorithm is not). With no
// answers at all every category is {0, 0, 0}.
//
// Errors (InvalidArgument): categories < 1, an answer outside
// [0, categories) (the message names participant and position),
// resamples < 1, level not in the open interval (0, 1).
absl::StatusOr<std::vector<Proportion>> BootstrapShares(const std::vector<std::vector<int>>& answers, int categories,
                                                        int resamples, uint64_t seed, double level = 0.95);

// Fleiss' kappa, generalized to a varying number of raters per item.
// counts[i][j] is how many raters put item i into category j; every row has
// the same length (the number of categories). Items with fewer than two
// ratings carry no agreement information and are ignored entirely (also in
// the category shares). With n_i = Σ_j n_ij over the kept items:
//   P_i = (Σ_j n_ij² − n_i) / (n_i (n_i − 1)),   P̄ = mean_i P_i,
//   p_j = Σ_i n_ij / Σ_i n_i,   P̄e = Σ_j p_j²,   κ = (P̄ − P̄e) / (1 − P̄e).
// Equal n_i gives the textbook formula.
//
// Errors: InvalidArgument for no categories, rows of different lengths or a
// negative count; FailedPrecondition when no item has two ratings or when all
// ratings fall in one category (P̄e = 1, κ undefined).
absl::StatusOr<double> FleissKappa(const std::vector<std::vector<int64_t>>& counts);

// Outcomes between systems a and b (indices into [0, systems)). A tie
// ("neither") is entered as half a win for each side. Several entries for
// the same pair (either order) add up.
struct Comparison {
  int a = 0;
  int b = 0;
  double wins_a = 0.0;
  double wins_b = 0.0;
};

// Bradley–Terry strengths π_i with P(i beats j) = π_i / (π_i + π_j), fitted by
// maximum likelihood with the MM algorithm (Hunter 2004, Ann. Statist. 32):
//   π_i ← W_i / Σ_{j≠i} n_ij / (π_i + π_j)
// (W_i: total wins of i, n_ij: comparisons between i and j), renormalized
// each step to geometric mean 1 (Σ log π_i = 0), so π_i / π_j is the odds of
// i over j and a system of average strength has π = 1. Stops when no log π_i
// moves by more than `tolerance`.
//
// The MLE exists only if the systems cannot be split into two groups where
// one group never beats the other (Hunter's Assumption 1: the "beats" graph
// is strongly connected); e.g. a system that never wins would get π = 0.
// With prior_wins == 0 (the default) such data is an error. With
// prior_wins > 0, every pair compared at least once gets prior_wins extra
// wins for each side (a symmetric pseudo-count that shrinks toward equal
// strength), which makes the fit finite whenever the comparison graph is
// connected; 0.5 is a common choice.
//
// Errors: InvalidArgument for systems < 2, a comparison with an index out of
// range or a == b, a negative or non-finite win count, prior_wins negative or
// non-finite, tolerance <= 0, max_iterations < 1. FailedPrecondition when a
// system has no comparisons, the comparison graph is disconnected, the MLE
// does not exist (above), or the iteration does not converge within
// max_iterations.
absl::StatusOr<std::vector<double>> BradleyTerryStrengths(int systems, const std::vector<Comparison>& comparisons,
                                                          double prior_wins = 0.0, double tolerance = 1e-10,
                                                          int max_iterations = 100000);

// Type-7 quantiles (R's default, numpy's "linear"; the bootstrap's
// intervals use them too) live in core.
using core::Quantile;

// Median of `values`: the middle value, or the mean of the middle two for an
// even count; 0 for an empty vector. NaN values make the result unspecified.
double Median(std::vector<double> values);

}  // namespace dreamshot::survey

#endif  // DREAMSHOT_SURVEY_STATISTICS_H_
