#include "diffusion/pipeline/tiny_model_parts.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <torch/torch.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/atomic_file.h"
#include "core/status_macros.h"
#include "models/clip/byte_unicode.h"
#include "models/clip/unicode_text.h"

namespace dreamshot::diffusion {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;  // std::map keys: sorted, as diffusers/transformers dump them
using Merges = std::vector<std::pair<std::string, std::string>>;

// Words the BPE merges are learnt from: shot scales and the subjects, places
// and function words of this project's prompts, so that typical prompts take
// a few tokens each instead of one per letter. Lower case, as CLIP's cleanup
// lower-cases the text before BPE. Changing this list changes the vocabulary
// (and so every model written), so append only with care.
constexpr const char* kWords[] = {
    "a", "an", "the", "of", "in", "on", "at", "with", "and", "by", "from", "to", "under", "over", "near", "behind",
    "front", "inside", "outside", "his", "her", "their", "is", "are", "photo", "photograph", "picture", "image",
    "portrait", "close", "closeup", "shot", "medium", "long", "wide", "extreme", "full", "cowboy", "establishing",
    "scene", "film", "movie", "still", "cinematic", "camera", "frame", "lens", "angle", "view", "light", "lighting",
    "shadow", "dark", "bright", "color", "black", "white", "red", "blue", "green", "yellow", "orange", "gray",
    "golden", "night", "day", "morning", "evening", "sunset", "dusk", "dawn", "sky", "cloud", "rain", "snow", "fog",
    "sun", "moon", "man", "woman", "men", "women", "person", "people", "child", "boy", "girl", "face", "eyes",
    "hand", "hands", "hair", "dog", "cat", "horse", "bird", "car", "train", "house", "room", "window", "door",
    "table", "chair", "bed", "kitchen", "street", "road", "city", "town", "building", "bridge", "tree", "trees",
    "forest", "field", "mountain", "river", "lake", "sea", "ocean", "beach", "water", "desert", "garden", "park",
    "lighthouse", "boat", "ship", "standing", "sitting", "walking", "running", "looking", "holding", "smiling",
    "talking", "wearing", "old", "young", "small", "big", "large", "tall", "beautiful", "detailed", "high",
    "quality", "realistic", "sharp", "focus", "blurry", "soft", "warm", "cold", "empty", "crowded", "busy",
    "quiet", "alone", "together", "two", "three", "group", "crowd", "background", "foreground", "detail", "style",
    "painting", "drawing", "art", "vintage", "modern", "stone", "wooden", "glass", "coat", "hat", "dress", "shirt",
    "jacket", "suit"};

// Greedy BPE learning as in the original BPE papers: repeatedly merge the
// most frequent adjacent symbol pair (ties: the smallest pair, so the result
// is deterministic) until no pair is left. Words are spelled in CLIP's
// byte-to-unicode characters with "</w>" on the last one, exactly as the
// tokenizer will see them. A pair whose concatenation is already a token is
// skipped: CLIP's vocabulary is bytes + merges + specials with no repeats,
// and with only fresh symbols every learnt word tokenizes exactly as learnt.
Merges LearnMerges() {
  const std::array<char32_t, 256> table = models::clip::ByteToUnicode();
  std::vector<std::vector<std::string>> words;
  std::set<std::string> tokens;
  for (int b = 0; b < 256; ++b) {
    std::string symbol;
    models::clip::AppendUtf8(table[b], &symbol);
    tokens.insert(symbol);
    tokens.insert(symbol + "</w>");
  }
  for (const char* word : kWords) {
    std::vector<std::string> symbols;
    for (const char* c = word; *c != '\0'; ++c) {
      symbols.emplace_back();
      models::clip::AppendUtf8(table[static_cast<uint8_t>(*c)], &symbols.back());
    }
    symbols.back() += "</w>";
    words.push_back(std::move(symbols));
  }
  Merges merges;
  while (true) {
    std::map<std::pair<std::string, std::string>, int> counts;
    for (const auto& w : words) {
      for (size_t i = 0; i + 1 < w.size(); ++i) ++counts[{w[i], w[i + 1]}];
    }
    const std::pair<std::string, std::string>* best = nullptr;
    int best_count = 0;
    for (const auto& [pair, count] : counts) {
      if (count > best_count && !tokens.count(pair.first + pair.second)) best = &pair, best_count = count;
    }
    if (best == nullptr) break;
    const auto [left, right] = *best;  // copied: `counts` dies with the loop body
    merges.emplace_back(left, right);
    tokens.insert(left + right);
    // Left to right, non-overlapping: what CLIP's bpe() does with one merge.
    for (auto& w : words) {
      std::vector<std::string> merged;
      for (size_t i = 0; i < w.size(); ++i) {
        if (i + 1 < w.size() && w[i] == left && w[i + 1] == right) {
          merged.push_back(left + right);
          ++i;
        } else {
          merged.push_back(w[i]);
        }
      }
      w = std::move(merged);
    }
  }
  return merges;
}

// CLIP's id order (OpenAI's simple_tokenizer, which vocab.json follows):
// the 256 byte characters in table order, the same with "</w>", one token
// per merge, then <|startoftext|> and <|endoftext|> as the last two ids.
json VocabJson(const Merges& merges) {
  const std::array<char32_t, 256> table = models::clip::ByteToUnicode();
  std::vector<std::string> tokens;
  for (uint8_t b : models::clip::BytesInTableOrder()) {
    tokens.emplace_back();
    models::clip::AppendUtf8(table[b], &tokens.back());
  }
  for (size_t i = 0; i < 256; ++i) tokens.push_back(tokens[i] + "</w>");
  for (const auto& [left, right] : merges) tokens.push_back(left + right);
  tokens.push_back("<|startoftext|>");
  tokens.push_back("<|endoftext|>");
  json vocab = json::object();
  for (size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = i;
  return vocab;
}

// transformers' CLIPTokenizer files for CLIP's special tokens.
constexpr char kSpecialTokensMap[] = R"({"bos_token": {"content": "<|startoftext|>", "lstrip": false,
 "normalized": true, "rstrip": false, "single_word": false}, "eos_token": {"content": "<|endoftext|>",
 "lstrip": false, "normalized": true, "rstrip": false, "single_word": false}, "pad_token": "<|endoftext|>",
 "unk_token": {"content": "<|endoftext|>", "lstrip": false, "normalized": true, "rstrip": false,
 "single_word": false}})";

