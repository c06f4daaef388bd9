// What every subcommand group shares: the command record main dispatches on,
// the context a command runs with, and small helpers (JSON output, run status
// names, resolving an experiment given by name or id).
#ifndef DREAMSHOT_CLI_COMMAND_H_
#define DREAMSHOT_CLI_COMMAND_H_

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/args.h"
#include "cli/client.h"

namespace dreamshot::cli {

struct Context {
  const GlobalOptions& global;
  const Args& args;
  Client& client;
  std::ostream& out;
};

struct Command {
  CommandSpec spec;
  std::function<absl::Status(Context&)> run;
};

// The groups; each lives in its own <group>_cmd.cc.
std::vector<Command> ExperimentsCommands();
std::vector<Command> RunsCommands();
std::vector<Command> MetricsCommands();
std::vector<Command> ArtifactsCommands();
std::vector<Command> GenerateCommands();
std::vector<Command> DatasetCommands();
std::vector<Command> DatasetBuildCommands();  // dataset shots | build | report
std::vector<Command> SurveyCommands();
std::vector<Command> JobsCommands();
std::vector<Command> TrainCommands();
std::vector<Command> SweepCommands();  // sweep | sweep status
std::vector<Command> StatsCommands();  // stats paired (local, no RPC)

// --priority N and --detach, for commands that submit a job.
std::vector<FlagSpec> JobFlags();
absl::Status ApplyJobOptions(const Args& args, v1::JobOptions* options);
// What a detached submission prints before it leaves: its first message
// (with --json) or a line naming the job.
absl::Status PrintDetached(Context& ctx, const google::protobuf::Message& first, int64_t job_id);

// The server resolves paths on its machine: send absolute ones ("" stays "").
std::string AbsolutePath(const std::string& path);

// Prints one message as single-line JSON (proto field names, defaults shown).
absl::Status PrintJson(const google::protobuf::Message& message, std::ostream& out);

// RUNNING -> "running".
std::string StatusName(v1::RunStatus status);
// "finished" / "FAILED" / ... -> the enum; a usage error naming `what` otherwise.
absl::StatusOr<v1::RunStatus> ParseRunStatus(const std::string& text, const std::string& what);

// The run id positional ("run id must be a positive integer, got 'x'").
absl::StatusOr<int64_t> ParseRunId(const std::string& text);

// An experiment given as a name or an id. A number is tried as an id first,
// then as a name (experiments may be named "2024").
absl::StatusOr<v1::Experiment> ResolveExperiment(Client& client, const std::string& name_or_id);

}  // namespace dreamshot::cli

#endif  // DREAMSHOT_CLI_COMMAND_H_
