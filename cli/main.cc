// dreamshot: the command-line client of dreamshotd.
//
//   dreamshot [--server HOST:PORT] [--token-file F] [--json] [--timeout S] <group> <verb> ...
//
// main parses the line, prints help, and dispatches to the group files
// (experiments_cmd.cc, runs_cmd.cc, metrics_cmd.cc, artifacts_cmd.cc). Exit
// codes are listed in client.h. The client links no LibTorch
// (tests/cli_links_no_torch_test.sh); the tiny-model writer is its own tool,
// //tools:dreamshot-init-tiny-model.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/args.h"
#include "cli/client.h"
#include "cli/command.h"

namespace dreamshot::cli {
namespace {

constexpr char kVersion[] = "0.1.0";

std::vector<Command> AllCommands() {
  std::vector<Command> all;
  for (auto group : {ExperimentsCommands, RunsCommands, MetricsCommands, ArtifactsCommands, GenerateCommands, DatasetCommands,
                     DatasetBuildCommands, SurveyCommands, JobsCommands, TrainCommands, SweepCommands, StatsCommands}) {
    for (Command& c : group()) all.push_back(std::move(c));
  }
  all.push_back({{"version", "", "Print the client version.", "", {}, {}}, nullptr});
  return all;
}

std::string CommandName(const CommandSpec& spec) {
  return spec.verb.empty() ? spec.group : absl::StrCat(spec.group, " ", spec.verb);
}

std::string TopLevelHelp(const std::vector<Command>& commands) {
  std::string out =
      "dreamshot: the DreamShot experiment client (talks to dreamshotd over gRPC)\n\n"
      "usage: dreamshot [global flags] <group> <verb> [arguments] [flags]\n\ncommands:\n";
  size_t width = 0;
  for (const Command& c : commands) width = std::max(width, CommandName(c.spec).size());
  for (const Command& c : commands) {
    const std::string name = CommandName(c.spec);
    absl::StrAppend(&out, "  ", name, std::string(width - name.size() + 3, ' '), c.spec.summary, "\n");
  }
  absl::StrAppend(&out, "\n", GlobalFlagsHelp(), "\n", ExitCodeHelp(),
                  "\nRun 'dreamshot <group> <verb> --help' for a command's arguments and flags.\n");
  return out;
}

std::string GroupHelp(const std::string& group, const std::vector<Command>& commands) {
  std::string out = absl::StrCat("dreamshot ", group, " commands:\n");
  for (const Command& c : commands) {
    if (c.spec.group == group) absl::StrAppend(&out, "  ", UsageLine(c.spec), "\n      ", c.spec.summary, "\n");
  }
  absl::StrAppend(&out, "\nRun 'dreamshot ", group, " <verb> --help' for details.\n");
  return out;
}

// The command a failed command line was aiming at (for its usage line).
const CommandSpec* GuessCommand(const std::vector<std::string>& argv, const std::vector<const CommandSpec*>& specs) {
  std::vector<std::string> words;
  for (size_t i = 0; i < argv.size() && words.size() < 2; ++i) {
    if (argv[i].rfind("-", 0) == 0) continue;
    words.push_back(argv[i]);
  }
  for (const CommandSpec* s : specs) {
    if (!words.empty() && s->group == words[0] && (s->verb.empty() || (words.size() > 1 && s->verb == words[1]))) {
      return s;
    }
  }
  return nullptr;
}

int ReportUsage(const absl::Status& status, const CommandSpec* spec) {
  const int code = ReportError(status, std::cerr);
  if (spec) {
    std::cerr << "usage: " << UsageLine(*spec) << "\n(see 'dreamshot " << CommandName(*spec) << " --help')\n";
  } else {
    std::cerr << "(see 'dreamshot --help')\n";
  }
  return code;
}

int Main(int argc, char** argv) {
  const std::vector<Command> commands = AllCommands();
  std::vector<const CommandSpec*> specs;
  for (const Command& c : commands) specs.push_back(&c.spec);
  const std::vector<std::string> words(argv + 1, argv + argc);
  std::map<std::string, std::string> env;
  if (const char* server = std::getenv("DREAMSHOT_SERVER")) env["DREAMSHOT_SERVER"] = server;

  if (words.empty()) {
    std::cerr << TopLevelHelp(commands);
    return 2;
  }
  absl::StatusOr<ParsedCommandLine> parsed = ParseCommandLine(words, specs, env);
  if (!parsed.ok()) return ReportUsage(parsed.status(), GuessCommand(words, specs));
  if (parsed->global.help) {
    if (parsed->command) {
      std::cout << CommandHelp(*parsed->command);
    } else if (!parsed->group.empty()) {
      std::cout << GroupHelp(parsed->group, commands);
    } else {
      std::cout << TopLevelHelp(commands);
    }
    return 0;
  }
  const CommandSpec& spec = *parsed->command;
  if (spec.group == "version") {
    if (parsed->global.json) {
      std::cout << "{\"version\":\"" << kVersion << "\",\"api\":\"dreamshot.v1\"}\n";
    } else {
      std::cout << "dreamshot " << kVersion << " (api dreamshot.v1)\n";
    }
    return 0;
  }
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(parsed->global);
  if (!client.ok()) return ReportUsage(client.status(), &spec);
  Context context{parsed->global, parsed->args, **client, std::cout};
  absl::Status status;
  for (const Command& c : commands) {
    if (&c.spec == &spec) status = c.run(context);
  }
  std::cout.flush();
  if (IsUsageError(status)) return ReportUsage(status, &spec);
  return ReportError(status, std::cerr);
}

}  // namespace
}  // namespace dreamshot::cli

int main(int argc, char** argv) { return dreamshot::cli::Main(argc, argv); }
