// The pickle machine behind Unpickle (core/state_dict_unpickler.h): a stack,
// MARKs and a memo, driven one opcode at a time. Every read is bounds
// checked and every container, MARK and memo entry counted against Limits,
// since checkpoints come from anywhere. The opcode handlers are grouped as
// pickletools documents them: framing, constants, containers, the memo, and
// globals with what calls them (REDUCE, BUILD, persistent ids).
#include <ATen/ATen.h>

#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "core/state_dict_unpickler.h"
#include "core/status_macros.h"

namespace dreamshot::core::pickle {
namespace {

constexpr char kUnsupportedPayload[] = "dreamshot.pickle.unsupported";

absl::Status Unsupported(std::string message) {
  absl::Status status = absl::InvalidArgumentError(std::move(message));
  status.SetPayload(kUnsupportedPayload, absl::Cord("1"));
  return status;
}

bool StorageDtype(const std::string& name, at::ScalarType* dtype) {
  static const std::unordered_map<std::string, at::ScalarType> kTypes = {
      {"torch.FloatStorage", at::kFloat},
      {"torch.HalfStorage", at::kHalf},
      {"torch.BFloat16Storage", at::kBFloat16},
      {"torch.DoubleStorage", at::kDouble},
      {"torch.LongStorage", at::kLong},
      {"torch.IntStorage", at::kInt},
      {"torch.ShortStorage", at::kShort},
      {"torch.CharStorage", at::kChar},
      {"torch.ByteStorage", at::kByte},
      {"torch.BoolStorage", at::kBool},
      {"torch.ComplexFloatStorage", at::kComplexFloat},
      {"torch.ComplexDoubleStorage", at::kComplexDouble},
      {"torch.UntypedStorage", at::kByte},
      {"torch.storage.UntypedStorage", at::kByte},
      {"torch.storage._UntypedStorage", at::kByte},
  };
  auto it = kTypes.find(name);
  if (it == kTypes.end()) return false;
  *dtype = it->second;
  return true;
}

// The opcodes understood, named as in CPython's pickletools.
enum Op : unsigned char {
  // framing
  kProto = 0x80,
  kFrame = 0x95,
  kStop = '.',
  // constants
  kNone = 'N',
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kBinInt = 'J',
  kBinInt1 = 'K',
  kBinInt2 = 'M',
  kLong1 = 0x8a,
  kBinFloat = 'G',
  kShortBinUnicode = 0x8c,
  kBinUnicode = 'X',
  kBinUnicode8 = 0x8d,
  kShortBinBytes = 'C',
  kBinBytes = 'B',
  kBinBytes8 = 0x8e,
  // containers
  kMark = '(',
  kEmptyDict = '}',
  kEmptyList = ']',
  kEmptyTuple = ')',
  kTuple = 't',
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kList = 'l',
  kDict = 'd',
  kAppend = 'a',
  kAppends = 'e',
  kSetItem = 's',
  kSetItems = 'u',
  // memo
  kBinPut = 'q',
  kLongBinPut = 'r',
  kMemoize = 0x94,
  kBinGet = 'h',
  kLongBinGet = 'j',
  // globals, calls, persistent ids
  kGlobal = 'c',
  kStackGlobal = 0x93,
  kReduce = 'R',
  kNewObj = 0x81,
  kBuild = 'b',
  kBinPersId = 'Q',
};

}  // namespace

bool IsUnsupported(const absl::Status& status) { return status.GetPayload(kUnsupportedPayload).has_value(); }

class Unpickler {
 public:
  Unpickler(std::string_view data, const StorageLoader& loader, const std::string& context, const Limits& limits)
      : data_(data), loader_(loader), context_(context), limits_(limits), out_(new Unpickled) {}

  absl::StatusOr<std::unique_ptr<Unpickled>> Run() {
    while (!stopped_) {
      op_pos_ = pos_;
      ASSIGN_OR_RETURN(const uint8_t op, ReadLE<uint8_t>());
      RETURN_IF_ERROR(Step(op));
    }
    return std::move(out_);
  }

 private:
  using Kind = Node::Kind;

