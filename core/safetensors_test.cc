#include "core/safetensors.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/safetensors_format.h"
#include "core/device.h"
#include "core/testdata_paths.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dreamshot::core {
namespace {

using ::testing::HasSubstr;

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string Le64(uint64_t n) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return s;
}

// A file with the given header text and `data_size` bytes of data.
std::string File(const std::string& header, size_t data_size) {
  return Le64(header.size()) + header + std::string(data_size, '\x01');
}

std::string Reference(const std::string& relative) {
  const std::string path = ReferencePath(relative);
  EXPECT_FALSE(path.empty()) << "reference vectors not found: set DREAMSHOT_REFERENCE_DIR or check out "
                                "../shared/reference next to the workspace";
  return path;
}

at::Tensor Sample(c10::ScalarType dtype, at::IntArrayRef shape) {
  if (dtype == c10::kBool) return torch::randint(0, 2, shape).to(c10::kBool);
  if (c10::isFloatingType(dtype)) return torch::randn(shape, torch::kDouble).mul(100).to(dtype);
  const int64_t high = dtype == c10::kByte ? 255 : dtype == c10::kChar ? 127 : 30000;
  const int64_t low = dtype == c10::kByte ? 0 : -high;
  return torch::randint(low, high, shape, torch::kLong).to(dtype);
}

const c10::ScalarType kAllDtypes[] = {c10::kDouble, c10::kFloat, c10::kHalf, c10::kBFloat16, c10::kLong,
                                      c10::kInt,    c10::kShort, c10::kChar, c10::kByte,     c10::kBool};

TEST(SafetensorsTest, RoundTripsEveryDtypeAndShapeExactly) {
  torch::manual_seed(0);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (c10::ScalarType dtype : kAllDtypes) {
    const std::string base = DtypeName(dtype);
    tensors.emplace_back(base + ".matrix", Sample(dtype, {3, 5}));
    tensors.emplace_back(base + ".scalar", Sample(dtype, {}));
    tensors.emplace_back(base + ".empty", Sample(dtype, {0}));
    tensors.emplace_back(base + ".empty3d", Sample(dtype, {2, 0, 3}));
    tensors.emplace_back(base + ".odd", Sample(dtype, {7}));  // odd byte counts for 1-byte types
  }
  tensors.emplace_back("transposed", torch::arange(12, torch::kFloat).reshape({3, 4}).t());  // non-contiguous
  const std::string path = TempDir() + "/roundtrip.safetensors";
  const std::map<std::string, std::string> metadata = {{"format", "pt"}, {"note", "ünïcode \"quoted\""}};
  ASSERT_TRUE(WriteSafetensors(path, tensors, metadata).ok());

  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata(), metadata);
  EXPECT_EQ(file->names().size(), tensors.size());
  EXPECT_EQ(file->header().header_size % 8, 0u);
  for (const SafetensorsEntry& e : file->entries()) {
    EXPECT_EQ(e.begin % SafetensorsDtypeSize(e.dtype), 0u) << e.name << " is not aligned";
  }
  for (const auto& [name, expected] : tensors) {
    absl::StatusOr<at::Tensor> got = file->Load(name);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->scalar_type(), expected.scalar_type()) << name;
    EXPECT_EQ(got->sizes(), expected.sizes()) << name;
    EXPECT_TRUE(torch::equal(*got, expected)) << name;
  }
  absl::StatusOr<std::map<std::string, at::Tensor>> all = file->LoadAll();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), tensors.size());
  for (const auto& [name, expected] : tensors) EXPECT_TRUE(torch::equal(all->at(name), expected)) << name;
}

