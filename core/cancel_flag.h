// Asks a long piece of work to stop: the work polls it between steps (a
// denoising step, a video source) and returns CANCELLED.
#ifndef DREAMSHOT_CORE_CANCEL_FLAG_H_
#define DREAMSHOT_CORE_CANCEL_FLAG_H_

#include <atomic>

namespace dreamshot::core {

class CancelFlag {
 public:
  void Cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
};

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_CANCEL_FLAG_H_
