// The flags that fill a TrainConfig, shared by `dreamshot train` and
// `dreamshot sweep`, and reading a request from a JSON or text-proto file.
#ifndef DREAMSHOT_CLI_TRAIN_FLAGS_H_
#define DREAMSHOT_CLI_TRAIN_FLAGS_H_

#include <google/protobuf/message.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cli/args.h"
#include "dreamshot/v1/trainer.pb.h"

namespace dreamshot::cli {

std::vector<FlagSpec> TrainConfigFlags();

// Sets the fields whose flags were given and leaves the others alone, so
// flags override a config file. Paths become absolute (the server reads
// them). A usage error naming the flag for a bad number.
absl::Status ApplyTrainConfigFlags(const Args& args, v1::TrainConfig* config);

// The flags that take one number or word and the TrainConfig field each
// sets ("lr" -> "learning_rate"): the ones `dreamshot sweep` also takes as
// a comma-separated list of values to sweep.
struct ScalarTrainFlag {
  const char* flag;
  const char* field;
};
const std::vector<ScalarTrainFlag>& ScalarTrainFlags();

// A message from a file of JSON (proto field names) or text proto, told
// apart by a leading '{'. NOT_FOUND for a file that cannot be read,
// INVALID_ARGUMENT naming the file, line and problem otherwise.
absl::Status ReadMessageFile(const std::string& path, google::protobuf::Message* message);

}  // namespace dreamshot::cli

#endif  // DREAMSHOT_CLI_TRAIN_FLAGS_H_
