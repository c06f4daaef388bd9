#include "core/torch_pickle.h"

#include <torch/torch.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/import_read.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "core/state_dict_unpickler.h"

namespace dreamshot::core {
namespace {

// Legacy (pre-1.6) torch.save: pickle protocol 2, then the magic number
// 0x1950a86a20f9469cfc6c pickled as LONG1.
constexpr unsigned char kLegacyMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                          0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

absl::Status CheckFormat(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat("no such file: ", path));
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat("not a regular file: ", path));
  std::ifstream in(path, std::ios::binary);
  unsigned char head[sizeof(kLegacyMagic)] = {};
  in.read(reinterpret_cast<char*>(head), sizeof(head));
  const std::streamsize n = in.gcount();
  if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return absl::OkStatus();
  if (n == static_cast<std::streamsize>(sizeof(kLegacyMagic)) &&
      std::memcmp(head, kLegacyMagic, sizeof(kLegacyMagic)) == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": legacy torch.save format is not supported; re-save with torch>=1.6 or convert to safetensors"));
  }
  if (n >= 1 && head[0] == 0x80) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": a bare pickle, not a torch.save zip archive; re-save with torch>=1.6 or convert to "
                           "safetensors"));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": not a PyTorch checkpoint (expected a torch.save zip archive)"));
}

std::string Join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : absl::StrCat(prefix, ".", key);
}

// Finds the dict holding the tensors: `value` itself when it holds a tensor
// or has no nested state dict, else its state_dict/model/module entry.
struct Chosen {
  c10::impl::GenericDict dict;
  std::string prefix;
};

absl::StatusOr<Chosen> ChooseDict(const c10::impl::GenericDict& dict, const std::string& prefix, int depth,
                                  const std::string& path, std::vector<std::string>* skipped) {
  for (const auto& item : dict) {
    if (!item.key().isString()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": dict ", prefix.empty() ? "at the top" : prefix,
                                                     " has a non-string key (", item.key().tagKind(), ")"));
    }
  }
  if (depth < 3) {
    for (const char* name : {"state_dict", "model", "module"}) {
      auto it = dict.find(c10::IValue(std::string(name)));
      if (it == dict.end() || !it->value().isGenericDict()) continue;
      for (const auto& item : dict) {
        if (item.key().toStringRef() != name) {
          skipped->push_back(absl::StrCat(Join(prefix, item.key().toStringRef()), " (", item.value().tagKind(), ")"));
        }
      }
      return ChooseDict(it->value().toGenericDict(), Join(prefix, name), depth + 1, path, skipped);
    }
  }
  return Chosen{dict, prefix};
}

// The same choice over our own unpickler's values.
struct ChosenNode {
  const pickle::Node* dict;
  std::string prefix;
};

absl::StatusOr<ChosenNode> ChooseNode(const pickle::Node& dict, const std::string& prefix, int depth,
                                      const std::string& path, std::vector<std::string>* skipped) {
  for (const auto& [key, value] : dict.entries) {
    if (key->kind != pickle::Node::Kind::kString) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": dict ", prefix.empty() ? "at the top" : prefix,
                                                     " has a non-string key (", pickle::KindName(*key), ")"));
    }
  }
  if (depth < 3) {
    for (const char* name : {"state_dict", "model", "module"}) {
      const pickle::Node* inner = pickle::DictGet(dict, name);
      if (inner == nullptr || inner->kind != pickle::Node::Kind::kDict) continue;
      for (const auto& [key, value] : dict.entries) {
        if (key->s != name) skipped->push_back(absl::StrCat(Join(prefix, key->s), " (", pickle::KindName(*value), ")"));
      }
      return ChooseNode(*inner, Join(prefix, name), depth + 1, path, skipped);
    }
  }
  return ChosenNode{&dict, prefix};
}

