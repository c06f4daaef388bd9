#include "cli/progress_bar.h"

#include <gtest/gtest.h>

#include <sstream>

namespace dreamshot::cli {
namespace {

TEST(ProgressBarTest, RendersFractionStageAndTimeLeft) {
  EXPECT_EQ(ProgressBar::Render(5, 20, "denoising", 75.4, 0, 20), "[#####...............] 5/20 denoising, 1m15s left");
  EXPECT_EQ(ProgressBar::Render(0, 0, "loading model", 0, 0, 4), "[....] 0/0 loading model");
  EXPECT_EQ(ProgressBar::Render(0, 0, "queued", 0, 2), "queued, 2 job(s) ahead");
  EXPECT_EQ(ProgressBar::Render(30, 20, "denoising", 0, 0, 4), "[####] 30/20 denoising");
}

TEST(ProgressBarTest, OnAPipePrintsOnlyStageChangesAndTenths) {
  std::ostringstream out;
  {
    ProgressBar bar(out, /*terminal=*/false);
    bar.Update(0, 0, "loading model", 0);
    for (int i = 1; i <= 100; ++i) bar.Update(i, 100, "denoising", 0);
  }
  int lines = 0;
  for (char c : out.str()) lines += c == '\n';
  EXPECT_EQ(lines, 1 + 11);  // the load, then 1..9 tenths, 10/10 and the first step
  EXPECT_EQ(out.str().find('\r'), std::string::npos);
}

TEST(ProgressBarTest, OnATerminalRedrawsInPlaceAndClears) {
  std::ostringstream out;
  {
    ProgressBar bar(out, /*terminal=*/true);
    bar.Update(1, 2, "denoising", 0);
  }
  EXPECT_EQ(out.str(), "\r\033[K[###############...............] 1/2 denoising\r\033[K");
}

}  // namespace
}  // namespace dreamshot::cli
