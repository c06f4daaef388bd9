#include "models/expected_tensors.h"

#include <gtest/gtest.h>

#include <string>

namespace dreamshot::models {
namespace {

ExpectedTensors Small() {
  ExpectedTensors e;
  e.Conv2d("conv_in", 4, 32, 3, "in_channels, block_out_channels[0]");
  e.Linear("proj", 32, 16, "cross_attention_dim");
  e.Add("position_ids", {1, 77}, "max_position_embeddings", /*optional=*/true);
  return e;
}

core::TensorShapes SmallShapes() {
  return {{"conv_in.weight", {32, 4, 3, 3}}, {"conv_in.bias", {32}}, {"proj.weight", {16, 32}}, {"proj.bias", {16}}};
}

core::JsonConfig Config(const char* text) { return core::JsonConfig::FromString(text, "unet/config.json").value(); }

TEST(ExpectedTensorsTest, LayersAddWeightAndBias) {
  const ExpectedTensors e = Small();
  ASSERT_EQ(e.tensors().size(), 5u);
  EXPECT_EQ(e.tensors().at("conv_in.weight").shape, (std::vector<int64_t>{32, 4, 3, 3}));
  EXPECT_EQ(e.tensors().at("proj.weight").shape, (std::vector<int64_t>{16, 32}));
  EXPECT_EQ(e.NumElements(), 32 * 4 * 9 + 32 + 16 * 32 + 16 + 77);
}

TEST(ExpectedTensorsTest, MatchingWeightsPassAndOptionalTensorsMayBeAbsent) {
  EXPECT_TRUE(CheckWeightShapes(Small(), SmallShapes(), Config(R"({"in_channels": 4})"), "w.safetensors").ok());
  core::TensorShapes with_ids = SmallShapes();
  with_ids["position_ids"] = {1, 77};
  EXPECT_TRUE(CheckWeightShapes(Small(), with_ids, Config("{}"), "w.safetensors").ok());
}

TEST(ExpectedTensorsTest, WrongShapeNamesTensorKeysFilesAndDefaults) {
  core::TensorShapes shapes = SmallShapes();
  shapes["conv_in.weight"] = {320, 4, 3, 3};
  shapes["conv_in.bias"] = {320};
  const absl::Status s = CheckWeightShapes(Small(), shapes, Config(R"({"in_channels": 4})"), "unet/w.safetensors");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  const std::string m(s.message());
  EXPECT_NE(m.find("unet/config.json does not fit the weights in unet/w.safetensors"), std::string::npos) << m;
  EXPECT_NE(m.find("conv_in.bias is [320] in the weights but the config gives [32] (from in_channels, "
                   "block_out_channels[0]); 1 more tensor(s) differ in shape"),
            std::string::npos)
      << m;
  // in_channels is in the file; block_out_channels is left to its default.
  EXPECT_NE(m.find("the config leaves these to their defaults: block_out_channels"), std::string::npos) << m;
  EXPECT_EQ(m.find("defaults: block_out_channels, in_channels"), std::string::npos) << m;
}

TEST(ExpectedTensorsTest, MissingAndUnexpectedTensorsAreCounted) {
  core::TensorShapes shapes = SmallShapes();
  shapes.erase("proj.weight");
  shapes["extra.weight"] = {3};
  const std::string m(CheckWeightShapes(Small(), shapes, Config("{}"), "w.safetensors").message());
  EXPECT_NE(m.find("the weights lack 1 tensor(s) the config implies, e.g. proj.weight [16, 32] (from "
                   "cross_attention_dim)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("the weights hold 1 tensor(s) the config does not imply, e.g. extra.weight [3]"),
            std::string::npos)
      << m;
}

TEST(ExpectedTensorsTest, ParameterCountsAreReportedAndBounded) {
  core::TensorShapes shapes = SmallShapes();
  shapes["proj.bias"] = {17};
  const std::string m(CheckWeightShapes(Small(), shapes, Config("{}"), "w.safetensors").message());
  EXPECT_NE(m.find("the config implies 1789 parameters, the weights hold 1713"), std::string::npos) << m;

  ExpectedTensors huge;
  huge.Conv2d("conv_in", 1000000000, 1000000000, 3, "block_out_channels");
  EXPECT_EQ(CheckModelSize(huge, "a UNet").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckModelSize(Small(), "a UNet").ok());
}

}  // namespace
}  // namespace dreamshot::models
