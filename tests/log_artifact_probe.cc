// A raw unary LogArtifact of N random bytes, for tests/grpc_auth_body_test.sh
// (the CLI never sends one: `artifacts log` streams). Prints "OK artifact
// <id>" or "<CODE>: <message>" and exits 0 once the call has an answer.
//   log_artifact_probe ADDRESS RUN_ID BYTES [TOKEN]
#include <grpcpp/grpcpp.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "dreamshot/v1/experiment.grpc.pb.h"
#include "rpc/grpc_status.h"

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::cerr << "usage: log_artifact_probe ADDRESS RUN_ID BYTES [TOKEN]\n";
    return 2;
  }
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(-1);  // the server, not this client, must refuse
  auto stub = dreamshot::v1::ExperimentService::NewStub(
      grpc::CreateCustomChannel(argv[1], grpc::InsecureChannelCredentials(), args));
  dreamshot::v1::LogArtifactRequest request;
  request.set_run_id(std::strtoll(argv[2], nullptr, 10));
  request.set_kind("probe");
  request.set_path("probe-" + std::string(argv[3]) + ".bin");
  request.mutable_content()->assign(std::strtoull(argv[3], nullptr, 10), '\x5a');
  grpc::ClientContext context;
  if (argc == 5) context.AddMetadata("authorization", std::string("Bearer ") + argv[4]);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
  dreamshot::v1::ArtifactRef ref;
  const grpc::Status status = stub->LogArtifact(&context, request, &ref);
  if (status.ok()) {
    std::cout << "OK artifact " << ref.id() << "\n";
  } else {
    std::cout << dreamshot::rpc::FromGrpcStatus(status).ToString() << "\n";
  }
  return 0;
}
