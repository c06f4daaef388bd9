#include "models/clip/bpe.h"

#include <limits>

#include "absl/strings/str_cat.h"
#include "models/clip/byte_unicode.h"
#include "models/clip/unicode_text.h"

namespace dreamshot::models::clip {

int32_t BpeModel::Intern(const std::string& symbol) {
  auto [it, inserted] = symbol_ids_.try_emplace(symbol, static_cast<int32_t>(symbol_to_vocab_.size()));
  if (inserted) {
    auto v = vocab_.find(symbol);
    symbol_to_vocab_.push_back(v == vocab_.end() ? unk_id_ : v->second);
  }
  return it->second;
}

int32_t BpeModel::SymbolOf(absl::string_view symbol) const {
  auto it = symbol_ids_.find(symbol);
  return it == symbol_ids_.end() ? -1 : it->second;
}

absl::StatusOr<BpeModel> BpeModel::Create(absl::flat_hash_map<std::string, int32_t> vocab,
                                          const std::vector<std::pair<std::string, std::string>>& merges,
                                          int32_t unk_id) {
  BpeModel model;
  model.unk_id_ = unk_id;
  int32_t max_id = -1;
  for (const auto& [token, id] : vocab) {
    if (id < 0) return absl::InvalidArgumentError(absl::StrCat("negative id ", id, " for token '", token, "'"));
    max_id = std::max(max_id, id);
  }
  model.id_to_token_.resize(static_cast<size_t>(max_id + 1));
  for (const auto& [token, id] : vocab) model.id_to_token_[id] = token;
  model.vocab_ = std::move(vocab);

  const std::array<char32_t, 256> table = ByteToUnicode();
  for (int b = 0; b < 256; ++b) {
    std::string symbol;
    AppendUtf8(table[b], &symbol);
    model.byte_symbol_[b] = model.Intern(symbol);
    model.byte_end_symbol_[b] = model.Intern(symbol + "</w>");
  }
  int32_t rank = 0;
  for (const auto& [left, right] : merges) {
    const int32_t l = model.Intern(left);
    const int32_t r = model.Intern(right);
    const int32_t result = model.Intern(left + right);
    model.merges_.insert_or_assign(PairKey(l, r), Merge{rank++, result});
  }
  return model;
}

int32_t BpeModel::TokenToId(absl::string_view token) const {
  auto it = vocab_.find(token);
  return it == vocab_.end() ? -1 : it->second;
}

int32_t BpeModel::MergeRank(absl::string_view left, absl::string_view right) const {
  const int32_t l = SymbolOf(left);
  const int32_t r = SymbolOf(right);
  if (l < 0 || r < 0) return -1;
  auto it = merges_.find(PairKey(l, r));
  return it == merges_.end() ? -1 : it->second.rank;
}

void BpeModel::EncodeWord(absl::string_view word_bytes, std::vector<int32_t>* ids) const {
  if (word_bytes.empty()) return;
  std::vector<int32_t> word(word_bytes.size());
  for (size_t i = 0; i < word_bytes.size(); ++i) {
    const auto b = static_cast<uint8_t>(word_bytes[i]);
    word[i] = i + 1 == word_bytes.size() ? byte_end_symbol_[b] : byte_symbol_[b];
  }
  while (word.size() > 1) {
    // The lowest-ranked adjacent pair; ranks are unique, so ties cannot occur.
    int32_t best_rank = std::numeric_limits<int32_t>::max();
    int32_t left = -1, right = -1, merged = -1;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      auto it = merges_.find(PairKey(word[i], word[i + 1]));
      if (it != merges_.end() && it->second.rank < best_rank) {
        best_rank = it->second.rank;
        left = word[i];
        right = word[i + 1];
        merged = it->second.result;
      }
    }
    if (merged < 0) break;
    // Merge every occurrence, scanning left to right without overlap.
    size_t out = 0;
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == left && word[i + 1] == right) {
        word[out++] = merged;
        i += 2;
      } else {
        word[out++] = word[i++];
      }
    }
    word.resize(out);
  }
  for (int32_t symbol : word) ids->push_back(symbol_to_vocab_[symbol]);
}

bool BpeCache::Lookup(absl::string_view word, std::vector<int32_t>* ids) {
  absl::MutexLock lock(&mu_);
  auto it = index_.find(word);
  if (it == index_.end()) return false;
  entries_.splice(entries_.begin(), entries_, it->second);  // mark most recent
  ids->insert(ids->end(), it->second->ids.begin(), it->second->ids.end());
  return true;
}

void BpeCache::Insert(absl::string_view word, const int32_t* ids, size_t count) {
  if (capacity_ == 0) return;
  absl::MutexLock lock(&mu_);
  if (index_.contains(word)) return;  // Another thread got here first.
  while (entries_.size() >= capacity_) {
    index_.erase(entries_.back().word);
    entries_.pop_back();
  }
  entries_.push_front(Entry{std::string(word), std::vector<int32_t>(ids, ids + count)});
  index_.emplace(entries_.front().word, entries_.begin());
}

void BpeCache::Clear() {
  absl::MutexLock lock(&mu_);
  index_.clear();
  entries_.clear();
}

size_t BpeCache::size() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace dreamshot::models::clip
