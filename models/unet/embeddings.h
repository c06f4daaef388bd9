// Timestep embeddings as in diffusers' embeddings.py: the sinusoidal
// `get_timestep_embedding` (Timesteps, "time_proj") and TimestepEmbedding
// (linear_1 → SiLU → linear_2, "time_embedding"). Module classes: for model
// .cc files only.
#ifndef DREAMSHOT_MODELS_UNET_EMBEDDINGS_H_
#define DREAMSHOT_MODELS_UNET_EMBEDDINGS_H_

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

namespace dreamshot::models::unet {

// timesteps: [N] (any numeric dtype) → [N, embedding_dim] float32.
// exponent = -ln(max_period) * arange(half) / (half - downscale_freq_shift),
// emb = t * exp(exponent) * scale, [sin, cos] (or [cos, sin] when
// flip_sin_to_cos), zero-padded by one column when embedding_dim is odd.
// Computed in float32 as upstream; callers cast to the model dtype.
at::Tensor GetTimestepEmbedding(const at::Tensor& timesteps, int64_t embedding_dim, bool flip_sin_to_cos,
                                double downscale_freq_shift, double scale = 1.0, double max_period = 10000.0);

// linear_1(in → out), SiLU, linear_2(out → out).
struct TimestepEmbeddingImpl : torch::nn::Module {
  TimestepEmbeddingImpl(int64_t in_channels, int64_t time_embed_dim);
  at::Tensor forward(const at::Tensor& sample);  // [N, in] → [N, time_embed_dim]
  torch::nn::Linear linear_1{nullptr}, linear_2{nullptr};
};
TORCH_MODULE(TimestepEmbedding);

}  // namespace dreamshot::models::unet

#endif  // DREAMSHOT_MODELS_UNET_EMBEDDINGS_H_
