#include "services/bearer_auth.h"

#include <grpcpp/security/auth_metadata_processor.h>

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rpc/grpc_status.h"

namespace dreamshot::services {

using rpc::ToGrpcStatus;

namespace {

class BearerTokenProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit BearerTokenProcessor(const RpcGuard* guard) : guard_(guard) {}

  // A string comparison: run it inline on gRPC's thread, not on a pool.
  bool IsBlocking() const override { return false; }

  // The header is left in place (not "consumed"), so RpcGuard sees it too.
  grpc::Status Process(const InputMetadata& metadata, grpc::AuthContext*, OutputMetadata*,
                       OutputMetadata*) override {
    std::optional<absl::string_view> authorization;
    if (auto it = metadata.find("authorization"); it != metadata.end()) {
      authorization = absl::string_view(it->second.data(), it->second.size());
    }
    return ToGrpcStatus(guard_->AuthenticateHeader(authorization));
  }

 private:
  const RpcGuard* guard_;
};

}  // namespace

std::shared_ptr<grpc::ServerCredentials> ListenerCredentials(const RpcGuard* guard) {
  if (!guard->enabled()) return grpc::InsecureServerCredentials();
  // grpc::InsecureServerCredentials() cannot take a metadata processor (it
  // asserts); the xDS credentials with insecure fallback are the same
  // plaintext listener when no xDS certificate provider is configured (a
  // plain ServerBuilder configures none), and they accept one.
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::XdsServerCredentials(grpc::InsecureServerCredentials());
  credentials->SetAuthMetadataProcessor(std::make_shared<BearerTokenProcessor>(guard));
  return credentials;
}

}  // namespace dreamshot::services
