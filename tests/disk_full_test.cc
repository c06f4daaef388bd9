// A data directory on a small tmpfs that fills up: a generation and a pool
// build end with RESOURCE_EXHAUSTED naming the data directory and the space
// left, their runs are failed at once (no restart needed), no file is left
// without its row (at once for images, by the start-up sweep for a build),
// and the server works again when space is freed.
//
// Mounting needs root (CI runs as root); elsewhere the tests skip and say
// why. The tmpfs is unmounted in TearDown, which gtest runs after a failure
// too.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/testdata_paths.h"
#include "dreamshot/v1/dataset.grpc.pb.h"
#include "dreamshot/v1/experiment.grpc.pb.h"
#include "dreamshot/v1/generator.grpc.pb.h"
#include "tests/service_test_util.h"

namespace dreamshot {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kMegamind = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi";

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "skipped: mounting the 8 MB tmpfs this test fills needs root (CI runs it as root)";
    }
    mount_dir_ = testing::FreshDataDir("disk-full-tmpfs");
    fs::create_directories(mount_dir_);
    if (::mount("tmpfs", mount_dir_.c_str(), "tmpfs", 0, "size=8m") != 0) {
      GTEST_SKIP() << "skipped: cannot mount an 8 MB tmpfs on " << mount_dir_ << ": " << std::strerror(errno);
    }
    mounted_ = true;
    data_dir_ = mount_dir_ + "/data";
    Start();
  }

  void TearDown() override {
    Stop();
    if (mounted_ && ::umount2(mount_dir_.c_str(), MNT_DETACH) != 0) {
      ADD_FAILURE() << "cannot unmount " << mount_dir_ << ": " << std::strerror(errno);
    }
  }

  void Start() {
    server_ = testing::StartServer(data_dir_);
    ASSERT_NE(server_, nullptr);
    generator_ = v1::GeneratorService::NewStub(testing::ChannelTo(*server_));
    dataset_ = v1::DatasetService::NewStub(testing::ChannelTo(*server_));
    experiments_ = v1::ExperimentService::NewStub(testing::ChannelTo(*server_));
  }
  void Stop() {
    generator_.reset();
    dataset_.reset();
    experiments_.reset();
    server_.reset();
  }

  // Fills the tmpfs to leave about `leave` bytes free.
  void FillLeaving(int64_t leave) {
    struct statvfs st;
    ASSERT_EQ(::statvfs(mount_dir_.c_str(), &st), 0);
    const int64_t free_bytes = static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
    ASSERT_GT(free_bytes, leave);
    const int fd = ::open((mount_dir_ + "/ballast").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::posix_fallocate(fd, 0, free_bytes - leave), 0);
    ::close(fd);
  }
  // Frees the space again; the store takes its reserve back (see
  // experiments::Database::WriteEvenIfFull) with its next write, here one
  // that creates an experiment.
  void FreeSpace() {
    fs::remove(mount_dir_ + "/ballast");
    if (!experiments_) return;
    grpc::ClientContext context;
    v1::CreateExperimentRequest request;
    request.set_name(absl::StrCat("room again ", ++room_again_));
    v1::Experiment created;
    EXPECT_TRUE(experiments_->CreateExperiment(&context, request, &created).ok());
  }
  int RunCount() {
    grpc::ClientContext context;
    v1::SearchRunsRequest search;
    v1::SearchRunsResponse runs;
    EXPECT_TRUE(experiments_->SearchRuns(&context, search, &runs).ok());
    return runs.runs_size();
  }

  // Seeds never used before in the test: new bytes, so new files.
  v1::GenerateRequest Request(int images) {
    v1::GenerateRequest r;
    v1::GenerationRequest* g = r.mutable_generation();
    g->mutable_model()->set_base(core::ReferencePath("tiny_sd"));
    g->set_prompt("Close Shot, an old sailor");
    g->set_width(32);
    g->set_height(32);
    g->set_steps(2);
    g->set_scheduler("ddim");
    for (int i = 0; i < images; ++i) g->add_seeds(next_seed_++);
    r.mutable_target()->set_experiment("full");
    return r;
  }

  struct Outcome {
    grpc::Status status;
    int64_t run_id = 0;
    int images = 0;
  };
  Outcome Generate(const v1::GenerateRequest& request) {
    grpc::ClientContext context;
    auto reader = generator_->Generate(&context, request);
    Outcome out;
    v1::GenerateResponse message;
    while (reader->Read(&message)) {
      if (message.run_id() != 0) out.run_id = message.run_id();
      if (message.has_image()) ++out.images;
    }
    out.status = reader->Finish();
    return out;
  }

  // The hashes the store's rows refer to, over every run.
  std::set<std::string> RecordedHashes() {
    grpc::ClientContext context;
    v1::SearchRunsRequest search;
    v1::SearchRunsResponse runs;
    EXPECT_TRUE(experiments_->SearchRuns(&context, search, &runs).ok());
    std::set<std::string> out;
    for (const v1::Run& run : runs.runs()) {
      grpc::ClientContext list_context;
      v1::ListArtifactsRequest request;
      request.set_run_id(run.id());
      v1::ListArtifactsResponse response;
      EXPECT_TRUE(experiments_->ListArtifacts(&list_context, request, &response).ok());
      for (const v1::ArtifactRef& a : response.artifacts()) out.insert(a.sha256());
    }
    return out;
  }
  // The blob files under artifacts/ (temp and staging files included).
  std::set<std::string> BlobFiles() {
    std::set<std::string> out;
    if (!fs::exists(data_dir_ + "/artifacts")) return out;
    for (const auto& entry : fs::recursive_directory_iterator(data_dir_ + "/artifacts")) {
      if (entry.is_regular_file()) out.insert(entry.path().filename().string());
    }
    return out;
  }

  std::string mount_dir_;
  std::string data_dir_;
  bool mounted_ = false;
  int room_again_ = 0;
  uint32_t next_seed_ = 100;
  std::unique_ptr<services::DreamshotServer> server_;
  std::unique_ptr<v1::GeneratorService::Stub> generator_;
  std::unique_ptr<v1::DatasetService::Stub> dataset_;
  std::unique_ptr<v1::ExperimentService::Stub> experiments_;
};

