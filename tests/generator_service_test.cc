// GeneratorService through its gRPC stubs, on the tiny reference model:
// images stored as artifacts of a run, seeds that repeat exactly, A/B pairs
// with a LoRA, cancellation, a full queue, and bad requests (bad models and
// configs included) refused before any work and before a run exists.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/testdata_paths.h"
#include "diffusion/pipeline/generation_record.h"
#include "diffusion/pipeline/tiny_model_writer.h"
#include "dreamshot/v1/experiment.grpc.pb.h"
#include "dreamshot/v1/generator.grpc.pb.h"
#include "experiments/pair_store.h"
#include "experiments/store.h"
#include "tests/service_test_util.h"

namespace dreamshot {
namespace {

using namespace std::chrono_literals;

v1::GenerateRequest TinyRequest() {
  v1::GenerateRequest r;
  v1::GenerationRequest* g = r.mutable_generation();
  g->mutable_model()->set_base(core::ReferencePath("tiny_sd"));
  g->set_prompt("Close Shot, an old sailor");
  g->set_negative_prompt("blurry");
  g->set_width(32);
  g->set_height(32);
  g->set_steps(3);
  g->set_scheduler("ddim");
  g->add_seeds(1);
  g->add_seeds(2);
  r.mutable_target()->set_experiment("tiny");
  return r;
}

struct GenerateOutcome {
  grpc::Status status;
  std::vector<v1::GenerateResponse> messages;
  std::vector<v1::GeneratedImage> images() const {
    std::vector<v1::GeneratedImage> out;
    for (const auto& m : messages) {
      if (m.has_image()) out.push_back(m.image());
    }
    return out;
  }
  int64_t run_id() const { return messages.empty() ? 0 : messages.back().run_id(); }
};

class GeneratorServiceTest : public ::testing::Test {
 protected:
  void Start(int queue_capacity = 16) {
    data_dir_ = testing::FreshDataDir("generator");
    server_ = testing::StartServer(data_dir_, "", [&](services::ServerOptions& o) { o.queue_capacity = queue_capacity; });
    ASSERT_NE(server_, nullptr);
    generator_ = v1::GeneratorService::NewStub(testing::ChannelTo(*server_));
    experiments_ = v1::ExperimentService::NewStub(testing::ChannelTo(*server_));
  }
  void SetUp() override { Start(); }

  GenerateOutcome Generate(const v1::GenerateRequest& request) {
    grpc::ClientContext context;
    GenerateOutcome out;
    auto reader = generator_->Generate(&context, request);
    v1::GenerateResponse message;
    while (reader->Read(&message)) out.messages.push_back(message);
    out.status = reader->Finish();
    return out;
  }

  v1::Run GetRun(int64_t id) { return testing::GetRun(*experiments_, id); }

  std::vector<v1::ArtifactRef> Artifacts(int64_t run_id) {
    grpc::ClientContext context;
    v1::ListArtifactsRequest request;
    request.set_run_id(run_id);
    v1::ListArtifactsResponse response;
    EXPECT_TRUE(experiments_->ListArtifacts(&context, request, &response).ok());
    return {response.artifacts().begin(), response.artifacts().end()};
  }

  v1::RunStatus WaitForEnd(int64_t run_id) {
    for (int i = 0; i < 600; ++i) {
      const v1::RunStatus s = GetRun(run_id).status();
      if (s == v1::FINISHED || s == v1::FAILED || s == v1::CANCELLED) return s;
      std::this_thread::sleep_for(50ms);
    }
    return GetRun(run_id).status();
  }

