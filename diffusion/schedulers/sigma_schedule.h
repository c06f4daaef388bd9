// Noise levels σ = sqrt((1-ᾱ)/ᾱ) for the samplers that work in σ (Euler,
// Euler ancestral, DPM-Solver): sampling the training σ at fractional
// timesteps, Karras et al. (2022)'s ρ = 7 spacing, and back from σ to a
// (fractional) timestep. numpy semantics, as diffusers computes them.
#ifndef DREAMSHOT_DIFFUSION_SCHEDULERS_SIGMA_SCHEDULE_H_
#define DREAMSHOT_DIFFUSION_SCHEDULERS_SIGMA_SCHEDULE_H_

#include <cstdint>
#include <vector>

namespace dreamshot::diffusion {

// np.interp(timesteps, arange(len(train_sigmas)), train_sigmas).
std::vector<double> InterpolateSigmas(const std::vector<double>& train_sigmas, const std::vector<double>& timesteps);

// n noise levels from sigma_max down to sigma_min, evenly spaced in σ^(1/7).
std::vector<double> KarrasSigmas(double sigma_min, double sigma_max, int64_t n);

// The fractional timestep whose log σ interpolates to log(sigma) (clamped to
// the training range).
double SigmaToTimestep(double sigma, const std::vector<double>& log_train_sigmas);

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_SCHEDULERS_SIGMA_SCHEDULE_H_
