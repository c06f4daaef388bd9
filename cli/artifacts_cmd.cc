// dreamshot artifacts log | list | get
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/interrupt.h"
#include "cli/run_format.h"
#include "cli/table.h"
#include "core/sha256.h"

namespace dreamshot::cli {
namespace {

// "samples/step_500.png" -> "step_500.png".
std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

constexpr size_t kUploadChunkBytes = size_t{1} << 20;  // the most a chunk may hold

// Streams `file` into UploadArtifact: a header with its size and sha256
// (which the server checks before storing anything), then 1 MiB chunks
// read from disk, so no size is too big for a message and the file is never
// held in memory. The file is read twice: once to hash, once to send.
absl::Status Log(Context& ctx) {
  absl::StatusOr<int64_t> run_id = ParseRunId(ctx.args.Positional(0));
  if (!run_id.ok()) return run_id.status();
  const std::string file = ctx.args.Positional(1);
  const std::string kind = *ctx.args.Get("kind");
  if (kind.empty()) return UsageError("--kind must not be empty (e.g. checkpoint, image, report)");
  const std::string path = ctx.args.GetOr("path", BaseName(file));
  if (path.empty()) return UsageError(absl::StrCat("cannot derive a path from '", file, "'; give --path"));

  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", file, " (not a regular file)"));
  }
  absl::StatusOr<std::string> sha256 = core::Sha256HexOfFile(file);
  if (!sha256.ok()) return absl::InvalidArgumentError(std::string(sha256.status().message()));
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", file));

  grpc::ClientContext context;
  ctx.client.Prepare(&context, /*streaming=*/true);  // large files take a while: no default deadline
  std::optional<CancelOnInterrupt> interrupt(&context);
  v1::ArtifactRef artifact;
  auto writer = ctx.client.stub().UploadArtifact(&context, &artifact);
  v1::UploadArtifactRequest message;
  v1::UploadArtifactHeader* header = message.mutable_header();
  header->set_run_id(*run_id);
  header->set_kind(kind);
  header->set_path(path);
  header->set_size_bytes(static_cast<int64_t>(st.st_size));
  header->set_sha256(*sha256);
  // A failed Write means the server has ended the call (a refused token or
  // header, a full disk...): Finish says why.
  bool sending = writer->Write(message);
  absl::Status status;
  std::vector<char> buffer(kUploadChunkBytes);
  int64_t sent = 0;
  while (sending && sent < static_cast<int64_t>(st.st_size)) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (in.gcount() == 0) break;  // the file shrank; the server refuses the short upload
    message.set_chunk(buffer.data(), static_cast<size_t>(in.gcount()));
    sent += in.gcount();
    sending = writer->Write(message);
  }
  if (in.bad()) {
    status = absl::InvalidArgumentError(absl::StrCat("error reading ", file));
    context.TryCancel();
  } else if (sending) {
    writer->WritesDone();
  }
  const grpc::Status finish = writer->Finish();
  const bool interrupted = interrupt->interrupted();
  interrupt.reset();
  if (interrupted) return InterruptedError();
  if (!status.ok()) return status;
  if (absl::Status s = ctx.client.Check(finish); !s.ok()) return s;
  if (ctx.global.json) return PrintJson(artifact, ctx.out);
  ctx.out << "artifact " << artifact.id() << ": " << artifact.path() << " (" << artifact.kind() << ", "
          << FormatBytes(artifact.size_bytes()) << ") sha256 " << artifact.sha256() << "\n";
  return absl::OkStatus();
}

absl::Status List(Context& ctx) {
  absl::StatusOr<int64_t> run_id = ParseRunId(ctx.args.Positional(0));
  if (!run_id.ok()) return run_id.status();
  v1::ListArtifactsRequest request;
  request.set_run_id(*run_id);
  v1::ListArtifactsResponse response;
  absl::Status status = ctx.client.Call(&Client::Stub::ListArtifacts, request, &response);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(response, ctx.out);
  ctx.out << ArtifactsTable(response);
  return absl::OkStatus();
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool Exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

// Where `artifacts get` writes: --out FILE, --out DIR/<basename>, or the
// artifact's basename in the current directory. Empty while the artifact's
// path is not known yet (it was named by id).
std::string OutputPath(const std::string& out_flag, const std::string& artifact_path, int64_t artifact_id) {
  std::string base = BaseName(artifact_path);
  if (base.empty() && artifact_id > 0) base = absl::StrCat("artifact-", artifact_id);
  if (out_flag.empty()) return base;
  if (IsDirectory(out_flag)) return base.empty() ? "" : absl::StrCat(out_flag, "/", base);
  return out_flag;
}

absl::Status RefuseOverwrite(Context& ctx, const std::string& out) {
  if (ctx.args.Has("force") || !Exists(out)) return absl::OkStatus();
  return absl::AlreadyExistsError(absl::StrCat(out, " exists: give --force to overwrite it (or --out FILE)"));
}

// The bytes go to a temporary file next to the output, which is renamed
// over it only once their sha256 matches the server's record: a failed or
// interrupted download leaves nothing behind and never a wrong file.
class PartFile {
 public:
  ~PartFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  absl::Status Open(const std::string& out) {
    path_ = absl::StrCat(out, ".part-", ::getpid());
    file_.open(path_, std::ios::binary | std::ios::trunc);
    if (!file_) return absl::FailedPreconditionError(absl::StrCat("cannot write ", path_));
    return absl::OkStatus();
  }
  bool is_open() const { return file_.is_open(); }
  int64_t written() const { return written_; }
  absl::Status Append(const std::string& data) {
    file_.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!file_) return absl::FailedPreconditionError(absl::StrCat("error writing ", path_, " (disk full?)"));
    written_ += static_cast<int64_t>(data.size());
    return absl::OkStatus();
  }
  // Closes the file, checks it against the record and renames it to `out`.
  absl::Status Commit(const v1::ArtifactRef& artifact, const std::string& out) {
    file_.close();
    if (!file_) return absl::FailedPreconditionError(absl::StrCat("error writing ", path_, " (disk full?)"));
    if (written_ != artifact.size_bytes()) {
      return absl::DataLossError(absl::StrCat("received ", written_, " bytes of artifact ", artifact.id(), "; it has ",
                                              artifact.size_bytes(), ": nothing written to ", out));
    }
    absl::StatusOr<std::string> sha = core::Sha256HexOfFile(path_);
    if (!sha.ok()) return sha.status();
    if (*sha != artifact.sha256()) {
      return absl::DataLossError(absl::StrCat("sha256 mismatch for artifact ", artifact.id(), " (", artifact.path(),
                                              "): received bytes hash to ", *sha, ", the server recorded ",
                                              artifact.sha256(), "; nothing written to ", out));
    }
    if (std::rename(path_.c_str(), out.c_str()) != 0) {
      return absl::FailedPreconditionError(absl::StrCat("cannot rename ", path_, " to ", out));
    }
    path_.clear();
    return absl::OkStatus();
  }

 private:
  std::string path_;
  std::ofstream file_;
  int64_t written_ = 0;
};

