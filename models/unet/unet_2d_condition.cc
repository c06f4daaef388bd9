#include "models/unet/unet_2d_condition.h"

#include <torch/torch.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "models/blocks/resnet.h"
#include "models/config_limits.h"
#include "models/unet/embeddings.h"
#include "models/unet/unet_2d_blocks.h"

namespace dreamshot::models::unet {
namespace {

// An int (applied to every block) or a per-block list of `n` ints.
absl::StatusOr<std::vector<int64_t>> IntOrList(const core::JsonConfig& json, const std::string& key, size_t n,
                                               const std::vector<int64_t>& fallback) {
  if (!json.Has(key)) return fallback;
  absl::StatusOr<int64_t> single = json.Int(key);
  if (single.ok()) return std::vector<int64_t>(n, *single);
  ASSIGN_OR_RETURN(std::vector<int64_t> list, json.IntList(key));
  if (list.size() != n) {
    return absl::InvalidArgumentError(absl::StrCat(json.source(), ": ", key, " has ", list.size(),
                                                   " entries, expected one per block (", n, ")"));
  }
  return list;
}

absl::Status Unsupported(const core::JsonConfig& json, const std::string& key, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(json.source(), ": unsupported UNet option ", key, " = ",
                                                 json.RawJson(key), " (", why, ")"));
}

// Options of UNet2DConditionModel that SD 1.x/2.x leave at their defaults.
absl::Status CheckUnsupported(const core::JsonConfig& json) {
  for (const char* key : {"class_embed_type", "num_class_embeds", "addition_embed_type", "addition_time_embed_dim",
                          "encoder_hid_dim", "encoder_hid_dim_type", "time_cond_proj_dim", "time_embedding_act_fn",
                          "timestep_post_act", "projection_class_embeddings_input_dim", "cross_attention_norm",
                          "reverse_transformer_layers_per_block"}) {
    if (json.Has(key)) return Unsupported(json, key, "must be null");
  }
  if (json.Has("num_attention_heads")) {
    return Unsupported(json, "num_attention_heads",
                       "diffusers 0.25 rejects it too; attention_head_dim holds the head count");
  }
  const std::pair<const char*, const char*> strings[] = {{"act_fn", "silu"},
                                                         {"time_embedding_type", "positional"},
                                                         {"resnet_time_scale_shift", "default"},
                                                         {"attention_type", "default"},
                                                         {"mid_block_type", "UNetMidBlock2DCrossAttn"}};
  for (const auto& [key, expected] : strings) {
    if (!json.Has(key)) {
      // mid_block_type: null means no mid block.
      if (std::string(key) == "mid_block_type" && !json.RawJson(key).empty()) {
        return Unsupported(json, key, "a mid block is required");
      }
      continue;
    }
    absl::StatusOr<std::string> value = json.String(key);
    if (!value.ok() || *value != expected) return Unsupported(json, key, absl::StrCat("only \"", expected, "\""));
  }
  for (const char* key : {"dual_cross_attention", "resnet_skip_time_act", "class_embeddings_concat"}) {
    if (!json.Has(key)) continue;
    absl::StatusOr<bool> value = json.Bool(key);
    if (!value.ok() || *value) return Unsupported(json, key, "only false");
  }
  const std::pair<const char*, double> doubles[] = {{"resnet_out_scale_factor", 1.0}, {"dropout", 0.0}};
  for (const auto& [key, expected] : doubles) {
    if (!json.Has(key)) continue;
    absl::StatusOr<double> value = json.Double(key);
    if (!value.ok() || *value != expected) return Unsupported(json, key, absl::StrCat("only ", expected));
  }
  return absl::OkStatus();
}

torch::nn::Conv2d Conv(int64_t in, int64_t out, int64_t kernel) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).padding((kernel - 1) / 2));
}

