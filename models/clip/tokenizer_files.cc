#include "models/clip/tokenizer_files.h"

#include <zlib.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "models/clip/byte_unicode.h"
#include "models/clip/unicode_text.h"
#include "nlohmann/json.hpp"

namespace dreamshot::models::clip {
namespace {

using nlohmann::json;

absl::StatusOr<json> ParseJson(absl::string_view text, const std::string& path) {
  json parsed = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
  return parsed;
}

}  // namespace

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  return contents.str();
}

absl::StatusOr<std::string> ReadGzipFile(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::string out;
  char buffer[1 << 16];
  while (true) {
    const int n = gzread(file, buffer, sizeof(buffer));
    if (n < 0) {
      int errnum = 0;
      const std::string message = gzerror(file, &errnum);
      gzclose(file);
      return absl::DataLossError(absl::StrCat(path, ": gzip error: ", message));
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  gzclose(file);
  return out;
}

absl::StatusOr<Vocab> ParseVocabJson(absl::string_view json_text, const std::string& path) {
  absl::StatusOr<json> parsed = ParseJson(json_text, path);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) return absl::InvalidArgumentError(absl::StrCat(path, ": expected a JSON object"));
  Vocab vocab;
  vocab.reserve(parsed->size());
  for (auto it = parsed->begin(); it != parsed->end(); ++it) {
    if (!it.value().is_number_integer()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": id of token '", it.key(), "' is not an integer"));
    }
    const int64_t id = it.value().get<int64_t>();
    if (id < 0 || id > std::numeric_limits<int32_t>::max()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": id ", id, " of token '", it.key(), "' out of range"));
    }
    vocab[it.key()] = static_cast<int32_t>(id);
  }
  return vocab;
}

absl::StatusOr<Merges> ParseMerges(absl::string_view text, const std::string& path, size_t max_merges) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  // A final newline leaves an empty last line; it is not a merge.
  while (!lines.empty() && absl::StripAsciiWhitespace(lines.back()).empty()) lines.pop_back();
  Merges merges;
  for (size_t i = 1; i < lines.size() && merges.size() < max_merges; ++i) {
    std::vector<absl::string_view> parts = absl::StrSplit(lines[i], absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (parts.size() != 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", i + 1, ": expected 'left right', got '", lines[i], "'"));
    }
    merges.emplace_back(std::string(parts[0]), std::string(parts[1]));
  }
  return merges;
}

Vocab OpenAiVocab(const Merges& merges) {
  std::vector<std::string> tokens;
  tokens.reserve(512 + merges.size() + 2);
  const std::array<char32_t, 256> table = ByteToUnicode();
  for (uint8_t b : BytesInTableOrder()) {
    std::string symbol;
    AppendUtf8(table[b], &symbol);
    tokens.push_back(symbol);
  }
  for (size_t i = 0; i < 256; ++i) tokens.push_back(tokens[i] + "</w>");
  for (const auto& [left, right] : merges) tokens.push_back(left + right);
  tokens.push_back("<|startoftext|>");
  tokens.push_back("<|endoftext|>");
  Vocab vocab;
  vocab.reserve(tokens.size());
  // dict(zip(vocab, range(len(vocab)))): a repeated string keeps its last id.
  for (size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = static_cast<int32_t>(i);
  return vocab;
}

absl::Status ApplyTokenizerConfigJson(absl::string_view json_text, const std::string& path,
                                      SpecialTokenConfig* config) {
  absl::StatusOr<json> parsed = ParseJson(json_text, path);
  if (!parsed.ok()) return parsed.status();
  if (!parsed->is_object()) return absl::InvalidArgumentError(absl::StrCat(path, ": expected a JSON object"));
  auto read_token = [&](const char* key, std::string* out) -> absl::Status {
    auto it = parsed->find(key);
    if (it == parsed->end() || it->is_null()) return absl::OkStatus();
    if (it->is_string()) {
      *out = it->get<std::string>();
    } else if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
      *out = (*it)["content"].get<std::string>();
    } else {
      return absl::InvalidArgumentError(absl::StrCat(path, ": '", key, "' is neither a string nor {\"content\": ...}"));
    }
    return absl::OkStatus();
  };
  for (auto [key, field] : {std::pair<const char*, std::string*>{"bos_token", &config->bos_token},
                            {"eos_token", &config->eos_token},
                            {"unk_token", &config->unk_token},
                            {"pad_token", &config->pad_token}}) {
    absl::Status status = read_token(key, field);
    if (!status.ok()) return status;
  }
  if (auto it = parsed->find("model_max_length"); it != parsed->end() && it->is_number()) {
    // Some configs store 1e30 for "unlimited".
    const double value = it->get<double>();
    config->model_max_length =
        value >= static_cast<double>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                          : static_cast<int64_t>(value);
  }
  if (auto it = parsed->find("clean_up_tokenization_spaces"); it != parsed->end() && it->is_boolean()) {
    config->clean_up_tokenization_spaces = it->get<bool>();
  }
  return absl::OkStatus();
}

}  // namespace dreamshot::models::clip
