#include "core/state_dict_unpickler.h"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>

#include <cstring>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

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

}  // namespace

std::string KindName(const Node& node) {
  switch (node.kind) {
    case Node::Kind::kNone: return "None";
    case Node::Kind::kBool: return "Bool";
    case Node::Kind::kInt: return "Int";
    case Node::Kind::kFloat: return "Double";
    case Node::Kind::kString: return "String";
    case Node::Kind::kBytes: return "Bytes";
    case Node::Kind::kTuple: return "Tuple";
    case Node::Kind::kList: return "GenericList";
    case Node::Kind::kDict: return "GenericDict";
    case Node::Kind::kGlobal: return "Global";
    case Node::Kind::kStorage: return "Storage";
    case Node::Kind::kTensor: return "Tensor";
    case Node::Kind::kObject: return absl::StrCat("object ", node.s);
  }
  return "?";
}

Node* DictGet(const Node& dict, const std::string& key) {
  auto it = dict.index.find(key);
  return it == dict.index.end() ? nullptr : dict.entries[it->second].second;
}

bool IsUnsupported(const absl::Status& status) { return status.GetPayload(kUnsupportedPayload).has_value(); }

class Unpickler {
 public:
  Unpickler(std::string_view data, const StorageLoader& loader, const std::string& context, const Limits& limits)
      : data_(data), loader_(loader), context_(context), limits_(limits), out_(new Unpickled) {}

  absl::StatusOr<std::unique_ptr<Unpickled>> Run() {
    absl::Status status = Loop();
    if (!status.ok()) return status;
    return std::move(out_);
  }

