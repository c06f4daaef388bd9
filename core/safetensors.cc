#include "core/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <set>
#include <tuple>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/atomic_file.h"
#include "core/device.h"
#include "core/status_macros.h"

namespace dreamshot::core {

// A private (copy-on-write) mapping of the whole file; unmapped when the last
// SafetensorsFile or tensor view holding it goes away.
struct SafetensorsFile::Mapping {
  char* data = nullptr;
  size_t size = 0;

  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (data != nullptr) ::munmap(data, size);
  }
  absl::string_view bytes() const { return absl::string_view(data, size); }
};

namespace {

std::string Quote(absl::string_view s) { return absl::StrCat("'", absl::Utf8SafeCHexEscape(s), "'"); }

absl::Status Errno(absl::string_view what, absl::string_view path) {
  const int e = errno;
  const std::string message = absl::StrCat(what, " ", path, ": ", std::strerror(e));
  if (e == ENOENT) return absl::NotFoundError(message);
  if (e == EACCES || e == EPERM) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

// Turns the exceptions LibTorch and the allocator throw into a Status.
template <typename F>
auto CatchTorch(absl::string_view context, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat(context, ": LibTorch error: ", e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat(context, ": out of memory"));
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat(context, ": ", e.what()));
  }
}

}  // namespace

absl::StatusOr<c10::ScalarType> ToScalarType(SafetensorsDtype dtype) {
  switch (dtype) {
    case SafetensorsDtype::kF64: return c10::kDouble;
    case SafetensorsDtype::kF32: return c10::kFloat;
    case SafetensorsDtype::kF16: return c10::kHalf;
    case SafetensorsDtype::kBF16: return c10::kBFloat16;
    case SafetensorsDtype::kI64: return c10::kLong;
    case SafetensorsDtype::kI32: return c10::kInt;
    case SafetensorsDtype::kI16: return c10::kShort;
    case SafetensorsDtype::kI8: return c10::kChar;
    case SafetensorsDtype::kU8: return c10::kByte;
    case SafetensorsDtype::kBool: return c10::kBool;
    default: break;
  }
  return absl::UnimplementedError(
      absl::StrCat("safetensors dtype ", SafetensorsDtypeName(dtype), " has no LibTorch 1.13 equivalent"));
}

absl::StatusOr<SafetensorsDtype> FromScalarType(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::kDouble: return SafetensorsDtype::kF64;
    case c10::kFloat: return SafetensorsDtype::kF32;
    case c10::kHalf: return SafetensorsDtype::kF16;
    case c10::kBFloat16: return SafetensorsDtype::kBF16;
    case c10::kLong: return SafetensorsDtype::kI64;
    case c10::kInt: return SafetensorsDtype::kI32;
    case c10::kShort: return SafetensorsDtype::kI16;
    case c10::kChar: return SafetensorsDtype::kI8;
    case c10::kByte: return SafetensorsDtype::kU8;
    case c10::kBool: return SafetensorsDtype::kBool;
    default: break;
  }
  return absl::InvalidArgumentError(absl::StrCat("dtype ", DtypeName(dtype), " cannot be stored in safetensors"));
}

SafetensorsFile::SafetensorsFile(std::string path, std::shared_ptr<const Mapping> mapping, SafetensorsHeader header)
    : path_(std::move(path)), mapping_(std::move(mapping)), header_(std::move(header)) {}

absl::StatusOr<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("safetensors file not found: ", path));
    return Errno("cannot open safetensors file", path);
  }
  auto mapping = std::make_shared<Mapping>();
  struct stat st;
  absl::Status status;
  if (::fstat(fd, &st) != 0) {
    status = Errno("cannot stat", path);
  } else if (!S_ISREG(st.st_mode)) {
    status = absl::InvalidArgumentError(absl::StrCat(path, " is not a regular file"));
  } else if (st.st_size > 0) {
    // Writable private mapping of a read-only descriptor: in-place ops on
    // zero-copy tensors get copy-on-write pages instead of a SIGSEGV.
    void* addr = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (addr == MAP_FAILED) {
      status = Errno("cannot mmap", path);
    } else {
      mapping->data = static_cast<char*>(addr);
      mapping->size = static_cast<size_t>(st.st_size);
    }
  }
  ::close(fd);  // the mapping keeps the file alive
  if (!status.ok()) return status;
  absl::StatusOr<SafetensorsHeader> header = ParseSafetensorsHeader(mapping->bytes(), path);
  if (!header.ok()) return header.status();
  return SafetensorsFile(path, std::move(mapping), *std::move(header));
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> names;
  names.reserve(header_.index.size());
  for (const auto& [name, index] : header_.index) names.push_back(name);
  return names;
}

