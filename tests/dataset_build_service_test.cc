// DatasetService's job RPCs through the gRPC stub, as a client uses them:
// DetectShots on OpenCV's Megamind.avi (hand-checked cuts at 98, 154, 200),
// BuildPool streamed over a folder with a copy of a film and an empty file,
// a build cancelled by the client and resumed, and refused requests.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "dreamshot/v1/dataset.grpc.pb.h"
#include "dreamshot/v1/experiment.grpc.pb.h"
#include "tests/service_test_util.h"

namespace dreamshot {
namespace {

namespace fs = std::filesystem;

const std::string kMegamind = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";

class DatasetBuildServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = testing::FreshDataDir("dataset-build");
    server_ = testing::StartServer(data_dir_);
    ASSERT_NE(server_, nullptr);
    dataset_ = v1::DatasetService::NewStub(testing::ChannelTo(*server_));
    experiments_ = v1::ExperimentService::NewStub(testing::ChannelTo(*server_));
    films_ = fs::path(data_dir_) / "films";
    fs::create_directories(films_);
  }

  std::string AddFilm(const std::string& name) {
    const fs::path path = films_ / name;
    fs::copy_file(kMegamind, path);
    return path.string();
  }

  // Reads a build stream to its end.
  struct Stream {
    int64_t run_id = 0;
    std::vector<v1::SourceOutcome> sources;
    std::vector<v1::BuildProgress> progress;
    std::optional<v1::PoolReport> report;
    grpc::Status status;
  };
  Stream Build(const v1::BuildPoolRequest& request, bool cancel_after_first_source = false) {
    grpc::ClientContext context;
    auto reader = dataset_->BuildPool(&context, request);
    Stream out;
    v1::BuildPoolResponse message;
    while (reader->Read(&message)) {
      if (message.run_id() != 0) out.run_id = message.run_id();
      if (message.has_progress()) out.progress.push_back(message.progress());
      if (message.has_source()) {
        out.sources.push_back(message.source());
        if (cancel_after_first_source) context.TryCancel();
      }
      if (message.has_report()) out.report = message.report();
    }
    out.status = reader->Finish();
    return out;
  }

  v1::Run GetRun(int64_t id) { return testing::GetRun(*experiments_, id); }

  std::string data_dir_;
  fs::path films_;
  std::unique_ptr<services::DreamshotServer> server_;
  std::unique_ptr<v1::DatasetService::Stub> dataset_;
  std::unique_ptr<v1::ExperimentService::Stub> experiments_;
};

TEST_F(DatasetBuildServiceTest, DetectShotsFindsMegamindsCutsAndLabelsEachShot) {
  grpc::ClientContext context;
  v1::DetectShotsRequest request;
  request.set_video(kMegamind);
  request.set_analyze_keyframes(true);
  v1::DetectShotsResponse response;
  grpc::Status status = dataset_->DetectShots(&context, request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.frames(), 270);
  EXPECT_EQ(response.width(), 720);
  EXPECT_EQ(response.height(), 528);
  EXPECT_NEAR(response.fps(), 23.976, 1e-3);
  ASSERT_EQ(response.shots_size(), 4);
  const int64_t starts[] = {0, 98, 154, 200};
  for (int i = 0; i < 4; ++i) {
    const v1::DetectedShot& s = response.shots(i);
    EXPECT_EQ(s.start_frame(), starts[i]);
    EXPECT_EQ(s.end_frame(), i < 3 ? starts[i + 1] - 1 : 269);
    EXPECT_GT(s.keyframe(), s.start_frame());
    EXPECT_LT(s.keyframe(), s.end_frame());
    EXPECT_NE(s.label().scale(), v1::SHOT_TYPE_UNSPECIFIED);
    EXPECT_GT(s.label().confidence(), 0);
    EXPECT_EQ(s.detector_params().at("threshold"), 27);
  }
  EXPECT_EQ(response.shots(3).label().scale(), v1::CLOSE);
}

