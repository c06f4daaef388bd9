// Training images from a folder, as diffusers' DreamBoothDataset reads
// them: each image with the caption in a `<stem>.txt` beside it, resized so
// its shorter side is the resolution and cropped to a square (centre or
// seeded random, optionally flipped), in [-1, 1]. Prompts come from templates with {token}, {scale} and {caption}
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

// Whether the name ends in .png, .jpg, .jpeg, .bmp or .webp (any case).
bool IsImageFileName(const std::string& path);

// The images (.png, .jpg, .jpeg, .bmp, .webp) directly in `dir`, by name.
// NOT_FOUND / INVALID_ARGUMENT naming the folder when it is missing or
// holds no image.
absl::StatusOr<std::vector<CaptionedImage>> ListImageFolder(const std::string& dir);

// How a training image becomes a square: resized so its shorter side is
// the resolution, then the centre square (diffusers' --center_crop) or a
// random square (its default RandomCrop), optionally mirrored left-right
// with probability 1/2 (--random_flip). The random choices come from a CPU
// generator seeded with DerivedSeed(seed, the image's SHA-256), drawn as
// torchvision draws them (top, then left, then the flip): an image gets the
// same crop and flip in every run with that seed, whatever its name or
// position in the list, so a resumed run, which encodes again, trains on
// what the interrupted one did. Crops are chosen once per run, when the
// images are encoded, not once per epoch as upstream's data loader does:
// the latents are encoded (and cached) once.
enum class CropMode { kCenter, kRandom };

struct ImageTransform {
  CropMode crop = CropMode::kCenter;
  bool random_flip = false;
  uint64_t seed = 0;
  bool random() const { return crop == CropMode::kRandom || random_flip; }
};

// What the transform did to one image, for the run's record.
struct AppliedTransform {
  int64_t resized_width = 0, resized_height = 0;  // before the crop
  int64_t left = 0, top = 0;                      // of the crop
  bool flipped = false;
};

// [3, resolution, resolution] float in [-1, 1], RGB, with the EXIF
// orientation of JPEGs applied (OpenCV's decoder does, as PIL's
// exif_transpose does upstream). INVALID_ARGUMENT naming the file when it
// does not decode, when its shorter side is below `min_side` (< 0: a
// quarter of the resolution, at least 32 px: smaller frames are
// thumbnails, not training data), or when the resolution is not a positive
// multiple of 8.
absl::StatusOr<at::Tensor> LoadTrainingImage(const std::string& path, int64_t resolution, int64_t min_side = -1,
                                             const ImageTransform& transform = {},
                                             AppliedTransform* applied = nullptr);

// The file's bytes; INVALID_ARGUMENT naming it when it cannot be read.
absl::StatusOr<std::string> ReadImageBytes(const std::string& path);
// LoadTrainingImage on bytes already read (EncodeImages hashes them too);
// `sha256` is theirs and seeds the random crop and flip (unused without).
absl::StatusOr<at::Tensor> DecodeTrainingImage(const std::string& bytes, const std::string& sha256,
                                               const std::string& path, int64_t resolution, int64_t min_side,
                                               const ImageTransform& transform, AppliedTransform* applied);

// `templ` with {token}, {scale} and {caption} replaced; a trailing ", "
// left by an empty caption is dropped.
std::string FillPrompt(const std::string& templ, const std::string& token, const std::string& scale,
                       const std::string& caption);

struct PromptedImage {
  std::string path;
  std::string prompt;
};

struct EncodeOptions {
  int64_t resolution = 512;
  ImageTransform transform;
  // Where the latent and text-state caches live (core/encoding_cache.h);
  // "" caches nothing. Text states may be cached whenever the text encoder
  // is frozen, which it is here (EncodeImages runs it without gradients);
  // a caller training the text encoder re-encodes prompts itself.
  std::string cache_root;
  bool cache_latents = true;
  bool cache_text = true;
  // Also give each example its prompt's token ids (EncodedExample::input_ids),
  // which a run training the text encoder re-encodes every step.
  bool input_ids = false;
  // core::WeightsFingerprint of the VAE and the text encoder; computed when
  // empty and a cache needs it. Pass them when encoding several image
  // sets with one model, so the weights are hashed once.
  std::string vae_fingerprint, text_encoder_fingerprint;
};

// One encoded image, for the run's record.
struct EncodedImageRecord {
  std::string path;
  std::string sha256;  // of the file
  AppliedTransform transform;
  bool latents_cached = false, text_cached = false;  // read from the cache
};

// Appended to by each EncodeImages call (a run encodes its instance and its
// class images into one report).
struct EncodingReport {
  std::vector<std::string> skipped;  // "<path>: <reason>"
  std::vector<EncodedImageRecord> encoded;
  // Encoded images whose latents / text states came from the cache (hits)
  // or were computed and stored (misses); 0 without a cache.
  int64_t latent_hits = 0, latent_misses = 0, text_hits = 0, text_misses = 0;
  int64_t damaged_cache_entries = 0;  // unusable entries met (and rewritten)
  // A cache entry that could not be written (e.g. a full disk) does not
  // stop the encoding: "<file>: <reason>".
  std::vector<std::string> cache_write_errors;
  std::string vae_fingerprint, text_encoder_fingerprint;  // when a cache used them
};

// VAE latents (a sample of the latent distribution drawn from `generator`,
// × scaling_factor) and text-encoder states of each image's prompt, under
// NoGradGuard, in the order of `images`. Images that do not load are
// skipped into `report`. With a cache root, the latent distribution of an
// (image bytes, VAE weights, device/dtype, resolution, transform) and the
// states of a (token ids, text-encoder weights, device/dtype) are read
// from the cache when there and written to it when not; the generator
// draws the same numbers either way, so the examples are bit-identical to
// an uncached encoding with the same generator state.
absl::StatusOr<std::vector<EncodedExample>> EncodeImages(models::vae::AutoencoderKL& vae,
                                                         const models::clip::ClipTokenizer& tokenizer,
                                                         models::clip::ClipTextModel& text_encoder,
                                                         const std::vector<PromptedImage>& images,
                                                         const EncodeOptions& options, at::Generator& generator,
                                                         EncodingReport* report);

// The above with a centre crop, no flip and no cache.
absl::StatusOr<std::vector<EncodedExample>> EncodeImages(models::vae::AutoencoderKL& vae,
                                                         const models::clip::ClipTokenizer& tokenizer,
                                                         models::clip::ClipTextModel& text_encoder,
                                                         const std::vector<PromptedImage>& images, int64_t resolution,
                                                         at::Generator& generator, EncodingReport* report);

}  // namespace dreamshot::trainer

#endif  // DREAMSHOT_TRAINER_INSTANCE_IMAGES_H_
