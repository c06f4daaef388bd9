// AutoencoderKL::ExpectedWeights: the tensor names and shapes the modules of
// autoencoder_kl.cc, encoder_decoder.cc, vae_blocks.cc and blocks/resnet.cc
// register, mirrored block for block (vae_test checks the two agree).
#include "absl/strings/str_cat.h"
#include "models/vae/autoencoder_kl.h"

namespace dreamshot::models::vae {
namespace {

using absl::StrCat;

// ResnetBlock2D without a time embedding.
void Resnet(ExpectedTensors& out, const std::string& p, int64_t in, int64_t ch, const std::string& keys) {
  out.Norm(p + ".norm1", in, keys);
  out.Conv2d(p + ".conv1", in, ch, 3, keys);
  out.Norm(p + ".norm2", ch, keys);
  out.Conv2d(p + ".conv2", ch, ch, 3, keys);
  if (in != ch) out.Conv2d(p + ".conv_shortcut", in, ch, 1, keys);
}

// UNetMidBlock2D: resnet, (single-head attention), resnet.
void MidBlock(ExpectedTensors& out, const std::string& p, int64_t ch, bool attention, const std::string& keys) {
  if (attention) {
    const std::string a = p + ".attentions.0";
    const std::string attention_keys = StrCat(keys, ", mid_block_add_attention");
    out.Norm(a + ".group_norm", ch, attention_keys);
    for (const char* proj : {".to_q", ".to_k", ".to_v", ".to_out.0"}) out.Linear(a + proj, ch, ch, attention_keys);
  }
  Resnet(out, p + ".resnets.0", ch, ch, keys);
  Resnet(out, p + ".resnets.1", ch, ch, keys);
}

}  // namespace

ExpectedTensors AutoencoderKL::ExpectedWeights(const VaeConfig& c) {
  ExpectedTensors out;
  const auto& boc = c.block_out_channels;
  const size_t n = boc.size();
  if (n == 0) return out;  // Validate refuses it; nothing to mirror
  const std::string first = "block_out_channels[0]", last = StrCat("block_out_channels[", n - 1, "]");

  out.Conv2d("encoder.conv_in", c.in_channels, boc[0], 3, StrCat("in_channels, ", first));
  int64_t output_channel = boc[0];
  for (size_t i = 0; i < n; ++i) {
    const int64_t input_channel = output_channel;
    output_channel = boc[i];
    const std::string p = StrCat("encoder.down_blocks.", i);
    const std::string keys = StrCat("block_out_channels[", i, "], layers_per_block");
    for (int64_t j = 0; j < c.layers_per_block; ++j) {
      Resnet(out, StrCat(p, ".resnets.", j), j == 0 ? input_channel : output_channel, output_channel, keys);
    }
    if (i + 1 < n) out.Conv2d(p + ".downsamplers.0.conv", output_channel, output_channel, 3, keys);
  }
  MidBlock(out, "encoder.mid_block", boc[n - 1], c.mid_block_add_attention, last);
  out.Norm("encoder.conv_norm_out", boc[n - 1], last);
  out.Conv2d("encoder.conv_out", boc[n - 1], 2 * c.latent_channels, 3, StrCat(last, ", latent_channels"));

  out.Conv2d("decoder.conv_in", c.latent_channels, boc[n - 1], 3, StrCat("latent_channels, ", last));
  MidBlock(out, "decoder.mid_block", boc[n - 1], c.mid_block_add_attention, last);
  output_channel = boc[n - 1];
  for (size_t i = 0; i < n; ++i) {
    const int64_t prev_output_channel = output_channel;
    output_channel = boc[n - 1 - i];
    const std::string p = StrCat("decoder.up_blocks.", i);
    const std::string keys = StrCat("block_out_channels[", n - 1 - i, "], layers_per_block");
    for (int64_t j = 0; j < c.layers_per_block + 1; ++j) {
      Resnet(out, StrCat(p, ".resnets.", j), j == 0 ? prev_output_channel : output_channel, output_channel, keys);
    }
    if (i + 1 < n) out.Conv2d(p + ".upsamplers.0.conv", output_channel, output_channel, 3, keys);
  }
  out.Norm("decoder.conv_norm_out", boc[0], first);
  out.Conv2d("decoder.conv_out", boc[0], c.out_channels, 3, StrCat(first, ", out_channels"));

  out.Conv2d("quant_conv", 2 * c.latent_channels, 2 * c.latent_channels, 1, "latent_channels");
  out.Conv2d("post_quant_conv", c.latent_channels, c.latent_channels, 1, "latent_channels");
  return out;
}

}  // namespace dreamshot::models::vae
