#include "jobs/job_kind.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"

namespace dreamshot::jobs {

absl::Status JobContext::ReadConfig(google::protobuf::Message* config) const {
  const auto parsed = google::protobuf::util::JsonStringToMessage(job_.config_json, config);
  if (parsed.ok()) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("job ", job_.id, ": its stored ", config->GetDescriptor()->full_name(),
                                          " does not parse: ", parsed.ToString()));
}

}  // namespace dreamshot::jobs