  // One opcode, handed to its handler.
  absl::Status Step(uint8_t op) {
    switch (op) {
      case kProto: return Proto();
      case kFrame: return Frame();
      case kStop: return Stop();

      case kNone: return PushScalar(Kind::kNone, 0);
      case kNewTrue:
      case kNewFalse: return PushScalar(Kind::kBool, 0, 0, op == kNewTrue);
      case kBinInt: return PushInt<int32_t>();
      case kBinInt1: return PushInt<uint8_t>();
      case kBinInt2: return PushInt<uint16_t>();
      case kLong1: return Long1();
      case kBinFloat: return BinFloat();
      case kShortBinUnicode: return PushSized<uint8_t>(Kind::kString);
      case kBinUnicode: return PushSized<uint32_t>(Kind::kString);
      case kBinUnicode8: return PushSized<uint64_t>(Kind::kString);
      case kShortBinBytes: return PushSized<uint8_t>(Kind::kBytes);
      case kBinBytes: return PushSized<uint32_t>(Kind::kBytes);
      case kBinBytes8: return PushSized<uint64_t>(Kind::kBytes);

      case kMark: return Mark();
      case kEmptyDict: return PushNew(Kind::kDict);
      case kEmptyList: return PushNew(Kind::kList);
      case kEmptyTuple: return PushTuple({});
      case kTuple: return Tuple();
      case kTuple1:
      case kTuple2:
      case kTuple3: return TupleOfTop(op - kTuple1 + 1);
      case kList: return List();
      case kDict: return Dict();
      case kAppend: return Append();
      case kAppends: return Appends();
      case kSetItem: return SetItemOp();
      case kSetItems: return SetItems();

      case kBinPut: return Put<uint8_t>();
      case kLongBinPut: return Put<uint32_t>();
      case kMemoize: return MemoTop(memo_.size());
      case kBinGet: return Get<uint8_t>();
      case kLongBinGet: return Get<uint32_t>();

      case kGlobal: return Global();
      case kStackGlobal: return StackGlobal();
      case kReduce:
      case kNewObj: return Reduce();
      case kBuild: return Build();
      case kBinPersId: return BinPersId();

      default:
        return Unsupported(absl::StrCat(context_, ": unsupported pickle opcode 0x", absl::Hex(op, absl::kZeroPad2),
                                        " at pickle offset ", op_pos_));
    }
  }

  // ------------------------------------------------------------ the machine

  absl::Status Error(const std::string& what) const {
    return absl::InvalidArgumentError(absl::StrCat(context_, ": ", what, " at pickle offset ", op_pos_));
  }

  absl::StatusOr<Node*> New(Kind kind) {
    if (out_->arena_.size() >= limits_.max_nodes) return Error("too many values");
    out_->arena_.push_back(std::make_unique<Node>());
    out_->arena_.back()->kind = kind;
    return out_->arena_.back().get();
  }

  absl::Status Push(Node* node) {
    if (stack_.size() >= limits_.max_stack) return Error("pickle stack too deep");
    stack_.push_back(node);
    return absl::OkStatus();
  }

  size_t Base() const { return marks_.empty() ? 0 : marks_.back(); }

  absl::StatusOr<Node*> Pop() {
    if (stack_.size() <= Base()) return Error("pickle stack underflow");
    Node* n = stack_.back();
    stack_.pop_back();
    return n;
  }

  absl::StatusOr<Node*> Top() {
    if (stack_.size() <= Base()) return Error("pickle stack underflow");
    return stack_.back();
  }

  // Pops everything above the last MARK and the mark itself.
  absl::StatusOr<std::vector<Node*>> PopMark() {
    if (marks_.empty()) return Error("no MARK on the stack");
    const size_t base = marks_.back();
    marks_.pop_back();
    std::vector<Node*> items(stack_.begin() + static_cast<std::ptrdiff_t>(base), stack_.end());
    stack_.resize(base);
    return items;
  }

  absl::StatusOr<std::string_view> Read(uint64_t n) {
    if (n > data_.size() - pos_) return Error("truncated pickle");
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }

  template <typename T>
  absl::StatusOr<T> ReadLE() {
    ASSIGN_OR_RETURN(const std::string_view bytes, Read(sizeof(T)));
    T v;
    std::memcpy(&v, bytes.data(), sizeof(T));  // little-endian host
    return v;
  }