absl::StatusOr<absl::string_view> SafetensorsFile::RawBytes(absl::string_view name) const {
  const SafetensorsEntry* entry = header_.Find(name);
  if (entry == nullptr) return absl::NotFoundError(absl::StrCat(path_, ": no tensor ", Quote(name)));
  return mapping_->bytes().substr(entry->begin, entry->num_bytes());
}

absl::StatusOr<at::Tensor> SafetensorsFile::Load(absl::string_view name, std::optional<c10::ScalarType> dtype,
                                                 c10::Device device) const {
  const SafetensorsEntry* entry = header_.Find(name);
  if (entry == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(path_, ": no tensor ", Quote(name), " (", header_.entries.size(), " tensors in the file)"));
  }
  return LoadEntry(*entry, dtype, device);
}

absl::StatusOr<at::Tensor> SafetensorsFile::LoadEntry(const SafetensorsEntry& entry,
                                                      std::optional<c10::ScalarType> dtype,
                                                      c10::Device device) const {
  const std::string context = absl::StrCat(path_, ": tensor ", Quote(entry.name));
  absl::StatusOr<c10::ScalarType> source_type = ToScalarType(entry.dtype);
  if (!source_type.ok()) return absl::UnimplementedError(absl::StrCat(context, ": ", source_type.status().message()));
  const c10::ScalarType src = *source_type;
  const c10::ScalarType target = dtype.value_or(src);
  return CatchTorch(context, [&]() -> absl::StatusOr<at::Tensor> {
    const size_t bytes = entry.num_bytes();
    if (bytes == 0) return torch::empty(entry.shape, torch::TensorOptions(target).device(device));
    char* data = mapping_->data + entry.begin;
    at::Tensor source;
    if (reinterpret_cast<uintptr_t>(data) % SafetensorsDtypeSize(entry.dtype) == 0) {
      std::shared_ptr<const Mapping> keep_alive = mapping_;
      source = torch::from_blob(
          data, entry.shape, [keep_alive](void*) {}, torch::TensorOptions(src));
    } else {
      // Upstream allows offsets that are not multiples of the element size;
      // typed kernels must not see misaligned pointers, so copy first.
      source = torch::empty(entry.shape, torch::TensorOptions(src));
      std::memcpy(source.data_ptr(), data, bytes);
    }
    if (target == src && device.is_cpu()) return source;
    return source.to(device, target);
  });
}

absl::StatusOr<std::map<std::string, at::Tensor>> SafetensorsFile::LoadAll(std::optional<c10::ScalarType> float_dtype,
                                                                           c10::Device device) const {
  std::map<std::string, at::Tensor> out;
  for (const SafetensorsEntry& entry : header_.entries) {
    std::optional<c10::ScalarType> target;
    if (float_dtype.has_value()) {
      absl::StatusOr<c10::ScalarType> src = ToScalarType(entry.dtype);
      if (src.ok() && c10::isFloatingType(*src)) target = float_dtype;
    }
    absl::StatusOr<at::Tensor> tensor = LoadEntry(entry, target, device);
    if (!tensor.ok()) return tensor.status();
    out.emplace(entry.name, *std::move(tensor));
  }
  return out;
}

