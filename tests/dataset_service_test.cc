// DatasetService through its gRPC stub: seeded stratified splits of a pool
// and its manifest. The pool is written through a second store handle, as a
// dataset build does.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "dreamshot/v1/dataset.grpc.pb.h"
#include "dreamshot/v1/experiment.grpc.pb.h"
#include "experiments/dataset_store.h"
#include "experiments/store.h"
#include "tests/service_test_util.h"

namespace dreamshot {
namespace {

class DatasetServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = testing::FreshDataDir("dataset-service");
    server_ = testing::StartServer(data_dir_);
    ASSERT_NE(server_, nullptr);
    dataset_ = v1::DatasetService::NewStub(testing::ChannelTo(*server_));
    auto experiments = v1::ExperimentService::NewStub(testing::ChannelTo(*server_));
    grpc::ClientContext context;
    v1::CreateExperimentRequest create;
    create.set_name("pool");
    v1::Experiment e;
    ASSERT_TRUE(experiments->CreateExperiment(&context, create, &e).ok());
    grpc::ClientContext run_context;
    v1::CreateRunRequest run_request;
    run_request.set_experiment_name("pool");
    v1::Run run;
    ASSERT_TRUE(experiments->CreateRun(&run_context, run_request, &run).ok());
    run_id_ = run.id();

    auto store = experiments::ExperimentStore::Open(server_->store_path());
    ASSERT_TRUE(store.ok()) << store.status();
    experiments::DatasetStore datasets((*store)->database());
    // 3 films × 12 shots, scales cycling close/medium/long; one dropped.
    for (int film = 0; film < 3; ++film) {
      const std::string source = "films/" + std::to_string(film) + ".mkv";
      std::vector<experiments::DatasetItem> items;
      for (int shot = 0; shot < 12; ++shot) {
        experiments::DatasetItem d;
        d.source = source;
        d.shot_index = shot;
        d.scale = shot % 3 == 0 ? "close" : shot % 3 == 1 ? "medium" : "long";
        d.scale_confidence = 0.9;
        d.kept = !(film == 2 && shot == 11);
        items.push_back(d);
      }
      ASSERT_TRUE(datasets.CommitDatasetSource(run_id_, {source, "done", "", 12, 1200, 0}, items).ok());
    }
  }

  grpc::Status Draw(int64_t train, int64_t eval, uint64_t seed, v1::DrawSplitsResponse* response,
                    const std::string& prefix = "") {
    grpc::ClientContext context;
    v1::DrawSplitsRequest request;
    request.set_run_id(run_id_);
    request.set_train_per_scale(train);
    request.set_eval_total(eval);
    request.set_seed(seed);
    request.set_prefix(prefix);
    return dataset_->DrawSplits(&context, request, response);
  }

  std::string data_dir_;
  int64_t run_id_ = 0;
  std::unique_ptr<services::DreamshotServer> server_;
  std::unique_ptr<v1::DatasetService::Stub> dataset_;
};

TEST_F(DatasetServiceTest, DrawSplitsStoresStratifiedSplitsAndTheManifestListsThem) {
  v1::DrawSplitsResponse response;
  grpc::Status status = Draw(3, 12, 1, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.split_sizes().at("train/close"), 3);
  EXPECT_EQ(response.split_sizes().at("eval"), 12);
  // Names are taken: a second draw needs another prefix.
  EXPECT_EQ(Draw(3, 12, 1, &response).error_code(), grpc::StatusCode::ALREADY_EXISTS);
  ASSERT_TRUE(Draw(2, 0, 9, &response, "seed9/").ok());
  EXPECT_EQ(response.split_sizes().count("seed9/eval"), 0u);  // empty splits are not stored

  grpc::ClientContext context;
  v1::ExportManifestRequest request;
  request.set_run_id(run_id_);
  request.set_kept_only(true);
  v1::ExportManifestResponse manifest;
  ASSERT_TRUE(dataset_->ExportManifest(&context, request, &manifest).ok());
  EXPECT_EQ(manifest.items(), 35);
  int in_eval = 0, in_train_close = 0;
  std::istringstream lines(manifest.content());
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line);
    for (const auto& split : j["splits"]) {
      in_eval += split == "eval";
      if (split == "train/close") {
        ++in_train_close;
        EXPECT_EQ(j["scale"], "close");
      }
    }
  }
  EXPECT_EQ(in_eval, 12);
  EXPECT_EQ(in_train_close, 3);

  grpc::ClientContext csv_context;
  request.set_format("csv");
  request.set_kept_only(false);
  ASSERT_TRUE(dataset_->ExportManifest(&csv_context, request, &manifest).ok());
  EXPECT_EQ(manifest.items(), 36);
  EXPECT_EQ(manifest.content().rfind("id,source,shot_index,", 0), 0u);
}