  std::string data_dir_;
  std::unique_ptr<services::DreamshotServer> server_;
  std::unique_ptr<v1::GeneratorService::Stub> generator_;
  std::unique_ptr<v1::ExperimentService::Stub> experiments_;
};

TEST_F(GeneratorServiceTest, GenerateStreamsProgressThenImagesStoredAsArtifactsOfARun) {
  v1::GenerateRequest request = TinyRequest();
  request.set_return_png(true);
  GenerateOutcome out = Generate(request);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_FALSE(out.messages.empty());
  EXPECT_EQ(out.messages.front().progress().message(), "queued");
  int64_t last_step = 0, total = 0;
  for (const auto& m : out.messages) {
    if (!m.has_progress() || m.progress().message() != "denoising") continue;
    EXPECT_GE(m.progress().step(), last_step);
    last_step = m.progress().step();
    total = m.progress().total();
  }
  EXPECT_EQ(total, 6);  // two images, three steps each
  const auto images = out.images();
  ASSERT_EQ(images.size(), 2u);
  const int64_t run_id = out.run_id();
  ASSERT_GT(run_id, 0);
  EXPECT_EQ(images[0].seed(), 1u);
  EXPECT_EQ(images[1].index(), 1);
  EXPECT_EQ(images[0].artifact().path(), "images/0000-seed1.png");
  EXPECT_NE(images[0].parameters().find("Seed: 1,"), std::string::npos) << images[0].parameters();
  EXPECT_EQ(diffusion::GenerationParametersOfPng(images[0].png()).value(), images[0].parameters());

  const v1::Run run = GetRun(run_id);
  EXPECT_EQ(run.status(), v1::FINISHED);
  EXPECT_EQ(run.tags().at("dreamshot.kind"), "generate");
  std::map<std::string, std::string> params;
  for (const auto& p : run.params()) params[p.key()] = p.value();
  EXPECT_EQ(params["steps"], "3");
  EXPECT_EQ(params["scheduler"], "ddim");
  EXPECT_EQ(params["seeds"], "[1,2]");
  const auto artifacts = Artifacts(run_id);
  ASSERT_EQ(artifacts.size(), 2u);
  EXPECT_EQ(artifacts[0].kind(), "image");
  EXPECT_EQ(artifacts[0].sha256(), images[0].artifact().sha256());

  // The same seed gives the same bytes in a new request and run.
  request.set_return_png(false);
  GenerateOutcome again = Generate(request);
  ASSERT_TRUE(again.status.ok());
  EXPECT_NE(again.run_id(), run_id);
  EXPECT_EQ(again.images()[0].artifact().sha256(), images[0].artifact().sha256());
  EXPECT_EQ(again.images()[1].artifact().sha256(), images[1].artifact().sha256());
  EXPECT_TRUE(again.images()[0].png().empty());
}

TEST_F(GeneratorServiceTest, SeedsDrawnByTheServerAreRecordedAndImagesCanJoinAnExistingRun) {
  v1::GenerateRequest request = TinyRequest();
  request.mutable_generation()->clear_seeds();
  request.mutable_generation()->set_num_images(2);
  GenerateOutcome first = Generate(request);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  const auto images = first.images();
  ASSERT_EQ(images.size(), 2u);
  std::string seeds_param;
  const v1::Run first_run = GetRun(first.run_id());
  for (const auto& p : first_run.params()) {
    if (p.key() == "seeds") seeds_param = p.value();
  }
  EXPECT_NE(seeds_param.find(std::to_string(images[0].seed())), std::string::npos) << seeds_param;

  // Redoing one image by its recorded seed, into the first run.
  v1::GenerateRequest redo = TinyRequest();
  redo.mutable_generation()->clear_seeds();
  redo.mutable_generation()->add_seeds(images[1].seed());
  redo.mutable_target()->clear_experiment();
  redo.mutable_target()->set_run_id(first.run_id());
  GenerateOutcome second = Generate(redo);
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  EXPECT_EQ(second.run_id(), first.run_id());
  EXPECT_EQ(second.images()[0].artifact().sha256(), images[1].artifact().sha256());
  EXPECT_EQ(second.images()[0].artifact().path().rfind("images/", 0), 0u);
  EXPECT_EQ(Artifacts(first.run_id()).size(), 3u);
}

TEST_F(GeneratorServiceTest, GeneratePairsStoresBaselineAndLoraImagesAsPairs) {
  v1::GeneratePairsRequest request;
  v1::GenerationRequest* g = request.mutable_generation();
  g->set_width(32);
  g->set_height(32);
  g->set_steps(3);
  g->set_scheduler("ddim");
  g->add_seeds(5);
  request.mutable_a()->set_label("baseline");
  request.mutable_a()->mutable_model()->set_base(core::ReferencePath("tiny_sd"));
  request.mutable_b()->set_label("finetuned");
  *request.mutable_b()->mutable_model() = request.a().model();
  v1::LoraRef* lora = request.mutable_b()->mutable_model()->add_loras();
  lora->set_path(core::ReferencePath("lora/lora_kohya.safetensors"));
  lora->set_scale(0.8);
  auto* p1 = request.add_prompts();
  p1->set_prompt("Close Shot, an old sailor");
  p1->set_shot_type("close");
  auto* p2 = request.add_prompts();
  p2->set_prompt("Long Shot, a harbour at dawn");
  p2->set_shot_type("long");
  request.mutable_target()->set_experiment("pairs");

  grpc::ClientContext context;
  auto reader = generator_->GeneratePairs(&context, request);
  std::vector<v1::ImagePair> pairs;
  int64_t run_id = 0;
  v1::GeneratePairsResponse message;
  while (reader->Read(&message)) {
    if (message.has_pair()) pairs.push_back(message.pair());
    run_id = message.run_id();
  }
  const grpc::Status status = reader->Finish();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[1].shot_type(), "long");
  for (const auto& pair : pairs) {
    EXPECT_EQ(pair.seed(), 5u);
    EXPECT_EQ(pair.label_a(), "baseline");
    EXPECT_NE(pair.image_a().artifact().sha256(), pair.image_b().artifact().sha256());
    EXPECT_EQ(pair.image_a().parameters().find("Lora hashes"), std::string::npos);
    EXPECT_NE(pair.image_b().parameters().find("Lora hashes: \"lora_kohya:"), std::string::npos)
        << pair.image_b().parameters();
  }
  EXPECT_EQ(pairs[0].image_b().artifact().path(), "pairs/0000-finetuned.png");
  EXPECT_EQ(Artifacts(run_id).size(), 4u);
  EXPECT_EQ(GetRun(run_id).tags().at("dreamshot.kind"), "pairs");

