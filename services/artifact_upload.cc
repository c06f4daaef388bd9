#include "services/artifact_upload.h"

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "experiments/artifact_blob_writer.h"
#include "experiments/artifact_writes.h"
#include "rpc/grpc_status.h"
#include "services/experiment_convert.h"

namespace dreamshot::services {

using rpc::ToGrpcStatus;

namespace {

using Request = v1::UploadArtifactRequest;

std::string MiB(int64_t bytes) {
  return bytes % (1 << 20) == 0 ? absl::StrCat(bytes >> 20, " MiB") : absl::StrCat(bytes, " bytes");
}

bool IsSha256Hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

class ArtifactUpload final : public grpc::ServerReadReactor<Request> {
 public:
  ArtifactUpload(grpc::CallbackServerContext* context, const RpcGuard& guard, experiments::ArtifactStore* store,
                 experiments::ArtifactBlobs* blobs, ArtifactUploadLimits limits, v1::ArtifactRef* response)
      : store_(store), blobs_(blobs), limits_(limits), response_(response) {
    // Before the first StartRead: a refused call never has a message read.
    absl::Status auth = guard.Authenticate(*context);
    if (!auth.ok()) {
      Finish(ToGrpcStatus(auth));
      return;
    }
    StartRead(&request_);
  }

  // `ok` false: the client closed its side (or the call was cancelled, which
  // the size check tells apart: a cut-off stream is short).
  void OnReadDone(bool ok) override {
    absl::Status status;
    try {
      status = ok ? Take() : Store();
    } catch (const std::exception& e) {
      status = absl::InternalError(absl::StrCat("unexpected error: ", e.what()));
    }
    if (!status.ok()) {
      writer_.reset();  // removes the staging file before the client hears back
      return Finish(ToGrpcStatus(status));
    }
    if (!ok) return Finish(grpc::Status::OK);
    request_.Clear();
    StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  absl::Status Take() {
    if (writer_ == nullptr) {
      if (request_.part_case() != Request::kHeader) {
        return absl::InvalidArgumentError("the first message of an upload must be its header");
      }
      return Begin(request_.header());
    }
    if (request_.part_case() != Request::kChunk) {
      return absl::InvalidArgumentError(
          absl::StrCat("upload of '", header_.path(), "': every message after the header must be a chunk"));
    }
    const std::string& chunk = request_.chunk();
    if (chunk.size() > limits_.max_chunk_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("upload of '", header_.path(), "': a chunk of ", chunk.size(),
                                                     " bytes is over the ", MiB(limits_.max_chunk_bytes),
                                                     " a chunk may hold"));
    }
    const int64_t total = writer_->size() + static_cast<int64_t>(chunk.size());
    if (total > limits_.max_artifact_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat("upload of '", header_.path(), "': more than ",
                                                       MiB(limits_.max_artifact_bytes),
                                                       ", the server's artifact limit (--max_artifact_mb)"));
    }
    if (total > header_.size_bytes()) {
      return absl::DataLossError(absl::StrCat("upload of '", header_.path(), "': more bytes than the ",
                                              header_.size_bytes(), " its header declared; nothing stored"));
    }
    return writer_->Append(chunk);
  }

  // The header's checks, all before any byte is read: a doomed upload is
  // refused before it is sent.
  absl::Status Begin(const v1::UploadArtifactHeader& header) {
    header_ = header;
    if (header_.run_id() <= 0) return absl::InvalidArgumentError("run_id must be a positive run id");
    if (header_.path().empty()) return absl::InvalidArgumentError("an artifact needs a path");
    if (header_.kind().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("artifact '", header_.path(), "' needs a kind"));
    }
    if (!header_.has_size_bytes() || header_.size_bytes() < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("upload of '", header_.path(), "': the header must give size_bytes (>= 0)"));
    }
    if (header_.size_bytes() > limits_.max_artifact_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat("artifact '", header_.path(), "' has ", header_.size_bytes(),
                                                       " bytes, over the server's limit of ",
                                                       MiB(limits_.max_artifact_bytes), " (--max_artifact_mb)"));
    }
    if (!header_.sha256().empty()) {
      if (!IsSha256Hex(header_.sha256())) {
        return absl::InvalidArgumentError(
            absl::StrCat("upload of '", header_.path(), "': sha256 must be 64 hex digits, got '", header_.sha256(), "'"));
      }
      header_.set_sha256(absl::AsciiStrToLower(header_.sha256()));
    }
    ASSIGN_OR_RETURN(std::vector<experiments::Artifact> existing, store_->ListArtifacts(header_.run_id()));
    for (const experiments::Artifact& a : existing) {
      if (a.path == header_.path()) {
        return absl::AlreadyExistsError(
            absl::StrCat("run ", header_.run_id(), " already has an artifact at '", header_.path(), "'"));
      }
    }
    ASSIGN_OR_RETURN(writer_, experiments::ArtifactBlobWriter::Start(*blobs_));
    return absl::OkStatus();
  }

  // End of the stream: check what arrived, then store blob and row.
  absl::Status Store() {
    if (writer_ == nullptr) return absl::InvalidArgumentError("the upload ended before its header");
    if (writer_->size() != header_.size_bytes()) {
      return absl::DataLossError(absl::StrCat("upload of '", header_.path(), "' ended after ", writer_->size(),
                                              " of the ", header_.size_bytes(),
                                              " bytes its header declared; nothing stored"));
    }
    ASSIGN_OR_RETURN(const std::string sha256, writer_->Finish());
    if (!header_.sha256().empty() && sha256 != header_.sha256()) {
      return absl::DataLossError(absl::StrCat("sha256 mismatch for '", header_.path(), "': the received bytes hash to ",
                                              sha256, ", the header declared ", header_.sha256(),
                                              "; nothing stored"));
    }
    experiments::Artifact artifact;
    artifact.run_id = header_.run_id();
    artifact.kind = header_.kind();
    artifact.path = header_.path();
    // Noted before it is placed and removed again if its row fails, like
    // every blob write (experiments/artifact_writes.h).
    absl::StatusOr<experiments::Artifact> recorded = experiments::AddArtifactStaged(
        *store_, *blobs_, artifact, writer_->staging_path(), sha256, writer_->size());
    writer_.reset();  // its staging file was moved or removed
    ASSIGN_OR_RETURN(experiments::Artifact stored, std::move(recorded));
    ToProto(stored, response_);
    return absl::OkStatus();
  }

  experiments::ArtifactStore* const store_;
  experiments::ArtifactBlobs* const blobs_;
  const ArtifactUploadLimits limits_;
  v1::ArtifactRef* const response_;
  Request request_;  // the one read in flight
  v1::UploadArtifactHeader header_;
  std::unique_ptr<experiments::ArtifactBlobWriter> writer_;  // from the header on
};

}  // namespace

grpc::ServerReadReactor<Request>* StartArtifactUpload(grpc::CallbackServerContext* context, const RpcGuard& guard,
                                                      experiments::ArtifactStore* store,
                                                      experiments::ArtifactBlobs* blobs, ArtifactUploadLimits limits,
                                                      v1::ArtifactRef* response) {
  return new ArtifactUpload(context, guard, store, blobs, limits, response);
}

}  // namespace dreamshot::services
