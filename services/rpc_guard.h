// What every RPC goes through: the bearer-token check, exception safety and
// the absl -> grpc status mapping. Service methods are written as
//   return Unary(context, guard_, [&] { ...; return absl::OkStatus(); });
// so no method can forget authentication or pick a status code ad hoc.
#ifndef DREAMSHOT_SERVICES_RPC_GUARD_H_
#define DREAMSHOT_SERVICES_RPC_GUARD_H_

#include <grpcpp/support/server_callback.h>
#include <grpcpp/server_context.h>

#include <exception>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "core/exception_text.h"
#include "rpc/grpc_status.h"

namespace dreamshot::services {

class RpcGuard {
 public:
  // An empty token disables authentication.
  explicit RpcGuard(std::string bearer_token) : token_(std::move(bearer_token)) {}

  // UNAUTHENTICATED unless the call carries "authorization: Bearer <token>".
  absl::Status Authenticate(const grpc::CallbackServerContext& context) const;
  // The same check on the value of the call's "authorization" header
  // (nullopt: the header is missing). services/bearer_auth.h runs it on the
  // headers before gRPC reads a message.
  absl::Status AuthenticateHeader(std::optional<absl::string_view> authorization) const;
  bool enabled() const { return !token_.empty(); }

 private:
  std::string token_;
};

// Runs `fn` (returning absl::Status) if the call is authenticated and
// finishes the call with its status. Exceptions become INTERNAL with one
// line of their message (a LibTorch backtrace goes to the server log only).
template <typename Fn>
grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context, const RpcGuard& guard,
                                Fn&& fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::Status status = guard.Authenticate(*context);
  if (status.ok()) {
    try {
      status = fn();
    } catch (const std::exception& e) {
      status = absl::InternalError(
          absl::StrCat("unexpected error: ", core::ReportUnexpectedException(e, "RPC handler")));
    }
  }
  reactor->Finish(rpc::ToGrpcStatus(status));
  return reactor;
}

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_RPC_GUARD_H_
