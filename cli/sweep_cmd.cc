// dreamshot sweep: trains one LoRA per point of a grid (or random trial)
// over TrainConfig fields, times each seed, as children of one parent job
// (TrainerService.LaunchSweep), and follows them to the end; `dreamshot
// sweep status PARENT` prints the grid, rank × learning rate.
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/command.h"
#include "cli/interrupt.h"
#include "cli/job_follow.h"
#include "cli/progress_bar.h"
#include "cli/table.h"
#include "cli/train_group_follow.h"
#include "cli/train_flags.h"
#include "dreamshot/v1/trainer.grpc.pb.h"

namespace dreamshot::cli {
namespace {

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) out.emplace_back(part);
  return out;
}

// Replaces a dimension the config file had over the same field.
v1::SweepDimension* DimensionFor(v1::SweepSpec* spec, const std::string& field) {
  for (v1::SweepDimension& d : *spec->mutable_dimensions()) {
    if (d.field() == field) {
      d.Clear();
      d.set_field(field);
      return &d;
    }
  }
  v1::SweepDimension* d = spec->add_dimensions();
  d->set_field(field);
  return d;
}

absl::Status IntOption(const Args& args, const char* flag, int64_t min, const std::function<void(int64_t)>& set) {
  if (auto v = args.Get(flag)) {
    absl::StatusOr<int64_t> n = ParseInt64(*v, absl::StrCat("--", flag));
    if (!n.ok()) return n.status();
    if (*n < min) return UsageError(absl::StrCat("--", flag, " must be at least ", min, ", got ", *n));
    set(*n);
  }
  return absl::OkStatus();
}

