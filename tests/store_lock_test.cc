// One dreamshotd per store, whatever name the store is given: a second
// server (in-process, and a real dreamshotd) reaching the first one's store
// through a symlink or a hard link is refused with a message naming the
// holder, and the first server's running run is left as it was.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"

#include "core/file_lock.h"
#include "core/testdata_paths.h"
#include "dreamshot/v1/experiment.grpc.pb.h"
#include "tests/service_test_util.h"

namespace dreamshot {
namespace {

namespace fs = std::filesystem;
namespace v1 = ::dreamshot::v1;
using ::testing::HasSubstr;

class StoreLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = testing::FreshDataDir("store-lock");
    other_dir_ = testing::FreshDataDir("store-lock-other");
    fs::create_directories(other_dir_);
    server_ = testing::StartServer(data_dir_);
    ASSERT_NE(server_, nullptr);
    store_ = fs::canonical(server_->store_path()).string();
    experiments_ = v1::ExperimentService::NewStub(testing::ChannelTo(*server_));
    // A run the first server is driving: a wrongly admitted second server
    // would mark it failed as "left behind by a dead server".
    grpc::ClientContext context;
    v1::CreateRunRequest create;
    create.set_experiment_name("live");
    v1::CreateExperimentRequest experiment;
    experiment.set_name("live");
    v1::Experiment created;
    grpc::ClientContext experiment_context;
    ASSERT_TRUE(experiments_->CreateExperiment(&experiment_context, experiment, &created).ok());
    grpc::Status status = experiments_->CreateRun(&context, create, &live_);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }

  absl::Status StartSecond(const std::string& store_path) {
    services::ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.data_dir = other_dir_;
    options.store_path = store_path;
    return services::DreamshotServer::Start(options).status();
  }

  void ExpectLiveRunUntouched() {
    const v1::Run run = testing::GetRun(*experiments_, live_.id());
    EXPECT_EQ(run.status(), v1::RUNNING);
    EXPECT_EQ(run.notes(), "");
  }

  std::string data_dir_;
  std::string other_dir_;
  std::string store_;  // the first server's store, canonical
  std::unique_ptr<services::DreamshotServer> server_;
  std::unique_ptr<v1::ExperimentService::Stub> experiments_;
  v1::Run live_;
};

TEST_F(StoreLockTest, SymlinkToALiveStoreIsRefused) {
  const std::string alias = other_dir_ + "/alias.db";
  fs::create_symlink(store_, alias);
  absl::Status second = StartSecond(alias);
  EXPECT_EQ(second.code(), absl::StatusCode::kFailedPrecondition) << second;
  EXPECT_THAT(std::string(second.message()), HasSubstr(alias));
  EXPECT_THAT(std::string(second.message()), HasSubstr(store_ + ".lock"));
  EXPECT_THAT(std::string(second.message()), HasSubstr(absl::StrCat("pid ", ::getpid())));
  ExpectLiveRunUntouched();
  EXPECT_FALSE(fs::exists(alias + "-wal")) << "the refused server opened the store";
}

TEST_F(StoreLockTest, HardLinkToALiveStoreIsRefused) {
  const std::string alias = other_dir_ + "/hard.db";
  fs::create_hard_link(store_, alias);
  absl::Status second = StartSecond(alias);
  EXPECT_EQ(second.code(), absl::StatusCode::kFailedPrecondition) << second;
  EXPECT_THAT(std::string(second.message()), HasSubstr(alias));
  EXPECT_THAT(std::string(second.message()), HasSubstr("hard link"));
  // The holder, as /proc tells: this process, through the first server's path.
  EXPECT_THAT(std::string(second.message()),
              HasSubstr(absl::StrCat("pid ", ::getpid(), ", which opened it as ", store_)));
  ExpectLiveRunUntouched();
  EXPECT_FALSE(fs::exists(alias + "-wal")) << "the refused server opened the store";

  // Once the first server is gone the other name opens the same store.
  experiments_.reset();
  server_.reset();
  auto later = services::DreamshotServer::Start([&] {
    services::ServerOptions options;
    options.listen_address = "127.0.0.1:0";
    options.data_dir = other_dir_;
    options.store_path = alias;
    return options;
  }());
  ASSERT_TRUE(later.ok()) << later.status();
  // The live run is a client's: a restart of the server leaves it running.
  EXPECT_EQ((*later)->recovered_runs(), 0);
}

// The real daemon, in its own process: /proc names the holder across processes.
TEST_F(StoreLockTest, SecondDreamshotdOnAnAliasExitsWithTheHolderNamed) {
  const std::string binary = core::RunfilePath("services/dreamshotd");
  ASSERT_TRUE(fs::exists(binary)) << binary;
  const std::string symlink = other_dir_ + "/alias.db";
  const std::string hard = other_dir_ + "/hard.db";
  fs::create_symlink(store_, symlink);
  fs::create_hard_link(store_, hard);
  for (const auto& [alias, expect] : {std::pair<std::string, std::string>{symlink, store_ + ".lock"},
                                      std::pair<std::string, std::string>{hard, "which opened it as " + store_}}) {
    const std::string log = other_dir_ + "/dreamshotd.log";
    // `timeout` turns a wrongly started server into a failure, not a hang.
    const std::string command = absl::StrCat("timeout 60 ", binary, " --listen 127.0.0.1:0 --survey_listen= --data_dir ",
                                             other_dir_, " --store ", alias, " 2>", log);
    const int status = std::system(command.c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 1) << alias;
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_THAT(text, HasSubstr("dreamshotd cannot start: FAILED_PRECONDITION: store " + alias)) << text;
    EXPECT_THAT(text, HasSubstr(absl::StrCat("pid ", ::getpid()))) << text;
    EXPECT_THAT(text, HasSubstr(expect)) << text;
    EXPECT_THAT(text, HasSubstr("one dreamshotd per store")) << text;
  }
  ExpectLiveRunUntouched();
}

// The lock in isolation: every name of one file meets one lock, and it goes
// with its holder.
TEST(FileLockTest, EveryNameOfAFileMeetsOneLock) {
  const std::string dir = testing::FreshDataDir("file-lock");
  fs::create_directories(dir + "/sub");
  const std::string file = dir + "/store.db";
  auto first = core::FileLock::AcquireFile(file);  // creates the file
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(fs::exists(file));
  fs::create_symlink(file, dir + "/sub/symlink.db");
  fs::create_hard_link(file, dir + "/sub/hard.db");
  for (const std::string name : {file, dir + "/sub/symlink.db", dir + "/sub/hard.db", dir + "/sub/../store.db"}) {
    auto again = core::FileLock::AcquireFile(name);
    EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition) << name;
  }
  first->reset();
  auto by_hard_link = core::FileLock::AcquireFile(dir + "/sub/hard.db");
  ASSERT_TRUE(by_hard_link.ok()) << by_hard_link.status();
  EXPECT_EQ(core::FileLock::AcquireFile(file).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(FileLockTest, ADanglingSymlinkLocksTheFileItWillName) {
  const std::string dir = testing::FreshDataDir("file-lock-dangling");
  fs::create_directories(dir);
  fs::create_symlink(dir + "/later.db", dir + "/alias.db");
  auto first = core::FileLock::AcquireFile(dir + "/alias.db");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(fs::exists(dir + "/later.db"));
  EXPECT_EQ(core::FileLock::AcquireFile(dir + "/later.db").status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace dreamshot
