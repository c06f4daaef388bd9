// Training images from a folder, as diffusers' DreamBoothDataset reads
// them: each image with the caption in a `<stem>.txt` beside it, resized so
// its shorter side is the resolution and centre-cropped to a square, in
// [-1, 1]. Prompts come from templates with {token}, {scale} and {caption}
// ("a {token} {scale} shot, {caption}" → "a sks close shot, a man at a
// desk"). Unreadable and too-small images are reported by path and skipped,
// not fatal: a folder of film frames often holds a few broken files.
#ifndef DREAMSHOT_TRAINER_INSTANCE_IMAGES_H_
#define DREAMSHOT_TRAINER_INSTANCE_IMAGES_H_

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "models/clip/text_model.h"
#include "models/clip/tokenizer.h"
#include "models/vae/autoencoder_kl.h"
#include "trainer/training_loop.h"

namespace dreamshot::trainer {

struct CaptionedImage {
  std::string path;
  std::string caption;  // "" without a .txt beside the image
};

// The images (.png, .jpg, .jpeg, .bmp, .webp) directly in `dir`, by name.
// NOT_FOUND / INVALID_ARGUMENT naming the folder when it is missing or
// holds no image.
absl::StatusOr<std::vector<CaptionedImage>> ListImageFolder(const std::string& dir);

// [3, resolution, resolution] float in [-1, 1], RGB. INVALID_ARGUMENT naming
// the file when it does not decode, when its shorter side is below
// `min_side` (< 0: a quarter of the resolution, at least 32 px: smaller
// frames are thumbnails, not training data), or when the resolution is not
// a positive multiple of 8.
absl::StatusOr<at::Tensor> LoadTrainingImage(const std::string& path, int64_t resolution, int64_t min_side = -1);

// `templ` with {token}, {scale} and {caption} replaced; a trailing ", "
// left by an empty caption is dropped.
std::string FillPrompt(const std::string& templ, const std::string& token, const std::string& scale,
                       const std::string& caption);

struct PromptedImage {
  std::string path;
  std::string prompt;
};

struct EncodingReport {
  std::vector<std::string> skipped;  // "<path>: <reason>"
};

// VAE latents (a sample of the latent distribution drawn from `generator`,
// × scaling_factor) and text-encoder states of each image's prompt, under
// NoGradGuard. Images that do not load are skipped into `report`.
absl::StatusOr<std::vector<EncodedExample>> EncodeImages(models::vae::AutoencoderKL& vae,
                                                         const models::clip::ClipTokenizer& tokenizer,
                                                         models::clip::ClipTextModel& text_encoder,
                                                         const std::vector<PromptedImage>& images, int64_t resolution,
                                                         at::Generator& generator, EncodingReport* report);

}  // namespace dreamshot::trainer

#endif  // DREAMSHOT_TRAINER_INSTANCE_IMAGES_H_
