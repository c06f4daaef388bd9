#include "cli/progress_bar.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace dreamshot::cli {
namespace {

std::string Duration(double seconds) {
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrCat(s / 60, "m", s % 60 < 10 ? "0" : "", s % 60, "s");
  return absl::StrCat(s / 3600, "h", (s % 3600) / 60 < 10 ? "0" : "", (s % 3600) / 60, "m");
}

}  // namespace

std::string ProgressBar::Render(int64_t done, int64_t total, const std::string& stage, double eta_s,
                                int queue_position, int width) {
  if (stage == "queued") return absl::StrCat("queued, ", queue_position, " job(s) ahead");
  const double fraction = total > 0 ? std::clamp(static_cast<double>(done) / total, 0.0, 1.0) : 0.0;
  const int filled = static_cast<int>(fraction * width);
  std::string out = absl::StrCat("[", std::string(filled, '#'), std::string(width - filled, '.'), "] ", done, "/",
                                 total, " ", stage);
  if (eta_s > 0) absl::StrAppend(&out, ", ", Duration(eta_s), " left");
  return out;
}

void ProgressBar::Update(int64_t done, int64_t total, const std::string& stage, double eta_s, int queue_position) {
  const std::string text = Render(done, total, stage, eta_s, queue_position);
  if (terminal_) {
    out_ << "\r\033[K" << text << std::flush;
    drawn_ = true;
    return;
  }
  const int64_t tenth = total > 0 ? done * 10 / total : 0;
  if (stage == last_stage_ && tenth == last_tenth_) return;
  last_stage_ = stage;
  last_tenth_ = tenth;
  out_ << text << "\n" << std::flush;
}

void ProgressBar::Clear() {
  if (terminal_ && drawn_) out_ << "\r\033[K" << std::flush;
  drawn_ = false;
}

}  // namespace dreamshot::cli
