// LoRA files applied to loaded models for as long as this object lives, so
// one resident base model serves both sides of an A/B pair: adapters on
// LoraLinear layers (attention, feed-forward, CLIP projections) run at
// runtime next to the untouched weights; adapters on other layers (convs,
// time embeddings) are merged into the weights and un-merged on
// destruction. Files are read in any of the formats of models/lora.
#ifndef DREAMSHOT_DIFFUSION_PIPELINE_APPLIED_LORAS_H_
#define DREAMSHOT_DIFFUSION_PIPELINE_APPLIED_LORAS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "diffusion/pipeline/generation_record.h"
#include "diffusion/pipeline/stable_diffusion_models.h"

namespace dreamshot::diffusion {

struct LoraRef {
  std::string path;
  double scale = 1.0;
};

class AppliedLoras {
 public:
  // A file's SHA-256 (for the records); a server passes a memoized one.
  using FileHasher = std::function<absl::StatusOr<std::string>(const std::string& path)>;

  // On error (unreadable file, keys that fit no module, …) nothing stays
  // applied. `models` must outlive the result. Without `hasher` each file
  // is hashed here.
  static absl::StatusOr<std::unique_ptr<AppliedLoras>> Apply(StableDiffusionModels& models,
                                                             const std::vector<LoraRef>& refs,
                                                             const FileHasher& hasher = nullptr);
  ~AppliedLoras();  // restores the base weights and detaches the adapters
  AppliedLoras(const AppliedLoras&) = delete;
  AppliedLoras& operator=(const AppliedLoras&) = delete;

  // Name (file stem), SHA-256 and scale of each file, in order.
  const std::vector<LoraRecord>& records() const { return records_; }

 private:
  struct State;
  explicit AppliedLoras(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  std::vector<LoraRecord> records_;
};

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_PIPELINE_APPLIED_LORAS_H_
