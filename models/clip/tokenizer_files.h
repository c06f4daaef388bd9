// Reading the on-disk forms of a CLIP tokenizer: a transformers folder
// (vocab.json, merges.txt, tokenizer_config.json, special_tokens_map.json)
// or OpenAI's bpe_simple_vocab_16e6.txt.gz.
#ifndef DREAMSHOT_MODELS_CLIP_TOKENIZER_FILES_H_
#define DREAMSHOT_MODELS_CLIP_TOKENIZER_FILES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::models::clip {

// Both upstreams keep only this many merges (49152 - 256 - 2): the vocabulary
// is 256 bytes + 256 "</w>" bytes + merges + 2 special tokens = 49408.
inline constexpr size_t kClipNumMerges = 48894;

using Merges = std::vector<std::pair<std::string, std::string>>;
using Vocab = absl::flat_hash_map<std::string, int32_t>;

// Special tokens and limits; defaults are CLIPTokenizer's.
struct SpecialTokenConfig {
  std::string bos_token = "<|startoftext|>";
  std::string eos_token = "<|endoftext|>";
  std::string unk_token = "<|endoftext|>";
  std::string pad_token = "<|endoftext|>";
  int64_t model_max_length = 77;
  bool clean_up_tokenization_spaces = true;
};

absl::StatusOr<std::string> ReadTextFile(const std::string& path);
// Reads a gzip file (a plain file is passed through by zlib).
absl::StatusOr<std::string> ReadGzipFile(const std::string& path);

absl::StatusOr<Vocab> ParseVocabJson(absl::string_view json_text, const std::string& path);

// Skips the "#version" line and keeps the next `max_merges` lines, each
// "left right". `path` only names the file in errors.
absl::StatusOr<Merges> ParseMerges(absl::string_view text, const std::string& path,
                                   size_t max_merges = kClipNumMerges);

// The vocabulary OpenAI's simple_tokenizer builds from its merges: byte
// characters, the same with "</w>", each merge joined, <|startoftext|>,
// <|endoftext|>.
Vocab OpenAiVocab(const Merges& merges);

// Overlays the keys present in a tokenizer_config.json or
// special_tokens_map.json (a token is a string or {"content": ...}).
absl::Status ApplyTokenizerConfigJson(absl::string_view json_text, const std::string& path,
                                      SpecialTokenConfig* config);

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_TOKENIZER_FILES_H_
