// Text-encoder LoRA trained with the UNet's on the tiny reference model:
// its adapter gets gradients and changes the text states while the base
// text weights stay as loaded; a resumed run ends bit-identical; the one
// adapter file holding both components loads back through models/lora and
// is applied by the generation pipeline to the same outputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <filesystem>

#include "core/model_source.h"
#include "core/testdata_paths.h"
#include "diffusion/pipeline/applied_loras.h"
#include "diffusion/pipeline/text_to_image.h"
#include "diffusion/schedulers/scheduler_factory.h"
#include "models/lora/lora_file.h"
#include "trainer/trainable_lora.h"
#include "trainer/training_loop.h"

namespace dreamshot::trainer {
namespace {

using ::testing::HasSubstr;
namespace lora = models::lora;

constexpr char kInstancePrompt[] = "a sks close shot, a man at a desk";
constexpr char kClassPrompt[] = "a close shot, a man at a desk";

std::unique_ptr<diffusion::StableDiffusionModels> LoadTiny() {
  auto source = core::ModelSource::Open(core::ReferencePath("tiny_sd"));
  EXPECT_TRUE(source.ok()) << source.status();
  auto loaded = diffusion::StableDiffusionModels::Load(*source, core::DeviceSpec{});
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return std::make_unique<diffusion::StableDiffusionModels>(std::move(*loaded));
}

// The tiny model with a UNet adapter and a text-encoder adapter, base
// weights frozen: what a run with --train_text_encoder trains.
struct TwoAdapters {
  explicit TwoAdapters(uint64_t seed = 3) : models(LoadTiny()) {
    FreezeParameters(models->unet->module());
    FreezeParameters(models->text_encoder->module());
    unet_index = std::make_unique<lora::AdaptableModules>(
        lora::AdaptableModules::Index(models->unet->module(), lora::LoraComponent::kUNet).value());
    text_index = std::make_unique<lora::AdaptableModules>(
        lora::AdaptableModules::Index(models->text_encoder->module(), lora::LoraComponent::kTextEncoder).value());
    unet_lora = TrainableLora::Attach(*unet_index, LoraTrainingOptions{}, at::detail::createCPUGenerator(seed)).value();
    LoraTrainingOptions text_options;
    text_options.target_modules = kTextEncoderTargets;
    text_lora = TrainableLora::Attach(*text_index, text_options, at::detail::createCPUGenerator(seed + 1)).value();
    scheduler = diffusion::LoadScheduler(core::ReferencePath("tiny_sd"), {"ddpm"}).value();
  }

  TrainingModels Training() const {
    return {models->unet.get(), unet_lora.get(), models->text_encoder.get(), text_lora.get()};
  }

  at::Tensor Ids(const std::string& prompt) const {
    const models::clip::TokenizedBatch t = models->tokenizer->Tokenize({prompt});
    return torch::tensor(t.input_ids, torch::kLong);
  }

  TrainingData Data() const {
    at::Generator g = at::detail::createCPUGenerator(11);
    TrainingData data;
    for (int i = 0; i < 3; ++i) data.instance.push_back({torch::randn({4, 8, 8}, g), {}, Ids(kInstancePrompt)});
    for (int i = 0; i < 2; ++i) data.prior.push_back({torch::randn({4, 8, 8}, g), {}, Ids(kClassPrompt)});
    return data;
  }

