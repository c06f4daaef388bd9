// ExperimentService.UploadArtifact end to end, and the request-size limits
// of the gRPC port: a real server with a bearer token on a loopback port.
// Uploads are reassembled from chunks and checked against their declared
// size and sha256; every refusal (token, header, chunk, size, hash,
// cancellation) stores nothing and leaves no staging file; unary calls
// over --max_message_mb are refused, and calls without the token are
// refused on their headers, before gRPC reads (or size-checks) a message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/sha256.h"
#include "dreamshot/v1/experiment.grpc.pb.h"
#include "tests/service_test_util.h"

namespace dreamshot {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;
namespace v1 = ::dreamshot::v1;

constexpr char kToken[] = "s3cret-upload";
constexpr size_t kMiB = size_t{1} << 20;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

// `bytes` cut into chunks of `chunk` bytes (the last one shorter).
std::vector<std::string> Chunks(const std::string& bytes, size_t chunk) {
  std::vector<std::string> out;
  for (size_t at = 0; at < bytes.size(); at += chunk) out.push_back(bytes.substr(at, chunk));
  return out;
}

v1::UploadArtifactHeader Header(int64_t run, const std::string& path, const std::string& bytes,
                                bool with_sha = true) {
  v1::UploadArtifactHeader h;
  h.set_run_id(run);
  h.set_kind("checkpoint");
  h.set_path(path);
  h.set_size_bytes(static_cast<int64_t>(bytes.size()));
  if (with_sha) h.set_sha256(core::Sha256Hex(bytes));
  return h;
}

struct Uploaded {
  grpc::Status status;
  v1::ArtifactRef ref;
};

class ArtifactUploadTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  virtual void Configure(services::ServerOptions&) {}

  void Start() {
    data_dir_ = testing::FreshDataDir("artifact-upload");
    server_ = testing::StartServer(data_dir_, kToken, [this](services::ServerOptions& o) { Configure(o); });
    ASSERT_NE(server_, nullptr);
    stub_ = v1::ExperimentService::NewStub(testing::ChannelTo(*server_));
    grpc::ClientContext ectx;
    Authorize(&ectx);
    v1::CreateExperimentRequest ereq;
    ereq.set_name("uploads");
    v1::Experiment e;
    ASSERT_TRUE(stub_->CreateExperiment(&ectx, ereq, &e).ok());
    grpc::ClientContext ctx;
    Authorize(&ctx);
    v1::CreateRunRequest req;
    req.set_experiment_name("uploads");
    v1::Run run;
    ASSERT_TRUE(stub_->CreateRun(&ctx, req, &run).ok());
    run_ = run.id();
  }

  static void Authorize(grpc::ClientContext* ctx, const std::string& token = kToken) {
    if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
    // A server that waited for a message it should not need fails the test
    // with DEADLINE_EXCEEDED instead of hanging it.
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  }

  // One UploadArtifact call: the header (unless null), then the chunks; it
  // stops writing when the server has ended the call.
  Uploaded Upload(const v1::UploadArtifactHeader* header, const std::vector<std::string>& chunks,
                  const std::string& token = kToken) {
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    Uploaded out;
    auto writer = stub_->UploadArtifact(&ctx, &out.ref);
    v1::UploadArtifactRequest message;
    bool open = true;
    if (header != nullptr) {
      *message.mutable_header() = *header;
      open = writer->Write(message);
    }
    for (const std::string& chunk : chunks) {
      if (!open) break;
      message.set_chunk(chunk);
      open = writer->Write(message);
    }
    if (open) writer->WritesDone();
    out.status = writer->Finish();
    return out;
  }
  Uploaded Upload(const v1::UploadArtifactHeader& header, const std::vector<std::string>& chunks,
                  const std::string& token = kToken) {
    return Upload(&header, chunks, token);
  }

