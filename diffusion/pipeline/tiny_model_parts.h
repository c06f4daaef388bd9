// What every random tiny model writer shares (the Stable Diffusion one in
// tiny_model_writer.h, the CLIP and DINO ones in evaluator/): the small
// generated CLIP tokenizer, seeded random weights, and writing a whole
// folder atomically.
#ifndef DREAMSHOT_DIFFUSION_PIPELINE_TINY_MODEL_PARTS_H_
#define DREAMSHOT_DIFFUSION_PIPELINE_TINY_MODEL_PARTS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace torch::nn {
class Module;
}

namespace dreamshot::diffusion {

// The ids a text config needs from the generated tokenizer.
struct TinyTokenizerIds {
  int64_t vocab_size = 0;
  int64_t bos_id = 0;
  int64_t eos_id = 0;
};

// A transformers CLIPTokenizer folder's files (vocab.json, merges.txt,
// special_tokens_map.json, tokenizer_config.json) into `folder`: a small
// CLIP byte-level BPE vocabulary learnt from an embedded list of prompt
// words, since the real CLIP vocabulary cannot be shipped or fetched.
absl::StatusOr<TinyTokenizerIds> WriteTinyClipTokenizer(const std::string& folder);

enum class TinyInit {
  kTransformers,  // transformers' _init_weights: normal(0, 0.02) for matrices and embeddings
  kTorchDefault,  // what diffusers models get: U(±1/√fan_in) for conv/linear weights
};

// Every parameter of `module` initialised in registration order from one
// CPU generator (same seed → same bits on every machine), then parameters
// and buffers by name (the upstream state-dict keys). Biases are zero and
// 1-D weights (GroupNorm/LayerNorm) one, as upstream's fresh modules, so
// activations stay finite and the output is not constant.
absl::StatusOr<std::vector<std::pair<std::string, at::Tensor>>> RandomWeights(torch::nn::Module& module,
                                                                              uint64_t seed, TinyInit init);

// As diffusers/transformers write JSON files: indent 2, sorted keys (as
// nlohmann::json keeps them), a final newline.
std::string UpstreamJsonText(const nlohmann::json& value);

// A well-mixed 64-bit seed per component (splitmix64), so the networks do
// not share one random stream and adding a component does not shift the
// others.
uint64_t TinyComponentSeed(uint64_t seed, uint64_t component);

// Creates `dir` (and its parents) by calling `write(temp)` on a hidden
// sibling folder and renaming it into place, so the folder appears whole or
// not at all. FAILED_PRECONDITION (naming the path) when `dir` exists and
// is not an empty folder; `what` names the model in that message.
absl::Status WriteFolderAtomically(const std::string& dir, const std::string& what,
                                   const std::function<absl::Status(const std::string& temp)>& write);

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_PIPELINE_TINY_MODEL_PARTS_H_
