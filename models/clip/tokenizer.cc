#include "models/clip/tokenizer.h"

#include <algorithm>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "models/clip/byte_unicode.h"
#include "models/clip/unicode_text.h"

namespace dreamshot::models::clip {
namespace {

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// transformers' clean_up_tokenization, applied as its chain of replace()s.
std::string CleanUpTokenization(std::string text) {
  static constexpr const char* kReplacements[][2] = {
      {" .", "."},     {" ?", "?"},     {" !", "!"},   {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"},   {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
  };
  for (const auto& pair : kReplacements) text = absl::StrReplaceAll(text, {{pair[0], pair[1]}});
  return text;
}

CodePoints StripPySpace(const CodePoints& text) {
  size_t begin = 0, end = text.size();
  while (begin < end && IsPySpace(text[begin])) ++begin;
  while (end > begin && IsPySpace(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

}  // namespace

ClipTokenizer::ClipTokenizer(std::shared_ptr<const Shared> shared, TextCleanup cleanup, size_t cache_capacity)
    : shared_(std::move(shared)), cleanup_(cleanup), cache_(std::make_unique<BpeCache>(cache_capacity)) {}

absl::StatusOr<ClipTokenizer> ClipTokenizer::Build(Vocab vocab, const Merges& merges, SpecialTokenConfig config,
                                                   const ClipTokenizerOptions& options, const std::string& source) {
  auto shared = std::make_shared<Shared>();
  auto id_of = [&](const std::string& role, const std::string& token, int32_t* id) -> absl::Status {
    auto it = vocab.find(token);
    if (it == vocab.end()) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": ", role, " '", token, "' is not in the vocabulary"));
    }
    *id = it->second;
    return absl::OkStatus();
  };
  for (auto [role, token, id] : {std::tuple<const char*, const std::string*, int32_t*>{"bos_token", &config.bos_token,
                                                                                       &shared->bos_id},
                                 {"eos_token", &config.eos_token, &shared->eos_id},
                                 {"unk_token", &config.unk_token, &shared->unk_id},
                                 {"pad_token", &config.pad_token, &shared->pad_id}}) {
    absl::Status status = id_of(role, *token, id);
    if (!status.ok()) return status;
    // transformers never splits the text on any special token string (e.g.
    // SD-2's pad_token "!" becomes its own token, id 0).
    const bool seen = std::any_of(shared->split_tokens.begin(), shared->split_tokens.end(),
                                  [&](const auto& entry) { return entry.first == *token; });
    if (!seen && !token->empty()) shared->split_tokens.emplace_back(*token, *id);
  }
  absl::StatusOr<BpeModel> bpe = BpeModel::Create(std::move(vocab), merges, shared->unk_id);
  if (!bpe.ok()) return absl::Status(bpe.status().code(), absl::StrCat(source, ": ", bpe.status().message()));
  shared->bpe = std::move(*bpe);
  shared->config = std::move(config);
  return ClipTokenizer(std::move(shared), options.cleanup, options.cache_capacity);
}

absl::StatusOr<ClipTokenizer> ClipTokenizer::FromFolder(const std::string& dir, const ClipTokenizerOptions& options) {
  const std::string vocab_path = dir + "/vocab.json";
  const std::string merges_path = dir + "/merges.txt";
  absl::StatusOr<std::string> vocab_text = ReadTextFile(vocab_path);
  if (!vocab_text.ok()) return vocab_text.status();
  absl::StatusOr<Vocab> vocab = ParseVocabJson(*vocab_text, vocab_path);
  if (!vocab.ok()) return vocab.status();
  absl::StatusOr<std::string> merges_text = ReadTextFile(merges_path);
  if (!merges_text.ok()) return merges_text.status();
  absl::StatusOr<Merges> merges = ParseMerges(*merges_text, merges_path);
  if (!merges.ok()) return merges.status();

  SpecialTokenConfig config;
  for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"}) {
    const std::string path = dir + "/" + name;
    if (!FileExists(path)) continue;
    absl::StatusOr<std::string> text = ReadTextFile(path);
    if (!text.ok()) return text.status();
    absl::Status status = ApplyTokenizerConfigJson(*text, path, &config);
    if (!status.ok()) return status;
  }
  return Build(*std::move(vocab), *merges, std::move(config), options, dir);
}

absl::StatusOr<ClipTokenizer> ClipTokenizer::FromOpenAiBpe(const std::string& bpe_gz_path,
                                                           const ClipTokenizerOptions& options) {
  absl::StatusOr<std::string> text = ReadGzipFile(bpe_gz_path);
  if (!text.ok()) return text.status();
  absl::StatusOr<Merges> merges = ParseMerges(*text, bpe_gz_path);
  if (!merges.ok()) return merges.status();
  if (merges->size() != kClipNumMerges) {
    return absl::InvalidArgumentError(
        absl::StrCat(bpe_gz_path, ": has ", merges->size(), " merges, CLIP needs ", kClipNumMerges));
  }
  return Build(OpenAiVocab(*merges), *merges, SpecialTokenConfig{}, options, bpe_gz_path);
}

ClipTokenizer ClipTokenizer::WithCleanup(TextCleanup cleanup) const {
  return ClipTokenizer(shared_, cleanup, cache_->capacity());
}

void ClipTokenizer::EncodeChunk(absl::string_view chunk, std::vector<int64_t>* ids) const {
  const CodePoints cleaned = CleanText(DecodeUtf8(chunk), cleanup_);
  std::vector<int32_t> word_ids;
  for (const Word& word : SplitWords(cleaned)) {
    // Upstream's BPE cache is seeded with the two literal special tokens, so
    // only their exact spelling maps to the special ids.
    if (word.kind != Word::kText && (word.utf8 == "<|startoftext|>" || word.utf8 == "<|endoftext|>")) {
      const int32_t id = shared_->bpe.TokenToId(word.utf8);
      ids->push_back(id >= 0 ? id : shared_->unk_id);
      continue;
    }
    word_ids.clear();
    if (!cache_->Lookup(word.utf8, &word_ids)) {
      shared_->bpe.EncodeWord(word.utf8, &word_ids);
      cache_->Insert(word.utf8, word_ids.data(), word_ids.size());
    }
    ids->insert(ids->end(), word_ids.begin(), word_ids.end());
  }
}

std::vector<int64_t> ClipTokenizer::Encode(absl::string_view text) const {
  std::vector<int64_t> ids;
  // Split on the special-token strings first (leftmost, then longest),
  // as transformers' tokens_trie does before any cleanup.
  const auto& specials = shared_->split_tokens;
  size_t chunk_begin = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    const std::pair<std::string, int32_t>* match = nullptr;
    for (const auto& special : specials) {
      if (absl::string_view(text).substr(pos, special.first.size()) == special.first &&
          (match == nullptr || special.first.size() > match->first.size())) {
        match = &special;
      }
    }
    if (match == nullptr) {
      ++pos;
      continue;
    }
    if (pos > chunk_begin) EncodeChunk(text.substr(chunk_begin, pos - chunk_begin), &ids);
    ids.push_back(match->second);
    pos += match->first.size();
    chunk_begin = pos;
  }
  if (chunk_begin < text.size()) EncodeChunk(text.substr(chunk_begin), &ids);
  return ids;
}

