#include "core/model_source.h"

#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/component_weights.h"
#include "core/json_config.h"
#include "core/ldm_key_mapping.h"
#include "core/ldm_test_names.h"
#include "core/safetensors.h"
#include "core/testdata_paths.h"
#include "gtest/gtest.h"

namespace dreamshot::core {
namespace {

namespace fs = std::filesystem;
using TensorMap = std::map<std::string, at::Tensor>;

std::string TinySd() { return ReferencePath("tiny_sd"); }

std::string TempDir(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
  fs::remove_all(path);
  fs::create_directories(path);
  return path;
}

TensorMap Reference(const std::string& component) {
  const std::string file = component == "text_encoder" ? "model.safetensors" : "diffusion_pytorch_model.safetensors";
  auto opened = SafetensorsFile::Open(TinySd() + "/" + component + "/" + file);
  EXPECT_TRUE(opened.ok()) << opened.status();
  auto tensors = opened->LoadAll();
  EXPECT_TRUE(tensors.ok()) << tensors.status();
  return *tensors;
}

void ExpectSameTensors(const TensorMap& got, const TensorMap& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (const auto& [name, tensor] : want) {
    auto it = got.find(name);
    ASSERT_NE(it, got.end()) << what << ": missing " << name;
    EXPECT_EQ(it->second.scalar_type(), tensor.scalar_type()) << what << ": " << name;
    EXPECT_TRUE(torch::equal(it->second, tensor)) << what << ": " << name;
  }
}

void SaveTorch(const std::string& path, const c10::IValue& value) {
  const std::vector<char> bytes = torch::pickle_save(value);
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// All three components of tiny_sd under LDM names (independent generator).
TensorMap LdmCheckpoint() {
  TensorMap all;
  for (const std::string component : {"unet", "vae", "text_encoder"}) {
    LdmBlockLayout layout;
    if (component != "text_encoder") {
      auto config = JsonConfig::FromFile(TinySd() + "/" + component + "/config.json");
      EXPECT_TRUE(config.ok()) << config.status();
      layout = *LdmBlockLayoutFromConfig(*config);
    }
    for (auto& [name, tensor] :
         testing::ToLdmTensors(component, Reference(component), layout.num_blocks, layout.layers_per_block)) {
      all.emplace(name, tensor);
    }
  }
  return all;
}

TEST(ModelSourceTest, DiffusersFolder) {
  ASSERT_FALSE(TinySd().empty()) << "set DREAMSHOT_REFERENCE_DIR";
  auto source = ModelSource::Open(TinySd());
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->kind(), ModelSourceKind::kDiffusersFolder);
  for (const char* name : {"unet", "vae", "text_encoder", "tokenizer", "scheduler"}) {
    EXPECT_TRUE(source->HasComponent(name)) << name;
  }
  EXPECT_FALSE(source->HasComponent("safety_checker"));
  auto unet_config = source->ComponentConfig("unet");
  ASSERT_TRUE(unet_config.ok()) << unet_config.status();
  EXPECT_EQ(*unet_config->Int("layers_per_block"), 2);
  auto scheduler_config = source->ComponentConfig("scheduler");
  ASSERT_TRUE(scheduler_config.ok()) << scheduler_config.status();
  for (const std::string component : {"unet", "vae", "text_encoder"}) {
    auto tensors = source->LoadComponent(component, DeviceSpec{});
    ASSERT_TRUE(tensors.ok()) << tensors.status();
    ExpectSameTensors(*tensors, Reference(component), component);
  }
  // Shapes for the config checks come from the safetensors header and equal
  // the loaded tensors'.
  for (const std::string component : {"unet", "vae", "text_encoder"}) {
    auto shapes = source->ComponentShapes(component);
    ASSERT_TRUE(shapes.ok()) << shapes.status();
    ASSERT_TRUE(shapes->has_value()) << component;
    EXPECT_EQ(**shapes, ShapesOf(Reference(component))) << component;
    auto path = source->ComponentWeightsPath(component);
    ASSERT_TRUE(path.ok()) << path.status();
    EXPECT_EQ(*path, TinySd() + "/" + component + "/" +
                         (component == "text_encoder" ? "model.safetensors" : "diffusion_pytorch_model.safetensors"));
  }
  auto half = source->LoadComponent("text_encoder", DeviceSpec{c10::Device(c10::kCPU), c10::kHalf});
  ASSERT_TRUE(half.ok()) << half.status();
  EXPECT_EQ(half->at("text_model.final_layer_norm.weight").scalar_type(), c10::kHalf);
  EXPECT_EQ(half->at("text_model.embeddings.position_ids").scalar_type(), c10::kLong);
}

TEST(ModelSourceTest, DiffusersFolderWithPytorchBin) {
  const std::string dir = TempDir("bin_model");
  fs::copy_file(TinySd() + "/model_index.json", dir + "/model_index.json");
  fs::create_directories(dir + "/text_encoder");
  fs::copy_file(TinySd() + "/text_encoder/config.json", dir + "/text_encoder/config.json");
  const TensorMap reference = Reference("text_encoder");
  c10::Dict<std::string, at::Tensor> dict;
  for (const auto& [name, tensor] : reference) dict.insert(name, tensor.clone());
  SaveTorch(dir + "/text_encoder/pytorch_model.bin", c10::IValue(dict));

  auto found = FindComponentWeights(dir + "/text_encoder");
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(*found, dir + "/text_encoder/pytorch_model.bin");
  auto source = ModelSource::Open(dir);
  ASSERT_TRUE(source.ok()) << source.status();
  auto tensors = source->LoadComponent("text_encoder", DeviceSpec{});
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  ExpectSameTensors(*tensors, reference, "pytorch_model.bin");
  auto direct = LoadComponentWeights(dir + "/text_encoder", DeviceSpec{});
  ASSERT_TRUE(direct.ok()) << direct.status();
  ExpectSameTensors(*direct, reference, "LoadComponentWeights");
  // A pickle's shapes are known only once it is unpickled: nullopt up front.
  auto shapes = source->ComponentShapes("text_encoder");
  ASSERT_TRUE(shapes.ok()) << shapes.status();
  EXPECT_FALSE(shapes->has_value());

  // A component folder without weights.
  fs::create_directories(dir + "/unet");
  fs::copy_file(TinySd() + "/unet/config.json", dir + "/unet/config.json");
  auto no_weights = source->LoadComponent("unet", DeviceSpec{});
  ASSERT_FALSE(no_weights.ok());
  EXPECT_EQ(no_weights.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(no_weights.status().message().find(dir + "/unet"), std::string::npos) << no_weights.status();
  // A component that is not there at all.
  auto missing = source->LoadComponent("vae", DeviceSpec{});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir), std::string::npos) << missing.status();
}

void CheckSingleFile(const std::string& path) {
  auto source = ModelSource::Open(path, TinySd());
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->kind(), ModelSourceKind::kLdmSingleFile);
  EXPECT_TRUE(source->HasComponent("unet"));
  EXPECT_TRUE(source->HasComponent("tokenizer"));  // from the config folder
  EXPECT_FALSE(source->HasComponent("safety_checker"));
  for (const std::string component : {"unet", "vae", "text_encoder"}) {
    auto tensors = source->LoadComponent(component, DeviceSpec{});
    ASSERT_TRUE(tensors.ok()) << tensors.status();
    ExpectSameTensors(*tensors, Reference(component), path + " " + component);
  }
  auto tokenizer = source->LoadComponent("tokenizer", DeviceSpec{});
  EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kInvalidArgument);
  // A single file's shapes are those of its renamed tensors.
  for (const std::string component : {"unet", "vae", "text_encoder"}) {
    auto shapes = source->ComponentShapes(component);
    ASSERT_TRUE(shapes.ok()) << shapes.status();
    ASSERT_TRUE(shapes->has_value());
    EXPECT_EQ(**shapes, ShapesOf(Reference(component))) << path << " " << component;
    EXPECT_EQ(*source->ComponentWeightsPath(component), path);
  }

  // Without a config folder: the text encoder loads, the rest needs configs.
  auto bare = ModelSource::Open(path);
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(bare->ComponentConfig("unet").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(bare->LoadComponent("unet", DeviceSpec{}).status().code(), absl::StatusCode::kFailedPrecondition);
  auto text = bare->LoadComponent("text_encoder", DeviceSpec{});
  ASSERT_TRUE(text.ok()) << text.status();
  ExpectSameTensors(*text, Reference("text_encoder"), path + " text_encoder without configs");
}

