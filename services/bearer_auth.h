// The bearer-token check on a call's headers, inside gRPC's transport,
// before any of the call's message bytes are read.
//
// Why: gRPC 1.51 reads a unary request's whole message (and for a message
// over the receive limit, the whole oversized message, which it then
// refuses) before any service code runs, so a check in the service
// (RpcGuard) comes after the server has buffered whatever an unauthenticated
// client chose to send. An AuthMetadataProcessor runs on the headers and
// fails the call there: the stream is reset and its message never read.
// RpcGuard stays in every method as the second line (and for the servers
// built without this, e.g. a future listener).
#ifndef DREAMSHOT_SERVICES_BEARER_AUTH_H_
#define DREAMSHOT_SERVICES_BEARER_AUTH_H_

#include <grpcpp/security/server_credentials.h>

#include <memory>

#include "services/rpc_guard.h"

namespace dreamshot::services {

// Credentials for the gRPC listener: plaintext, and when `guard` checks a
// token, with the check on the headers. `guard` must outlive the server.
std::shared_ptr<grpc::ServerCredentials> ListenerCredentials(const RpcGuard* guard);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_BEARER_AUTH_H_