// The request: the --config file, then the flags over it. A common
// training flag given a comma-separated list (--rank 4,8,16) sweeps its
// field; given one value it sets the base config.
absl::StatusOr<v1::LaunchSweepRequest> BuildRequest(const Args& args) {
  v1::LaunchSweepRequest request;
  if (auto file = args.Get("config")) {
    absl::Status read = ReadMessageFile(*file, &request);
    if (!read.ok()) return read;
  }
  v1::SweepSpec* spec = request.mutable_spec();
  std::map<std::string, std::string> sweepable;
  for (const ScalarTrainFlag& f : ScalarTrainFlags()) sweepable[f.flag] = f.field;
  Args base;
  for (const FlagSpec& f : TrainConfigFlags()) {
    if (f.value_name.empty()) {
      if (args.Has(f.name)) base.AddFlag(f.name, "");
      continue;
    }
    for (const std::string& value : args.GetAll(f.name)) {
      auto field = sweepable.find(f.name);
      if (field != sweepable.end() && value.find(',') != std::string::npos) {
        v1::SweepDimension* d = DimensionFor(spec, field->second);
        for (const std::string& v : SplitList(value)) d->add_values(v);
      } else {
        base.AddFlag(f.name, value);
      }
    }
  }
  absl::Status status = ApplyTrainConfigFlags(base, request.mutable_base());
  if (!status.ok()) return status;
  for (const std::string& text : args.GetAll("sweep")) {
    absl::StatusOr<std::pair<std::string, std::string>> kv = ParseKeyValue(text, "--sweep");
    if (!kv.ok()) return kv.status();
    v1::SweepDimension* d = DimensionFor(spec, kv->first);
    for (const std::string& v : SplitList(kv->second)) d->add_values(v);
  }
  for (const std::string& text : args.GetAll("log-uniform")) {
    absl::StatusOr<std::pair<std::string, std::string>> kv = ParseKeyValue(text, "--log-uniform");
    if (!kv.ok()) return kv.status();
    const std::vector<std::string> range = SplitList(kv->second);
    if (range.size() != 2) return UsageError(absl::StrCat("--log-uniform wants FIELD=MIN,MAX, got '", text, "'"));
    absl::StatusOr<double> lo = ParseDouble(range[0], "--log-uniform MIN");
    absl::StatusOr<double> hi = ParseDouble(range[1], "--log-uniform MAX");
    if (!lo.ok()) return lo.status();
    if (!hi.ok()) return hi.status();
    v1::SweepDimension* d = DimensionFor(spec, kv->first);
    d->mutable_log_uniform()->set_min(*lo);
    d->mutable_log_uniform()->set_max(*hi);
  }
  if (auto seeds = args.Get("seeds")) {
    spec->clear_seeds();
    for (const std::string& s : SplitList(*seeds)) {
      absl::StatusOr<int64_t> seed = ParseInt64(s, "--seeds");
      if (!seed.ok()) return seed.status();
      if (*seed < 0) return UsageError(absl::StrCat("--seeds must not be negative, got ", *seed));
      spec->add_seeds(static_cast<uint64_t>(*seed));
    }
  }
  v1::EarlyStop* stop = spec->mutable_early_stop();
  status = IntOption(args, "max-concurrent", 0, [&](int64_t n) { spec->set_max_concurrent(static_cast<int32_t>(n)); });
  if (status.ok()) {
    status = IntOption(args, "random", 1, [&](int64_t n) {
      spec->set_mode(v1::SweepSpec::RANDOM);
      spec->set_trials(static_cast<int32_t>(n));
    });
  }
  if (status.ok()) status = IntOption(args, "sampling-seed", 0, [&](int64_t n) { spec->set_sampling_seed(n); });
  if (status.ok()) status = IntOption(args, "early-stop-step", 1, [&](int64_t n) { stop->set_step(n); });
  if (status.ok()) {
    status = IntOption(args, "early-stop-window", 1, [&](int64_t n) { stop->set_window(static_cast<int32_t>(n)); });
  }
  if (status.ok()) {
    status = IntOption(args, "early-stop-min-siblings", 1,
                       [&](int64_t n) { stop->set_min_siblings(static_cast<int32_t>(n)); });
  }
  if (!status.ok()) return status;
  if (auto factor = args.Get("early-stop-factor")) {
    absl::StatusOr<double> x = ParseDouble(*factor, "--early-stop-factor");
    if (!x.ok()) return x.status();
    stop->set_factor(*x);
  }
  if (auto metric = args.Get("early-stop-metric")) stop->set_metric(*metric);
  if (stop->ByteSizeLong() == 0) spec->clear_early_stop();
  if (auto experiment = args.Get("experiment")) request.mutable_target()->set_experiment(*experiment);
  if (auto name = args.Get("run-name")) request.mutable_target()->set_run_name(*name);
  status = ApplyJobOptions(args, request.mutable_job());
  if (!status.ok()) return status;
  if (request.base().base_model().empty()) return UsageError("give --model (a diffusers folder) or --config");
  if (request.base().instance_dir().empty()) {
    return UsageError("give --images (a folder of training images) or --config");
  }
  return request;
}

absl::Status Sweep(Context& ctx) {
  absl::StatusOr<v1::LaunchSweepRequest> request = BuildRequest(ctx.args);
  if (!request.ok()) return request.status();
  v1::LaunchSweepResponse response;
  absl::Status status =
      ctx.client.Call(ctx.client.trainer(), &v1::TrainerService::Stub::LaunchSweep, *request, &response);
  if (!status.ok()) return status;
  if (ctx.global.json) {
    status = PrintJson(response, ctx.out);
    if (!status.ok() || request->job().detach()) return status;
  } else {
    ctx.out << "sweep job " << response.parent_job_id() << " (run " << response.parent_run_id() << "): "
            << response.children_size() << " runs\n";
    Table table({"JOB", "RUN NAME"});
    table.SetMaxWidth(1, 0);
    for (const v1::SweepChild& c : response.children()) table.AddRow({absl::StrCat(c.job_id()), c.name()});
    ctx.out << table.Render() << std::flush;
    if (request->job().detach()) {
      ctx.out << "it goes on without this client (dreamshot sweep status " << response.parent_job_id() << ")\n";
      return absl::OkStatus();
    }
  }
  return FollowTrainGroup(ctx, response.parent_job_id(), "sweep job");
}