  absl::StatusOr<std::string_view> ReadLine() {
    const size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos || end - pos_ > 1024) return Error("truncated or overlong GLOBAL name");
    std::string_view out = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }

  // ---------------------------------------------------------------- framing

  absl::Status Proto() {
    ASSIGN_OR_RETURN(const uint8_t version, ReadLE<uint8_t>());
    if (version > 5) return Error(absl::StrCat("unsupported pickle protocol ", int{version}));
    return absl::OkStatus();
  }

  // FRAME is a length hint; the frame's bytes follow inline.
  absl::Status Frame() {
    ASSIGN_OR_RETURN(const uint64_t length, ReadLE<uint64_t>());
    if (length > data_.size() - pos_) return Error("truncated pickle frame");
    return absl::OkStatus();
  }

  absl::Status Stop() {
    ASSIGN_OR_RETURN(Node* root, Pop());
    if (!stack_.empty() || !marks_.empty()) return Error("values left on the stack at STOP");
    out_->root_ = root;
    stopped_ = true;
    return absl::OkStatus();
  }

  // -------------------------------------------------------------- constants

  absl::Status PushScalar(Kind kind, int64_t i, double f = 0, bool b = false) {
    ASSIGN_OR_RETURN(Node* n, New(kind));
    n->i = i;
    n->f = f;
    n->b = b;
    return Push(n);
  }

  // BININT (signed 32 bits), BININT1 and BININT2 (unsigned 8 and 16 bits).
  template <typename T>
  absl::Status PushInt() {
    ASSIGN_OR_RETURN(const T v, ReadLE<T>());
    return PushScalar(Kind::kInt, v);
  }

  // LONG1: a little-endian two's complement integer of up to 8 bytes here.
  absl::Status Long1() {
    ASSIGN_OR_RETURN(const uint8_t n, ReadLE<uint8_t>());
    if (n > 8) return Error("integer wider than 64 bits");
    ASSIGN_OR_RETURN(const std::string_view bytes, Read(n));
    uint64_t u = 0;
    for (size_t k = 0; k < n; ++k) u |= uint64_t{static_cast<unsigned char>(bytes[k])} << (8 * k);
    if (n > 0 && n < 8 && (static_cast<unsigned char>(bytes[n - 1]) & 0x80)) {
      u |= ~uint64_t{0} << (8 * n);  // sign-extend
    }
    return PushScalar(Kind::kInt, static_cast<int64_t>(u));
  }

  // BINFLOAT: an IEEE double, big-endian.
  absl::Status BinFloat() {
    ASSIGN_OR_RETURN(const std::string_view bytes, Read(8));
    uint64_t u = 0;
    for (size_t k = 0; k < 8; ++k) u = (u << 8) | static_cast<unsigned char>(bytes[k]);
    double d;
    std::memcpy(&d, &u, sizeof(d));
    return PushScalar(Kind::kFloat, 0, d);
  }

  // A string or bytes value preceded by its length as a little-endian T.
  template <typename T>
  absl::Status PushSized(Kind kind) {
    ASSIGN_OR_RETURN(const T length, ReadLE<T>());
    ASSIGN_OR_RETURN(const std::string_view s, Read(length));
    return PushString(kind, s);
  }

  absl::Status PushString(Kind kind, std::string_view s) {
    ASSIGN_OR_RETURN(Node* n, New(kind));
    n->s.assign(s.data(), s.size());
    return Push(n);
  }

  // ------------------------------------------------------------- containers

  absl::Status Mark() {
    if (marks_.size() >= limits_.max_marks) return Error("MARKs nested too deeply");
    marks_.push_back(stack_.size());
    return absl::OkStatus();
  }

  // EMPTY_DICT, EMPTY_LIST.
  absl::Status PushNew(Kind kind) {
    ASSIGN_OR_RETURN(Node* n, New(kind));
    return Push(n);
  }

  absl::Status PushTuple(std::vector<Node*> items) {
    ASSIGN_OR_RETURN(Node* n, New(Kind::kTuple));
    n->items = std::move(items);
    return Push(n);
  }

  absl::Status Tuple() {
    ASSIGN_OR_RETURN(std::vector<Node*> items, PopMark());
    return PushTuple(std::move(items));
  }

