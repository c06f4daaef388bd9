// The one mapping between absl::Status and grpc::Status, code for code.
#ifndef DREAMSHOT_SERVICES_GRPC_STATUS_H_
#define DREAMSHOT_SERVICES_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace dreamshot::services {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_GRPC_STATUS_H_