TokenizedBatch ClipTokenizer::Tokenize(const std::vector<std::string>& prompts, int max_length, bool pad,
                                       bool truncate) const {
  std::vector<std::vector<int64_t>> rows;
  rows.reserve(prompts.size());
  size_t longest = 0;
  const size_t budget = max_length > 2 ? static_cast<size_t>(max_length - 2) : 0;
  for (const std::string& prompt : prompts) {
    std::vector<int64_t> tokens = Encode(prompt);
    if (truncate && tokens.size() > budget) tokens.resize(budget);
    std::vector<int64_t> row;
    row.reserve(tokens.size() + 2);
    row.push_back(shared_->bos_id);
    row.insert(row.end(), tokens.begin(), tokens.end());
    row.push_back(shared_->eos_id);
    longest = std::max(longest, row.size());
    rows.push_back(std::move(row));
  }
  TokenizedBatch batch;
  batch.batch_size = static_cast<int64_t>(rows.size());
  batch.seq_len = static_cast<int64_t>(pad ? std::max(longest, static_cast<size_t>(std::max(max_length, 0))) : longest);
  batch.input_ids.assign(rows.size() * batch.seq_len, shared_->pad_id);
  batch.attention_mask.assign(rows.size() * batch.seq_len, 0);
  for (size_t b = 0; b < rows.size(); ++b) {
    std::copy(rows[b].begin(), rows[b].end(), batch.input_ids.begin() + b * batch.seq_len);
    std::fill_n(batch.attention_mask.begin() + b * batch.seq_len, rows[b].size(), 1);
  }
  return batch;
}

bool ClipTokenizer::IsSpecialId(int64_t id) const {
  return id == shared_->bos_id || id == shared_->eos_id || id == shared_->unk_id || id == shared_->pad_id;
}

absl::string_view ClipTokenizer::IdToToken(int64_t id) const {
  const auto& tokens = shared_->bpe.id_to_token();
  return id >= 0 && id < static_cast<int64_t>(tokens.size()) ? absl::string_view(tokens[id]) : absl::string_view();
}

absl::StatusOr<std::string> ClipTokenizer::Decode(absl::Span<const int64_t> ids, bool skip_special_tokens) const {
  std::string bytes;
  for (int64_t id : ids) {
    if (skip_special_tokens && IsSpecialId(id)) continue;
    const absl::string_view token = IdToToken(id);
    if (token.empty()) return absl::InvalidArgumentError(absl::StrCat("unknown token id ", id));
    for (char32_t c : DecodeUtf8(token)) {
      const int byte = UnicodeToByte(c);
      if (byte < 0) {
        return absl::InvalidArgumentError(absl::StrCat("token ", id, " ('", token, "') is not byte-level"));
      }
      bytes.push_back(static_cast<char>(byte));
    }
  }
  // bytes.decode("utf-8", errors="replace").replace("</w>", " ").strip()
  const std::string decoded = absl::StrReplaceAll(EncodeUtf8(DecodeUtf8(bytes)), {{"</w>", " "}});
  std::string text = EncodeUtf8(StripPySpace(DecodeUtf8(decoded)));
  if (shared_->config.clean_up_tokenization_spaces) text = CleanUpTokenization(std::move(text));
  return text;
}

}  // namespace dreamshot::models::clip
