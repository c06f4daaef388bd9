// What produced a generated image, and the PNG that carries it. The record
// is written as AUTOMATIC1111's "parameters" text chunk — the prompt, a
// "Negative prompt:" line, then "Key: value" pairs — which civitai, image
// browsers and ComfyUI/A1111 "PNG info" read back; we add our scheduler's
// short name and the full SHA-256 of the model and each LoRA file after
// A1111's short hashes (model: first 10 hex digits, LoRA: first 12).
#ifndef DREAMSHOT_DIFFUSION_PIPELINE_GENERATION_RECORD_H_
#define DREAMSHOT_DIFFUSION_PIPELINE_GENERATION_RECORD_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::diffusion {

struct LoraRecord {
  std::string name;    // file stem
  std::string sha256;  // of the file, 64 hex digits
  double scale = 1.0;
};

struct GenerationRecord {
  std::string prompt, negative_prompt;
  int64_t steps = 0;
  std::string scheduler;  // short name (docs/diffusion.md)
  double guidance_scale = 0;
  int64_t clip_skip = 0;  // diffusers' count; written as A1111's "Clip skip: clip_skip + 1"
  uint64_t seed = 0;
  int64_t width = 0, height = 0;
  std::string model_name;    // e.g. the checkpoint's file stem
  std::string model_sha256;  // 64 hex digits, or "" when unknown
  std::vector<LoraRecord> loras;
};

// The "parameters" text.
std::string GenerationParametersText(const GenerationRecord& record);
// Reads it back (the fields this code writes; INVALID_ARGUMENT naming a
// malformed line).
absl::StatusOr<GenerationRecord> ParseGenerationParametersText(const std::string& text);

// image: [3, H, W] float in [0, 1] → 8-bit RGB PNG (values ·255, rounded,
// as diffusers' numpy_to_pil) with the record in its "parameters" chunk.
absl::StatusOr<std::string> EncodeGeneratedPng(const at::Tensor& image, const GenerationRecord& record);
// The "parameters" text of a PNG ("PNG info"); NOT_FOUND without one.
absl::StatusOr<std::string> GenerationParametersOfPng(absl::string_view png);

}  // namespace dreamshot::diffusion

#endif  // DREAMSHOT_DIFFUSION_PIPELINE_GENERATION_RECORD_H_
