#include "trainer/instance_images.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "core/status_macros.h"

namespace dreamshot::trainer {
namespace fs = std::filesystem;

namespace {

bool IsImage(const fs::path& p) {
  const std::string ext = absl::AsciiStrToLower(p.extension().string());
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".webp";
}

std::string ReadCaption(const fs::path& image) {
  fs::path txt = image;
  txt.replace_extension(".txt");
  std::ifstream in(txt);
  if (!in) return "";
  std::stringstream text;
  text << in.rdbuf();
  return std::string(absl::StripAsciiWhitespace(text.str()));
}

}  // namespace

absl::StatusOr<std::vector<CaptionedImage>> ListImageFolder(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return absl::NotFoundError(absl::StrCat("instance images: no folder ", dir));
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_regular_file() && IsImage(entry.path())) paths.push_back(entry.path());
  }
  if (ec) return absl::InvalidArgumentError(absl::StrCat("instance images: cannot list ", dir, ": ", ec.message()));
  if (paths.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("instance images: ", dir, " holds no image (.png, .jpg, .jpeg, .bmp, .webp)"));
  }
  std::sort(paths.begin(), paths.end());
  std::vector<CaptionedImage> out;
  for (const fs::path& p : paths) out.push_back({p.string(), ReadCaption(p)});
  return out;
}

absl::StatusOr<at::Tensor> LoadTrainingImage(const std::string& path, int64_t resolution, int64_t min_side) {
  if (resolution <= 0 || resolution % 8 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("resolution must be a positive multiple of 8, got ", resolution));
  }
  // IMREAD_COLOR applies the EXIF orientation, as PIL's exif_transpose.
  cv::Mat bgr;
  try {
    bgr = cv::imread(path, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a readable image (", e.what(), ")"));
  }
  if (bgr.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": not a readable image"));
  if (min_side < 0) min_side = std::max<int64_t>(32, resolution / 4);
  const int shorter = std::min(bgr.cols, bgr.rows);
  if (shorter < min_side) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", bgr.cols, "x", bgr.rows, " is too small (the shorter ",
                                                   "side must be at least ", min_side, " px)"));
  }
  // Shorter side to the resolution, then the centre square.
  const double scale = static_cast<double>(resolution) / shorter;
  const int width = std::max<int>(resolution, static_cast<int>(std::lround(bgr.cols * scale)));
  const int height = std::max<int>(resolution, static_cast<int>(std::lround(bgr.rows * scale)));
  cv::Mat resized;
  cv::resize(bgr, resized, cv::Size(width, height), 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  const int left = (width - static_cast<int>(resolution)) / 2, top = (height - static_cast<int>(resolution)) / 2;
  cv::Mat square = resized(cv::Rect(left, top, static_cast<int>(resolution), static_cast<int>(resolution))).clone();
  cv::Mat rgb;
  cv::cvtColor(square, rgb, cv::COLOR_BGR2RGB);
  at::Tensor pixels = torch::from_blob(rgb.data, {resolution, resolution, 3}, torch::kUInt8).clone();
  return pixels.permute({2, 0, 1}).to(torch::kFloat).div(127.5).sub(1.0);  // [3, R, R] in [-1, 1]
}

std::string FillPrompt(const std::string& templ, const std::string& token, const std::string& scale,
                       const std::string& caption) {
  std::string out = absl::StrReplaceAll(templ, {{"{token}", token}, {"{scale}", scale}, {"{caption}", caption}});
  absl::string_view view = absl::StripAsciiWhitespace(out);
  while (absl::ConsumeSuffix(&view, ",")) view = absl::StripTrailingAsciiWhitespace(view);
  return std::string(view);
}

absl::StatusOr<std::vector<EncodedExample>> EncodeImages(models::vae::AutoencoderKL& vae,
                                                         const models::clip::ClipTokenizer& tokenizer,
                                                         models::clip::ClipTextModel& text_encoder,
                                                         const std::vector<PromptedImage>& images, int64_t resolution,
                                                         at::Generator& generator, EncodingReport* report) {
  torch::NoGradGuard no_grad;
  std::vector<EncodedExample> out;
  for (const PromptedImage& image : images) {
    absl::StatusOr<at::Tensor> pixels = LoadTrainingImage(image.path, resolution);
    if (!pixels.ok()) {
      if (report != nullptr) report->skipped.push_back(std::string(pixels.status().message()));
      continue;
    }
    ASSIGN_OR_RETURN(models::vae::LatentDistribution dist, vae.Encode(pixels->unsqueeze(0)));
    ASSIGN_OR_RETURN(at::Tensor latents, dist.Sample(generator));
    const models::clip::TokenizedBatch tokens = tokenizer.Tokenize({image.prompt});
    const at::Tensor ids = torch::tensor(tokens.input_ids, torch::kLong).view({tokens.batch_size, tokens.seq_len});
    ASSIGN_OR_RETURN(models::clip::ClipTextOutput text, text_encoder.Forward(ids));
    out.push_back({(latents[0] * vae.scaling_factor()).to(torch::kFloat).cpu(),
                   text.last_hidden_state[0].to(torch::kFloat).cpu()});
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("none of the ", images.size(), " images could be used",
                                                   report != nullptr && !report->skipped.empty()
                                                       ? absl::StrCat(" (first: ", report->skipped.front(), ")")
                                                       : ""));
  }
  return out;
}

}  // namespace dreamshot::trainer