std::string Cell(const v1::SweepChild& c) {
  std::string cell = JobStateName(c.state());
  if (c.has_loss()) absl::StrAppend(&cell, " ", FormatNumber(c.loss()));
  if (c.state() == v1::JOB_RUNNING) absl::StrAppend(&cell, " (", c.step(), "/", c.max_steps(), ")");
  return cell;
}

// Values of a dimension in the order the children have them.
std::vector<std::string> Distinct(const v1::SweepStatusResponse& s, int dim) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const v1::SweepChild& c : s.children()) {
    if (dim < c.values_size() && seen.insert(c.values(dim).value()).second) out.push_back(c.values(dim).value());
  }
  return out;
}

std::string ValueOf(const v1::SweepChild& c, int dim) { return dim < c.values_size() ? c.values(dim).value() : ""; }

// The grid: rows the first dimension, columns the second; a section per
// combination of the others ("seed=2").
std::string Grid(const v1::SweepStatusResponse& s) {
  const int dims = s.dimensions_size();
  if (dims == 0) return "";
  std::map<std::string, std::vector<const v1::SweepChild*>> sections;
  std::vector<std::string> section_order;
  for (const v1::SweepChild& c : s.children()) {
    std::vector<std::string> parts;
    for (int d = 2; d < dims; ++d) parts.push_back(absl::StrCat(s.dimensions(d), "=", ValueOf(c, d)));
    const std::string key = absl::StrJoin(parts, " ");
    if (sections.find(key) == sections.end()) section_order.push_back(key);
    sections[key].push_back(&c);
  }
  const std::vector<std::string> rows = Distinct(s, 0);
  const std::vector<std::string> columns = dims > 1 ? Distinct(s, 1) : std::vector<std::string>{""};
  std::string out;
  for (const std::string& key : section_order) {
    std::vector<std::string> header = {dims > 1 ? absl::StrCat(s.dimensions(0), " \\ ", s.dimensions(1))
                                                : s.dimensions(0)};
    for (const std::string& col : columns) header.push_back(dims > 1 ? col : "state, loss");
    Table table(header);
    for (size_t i = 1; i < header.size(); ++i) table.SetAlign(i, Table::Align::kLeft);
    for (const std::string& row : rows) {
      std::vector<std::string> cells = {row};
      for (const std::string& col : columns) {
        std::vector<std::string> here;
        for (const v1::SweepChild* c : sections[key]) {
          if (ValueOf(*c, 0) == row && (dims == 1 || ValueOf(*c, 1) == col)) here.push_back(Cell(*c));
        }
        cells.push_back(absl::StrJoin(here, "; "));
      }
      table.AddRow(cells);
    }
    if (!out.empty() && !key.empty()) absl::StrAppend(&out, "\n");
    absl::StrAppend(&out, key.empty() ? "" : absl::StrCat(key, "\n"), table.Render());
  }
  return out;
}

