#include "rpc/grpc_status.h"

#include <string>

#include <gtest/gtest.h>

namespace dreamshot::rpc {
namespace {

TEST(GrpcStatusTest, OkBothWays) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(GrpcStatusTest, EveryCodeRoundTripsWithItsMessage) {
  for (int code = 1; code <= static_cast<int>(absl::StatusCode::kUnauthenticated); ++code) {
    const absl::Status status(static_cast<absl::StatusCode>(code), "run 7: no such metric");
    const grpc::Status wire = ToGrpcStatus(status);
    EXPECT_EQ(static_cast<int>(wire.error_code()), code);
    EXPECT_EQ(wire.error_message(), "run 7: no such metric");
    EXPECT_EQ(FromGrpcStatus(wire), status) << code;
  }
}

TEST(GrpcStatusTest, UnknownCodeFromTheWireIsUnknown) {
  const absl::Status status = FromGrpcStatus(grpc::Status(static_cast<grpc::StatusCode>(99), "odd"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnknown);
  EXPECT_EQ(status.message(), "odd");
}

TEST(GrpcStatusTest, LongMessageIsCappedOnACharacterBoundary) {
  // 1999 ASCII bytes, then two-byte characters: byte 2000 is a continuation byte.
  std::string utf8 = std::string(1999, 'x');
  for (int i = 0; i < 500; ++i) utf8 += "\xC3\xA9";  // é
  const grpc::Status wire = ToGrpcStatus(absl::InvalidArgumentError(utf8));
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const std::string& got = wire.error_message();
  EXPECT_EQ(got.substr(0, 1999), std::string(1999, 'x'));
  // The cut moves back to the start of the é that straddles byte 2000.
  EXPECT_EQ(got.substr(1999), "\xE2\x80\xA6 (1000 more bytes)");
}

}  // namespace
}  // namespace dreamshot::rpc
