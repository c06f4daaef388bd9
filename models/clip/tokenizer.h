// CLIP's tokenizer as Stable Diffusion calls it: transformers' slow
// CLIPTokenizer with `padding="max_length", max_length=77, truncation=True`,
// exact to the id (see tokenizer_test.cc for the 40 reference prompts).
//
// Per prompt: split out literal special tokens (<|startoftext|>,
// <|endoftext|> and any other bos/eos/unk/pad string), clean each remaining
// chunk (TextCleanup::kFtfy by default: ftfy.fix_text subset, whitespace
// collapse, lower-case; or transformers' no-ftfy BasicTokenizer fallback),
// split it with CLIP's word regex, byte-level BPE each word.
//
// Thread safety: every method is const and may be called concurrently; the
// only mutable state is the per-instance word cache (a bounded LRU behind a
// mutex, see bpe.h). Copies made with WithCleanup() share the immutable
// vocabulary and merges but get their own cache.
#ifndef DREAMSHOT_MODELS_CLIP_TOKENIZER_H_
#define DREAMSHOT_MODELS_CLIP_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "models/clip/bpe.h"
#include "models/clip/pretokenizer.h"
#include "models/clip/tokenizer_files.h"

namespace dreamshot::models::clip {

struct ClipTokenizerOptions {
  TextCleanup cleanup = TextCleanup::kFtfy;
  // Words (not prompts) kept in the BPE cache; 0 disables caching.
  size_t cache_capacity = 16384;
};

// Row-major [batch_size, seq_len] int64 tensors, ready for torch::from_blob.
struct TokenizedBatch {
  int64_t batch_size = 0;
  int64_t seq_len = 0;
  std::vector<int64_t> input_ids;
  std::vector<int64_t> attention_mask;  // 1 for bos/tokens/eos, 0 for padding

  absl::Span<const int64_t> ids_row(int64_t b) const {
    return absl::MakeConstSpan(input_ids).subspan(b * seq_len, seq_len);
  }
  absl::Span<const int64_t> mask_row(int64_t b) const {
    return absl::MakeConstSpan(attention_mask).subspan(b * seq_len, seq_len);
  }
};

class ClipTokenizer {
 public:
  // A transformers tokenizer folder: vocab.json + merges.txt, plus
  // tokenizer_config.json and special_tokens_map.json when present (the
  // latter wins, as in from_pretrained). Every special token must be in
  // vocab.json.
  static absl::StatusOr<ClipTokenizer> FromFolder(const std::string& dir, const ClipTokenizerOptions& options = {});
  // OpenAI's bpe_simple_vocab_16e6.txt.gz (a "#version" line, then merges);
  // builds the same 49408-entry vocabulary as vocab.json, CLIP defaults for
  // special tokens.
  static absl::StatusOr<ClipTokenizer> FromOpenAiBpe(const std::string& bpe_gz_path,
                                                     const ClipTokenizerOptions& options = {});

  ClipTokenizer(ClipTokenizer&&) = default;
  ClipTokenizer& operator=(ClipTokenizer&&) = default;

  // Same vocabulary, another cleanup, a fresh cache.
  ClipTokenizer WithCleanup(TextCleanup cleanup) const;

  // Token ids without bos/eos, padding or truncation.
  std::vector<int64_t> Encode(absl::string_view text) const;

  // bos + Encode(prompt) (cut to max_length - 2 when `truncate`) + eos, then
  // padded with pad_id() to max_length when `pad`. seq_len is max_length
  // unless a row is longer (truncate == false) or padding is off, in which
  // case rows are padded to the longest one, since a tensor needs a
  // rectangle.
  TokenizedBatch Tokenize(const std::vector<std::string>& prompts, int max_length = 77, bool pad = true,
                          bool truncate = true) const;

  // transformers' decode(): tokens joined, bytes decoded (invalid UTF-8 ->
  // U+FFFD), "</w>" -> " ", stripped, and clean_up_tokenization when the
  // config asks for it. Unlike transformers, special tokens are skipped by
  // default. Unknown ids are an error.
  absl::StatusOr<std::string> Decode(absl::Span<const int64_t> ids, bool skip_special_tokens = true) const;

  int64_t bos_id() const { return shared_->bos_id; }
  int64_t eos_id() const { return shared_->eos_id; }
  int64_t pad_id() const { return shared_->pad_id; }
  int64_t unk_id() const { return shared_->unk_id; }
  int64_t vocab_size() const { return static_cast<int64_t>(shared_->bpe.id_to_token().size()); }
  int64_t model_max_length() const { return shared_->config.model_max_length; }
  TextCleanup cleanup() const { return cleanup_; }
  const SpecialTokenConfig& special_tokens() const { return shared_->config; }
  const BpeModel& bpe() const { return shared_->bpe; }

  // "" for an unknown id / -1 for an unknown token.
  absl::string_view IdToToken(int64_t id) const;
  int64_t TokenToId(absl::string_view token) const { return shared_->bpe.TokenToId(token); }

  void ClearCache() const { cache_->Clear(); }
  size_t cache_size() const { return cache_->size(); }

 private:
  struct Shared {
    BpeModel bpe;
    SpecialTokenConfig config;
    int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;
    // Distinct special-token strings split out before cleanup, with ids.
    std::vector<std::pair<std::string, int32_t>> split_tokens;
  };
  ClipTokenizer(std::shared_ptr<const Shared> shared, TextCleanup cleanup, size_t cache_capacity);
  static absl::StatusOr<ClipTokenizer> Build(Vocab vocab, const Merges& merges, SpecialTokenConfig config,
                                             const ClipTokenizerOptions& options, const std::string& source);

  void EncodeChunk(absl::string_view chunk, std::vector<int64_t>* ids) const;
  bool IsSpecialId(int64_t id) const;

  std::shared_ptr<const Shared> shared_;
  TextCleanup cleanup_;
  std::unique_ptr<BpeCache> cache_;
};

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_TOKENIZER_H_
