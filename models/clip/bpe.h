// Byte-level BPE as in CLIP: a word's UTF-8 bytes become table characters
// (byte_unicode.h), the last one suffixed "</w>", then the adjacent pair with
// the lowest merge rank is merged everywhere (left to right) until no pair
// has a rank. Symbols are interned strings, so a merge applies exactly when
// upstream's string comparison would.
#ifndef DREAMSHOT_MODELS_CLIP_BPE_H_
#define DREAMSHOT_MODELS_CLIP_BPE_H_

#include <cstdint>
#include <list>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace dreamshot::models::clip {

class BpeModel {
 public:
  // `vocab` maps token strings to ids; `merges` in rank order (a repeated
  // pair keeps its last rank, like upstream's dict). Symbols missing from the
  // vocabulary encode as `unk_id`.
  static absl::StatusOr<BpeModel> Create(absl::flat_hash_map<std::string, int32_t> vocab,
                                         const std::vector<std::pair<std::string, std::string>>& merges,
                                         int32_t unk_id);

  // Appends the ids of one pre-tokenized word (its raw UTF-8 bytes).
  void EncodeWord(absl::string_view word_bytes, std::vector<int32_t>* ids) const;

  // -1 when absent.
  int32_t TokenToId(absl::string_view token) const;
  const std::vector<std::string>& id_to_token() const { return id_to_token_; }
  const absl::flat_hash_map<std::string, int32_t>& vocab() const { return vocab_; }
  size_t num_merges() const { return merges_.size(); }
  // Rank of the merge (left, right), or -1.
  int32_t MergeRank(absl::string_view left, absl::string_view right) const;

 private:
  struct Merge {
    int32_t rank;
    int32_t result;  // symbol id
  };
  static uint64_t PairKey(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  int32_t Intern(const std::string& symbol);
  int32_t SymbolOf(absl::string_view symbol) const;

  absl::flat_hash_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  int32_t unk_id_ = -1;
  absl::flat_hash_map<std::string, int32_t> symbol_ids_;
  std::vector<int32_t> symbol_to_vocab_;  // vocab id or unk
  absl::flat_hash_map<uint64_t, Merge> merges_;
  int32_t byte_symbol_[256] = {};
  int32_t byte_end_symbol_[256] = {};  // byte char + "</w>"
};

// A bounded LRU map from a word's bytes to its ids. Thread-safe: one mutex
// guards the map and recency list; lookups copy the ids out.
class BpeCache {
 public:
  explicit BpeCache(size_t capacity) : capacity_(capacity) {}
  BpeCache(const BpeCache&) = delete;
  BpeCache& operator=(const BpeCache&) = delete;

  // Appends the cached ids for `word` to `ids`; false on a miss.
  bool Lookup(absl::string_view word, std::vector<int32_t>* ids) ABSL_LOCKS_EXCLUDED(mu_);
  void Insert(absl::string_view word, const int32_t* ids, size_t count) ABSL_LOCKS_EXCLUDED(mu_);
  void Clear() ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    std::string word;
    std::vector<int32_t> ids;
  };
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::list<Entry> entries_ ABSL_GUARDED_BY(mu_);  // most recent first
  // Keys view the words owned by the list nodes, which never move.
  absl::flat_hash_map<absl::string_view, std::list<Entry>::iterator> index_ ABSL_GUARDED_BY(mu_);
};

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_BPE_H_
