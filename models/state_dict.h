// Loading named tensors into a module whose parameter and buffer names are
// the upstream checkpoint names: lookup + shape check + dtype/device
// conversion, reporting every missing, unexpected or mis-shaped tensor.
#ifndef DREAMSHOT_MODELS_STATE_DICT_H_
#define DREAMSHOT_MODELS_STATE_DICT_H_

#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace torch::nn {
class Module;
}

namespace dreamshot::models {

using TensorMap = std::map<std::string, at::Tensor>;

struct LoadOptions {
  // Checkpoint keys that may be present without a module counterpart
  // (e.g. buffers older library versions saved).
  std::vector<std::string> ignorable_keys;
  // Module tensors that may be absent from the checkpoint (they keep their
  // initial values), e.g. non-persistent buffers.
  std::vector<std::string> optional_keys;
};

// Copies `tensors` into `module`'s parameters and buffers (converted to each
// one's dtype and device). INVALID_ARGUMENT lists what is missing, unexpected
// or of the wrong shape, naming `source`; on error the module may be partly
// loaded and should be discarded.
absl::Status LoadStateDict(torch::nn::Module& module, const TensorMap& tensors,
                           const std::string& source, const LoadOptions& options = {});

}  // namespace dreamshot::models

#endif  // DREAMSHOT_MODELS_STATE_DICT_H_