// Top-level modules under their diffusers names.
struct UNetRootImpl : torch::nn::Module {
  explicit UNetRootImpl(const UNetConfig& c) {
    const size_t n = c.block_out_channels.size();
    const int64_t temb = c.time_embed_dim();
    conv_in = register_module("conv_in", Conv(c.in_channels, c.block_out_channels[0], c.conv_in_kernel));
    time_embedding = register_module("time_embedding", TimestepEmbedding(c.block_out_channels[0], temb));

    auto options = [&](size_t i, bool cross) {
      BlockOptions o;
      o.cross_attention = cross;
      o.transformer_layers = c.transformer_layers_per_block[i];
      o.heads = c.heads(i);
      o.cross_attention_dim = c.cross_attention_dim;
      o.temb_channels = temb;
      o.groups = c.norm_num_groups;
      o.eps = c.norm_eps;
      o.use_linear_projection = c.use_linear_projection;
      o.only_cross_attention = c.only_cross_attention[i];
      o.upcast_attention = c.upcast_attention;
      return o;
    };

    down_blocks = register_module("down_blocks", torch::nn::ModuleList());
    int64_t output_channel = c.block_out_channels[0];
    for (size_t i = 0; i < n; ++i) {
      const int64_t input_channel = output_channel;
      output_channel = c.block_out_channels[i];
      BlockOptions o = options(i, c.down_block_types[i] == "CrossAttnDownBlock2D");
      o.num_layers = c.layers_per_block[i];
      down_blocks->push_back(
          UNetDownBlock(input_channel, output_channel, /*add_downsample=*/i + 1 < n, c.downsample_padding, o));
    }

    BlockOptions mid = options(n - 1, true);
    mid.num_layers = 1;
    mid.only_cross_attention = false;  // diffusers' UNetMidBlock2DCrossAttn takes no such option
    mid.output_scale_factor = c.mid_block_scale_factor;
    mid_block = register_module("mid_block", UNetMidBlock2DCrossAttn(c.block_out_channels[n - 1], mid));

    up_blocks = register_module("up_blocks", torch::nn::ModuleList());
    output_channel = c.block_out_channels[n - 1];
    for (size_t i = 0; i < n; ++i) {
      const size_t r = n - 1 - i;  // the down block this up block mirrors (reversed lists)
      const int64_t prev_output_channel = output_channel;
      output_channel = c.block_out_channels[r];
      const int64_t input_channel = c.block_out_channels[r == 0 ? 0 : r - 1];
      BlockOptions o = options(r, c.up_block_types[i] == "CrossAttnUpBlock2D");
      o.num_layers = c.layers_per_block[r] + 1;
      up_blocks->push_back(
          UNetUpBlock(input_channel, prev_output_channel, output_channel, /*add_upsample=*/i + 1 < n, o));
    }

    conv_norm_out = register_module("conv_norm_out",
                                    MakeGroupNorm(c.norm_num_groups, c.block_out_channels[0], c.norm_eps));
    conv_out = register_module("conv_out", Conv(c.block_out_channels[0], c.out_channels, c.conv_out_kernel));
  }

  torch::nn::Conv2d conv_in{nullptr}, conv_out{nullptr};
  TimestepEmbedding time_embedding{nullptr};
  torch::nn::ModuleList down_blocks{nullptr}, up_blocks{nullptr};
  UNetMidBlock2DCrossAttn mid_block{nullptr};
  torch::nn::GroupNorm conv_norm_out{nullptr};
};
TORCH_MODULE(UNetRoot);

}  // namespace

