#include "core/state_dict_unpickler.h"

#include <ATen/ATen.h>

#include <string>

#include "gtest/gtest.h"

namespace dreamshot::core::pickle {
namespace {

using Kind = Node::Kind;

// Storages of `numel` elements counting 0, 1, 2, ...
absl::StatusOr<at::Tensor> CountingLoader(const std::string& key, at::ScalarType dtype, int64_t numel) {
  return at::arange(numel, at::TensorOptions().dtype(at::kDouble)).to(dtype);
}

absl::StatusOr<std::unique_ptr<Unpickled>> Parse(const std::string& bytes, const Limits& limits = Limits()) {
  return Unpickle(bytes, CountingLoader, "test.pkl", limits);
}

std::string Str(const std::string& s) {  // SHORT_BINUNICODE
  return std::string("\x8c") + static_cast<char>(s.size()) + s;
}

std::string Global(const std::string& module, const std::string& name) {
  return "c" + module + "\n" + name + "\n";
}

// {'w': _rebuild_tensor_v2(('storage', FloatStorage, '0', 'cpu', numel), offset, size, stride, False, OrderedDict())}
std::string TensorPickle(int numel, const std::string& size_tuple, const std::string& stride_tuple, int offset = 0) {
  std::string p = "\x80\x02}" + Str("w") + Global("torch._utils", "_rebuild_tensor_v2") + "(" + "(" + Str("storage") +
                  Global("torch", "FloatStorage") + Str("0") + Str("cpu") + "K" + static_cast<char>(numel) + "tQ" +
                  "K" + static_cast<char>(offset) + size_tuple + stride_tuple + "\x89" +
                  Global("collections", "OrderedDict") + ")RtRs.";
  return p;
}

TEST(StateDictUnpicklerTest, ReadsScalarsAndContainers) {
  // {'a': [1, -2, True, None, 0.5, 'x', b'yz'], 'b': (2**40,)} via protocol 2 opcodes.
  std::string p = "\x80\x02}q\x01(" + Str("a") + "](K\x01J\xfe\xff\xff\xff\x88N" + std::string("G\x3f\xe0", 3) +
                  std::string(6, '\0') + Str("x") + "C\x02yze" + Str("b") + std::string("\x8a\x06\x00\x00\x00\x00\x00\x01\x85u.", 11);
  auto out = Parse(p);
  ASSERT_TRUE(out.ok()) << out.status();
  const Node* root = (*out)->root();
  ASSERT_EQ(root->kind, Kind::kDict);
  const Node* a = DictGet(*root, "a");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->kind, Kind::kList);
  ASSERT_EQ(a->items.size(), 7u);
  EXPECT_EQ(a->items[0]->i, 1);
  EXPECT_EQ(a->items[1]->i, -2);
  EXPECT_TRUE(a->items[2]->b);
  EXPECT_EQ(a->items[3]->kind, Kind::kNone);
  EXPECT_EQ(a->items[4]->f, 0.5);
  EXPECT_EQ(a->items[5]->s, "x");
  EXPECT_EQ(a->items[6]->kind, Kind::kBytes);
  const Node* b = DictGet(*root, "b");
  ASSERT_NE(b, nullptr);
  ASSERT_EQ(b->kind, Kind::kTuple);
  EXPECT_EQ(b->items[0]->i, int64_t{1} << 40);
}

TEST(StateDictUnpicklerTest, Long1SignExtends) {
  auto out = Parse(std::string("\x80\x02\x8a\x01\xff.", 6));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)->root()->i, -1);
}

TEST(StateDictUnpicklerTest, BuildsLazyTensorAndChecksBounds) {
  auto out = Parse(TensorPickle(6, "K\x02K\x03\x86", "K\x01K\x02\x86"));
  ASSERT_TRUE(out.ok()) << out.status();
  const Node* w = DictGet(*(*out)->root(), "w");
  ASSERT_NE(w, nullptr);
  ASSERT_EQ(w->kind, Kind::kTensor);
  auto t = MaterializeTensor(*w, "w", "test.pkl");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(t->select(0, 1).select(0, 2).item<float>(), 5.0f);  // 1*1 + 2*2

  auto big = Parse(TensorPickle(6, "K\x03K\x03\x86", "K\x03K\x01\x86"));
  ASSERT_TRUE(big.ok()) << big.status();
  auto bad = MaterializeTensor(*DictGet(*(*big)->root(), "w"), "enc.w", "test.pkl");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("enc.w"), std::string::npos) << bad.status();
  EXPECT_NE(bad.status().message().find("reaches past its storage"), std::string::npos) << bad.status();

  auto offset = Parse(TensorPickle(6, "K\x01\x85", "K\x01\x85", 6));
  ASSERT_TRUE(offset.ok());
  EXPECT_FALSE(MaterializeTensor(*DictGet(*(*offset)->root(), "w"), "w", "t").ok());
}

