#include "diffusion/pipeline/tiny_model_writer.h"

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
#include "core/device.h"
#include "core/json_config.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "models/clip/byte_unicode.h"
#include "models/clip/text_model.h"
#include "models/clip/unicode_text.h"
#include "models/unet/unet_2d_condition.h"
#include "models/vae/autoencoder_kl.h"

namespace dreamshot::diffusion {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;  // std::map keys: sorted, as diffusers/transformers dump them
using Merges = std::vector<std::pair<std::string, std::string>>;

constexpr char kNote[] = "random weights for demos and tests; not a trained model";

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

// The configs of the tiny reference model (every key diffusers 0.25 /
// transformers 4.30 write, so both libraries load the folder as they would
// their own output). The text encoder's vocab and special ids are filled in
// from the generated tokenizer.
constexpr char kModelIndex[] = R"({"_class_name": "StableDiffusionPipeline", "_diffusers_version": "0.25.1",
 "feature_extractor": [null, null], "image_encoder": [null, null], "requires_safety_checker": false,
 "safety_checker": [null, null], "scheduler": ["diffusers", "PNDMScheduler"],
 "text_encoder": ["transformers", "CLIPTextModel"], "tokenizer": ["transformers", "CLIPTokenizer"],
 "unet": ["diffusers", "UNet2DConditionModel"], "vae": ["diffusers", "AutoencoderKL"]})";

// Stable Diffusion 1.5's scheduler.
constexpr char kScheduler[] = R"({"_class_name": "PNDMScheduler", "_diffusers_version": "0.25.1",
 "beta_end": 0.012, "beta_schedule": "scaled_linear", "beta_start": 0.00085, "clip_sample": false,
 "num_train_timesteps": 1000, "prediction_type": "epsilon", "set_alpha_to_one": false, "skip_prk_steps": true,
 "steps_offset": 1, "timestep_spacing": "leading", "trained_betas": null})";

constexpr char kTextEncoder[] = R"({"architectures": ["CLIPTextModel"], "attention_dropout": 0.0,
 "bos_token_id": 0, "eos_token_id": 0, "hidden_act": "quick_gelu", "hidden_size": 16, "initializer_factor": 1.0,
 "initializer_range": 0.02, "intermediate_size": 37, "layer_norm_eps": 1e-05, "max_position_embeddings": 77,
 "model_type": "clip_text_model", "num_attention_heads": 2, "num_hidden_layers": 5, "pad_token_id": 1,
 "projection_dim": 16, "torch_dtype": "float32", "transformers_version": "4.30.0", "vocab_size": 0})";

constexpr char kUnet[] = R"({"_class_name": "UNet2DConditionModel", "_diffusers_version": "0.25.1",
 "act_fn": "silu", "addition_embed_type": null, "addition_embed_type_num_heads": 64,
 "addition_time_embed_dim": null, "attention_head_dim": 8, "attention_type": "default",
 "block_out_channels": [32, 64], "center_input_sample": false, "class_embed_type": null,
 "class_embeddings_concat": false, "conv_in_kernel": 3, "conv_out_kernel": 3, "cross_attention_dim": 16,
 "cross_attention_norm": null, "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
 "downsample_padding": 1, "dropout": 0.0, "dual_cross_attention": false, "encoder_hid_dim": null,
 "encoder_hid_dim_type": null, "flip_sin_to_cos": true, "freq_shift": 0, "in_channels": 4, "layers_per_block": 2,
 "mid_block_only_cross_attention": null, "mid_block_scale_factor": 1, "mid_block_type": "UNetMidBlock2DCrossAttn",
 "norm_eps": 1e-05, "norm_num_groups": 32, "num_attention_heads": null, "num_class_embeds": null,
 "only_cross_attention": false, "out_channels": 4, "projection_class_embeddings_input_dim": null,
 "resnet_out_scale_factor": 1.0, "resnet_skip_time_act": false, "resnet_time_scale_shift": "default",
 "reverse_transformer_layers_per_block": null, "sample_size": 16, "time_cond_proj_dim": null,
 "time_embedding_act_fn": null, "time_embedding_dim": null, "time_embedding_type": "positional",
 "timestep_post_act": null, "transformer_layers_per_block": 1, "up_block_types": ["UpBlock2D",
 "CrossAttnUpBlock2D"], "upcast_attention": false, "use_linear_projection": false})";

constexpr char kVae[] = R"({"_class_name": "AutoencoderKL", "_diffusers_version": "0.25.1", "act_fn": "silu",
 "block_out_channels": [32, 64], "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D"],
 "force_upcast": true, "in_channels": 3, "latent_channels": 4, "layers_per_block": 1, "norm_num_groups": 32,
 "out_channels": 3, "sample_size": 32, "scaling_factor": 0.18215,
 "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D"]})";

