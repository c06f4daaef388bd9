// A one-line progress bar on a terminal ("[#####.....] 12/20 denoising,
// 8s left"), redrawn in place; on a pipe or file it prints a line only when
// the stage changes or another tenth is done, so logs stay short.
#ifndef DREAMSHOT_CLI_PROGRESS_BAR_H_
#define DREAMSHOT_CLI_PROGRESS_BAR_H_

#include <cstdint>
#include <ostream>
#include <string>

namespace dreamshot::cli {

class ProgressBar {
 public:
  ProgressBar(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}
  ~ProgressBar() { Clear(); }

  void Update(int64_t done, int64_t total, const std::string& stage, double eta_s, int queue_position = 0);
  // Removes the bar (on a terminal) so that other output starts on a clean line.
  void Clear();

  // The bar's text, without terminal control characters.
  static std::string Render(int64_t done, int64_t total, const std::string& stage, double eta_s,
                            int queue_position, int width = 30);

 private:
  std::ostream& out_;
  const bool terminal_;
  bool drawn_ = false;
  std::string last_stage_;
  int64_t last_tenth_ = -1;
};

}  // namespace dreamshot::cli

#endif  // DREAMSHOT_CLI_PROGRESS_BAR_H_
