#include "core/safetensors_format.h"

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace dreamshot::core {
namespace {

using Json = nlohmann::json;

struct DtypeInfo {
  SafetensorsDtype dtype;
  const char* name;
  size_t size;
  int rank;  // upstream Rust enum order
};

constexpr DtypeInfo kDtypes[] = {
    {SafetensorsDtype::kF64, "F64", 8, 12},     {SafetensorsDtype::kF32, "F32", 4, 11},
    {SafetensorsDtype::kF16, "F16", 2, 7},      {SafetensorsDtype::kBF16, "BF16", 2, 8},
    {SafetensorsDtype::kI64, "I64", 8, 13},     {SafetensorsDtype::kI32, "I32", 4, 9},
    {SafetensorsDtype::kI16, "I16", 2, 5},      {SafetensorsDtype::kI8, "I8", 1, 2},
    {SafetensorsDtype::kU8, "U8", 1, 1},        {SafetensorsDtype::kBool, "BOOL", 1, 0},
    {SafetensorsDtype::kU64, "U64", 8, 14},     {SafetensorsDtype::kU32, "U32", 4, 10},
    {SafetensorsDtype::kU16, "U16", 2, 6},      {SafetensorsDtype::kF8E4M3, "F8_E4M3", 1, 4},
    {SafetensorsDtype::kF8E5M2, "F8_E5M2", 1, 3},
};

const DtypeInfo& Info(SafetensorsDtype dtype) {
  for (const DtypeInfo& info : kDtypes) {
    if (info.dtype == dtype) return info;
  }
  return kDtypes[0];  // unreachable: every enumerator is in the table
}

// Quoted, control characters escaped: names come from untrusted files.
std::string Quote(absl::string_view s) { return absl::StrCat("'", absl::Utf8SafeCHexEscape(s), "'"); }

class Errors {
 public:
  explicit Errors(absl::string_view file) : file_(file) {}
  template <typename... Args>
  absl::Status Invalid(const Args&... args) const {
    return absl::InvalidArgumentError(absl::StrCat(file_, ": ", args...));
  }
  template <typename... Args>
  absl::Status Truncated(const Args&... args) const {
    return absl::DataLossError(absl::StrCat(file_, ": ", args...));
  }

 private:
  absl::string_view file_;
};

// Non-negative JSON integer (no fraction, no exponent) that fits int64.
bool AsNonNegativeInt(const Json& v, uint64_t* out) {
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    *out = u;
    return true;
  }
  if (v.is_number_integer() && v.get<int64_t>() == 0) {  // "-0"
    *out = 0;
    return true;
  }
  return false;
}

std::string Compact(const Json& v) {
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > 80) s = absl::StrCat(s.substr(0, 77), "...");
  return s;
}

absl::Status ParseMetadata(const Json& value, const Errors& err, std::map<std::string, std::string>* out) {
  if (!value.is_object()) {
    return err.Invalid("__metadata__ must be an object of strings, got ", value.type_name());
  }
  for (const auto& [key, v] : value.items()) {
    if (!v.is_string()) {
      return err.Invalid("__metadata__ key ", Quote(key), " must map to a string, got ", v.type_name(), " ",
                         Compact(v));
    }
    (*out)[key] = v.get<std::string>();
  }
  return absl::OkStatus();
}

absl::Status ParseEntry(const std::string& name, const Json& value, uint64_t data_size, uint64_t data_start,
                        const Errors& err, SafetensorsEntry* entry) {
  const std::string t = absl::StrCat("tensor ", Quote(name));
  if (!value.is_object()) return err.Invalid(t, ": entry must be an object, got ", value.type_name());
  entry->name = name;

  const auto dtype_it = value.find("dtype");
  if (dtype_it == value.end() || !dtype_it->is_string()) return err.Invalid(t, ": missing string field 'dtype'");
  if (!ParseSafetensorsDtype(dtype_it->get_ref<const std::string&>(), &entry->dtype)) {
    return err.Invalid(t, ": unknown dtype ", Quote(dtype_it->get_ref<const std::string&>()));
  }

  const auto shape_it = value.find("shape");
  if (shape_it == value.end() || !shape_it->is_array()) return err.Invalid(t, ": missing array field 'shape'");
  const size_t elem_size = SafetensorsDtypeSize(entry->dtype);
  uint64_t bytes = elem_size;
  bool overflow = false;
  for (const Json& dim : *shape_it) {
    uint64_t d = 0;
    if (!AsNonNegativeInt(dim, &d)) {
      return err.Invalid(t, ": shape ", Compact(*shape_it), " has a dim that is not a non-negative integer: ",
                         Compact(dim));
    }
    entry->shape.push_back(static_cast<int64_t>(d));
    if (!overflow && d != 0 && bytes > std::numeric_limits<uint64_t>::max() / d) overflow = true;
    if (!overflow) bytes *= d;
  }
  if (overflow) {
    return err.Invalid(t, ": shape ", Compact(*shape_it), " x ", elem_size, " bytes overflows 64 bits");
  }

  const auto off_it = value.find("data_offsets");
  if (off_it == value.end()) return err.Invalid(t, ": missing field 'data_offsets'");
  uint64_t begin = 0, end = 0;
  if (!off_it->is_array() || off_it->size() != 2 || !AsNonNegativeInt((*off_it)[0], &begin) ||
      !AsNonNegativeInt((*off_it)[1], &end)) {
    return err.Invalid(t, ": data_offsets must be [begin, end] of non-negative integers, got ", Compact(*off_it));
  }
  if (begin > end) return err.Invalid(t, ": data_offsets [", begin, ", ", end, "] are reversed");
  if (end > data_size) {
    return err.Truncated(t, ": data_offsets [", begin, ", ", end, "] extend past the end of the data section (",
                         data_size, " bytes): file truncated?");
  }
  if (end - begin != bytes) {
    return err.Invalid(t, ": shape ", Compact(*shape_it), " x ", SafetensorsDtypeName(entry->dtype), " (",
                       elem_size, " bytes) = ", bytes, " bytes but data_offsets [", begin, ", ", end, "] span ",
                       end - begin);
  }
  entry->begin = data_start + begin;
  entry->end = data_start + end;
  return absl::OkStatus();
}

}  // namespace

