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
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "core/sha256.h"
#include "core/status_macros.h"
#include "trainer/derived_seed.h"

namespace dreamshot::trainer {
namespace fs = std::filesystem;

bool IsImageFileName(const std::string& path) {
  const std::string ext = absl::AsciiStrToLower(fs::path(path).extension().string());
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".webp";
}

namespace {

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
    if (entry.is_regular_file() && IsImageFileName(entry.path().string())) paths.push_back(entry.path());
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

absl::StatusOr<std::string> ReadImageBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError(absl::StrCat(path, ": not a readable image (cannot open it)"));
  std::stringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return absl::InvalidArgumentError(absl::StrCat(path, ": not a readable image (read failed)"));
  return bytes.str();
}

namespace {

uint64_t ImageStream(const std::string& sha256) {
  uint64_t stream = 0;
  (void)absl::SimpleHexAtoi(absl::string_view(sha256).substr(0, 16), &stream);
  return stream;
}

}  // namespace

absl::StatusOr<at::Tensor> DecodeTrainingImage(const std::string& bytes, const std::string& sha256,
                                               const std::string& path, int64_t resolution, int64_t min_side,
                                               const ImageTransform& transform, AppliedTransform* applied) {
  if (resolution <= 0 || resolution % 8 != 0) {
    return absl::InvalidArgumentError(absl::StrCat("resolution must be a positive multiple of 8, got ", resolution));
  }
  // IMREAD_COLOR applies a JPEG's EXIF orientation (IMREAD_IGNORE_ORIENTATION
  // would not), as PIL's exif_transpose does upstream; the test pins it.
  cv::Mat bgr;
  try {
    const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    bgr = cv::imdecode(raw, cv::IMREAD_COLOR);
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
  const int r = static_cast<int>(resolution);
  const double scale = static_cast<double>(resolution) / shorter;
  const int width = std::max(r, static_cast<int>(std::lround(bgr.cols * scale)));
  const int height = std::max(r, static_cast<int>(std::lround(bgr.rows * scale)));
  cv::Mat resized;
  cv::resize(bgr, resized, cv::Size(width, height), 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  AppliedTransform done;
  done.resized_width = width;
  done.resized_height = height;
  if (transform.random()) {
    at::Generator generator = at::detail::createCPUGenerator(DerivedSeed(transform.seed, ImageStream(sha256)));
    if (transform.crop == CropMode::kRandom) {  // torchvision's RandomCrop: the row, then the column
      done.top = torch::randint(0, height - r + 1, {1}, generator, torch::kLong).item<int64_t>();
      done.left = torch::randint(0, width - r + 1, {1}, generator, torch::kLong).item<int64_t>();
    }
    if (transform.random_flip) done.flipped = torch::rand({1}, generator).item<float>() < 0.5f;
  }
  if (transform.crop == CropMode::kCenter) {
    done.left = (width - r) / 2;
    done.top = (height - r) / 2;
  }
  cv::Mat square = resized(cv::Rect(static_cast<int>(done.left), static_cast<int>(done.top), r, r)).clone();
  if (done.flipped) cv::flip(square, square, /*flipCode=*/1);
  cv::Mat rgb;
  cv::cvtColor(square, rgb, cv::COLOR_BGR2RGB);
  if (applied != nullptr) *applied = done;
  at::Tensor pixels = torch::from_blob(rgb.data, {resolution, resolution, 3}, torch::kUInt8).clone();
  return pixels.permute({2, 0, 1}).to(torch::kFloat).div(127.5).sub(1.0);  // [3, R, R] in [-1, 1]
}

absl::StatusOr<at::Tensor> LoadTrainingImage(const std::string& path, int64_t resolution, int64_t min_side,
                                             const ImageTransform& transform, AppliedTransform* applied) {
  ASSIGN_OR_RETURN(const std::string bytes, ReadImageBytes(path));
  const std::string sha256 = transform.random() ? core::Sha256Hex(bytes) : std::string();
  return DecodeTrainingImage(bytes, sha256, path, resolution, min_side, transform, applied);
}

std::string FillPrompt(const std::string& templ, const std::string& token, const std::string& scale,
                       const std::string& caption) {
  std::string out = absl::StrReplaceAll(templ, {{"{token}", token}, {"{scale}", scale}, {"{caption}", caption}});
  absl::string_view view = absl::StripAsciiWhitespace(out);
  while (absl::ConsumeSuffix(&view, ",")) view = absl::StripTrailingAsciiWhitespace(view);
  return std::string(view);
}

}  // namespace dreamshot::trainer
