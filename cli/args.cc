#include "cli/args.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace dreamshot::cli {
namespace {

constexpr char kUsagePayload[] = "dreamshot.cli/usage";
constexpr char kDefaultServer[] = "127.0.0.1:50051";

struct GlobalFlag {
  const char* name;
  const char* value_name;  // nullptr: boolean
  const char* help;
};

constexpr GlobalFlag kGlobalFlags[] = {
    {"server", "HOST:PORT", "dreamshotd address (default: $DREAMSHOT_SERVER, else 127.0.0.1:50051)"},
    {"token-file", "FILE",
     "file holding the bearer token sent as 'authorization: Bearer <token>' "
     "(default: $DREAMSHOT_TOKEN holds the token itself)"},
    {"json", nullptr, "print each response message as JSON, one document per line"},
    {"timeout", "SECONDS", "deadline of each RPC (default 30; `metrics watch` has none unless given)"},
    {"help", nullptr, "show help for the command (also -h)"},
};

const GlobalFlag* FindGlobal(absl::string_view name) {
  for (const GlobalFlag& f : kGlobalFlags) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

const FlagSpec* FindFlag(const CommandSpec& command, absl::string_view name) {
  for (const FlagSpec& f : command.flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string CommandName(const CommandSpec& command) {
  return command.verb.empty() ? command.group : absl::StrCat(command.group, " ", command.verb);
}

std::vector<std::string> VerbsOf(absl::string_view group, const std::vector<const CommandSpec*>& commands) {
  std::vector<std::string> verbs;
  for (const CommandSpec* c : commands) {
    if (c->group == group && !c->verb.empty()) verbs.push_back(c->verb);
  }
  return verbs;
}

bool IsFlagWord(const std::string& word) { return word.size() > 2 && word[0] == '-' && word[1] == '-'; }

absl::Status ApplyGlobal(const GlobalFlag& flag, const std::string& value, GlobalOptions* global) {
  const absl::string_view name = flag.name;
  if (name == "server") {
    if (value.empty()) return UsageError("--server needs HOST:PORT");
    global->server = value;
  } else if (name == "token-file") {
    global->token_file = value;
  } else if (name == "json") {
    global->json = true;
  } else if (name == "help") {
    global->help = true;
  } else if (name == "timeout") {
    double seconds = 0;
    if (!absl::SimpleAtod(value, &seconds) || !(seconds > 0) || std::isinf(seconds)) {
      return UsageError(absl::StrCat("--timeout must be a positive number of seconds, got '", value, "'"));
    }
    global->timeout_s = seconds;
    global->timeout_given = true;
  }
  return absl::OkStatus();
}

// Checks the positionals against the spec: names what is missing or extra.
absl::Status CheckPositionals(const CommandSpec& command, const Args& args) {
  const auto& specs = command.positionals;
  const size_t given = args.positionals().size();
  for (size_t i = given; i < specs.size(); ++i) {
    if (specs[i].required) {
      return UsageError(absl::StrCat("'", CommandName(command), "' is missing ", specs[i].name));
    }
  }
  const bool variadic = !specs.empty() && specs.back().variadic;
  if (given > specs.size() && !variadic) {
    return UsageError(absl::StrCat("unexpected argument '", args.positionals()[specs.size()], "' for '",
                                   CommandName(command), "'"));
  }
  for (const FlagSpec& f : command.flags) {
    if (f.required && !args.Has(f.name)) {
      return UsageError(absl::StrCat("'", CommandName(command), "' needs --", f.name, " ", f.value_name));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string Args::Positional(size_t i) const { return i < positionals_.size() ? positionals_[i] : ""; }

bool Args::Has(absl::string_view flag) const { return flags_.find(flag) != flags_.end(); }

std::optional<std::string> Args::Get(absl::string_view flag) const {
  auto it = flags_.find(flag);
  if (it == flags_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::string Args::GetOr(absl::string_view flag, absl::string_view fallback) const {
  std::optional<std::string> v = Get(flag);
  return v ? *v : std::string(fallback);
}

std::vector<std::string> Args::GetAll(absl::string_view flag) const {
  auto it = flags_.find(flag);
  return it == flags_.end() ? std::vector<std::string>{} : it->second;
}

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}

bool IsUsageError(const absl::Status& status) { return status.GetPayload(kUsagePayload).has_value(); }

absl::StatusOr<ParsedCommandLine> ParseCommandLine(const std::vector<std::string>& argv,
                                                   const std::vector<const CommandSpec*>& commands,
                                                   const std::map<std::string, std::string>& env) {
  ParsedCommandLine out;
  auto server_env = env.find("DREAMSHOT_SERVER");
  out.global.server = server_env != env.end() && !server_env->second.empty() ? server_env->second
                                                                             : kDefaultServer;
  // With --help anywhere, unknown command flags and missing arguments are no
  // obstacle to showing the help.
  bool help = false;
  for (const std::string& word : argv) {
    if (word == "--") break;
    if (word == "--help" || word == "-h") help = true;
  }

  bool flags_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& word = argv[i];
    if (!flags_done && word == "--") {
      flags_done = true;
      continue;
    }
    if (!flags_done && word == "-h") {
      out.global.help = true;
      continue;
    }
    if (!flags_done && IsFlagWord(word)) {
      const size_t eq = word.find('=');
      const std::string name = word.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      std::optional<std::string> inline_value;
      if (eq != std::string::npos) inline_value = word.substr(eq + 1);

      const GlobalFlag* global = FindGlobal(name);
      const FlagSpec* flag = out.command ? FindFlag(*out.command, name) : nullptr;
      if (!global && !flag) {
        if (help) continue;
        if (!out.command) {
          return UsageError(absl::StrCat("unknown flag --", name,
                                         out.group.empty() ? "" : " (command flags go after the verb)"));
        }
        return UsageError(absl::StrCat("unknown flag --", name, " for '", CommandName(*out.command), "'"));
      }
      const bool takes_value = global ? global->value_name != nullptr : !flag->value_name.empty();
      std::string value;
      if (!takes_value) {
        if (inline_value) return UsageError(absl::StrCat("--", name, " takes no value"));
      } else if (inline_value) {
        value = *inline_value;
      } else if (i + 1 < argv.size()) {
        value = argv[++i];
      } else {
        return UsageError(absl::StrCat("--", name, " needs a value (",
                                       global ? global->value_name : flag->value_name, ")"));
      }
      if (global) {
        absl::Status status = ApplyGlobal(*global, value, &out.global);
        if (!status.ok()) return status;
        continue;
      }
      if (!flag->repeated && out.args.Has(name) && !help) {
        return UsageError(absl::StrCat("--", name, " is given twice"));
      }
      out.args.AddFlag(name, std::move(value));
      continue;
    }
    // A positional word: the group, then the verb, then the command's own.
    if (out.group.empty()) {
      out.group = word;
      const std::vector<std::string> verbs = VerbsOf(word, commands);
      const CommandSpec* verbless = nullptr;
      for (const CommandSpec* c : commands) {
        if (c->group == word && c->verb.empty()) verbless = c;
      }
      if (verbless) {
        out.command = verbless;
      } else if (verbs.empty()) {
        return UsageError(absl::StrCat("unknown command '", word, "'"));
      }
      continue;
    }
    // A group may have a verbless command and verbs too (`sweep`, `sweep
    // status`): a verb right after the group picks its command.
    if (!out.command || (out.command->verb.empty() && out.args.positionals().empty())) {
      const CommandSpec* verb = nullptr;
      for (const CommandSpec* c : commands) {
        if (c->group == out.group && !c->verb.empty() && c->verb == word) verb = c;
      }
      if (verb) {
        out.command = verb;
        continue;
      }
      if (!out.command) {
        return UsageError(absl::StrCat("unknown verb '", word, "' for '", out.group,
                                       "' (verbs: ", absl::StrJoin(VerbsOf(out.group, commands), ", "), ")"));
      }
    }
    out.args.AddPositional(word);
  }

  out.global.help = out.global.help || help;
  if (out.global.help) return out;
  if (out.group.empty()) return UsageError("no command given");
  if (!out.command) {
    return UsageError(absl::StrCat("'", out.group, "' needs a verb: ",
                                   absl::StrJoin(VerbsOf(out.group, commands), ", ")));
  }
  absl::Status status = CheckPositionals(*out.command, out.args);
  if (!status.ok()) return status;
  return out;
}

std::string UsageLine(const CommandSpec& command) {
  std::string line = absl::StrCat("dreamshot ", CommandName(command));
  for (const PositionalSpec& p : command.positionals) {
    std::string word = p.variadic ? absl::StrCat(p.name, "...") : p.name;
    absl::StrAppend(&line, " ", p.required ? word : absl::StrCat("[", word, "]"));
  }
  for (const FlagSpec& f : command.flags) {
    std::string word = absl::StrCat("--", f.name, f.value_name.empty() ? "" : " ", f.value_name);
    absl::StrAppend(&line, " ", f.required ? word : absl::StrCat("[", word, "]"), f.repeated ? "..." : "");
  }
  return line;
}

namespace {

void AppendFlagLines(std::string* out, const std::vector<std::pair<std::string, std::string>>& rows) {
  size_t width = 0;
  for (const auto& row : rows) width = std::max(width, row.first.size());
  for (const auto& row : rows) {
    absl::StrAppend(out, "  ", row.first, std::string(width - row.first.size() + 3, ' '), row.second, "\n");
  }
}

}  // namespace

std::string GlobalFlagsHelp() {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const GlobalFlag& f : kGlobalFlags) {
    rows.emplace_back(absl::StrCat("--", f.name, f.value_name ? " " : "", f.value_name ? f.value_name : ""),
                      f.help);
  }
  std::string out = "global flags (anywhere on the line):\n";
  AppendFlagLines(&out, rows);
  return out;
}

std::string CommandHelp(const CommandSpec& command) {
  std::string out = absl::StrCat("usage: ", UsageLine(command), "\n\n", command.summary, "\n");
  if (!command.description.empty()) absl::StrAppend(&out, "\n", command.description, "\n");
  if (!command.flags.empty()) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const FlagSpec& f : command.flags) {
      rows.emplace_back(absl::StrCat("--", f.name, f.value_name.empty() ? "" : " ", f.value_name),
                        absl::StrCat(f.help, f.repeated ? " (repeatable)" : "",
                                     f.required ? " (required)" : ""));
    }
    absl::StrAppend(&out, "\nflags:\n");
    AppendFlagLines(&out, rows);
  }
  absl::StrAppend(&out, "\n", GlobalFlagsHelp());
  return out;
}

absl::StatusOr<int64_t> ParseInt64(absl::string_view text, absl::string_view what) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    return UsageError(absl::StrCat(what, " must be an integer, got '", text, "'"));
  }
  return value;
}

absl::StatusOr<double> ParseDouble(absl::string_view text, absl::string_view what) {
  double value = 0;
  if (!absl::SimpleAtod(text, &value)) {
    return UsageError(absl::StrCat(what, " must be a number, got '", text, "'"));
  }
  return value;
}

absl::StatusOr<int64_t> ParseId(absl::string_view text, absl::string_view what) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value) || value <= 0) {
    return UsageError(absl::StrCat(what, " must be a positive integer, got '", text, "'"));
  }
  return value;
}

absl::StatusOr<std::pair<std::string, std::string>> ParseKeyValue(absl::string_view text,
                                                                  absl::string_view what) {
  const size_t eq = text.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return UsageError(absl::StrCat(what, " must look like KEY=VALUE, got '", text, "'"));
  }
  return std::make_pair(std::string(text.substr(0, eq)), std::string(text.substr(eq + 1)));
}

}  // namespace dreamshot::cli
