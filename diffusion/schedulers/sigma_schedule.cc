#include "diffusion/schedulers/sigma_schedule.h"

#include <algorithm>
#include <cmath>

namespace dreamshot::diffusion {

std::vector<double> InterpolateSigmas(const std::vector<double>& train_sigmas, const std::vector<double>& timesteps) {
  const int64_t last = static_cast<int64_t>(train_sigmas.size()) - 1;
  std::vector<double> out;
  out.reserve(timesteps.size());
  for (double t : timesteps) {
    if (t <= 0) {
      out.push_back(train_sigmas.front());
    } else if (t >= last) {
      out.push_back(train_sigmas.back());
    } else {
      const int64_t lo = static_cast<int64_t>(std::floor(t));
      const double w = t - lo;
      out.push_back(train_sigmas[lo] + w * (train_sigmas[lo + 1] - train_sigmas[lo]));
    }
  }
  return out;
}

std::vector<double> KarrasSigmas(double sigma_min, double sigma_max, int64_t n) {
  constexpr double kRho = 7.0;
  const double min_inv = std::pow(sigma_min, 1 / kRho), max_inv = std::pow(sigma_max, 1 / kRho);
  std::vector<double> sigmas(n);
  for (int64_t i = 0; i < n; ++i) {
    const double ramp = n == 1 ? 0.0 : static_cast<double>(i) / (n - 1);
    sigmas[i] = std::pow(max_inv + ramp * (min_inv - max_inv), kRho);
  }
  return sigmas;
}

double SigmaToTimestep(double sigma, const std::vector<double>& log_train_sigmas) {
  const double log_sigma = std::log(std::max(sigma, 1e-10));
  const int64_t n = static_cast<int64_t>(log_train_sigmas.size());
  // The last index whose log σ is ≤ log_sigma (log σ grows with t), kept
  // one below the end so that [low, low + 1] is an interval.
  int64_t low = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (log_sigma - log_train_sigmas[i] >= 0) low = i;
  }
  low = std::min(low, n - 2);
  const double lo = log_train_sigmas[low], hi = log_train_sigmas[low + 1];
  const double w = std::clamp((lo - log_sigma) / (lo - hi), 0.0, 1.0);
  return (1 - w) * low + w * (low + 1);
}

}  // namespace dreamshot::diffusion