  // TUPLE1/2/3: the top n values, without a MARK.
  absl::Status TupleOfTop(size_t n) {
    if (stack_.size() < Base() + n) return Error("pickle stack underflow");
    std::vector<Node*> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
    stack_.resize(stack_.size() - n);
    return PushTuple(std::move(items));
  }

  absl::Status List() {
    ASSIGN_OR_RETURN(std::vector<Node*> items, PopMark());
    ASSIGN_OR_RETURN(Node* n, New(Kind::kList));
    n->items = std::move(items);
    return Push(n);
  }

  absl::Status Dict() {
    ASSIGN_OR_RETURN(const std::vector<Node*> items, PopMark());
    if (items.size() % 2 != 0) return Error("DICT with an odd number of items");
    ASSIGN_OR_RETURN(Node* n, New(Kind::kDict));
    RETURN_IF_ERROR(SetPairs(n, items));
    return Push(n);
  }

  absl::Status Append() {
    ASSIGN_OR_RETURN(Node* v, Pop());
    ASSIGN_OR_RETURN(Node* list, Top());
    if (list->kind != Kind::kList) return Error(absl::StrCat("APPEND to ", KindName(*list)));
    list->items.push_back(v);
    return absl::OkStatus();
  }

  absl::Status Appends() {
    ASSIGN_OR_RETURN(const std::vector<Node*> items, PopMark());
    ASSIGN_OR_RETURN(Node* list, Top());
    if (list->kind != Kind::kList) return Error(absl::StrCat("APPENDS to ", KindName(*list)));
    list->items.insert(list->items.end(), items.begin(), items.end());
    return absl::OkStatus();
  }

  absl::Status SetItemOp() {
    ASSIGN_OR_RETURN(Node* v, Pop());
    ASSIGN_OR_RETURN(Node* k, Pop());
    ASSIGN_OR_RETURN(Node* dict, Top());
    return SetItem(dict, k, v);
  }

  absl::Status SetItems() {
    ASSIGN_OR_RETURN(const std::vector<Node*> items, PopMark());
    if (items.size() % 2 != 0) return Error("SETITEMS with an odd number of items");
    ASSIGN_OR_RETURN(Node* dict, Top());
    return SetPairs(dict, items);
  }

  // key, value, key, value, ... into `dict`, stopping at the first error.
  absl::Status SetPairs(Node* dict, const std::vector<Node*>& items) {
    for (size_t k = 0; k < items.size(); k += 2) RETURN_IF_ERROR(SetItem(dict, items[k], items[k + 1]));
    return absl::OkStatus();
  }

  absl::Status SetItem(Node* dict, Node* key, Node* value) {
    if (dict->kind != Kind::kDict) return Error(absl::StrCat("SETITEM on ", KindName(*dict)));
    if (key->kind == Kind::kString) {
      auto [it, inserted] = dict->index.emplace(key->s, dict->entries.size());
      if (!inserted) {
        dict->entries[it->second].second = value;
        return absl::OkStatus();
      }
    }
    dict->entries.emplace_back(key, value);
    return absl::OkStatus();
  }

  // ------------------------------------------------------------------- memo

  // BINPUT, LONG_BINPUT: the top value under an index read as T.
  template <typename T>
  absl::Status Put() {
    ASSIGN_OR_RETURN(const T index, ReadLE<T>());
    return MemoTop(uint64_t{index});
  }

  absl::Status MemoTop(uint64_t index) {
    ASSIGN_OR_RETURN(Node* top, Top());
    if (index >= limits_.max_memo) return Error(absl::StrCat("memo index ", index, " too large"));
    memo_[index] = top;
    return absl::OkStatus();
  }

  // BINGET, LONG_BINGET.
  template <typename T>
  absl::Status Get() {
    ASSIGN_OR_RETURN(const T raw, ReadLE<T>());
    const uint64_t index = raw;
    auto it = memo_.find(index);
    if (it == memo_.end()) return Error(absl::StrCat("memo index ", index, " not defined"));
    return Push(it->second);
  }

  // ----------------------------------------- globals, calls, persistent ids

