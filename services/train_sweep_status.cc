#include "services/train_sweep_status.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>

#include "core/status_macros.h"
#include "services/early_stop_requests.h"
#include "services/job_convert.h"
#include "services/train_sweep.h"
#include "services/train_sweep_group.h"

namespace dreamshot::services {

absl::StatusOr<v1::SweepStatusResponse> GetSweepStatus(experiments::ExperimentStore* runs, jobs::JobRunner* runner,
                                                      int64_t parent_job_id) {
  if (parent_job_id <= 0) return absl::InvalidArgumentError("job_id must be a positive job id");
  ASSIGN_OR_RETURN(experiments::JobRecord parent, runner->store().Get(parent_job_id));
  ASSIGN_OR_RETURN(v1::TrainGroupConfig group, ReadTrainGroupConfig(parent));
  v1::SweepStatusResponse out;
  ToProto(parent, out.mutable_parent());
  const v1::SweepSpec& spec = group.sweep();
  for (const auto& [field, value] : ValuesOf(spec, v1::TrainConfig())) out.add_dimensions(field);
  absl::StatusOr<v1::EarlyStop> rule = ValidateEarlyStop(spec.early_stop());
  if (rule.ok()) *out.mutable_early_stop() = *rule;

  experiments::JobQuery query;
  query.parent_id = parent_job_id;
  query.limit = 1 << 20;
  ASSIGN_OR_RETURN(std::vector<experiments::JobRecord> children, runner->store().List(query));
  std::reverse(children.begin(), children.end());  // newest first → submission (expansion) order
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  for (const experiments::JobRecord& job : children) {
    v1::SweepChild* child = out.add_children();
    child->set_job_id(job.id);
    child->set_name(job.run.run_name);
    v1::Job as_proto;
    ToProto(job, &as_proto);
    child->set_state(as_proto.state());
    child->set_run_id(job.run.run_id);
    child->set_error(job.error);
    v1::TrainConfig config;
    if (google::protobuf::util::JsonStringToMessage(job.config_json, &config, options).ok()) {
      child->set_max_steps(config.max_train_steps());
      if (out.dimensions_size() > 0) {
        for (const auto& [field, value] : ValuesOf(spec, config)) {
          v1::SweepValue* v = child->add_values();
          v->set_field(field);
          v->set_value(value);
        }
      }
    }
    if (job.run.run_id <= 0) continue;
    absl::StatusOr<experiments::Run> run = runs->GetRun(job.run.run_id);
    if (!run.ok()) continue;
    if (auto tag = run->tags.find(kEarlyStopTag); tag != run->tags.end()) child->set_stopped_early(tag->second);
    for (const experiments::MetricSummary& m : run->metrics) {
      if (m.key != "loss") continue;
      child->set_step(m.step);
      child->set_loss(m.value);
    }
  }
  return out;
}

}  // namespace dreamshot::services
