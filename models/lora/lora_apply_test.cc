// Merged and runtime LoRA on the reference tiny UNet / text encoder,
// including the lora_unet reference outputs (the parity case, duplicated
// here as a focused test).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/safetensors.h"
#include "core/testdata_paths.h"
#include "models/lora/adaptable_modules.h"
#include "models/lora/lora_file.h"
#include "models/lora/lora_merge.h"
#include "models/lora/lora_runtime.h"
#include "models/lora/lora_test_models.h"

namespace dreamshot::models::lora {
namespace {

constexpr double kAtol = 1e-4, kRtol = 1e-4;  // the lora_unet case's tolerance

double MaxAbsError(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

void ExpectClose(const at::Tensor& actual, const at::Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  const at::Tensor a = actual.to(torch::kDouble), e = expected.to(torch::kDouble);
  const double err = MaxAbsError(a, e);
  std::cout << what << ": max abs error " << err << "\n";
  EXPECT_TRUE(((a - e).abs() <= kAtol + kRtol * e.abs()).all().item<bool>()) << what << ": max abs error " << err;
}

class LoraUNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(core::ReferenceDir().empty()) << "set DREAMSHOT_REFERENCE_DIR";
    auto unet = LoadReferenceUNet();
    ASSERT_TRUE(unet.ok()) << unet.status();
    unet_ = std::move(*unet);
    auto index = AdaptableModules::Index(unet_->module(), LoraComponent::kUNet);
    ASSERT_TRUE(index.ok()) << index.status();
    index_.emplace(std::move(*index));
    auto io = core::SafetensorsFile::Open(core::ReferencePath("cases/lora_unet_io.safetensors"));
    ASSERT_TRUE(io.ok()) << io.status();
    io_.emplace(std::move(*io));
  }

  at::Tensor Expected(const std::string& name) {
    auto t = io_->Load(name);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : at::Tensor();
  }

  at::Tensor Forward() {
    torch::NoGradGuard no_grad;
    auto out = unet_->Forward(Expected("sample"), Expected("timestep"), Expected("encoder_hidden_states"));
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : at::Tensor();
  }

  LoraModuleMap ReadUNetLora(const std::string& file) {
    auto lora = ReadLoraFile(ReferenceLoraPath(file), {&*index_, nullptr});
    EXPECT_TRUE(lora.ok()) << lora.status();
    return lora.ok() ? lora->weights.unet : LoraModuleMap{};
  }

