#include "cli/client.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "rpc/grpc_status.h"

namespace dreamshot::cli {
namespace {

constexpr char kInterruptedPayload[] = "dreamshot.cli/interrupted";

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return UsageError(absl::StrCat("cannot read --token-file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(buffer.str()));
  if (token.empty()) return UsageError(absl::StrCat("--token-file ", path, " is empty"));
  return token;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Create(const GlobalOptions& options) {
  std::string token;
  if (!options.token_file.empty()) {
    absl::StatusOr<std::string> read = ReadTokenFile(options.token_file);
    if (!read.ok()) return read.status();
    token = *read;
  } else if (const char* env = std::getenv("DREAMSHOT_TOKEN"); env != nullptr) {
    token = std::string(absl::StripAsciiWhitespace(env));
  }
  return std::unique_ptr<Client>(new Client(options.server, std::move(token), options));
}

Client::Client(std::string address, std::string token, const GlobalOptions& options)
    : address_(std::move(address)),
      token_(std::move(token)),
      timeout_s_(options.timeout_s),
      timeout_given_(options.timeout_given) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);  // long metric histories; the server caps what it sends
  args.SetMaxSendMessageSize(-1);     // artifacts; the server caps what it accepts
  channel_ = grpc::CreateCustomChannel(address_, grpc::InsecureChannelCredentials(), args);
  stub_ = v1::ExperimentService::NewStub(channel_);
  generator_ = v1::GeneratorService::NewStub(channel_);
  dataset_ = v1::DatasetService::NewStub(channel_);
  survey_ = v1::SurveyService::NewStub(channel_);
  jobs_ = v1::JobService::NewStub(channel_);
  trainer_ = v1::TrainerService::NewStub(channel_);
}

void Client::Prepare(grpc::ClientContext* context, bool streaming) const {
  if (!streaming || timeout_given_) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(static_cast<int64_t>(timeout_s_ * 1000)));
  }
  if (!token_.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
}

absl::Status Client::Check(const grpc::Status& status) const {
  absl::Status out = rpc::FromGrpcStatus(status);
  if (out.code() == absl::StatusCode::kUnavailable) {
    return absl::UnavailableError(
        absl::StrCat(out.message(), " (is dreamshotd running at ", address_, "?)"));
  }
  if (out.code() == absl::StatusCode::kDeadlineExceeded) {
    return absl::DeadlineExceededError(
        absl::StrCat(out.message(), " (after --timeout ", timeout_s_, "s)"));
  }
  return out;
}

int ExitCodeFor(const absl::Status& status) {
  if (status.GetPayload(kInterruptedPayload).has_value()) return 130;
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 0;
    case absl::StatusCode::kInvalidArgument:
      return 2;
    case absl::StatusCode::kNotFound:
      return 3;
    case absl::StatusCode::kAlreadyExists:
      return 4;
    case absl::StatusCode::kFailedPrecondition:
      return 5;
    case absl::StatusCode::kUnavailable:
      return 6;
    case absl::StatusCode::kUnauthenticated:
      return 7;
    case absl::StatusCode::kResourceExhausted:
      return 8;
    default:
      return 1;
  }
}

std::string ExitCodeHelp() {
  return "exit codes:\n"
         "  0    OK\n"
         "  1    any other error (INTERNAL, DEADLINE_EXCEEDED, ...)\n"
         "  2    usage error or INVALID_ARGUMENT\n"
         "  3    NOT_FOUND\n"
         "  4    ALREADY_EXISTS\n"
         "  5    FAILED_PRECONDITION\n"
         "  6    UNAVAILABLE (is dreamshotd running?)\n"
         "  7    UNAUTHENTICATED\n"
         "  8    RESOURCE_EXHAUSTED\n"
         "  130  interrupted (Ctrl-C)\n";
}

int ReportError(const absl::Status& status, std::ostream& err) {
  if (status.ok()) return 0;
  if (IsUsageError(status)) {
    err << "dreamshot: usage error: " << status.message() << "\n";
  } else if (status.GetPayload(kInterruptedPayload).has_value()) {
    err << "dreamshot: interrupted\n";
  } else {
    err << "dreamshot: " << absl::StatusCodeToString(status.code()) << ": " << status.message() << "\n";
  }
  return ExitCodeFor(status);
}

absl::Status InterruptedError() {
  absl::Status status = absl::CancelledError("interrupted");
  status.SetPayload(kInterruptedPayload, absl::Cord("1"));
  return status;
}

}  // namespace dreamshot::cli
