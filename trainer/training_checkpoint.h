// A training checkpoint: everything a killed run needs to go on to the same
// adapter weights an uninterrupted run ends with — the adapter, the
// optimizer's moments and step counts, the optimizer step reached and the
// state of the generator that draws noise and timesteps. One safetensors
// file, written atomically (temp file, fsync, rename), so a crash or a full
// disk mid-write leaves the previous checkpoint as it was.
//   adapter.<peft key>   the adapter weights (loadable as a LoRA file after
//                        stripping the prefix): unet.… and, when the text
//                        encoder is trained too, text_encoder.…
//   optimizer            the optimizer's state, LibTorch's own serialisation
//   rng                  the generator's state
//   __metadata__         dreamshot.checkpoint = 1, dreamshot.step, rank,
//                        alpha, dreamshot.text_encoder.rank / .alpha when
//                        there is a text-encoder adapter, and the caller's
//                        keys (base model hash, target modules, ...)
#ifndef DREAMSHOT_TRAINER_TRAINING_CHECKPOINT_H_
#define DREAMSHOT_TRAINER_TRAINING_CHECKPOINT_H_

#include <ATen/core/Generator.h>

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "trainer/trainable_lora.h"

namespace torch::optim {
class Optimizer;
}

namespace dreamshot::trainer {

// `identity`: what a resume must match (base model hash, target modules,
// config fields that change the maths); stored in the metadata.
// `text_lora`: the text-encoder adapter when it is trained too (the
// optimizer then holds both adapters' parameters).
absl::Status SaveTrainingCheckpoint(const std::string& path, const TrainableLora& lora,
                                    torch::optim::Optimizer& optimizer, int64_t step, const at::Generator& generator,
                                    const std::map<std::string, std::string>& identity,
                                    const TrainableLora* text_lora = nullptr);

// Restores `lora` (and `text_lora`), `optimizer` and `generator` and
// returns the step. FAILED_PRECONDITION naming the key when the checkpoint
// was made for another rank, alpha, `identity`, or with a text-encoder
// adapter where this run has none (or the other way round); NOT_FOUND /
// DATA_LOSS naming the file when it is missing or not a training checkpoint.
absl::StatusOr<int64_t> LoadTrainingCheckpoint(const std::string& path, TrainableLora& lora,
                                               torch::optim::Optimizer& optimizer, at::Generator& generator,
                                               const std::map<std::string, std::string>& identity,
                                               TrainableLora* text_lora = nullptr);

}  // namespace dreamshot::trainer

#endif  // DREAMSHOT_TRAINER_TRAINING_CHECKPOINT_H_