TEST_F(DatasetBuildServiceTest, DetectShotsRefusesBadInputNamingIt) {
  auto detect = [&](const v1::DetectShotsRequest& request) {
    grpc::ClientContext context;
    v1::DetectShotsResponse response;
    return dataset_->DetectShots(&context, request, &response);
  };
  v1::DetectShotsRequest missing;
  missing.set_video("/nonexistent/film.mkv");
  EXPECT_EQ(detect(missing).error_code(), grpc::StatusCode::NOT_FOUND);
  v1::DetectShotsRequest empty;
  std::ofstream((films_ / "empty.mp4").string()).close();
  empty.set_video((films_ / "empty.mp4").string());
  grpc::Status status = detect(empty);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("empty"), std::string::npos) << status.error_message();
  v1::DetectShotsRequest threshold;
  threshold.set_video(kMegamind);
  threshold.mutable_detection()->set_threshold(0);
  status = detect(threshold);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("detection.threshold"), std::string::npos) << status.error_message();
  v1::DetectShotsRequest model;
  model.set_video(kMegamind);
  model.set_analyze_keyframes(true);
  model.mutable_keyframes()->set_face_model("/nonexistent/yunet.onnx");
  status = detect(model);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("yunet.onnx"), std::string::npos) << status.error_message();
}

TEST_F(DatasetBuildServiceTest, BuildPoolStreamsEachSourceAndEndsWithTheReport) {
  AddFilm("a.avi");
  AddFilm("b_copy.avi");
  std::ofstream((films_ / "empty.mp4").string()).close();
  std::ofstream((films_ / "notes.txt").string()) << "not footage";
  v1::BuildPoolRequest request;
  request.add_sources(films_.string());
  request.mutable_target()->set_run_name("megamind pool");
  Stream stream = Build(request);
  ASSERT_TRUE(stream.status.ok()) << stream.status.error_message();
  ASSERT_GT(stream.run_id, 0);
  ASSERT_EQ(stream.sources.size(), 3u);
  int failed = 0;
  for (const v1::SourceOutcome& s : stream.sources) {
    if (s.failed()) {
      ++failed;
      EXPECT_NE(s.detail().find("empty.mp4"), std::string::npos) << s.detail();
    } else {
      EXPECT_EQ(s.shots(), 4);
      EXPECT_EQ(s.frames(), 270);
    }
  }
  EXPECT_EQ(failed, 1);
  ASSERT_FALSE(stream.progress.empty());
  EXPECT_EQ(stream.progress.front().message(), "queued");
  ASSERT_TRUE(stream.report.has_value());
  EXPECT_EQ(stream.report->run_id(), stream.run_id);
  EXPECT_EQ(stream.report->items(), 8);
  EXPECT_EQ(stream.report->kept(), 4);
  EXPECT_EQ(stream.report->duplicates(), 4);
  EXPECT_EQ(stream.report->drops().at("duplicate"), 4);
  EXPECT_EQ(stream.report->sources_failed(), 1);
  ASSERT_EQ(stream.report->ignored_files_size(), 1);
  EXPECT_EQ(stream.report->ignored_files(0), (films_ / "notes.txt").lexically_normal().string());

  const v1::Run run = GetRun(stream.run_id);
  EXPECT_EQ(run.status(), v1::FINISHED);
  EXPECT_EQ(run.name(), "megamind pool");
  EXPECT_EQ(run.tags().at("dreamshot.kind"), "dataset");
  std::map<std::string, std::string> params;
  for (const v1::Param& p : run.params()) params[p.key()] = p.value();
  EXPECT_EQ(params["num_sources"], "1");
  EXPECT_EQ(params["num_files"], "3");
  EXPECT_EQ(params.count("detection.threshold"), 0u) << "defaults are not params";

  grpc::ClientContext context;
  v1::DescribePoolRequest describe;
  describe.set_run_id(stream.run_id);
  v1::PoolReport report;
  ASSERT_TRUE(dataset_->DescribePool(&context, describe, &report).ok());
  EXPECT_EQ(report.kept(), 4);
  EXPECT_EQ(report.items(), 8);
  EXPECT_EQ(report.duplicates(), 4);
  EXPECT_EQ(report.ignored_files_size(), 0) << "only a build lists the files it ignored";
  int64_t labelled = 0;
  for (const v1::LabelCount& c : report.scales()) labelled += c.count();
  EXPECT_EQ(labelled, 4);

  grpc::ClientContext export_context;
  v1::ExportManifestRequest manifest;
  manifest.set_run_id(stream.run_id);
  manifest.set_kept_only(true);
  v1::ExportManifestResponse exported;
  ASSERT_TRUE(dataset_->ExportManifest(&export_context, manifest, &exported).ok());
  EXPECT_EQ(exported.items(), 4);
  EXPECT_NE(exported.content().find("a.avi"), std::string::npos);
}