  absl::Status PushGlobal(const std::string& module, const std::string& name) {
    ASSIGN_OR_RETURN(Node* n, New(Kind::kGlobal));
    n->s = absl::StrCat(module, ".", name);
    return Push(n);
  }

  absl::Status Global() {
    ASSIGN_OR_RETURN(const std::string_view module, ReadLine());
    ASSIGN_OR_RETURN(const std::string_view name, ReadLine());
    return PushGlobal(std::string(module), std::string(name));
  }

  absl::Status StackGlobal() {
    ASSIGN_OR_RETURN(Node* name, Pop());
    ASSIGN_OR_RETURN(Node* module, Pop());
    if (name->kind != Kind::kString || module->kind != Kind::kString) return Error("STACK_GLOBAL needs two strings");
    return PushGlobal(module->s, name->s);
  }

  // REDUCE and NEWOBJ: callable(*args).
  absl::Status Reduce() {
    ASSIGN_OR_RETURN(Node* args, Pop());
    ASSIGN_OR_RETURN(Node* callable, Pop());
    ASSIGN_OR_RETURN(Node* result, Call(callable, args));
    return Push(result);
  }

  // BUILD: the state is dropped (objects stay opaque; dict and tensor state
  // is unused), but there must be a value to build.
  absl::Status Build() {
    RETURN_IF_ERROR(Pop().status());
    return Top().status();
  }

  absl::Status BinPersId() {
    ASSIGN_OR_RETURN(Node* pid, Pop());
    ASSIGN_OR_RETURN(Node* storage, PersistentLoad(pid));
    return Push(storage);
  }