TEST(StateDictUnpicklerTest, UnknownClassesBecomeOpaqueObjects) {
  // NEWOBJ of an unknown class followed by BUILD with its __dict__.
  std::string p = "\x80\x02" + Global("some.module", "Thing") + ")\x81}" + Str("k") + "K\x01sb.";
  auto out = Parse(p);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(KindName(*(*out)->root()), "object some.module.Thing");
  auto reduced = Parse("\x80\x02" + Global("numpy", "dtype") + "(" + Str("f4") + "tR.");
  ASSERT_TRUE(reduced.ok()) << reduced.status();
  EXPECT_EQ(KindName(*(*reduced)->root()), "object numpy.dtype");
}

TEST(StateDictUnpicklerTest, MemoAndCycles) {
  // l = []; l.append(l); via BINPUT/BINGET.
  auto out = Parse("\x80\x02]q\x05h\x05\x61.");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)->root()->items[0], (*out)->root());
  // MEMOIZE + protocol 4 FRAME + STACK_GLOBAL
  std::string p4 = "\x80\x04\x95" + std::string(8, '\0') + Str("collections") + "\x94" + Str("OrderedDict") +
                   "\x94\x93\x94)R\x94h\x02\x86.";
  p4[3] = static_cast<char>(p4.size() - 11);
  auto frame = Parse(p4);
  ASSERT_TRUE(frame.ok()) << frame.status();
  EXPECT_EQ((*frame)->root()->kind, Kind::kTuple);
  EXPECT_EQ((*frame)->root()->items[1]->kind, Kind::kGlobal);
}

void ExpectError(const std::string& bytes, const std::string& fragment, const Limits& limits = Limits()) {
  auto out = Parse(bytes, limits);
  ASSERT_FALSE(out.ok()) << "expected failure containing " << fragment;
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("test.pkl"), std::string::npos) << out.status();
  EXPECT_NE(out.status().message().find(fragment), std::string::npos) << out.status();
}

TEST(StateDictUnpicklerTest, RejectsHostileInput) {
  ExpectError("", "truncated pickle");
  ExpectError("\x80\x02", "truncated pickle");
  ExpectError("\x80\x02X\xff\xff\xff\x7f" "abc", "truncated pickle");
  ExpectError("\x80\x02\x8d\xff\xff\xff\xff\xff\xff\xff\xff.", "truncated pickle");
  ExpectError("\x80\x02h\x07.", "memo index 7 not defined");
  ExpectError("\x80\x02q\x01.", "stack underflow");
  ExpectError("\x80\x02s.", "stack underflow");
  ExpectError("\x80\x02K\x01K\x01.", "left on the stack");
  ExpectError("\x80\x02t.", "no MARK");
  ExpectError("\x80\x02\xff.", "opcode 0xff at pickle offset 2");
  ExpectError("\x80\x09.", "protocol");
  ExpectError("\x80\x02K\x01K\x01K\x02s.", "SETITEM on Int");
  ExpectError("\x80\x02" + std::string(2000, '('), "too deeply");
  Limits small;
  small.max_stack = 10;
  ExpectError("\x80\x02" + std::string(20, 'N'), "stack too deep", small);
  ExpectError("\x80\x02(" + Str("storage") + Global("os", "system") + Str("0") + Str("cpu") + "K\x01tQ.",
              "unsupported storage type os.system");
  ExpectError("\x80\x02(" + Str("storage") + Global("torch", "FloatStorage") + Str("0") + Str("cpu") + "K\x01Q.",
              "persistent id");
  ExpectError("\x80\x02" + Global("torch._utils", "_rebuild_tensor_v2") + "(K\x01K\x01)K\x01" ")tR.",
              "storage is not a storage");
  auto unsupported = Parse("\x80\x02\xff.");
  EXPECT_TRUE(IsUnsupported(unsupported.status()));
  auto truncated = Parse("\x80\x02");
  EXPECT_FALSE(IsUnsupported(truncated.status()));
}

}  // namespace
}  // namespace dreamshot::core::pickle
