#include "cli/command.h"

#include <filesystem>
#include <system_error>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace dreamshot::cli {

std::string AbsolutePath(const std::string& path) {
  if (path.empty()) return path;
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(path, ec);
  return ec ? path : absolute.lexically_normal().string();
}

absl::Status PrintJson(const google::protobuf::Message& message, std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string json;
  const auto status = google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(absl::StrCat("cannot print ", message.GetTypeName(),
                                            " as JSON: ", status.ToString()));
  }
  out << json << "\n";
  return absl::OkStatus();
}

std::string StatusName(v1::RunStatus status) {
  if (status == v1::RUN_STATUS_UNSPECIFIED) return "-";
  return absl::AsciiStrToLower(v1::RunStatus_Name(status));
}

absl::StatusOr<v1::RunStatus> ParseRunStatus(const std::string& text, const std::string& what) {
  v1::RunStatus status;
  if (!v1::RunStatus_Parse(absl::AsciiStrToUpper(text), &status) || status == v1::RUN_STATUS_UNSPECIFIED) {
    return UsageError(absl::StrCat(what, " must be one of queued, running, finished, failed, cancelled; got '",
                                   text, "'"));
  }
  return status;
}

absl::StatusOr<int64_t> ParseRunId(const std::string& text) { return ParseId(text, "run id"); }

absl::StatusOr<v1::Experiment> ResolveExperiment(Client& client, const std::string& name_or_id) {
  v1::Experiment experiment;
  int64_t id = 0;
  if (absl::SimpleAtoi(name_or_id, &id) && id > 0) {
    v1::GetExperimentRequest by_id;
    by_id.set_id(id);
    absl::Status status = client.Call(&Client::Stub::GetExperiment, by_id, &experiment);
    if (status.code() != absl::StatusCode::kNotFound) {
      if (!status.ok()) return status;
      return experiment;
    }
  }
  v1::GetExperimentRequest by_name;
  by_name.set_name(name_or_id);
  absl::Status status = client.Call(&Client::Stub::GetExperiment, by_name, &experiment);
  if (!status.ok()) return status;
  return experiment;
}

std::vector<FlagSpec> JobFlags() {
  return {{"priority", "N", "runs before waiting jobs of lower priority (default 0)"},
          {"detach", "", "print the job id and leave; the job goes on (`dreamshot jobs watch JOB`)"}};
}

absl::Status ApplyJobOptions(const Args& args, v1::JobOptions* options) {
  if (auto p = args.Get("priority")) {
    absl::StatusOr<int64_t> value = ParseInt64(*p, "--priority");
    if (!value.ok()) return value.status();
    if (*value < -1000000 || *value > 1000000) return UsageError("--priority must be within ±1000000");
    options->set_priority(static_cast<int32_t>(*value));
  }
  options->set_detach(args.Has("detach"));
  return absl::OkStatus();
}

absl::Status PrintDetached(Context& ctx, const google::protobuf::Message& first, int64_t job_id) {
  if (ctx.global.json) return PrintJson(first, ctx.out);
  ctx.out << "job " << job_id << " queued; it goes on without this client (dreamshot jobs watch " << job_id << ")\n";
  return absl::OkStatus();
}

}  // namespace dreamshot::cli
