// A small, bounds-checked unpickler for the subset of Python pickle that
// `torch.save` writes for state dicts and training checkpoints (protocol 2 by
// default; the protocol 3-5 opcodes such files can contain are accepted too),
// plus the TorchScript pickles written by torch::pickle_save.
//
// Values live in an arena owned by `Unpickled` and point at each other with
// raw pointers, so memo sharing, cycles and deep chains never recurse or leak.
//
// Understood globals: collections.OrderedDict (-> dict),
// torch._utils._rebuild_tensor_v2 / _rebuild_parameter, storage types
// torch.{Float,Half,BFloat16,Double,Long,Int,Short,Char,Byte,Bool}Storage and
// torch.storage.UntypedStorage (persistent ids
// ('storage', storage_type, key, location, numel); location ignored, CPU),
// torch.jit._pickle.{restore_type_tag,build_*list} (TorchScript pickles).
// Any other global, called or instantiated, becomes an opaque kObject named
// "module.Class" so that its entry can be skipped.
//
// Tensors are kept lazy (storage + offset/size/stride) and only checked and
// materialized by MaterializeTensor, so that the error can name the key.
#ifndef DREAMSHOT_CORE_STATE_DICT_UNPICKLER_H_
#define DREAMSHOT_CORE_STATE_DICT_UNPICKLER_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace caffe2::serialize {
class PyTorchStreamReader;
}

namespace dreamshot::core::pickle {

struct Node {
  enum class Kind { kNone, kBool, kInt, kFloat, kString, kBytes, kTuple, kList, kDict, kGlobal, kStorage, kTensor, kObject };
  Kind kind = Kind::kNone;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;  // kString/kBytes value; kGlobal/kObject: "module.name"
  std::vector<Node*> items;                       // kTuple / kList
  std::vector<std::pair<Node*, Node*>> entries;   // kDict, insertion order
  std::unordered_map<std::string, size_t> index;  // kDict: string key -> entries position
  // kStorage: flat 1-D CPU tensor of the storage dtype.
  at::Tensor storage;
  std::string storage_key;
  // kTensor: view of `tensor_storage` (a kStorage node).
  Node* tensor_storage = nullptr;
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
  bool requires_grad = false;
};

// "Int", "Double", "Bool", "String", "None", "Tuple", "GenericList",
// "GenericDict", "Tensor", "Bytes", "Storage", "Global", or
// "object module.Class" (names follow c10::IValue::tagKind()).
std::string KindName(const Node& node);

// Finds a dict's entry by string key, or nullptr.
Node* DictGet(const Node& dict, const std::string& key);

class Unpickled {
 public:
  Node* root() const { return root_; }

 private:
  friend class Unpickler;
  std::vector<std::unique_ptr<Node>> arena_;
  Node* root_ = nullptr;
};

// Returns the storage record named `key` ("data/<key>" in the archive) as a
// flat CPU tensor of `dtype` with at least `numel` elements.
using StorageLoader = std::function<absl::StatusOr<at::Tensor>(const std::string& key, at::ScalarType dtype,
                                                               int64_t numel)>;

struct Limits {
  size_t max_stack = size_t{1} << 22;   // values on the stack, all marks together
  size_t max_marks = 1000;              // nesting of MARK
  size_t max_memo = size_t{1} << 24;    // memo entries
  size_t max_nodes = size_t{1} << 26;   // values created
};

// Unpickles `data`. Errors are INVALID_ARGUMENT "<context>: ... at offset N".
absl::StatusOr<std::unique_ptr<Unpickled>> Unpickle(std::string_view data, const StorageLoader& loader,
                                                    const std::string& context, const Limits& limits = Limits());

// Reads "data.pkl" and its storages ("data/<key>") from a torch.save archive.
absl::StatusOr<std::unique_ptr<Unpickled>> UnpickleArchive(caffe2::serialize::PyTorchStreamReader& reader,
                                                           const std::string& context);

// The tensor a kTensor node describes (a view sharing its storage), after
// checking that every element lies in the storage. Errors name `key`.
absl::StatusOr<at::Tensor> MaterializeTensor(const Node& node, const std::string& key, const std::string& context);

// True when `status` came from an opcode or global this unpickler does not
// implement (as opposed to a corrupt or hostile file).
bool IsUnsupported(const absl::Status& status);

}  // namespace dreamshot::core::pickle

#endif  // DREAMSHOT_CORE_STATE_DICT_UNPICKLER_H_