  std::vector<v1::ArtifactRef> List() {
    grpc::ClientContext ctx;
    Authorize(&ctx);
    v1::ListArtifactsRequest req;
    req.set_run_id(run_);
    v1::ListArtifactsResponse resp;
    grpc::Status s = stub_->ListArtifacts(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return {resp.artifacts().begin(), resp.artifacts().end()};
  }

  std::string Download(const std::string& path) {
    grpc::ClientContext ctx;
    Authorize(&ctx);
    v1::GetArtifactRequest req;
    req.set_run_id(run_);
    req.set_path(path);
    auto reader = stub_->GetArtifact(&ctx, req);
    v1::GetArtifactResponse message;
    std::string bytes;
    while (reader->Read(&message)) bytes += message.data();
    grpc::Status s = reader->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return bytes;
  }

  // Files under <data_dir>/artifacts: staging files and stored blobs.
  std::vector<std::string> Files(bool staging) const {
    std::vector<std::string> out;
    const fs::path root = fs::path(data_dir_) / "artifacts";
    if (!fs::exists(root)) return out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      const bool is_staging = e.path().filename().string().rfind(".staging-", 0) == 0;
      if (is_staging == staging) out.push_back(e.path().string());
    }
    return out;
  }

  // A refused upload: no row, no blob, no staging file.
  void ExpectNothingStored() {
    EXPECT_TRUE(List().empty());
    EXPECT_THAT(Files(/*staging=*/true), ::testing::IsEmpty());
    EXPECT_THAT(Files(/*staging=*/false), ::testing::IsEmpty());
  }

  std::string data_dir_;
  std::unique_ptr<services::DreamshotServer> server_;
  std::unique_ptr<v1::ExperimentService::Stub> stub_;
  int64_t run_ = 0;
};

