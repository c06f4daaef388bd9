// What the training loop trains on: examples already encoded (VAE latents
// × scaling factor, and the prompt as text-encoder states and/or token ids).
#ifndef DREAMSHOT_TRAINER_TRAINING_DATA_H_
#define DREAMSHOT_TRAINER_TRAINING_DATA_H_

#include <ATen/core/Tensor.h>

#include <vector>

namespace dreamshot::trainer {

// An example carries its prompt as cached text states, as token ids, or
// both. Without a text-encoder adapter the cached states are used when
// present, else the frozen text encoder encodes the ids (no grad); with one,
// the ids are required and the states ignored.
struct EncodedExample {
  at::Tensor latents;    // [4, h, w], × the VAE's scaling factor
  at::Tensor text;       // [77, D], text-encoder output for its prompt; may be undefined
  at::Tensor input_ids;  // [77] int64, its prompt's token ids; may be undefined
};

struct TrainingData {
  std::vector<EncodedExample> instance;
  std::vector<EncodedExample> prior;  // class examples; empty without prior preservation
};

}  // namespace dreamshot::trainer

#endif  // DREAMSHOT_TRAINER_TRAINING_DATA_H_