TEST(ModelSourceTest, SingleFileSafetensors) {
  const std::string path = TempDir("single") + "/model.safetensors";
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [name, tensor] : LdmCheckpoint()) tensors.emplace_back(name, tensor);
  ASSERT_TRUE(WriteSafetensors(path, tensors).ok());
  CheckSingleFile(path);
}

// Stored dtype: an fp16 single file comes back as fp16 (renamed, unconverted)
// from LoadComponentAsStored and as fp32 from LoadComponent, with the same
// values; a DeviceSpec asking for fp16 matches the stored tensors.
TEST(ModelSourceTest, LoadComponentAsStoredKeepsTheCheckpointDtype) {
  const std::string path = TempDir("single_fp16") + "/model.safetensors";
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [name, tensor] : LdmCheckpoint()) {
    tensors.emplace_back(name, tensor.is_floating_point() ? tensor.to(at::kHalf) : tensor);
  }
  ASSERT_TRUE(WriteSafetensors(path, tensors).ok());
  auto source = ModelSource::Open(path, TinySd());
  ASSERT_TRUE(source.ok()) << source.status();
  for (const std::string component : {"unet", "vae", "text_encoder"}) {
    auto stored = source->LoadComponentAsStored(component, at::Device(at::kCPU));
    auto fp32 = source->LoadComponent(component, DeviceSpec{});
    ASSERT_TRUE(stored.ok()) << stored.status();
    ASSERT_TRUE(fp32.ok()) << fp32.status();
    ASSERT_EQ(stored->size(), fp32->size());
    for (const auto& [name, tensor] : *stored) {
      const at::Tensor& converted = fp32->at(name);
      if (converted.is_floating_point()) {
        EXPECT_EQ(tensor.scalar_type(), at::kHalf) << component << " " << name;
        EXPECT_EQ(converted.scalar_type(), at::kFloat) << name;
      }
      EXPECT_TRUE(tensor.to(converted.scalar_type()).equal(converted)) << component << " " << name;
    }
  }
}

