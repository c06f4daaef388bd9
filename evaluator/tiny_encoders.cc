#include "evaluator/tiny_encoders.h"

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/atomic_file.h"
#include "core/json_config.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "diffusion/pipeline/tiny_model_parts.h"
#include "models/clip/clip_model.h"
#include "models/vit/vit_model.h"

namespace dreamshot::evaluator {
namespace {

using json = nlohmann::json;

constexpr char kNote[] = "random weights for demos and tests; not a trained model";

// transformers 4.30 CLIPModel keys (a CLIP ViT-B/32 layout, much narrower).
// The text side's vocabulary and special ids come from the tokenizer.
constexpr char kClipConfig[] = R"({"architectures": ["CLIPModel"], "initializer_factor": 1.0,
 "logit_scale_init_value": 2.6592, "model_type": "clip", "projection_dim": 16,
 "text_config": {"attention_dropout": 0.0, "hidden_act": "quick_gelu", "hidden_size": 32,
   "initializer_factor": 1.0, "initializer_range": 0.02, "intermediate_size": 64, "layer_norm_eps": 1e-05,
   "max_position_embeddings": 77, "model_type": "clip_text_model", "num_attention_heads": 2,
   "num_hidden_layers": 2, "pad_token_id": 1, "projection_dim": 16, "vocab_size": 0},
 "vision_config": {"attention_dropout": 0.0, "hidden_act": "quick_gelu", "hidden_size": 32, "image_size": 224,
   "initializer_factor": 1.0, "initializer_range": 0.02, "intermediate_size": 64, "layer_norm_eps": 1e-05,
   "model_type": "clip_vision_model", "num_attention_heads": 4, "num_channels": 3, "num_hidden_layers": 2,
   "patch_size": 32, "projection_dim": 16},
 "torch_dtype": "float32", "transformers_version": "4.30.0"})";

// CLIPImageProcessor as openai/clip-vit-base-patch32 ships it.
constexpr char kClipPreprocessor[] = R"({"crop_size": {"height": 224, "width": 224}, "do_center_crop": true,
 "do_convert_rgb": true, "do_normalize": true, "do_rescale": true, "do_resize": true,
 "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_processor_type": "CLIPImageProcessor",
 "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3, "rescale_factor": 0.00392156862745098,
 "size": {"shortest_edge": 224}})";

// facebook/dino-vits16's layout (patch 16, eps 1e-6, exact GELU), narrower.
constexpr char kDinoConfig[] = R"({"architectures": ["ViTModel"], "attention_probs_dropout_prob": 0.0,
 "encoder_stride": 16, "hidden_act": "gelu", "hidden_dropout_prob": 0.0, "hidden_size": 32, "image_size": 224,
 "initializer_range": 0.02, "intermediate_size": 64, "layer_norm_eps": 1e-06, "model_type": "vit",
 "num_attention_heads": 4, "num_channels": 3, "num_hidden_layers": 2, "patch_size": 16, "qkv_bias": true,
 "torch_dtype": "float32", "transformers_version": "4.30.0"})";

constexpr char kClipReadme[] =
    "# Tiny CLIP (random weights)\n\n"
    "Written by DreamShot's `WriteTinyClipModel` (`dreamshot-init-tiny-model --kind clip`). It has the\n"
    "transformers `CLIPModel` layout (text and vision towers, projections, the CLIPImageProcessor config)\n"
    "and a tiny generated CLIP-style tokenizer, but its weights are RANDOM (drawn from a seed). Its CLIP-T\n"
    "and CLIP-I scores are numbers that exercise the evaluator, not judgements of any image: use it for\n"
    "demos and tests only. Evaluate for real with openai/clip-vit-base-patch32.\n";

constexpr char kDinoReadme[] =
    "# Tiny DINO ViT (random weights)\n\n"
    "Written by DreamShot's `WriteTinyDinoVit` (`dreamshot-init-tiny-model --kind dino`). It has the\n"
    "transformers `ViTModel` layout of facebook/dino-vits16 (patch 16, layer-norm eps 1e-6, class-token\n"
    "output, no pooler) at a much smaller width, and its weights are RANDOM (drawn from a seed). Its DINO\n"
    "scores exercise the evaluator and mean nothing about images: use it for demos and tests only.\n"
    "Evaluate for real with facebook/dino-vits16.\n";

// config.json, then the model built from the very text written (so the
// weights fit it by construction), its random weights, and a README.
template <typename Model>
absl::Status WriteModel(const std::string& root, const json& config, const char* readme, uint64_t seed,
                        const std::function<void(std::vector<std::pair<std::string, at::Tensor>>&)>& adjust) {
  const std::string config_text = diffusion::UpstreamJsonText(config);
  RETURN_IF_ERROR(core::WriteFileAtomically(root + "/config.json", config_text));
  ASSIGN_OR_RETURN(core::JsonConfig parsed, core::JsonConfig::FromString(config_text, root + "/config.json"));
  ASSIGN_OR_RETURN(typename Model::Config model_config, Model::Config::FromJson(parsed));
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::Create(model_config, core::DeviceSpec{}));
  ASSIGN_OR_RETURN(auto tensors, diffusion::RandomWeights(model->module(), seed, diffusion::TinyInit::kTransformers));
  adjust(tensors);
  RETURN_IF_ERROR(core::WriteSafetensors(root + "/model.safetensors", tensors, {{"format", "pt"}}));
  return core::WriteFileAtomically(root + "/README.md", readme);
}

absl::Status WriteClip(const std::string& root, uint64_t seed) {
  ASSIGN_OR_RETURN(const diffusion::TinyTokenizerIds ids, diffusion::WriteTinyClipTokenizer(root));
  json config = json::parse(kClipConfig);
  config["_dreamshot_note"] = kNote;  // transformers ignores unknown keys
  config["text_config"]["vocab_size"] = ids.vocab_size;
  config["text_config"]["bos_token_id"] = ids.bos_id;
  config["text_config"]["eos_token_id"] = ids.eos_id;  // the pooling position
  RETURN_IF_ERROR(core::WriteFileAtomically(root + "/preprocessor_config.json",
                                            diffusion::UpstreamJsonText(json::parse(kClipPreprocessor))));
  const double logit_scale = config["logit_scale_init_value"].get<double>();
  return WriteModel<models::clip::ClipModel>(root, config, kClipReadme, diffusion::TinyComponentSeed(seed, 10),
                                             [&](std::vector<std::pair<std::string, at::Tensor>>& tensors) {
                                               // CLIP starts at temperature 1/0.07, not at a random value.
                                               for (auto& [name, t] : tensors) {
                                                 if (name == "logit_scale") t = torch::tensor(logit_scale, torch::kFloat);
                                               }
                                             });
}

absl::Status WriteDino(const std::string& root, uint64_t seed) {
  json config = json::parse(kDinoConfig);
  config["_dreamshot_note"] = kNote;
  return WriteModel<models::vit::ViTModel>(root, config, kDinoReadme, diffusion::TinyComponentSeed(seed, 11),
                                           [](std::vector<std::pair<std::string, at::Tensor>>&) {});
}

}  // namespace

absl::Status WriteTinyClipModel(const std::string& dir, uint64_t seed) {
  return diffusion::WriteFolderAtomically(dir, "the tiny CLIP model",
                                          [&](const std::string& temp) { return WriteClip(temp, seed); });
}

absl::Status WriteTinyDinoVit(const std::string& dir, uint64_t seed) {
  return diffusion::WriteFolderAtomically(dir, "the tiny DINO model",
                                          [&](const std::string& temp) { return WriteDino(temp, seed); });
}

}  // namespace dreamshot::evaluator
