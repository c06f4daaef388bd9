// ExperimentService.GetArtifact end to end: a real server on a loopback
// port, artifacts uploaded with LogArtifact and streamed back in chunks, by
// path and by id, and the errors for unknown runs and artifacts and for
// blobs that are gone or damaged on the server's disk.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "dreamshot/v1/experiment.grpc.pb.h"
#include "tests/service_test_util.h"

namespace dreamshot {
namespace {

using ::testing::HasSubstr;
namespace v1 = ::dreamshot::v1;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// What one GetArtifact call returned.
struct Download {
  grpc::Status status;
  std::vector<v1::GetArtifactResponse> messages;
  std::string bytes;  // every message's data, in order
};

class ArtifactDownloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = testing::FreshDataDir("artifact-download");
    server_ = testing::StartServer(data_dir_);
    ASSERT_NE(server_, nullptr);
    stub_ = v1::ExperimentService::NewStub(testing::ChannelTo(*server_));
    run_ = CreateRun("first");
    other_run_ = CreateRun("second");
  }

  int64_t CreateRun(const std::string& name) {
    grpc::ClientContext ctx;
    v1::CreateRunRequest req;
    req.set_experiment_name("downloads");
    req.set_name(name);
    if (name == "first") {  // the experiment, once
      grpc::ClientContext ectx;
      v1::CreateExperimentRequest ereq;
      ereq.set_name("downloads");
      v1::Experiment e;
      EXPECT_TRUE(stub_->CreateExperiment(&ectx, ereq, &e).ok());
    }
    v1::Run run;
    grpc::Status s = stub_->CreateRun(&ctx, req, &run);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return run.id();
  }

  v1::ArtifactRef Upload(int64_t run, const std::string& path, const std::string& bytes) {
    grpc::ClientContext ctx;
    v1::LogArtifactRequest req;
    req.set_run_id(run);
    req.set_kind("checkpoint");
    req.set_path(path);
    req.set_content(bytes);
    v1::ArtifactRef ref;
    grpc::Status s = stub_->LogArtifact(&ctx, req, &ref);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return ref;
  }

  Download Get(const v1::GetArtifactRequest& request) {
    grpc::ClientContext ctx;
    Download d;
    auto reader = stub_->GetArtifact(&ctx, request);
    v1::GetArtifactResponse message;
    while (reader->Read(&message)) {
      d.bytes += message.data();
      d.messages.push_back(message);
    }
    d.status = reader->Finish();
    return d;
  }
  Download GetByPath(int64_t run, const std::string& path) {
    v1::GetArtifactRequest request;
    request.set_run_id(run);
    request.set_path(path);
    return Get(request);
  }
  Download GetById(int64_t run, int64_t id) {
    v1::GetArtifactRequest request;
    request.set_run_id(run);
    request.set_artifact_id(id);
    return Get(request);
  }

  static std::string BlobPath(const v1::ArtifactRef& ref) { return ref.uri().substr(std::string("file://").size()); }

  std::string data_dir_;
  std::unique_ptr<services::DreamshotServer> server_;
  std::unique_ptr<v1::ExperimentService::Stub> stub_;
  int64_t run_ = 0, other_run_ = 0;
};

TEST_F(ArtifactDownloadTest, ALargeArtifactComesBackInOrderedChunksWithItsRecord) {
  const std::string bytes = RandomBytes((5 << 20) / 2 + 123, 1);  // 2.5 MiB + 123: three chunks
  const v1::ArtifactRef ref = Upload(run_, "ckpt/final.bin", bytes);

  const Download d = GetByPath(run_, "ckpt/final.bin");
  ASSERT_TRUE(d.status.ok()) << d.status.error_message();
  ASSERT_EQ(d.messages.size(), 3u);
  EXPECT_TRUE(d.bytes == bytes) << "the bytes differ (" << d.bytes.size() << " of " << bytes.size() << ")";
  const v1::ArtifactRef& first = d.messages[0].artifact();
  EXPECT_EQ(first.id(), ref.id());
  EXPECT_EQ(first.run_id(), run_);
  EXPECT_EQ(first.path(), "ckpt/final.bin");
  EXPECT_EQ(first.sha256(), ref.sha256());
  EXPECT_EQ(first.size_bytes(), static_cast<int64_t>(bytes.size()));
  int64_t offset = 0;
  for (size_t i = 0; i < d.messages.size(); ++i) {
    EXPECT_EQ(d.messages[i].offset(), offset) << "message " << i;
    EXPECT_LE(d.messages[i].data().size(), size_t{1} << 20) << "message " << i;
    EXPECT_EQ(d.messages[i].has_artifact(), i == 0) << "the record comes once, first";
    offset += static_cast<int64_t>(d.messages[i].data().size());
  }

  const Download by_id = GetById(run_, ref.id());
  ASSERT_TRUE(by_id.status.ok()) << by_id.status.error_message();
  EXPECT_TRUE(by_id.bytes == bytes);
}