TEST(SafetensorsTest, ConvertsDtypeOnLoad) {
  const at::Tensor half = torch::randn({4, 8}).to(c10::kHalf);
  const at::Tensor ids = torch::arange(10, torch::kLong);
  const std::string path = TempDir() + "/convert.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, {{"w", half}, {"ids", ids}}).ok());
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();

  absl::StatusOr<at::Tensor> f32 = file->Load("w", c10::kFloat);
  ASSERT_TRUE(f32.ok()) << f32.status();
  EXPECT_EQ(f32->scalar_type(), c10::kFloat);
  EXPECT_TRUE(torch::equal(*f32, half.to(c10::kFloat)));
  absl::StatusOr<at::Tensor> bf16 = file->Load("w", c10::kBFloat16);
  ASSERT_TRUE(bf16.ok());
  EXPECT_TRUE(torch::equal(*bf16, half.to(c10::kBFloat16)));
  absl::StatusOr<at::Tensor> ids_f = file->Load("ids", c10::kDouble);  // explicit: integers convert too
  ASSERT_TRUE(ids_f.ok());
  EXPECT_TRUE(torch::equal(*ids_f, ids.to(c10::kDouble)));

  // LoadAll converts floating-point tensors only.
  absl::StatusOr<std::map<std::string, at::Tensor>> all = file->LoadAll(c10::kFloat);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->at("w").scalar_type(), c10::kFloat);
  EXPECT_EQ(all->at("ids").scalar_type(), c10::kLong);
  EXPECT_TRUE(torch::equal(all->at("ids"), ids));
}

TEST(SafetensorsTest, ZeroCopyViewAliasesTheMappingAndOutlivesTheFile) {
  const at::Tensor w = torch::randn({64, 64});
  const std::string path = TempDir() + "/zerocopy.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, {{"w", w}, {"b", torch::ones({3}, torch::kHalf)}}).ok());
  at::Tensor view;
  {
    absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
    ASSERT_TRUE(file.ok()) << file.status();
    absl::StatusOr<absl::string_view> raw = file->RawBytes("w");
    ASSERT_TRUE(raw.ok());
    absl::StatusOr<at::Tensor> loaded = file->Load("w", c10::kFloat);  // same dtype: still zero-copy
    ASSERT_TRUE(loaded.ok());
    view = *loaded;
    EXPECT_EQ(view.data_ptr(), static_cast<const void*>(raw->data()));
    absl::StatusOr<at::Tensor> converted = file->Load("w", c10::kDouble);
    ASSERT_TRUE(converted.ok());
    EXPECT_NE(converted->data_ptr(), static_cast<const void*>(raw->data()));
  }  // the SafetensorsFile is gone; the mapping lives on in `view`
  EXPECT_TRUE(torch::equal(view, w));
  view.add_(1.0f);  // copy-on-write: works, and the file is untouched
  EXPECT_TRUE(torch::equal(view, w + 1.0f));
  absl::StatusOr<SafetensorsFile> again = SafetensorsFile::Open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(torch::equal(*again->Load("w"), w));
}

TEST(SafetensorsTest, CopiesMisalignedTensors) {
  // Header padded to 8 + 13 bytes: the F32 data starts at file offset 21.
  const std::string header = R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}})";
  std::string padded = header + std::string((8 - (8 + header.size()) % 8) % 8 + 5, ' ');
  ASSERT_NE((8 + padded.size()) % 4, 0u);
  const float values[3] = {1.5f, -2.0f, 3.25f};
  const std::string bytes = Le64(padded.size()) + padded + std::string(reinterpret_cast<const char*>(values), 12);
  const std::string path = TempDir() + "/misaligned.safetensors";
  WriteFile(path, bytes);
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  absl::StatusOr<at::Tensor> x = file->Load("x");
  ASSERT_TRUE(x.ok()) << x.status();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(x->data_ptr()) % 4, 0u);
  EXPECT_TRUE(torch::equal(*x, torch::tensor({1.5f, -2.0f, 3.25f})));
  absl::StatusOr<at::Tensor> xd = file->Load("x", c10::kDouble);
  ASSERT_TRUE(xd.ok());
  EXPECT_TRUE(torch::equal(*xd, torch::tensor({1.5, -2.0, 3.25}, torch::kDouble)));
}