TEST(ModelSourceTest, SingleFileCkptNestedUnderStateDict) {
  const std::string path = TempDir("single_ckpt") + "/model.ckpt";
  c10::impl::GenericDict state_dict(c10::StringType::get(), c10::TensorType::get());
  for (const auto& [name, tensor] : LdmCheckpoint()) state_dict.insert(c10::IValue(name), c10::IValue(tensor));
  c10::impl::GenericDict top(c10::StringType::get(), c10::AnyType::get());
  top.insert(c10::IValue("global_step"), c10::IValue(int64_t{470000}));
  top.insert(c10::IValue("state_dict"), c10::IValue(state_dict));
  SaveTorch(path, c10::IValue(top));
  CheckSingleFile(path);
}

TEST(ModelSourceTest, SingleFileTextEncoderPositionIdsRepaired) {
  const std::string path = TempDir("position_ids") + "/text.safetensors";
  const TensorMap reference = Reference("text_encoder");
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& [name, tensor] : reference) {
    if (name == "text_model.embeddings.position_ids") continue;  // absent: synthesized
    // Legacy names (no text_model level).
    tensors.emplace_back("cond_stage_model.transformer." + name.substr(11), tensor);
  }
  ASSERT_TRUE(WriteSafetensors(path, tensors).ok());
  auto source = ModelSource::Open(path);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_FALSE(source->HasComponent("unet"));
  EXPECT_EQ(source->LoadComponent("unet", DeviceSpec{}).status().code(), absl::StatusCode::kNotFound);
  auto loaded = source->LoadComponent("text_encoder", DeviceSpec{});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ExpectSameTensors(*loaded, reference, "synthesized position_ids");
}

// Header shapes of a sharded safetensors component: every shard's header,
// no tensor data; an index naming a tensor its shard lacks is refused.
TEST(ModelSourceTest, ShardedSafetensorsShapesFromTheHeaders) {
  const std::string dir = TempDir("sharded");
  ASSERT_TRUE(WriteSafetensors(dir + "/a.safetensors", {{"x.weight", torch::ones({2, 3})}}).ok());
  ASSERT_TRUE(WriteSafetensors(dir + "/b.safetensors", {{"y.bias", torch::ones({4})}}).ok());
  std::ofstream(dir + "/model.safetensors.index.json")
      << R"({"metadata": {}, "weight_map": {"x.weight": "a.safetensors", "y.bias": "b.safetensors"}})";
  auto shapes = WeightsFileShapes(dir + "/model.safetensors.index.json");
  ASSERT_TRUE(shapes.ok()) << shapes.status();
  ASSERT_TRUE(shapes->has_value());
  EXPECT_EQ(**shapes, (TensorShapes{{"x.weight", {2, 3}}, {"y.bias", {4}}}));

  std::ofstream(dir + "/bad.safetensors.index.json")
      << R"({"weight_map": {"x.weight": "a.safetensors", "z.weight": "a.safetensors"}})";
  auto bad = WeightsFileShapes(dir + "/bad.safetensors.index.json");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("tensor z.weight not found in shard a.safetensors"), std::string::npos)
      << bad.status();
  EXPECT_EQ(WeightsFileShapes(dir + "/weights.txt").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ModelSourceTest, Errors) {
  auto missing = ModelSource::Open("/nonexistent/model.ckpt");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/model.ckpt"), std::string::npos);

  const std::string empty_dir = TempDir("not_a_model");
  auto no_index = ModelSource::Open(empty_dir);
  EXPECT_EQ(no_index.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_index.status().message().find("model_index.json"), std::string::npos) << no_index.status();

  const std::string other = empty_dir + "/weights.safetensors";
  ASSERT_TRUE(WriteSafetensors(other, {{"foo.weight", torch::ones({2})}}).ok());
  auto not_ldm = ModelSource::Open(other);
  EXPECT_EQ(not_ldm.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(not_ldm.status().message().find("no original-LDM keys"), std::string::npos) << not_ldm.status();

  const std::string text = empty_dir + "/notes.txt";
  std::ofstream(text) << "hello";
  EXPECT_EQ(ModelSource::Open(text).status().code(), absl::StatusCode::kInvalidArgument);

  auto source = ModelSource::Open(TinySd());
  ASSERT_TRUE(source.ok());
  auto no_component = source->LoadComponent("safety_checker", DeviceSpec{});
  EXPECT_EQ(no_component.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(no_component.status().message().find(TinySd()), std::string::npos) << no_component.status();
  EXPECT_EQ(source->ComponentConfig("safety_checker").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace dreamshot::core
