// One interface for every noise scheduler (DESIGN: schedulers know nothing
// of models). A sampling loop is
//   scheduler->SetTimesteps(n);
//   x = noise * scheduler->init_noise_sigma();
//   for i in 0..num_steps(): eps = unet(ScaleModelInput(x, i), timesteps()[i]);
//                            x = Step(eps, i, x, &noise);
// Steps are addressed by index, not by timestep value, so schedulers whose
// timesteps repeat (PNDM) need no lookup; multistep schedulers require the
// indices in order. Training uses AddNoise/GetVelocity/TrainingTarget.
#ifndef DREAMSHOT_DIFFUSION_SCHEDULERS_SCHEDULER_H_
#define DREAMSHOT_DIFFUSION_SCHEDULERS_SCHEDULER_H_

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "diffusion/schedulers/scheduler_config.h"

namespace dreamshot::diffusion {

// Where stochastic steps (Euler ancestral, DDIM with eta > 0, DDPM) get
// their N(0, 1) noise. Draws happen on the CPU, so a seed gives the same
// numbers on every device; the result is moved to the sample's device and
// dtype.
class NoiseSource {
 public:
  virtual ~NoiseSource() = default;
  virtual at::Tensor NoiseLike(const at::Tensor& like) = 0;
};

// All noise from one generator.
class GeneratorNoise final : public NoiseSource {
 public:
  explicit GeneratorNoise(at::Generator generator) : generator_(std::move(generator)) {}
  at::Tensor NoiseLike(const at::Tensor& like) override;

 private:
  at::Generator generator_;
};

// Sample k of the batch from generators[k], so that a sample's noise does
// not depend on what else is in its batch (the pipeline's per-image seeds).
class PerSampleNoise final : public NoiseSource {
 public:
  explicit PerSampleNoise(std::vector<at::Generator> generators) : generators_(std::move(generators)) {}
  at::Tensor NoiseLike(const at::Tensor& like) override;  // like.size(0) == number of generators

 private:
  std::vector<at::Generator> generators_;
};

class Scheduler {
 public:
  virtual ~Scheduler() = default;

  // diffusers' class name, e.g. "DDIMScheduler".
  virtual std::string name() const = 0;

  // Prepares `num_inference_steps` denoising steps and clears any history.
  virtual absl::Status SetTimesteps(int64_t num_inference_steps) = 0;
  // What the model is given at each step ([num_steps()]: int64, or float32
  // for the sigma-based Euler schedulers, as upstream).
  const at::Tensor& timesteps() const { return timesteps_; }
  int64_t num_steps() const { return timesteps_.defined() ? timesteps_.size(0) : 0; }

  // Scale of the initial noise (1 for DDIM-style, σ_max-based for Euler).
  virtual double init_noise_sigma() const { return 1.0; }
  // The model input at step i (Euler divides by sqrt(σ² + 1)).
  virtual at::Tensor ScaleModelInput(const at::Tensor& sample, int64_t step_index) const;
  // x_{i+1} from the model output at step i. `noise` serves stochastic
  // steps; nullptr draws from LibTorch's default CPU generator.
  virtual absl::StatusOr<at::Tensor> Step(const at::Tensor& model_output, int64_t step_index,
                                          const at::Tensor& sample, NoiseSource* noise = nullptr) = 0;

  // Forward process at integer training timesteps ([B], one per sample):
  // sqrt(ᾱ)·x0 + sqrt(1-ᾱ)·noise.
  at::Tensor AddNoise(const at::Tensor& original, const at::Tensor& noise, const at::Tensor& timesteps) const;
  // v = sqrt(ᾱ)·noise − sqrt(1-ᾱ)·x0 (Salimans & Ho 2022).
  at::Tensor GetVelocity(const at::Tensor& original, const at::Tensor& noise, const at::Tensor& timesteps) const;
  // What a model of this prediction type is trained to output: the noise,
  // the velocity, or x0.
  at::Tensor TrainingTarget(const at::Tensor& original, const at::Tensor& noise, const at::Tensor& timesteps) const;

  const SchedulerConfig& config() const { return config_; }
  const NoiseSchedule& schedule() const { return schedule_; }

 protected:
  Scheduler(SchedulerConfig config, NoiseSchedule schedule)
      : config_(std::move(config)), schedule_(std::move(schedule)) {}
  // OutOfRange unless 0 ≤ step_index < num_steps() (and SetTimesteps ran).
  absl::Status CheckStepIndex(int64_t step_index) const;
  // ᾱ at training timestep t; the "final" value before timestep 0.
  double AlphaCumprod(int64_t t) const;
  double FinalAlphaCumprod() const;
  // x0 and ε predicted from the model output at ᾱ_t (prediction type aware).
  void PredictOriginalAndNoise(const at::Tensor& model_output, const at::Tensor& sample, double alpha_prod_t,
                               at::Tensor* original, at::Tensor* noise) const;

  SchedulerConfig config_;
  NoiseSchedule schedule_;
  at::Tensor timesteps_;
  int64_t num_inference_steps_ = 0;
};

// noise->NoiseLike(like), or LibTorch's default CPU generator for nullptr.
at::Tensor NoiseLike(const at::Tensor& like, NoiseSource* noise);

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_SCHEDULERS_SCHEDULER_H_
