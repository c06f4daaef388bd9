// dreamshot artifacts log | list
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/command.h"
#include "cli/run_format.h"
#include "cli/table.h"

namespace dreamshot::cli {
namespace {

// "samples/step_500.png" -> "step_500.png".
std::string BaseName(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

absl::Status Log(Context& ctx) {
  absl::StatusOr<int64_t> run_id = ParseRunId(ctx.args.Positional(0));
  if (!run_id.ok()) return run_id.status();
  const std::string file = ctx.args.Positional(1);
  const std::string kind = *ctx.args.Get("kind");
  if (kind.empty()) return UsageError("--kind must not be empty (e.g. checkpoint, image, report)");
  const std::string path = ctx.args.GetOr("path", BaseName(file));
  if (path.empty()) return UsageError(absl::StrCat("cannot derive a path from '", file, "'; give --path"));

  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read ", file));
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return absl::InvalidArgumentError(absl::StrCat("error reading ", file));

  v1::LogArtifactRequest request;
  request.set_run_id(*run_id);
  request.set_kind(kind);
  request.set_path(path);
  request.set_content(bytes.str());
  v1::ArtifactRef artifact;
  absl::Status status = ctx.client.Call(&Client::Stub::LogArtifact, request, &artifact);
  if (!status.ok()) return status;
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

}  // namespace

std::vector<Command> ArtifactsCommands() {
  std::vector<Command> c;
  c.push_back({{"artifacts", "log", "Upload a file as an artifact of a run.",
                "The bytes are sent in one request (the server's --max_message_mb limits the size) and "
                "stored content-addressed by sha256.",
                {{"RUN"}, {"FILE"}},
                {{"kind", "KIND", "checkpoint, image, report, ...", false, true},
                 {"path", "PATH", "logical path inside the run (default: the file's name)"}}},
               Log});
  c.push_back({{"artifacts", "list", "List a run's artifacts.", "", {{"RUN"}}, {}}, List});
  return c;
}

}  // namespace dreamshot::cli