absl::StatusOr<UNetConfig> UNetConfig::FromJson(const core::JsonConfig& json) {
  RETURN_IF_ERROR(CheckUnsupported(json));
  UNetConfig c;
  ASSIGN_OR_RETURN(c.in_channels, json.Int("in_channels", c.in_channels));
  ASSIGN_OR_RETURN(c.out_channels, json.Int("out_channels", c.out_channels));
  ASSIGN_OR_RETURN(c.center_input_sample, json.Bool("center_input_sample", c.center_input_sample));
  ASSIGN_OR_RETURN(c.flip_sin_to_cos, json.Bool("flip_sin_to_cos", c.flip_sin_to_cos));
  ASSIGN_OR_RETURN(c.freq_shift, json.Double("freq_shift", c.freq_shift));
  if (json.Has("down_block_types")) {
    ASSIGN_OR_RETURN(c.down_block_types, json.StringList("down_block_types"));
  }
  if (json.Has("up_block_types")) {
    ASSIGN_OR_RETURN(c.up_block_types, json.StringList("up_block_types"));
  }
  if (json.Has("block_out_channels")) {
    ASSIGN_OR_RETURN(c.block_out_channels, json.IntList("block_out_channels"));
  }
  const size_t n = c.block_out_channels.size();
  if (n == 0 || n > static_cast<size_t>(kMaxBlocks)) {
    return absl::InvalidArgumentError(absl::StrCat(json.source(), ": block_out_channels has ", n,
                                                   " entries, expected 1 to ", kMaxBlocks));
  }
  ASSIGN_OR_RETURN(c.layers_per_block, IntOrList(json, "layers_per_block", n, std::vector<int64_t>(n, 2)));
  ASSIGN_OR_RETURN(c.downsample_padding, json.Int("downsample_padding", c.downsample_padding));
  ASSIGN_OR_RETURN(c.mid_block_scale_factor, json.Double("mid_block_scale_factor", c.mid_block_scale_factor));
  ASSIGN_OR_RETURN(c.norm_num_groups, json.Int("norm_num_groups", c.norm_num_groups));
  ASSIGN_OR_RETURN(c.norm_eps, json.Double("norm_eps", c.norm_eps));
  ASSIGN_OR_RETURN(c.cross_attention_dim, json.Int("cross_attention_dim", c.cross_attention_dim));
  ASSIGN_OR_RETURN(c.transformer_layers_per_block,
                   IntOrList(json, "transformer_layers_per_block", n, std::vector<int64_t>(n, 1)));
  ASSIGN_OR_RETURN(c.attention_head_dim, IntOrList(json, "attention_head_dim", n, std::vector<int64_t>(n, 8)));
  if (json.Has("only_cross_attention")) {
    // A bool for every block, or one per down block (up blocks mirror them).
    absl::StatusOr<bool> only = json.Bool("only_cross_attention");
    if (only.ok()) {
      c.only_cross_attention.assign(n, *only);
    } else {
      ASSIGN_OR_RETURN(c.only_cross_attention, json.BoolList("only_cross_attention"));
    }
  } else {
    c.only_cross_attention.assign(n, false);
  }
  ASSIGN_OR_RETURN(c.use_linear_projection, json.Bool("use_linear_projection", c.use_linear_projection));
  ASSIGN_OR_RETURN(c.upcast_attention, json.Bool("upcast_attention", c.upcast_attention));
  ASSIGN_OR_RETURN(c.conv_in_kernel, json.Int("conv_in_kernel", c.conv_in_kernel));
  ASSIGN_OR_RETURN(c.conv_out_kernel, json.Int("conv_out_kernel", c.conv_out_kernel));
  if (json.Has("time_embedding_dim")) {
    ASSIGN_OR_RETURN(c.time_embedding_dim, json.Int("time_embedding_dim"));
  }
  absl::Status valid = c.Validate();
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat(json.source(), ": ", valid.message()));
  return c;
}

