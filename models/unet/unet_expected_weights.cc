// UNet2DConditionModel::ExpectedWeights: the tensor names and shapes the
// modules of unet_2d_condition.cc, unet_2d_blocks.cc, transformer_2d.cc and
// blocks/resnet.cc register, mirrored block for block (unet_test checks the
// two agree), each with the config keys its shape follows from.
#include "absl/strings/str_cat.h"
#include "models/unet/unet_2d_condition.h"

namespace dreamshot::models::unet {
namespace {

using absl::StrCat;

struct Builder {
  const UNetConfig& c;
  ExpectedTensors out;

  // ResnetBlock2D with a time-embedding projection.
  void Resnet(const std::string& p, int64_t in, int64_t ch, const std::string& keys) {
    out.Norm(p + ".norm1", in, keys);
    out.Conv2d(p + ".conv1", in, ch, 3, keys);
    out.Linear(p + ".time_emb_proj", c.time_embed_dim(), ch, StrCat(keys, ", time_embedding_dim"));
    out.Norm(p + ".norm2", ch, keys);
    out.Conv2d(p + ".conv2", ch, ch, 3, keys);
    if (in != ch) out.Conv2d(p + ".conv_shortcut", in, ch, 1, keys);
  }

  // Attention: q from the block's width, k/v from the text (cross) or itself.
  void Attention(const std::string& p, int64_t dim, int64_t kv_dim, const std::string& keys) {
    out.Linear(p + ".to_q", dim, dim, keys, /*bias=*/false);
    out.Linear(p + ".to_k", kv_dim, dim, keys, /*bias=*/false);
    out.Linear(p + ".to_v", kv_dim, dim, keys, /*bias=*/false);
    out.Linear(p + ".to_out.0", dim, dim, keys);
  }

  // Transformer2DModel over `ch` channels for down block `block` (heads and
  // layer counts of that block); only_cross as the block's option.
  void Transformer(const std::string& p, int64_t ch, size_t block, bool only_cross, const std::string& keys) {
    const std::string proj_keys = StrCat(keys, ", use_linear_projection");
    out.Norm(p + ".norm", ch, keys);
    if (c.use_linear_projection) {
      out.Linear(p + ".proj_in", ch, ch, proj_keys);
      out.Linear(p + ".proj_out", ch, ch, proj_keys);
    } else {
      out.Conv2d(p + ".proj_in", ch, ch, 1, proj_keys);
      out.Conv2d(p + ".proj_out", ch, ch, 1, proj_keys);
    }
    const std::string layer_keys = StrCat(keys, ", transformer_layers_per_block[", block, "]");
    const std::string cross_keys = StrCat(keys, ", cross_attention_dim");
    for (int64_t t = 0; t < c.transformer_layers_per_block[block]; ++t) {
      const std::string b = StrCat(p, ".transformer_blocks.", t);
      out.Norm(b + ".norm1", ch, layer_keys);
      Attention(b + ".attn1", ch, only_cross ? c.cross_attention_dim : ch,
                only_cross ? StrCat(cross_keys, ", only_cross_attention") : layer_keys);
      out.Norm(b + ".norm2", ch, layer_keys);
      Attention(b + ".attn2", ch, c.cross_attention_dim, cross_keys);
      out.Norm(b + ".norm3", ch, layer_keys);
      out.Linear(b + ".ff.net.0.proj", ch, ch * 4 * 2, layer_keys);  // GEGLU: value and gate
      out.Linear(b + ".ff.net.2", ch * 4, ch, layer_keys);
    }
  }
};

}  // namespace

ExpectedTensors UNet2DConditionModel::ExpectedWeights(const UNetConfig& c) {
  Builder b{c, {}};
  const size_t n = c.block_out_channels.size();
  if (n == 0) return b.out;  // Validate refuses it; nothing to mirror
  const int64_t c0 = c.block_out_channels[0];
  b.out.Conv2d("conv_in", c.in_channels, c0, c.conv_in_kernel, "in_channels, block_out_channels[0], conv_in_kernel");
  b.out.Linear("time_embedding.linear_1", c0, c.time_embed_dim(), "block_out_channels[0], time_embedding_dim");
  b.out.Linear("time_embedding.linear_2", c.time_embed_dim(), c.time_embed_dim(), "time_embedding_dim");

  int64_t output_channel = c0;
  for (size_t i = 0; i < n; ++i) {
    const int64_t input_channel = output_channel;
    output_channel = c.block_out_channels[i];
    const std::string p = StrCat("down_blocks.", i);
    const std::string keys = StrCat("block_out_channels[", i, "], layers_per_block");
    for (int64_t j = 0; j < c.layers_per_block[i]; ++j) {
      b.Resnet(StrCat(p, ".resnets.", j), j == 0 ? input_channel : output_channel, output_channel, keys);
      if (c.down_block_types[i] == "CrossAttnDownBlock2D") {
        b.Transformer(StrCat(p, ".attentions.", j), output_channel, i, c.only_cross_attention[i],
                      StrCat(keys, ", down_block_types[", i, "], attention_head_dim"));
      }
    }
    if (i + 1 < n) b.out.Conv2d(p + ".downsamplers.0.conv", output_channel, output_channel, 3, keys);
  }

  const int64_t last = c.block_out_channels[n - 1];
  const std::string mid_keys = StrCat("block_out_channels[", n - 1, "]");
  b.Resnet("mid_block.resnets.0", last, last, mid_keys);
  b.Transformer("mid_block.attentions.0", last, n - 1, /*only_cross=*/false, StrCat(mid_keys, ", attention_head_dim"));
  b.Resnet("mid_block.resnets.1", last, last, mid_keys);

  output_channel = last;
  for (size_t i = 0; i < n; ++i) {
    const size_t r = n - 1 - i;  // the down block this up block mirrors
    const int64_t prev_output_channel = output_channel;
    output_channel = c.block_out_channels[r];
    const int64_t input_channel = c.block_out_channels[r == 0 ? 0 : r - 1];
    const int64_t layers = c.layers_per_block[r] + 1;
    const std::string p = StrCat("up_blocks.", i);
    const std::string keys = StrCat("block_out_channels, layers_per_block");
    for (int64_t j = 0; j < layers; ++j) {
      const int64_t skip = j == layers - 1 ? input_channel : output_channel;
      const int64_t resnet_in = j == 0 ? prev_output_channel : output_channel;
      b.Resnet(StrCat(p, ".resnets.", j), resnet_in + skip, output_channel, keys);
      if (c.up_block_types[i] == "CrossAttnUpBlock2D") {
        b.Transformer(StrCat(p, ".attentions.", j), output_channel, r, c.only_cross_attention[r],
                      StrCat(keys, ", up_block_types[", i, "], attention_head_dim"));
      }
    }
    if (i + 1 < n) b.out.Conv2d(p + ".upsamplers.0.conv", output_channel, output_channel, 3, keys);
  }

  b.out.Norm("conv_norm_out", c0, "block_out_channels[0]");
  b.out.Conv2d("conv_out", c0, c.out_channels, c.conv_out_kernel, "out_channels, block_out_channels[0], conv_out_kernel");
  return b.out;
}

}  // namespace dreamshot::models::unet
