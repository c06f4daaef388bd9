#include "core/torch_pickle.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

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

// --- Files written the way Python's torch.save writes them ------------------
// core/testdata/make_torch_checkpoints.py emulates torch.save with the Python
// standard library (stub torch modules + pickle protocol 2 + a stored zip).

class PythonTorchSaveTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(TempPath("py_torch_save"));
    const std::string cmd =
        "/usr/bin/python3 core/testdata/make_torch_checkpoints.py '" + *dir_ + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string File(const std::string& name) { return *dir_ + "/" + name; }

  struct Expected {
    std::string dtype;
    std::vector<int64_t> shape;
    std::vector<double> values;
  };
  static std::map<std::string, Expected> ReadExpected() {
    std::map<std::string, Expected> out;
    std::ifstream in(File("expected.txt"));
    std::string line;
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string name;
      Expected e;
      size_t ndim = 0, count = 0;
      fields >> name >> e.dtype >> ndim;
      e.shape.resize(ndim);
      for (auto& d : e.shape) fields >> d;
      fields >> count;
      e.values.resize(count);
      for (auto& v : e.values) fields >> v;
      out.emplace(name, e);
    }
    return out;
  }
  static void ExpectStateDict(const std::map<std::string, at::Tensor>& tensors) {
    const auto expected = ReadExpected();
    ASSERT_EQ(expected.size(), 7u);
    ASSERT_EQ(tensors.size(), expected.size());
    for (const auto& [name, e] : expected) {
      SCOPED_TRACE(name);
      ASSERT_EQ(tensors.count(name), 1u);
      const at::Tensor& t = tensors.at(name);
      const torch::Dtype dtype = e.dtype == "F32" ? torch::kFloat : e.dtype == "F16" ? torch::kHalf : torch::kLong;
      EXPECT_EQ(t.scalar_type(), dtype);
      EXPECT_EQ(t.sizes().vec(), e.shape);
      if (dtype == torch::kLong) {
        std::vector<int64_t> want(e.values.begin(), e.values.end());
        at::Tensor got = t.contiguous().reshape({-1});
        EXPECT_EQ(std::vector<int64_t>(got.data_ptr<int64_t>(), got.data_ptr<int64_t>() + got.numel()), want);
      } else {
        at::Tensor got = t.to(torch::kDouble).contiguous().reshape({-1});
        EXPECT_EQ(std::vector<double>(got.data_ptr<double>(), got.data_ptr<double>() + got.numel()), e.values);
      }
    }
  }
  static std::string* dir_;
};
std::string* PythonTorchSaveTest::dir_ = nullptr;

TEST_F(PythonTorchSaveTest, ReadsOrderedDictStateDict) {
  std::vector<std::string> skipped;
  auto tensors = ReadTorchStateDict(File("state_dict.bin"), &skipped);
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  ExpectStateDict(*tensors);
  EXPECT_TRUE(skipped.empty());
  // The transposed tensor keeps its strides; shared storages stay shared.
  EXPECT_EQ(tensors->at("layer.weight_t").strides().vec(), (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(tensors->at("shared.a").storage().data(), tensors->at("shared.b").storage().data());
  EXPECT_EQ(tensors->at("shared.b").storage_offset(), 4);
}

TEST_F(PythonTorchSaveTest, ReadsProtocol4) {
  auto tensors = ReadTorchStateDict(File("state_dict_p4.bin"));
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  ExpectStateDict(*tensors);
}

TEST_F(PythonTorchSaveTest, ReadsLightningCheckpointAndSkipsObjects) {
  std::vector<std::string> skipped;
  auto tensors = ReadTorchStateDict(File("lightning.ckpt"), &skipped);
  ASSERT_TRUE(tensors.ok()) << tensors.status();
  ExpectStateDict(*tensors);
  std::sort(skipped.begin(), skipped.end());
  EXPECT_EQ(skipped, (std::vector<std::string>{
                         "big (Int)",
                         "callbacks (object pytorch_lightning.callbacks.model_checkpoint.ModelCheckpoint)",
                         "epoch (Int)",
                         "global_step (Int)",
                         "lr_schedulers (GenericList)",
                         "pytorch-lightning_version (String)",
                     }));
}

TEST_F(PythonTorchSaveTest, RejectsTensorBeyondItsStorage) {
  auto tensors = ReadTorchStateDict(File("bad_stride.bin"));
  ASSERT_FALSE(tensors.ok());
  EXPECT_EQ(tensors.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tensors.status().message().find(File("bad_stride.bin")), std::string::npos) << tensors.status();
  EXPECT_NE(tensors.status().message().find("bad.weight"), std::string::npos) << tensors.status();
}

TEST_F(PythonTorchSaveTest, RejectsTruncatedPickle) {
  auto tensors = ReadTorchStateDict(File("truncated_pkl.bin"));
  ASSERT_FALSE(tensors.ok());
  EXPECT_EQ(tensors.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tensors.status().message().find(File("truncated_pkl.bin")), std::string::npos) << tensors.status();
  EXPECT_NE(tensors.status().message().find("truncated"), std::string::npos) << tensors.status();
}

TEST_F(PythonTorchSaveTest, RejectsUnknownOpcode) {
  auto tensors = ReadTorchStateDict(File("unknown_opcode.bin"));
  ASSERT_FALSE(tensors.ok());
  EXPECT_EQ(tensors.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tensors.status().message().find(File("unknown_opcode.bin")), std::string::npos) << tensors.status();
  EXPECT_NE(tensors.status().message().find("opcode 0xff at pickle offset 2"), std::string::npos)
      << tensors.status();
}

}  // namespace
}  // namespace dreamshot::core