  std::unique_ptr<diffusion::StableDiffusionModels> models;
  std::unique_ptr<lora::AdaptableModules> unet_index, text_index;
  std::unique_ptr<TrainableLora> unet_lora, text_lora;
  std::unique_ptr<diffusion::Scheduler> scheduler;
};

TrainingLoopOptions Options(int64_t steps) {
  TrainingLoopOptions o;
  o.max_steps = steps;
  o.seed = 5;
  o.lr.base_lr = 1e-2;
  return o;
}

std::map<std::string, at::Tensor> Snapshot(const std::map<std::string, at::Tensor>& named) {
  std::map<std::string, at::Tensor> out;
  for (const auto& [name, t] : named) out[name] = t.detach().clone();
  return out;
}

std::string TempPath(const std::string& name) {
  return std::string(::testing::TempDir()) + "/" + name + "-" + std::to_string(::getpid()) + ".safetensors";
}

TEST(TextEncoderLoraTest, AttachesToTheAttentionProjectionsWithPeftKeys) {
  TwoAdapters m;
  const auto& named = m.text_lora->named_parameters();
  EXPECT_EQ(named.size(), 5u * 4 * 2);  // 5 layers × q, k, v, out × A, B
  EXPECT_TRUE(named.count("text_encoder.text_model.encoder.layers.0.self_attn.q_proj.lora_A.weight"));
  EXPECT_TRUE(named.count("text_encoder.text_model.encoder.layers.4.self_attn.out_proj.lora_B.weight"));
}

TEST(TextEncoderLoraTest, ItsAdapterLearnsAndChangesTheTextStatesBaseWeightsDoNot) {
  TwoAdapters m;
  const at::Tensor ids = m.Ids(kInstancePrompt).view({1, -1});
  at::Tensor before;
  {
    torch::NoGradGuard no_grad;
    before = m.models->text_encoder->Forward(ids).value().last_hidden_state;
  }
  std::map<std::string, at::Tensor> base;
  for (const auto& p : m.models->text_encoder->module().named_parameters()) base[p.key()] = p.value().detach().clone();
  const auto text_start = Snapshot(m.text_lora->named_parameters());
  const auto unet_start = Snapshot(m.unet_lora->named_parameters());

  auto summary = RunTrainingLoop(m.Training(), *m.scheduler, m.Data(), Options(4), nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status();

  for (const auto& [name, p] : m.text_lora->named_parameters()) {
    EXPECT_FALSE(torch::equal(p, text_start.at(name))) << name << " did not move";
  }
  for (const auto& [name, p] : m.unet_lora->named_parameters()) {
    EXPECT_FALSE(torch::equal(p, unet_start.at(name))) << name << " did not move";
  }
  for (const auto& p : m.models->text_encoder->module().named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), base.at(p.key()))) << p.key() << " (a base weight) changed";
  }
  torch::NoGradGuard no_grad;
  const at::Tensor after = m.models->text_encoder->Forward(ids).value().last_hidden_state;
  EXPECT_GT((after - before).abs().max().item<double>(), 1e-3);
}

TEST(TextEncoderLoraTest, ACancelledRunResumedFromItsCheckpointEndsBitIdentical) {
  TwoAdapters straight;
  const TrainingData data = straight.Data();
  ASSERT_TRUE(RunTrainingLoop(straight.Training(), *straight.scheduler, data, Options(6), nullptr).ok());

  const std::string path = TempPath("text-lora-resume");
  std::filesystem::remove(path);
  TrainingLoopOptions o = Options(6);
  o.checkpoint_path = path;
  {
    TwoAdapters first;
    core::CancelFlag cancel;
    auto stopped = RunTrainingLoop(first.Training(), *first.scheduler, data, o,
                                   [&](const StepReport& r) {
                                     if (r.step == 4) cancel.Cancel();
                                   },
                                   &cancel);
    EXPECT_EQ(stopped.status().code(), absl::StatusCode::kCancelled);
  }
  TwoAdapters resumed;
  auto summary = RunTrainingLoop(resumed.Training(), *resumed.scheduler, data, o, nullptr);
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->resumed_from, 4);
  for (const auto& [name, weight] : straight.text_lora->named_parameters()) {
    EXPECT_TRUE(torch::equal(weight, resumed.text_lora->named_parameters().at(name))) << name;
  }
  for (const auto& [name, weight] : straight.unet_lora->named_parameters()) {
    EXPECT_TRUE(torch::equal(weight, resumed.unet_lora->named_parameters().at(name))) << name;
  }

  // The same checkpoint does not resume a run without the text adapter.
  TwoAdapters unet_only;
  TrainingModels without = unet_only.Training();
  without.text_lora = nullptr;
  auto refused = RunTrainingLoop(without, *unet_only.scheduler, data, o, nullptr);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()),
              HasSubstr("text-encoder adapter rank = '4', this run has 'none'"));
  std::filesystem::remove(path);
}