TEST_F(DiskFullTest, AGenerationThatFillsTheDiskFailsItsRunAtOnceAndLeavesNoFileWithoutARow) {
  const Outcome warm = Generate(Request(1));  // loads the model, grows the WAL
  ASSERT_TRUE(warm.status.ok()) << warm.status.error_message();
  const std::string data_dir = fs::canonical(data_dir_).string();
  // The disk fills at different writes depending on the room left: the
  // note of a new file, the file itself, or the image's row after its file.
  for (const int64_t leave : {128 << 10, 96 << 10, 64 << 10, 40 << 10, 24 << 10, 12 << 10, 4 << 10, 0}) {
    SCOPED_TRACE(absl::StrCat(leave, " bytes left"));
    FillLeaving(leave);
    const int runs_before = RunCount();
    const Outcome full = Generate(Request(12));
    EXPECT_EQ(full.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << full.status.error_message();
    EXPECT_THAT(full.status.error_message(), HasSubstr("disk full: "));
    EXPECT_THAT(full.status.error_message(), HasSubstr(" free in " + data_dir));
    EXPECT_LT(full.images, 12);
    // Which write met the full disk, without the long sandbox path.
    std::string failed_write = full.status.error_message();
    failed_write.replace(0, failed_write.find(data_dir) + data_dir.size(), "disk full: ... <data_dir>");
    std::cout << leave << " bytes left: stopped after " << full.images << " of 12 images: " << failed_write << "\n";
    if (full.run_id == 0) {
      EXPECT_EQ(RunCount(), runs_before) << "no room for the run itself: none was left behind";
    } else {
      // At once: the run ends before the stream does.
      const v1::Run run = testing::GetRun(*experiments_, full.run_id);
      EXPECT_EQ(run.status(), v1::FAILED);
      EXPECT_THAT(run.notes(), HasSubstr("RESOURCE_EXHAUSTED: disk full"));
    }
    EXPECT_EQ(BlobFiles(), RecordedHashes()) << "every file has its row and every row its file";
    FreeSpace();
  }

  const Outcome after = Generate(Request(2));
  EXPECT_TRUE(after.status.ok()) << after.status.error_message();
  EXPECT_EQ(after.images, 2);
  EXPECT_EQ(testing::GetRun(*experiments_, after.run_id).status(), v1::FINISHED);
  EXPECT_EQ(BlobFiles(), RecordedHashes());
}

TEST_F(DiskFullTest, APoolBuildThatFillsTheDiskFailsAtOnceAndItsFilesAreSweptAtTheNextStart) {
  if (!fs::exists(kMegamind)) GTEST_SKIP() << "skipped: " << kMegamind << " (opencv-doc) is not installed";
  const fs::path films = fs::path(testing::FreshDataDir("disk-full-films"));
  fs::create_directories(films);
  fs::copy_file(kMegamind, films / "a.avi");
  FillLeaving(480 << 10);  // room for two of the film's four ~200 KB keyframes

  grpc::ClientContext context;
  v1::BuildPoolRequest request;
  request.add_sources(films.string());
  request.set_threads(1);
  auto reader = dataset_->BuildPool(&context, request);
  v1::BuildPoolResponse message;
  int64_t run_id = 0;
  while (reader->Read(&message)) {
    if (message.run_id() != 0) run_id = message.run_id();
  }
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr(" free in " + fs::canonical(data_dir_).string()));
  ASSERT_GT(run_id, 0);
  EXPECT_EQ(testing::GetRun(*experiments_, run_id).status(), v1::FAILED);
  const std::set<std::string> before_sweep = BlobFiles();
  std::cout << "build stopped: " << status.error_message().substr(0, 160) << "\n"
            << before_sweep.size() << " keyframe file(s) before the sweep, "
            << RecordedHashes().size() << " recorded\n";
  EXPECT_FALSE(before_sweep.empty()) << "the build wrote keyframes before the disk filled";
  EXPECT_NE(before_sweep, RecordedHashes());

  // The next server removes the keyframes whose source never committed.
  Stop();
  FreeSpace();
  Start();
  EXPECT_EQ(BlobFiles(), RecordedHashes());

  // With room again the build resumes to its end.
  grpc::ClientContext resume_context;
  v1::BuildPoolRequest resume;
  resume.set_resume_run_id(run_id);
  auto resumed = dataset_->BuildPool(&resume_context, resume);
  while (resumed->Read(&message)) {
  }
  const grpc::Status done = resumed->Finish();
  EXPECT_TRUE(done.ok()) << done.error_message();
  EXPECT_EQ(testing::GetRun(*experiments_, run_id).status(), v1::FINISHED);
  EXPECT_FALSE(BlobFiles().empty());
  EXPECT_EQ(BlobFiles(), RecordedHashes());

}

}  // namespace
}  // namespace dreamshot
