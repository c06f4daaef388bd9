// Ctrl-C during a streaming call: the signal handler only sets a flag, and a
// helper thread turns it into a cancellation of the call (after which
// Read() returns false and the server stops the work). The previous SIGINT
// handler is restored on destruction.
#ifndef DREAMSHOT_CLI_INTERRUPT_H_
#define DREAMSHOT_CLI_INTERRUPT_H_

#include <grpcpp/client_context.h>

#include <atomic>
#include <csignal>
#include <thread>

namespace dreamshot::cli {

class CancelOnInterrupt {
 public:
  explicit CancelOnInterrupt(grpc::ClientContext* context);
  ~CancelOnInterrupt();
  CancelOnInterrupt(const CancelOnInterrupt&) = delete;
  CancelOnInterrupt& operator=(const CancelOnInterrupt&) = delete;

  bool interrupted() const;

 private:
  void (*previous_)(int);
  std::atomic<bool> done_{false};
  std::thread canceller_;
};

}  // namespace dreamshot::cli

#endif  // DREAMSHOT_CLI_INTERRUPT_H_
