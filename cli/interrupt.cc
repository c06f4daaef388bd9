#include "cli/interrupt.h"

#include <chrono>

namespace dreamshot::cli {
namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void OnInterrupt(int) { g_interrupted = 1; }

}  // namespace

CancelOnInterrupt::CancelOnInterrupt(grpc::ClientContext* context) {
  g_interrupted = 0;
  previous_ = std::signal(SIGINT, OnInterrupt);
  canceller_ = std::thread([this, context] {
    while (!done_) {
      if (g_interrupted) {
        context->TryCancel();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

CancelOnInterrupt::~CancelOnInterrupt() {
  done_ = true;
  canceller_.join();
  std::signal(SIGINT, previous_);
}

bool CancelOnInterrupt::interrupted() const { return g_interrupted != 0; }

}  // namespace dreamshot::cli
