#include "services/artifact_download.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>
#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/experiment_convert.h"

namespace dreamshot::services {
namespace {

using Response = v1::GetArtifactResponse;

grpc::Status DataLoss(const std::string& message) { return grpc::Status(grpc::StatusCode::DATA_LOSS, message); }

class FailedDownload final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit FailedDownload(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

class ArtifactDownload final : public grpc::ServerWriteReactor<Response> {
 public:
  // `in` is open on the blob, which holds exactly artifact.size_bytes bytes.
  ArtifactDownload(const experiments::Artifact& artifact, std::string path, std::ifstream in, size_t chunk_bytes)
      : path_(std::move(path)),
        in_(std::move(in)),
        size_(artifact.size_bytes),
        chunk_bytes_(std::max<size_t>(chunk_bytes, 1)),
        name_(absl::StrCat("artifact ", artifact.id, " (run ", artifact.run_id, ", ", artifact.path, ")")) {
    ToProto(artifact, message_.mutable_artifact());
    SendNext();
  }

  void OnWriteDone(bool ok) override {
    // A failed write means the client is gone; gRPC still wants a Finish.
    if (!ok) return Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client stopped reading"));
    if (offset_ == size_) return Finish(grpc::Status::OK);
    message_.Clear();
    SendNext();
  }
  void OnDone() override { delete this; }

 private:
  // Reads the next chunk (the first message may have none: an empty file)
  // and starts its write. A local read of one chunk is short enough for a
  // gRPC callback thread.
  void SendNext() {
    const size_t n = static_cast<size_t>(std::min<int64_t>(size_ - offset_, static_cast<int64_t>(chunk_bytes_)));
    std::string* data = message_.mutable_data();
    data->resize(n);
    in_.read(data->data(), static_cast<std::streamsize>(n));
    if (static_cast<size_t>(in_.gcount()) != n) {
      return Finish(DataLoss(absl::StrCat(name_, ": reading ", path_, " failed at byte ",
                                          offset_ + in_.gcount(), " of ", size_, " (the file changed?)")));
    }
    message_.set_offset(offset_);
    offset_ += static_cast<int64_t>(n);
    StartWrite(&message_);
  }

  const std::string path_;
  std::ifstream in_;
  const int64_t size_;
  const size_t chunk_bytes_;
  const std::string name_;
  int64_t offset_ = 0;
  Response message_;  // the one write in flight
};

}  // namespace

grpc::ServerWriteReactor<Response>* StartArtifactDownload(const experiments::Artifact& artifact, size_t chunk_bytes) {
  const std::string name = absl::StrCat("artifact ", artifact.id, " (run ", artifact.run_id, ", ", artifact.path, ")");
  constexpr absl::string_view kFile = "file://";
  if (!absl::StartsWith(artifact.uri, kFile)) {
    return FailedArtifactDownload(DataLoss(absl::StrCat(name, ": its bytes are not a local file: ", artifact.uri)));
  }
  std::string path = artifact.uri.substr(kFile.size());
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return FailedArtifactDownload(
        DataLoss(absl::StrCat(name, ": its file ", path, " is gone: ", std::strerror(errno))));
  }
  if (static_cast<int64_t>(st.st_size) != artifact.size_bytes) {
    return FailedArtifactDownload(DataLoss(absl::StrCat(name, ": its file ", path, " holds ", st.st_size,
                                                        " bytes; the store recorded ", artifact.size_bytes)));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return FailedArtifactDownload(
        DataLoss(absl::StrCat(name, ": cannot read its file ", path, ": ", std::strerror(errno))));
  }
  return new ArtifactDownload(artifact, std::move(path), std::move(in), chunk_bytes);
}

grpc::ServerWriteReactor<Response>* FailedArtifactDownload(const grpc::Status& status) {
  return new FailedDownload(status);
}

}  // namespace dreamshot::services
