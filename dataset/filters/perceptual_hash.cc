#include "dataset/filters/perceptual_hash.h"

#include <algorithm>
#include <array>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/status_macros.h"
#include "dataset/filters/image_convert.h"

namespace dreamshot::dataset::filters {
namespace {

constexpr int kDctSize = 32;
constexpr int kBlock = 8;

}  // namespace

absl::StatusOr<uint64_t> PerceptualHash(const cv::Mat& image) {
  ASSIGN_OR_RETURN(const cv::Mat grey, ToGrey8(image));
  try {
    cv::Mat pixels, dct;
    AreaResize(grey, cv::Size(kDctSize, kDctSize)).convertTo(pixels, CV_32F);
    cv::dct(pixels, dct);  // orthonormal; scaling differs from scipy only on DC
    std::array<float, kBlock * kBlock> block;
    for (int r = 0; r < kBlock; ++r) {
      for (int c = 0; c < kBlock; ++c) block[r * kBlock + c] = dct.at<float>(r, c);
    }
    std::array<float, kBlock * kBlock - 1> ac;
    std::copy(block.begin() + 1, block.end(), ac.begin());
    // Median of 63 values: the 32nd smallest.
    std::nth_element(ac.begin(), ac.begin() + ac.size() / 2, ac.end());
    const float median = ac[ac.size() / 2];
    uint64_t hash = 0;
    for (int i = 1; i < kBlock * kBlock; ++i) {
      if (block[i] > median) hash |= uint64_t{1} << i;
    }
    return hash;
  } catch (const cv::Exception& e) {
    return FromCvException(e, absl::StrCat("pHash of ", DescribeImage(image)));
  }
}

absl::StatusOr<uint64_t> DifferenceHash(const cv::Mat& image) {
  ASSIGN_OR_RETURN(const cv::Mat grey, ToGrey8(image));
  try {
    const cv::Mat small = AreaResize(grey, cv::Size(kBlock + 1, kBlock));
    uint64_t hash = 0;
    for (int r = 0; r < kBlock; ++r) {
      const uint8_t* row = small.ptr<uint8_t>(r);
      for (int c = 0; c < kBlock; ++c) {
        if (row[c + 1] > row[c]) hash |= uint64_t{1} << (r * kBlock + c);
      }
    }
    return hash;
  } catch (const cv::Exception& e) {
    return FromCvException(e, absl::StrCat("dHash of ", DescribeImage(image)));
  }
}

std::string HashToHex(uint64_t hash) { return absl::StrFormat("%016x", hash); }

absl::StatusOr<uint64_t> HashFromHex(absl::string_view hex) {
  uint64_t hash = 0;
  bool ok = hex.size() == 16;
  for (size_t i = 0; ok && i < hex.size(); ++i) {
    const char ch = hex[i];
    int digit = -1;
    if (ch >= '0' && ch <= '9') digit = ch - '0';
    if (ch >= 'a' && ch <= 'f') digit = ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') digit = ch - 'A' + 10;
    ok = digit >= 0;
    hash = (hash << 4) | static_cast<uint64_t>(digit & 0xf);
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("perceptual hash \"", hex, "\" is not 16 hex digits"));
  }
  return hash;
}

}  // namespace dreamshot::dataset::filters
