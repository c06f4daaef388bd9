// Token buckets per key (a client address, a participant): `rate` requests
// per second on average, bursts up to `burst`. Idle keys are forgotten, so
// memory stays bounded by the keys active in the last minute.
#ifndef DREAMSHOT_SERVICES_RATE_LIMITER_H_
#define DREAMSHOT_SERVICES_RATE_LIMITER_H_

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

namespace dreamshot::services {

class RateLimiter {
 public:
  RateLimiter(double rate_per_s, double burst) : rate_(rate_per_s), burst_(burst) {}

  // Takes one token for `key`; false when its bucket is empty, with the
  // seconds until the next token in *retry_after_s (for Retry-After). A rate
  // of 0 or less means no limit.
  bool Allow(const std::string& key, double* retry_after_s = nullptr) {
    if (rate_ <= 0) return true;
    const auto now = Clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    if (now - last_sweep_ > std::chrono::seconds(60)) Sweep(now);
    Bucket& b = buckets_.try_emplace(key, Bucket{burst_, now}).first->second;
    b.tokens = std::min(burst_, b.tokens + rate_ * std::chrono::duration<double>(now - b.updated).count());
    b.updated = now;
    if (b.tokens < 1) {
      if (retry_after_s) *retry_after_s = (1 - b.tokens) / rate_;
      return false;
    }
    b.tokens -= 1;
    return true;
  }

 private:
  using Clock = std::chrono::steady_clock;
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  void Sweep(Clock::time_point now) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      it = now - it->second.updated > std::chrono::seconds(60) ? buckets_.erase(it) : std::next(it);
    }
    last_sweep_ = now;
  }

  const double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
  Clock::time_point last_sweep_ = Clock::now();
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_RATE_LIMITER_H_