TEST(SafetensorsTest, UnsupportedDtypeIsUnimplementedButOtherTensorsLoad) {
  const std::string path = TempDir() + "/u32.safetensors";
  WriteFile(path, File(R"({"a":{"dtype":"U32","shape":[1],"data_offsets":[0,4]},)"
                       R"("b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}})",
                       6));
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->Load("a").status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(file->Load("a").status().message(), HasSubstr("'a'"));
  EXPECT_TRUE(file->Load("b").ok());
}

TEST(SafetensorsTest, MissingFileAndTensorAreNotFound) {
  const std::string missing = TempDir() + "/does_not_exist.safetensors";
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(missing);
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(file.status().message(), HasSubstr(missing));

  const std::string path = TempDir() + "/one.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, {{"a", torch::zeros({2})}}).ok());
  absl::StatusOr<SafetensorsFile> one = SafetensorsFile::Open(path);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->Load("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(one->Load("nope").status().message(), HasSubstr("'nope'"));
}

TEST(SafetensorsTest, WriterRejectsBadInput) {
  const std::string path = TempDir() + "/bad.safetensors";
  const at::Tensor t = torch::zeros({2});
  absl::Status dup = WriteSafetensors(path, {{"a", t}, {"a", t}});
  EXPECT_EQ(dup.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(dup.message(), HasSubstr("duplicate"));
  EXPECT_EQ(WriteSafetensors(path, {{"__metadata__", t}}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteSafetensors(path, {{"u", at::Tensor()}}).code(), absl::StatusCode::kInvalidArgument);
  absl::Status complex = WriteSafetensors(path, {{"c", torch::zeros({2}, torch::kComplexFloat)}});
  EXPECT_EQ(complex.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(complex.message(), HasSubstr("'c'"));
  EXPECT_EQ(access(path.c_str(), F_OK), -1) << "nothing may be written on error";
  EXPECT_FALSE(WriteSafetensors("/nonexistent-dir/x.safetensors", {{"a", t}}).ok());
}

TEST(SafetensorsTest, ReadsUpstreamTextEncoder) {
  const std::string path = Reference("tiny_sd/text_encoder/model.safetensors");
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->entries().size(), 85u);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  const SafetensorsEntry* emb = file->header().Find("text_model.embeddings.token_embedding.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->dtype, SafetensorsDtype::kF32);
  EXPECT_EQ(emb->shape, (std::vector<int64_t>{49408, 16}));
  absl::StatusOr<at::Tensor> pos = file->Load("text_model.embeddings.position_ids");
  ASSERT_TRUE(pos.ok()) << pos.status();
  EXPECT_EQ(pos->scalar_type(), c10::kLong);
  EXPECT_TRUE(torch::equal(*pos, torch::arange(77, torch::kLong).unsqueeze(0)));
  absl::StatusOr<std::map<std::string, at::Tensor>> all = file->LoadAll(c10::kHalf);
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->at("text_model.final_layer_norm.weight").scalar_type(), c10::kHalf);
}

TEST(SafetensorsTest, ReadsUpstreamCaseFile) {
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(Reference("cases/text_encoder_io.safetensors"));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->names(), (std::vector<std::string>{"embeddings_output", "hidden_state_penultimate", "input_ids",
                                                     "last_hidden_state", "pooler_output"}));
  EXPECT_TRUE(file->metadata().empty());
  absl::StatusOr<at::Tensor> ids = file->Load("input_ids");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->scalar_type(), c10::kLong);
  EXPECT_EQ(ids->sizes(), (std::vector<int64_t>{4, 77}));
  EXPECT_EQ(ids->index({0, 0}).item<int64_t>(), 49406);  // CLIP's <|startoftext|>
  absl::StatusOr<at::Tensor> pooled = file->Load("pooler_output");
  ASSERT_TRUE(pooled.ok());
  EXPECT_EQ(pooled->scalar_type(), c10::kFloat);
  EXPECT_EQ(pooled->sizes(), (std::vector<int64_t>{4, 16}));
}

// Our writer reproduces upstream's bytes: same order, JSON and padding.
TEST(SafetensorsTest, RewritingUpstreamFilesIsByteIdentical) {
  for (const char* relative : {"tiny_sd/text_encoder/model.safetensors", "cases/text_encoder_io.safetensors"}) {
    const std::string path = Reference(relative);
    absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
    ASSERT_TRUE(file.ok()) << file.status();
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const std::string& name : file->names()) tensors.emplace_back(name, *file->Load(name));
    const std::string out = TempDir() + "/rewritten.safetensors";
    ASSERT_TRUE(WriteSafetensors(out, tensors, file->metadata()).ok());
    EXPECT_TRUE(ReadFile(out) == ReadFile(path)) << relative << " differs after a rewrite";
    absl::StatusOr<std::string> in_memory = SerializeSafetensors(tensors, file->metadata());
    ASSERT_TRUE(in_memory.ok()) << in_memory.status();
    EXPECT_TRUE(*in_memory == ReadFile(path)) << relative << " differs when serialized in memory";
  }
}

