#include "models/clip/testdata_reader.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace dreamshot::models::clip {

absl::StatusOr<std::map<std::string, Int64Tensor>> ReadInt64Safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string file = buffer.str();
  if (file.size() < 8) return absl::DataLossError(absl::StrCat(path, ": shorter than the 8-byte header length"));
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i) header_size = (header_size << 8) | static_cast<uint8_t>(file[i]);
  if (header_size > file.size() - 8) return absl::DataLossError(absl::StrCat(path, ": header runs past the end"));
  const nlohmann::json header =
      nlohmann::json::parse(file.begin() + 8, file.begin() + 8 + header_size, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object()) return absl::DataLossError(absl::StrCat(path, ": header is not a JSON object"));
  const size_t data_begin = 8 + header_size;
  std::map<std::string, Int64Tensor> tensors;
  try {
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const nlohmann::json& info = it.value();
    if (!info.is_object() || info.value("dtype", "") != "I64") continue;
    Int64Tensor tensor;
    int64_t count = 1;
    for (const auto& dim : info.at("shape")) {
      tensor.shape.push_back(dim.get<int64_t>());
      count *= tensor.shape.back();
    }
    const auto& offsets = info.at("data_offsets");
    const uint64_t begin = offsets.at(0).get<uint64_t>();
    const uint64_t end = offsets.at(1).get<uint64_t>();
    if (end < begin || end - begin != static_cast<uint64_t>(count) * 8 || data_begin + end > file.size()) {
      return absl::DataLossError(absl::StrCat(path, ": bad data_offsets for tensor '", it.key(), "'"));
    }
    tensor.values.resize(count);
    // safetensors is little-endian, as is every machine this project targets.
    std::memcpy(tensor.values.data(), file.data() + data_begin + begin, end - begin);
    tensors.emplace(it.key(), std::move(tensor));
  }
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": malformed header: ", e.what()));
  }
  return tensors;
}

}  // namespace dreamshot::models::clip