 private:
  using Kind = Node::Kind;

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
    auto bytes = Read(sizeof(T));
    if (!bytes.ok()) return bytes.status();
    T v;
    std::memcpy(&v, bytes->data(), sizeof(T));  // little-endian host
    return v;
  }

  absl::StatusOr<std::string_view> ReadLine() {
    const size_t end = data_.find('\n', pos_);
    if (end == std::string_view::npos || end - pos_ > 1024) return Error("truncated or overlong GLOBAL name");
    std::string_view out = data_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return out;
  }

  absl::Status Memo(uint64_t index, Node* node) {
    if (index >= limits_.max_memo) return Error(absl::StrCat("memo index ", index, " too large"));
    memo_[index] = node;
    return absl::OkStatus();
  }

  absl::Status MemoTop(uint64_t index) {
    auto top = Top();
    if (!top.ok()) return top.status();
    return Memo(index, *top);
  }

  absl::Status GetMemo(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return Error(absl::StrCat("memo index ", index, " not defined"));
    return Push(it->second);
  }

  absl::Status PushScalar(Kind kind, int64_t i, double f = 0, bool b = false) {
    auto n = New(kind);
    if (!n.ok()) return n.status();
    (*n)->i = i;
    (*n)->f = f;
    (*n)->b = b;
    return Push(*n);
  }

  absl::Status PushString(Kind kind, std::string_view s) {
    auto n = New(kind);
    if (!n.ok()) return n.status();
    (*n)->s.assign(s.data(), s.size());
    return Push(*n);
  }

  absl::Status PushTuple(std::vector<Node*> items) {
    auto n = New(Kind::kTuple);
    if (!n.ok()) return n.status();
    (*n)->items = std::move(items);
    return Push(*n);
  }

  absl::Status PushGlobal(std::string module, std::string name) {
    auto n = New(Kind::kGlobal);
    if (!n.ok()) return n.status();
    (*n)->s = absl::StrCat(module, ".", name);
    return Push(*n);
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
      auto v = IntArg(item, what);
      if (!v.ok()) return v.status();
      out.push_back(*v);
    }
    return out;
  }

  // callable(*args) for REDUCE / NEWOBJ.
  absl::StatusOr<Node*> Call(Node* callable, Node* args) {
    if (args->kind != Kind::kTuple) return Error("REDUCE arguments are not a tuple");
    const std::vector<Node*>& a = args->items;
    const std::string name = callable->kind == Kind::kGlobal ? callable->s : "";
    if (name == "collections.OrderedDict") {
      auto n = New(Kind::kDict);
      if (!n.ok()) return n;
      if (!a.empty()) {
        // OrderedDict([(k, v), ...])
        if (a.size() != 1 || (a[0]->kind != Kind::kList && a[0]->kind != Kind::kTuple)) {
          return Error("unexpected OrderedDict arguments");
        }
        for (Node* pair : a[0]->items) {
          if ((pair->kind != Kind::kTuple && pair->kind != Kind::kList) || pair->items.size() != 2) {
            return Error("OrderedDict item is not a pair");
          }
          absl::Status st = SetItem(*n, pair->items[0], pair->items[1]);
          if (!st.ok()) return st;
        }
      }
      return *n;
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      if (a.size() < 4 || a.size() > 7) return Error("_rebuild_tensor_v2 takes 6 or 7 arguments");
      if (a[0]->kind != Kind::kStorage) return Error("_rebuild_tensor_v2 storage is not a storage");
      auto offset = IntArg(a[1], "storage offset");
      if (!offset.ok()) return offset.status();
      auto sizes = IntTuple(a[2], "tensor size");
      if (!sizes.ok()) return sizes.status();
      auto strides = IntTuple(a[3], "tensor stride");
      if (!strides.ok()) return strides.status();
      if (sizes->size() != strides->size()) return Error("tensor size and stride differ in length");
      auto n = New(Kind::kTensor);
      if (!n.ok()) return n;
      (*n)->tensor_storage = a[0];
      (*n)->offset = *offset;
      (*n)->sizes = std::move(*sizes);
      (*n)->strides = std::move(*strides);
      (*n)->requires_grad = a.size() > 4 && a[4]->kind == Kind::kBool && a[4]->b;
      return *n;
    }
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
      if (a.empty() || a[0]->kind != Kind::kTensor) return Error("_rebuild_parameter data is not a tensor");
      return a[0];
    }
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
    auto n = New(Kind::kObject);
    if (!n.ok()) return n;
    (*n)->s = callable->kind == Kind::kGlobal || callable->kind == Kind::kObject ? callable->s : KindName(*callable);
    return *n;
  }

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
    auto numel = IntArg(pid->items[4], "storage numel");
    if (!numel.ok()) return numel.status();
    if (*numel < 0) return Error("negative storage numel");
    // One storage per (key, dtype): tensors sharing a key share memory; a key
    // read as two dtypes (a .view(dtype) in Python) is loaded once per dtype.
    const std::string cache_key = absl::StrCat(key->s, "|", static_cast<int>(dtype));
    auto cached = storages_.find(cache_key);
    if (cached != storages_.end()) {
      if (cached->second->storage.numel() < *numel) {
        return Error(absl::StrCat("storage ", key->s, " used with two different sizes"));
      }
      return cached->second;
    }
    if (!loader_) return Error("no storage loader");
    auto tensor = loader_(key->s, dtype, *numel);
    if (!tensor.ok()) return tensor.status();
    auto n = New(Kind::kStorage);
    if (!n.ok()) return n;
    (*n)->storage = std::move(*tensor);
    (*n)->storage_key = key->s;
    storages_.emplace(cache_key, *n);
    return *n;
  }

  absl::Status Loop() {
    while (true) {
      op_pos_ = pos_;
      auto op_bytes = Read(1);
      if (!op_bytes.ok()) return op_bytes.status();
      const unsigned char op = static_cast<unsigned char>((*op_bytes)[0]);
      absl::Status st = absl::OkStatus();
      switch (op) {
        case 0x80: {  // PROTO
          auto v = ReadLE<uint8_t>();
          if (!v.ok()) return v.status();
          if (*v > 5) return Error(absl::StrCat("unsupported pickle protocol ", int{*v}));
          break;
        }
        case 0x95: {  // FRAME: a length hint; the frame's bytes follow inline.
          auto v = ReadLE<uint64_t>();
          if (!v.ok()) return v.status();
          if (*v > data_.size() - pos_) return Error("truncated pickle frame");
          break;
        }
        case '.': {  // STOP
          auto root = Pop();
          if (!root.ok()) return root.status();
          if (!stack_.empty() || !marks_.empty()) return Error("values left on the stack at STOP");
          out_->root_ = *root;
          return absl::OkStatus();
        }
        case '}': {  // EMPTY_DICT
          auto n = New(Kind::kDict);
          if (!n.ok()) return n.status();
          st = Push(*n);
          break;
        }
        case ']': {  // EMPTY_LIST
          auto n = New(Kind::kList);
          if (!n.ok()) return n.status();
          st = Push(*n);
          break;
        }
        case ')':  // EMPTY_TUPLE
          st = PushTuple({});
          break;
        case '(':  // MARK
          if (marks_.size() >= limits_.max_marks) return Error("MARKs nested too deeply");
          marks_.push_back(stack_.size());
          break;
        case 't': {  // TUPLE
          auto items = PopMark();
          if (!items.ok()) return items.status();
          st = PushTuple(std::move(*items));
          break;
        }
        case 0x85:
        case 0x86:
        case 0x87: {  // TUPLE1/2/3
          const size_t n = op - 0x84;
          if (stack_.size() < Base() + n) return Error("pickle stack underflow");
          std::vector<Node*> items(stack_.end() - static_cast<std::ptrdiff_t>(n), stack_.end());
          stack_.resize(stack_.size() - n);
          st = PushTuple(std::move(items));
          break;
        }
        case 'l': {  // LIST
          auto items = PopMark();
          if (!items.ok()) return items.status();
          auto n = New(Kind::kList);
          if (!n.ok()) return n.status();
          (*n)->items = std::move(*items);
          st = Push(*n);
          break;
        }
        case 'd': {  // DICT
          auto items = PopMark();
          if (!items.ok()) return items.status();
          if (items->size() % 2 != 0) return Error("DICT with an odd number of items");
          auto n = New(Kind::kDict);
          if (!n.ok()) return n.status();
          for (size_t k = 0; k < items->size() && st.ok(); k += 2) st = SetItem(*n, (*items)[k], (*items)[k + 1]);
          if (st.ok()) st = Push(*n);
          break;
        }
        case 'a': {  // APPEND
          auto v = Pop();
          if (!v.ok()) return v.status();
          auto list = Top();
          if (!list.ok()) return list.status();
          if ((*list)->kind != Kind::kList) return Error(absl::StrCat("APPEND to ", KindName(**list)));
          (*list)->items.push_back(*v);
          break;
        }
        case 'e': {  // APPENDS
          auto items = PopMark();
          if (!items.ok()) return items.status();
          auto list = Top();
          if (!list.ok()) return list.status();
          if ((*list)->kind != Kind::kList) return Error(absl::StrCat("APPENDS to ", KindName(**list)));
          (*list)->items.insert((*list)->items.end(), items->begin(), items->end());
          break;
        }
        case 's': {  // SETITEM
          auto v = Pop();
          if (!v.ok()) return v.status();
          auto k = Pop();
          if (!k.ok()) return k.status();
          auto dict = Top();
          if (!dict.ok()) return dict.status();
          st = SetItem(*dict, *k, *v);
          break;
        }
        case 'u': {  // SETITEMS
          auto items = PopMark();
          if (!items.ok()) return items.status();
          if (items->size() % 2 != 0) return Error("SETITEMS with an odd number of items");
          auto dict = Top();
          if (!dict.ok()) return dict.status();
          for (size_t k = 0; k < items->size() && st.ok(); k += 2) st = SetItem(*dict, (*items)[k], (*items)[k + 1]);
          break;
        }
        case 'q': {  // BINPUT
          auto i = ReadLE<uint8_t>();
          if (!i.ok()) return i.status();
          st = MemoTop(*i);
          break;
        }
        case 'r': {  // LONG_BINPUT
          auto i = ReadLE<uint32_t>();
          if (!i.ok()) return i.status();
          st = MemoTop(*i);
          break;
        }
        case 0x94:  // MEMOIZE
          st = MemoTop(memo_.size());
          break;
        case 'h': {  // BINGET
          auto i = ReadLE<uint8_t>();
          if (!i.ok()) return i.status();
          st = GetMemo(*i);
          break;
        }
        case 'j': {  // LONG_BINGET
          auto i = ReadLE<uint32_t>();
          if (!i.ok()) return i.status();
          st = GetMemo(*i);
          break;
        }
        case 'c': {  // GLOBAL
          auto module = ReadLine();
          if (!module.ok()) return module.status();
          auto name = ReadLine();
          if (!name.ok()) return name.status();
          st = PushGlobal(std::string(*module), std::string(*name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          auto name = Pop();
          if (!name.ok()) return name.status();
          auto module = Pop();
          if (!module.ok()) return module.status();
          if ((*name)->kind != Kind::kString || (*module)->kind != Kind::kString) {
            return Error("STACK_GLOBAL needs two strings");
          }
          st = PushGlobal((*module)->s, (*name)->s);
          break;
        }
        case 'R':      // REDUCE
        case 0x81: {   // NEWOBJ
          auto args = Pop();
          if (!args.ok()) return args.status();
          auto callable = Pop();
          if (!callable.ok()) return callable.status();
          auto result = Call(*callable, *args);
          if (!result.ok()) return result.status();
          st = Push(*result);
          break;
        }
        case 'b': {  // BUILD: state is dropped (objects stay opaque, dict/tensor state unused)
          auto state = Pop();
          if (!state.ok()) return state.status();
          auto target = Top();
          if (!target.ok()) return target.status();
          break;
        }
        case 'Q': {  // BINPERSID
          auto pid = Pop();
          if (!pid.ok()) return pid.status();
          auto storage = PersistentLoad(*pid);
          if (!storage.ok()) return storage.status();
          st = Push(*storage);
          break;
        }
        case 'J': {  // BININT
          auto v = ReadLE<int32_t>();
          if (!v.ok()) return v.status();
          st = PushScalar(Kind::kInt, *v);
          break;
        }
        case 'K': {  // BININT1
          auto v = ReadLE<uint8_t>();
          if (!v.ok()) return v.status();
          st = PushScalar(Kind::kInt, *v);
          break;
        }
        case 'M': {  // BININT2
          auto v = ReadLE<uint16_t>();
          if (!v.ok()) return v.status();
          st = PushScalar(Kind::kInt, *v);
          break;
        }
        case 0x8a: {  // LONG1
          auto n = ReadLE<uint8_t>();
          if (!n.ok()) return n.status();
          if (*n > 8) return Error("integer wider than 64 bits");
          auto bytes = Read(*n);
          if (!bytes.ok()) return bytes.status();
          uint64_t u = 0;
          for (size_t k = 0; k < *n; ++k) u |= uint64_t{static_cast<unsigned char>((*bytes)[k])} << (8 * k);
          if (*n > 0 && *n < 8 && (static_cast<unsigned char>((*bytes)[*n - 1]) & 0x80)) {
            u |= ~uint64_t{0} << (8 * *n);  // sign-extend
          }
          st = PushScalar(Kind::kInt, static_cast<int64_t>(u));
          break;
        }
        case 'G': {  // BINFLOAT (big-endian)
          auto bytes = Read(8);
          if (!bytes.ok()) return bytes.status();
          uint64_t u = 0;
          for (size_t k = 0; k < 8; ++k) u = (u << 8) | static_cast<unsigned char>((*bytes)[k]);
          double d;
          std::memcpy(&d, &u, sizeof(d));
          st = PushScalar(Kind::kFloat, 0, d);
          break;
        }
        case 0x88:  // NEWTRUE
        case 0x89:  // NEWFALSE
          st = PushScalar(Kind::kBool, 0, 0, op == 0x88);
          break;
        case 'N':  // NONE
          st = PushScalar(Kind::kNone, 0);
          break;
        case 0x8c: {  // SHORT_BINUNICODE
          auto n = ReadLE<uint8_t>();
          if (!n.ok()) return n.status();
          auto s = Read(*n);
          if (!s.ok()) return s.status();
          st = PushString(Kind::kString, *s);
          break;
        }
        case 'X': {  // BINUNICODE
          auto n = ReadLE<uint32_t>();
          if (!n.ok()) return n.status();
          auto s = Read(*n);
          if (!s.ok()) return s.status();
          st = PushString(Kind::kString, *s);
          break;
        }
        case 0x8d: {  // BINUNICODE8
          auto n = ReadLE<uint64_t>();
          if (!n.ok()) return n.status();
          auto s = Read(*n);
          if (!s.ok()) return s.status();
          st = PushString(Kind::kString, *s);
          break;
        }
        case 'C': {  // SHORT_BINBYTES
          auto n = ReadLE<uint8_t>();
          if (!n.ok()) return n.status();
          auto s = Read(*n);
          if (!s.ok()) return s.status();
          st = PushString(Kind::kBytes, *s);
          break;
        }
        case 'B': {  // BINBYTES
          auto n = ReadLE<uint32_t>();
          if (!n.ok()) return n.status();
          auto s = Read(*n);
          if (!s.ok()) return s.status();
          st = PushString(Kind::kBytes, *s);
          break;
        }
        case 0x8e: {  // BINBYTES8
          auto n = ReadLE<uint64_t>();
          if (!n.ok()) return n.status();
          auto s = Read(*n);
          if (!s.ok()) return s.status();
          st = PushString(Kind::kBytes, *s);
          break;
        }
        default:
          return Unsupported(absl::StrCat(context_, ": unsupported pickle opcode 0x",
                                          absl::Hex(op, absl::kZeroPad2), " at pickle offset ", op_pos_));
      }
      if (!st.ok()) return st;
    }
  }

  std::string_view data_;
  size_t pos_ = 0;
  size_t op_pos_ = 0;
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

absl::StatusOr<std::unique_ptr<Unpickled>> UnpickleArchive(caffe2::serialize::PyTorchStreamReader& reader,
                                                           const std::string& context) {
  if (!reader.hasRecord("data.pkl")) return absl::InvalidArgumentError(absl::StrCat(context, ": no data.pkl"));
  auto [pkl_ptr, pkl_size] = reader.getRecord("data.pkl");
  const std::string_view pkl(static_cast<const char*>(pkl_ptr.get()), pkl_size);
  StorageLoader loader = [&reader, &context](const std::string& key, at::ScalarType dtype,
                                             int64_t numel) -> absl::StatusOr<at::Tensor> {
    const std::string record = absl::StrCat("data/", key);
    if (key.empty() || key.find('/') != std::string::npos || !reader.hasRecord(record)) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": storage record ", record, " is missing"));
    }
    const uint64_t elem = c10::elementSize(dtype);
    if (static_cast<uint64_t>(numel) > std::numeric_limits<uint64_t>::max() / elem) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": storage ", key, " numel overflows"));
    }
    auto [ptr, size] = reader.getRecord(record);
    if (size < static_cast<uint64_t>(numel) * elem) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": storage record ", record, " holds ", size,
                                                     " bytes, fewer than ", numel, " x ", elem));
    }
    // The tensor owns the record's buffer (no copy).
    auto holder = std::make_shared<at::DataPtr>(std::move(ptr));
    if (numel == 0 || holder->get() == nullptr) return at::empty({numel}, at::TensorOptions().dtype(dtype));
    return at::from_blob(
        holder->get(), {numel}, [holder](void*) mutable { holder.reset(); }, at::TensorOptions().dtype(dtype));
  };
  return Unpickle(pkl, loader, context);
}

