#include "services/train_sweep_stop.h"

#include "core/status_macros.h"
#include "services/train_job.h"
#include "services/train_sweep.h"
#include "services/train_sweep_group.h"

namespace dreamshot::services {
namespace {

absl::StatusOr<std::vector<MetricPoint>> History(experiments::ExperimentStore* runs, int64_t run_id,
                                                 const std::string& key) {
  ASSIGN_OR_RETURN(std::vector<experiments::MetricPoint> points, runs->GetMetricHistory(run_id, key));
  std::vector<MetricPoint> out;
  out.reserve(points.size());
  for (const experiments::MetricPoint& p : points) out.push_back({p.step, p.value});
  return out;
}

}  // namespace
v1::EarlyStop SweepEarlyStop::RuleOf(int64_t group_id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = rules_.find(group_id); it != rules_.end()) return it->second;
  }
  v1::EarlyStop rule;
  absl::StatusOr<experiments::JobRecord> group = runner_->store().Get(group_id);
  if (group.ok()) {
    absl::StatusOr<v1::TrainGroupConfig> config = ReadTrainGroupConfig(*group);
    if (config.ok()) {
      absl::StatusOr<v1::EarlyStop> valid = ValidateEarlyStop(config->sweep().early_stop());
      if (valid.ok()) rule = *valid;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  rules_[group_id] = rule;
  return rule;
}

void SweepEarlyStop::OnProgress(const experiments::JobRecord& job, int64_t run_id,
                                const google::protobuf::Message& progress) {
  if (job.kind != kTrainJob || job.parent_id <= 0 || run_id <= 0) return;
  const auto* p = dynamic_cast<const v1::TrainProgress*>(&progress);
  if (p == nullptr) return;
  const v1::EarlyStop rule = RuleOf(job.parent_id);
  if (rule.step() <= 0 || p->step() != rule.step()) return;
  absl::StatusOr<std::vector<MetricPoint>> mine = History(runs_, run_id, rule.metric());
  if (!mine.ok()) return;
  experiments::JobQuery query;
  query.parent_id = job.parent_id;
  query.limit = 1 << 20;
  absl::StatusOr<std::vector<experiments::JobRecord>> siblings = runner_->store().List(query);
  if (!siblings.ok()) return;
  std::vector<std::vector<MetricPoint>> theirs;
  for (const experiments::JobRecord& sibling : *siblings) {
    if (sibling.id == job.id || sibling.run.run_id <= 0) continue;
    absl::StatusOr<std::vector<MetricPoint>> points = History(runs_, sibling.run.run_id, rule.metric());
    if (points.ok()) theirs.push_back(*std::move(points));
  }
  if (std::optional<std::string> verdict = EarlyStopVerdict(rule, *mine, theirs)) {
    requests_->Request(job.id, *std::move(verdict));
  }
}

}  // namespace dreamshot::services
