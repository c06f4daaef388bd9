// TrainerService through gRPC on the tiny reference model: a training job
// logs its loss every step and stores a LoRA file that generation loads and
// that changes the image; a cancelled job retried resumes from its
// checkpoint; bad configs are refused naming the field or file.
#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <set>
#include <thread>

#include "core/safetensors.h"
#include "core/testdata_paths.h"
#include "dreamshot/v1/experiment.grpc.pb.h"
#include "dreamshot/v1/generator.grpc.pb.h"
#include "dreamshot/v1/job.grpc.pb.h"
#include "dreamshot/v1/trainer.grpc.pb.h"
#include "experiments/dataset_store.h"
#include "experiments/store.h"
#include "tests/service_test_util.h"
#include "tests/training_images.h"

namespace dreamshot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

class TrainerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::FreshDataDir("trainer");
    server_ = testing::StartServer(dir_);
    ASSERT_NE(server_, nullptr);
    auto channel = testing::ChannelTo(*server_);
    trainer_ = v1::TrainerService::NewStub(channel);
    jobs_ = v1::JobService::NewStub(channel);
    experiments_ = v1::ExperimentService::NewStub(channel);
    generator_ = v1::GeneratorService::NewStub(channel);
    testing::WriteTrainingImages(dir_);
  }

  v1::TrainConfig Config(int steps) {
    v1::TrainConfig c;
    c.set_base_model(core::ReferencePath("tiny_sd"));
    c.set_instance_dir(dir_ + "/instance");
    c.set_class_dir(dir_ + "/class");
    c.set_shot_scale("close");
    c.set_resolution(32);
    c.set_max_train_steps(steps);
    c.set_checkpointing_steps(2);
    c.set_learning_rate(1e-2);
    c.set_seed(1);
    return c;
  }

  grpc::Status Start(const v1::TrainConfig& config, int64_t* job_id) {
    grpc::ClientContext context;
    v1::StartTrainingRequest request;
    *request.mutable_config() = config;
    v1::StartTrainingResponse response;
    grpc::Status status = trainer_->StartTraining(&context, request, &response);
    *job_id = response.job_id();
    return status;
  }

  // Watches the job to its end; returns its TrainResult (if any) and state.
  std::pair<std::optional<v1::TrainResult>, v1::Job> Watch(int64_t id) {
    grpc::ClientContext context;
    v1::WatchJobRequest request;
    request.set_job_id(id);
    auto reader = jobs_->WatchJob(&context, request);
    v1::JobEvent event;
    std::optional<v1::TrainResult> result;
    v1::Job last;
    while (reader->Read(&event)) {
      v1::TrainResult r;
      if (event.has_output() && event.output().UnpackTo(&r)) result = r;
      if (event.has_job()) last = event.job();
    }
    EXPECT_TRUE(reader->Finish().ok());
    return {result, last};
  }

  int64_t LossPoints(int64_t run_id) {
    grpc::ClientContext context;
    v1::GetMetricHistoryRequest request;
    request.set_run_id(run_id);
    request.set_key("loss");
    v1::GetMetricHistoryResponse response;
    if (!experiments_->GetMetricHistory(&context, request, &response).ok()) return 0;
    return response.total_points();
  }

  std::string Generate(const std::string& lora) {
    grpc::ClientContext context;
    v1::GenerateRequest request;
    v1::GenerationRequest* g = request.mutable_generation();
    g->mutable_model()->set_base(core::ReferencePath("tiny_sd"));
    if (!lora.empty()) g->mutable_model()->add_loras()->set_path(lora);
    g->set_prompt("a sks close shot, a man at a desk");
    g->set_width(32);
    g->set_height(32);
    g->set_steps(3);
    g->add_seeds(9);
    request.set_return_png(true);
    auto reader = generator_->Generate(&context, request);
    v1::GenerateResponse message;
    std::string png;
    while (reader->Read(&message)) {
      if (message.has_image()) png = message.image().png();
    }
    EXPECT_TRUE(reader->Finish().ok());
    return png;
  }

  std::string dir_;
  std::unique_ptr<services::DreamshotServer> server_;
  std::unique_ptr<v1::TrainerService::Stub> trainer_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::ExperimentService::Stub> experiments_;
  std::unique_ptr<v1::GeneratorService::Stub> generator_;
};

