// EncodeImages (declared in instance_images.h): the VAE and text encoder
// over training images, through the encoding caches.
#include <torch/torch.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/encoding_cache.h"
#include "core/sha256.h"
#include "core/status_macros.h"
#include "trainer/instance_images.h"

namespace dreamshot::trainer {
namespace {

// Bumped whenever the pixels a file gives change (decoder, resize, crop), so
// old latent entries stop matching.
constexpr char kLatentVersion[] = "1";

// The caches and the fingerprints they key on, made when first needed.
class EncodeCaches {
 public:
  EncodeCaches(const EncodeOptions& options, models::vae::AutoencoderKL& vae, models::clip::ClipTextModel& text)
      : options_(options),
        vae_(vae),
        text_(text),
        latents_(options.cache_root, "latents"),
        texts_(options.cache_root, "text"),
        vae_fingerprint_(options.vae_fingerprint),
        text_fingerprint_(options.text_encoder_fingerprint) {}

  bool latents_on() const { return !options_.cache_root.empty() && options_.cache_latents; }
  bool text_on() const { return !options_.cache_root.empty() && options_.cache_text; }

  absl::StatusOr<core::CacheKeyParts> LatentKey(const std::string& image_sha256) {
    if (vae_fingerprint_.empty()) {
      ASSIGN_OR_RETURN(vae_fingerprint_, core::WeightsFingerprint(vae_.module()));
    }
    const ImageTransform& t = options_.transform;
    core::CacheKeyParts parts = {{"kind", "vae_latent_distribution"},
                                 {"version", kLatentVersion},
                                 {"image_sha256", image_sha256},
                                 {"vae_fingerprint", vae_fingerprint_},
                                 {"device", vae_.device_spec().ToString()},
                                 {"resolution", absl::StrCat(options_.resolution)},
                                 {"crop", t.crop == CropMode::kCenter ? "center" : "random"},
                                 {"random_flip", t.random_flip ? "1" : "0"}};
    if (t.random()) parts["transform_seed"] = absl::StrCat(t.seed);
    const models::vae::VaeTiling& tiling = vae_.tiling();
    if (tiling.enabled) parts["vae_tiling"] = absl::StrCat(vae_.tile_sample_size(), "/", tiling.overlap_factor);
    return parts;
  }
  core::CacheEntrySpec LatentSpec() const {
    const int64_t side = options_.resolution / vae_.config().downscale_factor();
    const std::vector<int64_t> shape = {1, vae_.config().latent_channels, side, side};
    return {{{"mean", shape}, {"logvar", shape}}, vae_.device_spec().dtype};
  }

  absl::StatusOr<core::CacheKeyParts> TextKey(const models::clip::TokenizedBatch& tokens) {
    if (text_fingerprint_.empty()) {
      ASSIGN_OR_RETURN(text_fingerprint_, core::WeightsFingerprint(text_.module()));
    }
    // Keyed by the token ids, not the prompt text: the ids are all the
    // encoder sees, so the tokenizer and its cleanup need no key of their own.
    return core::CacheKeyParts{{"kind", "text_encoder_last_hidden_state"},
                               {"text_encoder_fingerprint", text_fingerprint_},
                               {"device", text_.device_spec().ToString()},
                               {"input_ids", absl::StrJoin(tokens.input_ids, ",")}};
  }
  core::CacheEntrySpec TextSpec(int64_t seq_len) const {
    return {{{"text", {seq_len, text_.config().hidden_size}}}, c10::kFloat};
  }

  core::EncodingCache& latents() { return latents_; }
  core::EncodingCache& texts() { return texts_; }

  void Report(EncodingReport* report) const {
    if (report == nullptr) return;
    report->damaged_cache_entries += latents_.stats().damaged + texts_.stats().damaged;
    if (!vae_fingerprint_.empty()) report->vae_fingerprint = vae_fingerprint_;
    if (!text_fingerprint_.empty()) report->text_encoder_fingerprint = text_fingerprint_;
  }

