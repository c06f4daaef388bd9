#include "diffusion/schedulers/scheduler.h"

#include <torch/torch.h>

#include <cmath>

#include "absl/strings/str_cat.h"

namespace dreamshot::diffusion {
namespace {

// ᾱ at `timesteps`, shaped [B, 1, 1, ...] to broadcast over `like`.
at::Tensor AlphaBarAt(const at::Tensor& alphas_cumprod, const at::Tensor& timesteps, const at::Tensor& like) {
  at::Tensor a = alphas_cumprod.index_select(0, timesteps.to(torch::kCPU, torch::kLong).reshape({-1}));
  std::vector<int64_t> shape(like.dim(), 1);
  shape[0] = a.size(0);
  return a.view(shape).to(like.device(), like.scalar_type());
}

}  // namespace

at::Tensor Scheduler::ScaleModelInput(const at::Tensor& sample, int64_t /*step_index*/) const { return sample; }

absl::Status Scheduler::CheckStepIndex(int64_t step_index) const {
  if (num_steps() == 0) return absl::FailedPreconditionError(absl::StrCat(name(), ": SetTimesteps was not called"));
  if (step_index < 0 || step_index >= num_steps()) {
    return absl::OutOfRangeError(
        absl::StrCat(name(), ": step index ", step_index, " outside [0, ", num_steps(), ")"));
  }
  return absl::OkStatus();
}

double Scheduler::AlphaCumprod(int64_t t) const {
  return t < 0 ? FinalAlphaCumprod() : schedule_.alphas_cumprod[t].item<float>();
}

double Scheduler::FinalAlphaCumprod() const {
  return config_.set_alpha_to_one ? 1.0 : schedule_.alphas_cumprod[0].item<float>();
}

void Scheduler::PredictOriginalAndNoise(const at::Tensor& model_output, const at::Tensor& sample,
                                        double alpha_prod_t, at::Tensor* original, at::Tensor* noise) const {
  const double beta_prod_t = 1 - alpha_prod_t;
  const double sqrt_a = std::sqrt(alpha_prod_t), sqrt_b = std::sqrt(beta_prod_t);
  switch (config_.prediction_type) {
    case PredictionType::kEpsilon:
      *original = (sample - sqrt_b * model_output) / sqrt_a;
      *noise = model_output;
      break;
    case PredictionType::kSample:
      *original = model_output;
      *noise = (sample - sqrt_a * model_output) / sqrt_b;
      break;
    case PredictionType::kVPrediction:
      *original = sqrt_a * sample - sqrt_b * model_output;
      *noise = sqrt_a * model_output + sqrt_b * sample;
      break;
  }
}

at::Tensor Scheduler::AddNoise(const at::Tensor& original, const at::Tensor& noise,
                               const at::Tensor& timesteps) const {
  const at::Tensor a = AlphaBarAt(schedule_.alphas_cumprod, timesteps, original);
  return a.sqrt() * original + (1 - a).sqrt() * noise;
}

at::Tensor Scheduler::GetVelocity(const at::Tensor& original, const at::Tensor& noise,
                                  const at::Tensor& timesteps) const {
  const at::Tensor a = AlphaBarAt(schedule_.alphas_cumprod, timesteps, original);
  return a.sqrt() * noise - (1 - a).sqrt() * original;
}

at::Tensor Scheduler::TrainingTarget(const at::Tensor& original, const at::Tensor& noise,
                                     const at::Tensor& timesteps) const {
  switch (config_.prediction_type) {
    case PredictionType::kEpsilon:
      return noise;
    case PredictionType::kVPrediction:
      return GetVelocity(original, noise, timesteps);
    case PredictionType::kSample:
      break;
  }
  return original;
}

at::Tensor GeneratorNoise::NoiseLike(const at::Tensor& like) {
  return torch::randn(like.sizes(), generator_, torch::TensorOptions().dtype(torch::kFloat))
      .to(like.device(), like.scalar_type());
}

at::Tensor PerSampleNoise::NoiseLike(const at::Tensor& like) {
  TORCH_CHECK(like.size(0) == static_cast<int64_t>(generators_.size()), "PerSampleNoise: batch of ", like.size(0),
              " for ", generators_.size(), " generators");
  std::vector<int64_t> row_shape = like.sizes().vec();
  row_shape[0] = 1;
  std::vector<at::Tensor> rows;
  rows.reserve(generators_.size());
  for (at::Generator& g : generators_) {
    rows.push_back(torch::randn(row_shape, g, torch::TensorOptions().dtype(torch::kFloat)));
  }
  return torch::cat(rows, 0).to(like.device(), like.scalar_type());
}

at::Tensor NoiseLike(const at::Tensor& like, NoiseSource* noise) {
  if (noise != nullptr) return noise->NoiseLike(like);
  return torch::randn(like.sizes(), torch::TensorOptions().dtype(torch::kFloat)).to(like.device(), like.scalar_type());
}

}  // namespace dreamshot::diffusion