TEST_F(TrainerServiceTest, TrainingLogsEveryStepAndStoresALoraThatChangesTheImage) {
  int64_t id = 0;
  grpc::Status started = Start(Config(6), &id);
  ASSERT_TRUE(started.ok()) << started.error_message();
  auto [result, job] = Watch(id);
  ASSERT_EQ(job.state(), v1::JOB_FINISHED) << job.error();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->steps(), 6);
  EXPECT_EQ(result->adapter().kind(), "lora");
  EXPECT_EQ(LossPoints(result->run_id()), 6);
  const v1::Run run = testing::GetRun(*experiments_, result->run_id());
  EXPECT_EQ(run.status(), v1::FINISHED);
  EXPECT_EQ(run.name(), "close shots from instance");
  // The stored file is a LoRA that generation loads, and it changes the picture.
  const std::string path = result->adapter().uri().substr(std::string("file://").size());
  ASSERT_TRUE(fs::exists(path)) << path;
  const std::string lora = dir_ + "/trained.safetensors";
  fs::copy_file(path, lora);
  const std::string base = Generate(""), adapted = Generate(lora);
  ASSERT_FALSE(base.empty());
  ASSERT_FALSE(adapted.empty());
  EXPECT_NE(base, adapted);
}

// A pool of four shots (close, long, close, medium) whose images are the
// instance PNGs; split "train" holds all four.
int64_t MakePool(services::DreamshotServer& server, v1::ExperimentService::Stub& experiments,
                 const std::string& images) {
  v1::Run run = testing::CreateRun(experiments, "pool", "build");
  auto store = experiments::ExperimentStore::Open(server.store_path());
  EXPECT_TRUE(store.ok()) << store.status();
  experiments::DatasetStore datasets((*store)->database());
  std::vector<experiments::DatasetItem> items;
  std::vector<experiments::DatasetItemImage> files;
  const char* scales[] = {"close", "long", "close", "medium"};
  for (int i = 0; i < 4; ++i) {
    experiments::DatasetItem d;
    d.source = "/films/megamind.avi";
    d.shot_index = i;
    d.scale = scales[i];
    d.caption = i % 2 ? "a city at night" : "a man at a desk";
    items.push_back(d);
    experiments::DatasetItemImage image;
    image.item = i;
    image.artifact.kind = "dataset_image";
    image.artifact.path = "images/shot-" + std::to_string(i) + ".png";
    image.artifact.sha256 = std::string(63, 'a') + std::to_string(i);
    image.artifact.uri = "file://" + images + "/" + std::to_string(i % 2) + ".png";
    files.push_back(image);
  }
  EXPECT_TRUE(datasets.CommitDatasetSource(run.id(), {"/films/megamind.avi", "done", "", 4, 400, 0}, items, files)
                  .ok());
  auto stored = datasets.ListDatasetItems(run.id());
  std::vector<int64_t> ids;
  for (const auto& item : *stored) ids.push_back(item.id);
  EXPECT_TRUE(datasets.CreateDatasetSplits(run.id(), {{"train", ids}}).ok());
  return run.id();
}

