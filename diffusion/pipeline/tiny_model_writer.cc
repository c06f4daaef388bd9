#include "diffusion/pipeline/tiny_model_writer.h"

#include <torch/torch.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/atomic_file.h"
#include "core/device.h"
#include "core/json_config.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "diffusion/pipeline/tiny_model_parts.h"
#include "models/clip/text_model.h"
#include "models/unet/unet_2d_condition.h"
#include "models/vae/autoencoder_kl.h"

namespace dreamshot::diffusion {
namespace {

using json = nlohmann::json;  // std::map keys: sorted, as diffusers/transformers dump them

constexpr char kNote[] = "random weights for demos and tests; not a trained model";

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

constexpr char kReadme[] =
    "# Tiny Stable Diffusion (random weights)\n\n"
    "This folder was written by DreamShot's `WriteTinyStableDiffusion`. It has the diffusers\n"
    "`StableDiffusionPipeline` layout and a very small architecture, but its weights are random\n"
    "(drawn from a seed) and its tokenizer vocabulary is a small generated CLIP-style BPE vocabulary,\n"
    "not CLIP's. It makes structured noise, not pictures: use it for demos and tests only. It is not a\n"
    "trained model and says nothing about Stable Diffusion's quality.\n";

absl::StatusOr<json> Parse(const char* text) {
  json value = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return absl::InternalError("tiny_model_writer: an embedded config is not valid JSON");
  return value;
}

template <typename Model>
absl::Status WriteComponent(const std::string& folder, const std::string& weights_name, const json& config,
                            uint64_t seed, TinyInit init) {
  RETURN_IF_ERROR(core::MakeDirectories(folder));
  const std::string config_text = UpstreamJsonText(config);
  RETURN_IF_ERROR(core::WriteFileAtomically(folder + "/config.json", config_text));
  // Built from the very config written, so the weights fit it by construction.
  ASSIGN_OR_RETURN(core::JsonConfig json_config, core::JsonConfig::FromString(config_text, folder + "/config.json"));
  ASSIGN_OR_RETURN(typename Model::Config model_config, Model::Config::FromJson(json_config));
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::Create(model_config, core::DeviceSpec{}));
  ASSIGN_OR_RETURN(auto tensors, RandomWeights(model->module(), seed, init));
  return core::WriteSafetensors(folder + "/" + weights_name, tensors, {{"format", "pt"}});
}

absl::Status WriteAll(const std::string& root, uint64_t seed) {
  ASSIGN_OR_RETURN(const TinyTokenizerIds ids, WriteTinyClipTokenizer(root + "/tokenizer"));

  ASSIGN_OR_RETURN(json model_index, Parse(kModelIndex));
  model_index["_dreamshot_note"] = kNote;  // diffusers ignores unknown "_" keys
  RETURN_IF_ERROR(core::WriteFileAtomically(root + "/model_index.json", UpstreamJsonText(model_index)));
  RETURN_IF_ERROR(core::WriteFileAtomically(root + "/README.md", kReadme));
  ASSIGN_OR_RETURN(json scheduler, Parse(kScheduler));
  RETURN_IF_ERROR(core::MakeDirectories(root + "/scheduler"));
  RETURN_IF_ERROR(core::WriteFileAtomically(root + "/scheduler/scheduler_config.json", UpstreamJsonText(scheduler)));

  ASSIGN_OR_RETURN(json text_encoder, Parse(kTextEncoder));
  text_encoder["vocab_size"] = ids.vocab_size;
  text_encoder["bos_token_id"] = ids.bos_id;
  text_encoder["eos_token_id"] = ids.eos_id;  // the pooling position
  RETURN_IF_ERROR(WriteComponent<models::clip::ClipTextModel>(root + "/text_encoder", "model.safetensors",
                                                              text_encoder, TinyComponentSeed(seed, 0),
                                                              TinyInit::kTransformers));
  ASSIGN_OR_RETURN(json unet, Parse(kUnet));
  RETURN_IF_ERROR(WriteComponent<models::unet::UNet2DConditionModel>(
      root + "/unet", "diffusion_pytorch_model.safetensors", unet, TinyComponentSeed(seed, 1), TinyInit::kTorchDefault));
  ASSIGN_OR_RETURN(json vae, Parse(kVae));
  return WriteComponent<models::vae::AutoencoderKL>(root + "/vae", "diffusion_pytorch_model.safetensors", vae,
                                                    TinyComponentSeed(seed, 2), TinyInit::kTorchDefault);
}

}  // namespace

absl::Status WriteTinyStableDiffusion(const std::string& dir, uint64_t seed) {
  return WriteFolderAtomically(dir, "the tiny model", [&](const std::string& temp) { return WriteAll(temp, seed); });
}

}  // namespace dreamshot::diffusion
