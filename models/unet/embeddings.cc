#include "models/unet/embeddings.h"

#include <torch/torch.h>

#include <cmath>

namespace dreamshot::models::unet {

at::Tensor GetTimestepEmbedding(const at::Tensor& timesteps, int64_t embedding_dim, bool flip_sin_to_cos,
                                double downscale_freq_shift, double scale, double max_period) {
  TORCH_CHECK(timesteps.dim() == 1, "timesteps must be 1-D, got ", timesteps.sizes());
  const int64_t half_dim = embedding_dim / 2;
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat).device(timesteps.device());
  // float32 throughout, as upstream: the double scalars are applied to float32 tensors.
  torch::Tensor exponent = torch::arange(0, half_dim, f32) * (-std::log(max_period));  // [half]
  exponent = exponent / (static_cast<double>(half_dim) - downscale_freq_shift);
  torch::Tensor freqs = torch::exp(exponent);                                          // [half]
  torch::Tensor emb = timesteps.unsqueeze(1).to(torch::kFloat) * freqs.unsqueeze(0);   // [N, half]
  emb = scale * emb;
  emb = torch::cat({torch::sin(emb), torch::cos(emb)}, -1);  // [N, 2*half]
  if (flip_sin_to_cos) {
    emb = torch::cat({emb.narrow(1, half_dim, half_dim), emb.narrow(1, 0, half_dim)}, -1);
  }
  if (embedding_dim % 2 == 1) emb = torch::constant_pad_nd(emb, {0, 1, 0, 0}, 0);
  return emb;
}

TimestepEmbeddingImpl::TimestepEmbeddingImpl(int64_t in_channels, int64_t time_embed_dim) {
  linear_1 = register_module("linear_1", torch::nn::Linear(in_channels, time_embed_dim));
  linear_2 = register_module("linear_2", torch::nn::Linear(time_embed_dim, time_embed_dim));
}

at::Tensor TimestepEmbeddingImpl::forward(const at::Tensor& sample) {
  return linear_2(torch::silu(linear_1(sample)));
}

}  // namespace dreamshot::models::unet