TEST_F(ArtifactDownloadTest, AnEmptyArtifactIsOneMessageWithItsRecord) {
  const v1::ArtifactRef ref = Upload(run_, "empty.txt", "");
  const Download d = GetByPath(run_, "empty.txt");
  ASSERT_TRUE(d.status.ok()) << d.status.error_message();
  ASSERT_EQ(d.messages.size(), 1u);
  EXPECT_EQ(d.messages[0].artifact().id(), ref.id());
  EXPECT_EQ(d.messages[0].artifact().size_bytes(), 0);
  EXPECT_TRUE(d.bytes.empty());
}

TEST_F(ArtifactDownloadTest, UnknownRunsAndArtifactsAreNotFound) {
  const v1::ArtifactRef mine = Upload(run_, "a.bin", RandomBytes(100, 2));
  const v1::ArtifactRef theirs = Upload(other_run_, "b.bin", RandomBytes(100, 3));

  Download d = GetByPath(999999, "a.bin");
  EXPECT_EQ(d.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(d.status.error_message(), HasSubstr("999999"));
  EXPECT_TRUE(d.messages.empty());

  d = GetByPath(run_, "no/such.bin");
  EXPECT_EQ(d.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(d.status.error_message(), HasSubstr("no/such.bin"));

  d = GetByPath(run_, "b.bin");  // another run's path
  EXPECT_EQ(d.status.error_code(), grpc::StatusCode::NOT_FOUND);

  d = GetById(run_, theirs.id());  // another run's artifact: not reachable through this run
  EXPECT_EQ(d.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(d.status.error_message(), HasSubstr(std::to_string(theirs.id())));
  EXPECT_TRUE(d.messages.empty());

  d = GetById(run_, 987654);
  EXPECT_EQ(d.status.error_code(), grpc::StatusCode::NOT_FOUND);

  d = GetById(999999, mine.id());
  EXPECT_EQ(d.status.error_code(), grpc::StatusCode::NOT_FOUND);

  v1::GetArtifactRequest unnamed;
  unnamed.set_run_id(run_);
  EXPECT_EQ(Get(unnamed).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::GetArtifactRequest no_run;
  no_run.set_path("a.bin");
  EXPECT_EQ(Get(no_run).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ArtifactDownloadTest, ABlobGoneOrDamagedOnDiskIsDataLossNamingTheFile) {
  const v1::ArtifactRef gone = Upload(run_, "gone.bin", RandomBytes(5000, 4));
  const v1::ArtifactRef cut = Upload(run_, "cut.bin", RandomBytes(5000, 5));
  ASSERT_TRUE(std::filesystem::remove(BlobPath(gone)));
  std::filesystem::resize_file(BlobPath(cut), 1234);

  Download d = GetByPath(run_, "gone.bin");
  EXPECT_EQ(d.status.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_THAT(d.status.error_message(), HasSubstr(BlobPath(gone)));
  EXPECT_TRUE(d.messages.empty()) << "nothing is sent for a missing file";

  d = GetById(run_, cut.id());
  EXPECT_EQ(d.status.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_THAT(d.status.error_message(), HasSubstr(BlobPath(cut)));
  EXPECT_THAT(d.status.error_message(), HasSubstr("1234"));

  // The other artifacts of the run are unaffected.
  const std::string fine = RandomBytes(300, 6);
  Upload(run_, "fine.bin", fine);
  d = GetByPath(run_, "fine.bin");
  ASSERT_TRUE(d.status.ok()) << d.status.error_message();
  EXPECT_EQ(d.bytes, fine);
}

TEST(ArtifactDownloadAuthTest, ATokenIsRequired) {
  const std::string dir = testing::FreshDataDir("artifact-download-auth");
  auto server = testing::StartServer(dir, "s3cret");
  ASSERT_NE(server, nullptr);
  auto stub = v1::ExperimentService::NewStub(testing::ChannelTo(*server));
  grpc::ClientContext ctx;
  v1::GetArtifactRequest request;
  request.set_run_id(1);
  request.set_path("x");
  auto reader = stub->GetArtifact(&ctx, request);
  v1::GetArtifactResponse message;
  EXPECT_FALSE(reader->Read(&message));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace dreamshot
