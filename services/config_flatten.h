// A run's config arrives as a google.protobuf.Any (e.g. a TrainConfig). It is
// stored as JSON and flattened into dotted params ("lora.rank" = "8") so that
// the same schema is searchable with filters.
#ifndef DREAMSHOT_SERVICES_CONFIG_FLATTEN_H_
#define DREAMSHOT_SERVICES_CONFIG_FLATTEN_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/message.h"

namespace dreamshot::services {

struct FlattenedConfig {
  std::string type_name;
  std::string json;
  std::map<std::string, std::string> params;
};

// Fields that are set (proto3: non-default) become params; nested messages
// add a dotted prefix, maps add ".<key>", repeated fields become one JSON array.
std::map<std::string, std::string> FlattenMessage(const google::protobuf::Message& message);

// INVALID_ARGUMENT if the type is unknown to this server or the bytes do not parse.
absl::StatusOr<FlattenedConfig> FlattenConfig(const google::protobuf::Any& config);
// A config the server built itself (e.g. a GenerationRequest).
absl::StatusOr<FlattenedConfig> FlattenConfig(const google::protobuf::Message& config);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_CONFIG_FLATTEN_H_