TEST_F(ArtifactUploadTest, ChunksAreReassembledCheckedAndStored) {
  const std::string bytes = RandomBytes(5 * kMiB / 2 + 77, 1);
  // Full, empty and short chunks: only their concatenation matters.
  std::vector<std::string> chunks = {bytes.substr(0, kMiB), "", bytes.substr(kMiB, 1000),
                                     bytes.substr(kMiB + 1000, kMiB), bytes.substr(2 * kMiB + 1000)};
  const v1::UploadArtifactHeader header = Header(run_, "ckpt/final.bin", bytes);
  const Uploaded up = Upload(header, chunks);
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  EXPECT_GT(up.ref.id(), 0);
  EXPECT_EQ(up.ref.run_id(), run_);
  EXPECT_EQ(up.ref.path(), "ckpt/final.bin");
  EXPECT_EQ(up.ref.kind(), "checkpoint");
  EXPECT_EQ(up.ref.size_bytes(), static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(up.ref.sha256(), core::Sha256Hex(bytes));

  ASSERT_EQ(List().size(), 1u);
  EXPECT_EQ(List()[0].id(), up.ref.id());
  EXPECT_TRUE(Download("ckpt/final.bin") == bytes) << "the stored bytes differ";
  EXPECT_THAT(Files(/*staging=*/true), ::testing::IsEmpty());
  // Content-addressed, like LogArtifact: the same bytes logged the old way
  // land in the same blob.
  grpc::ClientContext ctx;
  Authorize(&ctx);
  v1::LogArtifactRequest unary;
  unary.set_run_id(run_);
  unary.set_kind("checkpoint");
  unary.set_path("copy.bin");
  unary.set_content(bytes);
  v1::ArtifactRef copy;
  ASSERT_TRUE(stub_->LogArtifact(&ctx, unary, &copy).ok());
  EXPECT_EQ(copy.uri(), up.ref.uri());
}

TEST_F(ArtifactUploadTest, TheSha256IsOptionalAndEmptyArtifactsWork) {
  const std::string bytes = RandomBytes(3000, 2);
  Uploaded up = Upload(Header(run_, "nosha.bin", bytes, /*with_sha=*/false), Chunks(bytes, 1024));
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  EXPECT_EQ(up.ref.sha256(), core::Sha256Hex(bytes));

  up = Upload(Header(run_, "empty.txt", ""), {});
  ASSERT_TRUE(up.status.ok()) << up.status.error_message();
  EXPECT_EQ(up.ref.size_bytes(), 0);
  EXPECT_EQ(Download("empty.txt"), "");

  v1::UploadArtifactHeader upper = Header(run_, "upper.bin", bytes);
  for (char& c : *upper.mutable_sha256()) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  up = Upload(upper, {bytes});
  EXPECT_TRUE(up.status.ok()) << "hex digits in either case: " << up.status.error_message();
}

TEST_F(ArtifactUploadTest, ASha256MismatchIsDataLossAndStoresNothing) {
  const std::string bytes = RandomBytes(2 * kMiB + 5, 3);
  v1::UploadArtifactHeader header = Header(run_, "bad.bin", bytes);
  std::string corrupted = bytes;
  corrupted[kMiB + 1] ^= 0x01;  // one bit on the way
  const Uploaded up = Upload(header, Chunks(corrupted, kMiB));
  EXPECT_EQ(up.status.error_code(), grpc::StatusCode::DATA_LOSS) << up.status.error_message();
  EXPECT_THAT(up.status.error_message(), HasSubstr("sha256 mismatch for 'bad.bin'"));
  EXPECT_THAT(up.status.error_message(), HasSubstr(core::Sha256Hex(corrupted)));
  EXPECT_THAT(up.status.error_message(), HasSubstr(header.sha256()));
  ExpectNothingStored();
}

TEST_F(ArtifactUploadTest, BytesThatAreNotTheDeclaredSizeAreDataLoss) {
  const std::string bytes = RandomBytes(3000, 4);
  v1::UploadArtifactHeader header = Header(run_, "short.bin", bytes, /*with_sha=*/false);
  Uploaded up = Upload(header, {bytes.substr(0, 2000)});  // the stream ends early
  EXPECT_EQ(up.status.error_code(), grpc::StatusCode::DATA_LOSS) << up.status.error_message();
  EXPECT_THAT(up.status.error_message(), HasSubstr("ended after 2000 of the 3000 bytes"));
  ExpectNothingStored();

  up = Upload(header, {bytes, "x"});  // one byte too many
  EXPECT_EQ(up.status.error_code(), grpc::StatusCode::DATA_LOSS) << up.status.error_message();
  EXPECT_THAT(up.status.error_message(), HasSubstr("more bytes than the 3000"));
  ExpectNothingStored();
}

TEST_F(ArtifactUploadTest, AChunkOverOneMiBIsRefused) {
  const std::string bytes = RandomBytes(kMiB + 1, 5);
  const Uploaded up = Upload(Header(run_, "big-chunk.bin", bytes), {bytes});
  EXPECT_EQ(up.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << up.status.error_message();
  EXPECT_THAT(up.status.error_message(), HasSubstr("a chunk of 1048577 bytes is over the 1 MiB"));
  ExpectNothingStored();
}

TEST_F(ArtifactUploadTest, HeaderErrorsAreRefusedBeforeAnyByte) {
  const std::string bytes = RandomBytes(100, 6);
  ASSERT_TRUE(Upload(Header(run_, "taken.bin", bytes), {bytes}).status.ok());

  struct Case {
    std::string what;
    v1::UploadArtifactHeader header;
    grpc::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases;
  cases.push_back({"unknown run", Header(999999, "a.bin", bytes), grpc::StatusCode::NOT_FOUND, "999999"});
  cases.push_back({"no run", Header(0, "a.bin", bytes), grpc::StatusCode::INVALID_ARGUMENT, "run_id"});
  cases.push_back({"path taken", Header(run_, "taken.bin", bytes), grpc::StatusCode::ALREADY_EXISTS,
                   "already has an artifact at 'taken.bin'"});
  cases.push_back({"no path", Header(run_, "", bytes), grpc::StatusCode::INVALID_ARGUMENT, "path"});
  Case no_kind{"no kind", Header(run_, "a.bin", bytes), grpc::StatusCode::INVALID_ARGUMENT, "needs a kind"};
  no_kind.header.clear_kind();
  cases.push_back(no_kind);
  Case no_size{"no size", Header(run_, "a.bin", bytes), grpc::StatusCode::INVALID_ARGUMENT, "size_bytes"};
  no_size.header.clear_size_bytes();
  cases.push_back(no_size);
  Case bad_sha{"bad sha256", Header(run_, "a.bin", bytes), grpc::StatusCode::INVALID_ARGUMENT, "64 hex digits"};
  bad_sha.header.set_sha256("abc");
  cases.push_back(bad_sha);
  for (const Case& c : cases) {
    // Only the header is sent and the stream is left open: the server must
    // answer from the header alone.
    grpc::ClientContext ctx;
    Authorize(&ctx);
    v1::ArtifactRef ref;
    auto writer = stub_->UploadArtifact(&ctx, &ref);
    v1::UploadArtifactRequest message;
    *message.mutable_header() = c.header;
    writer->Write(message);
    const grpc::Status status = writer->Finish();
    EXPECT_EQ(status.error_code(), c.code) << c.what << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message)) << c.what;
  }
  EXPECT_EQ(List().size(), 1u);
  EXPECT_THAT(Files(/*staging=*/true), ::testing::IsEmpty());
}

TEST_F(ArtifactUploadTest, TheMessagesMustBeOneHeaderThenChunks) {
  Uploaded up = Upload(nullptr, {"bytes first"});
  EXPECT_EQ(up.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(up.status.error_message(), HasSubstr("first message of an upload must be its header"));

  up = Upload(nullptr, {});  // nothing at all
  EXPECT_EQ(up.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(up.status.error_message(), HasSubstr("ended before its header"));

  const std::string bytes = RandomBytes(10, 7);
  const v1::UploadArtifactHeader header = Header(run_, "twice.bin", bytes);
  grpc::ClientContext ctx;
  Authorize(&ctx);
  v1::ArtifactRef ref;
  auto writer = stub_->UploadArtifact(&ctx, &ref);
  v1::UploadArtifactRequest message;
  *message.mutable_header() = header;
  writer->Write(message);
  writer->Write(message);
  writer->WritesDone();
  const grpc::Status status = writer->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("every message after the header must be a chunk"));
  ExpectNothingStored();
}

TEST_F(ArtifactUploadTest, AMissingOrWrongTokenIsRefusedBeforeAnyMessage) {
  for (const std::string token : {"", "wrong"}) {
    // No message at all and the stream left open: the refusal cannot wait
    // for one.
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    v1::ArtifactRef ref;
    auto writer = stub_->UploadArtifact(&ctx, &ref);
    const grpc::Status status = writer->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << "token '" << token << "'";

    // A whole upload is refused the same way and leaves nothing.
    const std::string bytes = RandomBytes(3 * kMiB, 8);
    const Uploaded up = Upload(Header(run_, "sneaky.bin", bytes), Chunks(bytes, kMiB), token);
    EXPECT_EQ(up.status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << "token '" << token << "'";
  }
  ExpectNothingStored();
}

TEST_F(ArtifactUploadTest, ACancelledUploadLeavesNothing) {
  const std::string bytes = RandomBytes(3 * kMiB, 9);
  grpc::ClientContext ctx;
  Authorize(&ctx);
  v1::ArtifactRef ref;
  auto writer = stub_->UploadArtifact(&ctx, &ref);
  v1::UploadArtifactRequest message;
  *message.mutable_header() = Header(run_, "cancelled.bin", bytes);
  ASSERT_TRUE(writer->Write(message));
  message.set_chunk(bytes.substr(0, kMiB));
  ASSERT_TRUE(writer->Write(message));
  // Wait (bounded) until the server is writing the upload to disk, so the
  // cancellation has something to clean up.
  for (int i = 0; i < 600 && Files(/*staging=*/true).empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(Files(/*staging=*/true).size(), 1u) << "the server never started writing the upload";
  ctx.TryCancel();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::CANCELLED);
  // Shutting the server down waits for the call to finish on its side.
  server_.reset();
  EXPECT_THAT(Files(/*staging=*/true), ::testing::IsEmpty());
  EXPECT_THAT(Files(/*staging=*/false), ::testing::IsEmpty());
  // And the store has no row (a fresh server on the same data).
  server_ = testing::StartServer(data_dir_, kToken);
  ASSERT_NE(server_, nullptr);
  stub_ = v1::ExperimentService::NewStub(testing::ChannelTo(*server_));
  EXPECT_TRUE(List().empty());
}

class SmallArtifactLimitTest : public ArtifactUploadTest {
 protected:
  void Configure(services::ServerOptions& o) override { o.max_artifact_bytes = 3 * kMiB; }
};

TEST_F(SmallArtifactLimitTest, AnUploadOverTheArtifactLimitIsRefused) {
  const std::string bytes = RandomBytes(4 * kMiB, 10);
  // Declared over the limit: refused from the header (stream left open).
  {
    grpc::ClientContext ctx;
    Authorize(&ctx);
    v1::ArtifactRef ref;
    auto writer = stub_->UploadArtifact(&ctx, &ref);
    v1::UploadArtifactRequest message;
    *message.mutable_header() = Header(run_, "big.bin", bytes);
    writer->Write(message);
    const grpc::Status status = writer->Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("over the server's limit of 3 MiB (--max_artifact_mb)"));
  }
  // Declared within the limit, sent over it: refused mid-stream, at the
  // chunk that crosses it.
  v1::UploadArtifactHeader liar = Header(run_, "big.bin", bytes.substr(0, 3 * kMiB));
  const Uploaded up = Upload(liar, Chunks(bytes, kMiB));
  EXPECT_EQ(up.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << up.status.error_message();
  EXPECT_THAT(up.status.error_message(), HasSubstr("more than 3 MiB"));
  ExpectNothingStored();
  // Exactly the limit is fine.
  const std::string fits = bytes.substr(0, 3 * kMiB);
  EXPECT_TRUE(Upload(Header(run_, "fits.bin", fits), Chunks(fits, kMiB)).status.ok());
}

// The unary path: LogArtifact still takes small content; a message over the
// (default) request limit is refused by gRPC; and without the token even a
// message over the limit gets UNAUTHENTICATED, which it could only get if
// the token was checked before gRPC read and size-checked the message.
class UnaryLimitTest : public ArtifactUploadTest {
 protected:
  void Configure(services::ServerOptions& o) override {
    o.max_message_bytes = services::ServerOptions().max_message_bytes;  // the default, not the test helper's
  }

  grpc::Status LogArtifact(const std::string& path, size_t n, const std::string& token) {
    grpc::ClientContext ctx;
    Authorize(&ctx, token);
    v1::LogArtifactRequest req;
    req.set_run_id(run_);
    req.set_kind("blob");
    req.set_path(path);
    req.set_content(RandomBytes(n, 11));
    v1::ArtifactRef ref;
    return stub_->LogArtifact(&ctx, req, &ref);
  }
};

TEST_F(UnaryLimitTest, TheDefaultRequestLimitIsFourMiB) {
  EXPECT_EQ(services::ServerOptions().max_message_bytes, 4 << 20);
  grpc::Status s = LogArtifact("small.bin", 3 * kMiB, kToken);
  EXPECT_TRUE(s.ok()) << s.error_message();
  s = LogArtifact("five.bin", 5 * kMiB, kToken);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_THAT(s.error_message(), HasSubstr("larger than max"));
  ASSERT_EQ(List().size(), 1u);
  EXPECT_EQ(List()[0].path(), "small.bin");
}

TEST_F(UnaryLimitTest, WithoutTheTokenNoMessageIsRead) {
  for (const std::string token : {"", "wrong"}) {
    grpc::Status s = LogArtifact("five.bin", 5 * kMiB, token);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << "token '" << token << "': " << s.error_message() << " (RESOURCE_EXHAUSTED would mean gRPC read the "
        << "message before the token was checked)";
    s = LogArtifact("small.bin", 100, token);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  EXPECT_TRUE(List().empty());
}

}  // namespace
}  // namespace dreamshot