// transformers' CLIPTokenizer files for CLIP's special tokens.
constexpr char kSpecialTokensMap[] = R"({"bos_token": {"content": "<|startoftext|>", "lstrip": false,
 "normalized": true, "rstrip": false, "single_word": false}, "eos_token": {"content": "<|endoftext|>",
 "lstrip": false, "normalized": true, "rstrip": false, "single_word": false}, "pad_token": "<|endoftext|>",
 "unk_token": {"content": "<|endoftext|>", "lstrip": false, "normalized": true, "rstrip": false,
 "single_word": false}})";

constexpr char kReadme[] =
    "# Tiny Stable Diffusion (random weights)\n\n"
    "This folder was written by DreamShot's `WriteTinyStableDiffusion`. It has the diffusers\n"
    "`StableDiffusionPipeline` layout and a very small architecture, but its weights are random\n"
    "(drawn from a seed) and its tokenizer vocabulary is a small generated CLIP-style BPE vocabulary,\n"
    "not CLIP's. It makes structured noise, not pictures: use it for demos and tests only. It is not a\n"
    "trained model and says nothing about Stable Diffusion's quality.\n";

// diffusers/transformers write indent=2 JSON with sorted keys and a newline.
std::string Dump(const json& value) { return value.dump(2) + "\n"; }

absl::StatusOr<json> Parse(const char* text) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return absl::InternalError("tiny_model_writer: an embedded config is not valid JSON");
  return value;
}

// A well-mixed 64-bit seed per component (splitmix64), so the networks do not
// share one random stream and adding a component does not shift the others.
uint64_t ComponentSeed(uint64_t seed, uint64_t component) {
  uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (component + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

enum class Init {
  kTransformers,  // CLIP's _init_weights: normal(0, 0.02) for matrices and embeddings
  kTorchDefault,  // what diffusers models get: U(±1/√fan_in) for conv/linear weights
};

// Initialises every parameter of `module` in registration order from one CPU
// generator (same seed → same bits on every machine), then writes parameters
// and buffers under their names (the upstream state-dict keys) as safetensors.
// Biases are zero and 1-D weights (GroupNorm/LayerNorm) one, as upstream's
// fresh modules, so activations stay finite and the output is not constant.
absl::Status InitAndWrite(torch::nn::Module& module, uint64_t seed, Init init, const std::string& path) {
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
      } else if (init == Init::kTransformers) {
        p.normal_(0.0, 0.02, generator);
      } else {
        const double bound = 1.0 / std::sqrt(static_cast<double>(p.numel() / p.size(0)));  // fan_in
        p.uniform_(-bound, bound, generator);
      }
      tensors.emplace_back(item.key(), p.to(torch::kFloat32));
    }
    // position_ids: transformers 4.30 saves it, as the reference model has.
    for (const auto& item : module.named_buffers(/*recurse=*/true)) tensors.emplace_back(item.key(), item.value());
    return core::WriteSafetensors(path, tensors, {{"format", "pt"}});
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("cannot initialise the weights for ", path, ": ", e.what_without_backtrace()));
  }
}

template <typename Model>
absl::Status WriteComponent(const std::string& folder, const std::string& weights_name, const json& config,
                            uint64_t seed, Init init) {
  RETURN_IF_ERROR(core::MakeDirectories(folder));
  const std::string config_text = Dump(config);
  RETURN_IF_ERROR(core::WriteFileAtomically(folder + "/config.json", config_text));
  // Built from the very config written, so the weights fit it by construction.
  ASSIGN_OR_RETURN(core::JsonConfig json_config, core::JsonConfig::FromString(config_text, folder + "/config.json"));
  ASSIGN_OR_RETURN(typename Model::Config model_config, Model::Config::FromJson(json_config));
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::Create(model_config, core::DeviceSpec{}));
  return InitAndWrite(model->module(), seed, init, folder + "/" + weights_name);
}