  server_.reset();  // releases the store's lock
  auto store = experiments::ExperimentStore::Open(data_dir_ + "/experiments.db");
  ASSERT_TRUE(store.ok()) << store.status();
  auto stored = experiments::PairStore((*store)->database()).ListImagePairs(run_id);
  ASSERT_TRUE(stored.ok()) << stored.status();
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[0].prompt, "Close Shot, an old sailor");
  EXPECT_EQ((*stored)[0].label_b, "finetuned");
  EXPECT_EQ((*stored)[0].artifact_b, pairs[0].image_b().artifact().id());
}

// A request long enough to cancel mid-way.
v1::GenerateRequest LongRequest() {
  v1::GenerateRequest r = TinyRequest();
  r.mutable_generation()->set_steps(500);
  r.mutable_generation()->set_width(64);
  r.mutable_generation()->set_height(64);
  return r;
}

TEST_F(GeneratorServiceTest, CancellingTheCallStopsTheJobAndCancelsItsRun) {
  grpc::ClientContext context;
  auto reader = generator_->Generate(&context, LongRequest());
  v1::GenerateResponse message;
  int64_t run_id = 0;
  while (reader->Read(&message)) {
    run_id = message.run_id();
    if (message.progress().message() == "denoising" && message.progress().step() >= 1) break;
  }
  ASSERT_GT(run_id, 0);
  context.TryCancel();
  while (reader->Read(&message)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_EQ(WaitForEnd(run_id), v1::CANCELLED);
  EXPECT_TRUE(Artifacts(run_id).empty());
}

TEST(GeneratorQueueTest, AFullQueueRefusesWithResourceExhaustedAndAQueuedCancelLeavesNoRun) {
  const std::string dir = testing::FreshDataDir("generator-queue");
  auto server = testing::StartServer(dir, "", [](services::ServerOptions& o) { o.queue_capacity = 2; });
  ASSERT_NE(server, nullptr);
  auto generator = v1::GeneratorService::NewStub(testing::ChannelTo(*server));
  auto experiments = v1::ExperimentService::NewStub(testing::ChannelTo(*server));

  grpc::ClientContext running_context;
  auto running = generator->Generate(&running_context, LongRequest());
  v1::GenerateResponse message;
  while (running->Read(&message) && message.run_id() == 0) {
  }
  ASSERT_GT(message.run_id(), 0);  // the first job runs

  grpc::ClientContext waiting_context;
  auto waiting = generator->Generate(&waiting_context, TinyRequest());
  ASSERT_TRUE(waiting->Read(&message));
  EXPECT_EQ(message.progress().message(), "queued");
  EXPECT_EQ(message.progress().queue_position(), 1);

  grpc::ClientContext refused_context;
  auto refused = generator->Generate(&refused_context, TinyRequest());
  while (refused->Read(&message)) {
  }
  const grpc::Status refused_status = refused->Finish();
  EXPECT_EQ(refused_status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(refused_status.error_message().find("the cpu queue is full"), std::string::npos)
      << refused_status.error_message();

  // The waiting request leaves the queue at once, before any run is made.
  const auto cancel_start = std::chrono::steady_clock::now();
  waiting_context.TryCancel();
  while (waiting->Read(&message)) {
  }
  EXPECT_EQ(waiting->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_LT(std::chrono::steady_clock::now() - cancel_start, 5s);
  running_context.TryCancel();
  while (running->Read(&message)) {
  }
  running->Finish();

  grpc::ClientContext search_context;
  v1::SearchRunsRequest search;
  v1::SearchRunsResponse runs;
  ASSERT_TRUE(experiments->SearchRuns(&search_context, search, &runs).ok());
  EXPECT_EQ(runs.runs_size(), 1);  // only the job that ran
}

TEST_F(GeneratorServiceTest, BadRequestsAreRefusedBeforeAnyWorkWithTheirCode) {
  struct Case {
    const char* what;
    std::function<void(v1::GenerateRequest&)> change;
    grpc::StatusCode code;
    const char* message;
  };
  const std::string tiny = core::ReferencePath("tiny_sd");
  const std::string no_vae = data_dir_ + "-no-vae";
  std::filesystem::create_directories(no_vae);
  for (const char* c : {"text_encoder", "tokenizer", "unet", "scheduler"}) {
    std::filesystem::create_directory_symlink(tiny + "/" + c, no_vae + "/" + c);
  }
  const std::vector<Case> cases = {
      {"unknown scheduler", [](auto& r) { r.mutable_generation()->set_scheduler("plms2"); },
       grpc::StatusCode::INVALID_ARGUMENT, "unknown scheduler \"plms2\""},
      {"size", [](auto& r) { r.mutable_generation()->set_width(30); }, grpc::StatusCode::INVALID_ARGUMENT,
       "multiples of 8, got 30×32"},
      {"zero steps", [](auto& r) { r.mutable_generation()->set_steps(0); }, grpc::StatusCode::INVALID_ARGUMENT,
       "steps must be in [1, 1000], got 0"},
      {"zero images",
       [](auto& r) {
         r.mutable_generation()->clear_seeds();
         r.mutable_generation()->set_num_images(0);
       },
       grpc::StatusCode::INVALID_ARGUMENT, "num_images must be in [1, 1000], got 0"},
      {"guidance", [](auto& r) { r.mutable_generation()->set_guidance_scale(0.5); },
       grpc::StatusCode::INVALID_ARGUMENT, "a negative prompt needs classifier-free guidance"},
      {"missing model", [](auto& r) { r.mutable_generation()->mutable_model()->set_base("/no/such/model"); },
       grpc::StatusCode::NOT_FOUND, "no model at /no/such/model"},
      {"missing component",
       [&](auto& r) { r.mutable_generation()->mutable_model()->set_base(no_vae); },
       grpc::StatusCode::FAILED_PRECONDITION, "lacks vae/"},
      {"missing LoRA",
       [](auto& r) { r.mutable_generation()->mutable_model()->add_loras()->set_path("/no/lora.safetensors"); },
       grpc::StatusCode::NOT_FOUND, "generation.model.loras[0]: no LoRA file at /no/lora.safetensors"},
      {"device", [](auto& r) { r.mutable_generation()->mutable_model()->set_device("tpu"); },
       grpc::StatusCode::INVALID_ARGUMENT, "tpu"},
      {"unknown run",
       [](auto& r) {
         r.mutable_target()->clear_experiment();
         r.mutable_target()->set_run_id(777);
       },
       grpc::StatusCode::NOT_FOUND, "777"},
      {"run and experiment", [](auto& r) { r.mutable_target()->set_run_id(1); }, grpc::StatusCode::INVALID_ARGUMENT,
       "target names both a run and an experiment"},
  };
  for (const Case& c : cases) {
    v1::GenerateRequest request = TinyRequest();
    c.change(request);
    GenerateOutcome out = Generate(request);
    EXPECT_EQ(out.status.error_code(), c.code) << c.what << ": " << out.status.error_message();
    EXPECT_NE(out.status.error_message().find(c.message), std::string::npos)
        << c.what << ": " << out.status.error_message();
    EXPECT_TRUE(out.messages.empty()) << c.what;  // refused, not queued
  }
  // A LoRA that does not fit the model fails once loaded, before any step.
  v1::GenerateRequest unfit = TinyRequest();
  unfit.mutable_generation()->mutable_model()->add_loras()->set_path(
      core::ReferencePath("tiny_sd/unet/diffusion_pytorch_model.safetensors"));
  GenerateOutcome out = Generate(unfit);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << out.status.error_message();
  EXPECT_NE(out.status.error_message().find("more"), std::string::npos) << out.status.error_message();
  EXPECT_LT(out.status.error_message().size(), 2100u);
  for (const auto& m : out.messages) EXPECT_NE(m.progress().message(), "denoising");
  EXPECT_EQ(GetRun(out.run_id()).status(), v1::FAILED);
  // Nothing that was stored before is lost.
  grpc::ClientContext context;
  v1::SearchRunsResponse runs;
  ASSERT_TRUE(experiments_->SearchRuns(&context, v1::SearchRunsRequest(), &runs).ok());
  EXPECT_EQ(runs.runs_size(), 1);
}

// The number of runs in the store (refused requests must add none).
int RunCount(v1::ExperimentService::Stub& experiments) {
  grpc::ClientContext context;
  v1::SearchRunsResponse runs;
  EXPECT_TRUE(experiments.SearchRuns(&context, v1::SearchRunsRequest(), &runs).ok());
  return runs.runs_size();
}

// A sampler and step count the model's schedule cannot run is a request
// check: refused before a run exists, for single images and for pairs.
TEST_F(GeneratorServiceTest, PndmWithOneStepIsRefusedBeforeARunExists) {
  v1::GenerateRequest request = TinyRequest();
  request.mutable_generation()->set_scheduler("pndm");
  request.mutable_generation()->set_steps(1);
  GenerateOutcome out = Generate(request);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << out.status.error_message();
  EXPECT_NE(out.status.error_message().find("generation.model: steps 1 with the PNDMScheduler of "),
            std::string::npos)
      << out.status.error_message();
  EXPECT_NE(out.status.error_message().find("PNDM: steps must be in [2, 1000], got 1"), std::string::npos)
      << out.status.error_message();
  EXPECT_TRUE(out.messages.empty());  // refused, not queued
  request.mutable_generation()->clear_scheduler();  // the model's own scheduler is PNDM too
  EXPECT_EQ(Generate(request).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  v1::GeneratePairsRequest pairs;
  pairs.mutable_generation()->set_width(32);
  pairs.mutable_generation()->set_height(32);
  pairs.mutable_generation()->set_steps(1);
  pairs.mutable_generation()->set_scheduler("pndm");
  pairs.mutable_generation()->add_seeds(1);
  pairs.mutable_a()->mutable_model()->set_base(core::ReferencePath("tiny_sd"));
  *pairs.mutable_b()->mutable_model() = pairs.a().model();
  pairs.add_prompts()->set_prompt("Close Shot, a cat");
  grpc::ClientContext context;
  auto reader = generator_->GeneratePairs(&context, pairs);
  v1::GeneratePairsResponse message;
  int messages = 0;
  while (reader->Read(&message)) ++messages;
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_NE(status.error_message().find("a.model: steps 1"), std::string::npos) << status.error_message();
  EXPECT_EQ(messages, 0);

  EXPECT_EQ(RunCount(*experiments_), 0);  // no failed run left behind
  request.mutable_generation()->set_steps(2);  // the smallest PNDM run works
  EXPECT_TRUE(Generate(request).status.ok());
  EXPECT_EQ(RunCount(*experiments_), 1);
}

// A model folder whose configs are wrong, hostile or do not fit its weights
// is refused with INVALID_ARGUMENT naming the file and the key (and the
// tensor), from the config checks, before any network is built and before a
// run exists; no LibTorch backtrace reaches the client.
TEST_F(GeneratorServiceTest, BadModelConfigsAreRefusedByTheirKeyBeforeARunExists) {
  const std::string pristine = data_dir_ + "-tiny";
  ASSERT_TRUE(diffusion::WriteTinyStableDiffusion(pristine, 11).ok());
  auto edited = [&](const std::string& name, const std::string& file, const std::string& changes) {
    const std::string dir = data_dir_ + "-" + name;
    std::filesystem::copy(pristine, dir, std::filesystem::copy_options::recursive);
    const std::string path = dir + "/" + file;
    nlohmann::json config = nlohmann::json::object();
    const nlohmann::json patch = nlohmann::json::parse(changes);
    if (!patch.empty()) config = nlohmann::json::parse(std::ifstream(path));
    for (const auto& [key, value] : patch.items()) config[key] = value;
    std::ofstream(path, std::ios::trunc) << config.dump(2);
    return dir;
  };
  struct Case {
    std::string name, file, changes;
    std::vector<std::string> expected;  // substrings of the message
  };
  const std::vector<Case> cases = {
      // {} is every diffusers default (SD 1.5's UNet): the header of the
      // tiny weights refuses it without building SD 1.5.
      {"empty-unet", "unet/config.json", "{}",
       {"unet/config.json does not fit the weights in ", "unet/diffusion_pytorch_model.safetensors",
        "conv_in.bias is [32] in the weights but the config gives [320]", "the config implies 859520964 parameters",
        "leaves these to their defaults: ", "block_out_channels"}},
      {"timesteps", "scheduler/scheduler_config.json", R"({"num_train_timesteps": 1000000000000})",
       {"scheduler/scheduler_config.json: num_train_timesteps = 1000000000000 is outside [2, 100000]"}},
      {"timesteps-float", "scheduler/scheduler_config.json", R"({"num_train_timesteps": 1e12})",
       {"scheduler/scheduler_config.json: num_train_timesteps must be an integer"}},
      {"channels", "unet/config.json", R"({"block_out_channels": [1000000000, 1000000000]})",
       {"unet/config.json: block_out_channels[0] = 1000000000 is outside [1, 16384]"}},
      {"channels-float", "unet/config.json", R"({"block_out_channels": [1e9, 1e9]})",
       {"unet/config.json: block_out_channels must be a list of integers"}},
      {"shapes", "unet/config.json", R"({"use_linear_projection": true})",
       {"unet/config.json does not fit the weights in ",
        "down_blocks.0.attentions.0.proj_in.weight is [32, 32, 1, 1] in the weights but the config gives [32, 32]",
        "use_linear_projection"}},
      {"vae-layers", "vae/config.json", R"({"layers_per_block": 2})",
       {"vae/config.json does not fit the weights in ", "the weights lack ", "layers_per_block"}},
  };
  for (const Case& c : cases) {
    v1::GenerateRequest request = TinyRequest();
    request.mutable_generation()->mutable_model()->set_base(edited(c.name, c.file, c.changes));
    GenerateOutcome out = Generate(request);
    const std::string& m = out.status.error_message();
    EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name << ": " << m;
    EXPECT_EQ(m.rfind("generation.model: ", 0), 0u) << c.name << ": " << m;
    for (const std::string& e : c.expected) EXPECT_NE(m.find(e), std::string::npos) << c.name << ": " << m;
    for (const char* leak : {"frame #", "0x", "Exception raised from", "\n"}) {
      EXPECT_EQ(m.find(leak), std::string::npos) << c.name << " leaks " << leak << ": " << m;
    }
    EXPECT_TRUE(out.messages.empty()) << c.name;  // refused, not queued
  }
  EXPECT_EQ(RunCount(*experiments_), 0);
  // The pristine copy generates: the checks refuse what is wrong only.
  v1::GenerateRequest request = TinyRequest();
  request.mutable_generation()->mutable_model()->set_base(pristine);
  EXPECT_TRUE(Generate(request).status.ok());
}

}  // namespace
}  // namespace dreamshot