  absl::StatusOr<Node*> Call(Node* callable, Node* args) {
    if (args->kind != Kind::kTuple) return Error("REDUCE arguments are not a tuple");
    const std::vector<Node*>& a = args->items;
    const std::string name = callable->kind == Kind::kGlobal ? callable->s : "";
    if (name == "collections.OrderedDict") return OrderedDict(a);
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") return RebuildTensor(a);
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
      if (a.empty() || a[0]->kind != Kind::kTensor) return Error("_rebuild_parameter data is not a tensor");
      return a[0];
    }
    // TorchScript's typed containers and type tags wrap their first argument.
    if (name == "torch.jit._pickle.restore_type_tag" || name == "torch.jit._pickle.build_intlist" ||
        name == "torch.jit._pickle.build_floatlist" || name == "torch.jit._pickle.build_boollist" ||
        name == "torch.jit._pickle.build_doublelist" || name == "torch.jit._pickle.build_tensorlist" ||
        name == "torch.jit._pickle.build_complexlist") {
      if (a.empty()) return Error(absl::StrCat(name, " without arguments"));
      return a[0];
    }
    if (name.rfind("torch.jit.", 0) == 0 || name.rfind("__torch__.", 0) == 0) {
      return Unsupported(absl::StrCat(context_, ": unsupported TorchScript global ", name, " at pickle offset ",
                                      op_pos_));
    }
    // Anything else: an opaque object of that class.
    ASSIGN_OR_RETURN(Node* n, New(Kind::kObject));
    n->s = callable->kind == Kind::kGlobal || callable->kind == Kind::kObject ? callable->s : KindName(*callable);
    return n;
  }

  // OrderedDict() or OrderedDict([(k, v), ...]).
  absl::StatusOr<Node*> OrderedDict(const std::vector<Node*>& a) {
    ASSIGN_OR_RETURN(Node* n, New(Kind::kDict));
    if (a.empty()) return n;
    if (a.size() != 1 || (a[0]->kind != Kind::kList && a[0]->kind != Kind::kTuple)) {
      return Error("unexpected OrderedDict arguments");
    }
    for (Node* pair : a[0]->items) {
      if ((pair->kind != Kind::kTuple && pair->kind != Kind::kList) || pair->items.size() != 2) {
        return Error("OrderedDict item is not a pair");
      }
      RETURN_IF_ERROR(SetItem(n, pair->items[0], pair->items[1]));
    }
    return n;
  }

  // _rebuild_tensor_v2(storage, offset, size, stride[, requires_grad, ...]):
  // a lazy view, checked against its storage by MaterializeTensor.
  absl::StatusOr<Node*> RebuildTensor(const std::vector<Node*>& a) {
    if (a.size() < 4 || a.size() > 7) return Error("_rebuild_tensor_v2 takes 6 or 7 arguments");
    if (a[0]->kind != Kind::kStorage) return Error("_rebuild_tensor_v2 storage is not a storage");
    ASSIGN_OR_RETURN(const int64_t offset, IntArg(a[1], "storage offset"));
    ASSIGN_OR_RETURN(std::vector<int64_t> sizes, IntTuple(a[2], "tensor size"));
    ASSIGN_OR_RETURN(std::vector<int64_t> strides, IntTuple(a[3], "tensor stride"));
    if (sizes.size() != strides.size()) return Error("tensor size and stride differ in length");
    ASSIGN_OR_RETURN(Node* n, New(Kind::kTensor));
    n->tensor_storage = a[0];
    n->offset = offset;
    n->sizes = std::move(sizes);
    n->strides = std::move(strides);
    n->requires_grad = a.size() > 4 && a[4]->kind == Kind::kBool && a[4]->b;
    return n;
  }

  absl::StatusOr<int64_t> IntArg(const Node* n, const char* what) {
    if (n->kind != Kind::kInt) return Error(absl::StrCat(what, " is ", KindName(*n), ", expected an int"));
    return n->i;
  }

  absl::StatusOr<std::vector<int64_t>> IntTuple(const Node* n, const char* what) {
    if (n->kind != Kind::kTuple && n->kind != Kind::kList) {
      return Error(absl::StrCat(what, " is ", KindName(*n), ", expected a tuple of ints"));
    }
    std::vector<int64_t> out;
    for (const Node* item : n->items) {
      ASSIGN_OR_RETURN(const int64_t v, IntArg(item, what));
      out.push_back(v);
    }
    return out;
  }

  // ('storage', storage_type, key, location, numel) -> a kStorage node.
  absl::StatusOr<Node*> PersistentLoad(Node* pid) {
    if (pid->kind != Kind::kTuple || pid->items.size() != 5 || pid->items[0]->kind != Kind::kString ||
        pid->items[0]->s != "storage") {
      return Error("persistent id is not ('storage', type, key, location, numel)");
    }
    const Node* type = pid->items[1];
    const Node* key = pid->items[2];
    at::ScalarType dtype;
    if (type->kind != Kind::kGlobal || !StorageDtype(type->s, &dtype)) {
      return Error(absl::StrCat("unsupported storage type ", type->kind == Kind::kGlobal ? type->s : KindName(*type)));
    }
    if (key->kind != Kind::kString) return Error("storage key is not a string");
    ASSIGN_OR_RETURN(const int64_t numel, IntArg(pid->items[4], "storage numel"));
    if (numel < 0) return Error("negative storage numel");
    // One storage per (key, dtype): tensors sharing a key share memory; a key
    // read as two dtypes (a .view(dtype) in Python) is loaded once per dtype.
    const std::string cache_key = absl::StrCat(key->s, "|", static_cast<int>(dtype));
    auto cached = storages_.find(cache_key);
    if (cached != storages_.end()) {
      if (cached->second->storage.numel() < numel) {
        return Error(absl::StrCat("storage ", key->s, " used with two different sizes"));
      }
      return cached->second;
    }
    if (!loader_) return Error("no storage loader");
    ASSIGN_OR_RETURN(at::Tensor tensor, loader_(key->s, dtype, numel));
    ASSIGN_OR_RETURN(Node* n, New(Kind::kStorage));
    n->storage = std::move(tensor);
    n->storage_key = key->s;
    storages_.emplace(cache_key, n);
    return n;
  }

  std::string_view data_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;  // where the current opcode starts, for messages
  bool stopped_ = false;
  const StorageLoader& loader_;
  const std::string& context_;
  Limits limits_;
  std::unique_ptr<Unpickled> out_;
  std::vector<Node*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Node*> memo_;
  std::unordered_map<std::string, Node*> storages_;
};

absl::StatusOr<std::unique_ptr<Unpickled>> Unpickle(std::string_view data, const StorageLoader& loader,
                                                    const std::string& context, const Limits& limits) {
  return Unpickler(data, loader, context, limits).Run();
}

}  // namespace dreamshot::core::pickle
