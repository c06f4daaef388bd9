// Unexpected exceptions reach clients as one line: a real LibTorch error's
// backtrace (frames, memory addresses) is not in the message a job ends
// with (jobs/job_exception_test.cc checks that through a job).
#include "core/exception_text.h"

#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>


namespace dreamshot::core {
namespace {

TEST(ExceptionTextTest, OneLineMessageKeepsTheFirstLine) {
  EXPECT_EQ(OneLineMessage("boom\nException raised from f at x.cpp:1 (most recent call first):\nframe #0: f + 0x57"),
            "boom");
  EXPECT_EQ(OneLineMessage("  spaced  "), "spaced");
  EXPECT_EQ(OneLineMessage(""), "unknown error");
  EXPECT_EQ(OneLineMessage(std::string(400, 'x')), std::string(300, 'x') + "…");
}

TEST(ExceptionTextTest, ReportKeepsOneLineOfALibTorchError) {
  // The precondition: what() of a c10::Error carries the backtrace.
  std::string full;
  try {
    TORCH_CHECK(false, "tensor too large");
  } catch (const c10::Error& e) {
    full = e.what();
    EXPECT_EQ(ReportUnexpectedException(e, "test"), "tensor too large");
  }
  ASSERT_NE(full.find('\n'), std::string::npos) << full;
}

}  // namespace
}  // namespace dreamshot::core
