// With --auth_token set, every RPC of every service refuses a call without
// the token. Methods come from the service descriptors, so an RPC added to a
// listed proto file is covered automatically; a new service file is one more
// entry in kServiceProtos.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "dreamshot/v1/experiment.grpc.pb.h"
#include "google/protobuf/descriptor.h"
#include "tests/service_test_util.h"

namespace dreamshot {
namespace {

constexpr char kToken[] = "s3cret-token";

const char* const kServiceProtos[] = {"dreamshot/v1/experiment.proto"};

std::vector<std::string> AllMethods() {
  std::vector<std::string> methods;
  for (const char* name : kServiceProtos) {
    const auto* file = google::protobuf::DescriptorPool::generated_pool()->FindFileByName(name);
    EXPECT_NE(file, nullptr) << name;
    if (file == nullptr) continue;
    for (int s = 0; s < file->service_count(); ++s) {
      const auto* service = file->service(s);
      for (int m = 0; m < service->method_count(); ++m) {
        methods.push_back("/" + service->full_name() + "/" + service->method(m)->name());
      }
    }
  }
  return methods;
}

// Sends an empty request to `method` and returns the final status.
grpc::Status CallRaw(grpc::GenericStub& stub, const std::string& method,
                     const std::string& metadata) {
  grpc::ClientContext ctx;
  if (!metadata.empty()) ctx.AddMetadata("authorization", metadata);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::CompletionQueue cq;
  auto call = stub.PrepareCall(&ctx, method, &cq);
  void* tag;
  bool ok;
  call->StartCall(reinterpret_cast<void*>(1));
  cq.Next(&tag, &ok);
  grpc::ByteBuffer request;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  call->Write(request, grpc::WriteOptions().set_last_message(), reinterpret_cast<void*>(2));
  cq.Next(&tag, &ok);
  grpc::ByteBuffer response;
  call->Read(&response, reinterpret_cast<void*>(3));
  cq.Next(&tag, &ok);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(4));
  while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void*>(4)) {
  }
  return status;
}

TEST(AuthTest, EveryRpcRequiresTheToken) {
  auto server = testing::StartServer(testing::FreshDataDir("auth"), kToken);
  ASSERT_NE(server, nullptr);
  grpc::GenericStub stub(testing::ChannelTo(*server));
  const auto methods = AllMethods();
  ASSERT_GE(methods.size(), 16u);
  for (const std::string& method : methods) {
    for (const std::string& metadata :
         {std::string(), std::string("Bearer wrong"), std::string(kToken)}) {
      grpc::Status s = CallRaw(stub, method, metadata);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << method << " with '" << metadata << "': " << s.error_message();
    }
    // With the token the call gets past authentication (it may still fail
    // validation for an empty request, but never as UNAUTHENTICATED).
    grpc::Status s = CallRaw(stub, method, std::string("Bearer ") + kToken);
    EXPECT_NE(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
  }
}

TEST(AuthTest, NoTokenConfiguredMeansOpenServer) {
  auto server = testing::StartServer(testing::FreshDataDir("open"));
  ASSERT_NE(server, nullptr);
  auto stub = v1::ExperimentService::NewStub(testing::ChannelTo(*server));
  grpc::ClientContext ctx;
  v1::ListExperimentsResponse resp;
  EXPECT_TRUE(stub->ListExperiments(&ctx, {}, &resp).ok());
}

}  // namespace
}  // namespace dreamshot
