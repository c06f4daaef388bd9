#include "services/experiment_convert.h"

#include "absl/strings/str_cat.h"

namespace dreamshot::services {

using experiments::RunStatus;

v1::RunStatus ToProto(RunStatus status) {
  switch (status) {
    case RunStatus::kQueued:
      return v1::QUEUED;
    case RunStatus::kRunning:
      return v1::RUNNING;
    case RunStatus::kFinished:
      return v1::FINISHED;
    case RunStatus::kFailed:
      return v1::FAILED;
    case RunStatus::kCancelled:
      return v1::CANCELLED;
  }
  return v1::RUN_STATUS_UNSPECIFIED;
}

absl::StatusOr<RunStatus> FromProto(v1::RunStatus status) {
  switch (status) {
    case v1::QUEUED:
      return RunStatus::kQueued;
    case v1::RUNNING:
      return RunStatus::kRunning;
    case v1::FINISHED:
      return RunStatus::kFinished;
    case v1::FAILED:
      return RunStatus::kFailed;
    case v1::CANCELLED:
      return RunStatus::kCancelled;
    default:
      return absl::InvalidArgumentError(absl::StrCat("run status ", static_cast<int>(status),
                                                     " is not a valid status"));
  }
}

void ToProto(const experiments::Experiment& in, v1::Experiment* out) {
  out->set_id(in.id);
  out->set_name(in.name);
  out->set_description(in.description);
  out->mutable_tags()->insert(in.tags.begin(), in.tags.end());
  out->set_created_ms(in.created_ms);
  out->set_run_count(in.run_count);
}

void ToProto(const experiments::Run& in, v1::Run* out) {
  out->set_id(in.id);
  out->set_experiment_id(in.experiment_id);
  out->set_name(in.name);
  out->set_status(ToProto(in.status));
  out->set_start_ms(in.start_ms.value_or(0));
  out->set_end_ms(in.end_ms.value_or(0));
  out->set_parent_run_id(in.parent_run_id.value_or(0));
  out->mutable_tags()->insert(in.tags.begin(), in.tags.end());
  out->set_notes(in.notes);
  for (const auto& [key, value] : in.params) {
    v1::Param* p = out->add_params();
    p->set_key(key);
    p->set_value(value);
  }
  out->set_config_type(in.config_type);
  out->set_config_json(in.config_json);
  for (const experiments::MetricSummary& m : in.metrics) {
    v1::MetricSummary* s = out->add_metrics();
    s->set_key(m.key);
    s->set_step(m.step);
    s->set_value(m.value);
    s->set_wall_ms(m.wall_ms);
    s->set_min(m.min);
    s->set_max(m.max);
    s->set_count(m.count);
  }
  out->set_created_ms(in.created_ms);
}

void ToProto(const experiments::MetricPoint& in, v1::MetricPoint* out) {
  out->set_key(in.key);
  out->set_step(in.step);
  out->set_value(in.value);
  out->set_wall_ms(in.wall_ms);
}

experiments::MetricPoint FromProto(const v1::MetricPoint& in) {
  return {in.key(), in.step(), in.value(), in.wall_ms()};
}

void ToProto(const experiments::Artifact& in, v1::ArtifactRef* out) {
  out->set_id(in.id);
  out->set_run_id(in.run_id);
  out->set_kind(in.kind);
  out->set_path(in.path);
  out->set_sha256(in.sha256);
  out->set_size_bytes(in.size_bytes);
  out->set_created_ms(in.created_ms);
  out->set_uri(in.uri);
}

void ToProto(const experiments::RunComparison& in, v1::CompareRunsResponse* out) {
  for (const experiments::ParamComparison& row : in.params) {
    v1::ParamRow* p = out->add_params();
    p->set_key(row.key);
    p->set_differs(row.differs);
    for (const auto& value : row.values) {
      p->add_values(value.value_or(""));
      p->add_present(value.has_value());
    }
  }
  for (const experiments::MetricComparison& row : in.metrics) {
    v1::MetricRow* m = out->add_metrics();
    m->set_key(row.key);
    for (const auto& cell : row.cells) {
      v1::MetricCell* c = m->add_cells();
      if (!cell) continue;
      c->set_present(true);
      c->set_last(cell->value);
      c->set_last_step(cell->step);
      c->set_min(cell->min);
      c->set_max(cell->max);
      c->set_count(cell->count);
    }
  }
}

void ToProto(const experiments::RunGroupAggregate& in, v1::RunGroup* out) {
  for (const auto& [key, value] : in.shared_params) {
    v1::Param* p = out->add_params();
    p->set_key(key);
    p->set_value(value);
  }
  for (int64_t id : in.run_ids) out->add_run_ids(id);
  for (const experiments::MetricAggregate& a : in.metrics) {
    v1::MetricAggregate* m = out->add_metrics();
    m->set_key(a.key);
    m->set_n(a.n);
    m->set_mean(a.mean);
    m->set_stddev(a.stddev);
    m->set_ci_low(a.ci_low);
    m->set_ci_high(a.ci_high);
    m->set_min(a.min);
    m->set_max(a.max);
  }
}

}  // namespace dreamshot::services