absl::Status Status(Context& ctx) {
  absl::StatusOr<int64_t> id = ParseId(ctx.args.Positional(0), "job id");
  if (!id.ok()) return id.status();
  absl::StatusOr<v1::SweepStatusResponse> s = FetchTrainGroupStatus(ctx, *id);
  if (!s.ok()) return s.status();
  if (ctx.global.json) return PrintJson(*s, ctx.out);
  // A training over several shot scales is a group without dimensions.
  const bool sweep = s->dimensions_size() > 0;
  ctx.out << (sweep ? "sweep job " : "job ") << s->parent().id() << ": " << JobStateName(s->parent().state()) << " ("
          << TrainGroupCounts(*s) << ")";
  if (s->parent().run_id() > 0) ctx.out << ", run " << s->parent().run_id();
  ctx.out << "\n";
  if (s->early_stop().step() > 0) {
    const v1::EarlyStop& r = s->early_stop();
    ctx.out << "early stop: at step " << r.step() << ", a run whose " << r.metric();
    if (r.window() > 1) ctx.out << " (mean of its last " << r.window() << " steps)";
    ctx.out << " is above " << FormatNumber(r.factor()) << " × the median of at least " << r.min_siblings()
            << " sibling(s) there finishes early\n";
  }
  if (sweep) ctx.out << "\n" << Grid(*s);
  Table jobs({"JOB", "RUN NAME", "STATE", "STEP", "LOSS", "RUN", "NOTE"});
  jobs.SetMaxWidth(1, 0);
  jobs.SetMaxWidth(6, 0);
  for (const v1::SweepChild& c : s->children()) {
    jobs.AddRow({absl::StrCat(c.job_id()), c.name(), JobStateName(c.state()),
                 c.step() > 0 ? absl::StrCat(c.step(), "/", c.max_steps()) : "",
                 c.has_loss() ? FormatNumber(c.loss()) : "",
                 c.run_id() > 0 ? absl::StrCat(c.run_id()) : "",
                 c.state() == v1::JOB_FINISHED ? c.stopped_early() : c.error()});
  }
  ctx.out << "\n" << jobs.Render();
  return absl::OkStatus();
}

}  // namespace

std::vector<Command> SweepCommands() {
  std::vector<FlagSpec> flags = {
      {"config", "FILE", "a LaunchSweepRequest as JSON or text proto; flags override it"},
      {"sweep", "FIELD=V1,V2", "sweep any TrainConfig field over these values", true},
      {"seeds", "S1,S2", "train each configuration once per seed"},
      {"max-concurrent", "N", "children running at once per device (default: as the server's lane allows)"},
      {"random", "N", "draw N random configurations instead of the grid"},
      {"sampling-seed", "N", "seeds the random draw (same seed, same configurations)"},
      {"log-uniform", "FIELD=MIN,MAX", "with --random: draw a float field log-uniformly", true},
      {"early-stop-step", "S", "at step S, finish early a run whose loss is above the median of its siblings there"},
      {"early-stop-factor", "X", "... above X × the median (default 1)"},
      {"early-stop-window", "K", "... averaging its last K steps up to S (default 1)"},
      {"early-stop-metric", "KEY", "... on this metric instead of loss"},
      {"early-stop-min-siblings", "N", "... once at least N siblings have reached S (default 1)"},
      {"experiment", "NAME", "the runs' experiment (default training)"},
      {"run-name", "NAME", "the parent run's name"},
  };
  for (const FlagSpec& f : TrainConfigFlags()) flags.push_back(f);
  for (const FlagSpec& f : JobFlags()) flags.push_back(f);
  for (FlagSpec& f : flags) {
    for (const ScalarTrainFlag& s : ScalarTrainFlags()) {
      if (f.name == s.flag) f.help += " (a list A,B,C sweeps it)";
    }
  }
  return {{{"sweep", "",
            "Train one LoRA per point of a grid over training flags (--rank 4,8 --lr 1e-4,5e-5 --seeds 1,2).",
            "Each point (times each seed) is a training job and a run, all children of one parent job and run. "
            "Follows them with a progress bar; Ctrl-C stops following and leaves them running. "
            "`dreamshot jobs retry PARENT` runs again only the children that did not finish; "
            "`dreamshot jobs cancel PARENT` stops them all.",
            {},
            flags},
           Sweep},
          {{"sweep", "status", "Show a sweep's grid: each run's state and latest loss (rows rank, columns lr).",
            "Dimensions beyond the first two make one grid each; the table below lists every run.",
            {{"PARENT"}},
            {}},
           Status}};
}

}  // namespace dreamshot::cli
