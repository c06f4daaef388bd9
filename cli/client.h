// The gRPC side of `dreamshot`: one channel to dreamshotd, per-call contexts
// (deadline + bearer token), and the mapping of a call's status to the
// process exit code and the one-line error on stderr.
//
// Exit codes (also printed by `dreamshot --help`):
//   0  OK
//   1  any other error (INTERNAL, DEADLINE_EXCEEDED, UNKNOWN, ...)
//   2  usage error (bad command line, checked before any RPC) or INVALID_ARGUMENT
//   3  NOT_FOUND
//   4  ALREADY_EXISTS
//   5  FAILED_PRECONDITION
//   6  UNAVAILABLE (the message asks whether dreamshotd is running at the address)
//   7  UNAUTHENTICATED
//   8  RESOURCE_EXHAUSTED
//   130 interrupted by Ctrl-C (`metrics watch`)
// Errors are printed as "dreamshot: <CODE_NAME>: <message>"; usage errors as
// "dreamshot: usage error: <message>" followed by the command's usage line.
#ifndef DREAMSHOT_CLI_CLIENT_H_
#define DREAMSHOT_CLI_CLIENT_H_

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cli/args.h"
#include "dreamshot/v1/dataset.grpc.pb.h"
#include "dreamshot/v1/survey.grpc.pb.h"
#include "dreamshot/v1/experiment.grpc.pb.h"
#include "dreamshot/v1/generator.grpc.pb.h"
#include "dreamshot/v1/job.grpc.pb.h"
#include "dreamshot/v1/trainer.grpc.pb.h"

namespace dreamshot::cli {

namespace v1 = ::dreamshot::v1;

class Client {
 public:
  using Stub = v1::ExperimentService::Stub;

  // Reads the token (--token-file, else $DREAMSHOT_TOKEN) and prepares the
  // channel; nothing connects until the first call. A missing or empty token
  // file is a usage error.
  static absl::StatusOr<std::unique_ptr<Client>> Create(const GlobalOptions& options);

  const std::string& address() const { return address_; }
  Stub& stub() { return *stub_; }
  v1::GeneratorService::Stub& generator() { return *generator_; }
  v1::DatasetService::Stub& dataset() { return *dataset_; }
  v1::SurveyService::Stub& survey() { return *survey_; }
  v1::JobService::Stub& jobs() { return *jobs_; }
  v1::TrainerService::Stub& trainer() { return *trainer_; }

  // Sets the deadline (unless `streaming` and no --timeout was given) and the
  // authorization metadata on a fresh context.
  void Prepare(grpc::ClientContext* context, bool streaming = false) const;

  // grpc::Status -> absl::Status, with a hint when the server is unreachable.
  absl::Status Check(const grpc::Status& status) const;

  // One unary call with a prepared context.
  template <typename Request, typename Response>
  absl::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response) {
    return Call(*stub_, method, request, response);
  }
  template <typename AnyStub, typename Request, typename Response>
  absl::Status Call(AnyStub& stub,
                    grpc::Status (AnyStub::*method)(grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response) {
    grpc::ClientContext context;
    Prepare(&context);
    return Check((stub.*method)(&context, request, response));
  }

 private:
  Client(std::string address, std::string token, const GlobalOptions& options);

  std::string address_;
  std::string token_;
  double timeout_s_;
  bool timeout_given_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Stub> stub_;
  std::unique_ptr<v1::GeneratorService::Stub> generator_;
  std::unique_ptr<v1::DatasetService::Stub> dataset_;
  std::unique_ptr<v1::SurveyService::Stub> survey_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::TrainerService::Stub> trainer_;
};

// The exit code for a status (see the table above).
int ExitCodeFor(const absl::Status& status);
// The table above as help text.
std::string ExitCodeHelp();
// Prints the error line (and nothing for OK) and returns the exit code.
int ReportError(const absl::Status& status, std::ostream& err);

// A CANCELLED status marked as a user interrupt (exit 130).
absl::Status InterruptedError();

}  // namespace dreamshot::cli

#endif  // DREAMSHOT_CLI_CLIENT_H_