absl::Status UNetConfig::Validate() const {
  const size_t n = block_out_channels.size();
  if (n == 0 || n > static_cast<size_t>(kMaxBlocks)) {
    return absl::InvalidArgumentError(
        absl::StrCat("block_out_channels has ", n, " entries, expected 1 to ", kMaxBlocks));
  }
  auto check_len = [&](const char* key, size_t size) -> absl::Status {
    if (size != n) {
      return absl::InvalidArgumentError(
          absl::StrCat(key, " has ", size, " entries but block_out_channels has ", n));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(check_len("down_block_types", down_block_types.size()));
  RETURN_IF_ERROR(check_len("up_block_types", up_block_types.size()));
  RETURN_IF_ERROR(check_len("layers_per_block", layers_per_block.size()));
  RETURN_IF_ERROR(check_len("transformer_layers_per_block", transformer_layers_per_block.size()));
  RETURN_IF_ERROR(check_len("attention_head_dim", attention_head_dim.size()));
  RETURN_IF_ERROR(check_len("only_cross_attention", only_cross_attention.size()));
  for (const auto& t : down_block_types) {
    if (t != "CrossAttnDownBlock2D" && t != "DownBlock2D") {
      return absl::InvalidArgumentError(absl::StrCat("unsupported down_block_types entry \"", t,
                                                     "\" (CrossAttnDownBlock2D, DownBlock2D)"));
    }
  }
  for (const auto& t : up_block_types) {
    if (t != "CrossAttnUpBlock2D" && t != "UpBlock2D") {
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported up_block_types entry \"", t, "\" (CrossAttnUpBlock2D, UpBlock2D)"));
    }
  }
  RETURN_IF_ERROR(core::CheckIntRange("in_channels", in_channels, 1, kMaxImageChannels));
  RETURN_IF_ERROR(core::CheckIntRange("out_channels", out_channels, 1, kMaxImageChannels));
  RETURN_IF_ERROR(core::CheckIntRange("norm_num_groups", norm_num_groups, 1, kMaxChannels));
  RETURN_IF_ERROR(core::CheckIntRange("cross_attention_dim", cross_attention_dim, 1, kMaxChannels));
  RETURN_IF_ERROR(core::CheckIntRange("conv_in_kernel", conv_in_kernel, 1, kMaxKernel));
  RETURN_IF_ERROR(core::CheckIntRange("conv_out_kernel", conv_out_kernel, 1, kMaxKernel));
  if (conv_in_kernel % 2 == 0 || conv_out_kernel % 2 == 0) {
    return absl::InvalidArgumentError("conv_in_kernel / conv_out_kernel must be odd");
  }
  RETURN_IF_ERROR(core::CheckIntRange("downsample_padding", downsample_padding, 0, 1));
  RETURN_IF_ERROR(core::CheckIntRange("time_embedding_dim", time_embedding_dim, 0, 4 * kMaxChannels));
  if (!(norm_eps > 0 && norm_eps <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("norm_eps = ", norm_eps, " must be in (0, 1]"));
  }
  RETURN_IF_ERROR(core::CheckNumberRange("freq_shift", freq_shift, -1e6, 1e6));
  if (!(mid_block_scale_factor > 0 && mid_block_scale_factor <= 1e6)) {
    return absl::InvalidArgumentError(
        absl::StrCat("mid_block_scale_factor = ", mid_block_scale_factor, " must be in (0, 1e6]"));
  }
  for (size_t i = 0; i < n; ++i) {
    const int64_t ch = block_out_channels[i];
    RETURN_IF_ERROR(core::CheckIntRange(absl::StrCat("block_out_channels[", i, "]"), ch, 1, kMaxChannels));
    if (ch % norm_num_groups != 0) {
      return absl::InvalidArgumentError(absl::StrCat("block_out_channels[", i, "] = ", ch,
                                                     " is not a positive multiple of norm_num_groups ",
                                                     norm_num_groups));
    }
    if (attention_head_dim[i] <= 0 || ch % attention_head_dim[i] != 0) {
      return absl::InvalidArgumentError(absl::StrCat("block_out_channels[", i, "] = ", ch,
                                                     " is not divisible by attention_head_dim[", i,
                                                     "] = ", attention_head_dim[i], " (the head count)"));
    }
    RETURN_IF_ERROR(core::CheckIntRange(absl::StrCat("layers_per_block[", i, "]"), layers_per_block[i], 1, kMaxLayersPerBlock));
    RETURN_IF_ERROR(core::CheckIntRange(absl::StrCat("transformer_layers_per_block[", i, "]"),
                                        transformer_layers_per_block[i], 1, kMaxLayersPerBlock));
  }
  return absl::OkStatus();
}

struct UNet2DConditionModel::Impl {
  UNetRoot root{nullptr};
};

UNet2DConditionModel::UNet2DConditionModel(UNetConfig config, core::DeviceSpec spec, std::unique_ptr<Impl> impl)
    : config_(std::move(config)), spec_(spec), impl_(std::move(impl)) {}
UNet2DConditionModel::~UNet2DConditionModel() = default;

absl::StatusOr<std::unique_ptr<UNet2DConditionModel>> UNet2DConditionModel::Create(const UNetConfig& config,
                                                                                   const core::DeviceSpec& spec) {
  RETURN_IF_ERROR(config.Validate());
  RETURN_IF_ERROR(CheckModelSize(ExpectedWeights(config), "a UNet"));
  auto impl = std::make_unique<Impl>();
  try {
    impl->root = UNetRoot(config);
    impl->root->to(spec.device, spec.dtype);
    impl->root->eval();
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("cannot build the UNet on ", spec.ToString(), ": ", e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat("out of memory building the UNet on ", spec.ToString()));
  }
  return std::unique_ptr<UNet2DConditionModel>(new UNet2DConditionModel(config, spec, std::move(impl)));
}

torch::nn::Module& UNet2DConditionModel::module() { return *impl_->root; }

int64_t UNet2DConditionModel::NumParameters() const {
  int64_t total = 0;
  for (const auto& p : impl_->root->parameters()) total += p.numel();
  return total;
}

void UNet2DConditionModel::SetGradientCheckpointing(bool enabled) {
  gradient_checkpointing_ = enabled;
  auto& root = impl_->root;
  for (const auto& block : *root->down_blocks) block->as<UNetDownBlockImpl>()->gradient_checkpointing = enabled;
  root->mid_block->gradient_checkpointing = enabled;
  for (const auto& block : *root->up_blocks) block->as<UNetUpBlockImpl>()->gradient_checkpointing = enabled;
}

absl::Status UNet2DConditionModel::LoadWeights(const TensorMap& tensors, const std::string& source) {
  try {
    return LoadStateDict(*impl_->root, tensors, source);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("loading ", source, ": ", e.what_without_backtrace()));
  }
}

