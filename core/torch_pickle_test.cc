#include "core/torch_pickle.h"

#include <torch/torch.h>

#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"

namespace dreamshot::core {
namespace {

std::string TempPath(const std::string& name) {
  const char* dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name;
}

void WriteBytes(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string Save(const std::string& name, const c10::IValue& value) {
  const std::string path = TempPath(name);
  WriteBytes(path, torch::pickle_save(value));
  return path;
}

c10::Dict<std::string, at::Tensor> SmallDict() {
  c10::Dict<std::string, at::Tensor> dict;
  dict.insert("a.weight", torch::arange(6, torch::kFloat).reshape({2, 3}));
  dict.insert("a.bias", torch::tensor({1.5, -2.0}, torch::kDouble));
  dict.insert("ids", torch::arange(4, torch::kLong));
  return dict;
}

TEST(TorchPickleTest, ReadsTopLevelDictOfTensors) {
  const std::string path = Save("plain.bin", c10::IValue(SmallDict()));
  std::vector<std::string> skipped;
  auto tensors = ReadTorchStateDict(path, &skipped);
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  ASSERT_EQ(tensors->size(), 3u);
  EXPECT_TRUE(torch::equal(tensors->at("a.weight"), torch::arange(6, torch::kFloat).reshape({2, 3})));
  EXPECT_EQ(tensors->at("a.bias").scalar_type(), torch::kDouble);
  EXPECT_EQ(tensors->at("ids").scalar_type(), torch::kLong);
  EXPECT_TRUE(skipped.empty());
}

TEST(TorchPickleTest, ReadsNestedStateDictAndReportsSkipped) {
  c10::impl::GenericDict inner(c10::StringType::get(), c10::AnyType::get());
  inner.insert(c10::IValue("w"), c10::IValue(torch::ones({2, 2})));
  inner.insert(c10::IValue("note"), c10::IValue(std::string("not a tensor")));
  c10::impl::GenericDict top(c10::StringType::get(), c10::AnyType::get());
  top.insert(c10::IValue("global_step"), c10::IValue(int64_t{1234}));
  top.insert(c10::IValue("epoch"), c10::IValue(int64_t{3}));
  top.insert(c10::IValue("state_dict"), c10::IValue(inner));
  const std::string path = Save("nested.ckpt", c10::IValue(top));
  std::vector<std::string> skipped;
  auto tensors = ReadTorchStateDict(path, &skipped);
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  ASSERT_EQ(tensors->size(), 1u);
  EXPECT_TRUE(torch::equal(tensors->at("w"), torch::ones({2, 2})));
  std::sort(skipped.begin(), skipped.end());
  EXPECT_EQ(skipped, (std::vector<std::string>{"epoch (Int)", "global_step (Int)", "state_dict.note (String)"}));
}

TEST(TorchPickleTest, RejectsListAtTop) {
  c10::List<at::Tensor> list;
  list.push_back(torch::ones({1}));
  const std::string path = Save("list.pth", c10::IValue(list));
  auto tensors = ReadTorchStateDict(path);
  ASSERT_FALSE(tensors.ok());
  EXPECT_EQ(tensors.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tensors.status().message().find("top level is"), std::string::npos) << tensors.status();
  EXPECT_NE(tensors.status().message().find(path), std::string::npos);
}

TEST(TorchPickleTest, RejectsDictWithoutTensors) {
  c10::Dict<std::string, int64_t> dict;
  dict.insert("global_step", 5);
  const std::string path = Save("empty.ckpt", c10::IValue(dict));
  auto tensors = ReadTorchStateDict(path);
  ASSERT_FALSE(tensors.ok());
  EXPECT_NE(tensors.status().message().find("no tensors"), std::string::npos) << tensors.status();
}

TEST(TorchPickleTest, RejectsNonStringKeys) {
  c10::Dict<int64_t, at::Tensor> dict;
  dict.insert(7, torch::ones({1}));
  const std::string path = Save("intkeys.bin", c10::IValue(dict));
  auto tensors = ReadTorchStateDict(path);
  ASSERT_FALSE(tensors.ok());
  EXPECT_EQ(tensors.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tensors.status().message().find("non-string key"), std::string::npos) << tensors.status();
}

TEST(TorchPickleTest, RejectsGarbage) {
  const std::string path = TempPath("garbage.bin");
  WriteBytes(path, std::vector<char>(100, 'x'));
  auto tensors = ReadTorchStateDict(path);
  ASSERT_FALSE(tensors.ok());
  EXPECT_EQ(tensors.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tensors.status().message().find("not a PyTorch checkpoint"), std::string::npos) << tensors.status();
}

TEST(TorchPickleTest, RejectsTruncatedArchive) {
  std::vector<char> bytes = torch::pickle_save(c10::IValue(SmallDict()));
  bytes.resize(bytes.size() / 2);
  const std::string path = TempPath("truncated.bin");
  WriteBytes(path, bytes);
  auto tensors = ReadTorchStateDict(path);
  ASSERT_FALSE(tensors.ok());
  EXPECT_EQ(tensors.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tensors.status().message().find(path), std::string::npos) << tensors.status();
}

TEST(TorchPickleTest, RejectsLegacyFormatWithAdvice) {
  const unsigned char legacy[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                  0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e, 0x80, 0x02};
  const std::string path = TempPath("legacy.pth");
  WriteBytes(path, std::vector<char>(legacy, legacy + sizeof(legacy)));
  auto tensors = ReadTorchStateDict(path);
  ASSERT_FALSE(tensors.ok());
  EXPECT_NE(tensors.status().message().find("legacy torch.save format is not supported"), std::string::npos)
      << tensors.status();
}

TEST(TorchPickleTest, MissingFileIsNotFound) {
  auto tensors = ReadTorchStateDict(TempPath("does_not_exist.bin"));
  ASSERT_FALSE(tensors.ok());
  EXPECT_EQ(tensors.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace dreamshot::core