absl::Status WriteTokenizer(const std::string& folder, const json& vocab, const Merges& merges) {
  RETURN_IF_ERROR(core::MakeDirectories(folder));
  RETURN_IF_ERROR(core::WriteFileAtomically(folder + "/vocab.json", Dump(vocab)));
  std::string merges_text = "#version: 0.2\n";  // CLIP's header line; readers skip it
  for (const auto& [left, right] : merges) absl::StrAppend(&merges_text, left, " ", right, "\n");
  RETURN_IF_ERROR(core::WriteFileAtomically(folder + "/merges.txt", merges_text));
  ASSIGN_OR_RETURN(json special, Parse(kSpecialTokensMap));
  RETURN_IF_ERROR(core::WriteFileAtomically(folder + "/special_tokens_map.json", Dump(special)));
  // tokenizer_config.json: the same tokens marked as AddedToken, plus limits.
  json config = special;
  for (const char* key : {"bos_token", "eos_token", "unk_token"}) config[key]["__type"] = "AddedToken";
  config["clean_up_tokenization_spaces"] = true;
  config["errors"] = "replace";
  config["model_max_length"] = 77;
  config["tokenizer_class"] = "CLIPTokenizer";
  return core::WriteFileAtomically(folder + "/tokenizer_config.json", Dump(config));
}

absl::Status WriteAll(const std::string& root, uint64_t seed) {
  const Merges merges = LearnMerges();
  const json vocab = VocabJson(merges);
  RETURN_IF_ERROR(WriteTokenizer(root + "/tokenizer", vocab, merges));

  ASSIGN_OR_RETURN(json model_index, Parse(kModelIndex));
  model_index["_dreamshot_note"] = kNote;  // diffusers ignores unknown "_" keys
  RETURN_IF_ERROR(core::WriteFileAtomically(root + "/model_index.json", Dump(model_index)));
  RETURN_IF_ERROR(core::WriteFileAtomically(root + "/README.md", kReadme));
  ASSIGN_OR_RETURN(json scheduler, Parse(kScheduler));
  RETURN_IF_ERROR(core::MakeDirectories(root + "/scheduler"));
  RETURN_IF_ERROR(core::WriteFileAtomically(root + "/scheduler/scheduler_config.json", Dump(scheduler)));

  ASSIGN_OR_RETURN(json text_encoder, Parse(kTextEncoder));
  text_encoder["vocab_size"] = vocab.size();
  text_encoder["bos_token_id"] = vocab["<|startoftext|>"];
  text_encoder["eos_token_id"] = vocab["<|endoftext|>"];  // the pooling position
  RETURN_IF_ERROR(WriteComponent<models::clip::ClipTextModel>(root + "/text_encoder", "model.safetensors",
                                                              text_encoder, ComponentSeed(seed, 0),
                                                              Init::kTransformers));
  ASSIGN_OR_RETURN(json unet, Parse(kUnet));
  RETURN_IF_ERROR(WriteComponent<models::unet::UNet2DConditionModel>(
      root + "/unet", "diffusion_pytorch_model.safetensors", unet, ComponentSeed(seed, 1), Init::kTorchDefault));
  ASSIGN_OR_RETURN(json vae, Parse(kVae));
  return WriteComponent<models::vae::AutoencoderKL>(root + "/vae", "diffusion_pytorch_model.safetensors", vae,
                                                    ComponentSeed(seed, 2), Init::kTorchDefault);
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

absl::Status WriteTinyStableDiffusion(const std::string& dir, uint64_t seed) {
  if (dir.empty()) return absl::InvalidArgumentError("WriteTinyStableDiffusion: empty folder path");
  const fs::path target = fs::path(dir).lexically_normal();
  const fs::path clean = target.has_filename() ? target : target.parent_path();  // "x/" → "x"
  std::error_code ec;
  if (fs::exists(clean, ec)) {
    if (!fs::is_directory(clean, ec)) {
      return absl::FailedPreconditionError(absl::StrCat(dir, " exists and is not a folder"));
    }
    if (!fs::is_empty(clean, ec) || ec) {
      return absl::FailedPreconditionError(
          absl::StrCat(dir, " exists and is not empty; the tiny model is only written into a new or empty folder"));
    }
  }
  const fs::path parent = clean.has_parent_path() ? clean.parent_path() : fs::path(".");
  RETURN_IF_ERROR(core::MakeDirectories(parent.string()));

  // Assembled next to the target and renamed into place, so a crash never
  // leaves a half-written model that a loader would take for a whole one.
  std::string temp = (parent / ("." + clean.filename().string() + ".tmp-XXXXXX")).string();
  if (::mkdtemp(temp.data()) == nullptr) return Errno("cannot create a temporary folder", temp);
  ::chmod(temp.c_str(), 0755);  // mkdtemp makes 0700; a model folder is meant to be shared
  absl::Status status = WriteAll(temp, seed);
  // rename() replaces an empty folder and fails on a non-empty one, so a
  // folder filled meanwhile by someone else is never overwritten.
  if (status.ok() && ::rename(temp.c_str(), clean.c_str()) != 0) {
    status = (errno == ENOTEMPTY || errno == EEXIST)
                 ? absl::FailedPreconditionError(absl::StrCat(dir, " was filled while the tiny model was written"))
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