 private:
  const EncodeOptions& options_;
  models::vae::AutoencoderKL& vae_;
  models::clip::ClipTextModel& text_;
  core::EncodingCache latents_, texts_;
  std::string vae_fingerprint_, text_fingerprint_;
};

void NoteWriteError(const absl::Status& status, EncodingReport* report) {
  if (!status.ok() && report != nullptr) report->cache_write_errors.push_back(std::string(status.message()));
}

std::map<std::string, std::string> TransformRecord(const AppliedTransform& t) {
  return {{"dreamshot.resized", absl::StrCat(t.resized_width, "x", t.resized_height)},
          {"dreamshot.crop_left_top", absl::StrCat(t.left, ",", t.top)},
          {"dreamshot.flipped", t.flipped ? "1" : "0"}};
}

// Reads back what TransformRecord wrote; fields that do not parse stay 0.
AppliedTransform TransformOfRecord(const std::map<std::string, std::string>& record) {
  AppliedTransform t;
  auto get = [&](const char* key) {
    auto it = record.find(key);
    return it == record.end() ? std::string() : it->second;
  };
  std::vector<std::string> size = absl::StrSplit(get("dreamshot.resized"), 'x');
  std::vector<std::string> crop = absl::StrSplit(get("dreamshot.crop_left_top"), ',');
  if (size.size() == 2) {
    (void)(absl::SimpleAtoi(size[0], &t.resized_width) && absl::SimpleAtoi(size[1], &t.resized_height));
  }
  if (crop.size() == 2) (void)(absl::SimpleAtoi(crop[0], &t.left) && absl::SimpleAtoi(crop[1], &t.top));
  t.flipped = get("dreamshot.flipped") == "1";
  return t;
}

// The image's latent distribution, from the cache or the VAE (then cached).
// An image that cannot be used is a status naming it.
absl::StatusOr<models::vae::LatentDistribution> LatentDistributionOf(const std::string& path,
                                                                     const std::string& bytes,
                                                                     const std::string& sha256,
                                                                     const EncodeOptions& options,
                                                                     models::vae::AutoencoderKL& vae,
                                                                     EncodeCaches& caches, EncodedImageRecord& record,
                                                                     EncodingReport* report) {
  std::optional<core::CacheKeyParts> key;
  if (caches.latents_on()) {
    ASSIGN_OR_RETURN(key, caches.LatentKey(sha256));
    if (std::optional<core::CacheEntry> hit = caches.latents().Find(*key, caches.LatentSpec())) {
      // The same device, dtype and ops as AutoencoderKL::Encode, so the
      // sample drawn from it matches an uncached run's bit for bit.
      const core::DeviceSpec& spec = vae.device_spec();
      models::vae::LatentDistribution dist;
      dist.mean = hit->tensors.at("mean").to(spec.device, spec.dtype);
      dist.logvar = hit->tensors.at("logvar").to(spec.device, spec.dtype);
      dist.std = torch::exp(0.5 * dist.logvar);
      record.transform = TransformOfRecord(hit->record);
      record.latents_cached = true;
      return dist;
    }
  }
  ASSIGN_OR_RETURN(at::Tensor pixels, DecodeTrainingImage(bytes, sha256, path, options.resolution, -1,
                                                          options.transform, &record.transform));
  ASSIGN_OR_RETURN(models::vae::LatentDistribution dist, vae.Encode(pixels.unsqueeze(0)));
  if (key.has_value()) {
    std::map<std::string, std::string> stored = TransformRecord(record.transform);
    stored["dreamshot.source_path"] = path;
    NoteWriteError(caches.latents().Store(*key,
                                          {{"mean", dist.mean.cpu().contiguous()},
                                           {"logvar", dist.logvar.cpu().contiguous()}},
                                          stored),
                   report);
  }
  return dist;
}

absl::StatusOr<at::Tensor> TextStatesOf(const std::string& prompt, const models::clip::ClipTokenizer& tokenizer,
                                        models::clip::ClipTextModel& text_encoder, EncodeCaches& caches,
                                        EncodedImageRecord& record, EncodingReport* report) {
  const models::clip::TokenizedBatch tokens = tokenizer.Tokenize({prompt});
  std::optional<core::CacheKeyParts> key;
  if (caches.text_on()) {
    ASSIGN_OR_RETURN(key, caches.TextKey(tokens));
    if (std::optional<core::CacheEntry> hit = caches.texts().Find(*key, caches.TextSpec(tokens.seq_len))) {
      record.text_cached = true;
      return hit->tensors.at("text");
    }
  }
  const at::Tensor ids = torch::tensor(tokens.input_ids, torch::kLong).view({tokens.batch_size, tokens.seq_len});
  ASSIGN_OR_RETURN(models::clip::ClipTextOutput text, text_encoder.Forward(ids));
  at::Tensor states = text.last_hidden_state[0].to(torch::kFloat).cpu().contiguous();
  if (key.has_value()) NoteWriteError(caches.texts().Store(*key, {{"text", states}}, {{"dreamshot.prompt", prompt}}), report);
  return states;
}

}  // namespace

absl::StatusOr<std::vector<EncodedExample>> EncodeImages(models::vae::AutoencoderKL& vae,
                                                         const models::clip::ClipTokenizer& tokenizer,
                                                         models::clip::ClipTextModel& text_encoder,
                                                         const std::vector<PromptedImage>& images,
                                                         const EncodeOptions& options, at::Generator& generator,
                                                         EncodingReport* report) {
  if (options.resolution <= 0 || options.resolution % 8 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("resolution must be a positive multiple of 8, got ", options.resolution));
  }
  torch::NoGradGuard no_grad;
  EncodeCaches caches(options, vae, text_encoder);
  std::vector<EncodedExample> out;
  int64_t skipped = 0;
  std::string first_skipped;
  for (const PromptedImage& image : images) {
    EncodedImageRecord record;
    record.path = image.path;
    absl::StatusOr<models::vae::LatentDistribution> dist = absl::UnknownError("unread");
    absl::StatusOr<std::string> bytes = ReadImageBytes(image.path);
    if (bytes.ok()) {
      record.sha256 = core::Sha256Hex(*bytes);
      dist = LatentDistributionOf(image.path, *bytes, record.sha256, options, vae, caches, record, report);
    }
    const absl::Status unusable = bytes.ok() ? dist.status() : bytes.status();
    if (!unusable.ok()) {
      // Only the image's own faults skip it; anything else (the VAE, the
      // cache) fails the encoding.
      if (unusable.code() != absl::StatusCode::kInvalidArgument) return unusable;
      if (skipped++ == 0) first_skipped = std::string(unusable.message());
      if (report != nullptr) report->skipped.push_back(std::string(unusable.message()));
      continue;
    }
    ASSIGN_OR_RETURN(at::Tensor latents, dist->Sample(generator));
    ASSIGN_OR_RETURN(at::Tensor text, TextStatesOf(image.prompt, tokenizer, text_encoder, caches, record, report));
    at::Tensor ids;
    if (options.input_ids) {
      const models::clip::TokenizedBatch tokens = tokenizer.Tokenize({image.prompt});
      ids = torch::tensor(tokens.input_ids, torch::kLong);
    }
    out.push_back({(latents[0] * vae.scaling_factor()).to(torch::kFloat).cpu(), std::move(text), std::move(ids)});
    if (report != nullptr) {
      if (caches.latents_on()) ++(record.latents_cached ? report->latent_hits : report->latent_misses);
      if (caches.text_on()) ++(record.text_cached ? report->text_hits : report->text_misses);
      report->encoded.push_back(std::move(record));
    }
  }
  caches.Report(report);
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("none of the ", images.size(), " images could be used",
                                                   skipped > 0 ? absl::StrCat(" (first: ", first_skipped, ")") : ""));
  }
  return out;
}

absl::StatusOr<std::vector<EncodedExample>> EncodeImages(models::vae::AutoencoderKL& vae,
                                                         const models::clip::ClipTokenizer& tokenizer,
                                                         models::clip::ClipTextModel& text_encoder,
                                                         const std::vector<PromptedImage>& images, int64_t resolution,
                                                         at::Generator& generator, EncodingReport* report) {
  EncodeOptions options;
  options.resolution = resolution;
  return EncodeImages(vae, tokenizer, text_encoder, images, options, generator, report);
}

}  // namespace dreamshot::trainer
