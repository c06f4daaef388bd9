#include "dataset/filters/image_convert.h"

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"

namespace dreamshot::dataset::filters {
namespace {

const char* DepthName(int depth) {
  switch (depth) {
    case CV_8U:
      return "8U";
    case CV_8S:
      return "8S";
    case CV_16U:
      return "16U";
    case CV_16S:
      return "16S";
    case CV_32S:
      return "32S";
    case CV_32F:
      return "32F";
    case CV_64F:
      return "64F";
    default:
      return "16F";
  }
}

// Scales 16-bit to 8-bit; 8-bit passes through.
cv::Mat To8Bit(const cv::Mat& image) {
  if (image.depth() == CV_8U) return image;
  cv::Mat out;
  image.convertTo(out, CV_8U, 255.0 / 65535.0);
  return out;
}

}  // namespace

std::string DescribeImage(const cv::Mat& image) {
  return absl::StrCat(image.cols, "x", image.rows, " ", DepthName(image.depth()), "C",
                      image.channels());
}

cv::Mat AreaResize(const cv::Mat& image, cv::Size size, int min_final_ratio) {
  if (image.size() == size) return image;
  if (image.cols < size.width || image.rows < size.height) {
    cv::Mat out;
    cv::resize(image, out, size, 0, 0, cv::INTER_LINEAR);
    return out;
  }
  cv::Mat current = image;
  const int ratio = std::max(1, min_final_ratio);
  while (current.cols / 2 >= ratio * size.width && current.rows / 2 >= ratio * size.height) {
    cv::Mat half;
    const cv::Mat even = current(cv::Rect(0, 0, current.cols & ~1, current.rows & ~1));
    cv::resize(even, half, cv::Size(even.cols / 2, even.rows / 2), 0, 0, cv::INTER_AREA);
    current = half;
  }
  if (current.size() == size) return current;
  cv::Mat out;
  cv::resize(current, out, size, 0, 0, cv::INTER_AREA);
  return out;
}

absl::Status CheckSupported(const cv::Mat& image) {
  if (image.empty()) return absl::InvalidArgumentError("image is empty");
  if (image.dims != 2) {
    return absl::InvalidArgumentError(absl::StrCat("image has ", image.dims, " dimensions, not 2"));
  }
  if (image.depth() != CV_8U && image.depth() != CV_16U) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported depth in ", DescribeImage(image),
                                                   ": expected 8-bit or 16-bit unsigned"));
  }
  const int channels = image.channels();
  if (channels != 1 && channels != 3 && channels != 4) {
    return absl::InvalidArgumentError(absl::StrCat("unsupported channel count ", channels, " in ",
                                                   DescribeImage(image),
                                                   ": expected 1 (grey), 3 (BGR) or 4 (BGRA)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<cv::Mat> ToGrey8(const cv::Mat& image) {
  if (absl::Status s = CheckSupported(image); !s.ok()) return s;
  try {
    cv::Mat eight = To8Bit(image);
    if (eight.channels() == 1) return eight;
    cv::Mat grey;
    cv::cvtColor(eight, grey, eight.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
    return grey;
  } catch (const cv::Exception& e) {
    return FromCvException(e, absl::StrCat("grey conversion of ", DescribeImage(image)));
  }
}

absl::StatusOr<cv::Mat> ToBgr8(const cv::Mat& image) {
  if (absl::Status s = CheckSupported(image); !s.ok()) return s;
  try {
    cv::Mat eight = To8Bit(image);
    if (eight.channels() == 3) return eight;
    cv::Mat bgr;
    cv::cvtColor(eight, bgr, eight.channels() == 4 ? cv::COLOR_BGRA2BGR : cv::COLOR_GRAY2BGR);
    return bgr;
  } catch (const cv::Exception& e) {
    return FromCvException(e, absl::StrCat("BGR conversion of ", DescribeImage(image)));
  }
}

absl::Status FromCvException(const cv::Exception& e, absl::string_view context) {
  return absl::InternalError(absl::StrCat(context, ": OpenCV error: ", e.what()));
}

}  // namespace dreamshot::dataset::filters