TEST_F(TrainerServiceTest, TrainingFromAPoolScaleWritesAKohyaFileSayingWhatItLearntAndValidationImages) {
  const int64_t pool = MakePool(*server_, *experiments_, dir_ + "/instance");
  v1::TrainConfig c = Config(4);
  c.clear_instance_dir();
  c.set_pool_run_id(pool);
  c.set_pool_split("train");
  c.set_adapter_format("kohya");
  c.set_validation_steps(2);
  c.add_validation_seeds(3);
  c.add_validation_seeds(4);
  c.set_validation_inference_steps(2);
  int64_t id = 0;
  grpc::Status started = Start(c, &id);
  ASSERT_TRUE(started.ok()) << started.error_message();
  auto [result, job] = Watch(id);
  ASSERT_EQ(job.state(), v1::JOB_FINISHED) << job.error();
  ASSERT_TRUE(result.has_value());
  EXPECT_EQ(result->validation_images(), 4);  // steps 2 and 4 × two seeds
  EXPECT_EQ(result->dataset_sha256().size(), 64u);
  EXPECT_EQ(result->base_model_sha256().size(), 64u);
  EXPECT_GT(result->peak_rss_bytes(), 0);
  EXPECT_EQ(result->adapter().path(),
            "lora/dreamshot_close_sks_run" + std::to_string(result->run_id()) + ".safetensors");
  const std::string path = result->adapter().uri().substr(std::string("file://").size());
  auto file = core::SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  const auto& m = file->metadata();
  EXPECT_EQ(m.at("dreamshot.shot_scale"), "close");
  EXPECT_EQ(m.at("dreamshot.dataset"), "pool run " + std::to_string(pool) + " split 'train' (close)");
  EXPECT_EQ(m.at("dreamshot.dataset_sha256"), result->dataset_sha256());
  EXPECT_EQ(m.at("dreamshot.base_model_sha256"), result->base_model_sha256());
  EXPECT_EQ(m.at("dreamshot.run_id"), std::to_string(result->run_id()));
  EXPECT_EQ(m.at("ss_num_train_images"), "2");  // the two close shots
  EXPECT_EQ(m.at("ss_network_dim"), "4");
  for (const std::string& key : file->names()) {
    EXPECT_EQ(key.rfind("lora_unet_", 0), 0u) << key;  // kohya's names
  }
  // Generation loads the kohya file too, and it changes the picture.
  const std::string lora = dir_ + "/kohya.safetensors";
  fs::copy_file(path, lora);
  EXPECT_NE(Generate(""), Generate(lora));

  grpc::ClientContext context;
  v1::ListArtifactsRequest list;
  list.set_run_id(result->run_id());
  v1::ListArtifactsResponse artifacts;
  ASSERT_TRUE(experiments_->ListArtifacts(&context, list, &artifacts).ok());
  std::set<std::string> validation;
  for (const auto& a : artifacts.artifacts()) {
    if (a.kind() == "validation_image") validation.insert(a.path());
  }
  EXPECT_EQ(validation, (std::set<std::string>{"lora/validation/step-000002/p0-seed3.png",
                                                "lora/validation/step-000002/p0-seed4.png",
                                                "lora/validation/step-000004/p0-seed3.png",
                                                "lora/validation/step-000004/p0-seed4.png"}));

  // A scale the split lacks, before any job exists.
  c.set_shot_scale("");
  c.set_pool_split("eval");
  EXPECT_EQ(Start(c, &id).error_code(), grpc::StatusCode::NOT_FOUND);
  c.set_pool_split("train");
  c.set_instance_dir(dir_ + "/instance");
  EXPECT_EQ(Start(c, &id).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(TrainerServiceTest, ThreeShotScalesTrainThreeAdaptersUnderOneParent) {
  const int64_t pool = MakePool(*server_, *experiments_, dir_ + "/instance");
  v1::StartTrainingRequest request;
  v1::TrainConfig* c = request.mutable_config();
  *c = Config(2);
  c->clear_instance_dir();
  c->clear_shot_scale();
  c->set_pool_run_id(pool);
  c->set_pool_split("train");
  for (const char* scale : {"close", "medium", "long"}) request.add_shot_scales(scale);
  v1::StartTrainingResponse response;
  {
    grpc::ClientContext context;
    grpc::Status status = trainer_->StartTraining(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_EQ(response.child_job_ids_size(), 3);
  ASSERT_GT(response.parent_run_id(), 0);
  auto [none, parent] = Watch(response.job_id());
  EXPECT_EQ(parent.state(), v1::JOB_FINISHED) << parent.error();
  const std::vector<std::string> scales = {"close", "medium", "long"};
  for (int i = 0; i < 3; ++i) {
    auto [result, job] = Watch(response.child_job_ids(i));
    ASSERT_EQ(job.state(), v1::JOB_FINISHED) << job.error();
    ASSERT_TRUE(result.has_value());
    const v1::Run run = testing::GetRun(*experiments_, result->run_id());
    EXPECT_EQ(run.parent_run_id(), response.parent_run_id());
    EXPECT_EQ(run.name(), scales[i] + " shots from pool run " + std::to_string(pool));
    auto file = core::SafetensorsFile::Open(result->adapter().uri().substr(std::string("file://").size()));
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ(file->metadata().at("dreamshot.shot_scale"), scales[i]);
    EXPECT_EQ(file->metadata().at("ss_num_train_images"), i == 0 ? "2" : "1");
  }
  {
    grpc::ClientContext context;
    v1::SweepStatusRequest status_request;
    status_request.set_job_id(response.job_id());
    v1::SweepStatusResponse status;
    ASSERT_TRUE(trainer_->SweepStatus(&context, status_request, &status).ok());
    ASSERT_EQ(status.children_size(), 3);
    for (const auto& child : status.children()) EXPECT_EQ(child.state(), v1::JOB_FINISHED);
  }
  // A scale named twice, or one with a scale of its own: refused, nothing queued.
  request.add_shot_scales("close");
  grpc::ClientContext twice;
  EXPECT_EQ(trainer_->StartTraining(&twice, request, &response).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  request.clear_shot_scales();
  request.add_shot_scales("extreme");
  grpc::ClientContext bad;
  const grpc::Status refused = trainer_->StartTraining(&bad, request, &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("shot scale extreme: shot_scale"));
}

TEST_F(TrainerServiceTest, ClassImagesAreGeneratedOnceAndReusedAndTheTextEncoderTrainsToo) {
  v1::TrainConfig c = Config(2);
  c.clear_class_dir();
  c.set_num_class_images(3);
  c.set_train_text_encoder(true);
  int64_t id = 0;
  grpc::Status started = Start(c, &id);
  ASSERT_TRUE(started.ok()) << started.error_message();
  auto [first, job] = Watch(id);
  ASSERT_EQ(job.state(), v1::JOB_FINISHED) << job.error();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->class_images_generated(), 3);
  auto file = core::SafetensorsFile::Open(first->adapter().uri().substr(std::string("file://").size()));
  ASSERT_TRUE(file.ok()) << file.status();
  int text_keys = 0;
  for (const std::string& key : file->names()) text_keys += key.rfind("text_encoder.", 0) == 0;
  EXPECT_GT(text_keys, 0);  // both adapters in one file, as upstream saves them
  EXPECT_EQ(file->metadata().at("ss_num_reg_images"), "3");
  EXPECT_NE(Generate(""), Generate([&] {
              const std::string lora = dir_ + "/with_text.safetensors";
              fs::copy_file(first->adapter().uri().substr(std::string("file://").size()), lora);
              return lora;
            }()));

  // The same model, prompts and seeds: the cache serves them, nothing is generated.
  c.set_train_text_encoder(false);
  ASSERT_TRUE(Start(c, &id).ok());
  auto [second, again] = Watch(id);
  ASSERT_EQ(again.state(), v1::JOB_FINISHED) << again.error();
  EXPECT_EQ(second->class_images_generated(), 0);
  // Another seed wants other images.
  c.set_seed(2);
  ASSERT_TRUE(Start(c, &id).ok());
  auto [third, other] = Watch(id);
  ASSERT_EQ(other.state(), v1::JOB_FINISHED) << other.error();
  EXPECT_EQ(third->class_images_generated(), 3);
}

TEST_F(TrainerServiceTest, ACancelledTrainingRetriedResumesFromItsCheckpoint) {
  int64_t id = 0;
  ASSERT_TRUE(Start(Config(60), &id).ok());
  for (int i = 0; i < 1200; ++i) {
    const v1::Job job = testing::GetJob(*jobs_, id);
    if (job.run_id() > 0 && LossPoints(job.run_id()) >= 4) break;
    std::this_thread::sleep_for(25ms);
  }
  {
    grpc::ClientContext context;
    v1::CancelJobRequest cancel;
    cancel.set_job_id(id);
    v1::Job job;
    ASSERT_TRUE(jobs_->CancelJob(&context, cancel, &job).ok());
  }
  auto [none, cancelled] = Watch(id);
  ASSERT_EQ(cancelled.state(), v1::JOB_CANCELLED) << cancelled.error();
  {
    grpc::ClientContext context;
    v1::RetryJobRequest retry;
    retry.set_job_id(id);
    v1::RetryJobResponse retried;
    ASSERT_TRUE(jobs_->RetryJob(&context, retry, &retried).ok());
  }
  auto [result, job] = Watch(id);
  ASSERT_EQ(job.state(), v1::JOB_FINISHED) << job.error();
  ASSERT_TRUE(result.has_value());
  EXPECT_GE(result->resumed_from(), 2);  // checkpoints every 2 steps, and on the cancel
  EXPECT_EQ(result->steps(), 60);
  EXPECT_EQ(LossPoints(result->run_id()), 60);  // no step twice, none missing
}

TEST_F(TrainerServiceTest, BadConfigsAreRefusedNamingTheFieldOrFile) {
  struct Case {
    std::function<void(v1::TrainConfig&)> change;
    grpc::StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](v1::TrainConfig& c) { c.set_instance_dir("/nowhere"); }, grpc::StatusCode::NOT_FOUND, "/nowhere"},
      {[](v1::TrainConfig& c) { c.set_resolution(30); }, grpc::StatusCode::INVALID_ARGUMENT, "resolution"},
      {[](v1::TrainConfig& c) { c.set_rank(0); }, grpc::StatusCode::INVALID_ARGUMENT, "rank must be positive"},
      {[](v1::TrainConfig& c) { c.set_learning_rate(-1); }, grpc::StatusCode::INVALID_ARGUMENT, "learning_rate"},
      {[](v1::TrainConfig& c) { c.clear_class_dir(); }, grpc::StatusCode::INVALID_ARGUMENT, "class_dir"},
      {[](v1::TrainConfig& c) { c.set_lr_scheduler("exponential"); }, grpc::StatusCode::INVALID_ARGUMENT,
       "unknown schedule"},
      {[](v1::TrainConfig& c) { c.set_base_model("/tmp"); }, grpc::StatusCode::FAILED_PRECONDITION, "lacks unet/"},
      {[](v1::TrainConfig& c) { c.set_shot_scale("extreme"); }, grpc::StatusCode::INVALID_ARGUMENT, "shot_scale"},
      {[](v1::TrainConfig& c) { c.set_adapter_format("ckpt"); }, grpc::StatusCode::INVALID_ARGUMENT,
       "adapter_format"},
      {[](v1::TrainConfig& c) { c.set_num_class_images(-1); }, grpc::StatusCode::INVALID_ARGUMENT,
       "num_class_images"},
      {[](v1::TrainConfig& c) { c.set_pool_split("train"); }, grpc::StatusCode::INVALID_ARGUMENT, "pool_run_id"},
      {[](v1::TrainConfig& c) {
         c.clear_instance_dir();
         c.set_pool_run_id(999);
       },
       grpc::StatusCode::NOT_FOUND, "999"},
      {[](v1::TrainConfig& c) { c.set_validation_steps(-2); }, grpc::StatusCode::INVALID_ARGUMENT,
       "validation_steps"},
      {[](v1::TrainConfig& c) { c.set_noise_offset(-0.1); }, grpc::StatusCode::INVALID_ARGUMENT, "noise_offset"},
  };
  for (const Case& k : cases) {
    v1::TrainConfig c = Config(4);
    k.change(c);
    int64_t id = 0;
    const grpc::Status status = Start(c, &id);
    EXPECT_EQ(status.error_code(), k.code) << k.message << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(k.message));
    EXPECT_EQ(id, 0);
  }
}

}  // namespace
}  // namespace dreamshot
