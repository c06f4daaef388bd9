// 64-bit perceptual hashes for near-duplicate keyframes: the same frame
// re-encoded, rescaled or slightly regraded hashes to nearly the same bits,
// different pictures to ~32 differing bits (hash_index.h finds the near ones).
//
// pHash (as imagehash.phash): luma, area-averaged to 32×32 (AreaResize; an
// average, so the hash ignores resolution and noise), 2-D DCT-II, the
// top-left 8×8 block of lowest frequencies; bit 8·r + c (r, c in 0..7, bit 0
// the least significant) is set when coefficient (r, c) is above the median
// of the block's 63 AC coefficients. DC (bit 0, always 0) is left out of the
// median and the bits: it is the mean brightness, not structure, so a
// brightened copy keeps its hash. imagehash includes DC in its median and
// its DC bit is always 1; the other 63 bits follow the same rule.
//
// dHash (as imagehash.dhash): luma area-averaged to 9×8; bit 8·r + c is set
// when pixel (r, c + 1) is brighter than pixel (r, c). No DCT, but on a
// keyframe both cost the same (the luma conversion and the shrink dominate);
// slightly less robust to regrading (see perceptual_hash_test.cc).
#ifndef DREAMSHOT_DATASET_FILTERS_PERCEPTUAL_HASH_H_
#define DREAMSHOT_DATASET_FILTERS_PERCEPTUAL_HASH_H_

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::dataset::filters {

// INVALID_ARGUMENT for unsupported images (image_convert.h).
absl::StatusOr<uint64_t> PerceptualHash(const cv::Mat& image);
absl::StatusOr<uint64_t> DifferenceHash(const cv::Mat& image);

// Number of differing bits, 0–64.
inline int HammingDistance(uint64_t a, uint64_t b) {
  const uint64_t x = a ^ b;
#if defined(__POPCNT__) || !defined(__x86_64__)
  return __builtin_popcountll(x);  // one instruction (x86 with -mpopcnt, ARM)
#else
  // Baseline x86-64 has no popcnt instruction and __builtin_popcountll
  // becomes a libgcc call; this bit-parallel count is 2× faster than that
  // (popcnt itself another 2×: build with --copt=-mpopcnt to use it).
  uint64_t v = x - ((x >> 1) & 0x5555555555555555ULL);
  v = (v & 0x3333333333333333ULL) + ((v >> 2) & 0x3333333333333333ULL);
  v = (v + (v >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return static_cast<int>((v * 0x0101010101010101ULL) >> 56);
#endif
}

// 16 lower-case hex digits, most significant first (as stored and logged).
std::string HashToHex(uint64_t hash);
// INVALID_ARGUMENT unless exactly 16 hex digits.
absl::StatusOr<uint64_t> HashFromHex(absl::string_view hex);

}  // namespace dreamshot::dataset::filters

#endif  // DREAMSHOT_DATASET_FILTERS_PERCEPTUAL_HASH_H_