absl::Status Get(Context& ctx) {
  absl::StatusOr<int64_t> run_id = ParseRunId(ctx.args.Positional(0));
  if (!run_id.ok()) return run_id.status();
  const std::string which = ctx.args.Positional(1);
  v1::GetArtifactRequest request;
  request.set_run_id(*run_id);
  // One rule: digits only name an artifact id (the ID column of `artifacts
  // list`), anything else a path in the run.
  if (!which.empty() && std::all_of(which.begin(), which.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    absl::StatusOr<int64_t> id = ParseId(which, "artifact id");
    if (!id.ok()) return id.status();
    request.set_artifact_id(*id);
  } else {
    request.set_path(which);
  }
  const std::string out_flag = ctx.args.GetOr("out", "");
  std::string out = OutputPath(out_flag, request.path(), 0);
  if (!out.empty()) {
    if (absl::Status s = RefuseOverwrite(ctx, out); !s.ok()) return s;
  }

  grpc::ClientContext context;
  ctx.client.Prepare(&context, /*streaming=*/true);  // large files take a while: no default deadline
  std::optional<CancelOnInterrupt> interrupt(&context);
  auto reader = ctx.client.stub().GetArtifact(&context, request);
  v1::GetArtifactResponse message;
  v1::ArtifactRef artifact;
  PartFile part;
  absl::Status status;
  while (status.ok() && reader->Read(&message)) {
    if (message.has_artifact()) {
      artifact = message.artifact();
      if (out.empty()) {
        out = OutputPath(out_flag, artifact.path(), artifact.id());
        status = RefuseOverwrite(ctx, out);
      }
      if (status.ok()) status = part.Open(out);
    }
    if (status.ok() && !part.is_open()) status = absl::InternalError("the server sent bytes before the artifact");
    if (status.ok() && message.offset() != part.written()) {
      status = absl::DataLossError(
          absl::StrCat("the server sent bytes at offset ", message.offset(), " after ", part.written()));
    }
    if (status.ok()) status = part.Append(message.data());
  }
  if (!status.ok()) context.TryCancel();
  const grpc::Status finish = reader->Finish();
  const bool interrupted = interrupt->interrupted();
  interrupt.reset();
  if (interrupted) return InterruptedError();
  if (!status.ok()) return status;
  if (absl::Status s = ctx.client.Check(finish); !s.ok()) return s;
  if (!part.is_open()) return absl::InternalError("the server sent no artifact");
  if (absl::Status s = part.Commit(artifact, out); !s.ok()) return s;
  if (ctx.global.json) return PrintJson(artifact, ctx.out);
  ctx.out << "artifact " << artifact.id() << ": " << artifact.path() << " (" << artifact.kind() << ", "
          << FormatBytes(artifact.size_bytes()) << ") -> " << out << ", sha256 " << artifact.sha256() << " verified\n";
  return absl::OkStatus();
}

}  // namespace

std::vector<Command> ArtifactsCommands() {
  std::vector<Command> c;
  c.push_back({{"artifacts", "log", "Upload a file as an artifact of a run.",
                "The file is streamed to the server in 1 MiB chunks, with its size and sha256, which the "
                "server checks before it stores anything (a mismatch exits 1, DATA_LOSS); it is stored "
                "content-addressed by sha256. The server's --max_artifact_mb limits the size (exit 8).",
                {{"RUN"}, {"FILE"}},
                {{"kind", "KIND", "checkpoint, image, report, ...", false, true},
                 {"path", "PATH", "logical path inside the run (default: the file's name)"}}},
               Log});
  c.push_back({{"artifacts", "list", "List a run's artifacts.", "", {{"RUN"}}, {}}, List});
  c.push_back({{"artifacts", "get", "Download an artifact of a run (sha256 checked).",
                "PATH|ID: the artifact's path in the run, or its id (digits only; the ID column of `artifacts "
                "list`). The bytes are streamed from the server into a temporary file, which becomes the output "
                "only if its sha256 matches the one recorded when the artifact was stored; a mismatch exits 1 "
                "(DATA_LOSS) and writes nothing. An existing file is not overwritten without --force (exit 4).",
                {{"RUN"}, {"PATH|ID"}},
                {{"out", "FILE", "where to write (default: the artifact's file name in the current directory; "
                                 "a directory: that name inside it)"},
                 {"force", "", "overwrite an existing file"}}},
               Get});
  return c;
}

}  // namespace dreamshot::cli
