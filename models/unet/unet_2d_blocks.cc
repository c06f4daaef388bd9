#include "models/unet/unet_2d_blocks.h"

#include <torch/torch.h>

#include "models/unet/checkpoint.h"

namespace dreamshot::models::unet {
namespace {

ResnetBlock2D MakeResnet(int64_t in, int64_t out, const BlockOptions& o) {
  ResnetBlock2DOptions ro;
  ro.in_channels = in;
  ro.out_channels = out;
  ro.temb_channels = o.temb_channels;
  ro.groups = o.groups;
  ro.eps = o.eps;
  ro.output_scale_factor = o.output_scale_factor;
  return ResnetBlock2D(ro);
}

Transformer2DModel MakeTransformer(int64_t channels, const BlockOptions& o) {
  Transformer2DOptions to;
  to.in_channels = channels;
  to.heads = o.heads;
  to.dim_head = channels / o.heads;
  to.num_layers = o.transformer_layers;
  to.cross_attention_dim = o.cross_attention_dim;
  to.norm_num_groups = o.groups;
  to.use_linear_projection = o.use_linear_projection;
  to.only_cross_attention = o.only_cross_attention;
  to.upcast_attention = o.upcast_attention;
  return Transformer2DModel(to);
}

}  // namespace

at::Tensor RunResnet(ResnetBlock2DImpl& resnet, const at::Tensor& x, const at::Tensor& temb, bool checkpoint) {
  if (!checkpoint) return resnet.forward(x, temb);
  return CheckpointedCall([&resnet](const std::vector<at::Tensor>& in) { return resnet.forward(in[0], in[1]); },
                          {x, temb}, resnet);
}

at::Tensor RunAttention(Transformer2DModelImpl& attn, const at::Tensor& x, const at::Tensor& context,
                        bool checkpoint) {
  if (!checkpoint) return attn.forward(x, context);
  return CheckpointedCall([&attn](const std::vector<at::Tensor>& in) { return attn.forward(in[0], in[1]); },
                          {x, context}, attn);
}

UNetDownBlockImpl::UNetDownBlockImpl(int64_t in_channels, int64_t out_channels, bool add_downsample,
                                     int64_t downsample_padding, const BlockOptions& o) {
  resnets = register_module("resnets", torch::nn::ModuleList());
  if (o.cross_attention) attentions = register_module("attentions", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    resnets->push_back(MakeResnet(i == 0 ? in_channels : out_channels, out_channels, o));
    if (o.cross_attention) attentions->push_back(MakeTransformer(out_channels, o));
  }
  if (add_downsample) {
    downsamplers = register_module("downsamplers", torch::nn::ModuleList());
    downsamplers->push_back(Downsample2D(out_channels, downsample_padding));
  }
}

DownBlockOutput UNetDownBlockImpl::forward(const at::Tensor& x, const at::Tensor& temb,
                                           const at::Tensor& context) {
  DownBlockOutput out;
  at::Tensor h = x;
  for (size_t i = 0; i < resnets->size(); ++i) {
    h = RunResnet(*resnets[i]->as<ResnetBlock2DImpl>(), h, temb, gradient_checkpointing);  // [B, Cout, H, W]
    if (attentions) {
      h = RunAttention(*attentions[i]->as<Transformer2DModelImpl>(), h, context, gradient_checkpointing);
    }
    out.skips.push_back(h);
  }
  if (downsamplers) {
    h = downsamplers[0]->as<Downsample2DImpl>()->forward(h);  // [B, Cout, ceil(H/2), ceil(W/2)]
    out.skips.push_back(h);
  }
  out.hidden = h;
  return out;
}

UNetMidBlock2DCrossAttnImpl::UNetMidBlock2DCrossAttnImpl(int64_t channels, const BlockOptions& o) {
  resnets = register_module("resnets", torch::nn::ModuleList());
  attentions = register_module("attentions", torch::nn::ModuleList());
  resnets->push_back(MakeResnet(channels, channels, o));
  for (int64_t i = 0; i < o.num_layers; ++i) {
    attentions->push_back(MakeTransformer(channels, o));
    resnets->push_back(MakeResnet(channels, channels, o));
  }
}

at::Tensor UNetMidBlock2DCrossAttnImpl::forward(const at::Tensor& x, const at::Tensor& temb,
                                                const at::Tensor& context) {
  at::Tensor h = RunResnet(*resnets[0]->as<ResnetBlock2DImpl>(), x, temb, gradient_checkpointing);
  for (size_t i = 0; i < attentions->size(); ++i) {
    h = RunAttention(*attentions[i]->as<Transformer2DModelImpl>(), h, context, gradient_checkpointing);
    h = RunResnet(*resnets[i + 1]->as<ResnetBlock2DImpl>(), h, temb, gradient_checkpointing);
  }
  return h;
}

UNetUpBlockImpl::UNetUpBlockImpl(int64_t in_channels, int64_t prev_output_channels, int64_t out_channels,
                                 bool add_upsample, const BlockOptions& o) {
  resnets = register_module("resnets", torch::nn::ModuleList());
  if (o.cross_attention) attentions = register_module("attentions", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.num_layers; ++i) {
    const int64_t skip_channels = i == o.num_layers - 1 ? in_channels : out_channels;
    const int64_t resnet_in = i == 0 ? prev_output_channels : out_channels;
    resnets->push_back(MakeResnet(resnet_in + skip_channels, out_channels, o));
    if (o.cross_attention) attentions->push_back(MakeTransformer(out_channels, o));
  }
  if (add_upsample) {
    upsamplers = register_module("upsamplers", torch::nn::ModuleList());
    upsamplers->push_back(Upsample2D(out_channels));
  }
}

at::Tensor UNetUpBlockImpl::forward(const at::Tensor& x, std::vector<at::Tensor> skips, const at::Tensor& temb,
                                    const at::Tensor& context, std::optional<std::vector<int64_t>> upsample_size) {
  at::Tensor h = x;
  for (size_t i = 0; i < resnets->size(); ++i) {
    at::Tensor skip = skips.back();  // [B, Cskip, H, W]
    skips.pop_back();
    h = torch::cat({h, skip}, 1);  // [B, Ch + Cskip, H, W]
    h = RunResnet(*resnets[i]->as<ResnetBlock2DImpl>(), h, temb, gradient_checkpointing);
    if (attentions) {
      h = RunAttention(*attentions[i]->as<Transformer2DModelImpl>(), h, context, gradient_checkpointing);
    }
  }
  if (upsamplers) h = upsamplers[0]->as<Upsample2DImpl>()->forward(h, upsample_size);  // [B, C, 2H, 2W]
  return h;
}

}  // namespace dreamshot::models::unet
