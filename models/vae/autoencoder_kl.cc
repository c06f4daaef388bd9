#include "models/vae/autoencoder_kl.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status_macros.h"
#include "models/config_limits.h"
#include "models/vae/encoder_decoder.h"
#include "models/vae/tiling.h"

namespace dreamshot::models::vae {
namespace {

// The top module: encoder, decoder, quant_conv, post_quant_conv.
struct AutoencoderKLRootImpl : torch::nn::Module {
  explicit AutoencoderKLRootImpl(const VaeConfig& c) {
    EncoderDecoderOptions enc;
    enc.in_channels = c.in_channels;
    enc.out_channels = 2 * c.latent_channels;  // double_z: mean and logvar
    enc.block_out_channels = c.block_out_channels;
    enc.layers_per_block = c.layers_per_block;
    enc.norm_num_groups = c.norm_num_groups;
    enc.mid_block_add_attention = c.mid_block_add_attention;
    EncoderDecoderOptions dec = enc;
    dec.in_channels = c.latent_channels;
    dec.out_channels = c.out_channels;
    encoder = register_module("encoder", Encoder(enc));
    decoder = register_module("decoder", Decoder(dec));
    quant_conv = register_module(
        "quant_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(2 * c.latent_channels, 2 * c.latent_channels, 1)));
    post_quant_conv = register_module(
        "post_quant_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(c.latent_channels, c.latent_channels, 1)));
  }
  Encoder encoder{nullptr};
  Decoder decoder{nullptr};
  torch::nn::Conv2d quant_conv{nullptr}, post_quant_conv{nullptr};
};
TORCH_MODULE(AutoencoderKLRoot);

absl::Status CheckBlockTypes(const core::JsonConfig& json, const std::string& key, const std::string& expected,
                             size_t count) {
  if (!json.Has(key)) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<std::string> types, json.StringList(key));
  if (types.size() != count) {
    return absl::InvalidArgumentError(absl::StrCat(json.source(), ": ", key, " has ", types.size(),
                                                   " entries but block_out_channels has ", count));
  }
  for (const auto& t : types) {
    if (t != expected) {
      return absl::InvalidArgumentError(
          absl::StrCat(json.source(), ": unsupported ", key, " entry '", t, "' (only ", expected, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTensor(const at::Tensor& t, const char* what, int64_t channels) {
  if (!t.defined() || t.dim() != 4 || t.size(1) != channels || t.size(2) == 0 || t.size(3) == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a [batch, ", channels, ", height, width] tensor, got ",
                     t.defined() ? absl::StrJoin(t.sizes(), "x") : std::string("undefined")));
  }
  if (!t.is_floating_point()) return absl::InvalidArgumentError(absl::StrCat(what, " must be floating point"));
  return absl::OkStatus();
}

}  // namespace

struct AutoencoderKL::Impl {
  AutoencoderKLRoot root{nullptr};
};

int64_t VaeConfig::downscale_factor() const {
  return int64_t{1} << (block_out_channels.empty() ? 0 : block_out_channels.size() - 1);
}

absl::Status VaeConfig::Validate() const {
  const size_t n = block_out_channels.size();
  if (n == 0 || n > static_cast<size_t>(kMaxBlocks)) {
    return absl::InvalidArgumentError(
        absl::StrCat("block_out_channels has ", n, " entries, expected 1 to ", kMaxBlocks));
  }
  if (act_fn != "silu") return absl::InvalidArgumentError(absl::StrCat("unsupported act_fn '", act_fn, "' (silu)"));
  RETURN_IF_ERROR(core::CheckIntRange("in_channels", in_channels, 1, kMaxImageChannels));
  RETURN_IF_ERROR(core::CheckIntRange("out_channels", out_channels, 1, kMaxImageChannels));
  RETURN_IF_ERROR(core::CheckIntRange("latent_channels", latent_channels, 1, kMaxImageChannels));
  RETURN_IF_ERROR(core::CheckIntRange("layers_per_block", layers_per_block, 1, kMaxLayersPerBlock));
  RETURN_IF_ERROR(core::CheckIntRange("norm_num_groups", norm_num_groups, 1, kMaxChannels));
  RETURN_IF_ERROR(core::CheckIntRange("sample_size", sample_size, 1, 65536));
  if (!(scaling_factor > 0 && scaling_factor <= 1e6)) {
    return absl::InvalidArgumentError(absl::StrCat("scaling_factor = ", scaling_factor, " must be in (0, 1e6]"));
  }
  for (size_t i = 0; i < n; ++i) {
    const int64_t ch = block_out_channels[i];
    RETURN_IF_ERROR(core::CheckIntRange(absl::StrCat("block_out_channels[", i, "]"), ch, 1, kMaxChannels));
    if (ch % norm_num_groups != 0) {
      return absl::InvalidArgumentError(absl::StrCat("block_out_channels[", i, "] = ", ch,
                                                     " is not divisible by norm_num_groups ", norm_num_groups));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<VaeConfig> VaeConfig::FromJson(const core::JsonConfig& json) {
  VaeConfig c;
  ASSIGN_OR_RETURN(c.in_channels, json.Int("in_channels", c.in_channels));
  ASSIGN_OR_RETURN(c.out_channels, json.Int("out_channels", c.out_channels));
  ASSIGN_OR_RETURN(c.latent_channels, json.Int("latent_channels", c.latent_channels));
  ASSIGN_OR_RETURN(c.block_out_channels, json.IntList("block_out_channels"));
  ASSIGN_OR_RETURN(c.layers_per_block, json.Int("layers_per_block", c.layers_per_block));
  ASSIGN_OR_RETURN(c.norm_num_groups, json.Int("norm_num_groups", c.norm_num_groups));
  ASSIGN_OR_RETURN(c.sample_size, json.Int("sample_size", c.sample_size));
  ASSIGN_OR_RETURN(c.scaling_factor, json.Double("scaling_factor", c.scaling_factor));
  ASSIGN_OR_RETURN(c.act_fn, json.String("act_fn", c.act_fn));
  ASSIGN_OR_RETURN(c.mid_block_add_attention, json.Bool("mid_block_add_attention", c.mid_block_add_attention));
  ASSIGN_OR_RETURN(c.force_upcast, json.Bool("force_upcast", c.force_upcast));
  if (c.act_fn != "silu") {
    return absl::InvalidArgumentError(absl::StrCat(json.source(), ": unsupported act_fn '", c.act_fn, "' (silu)"));
  }
  absl::Status valid = c.Validate();
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat(json.source(), ": ", valid.message()));
  RETURN_IF_ERROR(CheckBlockTypes(json, "down_block_types", "DownEncoderBlock2D", c.block_out_channels.size()));
  RETURN_IF_ERROR(CheckBlockTypes(json, "up_block_types", "UpDecoderBlock2D", c.block_out_channels.size()));
  // Options of newer diffusers versions that change the computation.
  ASSIGN_OR_RETURN(bool use_quant_conv, json.Bool("use_quant_conv", true));
  ASSIGN_OR_RETURN(bool use_post_quant_conv, json.Bool("use_post_quant_conv", true));
  if (!use_quant_conv || !use_post_quant_conv) {
    return absl::InvalidArgumentError(absl::StrCat(
        json.source(), ": unsupported use_quant_conv/use_post_quant_conv false (the model always has both)"));
  }
  for (const char* key : {"latents_mean", "latents_std", "shift_factor"}) {
    if (json.Has(key)) {
      return absl::InvalidArgumentError(absl::StrCat(json.source(), ": unsupported key '", key, "' (SD-1.x/2.x VAEs only)"));
    }
  }
  return c;
}

absl::StatusOr<at::Tensor> LatentDistribution::Sample(at::Generator& generator) const {
  if (!mean.defined()) return absl::FailedPreconditionError("sampling an empty latent distribution");
  if (!generator.defined() || generator.device().type() != c10::kCPU) {
    return absl::InvalidArgumentError("LatentDistribution::Sample needs a CPU torch::Generator");
  }
  try {
    // ε on the CPU in float32: the same numbers whatever device the model is on.
    torch::Tensor eps = at::randn(mean.sizes(), generator, torch::dtype(torch::kFloat).device(torch::kCPU));
    return mean + std * eps.to(mean.device(), mean.scalar_type());
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("sampling latents failed: ", e.what_without_backtrace()));
  }
}

AutoencoderKL::AutoencoderKL(VaeConfig config, core::DeviceSpec spec, std::unique_ptr<Impl> impl)
    : config_(std::move(config)), spec_(spec), impl_(std::move(impl)) {}
AutoencoderKL::~AutoencoderKL() = default;

absl::StatusOr<std::unique_ptr<AutoencoderKL>> AutoencoderKL::Create(const VaeConfig& config,
                                                                     const core::DeviceSpec& spec) {
  RETURN_IF_ERROR(config.Validate());
  RETURN_IF_ERROR(CheckModelSize(ExpectedWeights(config), "a VAE"));
  auto impl = std::make_unique<Impl>();
  try {
    impl->root = AutoencoderKLRoot(config);
    impl->root->to(spec.device, spec.dtype);
    impl->root->eval();
  } catch (const c10::Error& e) {
    return absl::InternalError(
        absl::StrCat("cannot build the VAE on ", spec.ToString(), ": ", e.what_without_backtrace()));
  }
  return std::unique_ptr<AutoencoderKL>(new AutoencoderKL(config, spec, std::move(impl)));
}

torch::nn::Module& AutoencoderKL::module() { return *impl_->root; }

absl::Status AutoencoderKL::LoadWeights(const TensorMap& tensors, const std::string& source) {
  try {
    return LoadStateDict(*impl_->root, tensors, source);
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("loading ", source, ": ", e.what_without_backtrace()));
  }
}

int64_t AutoencoderKL::tile_sample_size() const {
  return tiling_.tile_sample_size > 0 ? tiling_.tile_sample_size : config_.sample_size;
}
int64_t AutoencoderKL::tile_latent_size() const {
  return std::max<int64_t>(1, tile_sample_size() / config_.downscale_factor());
}

at::Tensor AutoencoderKL::EncodeMoments(const at::Tensor& x) {
  const ActivationObserver* observer = observer_ ? &observer_ : nullptr;
  return impl_->root->quant_conv(impl_->root->encoder(x, observer));  // [B, 2·latent, h, w]
}

at::Tensor AutoencoderKL::DecodeUntiled(const at::Tensor& z) {
  const ActivationObserver* observer = observer_ ? &observer_ : nullptr;
  return impl_->root->decoder(impl_->root->post_quant_conv(z), observer);  // [B, 3, h·f, w·f]
}

at::Tensor AutoencoderKL::TiledEncodeMoments(const at::Tensor& x) {
  // diffusers: overlap_size = int(sample_tile · (1 - f)), blend_extent = int(latent_tile · f).
  TileGeometry g;
  g.input_tile = tile_sample_size();
  g.input_stride = std::max<int64_t>(1, static_cast<int64_t>(g.input_tile * (1 - tiling_.overlap_factor)));
  g.output_tile = tile_latent_size();
  g.blend_extent = static_cast<int64_t>(g.output_tile * tiling_.overlap_factor);
  return TileAndBlend(x, g, [this](const at::Tensor& tile) { return EncodeMoments(tile); });
}

at::Tensor AutoencoderKL::TiledDecode(const at::Tensor& z) {
  TileGeometry g;
  g.input_tile = tile_latent_size();
  g.input_stride = std::max<int64_t>(1, static_cast<int64_t>(g.input_tile * (1 - tiling_.overlap_factor)));
  g.output_tile = tile_sample_size();
  g.blend_extent = static_cast<int64_t>(g.output_tile * tiling_.overlap_factor);
  return TileAndBlend(z, g, [this](const at::Tensor& tile) { return DecodeUntiled(tile); });
}

at::Tensor AutoencoderKL::BySample(const at::Tensor& batch,
                                   const std::function<at::Tensor(const at::Tensor&)>& run) const {
  if (!slicing_ || batch.size(0) <= 1) return run(batch);
  std::vector<at::Tensor> outputs;
  for (int64_t i = 0; i < batch.size(0); ++i) outputs.push_back(run(batch.narrow(0, i, 1)));
  return torch::cat(outputs, 0);
}

absl::StatusOr<LatentDistribution> AutoencoderKL::Encode(const at::Tensor& image) {
  RETURN_IF_ERROR(CheckTensor(image, "image", config_.in_channels));
  try {
    torch::NoGradGuard no_grad;
    const torch::Tensor x = image.to(spec_.device, spec_.dtype);
    const bool tiled = tiling_.enabled && (x.size(2) > tile_sample_size() || x.size(3) > tile_sample_size());
    auto encode = [&](const torch::Tensor& batch) { return tiled ? TiledEncodeMoments(batch) : EncodeMoments(batch); };
    torch::Tensor moments = BySample(x, encode);  // [B, 2·latent, h, w]
    LatentDistribution d;
    auto halves = moments.chunk(2, 1);
    d.mean = halves[0];
    d.logvar = halves[1].clamp(-30.0, 20.0);
    d.std = torch::exp(0.5 * d.logvar);
    return d;
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("VAE encode failed: ", e.what_without_backtrace()));
  }
}

absl::StatusOr<at::Tensor> AutoencoderKL::Decode(const at::Tensor& latents) {
  RETURN_IF_ERROR(CheckTensor(latents, "latents", config_.latent_channels));
  try {
    torch::NoGradGuard no_grad;
    const torch::Tensor z = latents.to(spec_.device, spec_.dtype);
    const bool tiled = tiling_.enabled && (z.size(2) > tile_latent_size() || z.size(3) > tile_latent_size());
    return BySample(z, [&](const torch::Tensor& batch) { return tiled ? TiledDecode(batch) : DecodeUntiled(batch); });
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("VAE decode failed: ", e.what_without_backtrace()));
  }
}

}  // namespace dreamshot::models::vae