  std::unique_ptr<unet::UNet2DConditionModel> unet_;
  std::optional<AdaptableModules> index_;
  std::optional<core::SafetensorsFile> io_;
};

TEST_F(LoraUNetTest, ReferenceOutputsMergedAndRuntime) {
  ExpectClose(Forward(), Expected("out_base"), "base");
  for (const char* file : {"pytorch_lora_weights.safetensors", "pytorch_lora_weights_diffusers_legacy.safetensors",
                           "lora_kohya.safetensors"}) {
    const LoraModuleMap lora = ReadUNetLora(file);
    ASSERT_FALSE(lora.empty()) << file;
    for (const double scale : {1.0, 0.5}) {
      const std::string expected = scale == 1.0 ? "out_lora_scale_1.0" : "out_lora_scale_0.5";
      ASSERT_TRUE(MergeLora(*index_, lora, scale).ok());
      ExpectClose(Forward(), Expected(expected), absl::StrCat(file, " merged ", expected));
      ASSERT_TRUE(UnmergeLora(*index_, lora, scale).ok());

      RuntimeLoras runtime(*index_);
      ASSERT_TRUE(runtime.Attach("reference", lora, scale).ok());
      ExpectClose(Forward(), Expected(expected), absl::StrCat(file, " runtime ", expected));
    }
    // Detached (runtime destroyed) and un-merged: the base model again.
    ExpectClose(Forward(), Expected("out_base"), absl::StrCat(file, " after removal"));
  }
}

TEST_F(LoraUNetTest, UnmergeRestoresTheWeights) {
  std::map<std::string, at::Tensor> before;
  for (const auto& p : unet_->module().named_parameters()) before[p.key()] = p.value().detach().clone();
  const LoraModuleMap lora = ReadUNetLora("lora_kohya.safetensors");
  ASSERT_TRUE(MergeLora(*index_, lora, 0.8).ok());
  bool changed = false;
  for (const auto& p : unet_->module().named_parameters()) changed |= !torch::equal(p.value(), before[p.key()]);
  EXPECT_TRUE(changed);
  ASSERT_TRUE(UnmergeLora(*index_, lora, 0.8).ok());
  for (const auto& p : unet_->module().named_parameters()) {
    EXPECT_LE(MaxAbsError(p.value(), before[p.key()]), 1e-6) << p.key();
  }
}

TEST_F(LoraUNetTest, RuntimeScalesAndSeveralAdapters) {
  const LoraModuleMap lora = ReadUNetLora("pytorch_lora_weights.safetensors");
  RuntimeLoras runtime(*index_);
  ASSERT_TRUE(runtime.Attach("a", lora, 0.25).ok());
  ASSERT_TRUE(runtime.Attach("b", lora, 0.25).ok());
  EXPECT_EQ(runtime.Attach("a", lora, 1.0).code(), absl::StatusCode::kAlreadyExists);
  ExpectClose(Forward(), Expected("out_lora_scale_0.5"), "two adapters at 0.25");
  ASSERT_TRUE(runtime.SetScale("b", 0.75).ok());
  ExpectClose(Forward(), Expected("out_lora_scale_1.0"), "0.25 + 0.75");
  ASSERT_TRUE(runtime.Detach("a").ok());
  ASSERT_TRUE(runtime.SetScale("b", 0.0).ok());
  ExpectClose(Forward(), Expected("out_base"), "scale 0");
  EXPECT_EQ(runtime.SetScale("a", 1.0).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(runtime.adapters(), std::vector<std::string>{"b"});
}

TEST_F(LoraUNetTest, ConvAdaptersMergeButDoNotAttachAtRuntime) {
  const std::string conv1 = "down_blocks.0.resnets.0.conv1";
  const at::Tensor weight = index_->Weight(conv1);
  LoraModuleMap lora;
  lora[conv1] = LoraModuleWeights{torch::randn({2, weight.size(1), 3, 3}), torch::randn({weight.size(0), 2, 1, 1}),
                                  1.0};
  const at::Tensor before = weight.clone();
  ASSERT_TRUE(MergeLora(*index_, lora, 1.0).ok());
  EXPECT_LE(MaxAbsError(weight - before, WeightDelta(lora[conv1])), 1e-5);
  ASSERT_TRUE(UnmergeLora(*index_, lora, 1.0).ok());
  EXPECT_LE(MaxAbsError(weight, before), 1e-6);

  RuntimeLoras runtime(*index_);
  absl::Status attached = runtime.Attach("conv", lora, 1.0);
  EXPECT_EQ(attached.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(attached.message().find(conv1), std::string::npos) << attached;
  EXPECT_TRUE(runtime.adapters().empty());

  const at::Tensor unmerged = weight.clone();
  lora[conv1].up = torch::randn({weight.size(0) + 1, 2, 1, 1});
  absl::Status mismatched = MergeLora(*index_, lora, 1.0);
  EXPECT_EQ(mismatched.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(mismatched.message().find(conv1), std::string::npos) << mismatched;
  EXPECT_TRUE(torch::equal(weight, unmerged));  // a failed merge changes nothing
}

// q/k/v/out_proj and fc1/fc2 of every text-encoder layer, runtime vs merged,
// in float32 and bfloat16.
TEST(LoraTextEncoderTest, RuntimeEqualsMerged) {
  for (const c10::ScalarType dtype : {torch::kFloat, torch::kBFloat16}) {
    core::DeviceSpec spec;
    spec.dtype = dtype;
    auto text = LoadReferenceTextEncoder(spec);
    ASSERT_TRUE(text.ok()) << text.status();
    auto index = AdaptableModules::Index((*text)->module(), LoraComponent::kTextEncoder);
    ASSERT_TRUE(index.ok()) << index.status();
    LoraModuleMap lora;
    torch::manual_seed(0);
    for (const std::string& path : index->paths()) {
      const at::Tensor w = index->Weight(path);
      lora[path] = LoraModuleWeights{0.1 * torch::randn({4, w.size(1)}), 0.1 * torch::randn({w.size(0), 4}), 8.0};
    }
    const at::Tensor ids = torch::tensor({{49406, 320, 1125, 539, 49407, 49407}}, torch::kLong);
    torch::NoGradGuard no_grad;
    auto base = (*text)->Forward(ids);
    ASSERT_TRUE(base.ok());
    at::Tensor runtime_out;
    {
      RuntimeLoras runtime(*index);
      ASSERT_TRUE(runtime.Attach("te", lora, 0.7).ok());
      runtime_out = (*text)->Forward(ids)->last_hidden_state;
    }
    ASSERT_TRUE(MergeLora(*index, lora, 0.7).ok());
    const at::Tensor merged_out = (*text)->Forward(ids)->last_hidden_state;
    const double tolerance = dtype == torch::kFloat ? 1e-5 : 5e-2;
    EXPECT_GT(MaxAbsError(merged_out, base->last_hidden_state), 0.1);  // the adapter does change the output
    EXPECT_LE(MaxAbsError(runtime_out, merged_out), tolerance) << c10::toString(dtype);
  }
}

}  // namespace
}  // namespace dreamshot::models::lora