absl::Status WriteTokenizerFiles(const std::string& folder, const json& vocab, const Merges& merges) {
  RETURN_IF_ERROR(core::MakeDirectories(folder));
  RETURN_IF_ERROR(core::WriteFileAtomically(folder + "/vocab.json", UpstreamJsonText(vocab)));
  std::string merges_text = "#version: 0.2\n";  // CLIP's header line; readers skip it
  for (const auto& [left, right] : merges) absl::StrAppend(&merges_text, left, " ", right, "\n");
  RETURN_IF_ERROR(core::WriteFileAtomically(folder + "/merges.txt", merges_text));
  const json special = json::parse(kSpecialTokensMap);  // a constant: valid by construction
  RETURN_IF_ERROR(core::WriteFileAtomically(folder + "/special_tokens_map.json", UpstreamJsonText(special)));
  // tokenizer_config.json: the same tokens marked as AddedToken, plus limits.
  json config = special;
  for (const char* key : {"bos_token", "eos_token", "unk_token"}) config[key]["__type"] = "AddedToken";
  config["clean_up_tokenization_spaces"] = true;
  config["errors"] = "replace";
  config["model_max_length"] = 77;
  config["tokenizer_class"] = "CLIPTokenizer";
  return core::WriteFileAtomically(folder + "/tokenizer_config.json", UpstreamJsonText(config));
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

std::string UpstreamJsonText(const nlohmann::json& value) { return value.dump(2) + "\n"; }

absl::StatusOr<TinyTokenizerIds> WriteTinyClipTokenizer(const std::string& folder) {
  const Merges merges = LearnMerges();
  const json vocab = VocabJson(merges);
  RETURN_IF_ERROR(WriteTokenizerFiles(folder, vocab, merges));
  return TinyTokenizerIds{static_cast<int64_t>(vocab.size()), vocab["<|startoftext|>"].get<int64_t>(),
                          vocab["<|endoftext|>"].get<int64_t>()};
}

uint64_t TinyComponentSeed(uint64_t seed, uint64_t component) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (component + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

absl::StatusOr<std::vector<std::pair<std::string, at::Tensor>>> RandomWeights(torch::nn::Module& module,
                                                                              uint64_t seed, TinyInit init) {
  try {
    torch::NoGradGuard no_grad;
    at::Generator generator = at::detail::createCPUGenerator(seed);
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const auto& item : module.named_parameters(/*recurse=*/true)) {
      at::Tensor p = item.value();
      if (absl::EndsWith(item.key(), "bias")) {
        p.zero_();
      } else if (p.dim() == 1) {
        p.fill_(1.0);
      } else if (init == TinyInit::kTransformers || p.dim() == 0) {
        p.normal_(0.0, 0.02, generator);
      } else {
        const double bound = 1.0 / std::sqrt(static_cast<double>(p.numel() / p.size(0)));  // fan_in
        p.uniform_(-bound, bound, generator);
      }
      tensors.emplace_back(item.key(), p.to(torch::kFloat32));
    }
    // position_ids: transformers 4.30 saves it, as the reference model has.
    for (const auto& item : module.named_buffers(/*recurse=*/true)) tensors.emplace_back(item.key(), item.value());
    return tensors;
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("cannot initialise random weights: ", e.what_without_backtrace()));
  }
}