absl::StatusOr<at::Tensor> MaterializeTensor(const Node& node, const std::string& key, const std::string& context) {
  if (node.kind != Node::Kind::kTensor || node.tensor_storage == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": ", key, " is not a tensor"));
  }
  const at::Tensor& storage = node.tensor_storage->storage;
  const int64_t numel = storage.numel();
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": tensor ", key, " (size [",
                                                   absl::StrJoin(node.sizes, ", "), "], stride [",
                                                   absl::StrJoin(node.strides, ", "), "], offset ", node.offset,
                                                   ") ", why, " (storage ", node.tensor_storage->storage_key,
                                                   " has ", numel, " elements)"));
  };
  if (node.sizes.size() > 64) return bad("has too many dimensions");
  if (node.offset < 0) return bad("has a negative offset");
  bool empty = false;
  for (size_t d = 0; d < node.sizes.size(); ++d) {
    if (node.sizes[d] < 0) return bad("has a negative size");
    if (node.strides[d] < 0) return bad("has a negative stride");
    if (node.sizes[d] == 0) empty = true;
  }
  if (empty) {
    if (node.offset > numel) return bad("starts past its storage");
  } else {
    // Last element index = offset + sum((size-1)*stride), overflow-checked.
    uint64_t last = static_cast<uint64_t>(node.offset);
    const uint64_t limit = static_cast<uint64_t>(numel);
    if (last >= limit) return bad("reaches past its storage");
    for (size_t d = 0; d < node.sizes.size(); ++d) {
      const uint64_t extent = static_cast<uint64_t>(node.sizes[d] - 1);
      const uint64_t stride = static_cast<uint64_t>(node.strides[d]);
      if (extent == 0 || stride == 0) continue;
      if (extent > (limit - 1 - last) / stride) return bad("reaches past its storage");
      last += extent * stride;
    }
  }
  at::Tensor t = storage.as_strided(node.sizes, node.strides, node.offset);
  return t;
}

}  // namespace dreamshot::core::pickle