struct CorruptCase {
  const char* name;
  std::string bytes;
  absl::StatusCode code;
  const char* message;  // a substring of the error
};

std::string Entry(const std::string& name, const std::string& dtype, const std::string& shape,
                  const std::string& offsets) {
  return absl::StrCat("\"", name, "\":{\"dtype\":\"", dtype, "\",\"shape\":", shape, ",\"data_offsets\":", offsets,
                      "}");
}

std::vector<CorruptCase> CorruptCases() {
  using C = absl::StatusCode;
  const auto one = [](const std::string& entry, size_t data) { return File("{" + entry + "}", data); };
  const std::string ok4 = Entry("t", "F32", "[1]", "[0,4]");
  return {
      {"shorter_than_8_bytes", "\x10\x00\x00", C::kDataLoss, "too short"},
      {"header_length_zero", Le64(0) + "{}", C::kInvalidArgument, "header length is 0"},
      {"header_over_100MB", Le64(100'000'001) + "{}", C::kInvalidArgument, "exceeds the limit"},
      {"header_length_huge", Le64(~uint64_t{0}) + "{}", C::kInvalidArgument, "exceeds the limit"},
      {"header_beyond_file", Le64(64) + "{\"t\":", C::kDataLoss, "extends past the end of the file"},
      {"json_malformed", File("{\"t\":{\"dtype\":", 0), C::kInvalidArgument, "not valid JSON"},
      {"json_trailing_garbage", File("{} x", 0), C::kInvalidArgument, "not valid JSON"},
      {"json_invalid_utf8", File("{\"\xff\xfe\":{}}", 0), C::kInvalidArgument, "not valid JSON"},
      {"json_not_object", File("[1,2]", 0), C::kInvalidArgument, "must be a JSON object"},
      {"entry_not_object", File("{\"t\":[0,4]}", 4), C::kInvalidArgument, "'t': entry must be an object"},
      {"dtype_missing", File(R"({"t":{"shape":[1],"data_offsets":[0,4]}})", 4), C::kInvalidArgument,
       "'t': missing string field 'dtype'"},
      {"dtype_unknown", one(Entry("t", "F128", "[1]", "[0,4]"), 4), C::kInvalidArgument, "unknown dtype 'F128'"},
      {"dtype_lowercase", one(Entry("t", "f32", "[1]", "[0,4]"), 4), C::kInvalidArgument, "unknown dtype 'f32'"},
      {"shape_missing", File(R"({"t":{"dtype":"F32","data_offsets":[0,4]}})", 4), C::kInvalidArgument,
       "'t': missing array field 'shape'"},
      {"shape_negative", one(Entry("t", "F32", "[-1]", "[0,4]"), 4), C::kInvalidArgument, "not a non-negative"},
      {"shape_fraction", one(Entry("t", "F32", "[1.5]", "[0,4]"), 4), C::kInvalidArgument, "not a non-negative"},
      {"shape_float_integral", one(Entry("t", "F32", "[1.0]", "[0,4]"), 4), C::kInvalidArgument,
       "not a non-negative"},
      {"shape_string", one(Entry("t", "F32", "[\"1\"]", "[0,4]"), 4), C::kInvalidArgument, "not a non-negative"},
      {"shape_dim_over_int64", one(Entry("t", "U8", "[0,9223372036854775808]", "[0,0]"), 0), C::kInvalidArgument,
       "not a non-negative"},
      {"shape_overflow", one(Entry("t", "F64", "[4294967296,4294967296,16]", "[0,4]"), 4), C::kInvalidArgument,
       "overflows 64 bits"},
      {"shape_bytes_mismatch", one(Entry("t", "F32", "[2,2]", "[0,12]"), 12), C::kInvalidArgument,
       "= 16 bytes but data_offsets [0, 12] span 12"},
      {"offsets_missing", File(R"({"t":{"dtype":"F32","shape":[1]}})", 4), C::kInvalidArgument,
       "'t': missing field 'data_offsets'"},
      {"offsets_one_element", one(Entry("t", "F32", "[1]", "[4]"), 4), C::kInvalidArgument,
       "data_offsets must be [begin, end]"},
      {"offsets_three_elements", one(Entry("t", "F32", "[1]", "[0,4,8]"), 8), C::kInvalidArgument,
       "data_offsets must be [begin, end]"},
      {"offsets_negative", one(Entry("t", "F32", "[1]", "[-4,0]"), 4), C::kInvalidArgument,
       "data_offsets must be [begin, end]"},
      {"offsets_not_integers", one(Entry("t", "F32", "[1]", "[0,\"4\"]"), 4), C::kInvalidArgument,
       "data_offsets must be [begin, end]"},
      {"offsets_over_int64", one(Entry("t", "U8", "[1]", "[18446744073709551615,0]"), 4), C::kInvalidArgument,
       "data_offsets must be [begin, end]"},
      {"offsets_reversed", one(Entry("t", "F32", "[1]", "[8,4]"), 8), C::kInvalidArgument, "are reversed"},
      {"offsets_past_data_section", one(Entry("t", "F32", "[4]", "[0,16]"), 8), C::kDataLoss,
       "'t': data_offsets [0, 16] extend past the end of the data section (8 bytes)"},
      {"ranges_overlap",
       File("{" + Entry("a", "F32", "[2]", "[0,8]") + "," + Entry("b", "F32", "[2]", "[4,12]") + "}", 12),
       C::kInvalidArgument, "tensor 'b' data_offsets [4, 12] overlap tensor 'a' [0, 8]"},
      {"ranges_identical",
       File("{" + Entry("a", "F32", "[1]", "[0,4]") + "," + Entry("b", "I32", "[1]", "[0,4]") + "}", 4),
       C::kInvalidArgument, "overlap"},
      {"ranges_gap",
       File("{" + Entry("a", "F32", "[1]", "[0,4]") + "," + Entry("b", "F32", "[1]", "[8,12]") + "}", 12),
       C::kInvalidArgument, "gap of 4 unused bytes in the data section at [4, 8) before tensor 'b'"},
      {"ranges_gap_at_start", one(Entry("t", "F32", "[1]", "[4,8]"), 8), C::kInvalidArgument, "gap of 4"},
      {"trailing_bytes", one(ok4, 6), C::kInvalidArgument, "2 trailing bytes"},
      {"trailing_bytes_no_tensors", File("{}", 3), C::kInvalidArgument, "3 trailing bytes"},
      {"metadata_not_object", File("{\"__metadata__\":5," + ok4 + "}", 4), C::kInvalidArgument,
       "__metadata__ must be an object"},
      {"metadata_value_not_string", File("{\"__metadata__\":{\"epoch\":3}," + ok4 + "}", 4), C::kInvalidArgument,
       "__metadata__ key 'epoch' must map to a string"},
      {"metadata_nested_object", File("{\"__metadata__\":{\"a\":{}}}", 0), C::kInvalidArgument,
       "must map to a string"},
      {"duplicate_tensor_names", File("{" + ok4 + "," + ok4 + "}", 4), C::kInvalidArgument,
       "duplicate tensor name 't'"},
      {"duplicate_metadata", File(R"({"__metadata__":{"k":"a","k":"b"}})", 0), C::kInvalidArgument,
       "duplicate key 'k' in __metadata__"},
      {"duplicate_field", File(R"({"t":{"dtype":"F32","dtype":"I32","shape":[1],"data_offsets":[0,4]}})", 4),
       C::kInvalidArgument, "duplicate key 'dtype' in tensor 't'"},
      {"truncated_data", File("{" + Entry("a", "F32", "[2]", "[0,8]") + "," + Entry("b", "F32", "[2]", "[8,16]") +
                                  "}",
                              13),
       C::kDataLoss, "'b': data_offsets [8, 16] extend past the end"},
  };
}

