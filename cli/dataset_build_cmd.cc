// dreamshot dataset shots | build | report: shot detection on one video,
// pool builds (streamed, Ctrl-C stops and --resume goes on) and the pool
// report.
#include <unistd.h>

#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/command.h"
#include "cli/interrupt.h"
#include "cli/progress_bar.h"
#include "cli/table.h"

namespace dreamshot::cli {
namespace {

// "1:02:03.25", "2:03.25" or "3.25".
std::string Timecode(double seconds) {
  const int64_t centis = static_cast<int64_t>(seconds * 100 + 0.5);
  const int64_t h = centis / 360000, m = centis / 6000 % 60;
  const double s = static_cast<double>(centis % 6000) / 100;
  if (h > 0) return absl::StrFormat("%d:%02d:%05.2f", h, m, s);
  return absl::StrFormat("%d:%05.2f", m, s);
}

std::string ScaleName(v1::ShotType type) {
  switch (type) {
    case v1::CLOSE:
      return "close";
    case v1::MEDIUM:
      return "medium";
    case v1::LONG:
      return "long";
    default:
      return "unknown";
  }
}

absl::Status ApplyDetection(const Args& args, v1::ShotDetectionConfig* c) {
  if (auto d = args.Get("detector")) c->set_detector(*d);
  for (const auto& [flag, set] : std::vector<std::pair<const char*, void (v1::ShotDetectionConfig::*)(double)>>{
           {"threshold", &v1::ShotDetectionConfig::set_threshold},
           {"adaptive-ratio", &v1::ShotDetectionConfig::set_adaptive_ratio}}) {
    if (auto v = args.Get(flag)) {
      absl::StatusOr<double> value = ParseDouble(*v, absl::StrCat("--", flag));
      if (!value.ok()) return value.status();
      (c->*set)(*value);
    }
  }
  for (const auto& [flag, set] : std::vector<std::pair<const char*, void (v1::ShotDetectionConfig::*)(int32_t)>>{
           {"min-shot-frames", &v1::ShotDetectionConfig::set_min_shot_frames},
           {"analysis-size", &v1::ShotDetectionConfig::set_analysis_size},
           {"frame-step", &v1::ShotDetectionConfig::set_frame_step}}) {
    if (auto v = args.Get(flag)) {
      absl::StatusOr<int64_t> value = ParseInt64(*v, absl::StrCat("--", flag));
      if (!value.ok()) return value.status();
      (c->*set)(static_cast<int32_t>(*value));
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyKeyframes(const Args& args, v1::KeyframeConfig* c) {
  for (const auto& [flag, set] : std::vector<std::pair<const char*, void (v1::KeyframeConfig::*)(int32_t)>>{
           {"resolution", &v1::KeyframeConfig::set_resolution}, {"min-side", &v1::KeyframeConfig::set_min_side}}) {
    if (auto v = args.Get(flag)) {
      absl::StatusOr<int64_t> value = ParseInt64(*v, absl::StrCat("--", flag));
      if (!value.ok()) return value.status();
      (c->*set)(static_cast<int32_t>(*value));
    }
  }
  for (const auto& [flag, set] : std::vector<std::pair<const char*, void (v1::KeyframeConfig::*)(double)>>{
           {"min-sharpness", &v1::KeyframeConfig::set_min_sharpness},
           {"min-contrast", &v1::KeyframeConfig::set_min_contrast}}) {
    if (auto v = args.Get(flag)) {
      absl::StatusOr<double> value = ParseDouble(*v, absl::StrCat("--", flag));
      if (!value.ok()) return value.status();
      (c->*set)(*value);
    }
  }
  if (args.Has("text-filter")) c->set_text_filter(true);
  if (auto model = args.Get("face-model")) c->set_face_model(AbsolutePath(*model));
  return absl::OkStatus();
}

const std::vector<FlagSpec>& DetectionFlags() {
  static const std::vector<FlagSpec> flags = {
      {"detector", "NAME", "content (default) or adaptive"},
      {"threshold", "T", "content detector: score that cuts, 0-255 (default 27)"},
      {"adaptive-ratio", "R", "adaptive detector: score / neighbours' mean (default 3)"},
      {"min-shot-frames", "N", "no shot shorter than N frames (default 15)"},
      {"analysis-size", "PX", "longest side of analysis frames (default 256)"},
      {"frame-step", "K", "analyse every K-th frame (default 1)"}};
  return flags;
}

const std::vector<FlagSpec>& KeyframeFlags() {
  static const std::vector<FlagSpec> flags = {
      {"resolution", "PX", "training image side (default 512)"},
      {"min-sharpness", "V", "blur filter: variance of Laplacian at 512 px (default 40)"},
      {"min-contrast", "S", "low-contrast filter: luma standard deviation (default 15)"},
      {"min-side", "PX", "drop pictures whose shorter side is below PX after bars (default 384)"},
      {"text-filter", "", "drop frames with burned-in text or heavy subtitles"},
      {"face-model", "ONNX", "YuNet face detector model instead of OpenCV's Haar cascades"}};
  return flags;
}

std::vector<FlagSpec> Join(std::vector<FlagSpec> a, const std::vector<FlagSpec>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

absl::Status Shots(Context& ctx) {
  v1::DetectShotsRequest request;
  request.set_video(AbsolutePath(ctx.args.Positional(0)));
  request.set_analyze_keyframes(!ctx.args.Has("cuts-only"));
  absl::Status status = ApplyDetection(ctx.args, request.mutable_detection());
  if (status.ok()) status = ApplyKeyframes(ctx.args, request.mutable_keyframes());
  if (!status.ok()) return status;
  grpc::ClientContext context;
  ctx.client.Prepare(&context, /*streaming=*/true);  // a film takes minutes: no default deadline
  std::optional<CancelOnInterrupt> interrupt(&context);
  v1::DetectShotsResponse response;
  const grpc::Status result = ctx.client.dataset().DetectShots(&context, request, &response);
  const bool interrupted = interrupt->interrupted();
  interrupt.reset();
  if (interrupted) return InterruptedError();
  status = ctx.client.Check(result);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(response, ctx.out);

  const bool analysed = request.analyze_keyframes();
  ctx.out << response.video() << ": " << response.frames() << " frames, " << response.width() << "x"
          << response.height() << ", " << absl::StrFormat("%.3f", response.fps()) << " fps, " << response.codec()
          << "; " << response.shots_size() << (response.shots_size() == 1 ? " shot in " : " shots in ")
          << absl::StrFormat("%.1f", response.seconds()) << " s\n";
  std::vector<std::string> header = {"SHOT", "FIRST", "LAST", "START", "END"};
  if (analysed) {
    for (const char* h : {"KEYFRAME", "SCALE", "FINE", "CONF", "KEPT", "DROPPED BECAUSE"}) header.push_back(h);
  }
  Table table(header);
  for (const v1::DetectedShot& s : response.shots()) {
    std::vector<std::string> row = {absl::StrCat(s.index()), absl::StrCat(s.start_frame()), absl::StrCat(s.end_frame()),
                                    Timecode(s.start_s()), Timecode(s.end_s())};
    if (analysed) {
      std::string drops;
      for (const v1::Drop& d : s.drops())
        drops += absl::StrCat(drops.empty() ? "" : "; ", d.filter(), ": ", d.detail());
      row.insert(row.end(), {absl::StrCat(s.keyframe()), ScaleName(s.label().scale()), s.label().fine_scale(),
                             absl::StrFormat("%.2f", s.label().confidence()), s.kept() ? "yes" : "no", drops});
    }
    table.AddRow(row);
  }
  if (analysed) table.SetMaxWidth(header.size() - 1, 70);
  ctx.out << table.Render();
  for (const std::string& w : response.warnings()) ctx.out << "warning: " << w << "\n";
  if (analysed) ctx.out << "Scale labels are estimates from detected faces and bodies, not ground truth.\n";
  return absl::OkStatus();
}

void PrintReport(const v1::PoolReport& r, std::ostream& out) {
  const int64_t sources = r.sources_done() + r.sources_failed();
  out << "pool of run " << r.run_id() << ": " << sources << (sources == 1 ? " source (" : " sources (")
      << r.sources_failed() << " failed), " << r.items() << " shots, " << r.kept() << " kept, " << r.captioned()
      << " captioned";
  if (r.elapsed_s() > 0) out << "; built in " << absl::StrFormat("%.1f", r.elapsed_s()) << " s";
  out << "\n";
  if (!r.drops().empty()) {
    std::map<std::string, int64_t> drops(r.drops().begin(), r.drops().end());
    std::string line;
    for (const auto& [filter, n] : drops) line += absl::StrCat(line.empty() ? "" : ", ", filter, " ", n);
    out << "dropped: " << line << "\n";
  }
  Table scales({"SCALE (ESTIMATED)", "KEPT SHOTS", "SHARE", "MEAN CONFIDENCE"});
  for (const v1::LabelCount& c : r.scales()) {
    scales.AddRow({c.scale(), absl::StrCat(c.count()), absl::StrFormat("%.1f%%", c.percent()),
                   c.count() > 0 ? absl::StrFormat("%.2f", c.mean_confidence()) : "-"});
  }
  out << scales.Render();
  std::string fine;
  for (const v1::LabelCount& c : r.fine_scales()) {
    fine += absl::StrCat(fine.empty() ? "" : ", ", c.scale(), " ", c.count());
  }
  out << "fine scale: " << fine << "\n";
  if (!r.splits().empty()) {
    std::map<std::string, int64_t> splits(r.splits().begin(), r.splits().end());
    std::string line;
    for (const auto& [name, n] : splits) line += absl::StrCat(line.empty() ? "" : ", ", name, " ", n);
    out << "splits: " << line << "\n";
  }
  for (const v1::SourceOutcome& f : r.failed_sources()) out << "failed: " << f.source() << ": " << f.detail() << "\n";
  if (r.ignored_files_size() > 0) {
    out << "ignored " << r.ignored_files_size() << " file(s) that are neither video nor image:";
    for (int i = 0; i < r.ignored_files_size() && i < 5; ++i) out << " " << r.ignored_files(i);
    if (r.ignored_files_size() > 5) out << " …";
    out << "\n";
  }
}

absl::Status Build(Context& ctx) {
  v1::BuildPoolRequest request;
  if (auto resume = ctx.args.Get("resume")) {
    absl::StatusOr<int64_t> run_id = ParseRunId(*resume);
    if (!run_id.ok()) return run_id.status();
    request.set_resume_run_id(*run_id);
    if (!ctx.args.positionals().empty()) {
      return UsageError("--resume takes the sources and settings from the run: give no SOURCE");
    }
  } else {
    if (ctx.args.positionals().empty()) return UsageError("give at least one SOURCE (or --resume RUN)");
    for (const std::string& source : ctx.args.positionals()) request.add_sources(AbsolutePath(source));
    absl::Status status = ApplyDetection(ctx.args, request.mutable_detection());
    if (status.ok()) status = ApplyKeyframes(ctx.args, request.mutable_keyframes());
    if (!status.ok()) return status;
    if (auto d = ctx.args.Get("dedup-distance")) {
      absl::StatusOr<int64_t> value = ParseInt64(*d, "--dedup-distance");
      if (!value.ok()) return value.status();
      request.set_dedup_distance(static_cast<int32_t>(*value));
    }
    request.mutable_target()->set_experiment(ctx.args.GetOr("experiment", ""));
    request.mutable_target()->set_run_name(ctx.args.GetOr("name", ""));
  }
  if (auto t = ctx.args.Get("threads")) {
    absl::StatusOr<int64_t> value = ParseInt64(*t, "--threads");
    if (!value.ok()) return value.status();
    request.set_threads(static_cast<int32_t>(*value));
  }
  request.set_retry_failed(ctx.args.Has("retry-failed"));
  if (absl::Status job = ApplyJobOptions(ctx.args, request.mutable_job()); !job.ok()) return job;

  grpc::ClientContext context;
  ctx.client.Prepare(&context, /*streaming=*/true);
  std::optional<CancelOnInterrupt> interrupt(&context);
  auto reader = ctx.client.dataset().BuildPool(&context, request);
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  ProgressBar bar(std::cerr, terminal);
  v1::BuildPoolResponse message;
  int64_t run_id = 0;
  absl::Status status;
  while (status.ok() && reader->Read(&message)) {
    if (request.job().detach() && message.job_id() > 0) {
      status = PrintDetached(ctx, message, message.job_id());
      context.TryCancel();
      reader->Finish();
      return status;
    }
    if (run_id == 0 && message.run_id() != 0) {
      run_id = message.run_id();
      if (!ctx.global.json) {
        bar.Clear();
        ctx.out << "run " << run_id << "\n" << std::flush;
      }
    }
    if (ctx.global.json) {
      if (!message.has_progress()) status = PrintJson(message, ctx.out);
    } else if (message.has_progress()) {
      const v1::BuildProgress& p = message.progress();
      // On a terminal the bar carries the counts; in a log, a line per
      // stage and tenth (and one per source below) is enough.
      std::string stage = p.message();
      if (terminal && p.message() == "analysing") {
        stage =
            absl::StrFormat("%d shots (%.1f/s), %d kept, %d frames", p.shots(), p.shots_per_s(), p.kept(), p.frames());
      }
      bar.Update(p.sources_done() + p.sources_skipped(), p.sources_total(), stage, 0, p.queue_position());
    } else if (message.has_source()) {
      bar.Clear();
      const v1::SourceOutcome& s = message.source();
      if (s.failed()) {
        ctx.out << "failed  " << s.source() << ": " << s.detail() << "\n";
      } else {
        ctx.out << "done    " << s.source() << ": " << s.shots() << (s.shots() == 1 ? " shot, " : " shots, ")
                << s.kept() << " kept, " << s.frames() << (s.frames() == 1 ? " frame in " : " frames in ")
                << absl::StrFormat("%.1f", s.seconds()) << " s"
                << (s.detail().empty() ? "" : absl::StrCat(" (", s.detail(), ")")) << "\n";
      }
    } else if (message.has_report()) {
      bar.Clear();
      PrintReport(message.report(), ctx.out);
    }
    ctx.out.flush();
  }
  if (!status.ok()) context.TryCancel();
  const grpc::Status finish = reader->Finish();
  bar.Clear();
  const bool interrupted = interrupt->interrupted();
  interrupt.reset();
  if (interrupted) {
    if (run_id != 0) std::cerr << "stopped; go on with: dreamshot dataset build --resume " << run_id << "\n";
    return InterruptedError();
  }
  if (!status.ok()) return status;
  return ctx.client.Check(finish);
}

absl::Status Report(Context& ctx) {
  absl::StatusOr<int64_t> run_id = ParseRunId(ctx.args.Positional(0));
  if (!run_id.ok()) return run_id.status();
  v1::DescribePoolRequest request;
  request.set_run_id(*run_id);
  v1::PoolReport response;
  absl::Status status =
      ctx.client.Call(ctx.client.dataset(), &v1::DatasetService::Stub::DescribePool, request, &response);
  if (!status.ok()) return status;
  if (ctx.global.json) return PrintJson(response, ctx.out);
  PrintReport(response, ctx.out);
  return absl::OkStatus();
}

}  // namespace

std::vector<Command> DatasetBuildCommands() {
  return {
      {{"dataset",
        "shots",
        "Detect the shots of one video and judge each shot's keyframe, without a pool.",
        "Prints each shot's first and last frame, start and end time, keyframe, estimated scale with its "
        "confidence, and why a filter would drop it. VIDEO is a file or a folder of stills played as a "
        "sequence, on the server's machine. --json prints the DetectShotsResponse.",
        {{"VIDEO"}},
        Join(Join(DetectionFlags(), KeyframeFlags()), {{"cuts-only", "", "only detect cuts (no keyframes)"}})},
       Shots},
      {{"dataset",
        "build",
        "Build a pool of shots from videos, stills and folders (resumable, parallel).",
        "Each source's shots, labels and 512x512 training PNGs land in one transaction when it is done; "
        "Ctrl-C (or a crash) loses only the sources in progress, and --resume RUN goes on from there without "
        "duplicates. Unreadable files are reported and skipped. Ends with a near-duplicate pass over the pool "
        "and the pool report.",
        {{"SOURCE", false, true}},
        Join(Join(DetectionFlags(), KeyframeFlags()),
             {{"dedup-distance", "BITS", "pHash distance of near-duplicates (default 6; -1: off)"},
              {"threads", "N", "sources analysed at once (default: one per core; --resume keeps the build's)"},
              {"experiment", "NAME", "experiment of the pool's run (default datasets)"},
              {"name", "NAME", "the run's name"},
              {"resume", "RUN", "go on with the build of RUN"},
              {"retry-failed", "", "with --resume: analyse failed sources again"},
              JobFlags()[0],
              JobFlags()[1]})},
       Build},
      {{"dataset",
        "report",
        "Summarise a pool: sources, kept and dropped shots, scale label distribution.",
        "",
        {{"RUN"}},
        {}},
       Report},
  };
}

}  // namespace dreamshot::cli
