// The safetensors `__metadata__` of a trained adapter: everything needed to
// know what it is and to redo it (base-model hash, rank, alpha, targets,
// the full training config, the images' fingerprint, shot scale, token,
// code version, run id), under "dreamshot.*" keys, plus the "ss_*" keys
// that kohya's tools (sd-scripts, A1111's and ComfyUI's LoRA browsers)
// read. All values are strings, as the format requires.
#ifndef DREAMSHOT_SERVICES_ADAPTER_METADATA_H_
#define DREAMSHOT_SERVICES_ADAPTER_METADATA_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dreamshot/v1/trainer.pb.h"

namespace dreamshot::services {

// What a run learnt from and when, beyond its config.
struct AdapterFacts {
  std::string base_model_sha256;
  std::string dataset_sha256;
  std::string dataset_source;  // "pool run 12 split 'train'" or the folder
  std::vector<std::string> captions;  // of the instance images trained on
  int64_t class_images = 0;
  int64_t run_id = 0;
  int64_t steps = 0;  // optimizer steps done
  int64_t started_ms = 0, finished_ms = 0;
};

std::map<std::string, std::string> AdapterMetadata(const v1::TrainConfig& config, const AdapterFacts& facts);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_ADAPTER_METADATA_H_
