// A small random-weight Stable Diffusion model, written in the diffusers
// folder layout (model_index.json, unet/, vae/, text_encoder/, tokenizer/,
// scheduler/), so demos, tests and new users can run every pipeline without
// downloading a checkpoint. The architecture is that of the tiny reference
// model (UNet channels [32, 64], cross-attention dim 16, a 5-layer 16-wide
// CLIP text tower, a 2-block VAE); the weights are drawn from a seed, and
// the tokenizer is a small CLIP byte-level BPE vocabulary learnt from an
// embedded list of prompt words, since the real CLIP vocabulary cannot be
// shipped or fetched. The images it makes are structured noise: it is not a
// trained model, and model_index.json and README.md say so.
#ifndef DREAMSHOT_DIFFUSION_PIPELINE_TINY_MODEL_WRITER_H_
#define DREAMSHOT_DIFFUSION_PIPELINE_TINY_MODEL_WRITER_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace dreamshot::diffusion {

// Writes the model into `dir`, creating it (and its parents) when missing.
// The same seed gives byte-identical files. The folder appears whole or not
// at all: it is assembled in a hidden sibling folder and renamed into place
// (every file in it is also written atomically).
// FAILED_PRECONDITION (naming the path) when `dir` exists and is not an
// empty folder; INTERNAL for I/O and LibTorch failures.
absl::Status WriteTinyStableDiffusion(const std::string& dir, uint64_t seed);

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_PIPELINE_TINY_MODEL_WRITER_H_