TEST(TextEncoderLoraTest, BothComponentsInOneFileReadBackAndAppliedByThePipeline) {
  TwoAdapters m;
  ASSERT_TRUE(RunTrainingLoop(m.Training(), *m.scheduler, m.Data(), Options(3), nullptr).ok());
  auto weights = ToLoraWeights(*m.unet_lora, m.text_lora.get());
  ASSERT_TRUE(weights.ok()) << weights.status();
  const std::string path = TempPath("two-components");
  ASSERT_TRUE(lora::WriteLoraFile(path, *weights, lora::LoraFileFormat::kPeft).ok());

  auto read = lora::ReadLoraFile(path, {m.unet_index.get(), m.text_index.get()});
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_EQ(read->weights.text_encoder.size(), 20u);
  ASSERT_EQ(read->weights.unet.size(), weights->unet.size());
  for (const auto& [module, w] : weights->text_encoder) {
    const lora::LoraModuleWeights& r = read->weights.text_encoder.at(module);
    EXPECT_TRUE(torch::equal(r.down, w.down)) << module;
    EXPECT_TRUE(torch::equal(r.up, w.up)) << module;  // alpha = rank: nothing folded into up
  }

  // A fresh base model with the file applied encodes and denoises as the
  // trained one does.
  auto fresh = LoadTiny();
  const std::vector<std::string> prompts = {kInstancePrompt, kClassPrompt};
  const at::Tensor base_states = diffusion::EncodePrompts(*fresh, prompts).value();
  const at::Tensor trained_states = diffusion::EncodePrompts(*m.models, prompts).value();
  auto applied = diffusion::AppliedLoras::Apply(*fresh, {{path, 1.0}});
  ASSERT_TRUE(applied.ok()) << applied.status();
  const at::Tensor applied_states = diffusion::EncodePrompts(*fresh, prompts).value();
  EXPECT_GT((trained_states - base_states).abs().max().item<double>(), 1e-3);
  EXPECT_TRUE(torch::allclose(applied_states, trained_states, 1e-5, 1e-6));

  torch::NoGradGuard no_grad;
  at::Generator g = at::detail::createCPUGenerator(2);
  const at::Tensor sample = torch::randn({2, 4, 8, 8}, g);
  const at::Tensor t = torch::tensor({100, 700}, torch::kLong);
  const at::Tensor trained = m.models->unet->Forward(sample, t, trained_states).value();
  const at::Tensor from_file = fresh->unet->Forward(sample, t, trained_states).value();
  EXPECT_TRUE(torch::allclose(from_file, trained, 1e-5, 1e-6));
  std::filesystem::remove(path);
}

TEST(TextEncoderLoraTest, FrozenTextEncoderEncodesIdsAsTheCachedStatesWouldBe) {
  TwoAdapters ids_only, cached;
  TrainingModels frozen = ids_only.Training();
  frozen.text_lora = nullptr;
  const TrainingData data = ids_only.Data();
  TrainingData with_states = data;
  {
    torch::NoGradGuard no_grad;
    for (auto* examples : {&with_states.instance, &with_states.prior}) {
      for (EncodedExample& e : *examples) {
        e.text = cached.models->text_encoder->Forward(e.input_ids.view({1, -1})).value().last_hidden_state[0];
        e.input_ids = at::Tensor();
      }
    }
  }
  ASSERT_TRUE(RunTrainingLoop(frozen, *ids_only.scheduler, data, Options(2), nullptr).ok());
  auto from_states =
      RunTrainingLoop(*cached.models->unet, *cached.scheduler, *cached.unet_lora, with_states, Options(2), nullptr);
  ASSERT_TRUE(from_states.ok()) << from_states.status();
  for (const auto& [name, weight] : cached.unet_lora->named_parameters()) {
    // Encoding a batch at once rather than one prompt at a time may change the last bit.
    EXPECT_LE((weight - ids_only.unet_lora->named_parameters().at(name)).abs().max().item<double>(), 1e-6) << name;
  }
}

TEST(TextEncoderLoraTest, MissingIdsAndEncoderAreNamed) {
  TwoAdapters m;
  TrainingData data = m.Data();
  data.prior[1].input_ids = at::Tensor();
  data.prior[1].text = torch::zeros({77, m.models->text_encoder->config().hidden_size});
  auto no_ids = RunTrainingLoop(m.Training(), *m.scheduler, data, Options(1), nullptr);
  EXPECT_THAT(std::string(no_ids.status().message()), HasSubstr("class example 1 has no token ids"));

  TrainingModels no_encoder = m.Training();
  no_encoder.text_encoder = nullptr;
  no_encoder.text_lora = nullptr;
  auto no_encoder_run = RunTrainingLoop(no_encoder, *m.scheduler, m.Data(), Options(1), nullptr);
  EXPECT_THAT(std::string(no_encoder_run.status().message()),
              HasSubstr("instance example 0 carries token ids, and there is no text encoder"));

  TrainingModels lora_without_encoder = m.Training();
  lora_without_encoder.text_encoder = nullptr;
  auto lora_without_encoder_run = RunTrainingLoop(lora_without_encoder, *m.scheduler, m.Data(), Options(1), nullptr);
  EXPECT_THAT(std::string(lora_without_encoder_run.status().message()), HasSubstr("needs the text encoder"));
}

}  // namespace
}  // namespace dreamshot::trainer
