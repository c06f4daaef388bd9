// The one mapping between absl::Status and grpc::Status, code for code.
// Shared by services/ (replies) and cli/ (reading them); gRPC + Abseil only.
#ifndef DREAMSHOT_RPC_GRPC_STATUS_H_
#define DREAMSHOT_RPC_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace dreamshot::rpc {

// The same code; the message capped at 2000 bytes (whole UTF-8 characters)
// with a note of how many bytes were cut, as gRPC drops calls whose
// headers pass 8 KiB.
grpc::Status ToGrpcStatus(const absl::Status& status);
// The same code; a code outside absl's range becomes kUnknown.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace dreamshot::rpc

#endif  // DREAMSHOT_RPC_GRPC_STATUS_H_