absl::StatusOr<at::Tensor> UNet2DConditionModel::TimeEmbedding(const at::Tensor& timesteps) {
  if (!timesteps.defined() || timesteps.dim() != 1) {
    return absl::InvalidArgumentError("timesteps must be a 1-D tensor");
  }
  try {
    at::Tensor t_emb = GetTimestepEmbedding(timesteps.to(spec_.device), config_.block_out_channels[0],
                                            config_.flip_sin_to_cos, config_.freq_shift);  // [N, C0] float32
    return impl_->root->time_embedding(t_emb.to(spec_.dtype));                             // [N, 4·C0]
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("UNet time embedding failed: ", e.what_without_backtrace()));
  }
}

absl::StatusOr<at::Tensor> UNet2DConditionModel::Forward(const at::Tensor& sample_in, const at::Tensor& timestep,
                                                         const at::Tensor& encoder_hidden_states) {
  const UNetConfig& c = config_;
  if (!sample_in.defined() || sample_in.dim() != 4 || sample_in.size(1) != c.in_channels) {
    return absl::InvalidArgumentError(absl::StrCat("sample must be [batch, ", c.in_channels, ", height, width]"));
  }
  const int64_t batch = sample_in.size(0);
  if (!encoder_hidden_states.defined() || encoder_hidden_states.dim() != 3 ||
      encoder_hidden_states.size(0) != batch || encoder_hidden_states.size(2) != c.cross_attention_dim) {
    return absl::InvalidArgumentError(absl::StrCat("encoder_hidden_states must be [", batch, ", length, ",
                                                   c.cross_attention_dim, "]"));
  }
  if (!timestep.defined() || timestep.dim() > 1 || (timestep.dim() == 1 && timestep.size(0) != batch &&
                                                    timestep.size(0) != 1)) {
    return absl::InvalidArgumentError(absl::StrCat("timestep must be 0-dim or [", batch, "]"));
  }
  try {
    auto& root = impl_->root;
    at::Tensor sample = sample_in.to(spec_.device, spec_.dtype);
    const at::Tensor context = encoder_hidden_states.to(spec_.device, spec_.dtype);  // [B, S, D]

    // Every up block but the last doubles the size; when H or W is not a
    // multiple of 2^upsamplers the upsampler matches the skip's size instead.
    const int64_t up_factor = int64_t{1} << (c.block_out_channels.size() - 1);
    const bool forward_upsample_size = sample.size(2) % up_factor != 0 || sample.size(3) % up_factor != 0;

    // 1. time
    at::Tensor t = timestep.to(spec_.device);
    if (t.dim() == 0) t = t.unsqueeze(0);
    t = t.expand({batch});
    at::Tensor t_emb = GetTimestepEmbedding(t, c.block_out_channels[0], c.flip_sin_to_cos, c.freq_shift);
    at::Tensor emb = root->time_embedding(t_emb.to(spec_.dtype));  // [B, 4·C0]

    // 2. pre-process
    if (c.center_input_sample) sample = 2 * sample - 1.0;
    sample = root->conv_in(sample);  // [B, C0, H, W]

    // 3. down
    std::vector<at::Tensor> skips = {sample};
    for (const auto& block : *root->down_blocks) {
      DownBlockOutput out = block->as<UNetDownBlockImpl>()->forward(sample, emb, context);
      sample = out.hidden;
      skips.insert(skips.end(), out.skips.begin(), out.skips.end());
    }

    // 4. mid
    sample = root->mid_block(sample, emb, context);  // [B, C_last, H/8, W/8]

    // 5. up
    const size_t num_up = root->up_blocks->size();
    for (size_t i = 0; i < num_up; ++i) {
      auto* block = root->up_blocks[i]->as<UNetUpBlockImpl>();
      const size_t take = block->resnets->size();
      std::vector<at::Tensor> block_skips(skips.end() - take, skips.end());
      skips.resize(skips.size() - take);
      std::optional<std::vector<int64_t>> upsample_size;
      if (i + 1 < num_up && forward_upsample_size) {
        upsample_size = std::vector<int64_t>{skips.back().size(2), skips.back().size(3)};
      }
      sample = block->forward(sample, std::move(block_skips), emb, context, upsample_size);
    }

    // 6. post-process
    sample = root->conv_out(GroupNormSilu(*root->conv_norm_out, sample));  // [B, out, H, W]
    return sample;
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("UNet forward failed: ", e.what_without_backtrace()));
  }
}

}  // namespace dreamshot::models::unet