namespace {

// A file's bytes but the tensor data: the length prefix and the header, and
// the tensors (contiguous CPU copies) in file order.
struct PreparedSafetensors {
  std::string prefix;  // 8-byte length + header
  std::vector<at::Tensor> data;
};

absl::StatusOr<PreparedSafetensors> PrepareSafetensors(const std::string& path,
                                                       const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                                                       const std::map<std::string, std::string>& metadata) {
  struct Item {
    const std::string* name;
    SafetensorsDtype dtype;
    at::Tensor data;  // contiguous, CPU
    uint64_t begin = 0;
  };
  std::vector<Item> items;
  items.reserve(tensors.size());
  std::set<absl::string_view> seen;
  for (const auto& [name, tensor] : tensors) {
    const std::string context = absl::StrCat(path, ": tensor ", Quote(name));
    if (name == "__metadata__") return absl::InvalidArgumentError(absl::StrCat(context, ": reserved name"));
    if (!seen.insert(name).second) return absl::InvalidArgumentError(absl::StrCat(context, ": duplicate name"));
    if (!tensor.defined()) return absl::InvalidArgumentError(absl::StrCat(context, ": undefined tensor"));
    absl::StatusOr<SafetensorsDtype> dtype = FromScalarType(tensor.scalar_type());
    if (!dtype.ok()) return absl::InvalidArgumentError(absl::StrCat(context, ": ", dtype.status().message()));
    absl::StatusOr<at::Tensor> cpu = CatchTorch(
        context, [&]() -> absl::StatusOr<at::Tensor> { return tensor.to(torch::kCPU).contiguous(); });
    if (!cpu.ok()) return cpu.status();
    items.push_back(Item{&name, *dtype, *std::move(cpu)});
  }
  // Upstream's order: wider dtypes first, then by name; with an 8-aligned
  // header this aligns every tensor to its element size.
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    return std::make_tuple(-SafetensorsDtypeRank(a.dtype), *a.name) <
           std::make_tuple(-SafetensorsDtypeRank(b.dtype), *b.name);
  });

  std::string header;
  try {
    header = "{";
    if (!metadata.empty()) absl::StrAppend(&header, "\"__metadata__\":", nlohmann::json(metadata).dump());
    uint64_t offset = 0;
    for (Item& item : items) {
      item.begin = offset;
      offset += item.data.nbytes();
      if (header.size() > 1) header += ",";
      absl::StrAppend(&header, nlohmann::json(*item.name).dump(), ":{\"dtype\":\"",
                      SafetensorsDtypeName(item.dtype), "\",\"shape\":[", absl::StrJoin(item.data.sizes(), ","),
                      "],\"data_offsets\":[", item.begin, ",", offset, "]}");
    }
    header += "}";
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": a tensor name or metadata entry is not valid UTF-8: ",
                                                   e.what()));
  }
  header.append((8 - header.size() % 8) % 8, ' ');
  if (header.size() > kMaxSafetensorsHeaderSize) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": header of ", header.size(), " bytes exceeds the limit"));
  }
  PreparedSafetensors out;
  out.prefix.resize(8);
  for (int i = 0; i < 8; ++i) out.prefix[i] = static_cast<char>((uint64_t{header.size()} >> (8 * i)) & 0xff);
  out.prefix += header;
  for (Item& item : items) out.data.push_back(std::move(item.data));
  return out;
}

absl::string_view BytesOf(const at::Tensor& t) {
  return absl::string_view(static_cast<const char*>(t.data_ptr()), t.nbytes());
}

}  // namespace

absl::Status WriteSafetensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                              const std::map<std::string, std::string>& metadata) {
  ASSIGN_OR_RETURN(const PreparedSafetensors prepared, PrepareSafetensors(path, tensors, metadata));
  // Streamed (no second in-memory copy of the data), then renamed into place.
  return WriteFileAtomicallyStreamed(path, [&](const ChunkWriter& write) -> absl::Status {
    absl::Status status = write(prepared.prefix);
    for (size_t i = 0; i < prepared.data.size() && status.ok(); ++i) status = write(BytesOf(prepared.data[i]));
    return status;
  });
}

absl::StatusOr<std::string> SerializeSafetensors(const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                                                 const std::map<std::string, std::string>& metadata) {
  ASSIGN_OR_RETURN(const PreparedSafetensors prepared, PrepareSafetensors("safetensors bytes", tensors, metadata));
  std::string bytes = prepared.prefix;
  for (const at::Tensor& t : prepared.data) absl::StrAppend(&bytes, BytesOf(t));
  return bytes;
}

}  // namespace dreamshot::core