absl::StatusOr<std::map<std::string, at::Tensor>> FromUnpickled(const pickle::Unpickled& unpickled,
                                                                const std::string& path,
                                                                std::vector<std::string>* skipped) {
  const pickle::Node* top = unpickled.root();
  if (top->kind != pickle::Node::Kind::kDict) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": top level is ", pickle::KindName(*top), ", expected a dict of tensors"));
  }
  auto chosen = ChooseNode(*top, "", 0, path, skipped);
  if (!chosen.ok()) return chosen.status();
  std::map<std::string, at::Tensor> tensors;
  for (const auto& [key, value] : chosen->dict->entries) {
    if (value->kind == pickle::Node::Kind::kTensor) {
      auto tensor = pickle::MaterializeTensor(*value, Join(chosen->prefix, key->s), path);
      if (!tensor.ok()) return tensor.status();
      tensors.emplace(key->s, *std::move(tensor));
    } else {
      skipped->push_back(absl::StrCat(Join(chosen->prefix, key->s), " (", pickle::KindName(*value), ")"));
    }
  }
  if (tensors.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no tensors in ", chosen->prefix.empty() ? "the top-level dict" : chosen->prefix));
  }
  return tensors;
}

// LibTorch's TorchScript unpickler: the fallback for pickles that use
// TorchScript-only opcodes or globals our unpickler does not implement.
absl::StatusOr<std::map<std::string, at::Tensor>> ReadWithLibTorch(caffe2::serialize::PyTorchStreamReader& reader,
                                                                   const std::string& path,
                                                                   std::vector<std::string>* out_skipped) {
  // What torch::pickle_load does, reading from the file instead of a
  // buffer and mapping every storage to CPU (like map_location="cpu").
  c10::IValue top = torch::jit::readArchiveAndTensors("data", /*pickle_prefix=*/"", /*tensor_prefix=*/"",
                                                      /*type_resolver=*/c10::nullopt,
                                                      /*obj_loader=*/c10::nullopt, c10::Device(c10::kCPU), reader);
  if (!top.isGenericDict()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": top level is ", top.tagKind(), ", expected a dict of tensors"));
  }
  auto chosen = ChooseDict(top.toGenericDict(), "", 0, path, out_skipped);
  if (!chosen.ok()) return chosen.status();
  std::map<std::string, at::Tensor> tensors;
  for (const auto& item : chosen->dict) {
    const std::string& key = item.key().toStringRef();
    if (item.value().isTensor()) {
      tensors.emplace(key, item.value().toTensor());
    } else {
      out_skipped->push_back(absl::StrCat(Join(chosen->prefix, key), " (", item.value().tagKind(), ")"));
    }
  }
  if (tensors.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no tensors in ", chosen->prefix.empty() ? "the top-level dict" : chosen->prefix));
  }
  return tensors;
}

}  // namespace

absl::StatusOr<std::map<std::string, at::Tensor>> ReadTorchStateDict(const std::string& path,
                                                                     std::vector<std::string>* skipped) {
  absl::Status format = CheckFormat(path);
  if (!format.ok()) return format;
  std::vector<std::string> local_skipped;
  std::vector<std::string>* out_skipped = skipped != nullptr ? skipped : &local_skipped;
  out_skipped->clear();
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    auto unpickled = pickle::UnpickleArchive(reader, path);
    if (unpickled.ok()) return FromUnpickled(**unpickled, path, out_skipped);
    if (!pickle::IsUnsupported(unpickled.status())) return unpickled.status();
    // Something only TorchScript writes: let LibTorch try; if it cannot
    // either, report what our unpickler found.
    try {
      auto fallback = ReadWithLibTorch(reader, path, out_skipped);
      if (fallback.ok()) return fallback;
    } catch (const std::exception&) {
    }
    out_skipped->clear();
    return unpickled.status();
  } catch (const c10::Error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot read PyTorch checkpoint: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read PyTorch checkpoint: ", e.what()));
  }
}

}  // namespace dreamshot::core
