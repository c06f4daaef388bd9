// Command-line parsing for `dreamshot`:
//
//   dreamshot [global flags] <group> <verb> [positionals] [flags]
//
// Flags are `--name value`, `--name=value` or, for boolean flags, `--name`.
// A flag may be repeated when its spec says so (`--param a=1 --param b=2`).
// Global flags (--server, --token-file, --json, --timeout, --help) are
// accepted anywhere on the line; command flags go after the verb. `--` ends
// flag parsing (everything after it is positional).
//
// Every problem is a usage error (see UsageError) that names the offending
// word, so `main` can print it with the command's usage line and exit 2
// before any RPC is made.
#ifndef DREAMSHOT_CLI_ARGS_H_
#define DREAMSHOT_CLI_ARGS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::cli {

struct FlagSpec {
  std::string name;        // without the leading "--"
  std::string value_name;  // e.g. "N"; empty: a boolean flag that takes no value
  std::string help;
  bool repeated = false;
  bool required = false;  // the command cannot run without it
};

struct PositionalSpec {
  std::string name;  // e.g. "RUN", "KEY=VALUE"
  bool required = true;
  bool variadic = false;  // only the last positional: takes every remaining word
};

struct CommandSpec {
  std::string group;  // "runs"
  std::string verb;   // "list"; empty for verb-less commands such as `version`
  std::string summary;      // one line, for the top-level help
  std::string description;  // optional paragraph for `--help`
  std::vector<PositionalSpec> positionals;
  std::vector<FlagSpec> flags;
};

// The global flags, after defaults and environment variables are applied.
struct GlobalOptions {
  std::string server;      // host:port
  std::string token_file;  // --token-file (empty: none)
  bool json = false;
  double timeout_s = 30;
  bool timeout_given = false;  // --timeout was on the command line
  bool help = false;
};

// What a command sees: its positionals and the flags given on the line.
class Args {
 public:
  const std::vector<std::string>& positionals() const { return positionals_; }
  // The i-th positional, or "" when absent.
  std::string Positional(size_t i) const;
  bool Has(absl::string_view flag) const;
  // The last value of a flag (a repeated flag's last occurrence), if given.
  std::optional<std::string> Get(absl::string_view flag) const;
  std::string GetOr(absl::string_view flag, absl::string_view fallback) const;
  // Every value of a repeated flag, in command-line order.
  std::vector<std::string> GetAll(absl::string_view flag) const;

  void AddPositional(std::string value) { positionals_.push_back(std::move(value)); }
  void AddFlag(const std::string& flag, std::string value) { flags_[flag].push_back(std::move(value)); }

 private:
  std::vector<std::string> positionals_;
  std::map<std::string, std::vector<std::string>, std::less<>> flags_;
};

struct ParsedCommandLine {
  GlobalOptions global;
  // The command named on the line; null when only a group (or nothing) was
  // named, which is valid only together with --help.
  const CommandSpec* command = nullptr;
  std::string group;  // the group word, when one was given
  Args args;
};

// Parses argv (without the program name). `env` looks up environment
// variables (DREAMSHOT_SERVER); it is a parameter so tests need no setenv.
absl::StatusOr<ParsedCommandLine> ParseCommandLine(
    const std::vector<std::string>& argv, const std::vector<const CommandSpec*>& commands,
    const std::map<std::string, std::string>& env);

// A usage error: INVALID_ARGUMENT marked so that main prints usage with it.
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

// "dreamshot runs list [--experiment NAME_OR_ID]... [--limit N]".
std::string UsageLine(const CommandSpec& command);
// The full `--help` text of one command.
std::string CommandHelp(const CommandSpec& command);
// The global flags' help block, shared by every help text.
std::string GlobalFlagsHelp();

// Value parsers: each returns a usage error naming `what` and the bad text.
absl::StatusOr<int64_t> ParseInt64(absl::string_view text, absl::string_view what);
absl::StatusOr<double> ParseDouble(absl::string_view text, absl::string_view what);
// A positive id ("run id must be a positive integer, got 'abc'").
absl::StatusOr<int64_t> ParseId(absl::string_view text, absl::string_view what);
// "key=value" -> {key, value}; the key must be non-empty, the value may be.
absl::StatusOr<std::pair<std::string, std::string>> ParseKeyValue(absl::string_view text,
                                                                  absl::string_view what);

}  // namespace dreamshot::cli

#endif  // DREAMSHOT_CLI_ARGS_H_