TEST(SafetensorsFormatTest, RejectsCorruptFilesWithNamedErrors) {
  int checked = 0;
  for (const CorruptCase& c : CorruptCases()) {
    SCOPED_TRACE(c.name);
    const std::string file_name = absl::StrCat("corrupt/", c.name, ".safetensors");
    absl::StatusOr<SafetensorsHeader> header = ParseSafetensorsHeader(c.bytes, file_name);
    ASSERT_FALSE(header.ok());
    EXPECT_EQ(header.status().code(), c.code) << header.status();
    EXPECT_THAT(header.status().message(), HasSubstr(c.message));
    EXPECT_THAT(header.status().message(), HasSubstr(file_name));
    std::cout << header.status() << "\n";
    // Every prefix is rejected without crashing (ASan/valgrind would catch an over-read).
    for (size_t n = 0; n < c.bytes.size(); ++n) {
      const absl::Status s = ParseSafetensorsHeader(absl::string_view(c.bytes.data(), n), file_name).status();
      if (n < 8) {
        EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << n;
      }
    }
    ++checked;
  }
  EXPECT_GE(checked, 40);
}

TEST(SafetensorsFormatTest, CorruptFileOnDiskFailsOpenWithPath) {
  const std::string path = TempDir() + "/truncated.safetensors";
  const std::string good = TempDir() + "/good.safetensors";
  ASSERT_TRUE(WriteSafetensors(good, {{"w", torch::ones({16})}}).ok());
  const std::string bytes = ReadFile(good);
  WriteFile(path, bytes.substr(0, bytes.size() - 3));
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
  EXPECT_EQ(file.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(file.status().message(), HasSubstr(path));
  EXPECT_THAT(file.status().message(), HasSubstr("'w'"));
  WriteFile(path, "");
  EXPECT_EQ(SafetensorsFile::Open(path).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(SafetensorsFile::Open(TempDir()).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(SafetensorsFormatTest, AcceptsEdgeCases) {
  // Empty header object, empty names, zero-size tensors sharing an offset, padding.
  absl::StatusOr<SafetensorsHeader> empty = ParseSafetensorsHeader(File("{}      ", 0), "f");
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->entries.empty());
  const std::string header = "{" + Entry("", "U8", "[2]", "[0,2]") + "," + Entry("z", "F32", "[0,5]", "[2,2]") +
                             "," + Entry("y", "F64", "[0]", "[2,2]") + "," + Entry("s", "I16", "[]", "[2,4]") +
                             ",\"t\":{\"dtype\":\"BF16\",\"shape\":[1],\"data_offsets\":[4,6],\"extra\":1}}";
  absl::StatusOr<SafetensorsHeader> h = ParseSafetensorsHeader(File(header, 6), "f");
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_EQ(h->entries.size(), 5u);
  EXPECT_EQ(h->Find("")->num_bytes(), 2u);
  EXPECT_EQ(h->Find("s")->num_elements(), 1);
  EXPECT_EQ(h->Find("s")->begin, 8 + header.size() + 2);
  EXPECT_EQ(h->Find("z")->shape, (std::vector<int64_t>{0, 5}));
}

}  // namespace
}  // namespace dreamshot::core
