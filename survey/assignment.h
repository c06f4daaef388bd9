// Which stored pairs one survey participant sees, in which order, and which
// side is shown as "A". Participants arrive one at a time; each assignment
// reads how often every pair has been shown so far, so coverage stays even
// over the whole survey, not just in expectation.
#ifndef DREAMSHOT_SURVEY_ASSIGNMENT_H_
#define DREAMSHOT_SURVEY_ASSIGNMENT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dreamshot::survey {

// One stored image pair: side 1 from system X, side 2 from system Y.
struct PoolPair {
  int64_t id = 0;
  std::string shot_type;  // "close", "medium", "long", or "" (unknown: a group of its own)
};

struct AssignmentOptions {
  int pairs_per_participant = 36;
  int attention_checks = 0;  // extra items per participant, drawn from attention_pairs
  uint64_t seed = 0;         // the survey's seed
};

struct AssignedItem {
  int64_t pair_id = 0;
  bool swapped = false;  // true: side 2 is shown as A
  bool attention_check = false;
};

// The items shown to participant `participant_index`, in display order.
//
// - Shot-type balance: min(pairs_per_participant, pool size) pairs are split
//   as evenly as possible over the shot types present (types in name order);
//   the remainder goes to a block of types that rotates with
//   participant_index, so no type is systematically short. A type with too
//   few pairs gives all of them and its shortfall is spread over the others.
//   A pool smaller than pairs_per_participant is assigned whole.
// - Coverage: within a type the least-shown pairs (shown_counts, missing = 0)
//   are taken first, ties broken by the seeded RNG.
// - Sides: every item's `swapped` is random, and exactly half of the real
//   pairs are swapped (±1 when their number is odd); the same holds for all
//   items together, attention checks included.
// - Order: a seeded shuffle; an attention check is never first.
// - Attention checks: min(attention_checks, attention_pairs.size()) distinct
//   attention pairs, least-shown first. Capped rather than repeated because a
//   participant answers each item once.
//
// Deterministic in (pool, attention_pairs, shown_counts, participant_index,
// options), independent of the order of `pool` and of the platform: the RNG is
// std::mt19937_64 (its sequence is fixed by the standard) with our own
// uniform draw and Fisher–Yates, never std::shuffle or the std distributions.
//
// INVALID_ARGUMENT for an empty pool, pairs_per_participant < 1,
// attention_checks < 0, attention_checks > 0 with no attention pairs, or a
// pair id that appears twice (across pool and attention_pairs).
absl::StatusOr<std::vector<AssignedItem>> AssignPairs(const std::vector<PoolPair>& pool,
                                                      const std::vector<PoolPair>& attention_pairs,
                                                      const std::map<int64_t, int64_t>& shown_counts,
                                                      int64_t participant_index, const AssignmentOptions& options);

}  // namespace dreamshot::survey

#endif  // DREAMSHOT_SURVEY_ASSIGNMENT_H_
