#include "core/state_dict_unpickler.h"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>

#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace dreamshot::core::pickle {

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
