// dreamshot train: a DreamBooth-LoRA training job (TrainerService), followed
// to its end like `dreamshot jobs watch` (or left running with --detach).
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/command.h"
#include "cli/job_follow.h"
#include "cli/train_flags.h"
#include "cli/train_group_follow.h"
#include "dreamshot/v1/trainer.grpc.pb.h"

namespace dreamshot::cli {
namespace {

absl::Status Train(Context& ctx) {
  v1::StartTrainingRequest request;
  v1::TrainConfig* c = request.mutable_config();
  absl::Status status = absl::OkStatus();
  if (auto file = ctx.args.Get("config")) status = ReadMessageFile(AbsolutePath(*file), c);
  if (status.ok()) status = ApplyTrainConfigFlags(ctx.args, c);
  if (status.ok()) status = ApplyJobOptions(ctx.args, request.mutable_job());
  if (!status.ok()) return status;
  if (auto scales = ctx.args.Get("scales")) {
    for (absl::string_view s : absl::StrSplit(*scales, ',', absl::SkipEmpty())) {
      request.add_shot_scales(std::string(s));
    }
    if (ctx.args.Has("scale")) return UsageError("give --scale or --scales, not both");
  }
  request.mutable_target()->set_experiment(ctx.args.GetOr("experiment", ""));
  request.mutable_target()->set_run_name(ctx.args.GetOr("run-name", ""));
  if (c->base_model().empty()) return UsageError("give --model (a diffusers folder)");
  if (c->instance_dir().empty() && c->pool_run_id() == 0) {
    return UsageError("give --images (a folder of training images) or --pool (a dataset pool's run)");
  }

  v1::StartTrainingResponse response;
  status = ctx.client.Call(ctx.client.trainer(), &v1::TrainerService::Stub::StartTraining, request, &response);
  if (!status.ok()) return status;
  if (request.job().detach()) return PrintDetached(ctx, response, response.job_id());
  if (!ctx.global.json) {
    ctx.out << "job " << response.job_id();
    if (response.child_job_ids_size() > 0) {
      ctx.out << " (parent run " << response.parent_run_id() << "; one training job per scale:";
      for (int i = 0; i < response.child_job_ids_size(); ++i) {
        ctx.out << " " << request.shot_scales(i) << " " << response.child_job_ids(i);
      }
      ctx.out << ")";
    }
    ctx.out << "\n" << std::flush;
  }
  if (response.child_job_ids_size() > 0) return FollowTrainGroup(ctx, response.job_id(), "job");
  return FollowJob(ctx, response.job_id());
}

}  // namespace

std::vector<Command> TrainCommands() {
  std::vector<FlagSpec> flags = TrainConfigFlags();
  for (FlagSpec& f : flags) f.required = f.name == "model";
  flags.push_back({"scales", "A,B,C", "one adapter per shot scale (e.g. close,medium,long), three runs under a parent"});
  flags.push_back({"config", "FILE", "a TrainConfig as JSON or text proto; flags override its fields"});
  flags.push_back({"experiment", "NAME", "the run's experiment (default training)"});
  flags.push_back({"run-name", "NAME", "the run's name"});
  for (const FlagSpec& f : JobFlags()) flags.push_back(f);
  return {{{"train", "",
            "Train a DreamBooth LoRA (prior preservation) and store it as an artifact of a new run.",
            "Runs as a job: follows it with a progress bar; Ctrl-C stops following and leaves it running "
            "(`dreamshot jobs cancel JOB` stops it; `dreamshot jobs retry JOB` resumes from its checkpoint).",
            {},
            flags},
           Train}};
}

}  // namespace dreamshot::cli
