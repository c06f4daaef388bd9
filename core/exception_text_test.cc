// Unexpected exceptions reach clients as one line: a real LibTorch error's
// backtrace (frames, memory addresses) is not in the message a job ends with.
#include "core/exception_text.h"

#include <c10/util/Exception.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "core/work_queue.h"

namespace dreamshot::core {
namespace {

TEST(ExceptionTextTest, OneLineMessageKeepsTheFirstLine) {
  EXPECT_EQ(OneLineMessage("boom\nException raised from f at x.cpp:1 (most recent call first):\nframe #0: f + 0x57"),
            "boom");
  EXPECT_EQ(OneLineMessage("  spaced  "), "spaced");
  EXPECT_EQ(OneLineMessage(""), "unknown error");
  EXPECT_EQ(OneLineMessage(std::string(400, 'x')), std::string(300, 'x') + "…");
}

TEST(ExceptionTextTest, LibTorchErrorThrownInAJobEndsWithoutItsBacktrace) {
  // The precondition: what() of a c10::Error carries the backtrace.
  std::string full;
  try {
    TORCH_CHECK(false, "tensor too large");
  } catch (const c10::Error& e) {
    full = e.what();
  }
  ASSERT_NE(full.find("tensor too large"), std::string::npos);
  ASSERT_NE(full.find('\n'), std::string::npos) << full;

  WorkQueue queue("test queue", 4);
  auto handle = queue.Submit([](const CancelFlag&) -> absl::Status {
    TORCH_CHECK(false, "tensor too large");
    return absl::OkStatus();
  });
  ASSERT_TRUE(handle.ok()) << handle.status();
  const absl::Status status = (*handle)->Wait();
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  const std::string message(status.message());
  EXPECT_NE(message.find("tensor too large"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.find("frame #"), std::string::npos) << message;
  EXPECT_EQ(message.find("0x"), std::string::npos) << message;
  EXPECT_EQ(message.find("Exception raised from"), std::string::npos) << message;
}

TEST(ExceptionTextTest, OtherExceptionsKeepTheirMessage) {
  WorkQueue queue("test queue", 4);
  auto handle = queue.Submit([](const CancelFlag&) -> absl::Status { throw std::runtime_error("disk on fire"); });
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ((*handle)->Wait().message(), "job failed with an unexpected error: disk on fire");
}

}  // namespace
}  // namespace dreamshot::core