bool ParseSafetensorsDtype(absl::string_view text, SafetensorsDtype* dtype) {
  for (const DtypeInfo& info : kDtypes) {
    if (text == info.name) {
      *dtype = info.dtype;
      return true;
    }
  }
  return false;
}

const char* SafetensorsDtypeName(SafetensorsDtype dtype) { return Info(dtype).name; }
size_t SafetensorsDtypeSize(SafetensorsDtype dtype) { return Info(dtype).size; }
int SafetensorsDtypeRank(SafetensorsDtype dtype) { return Info(dtype).rank; }

int64_t SafetensorsEntry::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;  // validated by the parser not to overflow
  return n;
}

const SafetensorsEntry* SafetensorsHeader::Find(absl::string_view name) const {
  const auto it = index.find(name);
  return it == index.end() ? nullptr : &entries[it->second];
}

absl::StatusOr<SafetensorsHeader> ParseSafetensorsHeader(absl::string_view file_bytes,
                                                         absl::string_view file_name_for_errors) {
  const Errors err(file_name_for_errors);
  const uint64_t size = file_bytes.size();
  if (size < 8) {
    return err.Truncated("file is ", size, " bytes, too short for the 8-byte header length: not a safetensors file "
                         "or truncated");
  }
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(file_bytes[i]);
  if (n == 0) return err.Invalid("header length is 0 (expected a JSON object)");
  if (n > kMaxSafetensorsHeaderSize) {
    return err.Invalid("header length ", n, " exceeds the limit of ", kMaxSafetensorsHeaderSize,
                       " bytes: not a safetensors file?");
  }
  if (n > size - 8) {
    return err.Truncated("header length ", n, " extends past the end of the file (", size,
                         " bytes): file truncated?");
  }
  SafetensorsHeader header;
  header.header_size = n;
  header.data_start = 8 + n;
  header.file_size = size;
  const uint64_t data_size = size - header.data_start;
  const char* json_begin = file_bytes.data() + 8;

  // nlohmann keeps the last of duplicate keys silently: catch them while parsing.
  std::string duplicate;
  std::set<std::string> top_keys, inner_keys;
  std::string current_top;
  auto on_event = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (event != Json::parse_event_t::key || !duplicate.empty()) return true;
    const std::string& key = parsed.get_ref<const std::string&>();
    if (depth == 1) {
      current_top = key;
      inner_keys.clear();
      if (!top_keys.insert(key).second) duplicate = absl::StrCat("duplicate tensor name ", Quote(key));
    } else if (depth == 2 && !inner_keys.insert(key).second) {
      duplicate = absl::StrCat("duplicate key ", Quote(key), " in ",
                               current_top == "__metadata__" ? "__metadata__"
                                                             : absl::StrCat("tensor ", Quote(current_top)));
    }
    return true;
  };
  Json root;
  try {
    root = Json::parse(json_begin, json_begin + n, on_event, /*allow_exceptions=*/true);
  } catch (const Json::exception& e) {
    return err.Invalid("header (", n, " bytes) is not valid JSON: ", e.what());
  }
  if (!duplicate.empty()) return err.Invalid(duplicate);
  if (!root.is_object()) return err.Invalid("header must be a JSON object, got ", root.type_name());

  header.entries.reserve(root.size());
  for (const auto& [name, value] : root.items()) {
    if (name == "__metadata__") {
      absl::Status s = ParseMetadata(value, err, &header.metadata);
      if (!s.ok()) return s;
      continue;
    }
    SafetensorsEntry entry;
    absl::Status s = ParseEntry(name, value, data_size, header.data_start, err, &entry);
    if (!s.ok()) return s;
    header.entries.push_back(std::move(entry));
  }

  // The ranges must tile [data_start, file_size) exactly: no overlap, no gap,
  // no trailing bytes (upstream: "metadata incomplete buffer").
  std::sort(header.entries.begin(), header.entries.end(), [](const SafetensorsEntry& a, const SafetensorsEntry& b) {
    return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
  });
  uint64_t expected = header.data_start;
  const SafetensorsEntry* previous = nullptr;
  for (const SafetensorsEntry& e : header.entries) {
    if (e.begin < expected) {
      return err.Invalid("tensor ", Quote(e.name), " data_offsets [", e.begin - header.data_start, ", ",
                         e.end - header.data_start, "] overlap tensor ", Quote(previous->name), " [",
                         previous->begin - header.data_start, ", ", previous->end - header.data_start, "]");
    }
    if (e.begin > expected) {
      return err.Invalid("gap of ", e.begin - expected, " unused bytes in the data section at [",
                         expected - header.data_start, ", ", e.begin - header.data_start, ") before tensor ",
                         Quote(e.name));
    }
    expected = e.end;
    if (e.end > e.begin || previous == nullptr) previous = &e;
  }
  if (expected != size) {
    return err.Invalid(size - expected, " trailing bytes after the last tensor",
                       previous ? absl::StrCat(" ", Quote(previous->name)) : std::string(),
                       ": data section is ", data_size, " bytes but the tensors cover ",
                       expected - header.data_start);
  }
  for (size_t i = 0; i < header.entries.size(); ++i) header.index.emplace(header.entries[i].name, i);
  return header;
}

}  // namespace dreamshot::core
