// The tensors a model config implies (names, shapes and the config keys
// each shape comes from), computed from the config alone, so a config can be
// checked against a weights file's tensor shapes (read from the safetensors
// header) before any module is built: a wrong or empty config.json is
// refused with the key and tensor it gets wrong instead of allocating the
// network it describes. Each model's ExpectedTensors(config) lists exactly
// the parameters and buffers its module registers (tests compare the two).
#ifndef DREAMSHOT_MODELS_EXPECTED_TENSORS_H_
#define DREAMSHOT_MODELS_EXPECTED_TENSORS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/component_weights.h"
#include "core/json_config.h"

namespace dreamshot::models {

struct ExpectedTensor {
  std::vector<int64_t> shape;
  // The config keys the shape follows from, for errors: "block_out_channels, in_channels".
  std::string keys;
  // May be absent from the weights (a buffer newer libraries stop saving).
  bool optional = false;
};

class ExpectedTensors {
 public:
  void Add(const std::string& name, std::vector<int64_t> shape, const std::string& keys, bool optional = false);
  // Common layers under `prefix` ("down_blocks.0.resnets.1.conv1"): weight and bias.
  void Conv2d(const std::string& prefix, int64_t in, int64_t out, int64_t kernel, const std::string& keys);
  void Linear(const std::string& prefix, int64_t in, int64_t out, const std::string& keys, bool bias = true);
  void Norm(const std::string& prefix, int64_t channels, const std::string& keys);  // GroupNorm / LayerNorm

  const std::map<std::string, ExpectedTensor>& tensors() const { return tensors_; }
  // Sum of the elements of every tensor, saturating instead of overflowing.
  int64_t NumElements() const;

 private:
  std::map<std::string, ExpectedTensor> tensors_;
};

// Upper bound on the elements a config may imply (about 80 GB in float32);
// a config above it is refused before any shape is compared.
inline constexpr int64_t kMaxModelElements = int64_t{20'000'000'000};

// INVALID_ARGUMENT unless `actual` (the weights file's tensors) has exactly
// the expected names and shapes (optional ones may be missing). The message
// names the config file and `weights` (the weights file), the first tensors
// that differ with the config keys they follow from, noting keys the file
// leaves to their defaults (diffusers' / transformers'), and both parameter counts.
absl::Status CheckWeightShapes(const ExpectedTensors& expected, const core::TensorShapes& actual,
                               const core::JsonConfig& config, const std::string& weights);

// INVALID_ARGUMENT when the config implies more than kMaxModelElements
// elements, naming `what` ("the UNet") and the count.
absl::Status CheckModelSize(const ExpectedTensors& expected, const std::string& what);

}  // namespace dreamshot::models

#endif  // DREAMSHOT_MODELS_EXPECTED_TENSORS_H_
