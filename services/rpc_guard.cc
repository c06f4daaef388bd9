#include "services/rpc_guard.h"

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace dreamshot::services {
namespace {

// Compares without an early exit, so timing does not reveal a token prefix.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  }
  return diff == 0;
}

}  // namespace

absl::Status RpcGuard::Authenticate(const grpc::CallbackServerContext& context) const {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return AuthenticateHeader(std::nullopt);
  return AuthenticateHeader(absl::string_view(it->second.data(), it->second.size()));
}

absl::Status RpcGuard::AuthenticateHeader(std::optional<absl::string_view> authorization) const {
  if (token_.empty()) return absl::OkStatus();
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError("this server requires a bearer token (authorization metadata is missing)");
  }
  constexpr absl::string_view kPrefix = "Bearer ";
  if (!absl::StartsWith(*authorization, kPrefix)) {
    return absl::UnauthenticatedError("authorization metadata must be 'Bearer <token>'");
  }
  if (!ConstantTimeEquals(authorization->substr(kPrefix.size()), token_)) {
    return absl::UnauthenticatedError("invalid bearer token");
  }
  return absl::OkStatus();
}

}  // namespace dreamshot::services