absl::Status WriteFolderAtomically(const std::string& dir, const std::string& what,
                                   const std::function<absl::Status(const std::string& temp)>& write) {
  if (dir.empty()) return absl::InvalidArgumentError(absl::StrCat("cannot write ", what, ": empty folder path"));
  const fs::path target = fs::path(dir).lexically_normal();
  const fs::path clean = target.has_filename() ? target : target.parent_path();  // "x/" → "x"
  std::error_code ec;
  if (fs::exists(clean, ec)) {
    if (!fs::is_directory(clean, ec)) {
      return absl::FailedPreconditionError(absl::StrCat(dir, " exists and is not a folder"));
    }
    if (!fs::is_empty(clean, ec) || ec) {
      return absl::FailedPreconditionError(
          absl::StrCat(dir, " exists and is not empty; ", what, " is only written into a new or empty folder"));
    }
  }
  const fs::path parent = clean.has_parent_path() ? clean.parent_path() : fs::path(".");
  RETURN_IF_ERROR(core::MakeDirectories(parent.string()));

  // Assembled next to the target and renamed into place, so a crash never
  // leaves a half-written model that a loader would take for a whole one.
  std::string temp = (parent / ("." + clean.filename().string() + ".tmp-XXXXXX")).string();
  if (::mkdtemp(temp.data()) == nullptr) return Errno("cannot create a temporary folder", temp);
  ::chmod(temp.c_str(), 0755);  // mkdtemp makes 0700; a model folder is meant to be shared
  absl::Status status = write(temp);
  // rename() replaces an empty folder and fails on a non-empty one, so a
  // folder filled meanwhile by someone else is never overwritten.
  if (status.ok() && ::rename(temp.c_str(), clean.c_str()) != 0) {
    status = (errno == ENOTEMPTY || errno == EEXIST)
                 ? absl::FailedPreconditionError(absl::StrCat(dir, " was filled while ", what, " was written"))
                 : Errno("cannot rename the finished model to", dir);
  }
  if (!status.ok()) {
    fs::remove_all(temp, ec);  // our own temporary folder only
    return status;
  }
  const int parent_fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (parent_fd >= 0) {  // make the rename durable
    ::fsync(parent_fd);
    ::close(parent_fd);
  }
  return absl::OkStatus();
}

}  // namespace dreamshot::diffusion