TEST_F(DatasetBuildServiceTest, ACancelledBuildResumesInItsRunWithoutDuplicates) {
  AddFilm("a.avi");
  AddFilm("b.avi");
  AddFilm("c.avi");
  v1::BuildPoolRequest request;
  request.add_sources(films_.string());
  request.set_threads(1);
  Stream first = Build(request, /*cancel_after_first_source=*/true);
  EXPECT_EQ(first.status.error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_GT(first.run_id, 0);
  // The server notices the cancellation asynchronously; wait for the run to end.
  for (int i = 0; i < 100 && GetRun(first.run_id).status() == v1::RUNNING; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(GetRun(first.run_id).status(), v1::CANCELLED);

  v1::BuildPoolRequest resume;
  resume.set_resume_run_id(first.run_id);
  Stream second = Build(resume);
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  EXPECT_EQ(second.run_id, first.run_id);
  ASSERT_FALSE(second.progress.empty());
  EXPECT_GE(second.progress.back().sources_skipped(), 1);
  ASSERT_TRUE(second.report.has_value());
  EXPECT_EQ(second.report->items(), 12);  // 3 films x 4 shots, each once
  EXPECT_EQ(second.report->kept(), 4);
  const v1::Run run = GetRun(first.run_id);
  EXPECT_EQ(run.status(), v1::FINISHED);
  EXPECT_NE(run.notes().find("resumed at"), std::string::npos) << run.notes();
}

// A build the server stopped under (its run left running, as a killed
// dreamshotd leaves it) is failed by the next server with the interruption
// as a dated event; resumed and finished, its notes tell that history and
// nowhere say it failed.
TEST_F(DatasetBuildServiceTest, AnInterruptedBuildResumedToTheEndDoesNotReadAsFailed) {
  AddFilm("a.avi");
  v1::BuildPoolRequest settings;
  settings.add_sources(films_.string());
  settings.set_threads(1);
  grpc::ClientContext create_context;
  v1::CreateRunRequest create;
  create.set_experiment_name("datasets");
  (*create.mutable_tags())["dreamshot.kind"] = "dataset";
  create.mutable_config()->PackFrom(settings);
  v1::Run left;
  {
    grpc::ClientContext experiment_context;
    v1::CreateExperimentRequest experiment;
    experiment.set_name("datasets");
    v1::Experiment created;
    ASSERT_TRUE(experiments_->CreateExperiment(&experiment_context, experiment, &created).ok());
  }
  grpc::Status created = experiments_->CreateRun(&create_context, create, &left);
  ASSERT_TRUE(created.ok()) << created.error_message();
  ASSERT_EQ(left.status(), v1::RUNNING);

  // The server stops; the next one finds the build's run still running.
  dataset_.reset();
  experiments_.reset();
  server_.reset();
  server_ = testing::StartServer(data_dir_);
  ASSERT_NE(server_, nullptr);
  EXPECT_EQ(server_->recovered_runs(), 1);
  dataset_ = v1::DatasetService::NewStub(testing::ChannelTo(*server_));
  experiments_ = v1::ExperimentService::NewStub(testing::ChannelTo(*server_));
  const v1::Run interrupted = GetRun(left.id());
  EXPECT_EQ(interrupted.status(), v1::FAILED);
  EXPECT_THAT(interrupted.notes(), ::testing::MatchesRegex("found interrupted at [0-9]{4}-[0-9]{2}-[0-9]{2} "
                                                           "[0-9]{2}:[0-9]{2}:[0-9]{2} UTC \\(the server stopped "
                                                           "while this run was active\\)"));

  v1::BuildPoolRequest resume;
  resume.set_resume_run_id(left.id());
  Stream resumed = Build(resume);
  ASSERT_TRUE(resumed.status.ok()) << resumed.status.error_message();
  ASSERT_TRUE(resumed.report.has_value());
  EXPECT_EQ(resumed.report->items(), 4);
  const v1::Run finished = GetRun(left.id());
  EXPECT_EQ(finished.status(), v1::FINISHED);
  EXPECT_EQ(finished.notes().rfind(interrupted.notes() + "\nresumed at ", 0), 0u) << finished.notes();
  EXPECT_THAT(finished.notes(), ::testing::MatchesRegex(".*\nresumed at [0-9: -]+ UTC"));
  std::string lower = finished.notes();
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(lower.find("fail"), std::string::npos) << finished.notes();
}

TEST_F(DatasetBuildServiceTest, BadBuildRequestsAreRefusedBeforeAnyRunExists) {
  AddFilm("a.avi");
  auto code = [&](const v1::BuildPoolRequest& request, const std::string& expect_in_message) {
    Stream s = Build(request);
    EXPECT_EQ(s.run_id, 0);
    EXPECT_NE(s.status.error_message().find(expect_in_message), std::string::npos) << s.status.error_message();
    return s.status.error_code();
  };
  v1::BuildPoolRequest none;
  EXPECT_EQ(code(none, "sources"), grpc::StatusCode::INVALID_ARGUMENT);
  v1::BuildPoolRequest relative;
  relative.add_sources("films");
  EXPECT_EQ(code(relative, "absolute"), grpc::StatusCode::INVALID_ARGUMENT);
  v1::BuildPoolRequest missing;
  missing.add_sources("/nonexistent/films");
  EXPECT_EQ(code(missing, "/nonexistent/films"), grpc::StatusCode::NOT_FOUND);
  v1::BuildPoolRequest resolution;
  resolution.add_sources(films_.string());
  resolution.mutable_keyframes()->set_resolution(500);
  EXPECT_EQ(code(resolution, "multiple of 8"), grpc::StatusCode::INVALID_ARGUMENT);

  // A run that is not a pool cannot be resumed as one.
  grpc::ClientContext experiment_context;
  v1::CreateExperimentRequest experiment;
  experiment.set_name("other");
  v1::Experiment created;
  ASSERT_TRUE(experiments_->CreateExperiment(&experiment_context, experiment, &created).ok());
  grpc::ClientContext context;
  v1::CreateRunRequest create;
  create.set_experiment_name("other");
  v1::Run other;
  ASSERT_TRUE(experiments_->CreateRun(&context, create, &other).ok());
  v1::BuildPoolRequest not_a_pool;
  not_a_pool.set_resume_run_id(other.id());
  EXPECT_EQ(code(not_a_pool, "not a dataset pool"), grpc::StatusCode::FAILED_PRECONDITION);
  v1::BuildPoolRequest resume_with_sources;
  resume_with_sources.set_resume_run_id(other.id());
  resume_with_sources.add_sources(films_.string());
  EXPECT_EQ(code(resume_with_sources, "takes its sources and settings from its run"),
            grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace dreamshot