TEST_F(DatasetServiceTest, ImportedLabelsAndCaptionsApplyValidRowsAndReportTheRest) {
  const std::string labels = data_dir_ + "/labels.csv";
  std::ofstream(labels) << "path,scale,confidence\n"
                           "films/0.mkv#1,close,0.7\n"
                           "films/9.mkv#1,long,0.9\n"
                           "films/0.mkv#2,sideways,0.9\n";
  grpc::ClientContext context;
  v1::ImportRequest request;
  request.set_run_id(run_id_);
  request.set_path(labels);
  v1::ImportResponse response;
  ASSERT_TRUE(dataset_->ImportLabels(&context, request, &response).ok());
  EXPECT_EQ(response.applied(), 1);
  ASSERT_EQ(response.issues_size(), 2);
  EXPECT_NE(response.issues(0).message().find("labels.csv:3:"), std::string::npos) << response.issues(0).message();
  EXPECT_TRUE(response.issues(0).dropped());

  const std::string captions = data_dir_ + "/captions.jsonl";
  std::ofstream(captions) << R"({"path": "films/0.mkv#1", "caption": "Close shot, a woman reads a letter"})" << "\n";
  grpc::ClientContext caption_context;
  request.set_path(captions);
  ASSERT_TRUE(dataset_->ImportCaptions(&caption_context, request, &response).ok());
  EXPECT_EQ(response.applied(), 1);
  ASSERT_EQ(response.issues_size(), 1);  // the shot phrase was stripped: a warning
  EXPECT_FALSE(response.issues(0).dropped());

  grpc::ClientContext export_context;
  v1::ExportManifestRequest export_request;
  export_request.set_run_id(run_id_);
  v1::ExportManifestResponse manifest;
  ASSERT_TRUE(dataset_->ExportManifest(&export_context, export_request, &manifest).ok());
  std::istringstream lines(manifest.content());
  for (std::string line; std::getline(lines, line);) {
    const auto j = nlohmann::json::parse(line);
    if (j["source"] == "films/0.mkv" && j["shot_index"] == 1) {
      EXPECT_EQ(j["scale"], "close");
      EXPECT_DOUBLE_EQ(j["scale_confidence"].get<double>(), 0.7);
      EXPECT_EQ(j["caption"], "a woman reads a letter");
    }
  }

  grpc::ClientContext missing_context;
  request.set_path(data_dir_ + "/nope.csv");
  EXPECT_NE(dataset_->ImportLabels(&missing_context, request, &response).error_code(), grpc::StatusCode::OK);
}

TEST_F(DatasetServiceTest, BadRequestsNameTheProblem) {
  v1::DrawSplitsResponse response;
  grpc::Status too_many = Draw(10, 12, 1, &response);  // 12 close shots, 14 needed
  EXPECT_EQ(too_many.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(too_many.error_message().find("the splits need 14"), std::string::npos) << too_many.error_message();
  EXPECT_EQ(Draw(1, 10, 1, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);  // 10 % 3 != 0
  grpc::ClientContext context;
  v1::ExportManifestRequest request;
  request.set_run_id(run_id_);
  request.set_format("xml");
  v1::ExportManifestResponse manifest;
  EXPECT_EQ(dataset_->ExportManifest(&context, request, &manifest).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext missing;
  request.set_format("");
  request.set_run_id(4242);
  EXPECT_EQ(dataset_->ExportManifest(&missing, request, &manifest).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace dreamshot
