// Upper bounds a model config's sizes are checked against before anything
// is allocated from them. Generous: the largest published SD-family
// networks use 1280-2048 channels, 4 blocks and 10 transformer layers per
// block; the bounds stop a typo or a hostile config.json (channels of 1e9)
// from sizing a tensor, not any real architecture.
#ifndef DREAMSHOT_MODELS_CONFIG_LIMITS_H_
#define DREAMSHOT_MODELS_CONFIG_LIMITS_H_

#include <cstdint>

namespace dreamshot::models {

// Channel counts, hidden sizes, cross_attention_dim, group counts.
inline constexpr int64_t kMaxChannels = 16384;
// In/out/latent channels of an image or latent (SD: 3 and 4; inpainting: 9).
inline constexpr int64_t kMaxImageChannels = 64;
// Entries of block_out_channels (each block halves the resolution).
inline constexpr int64_t kMaxBlocks = 8;
// Resnets per block and transformer layers per block (SD: 2 and 1, SDXL:
// up to 10). Also bounds the work of listing the expected tensors.
inline constexpr int64_t kMaxLayersPerBlock = 16;
// CLIP encoder layers (SD: 12, OpenCLIP bigG: 32).
inline constexpr int64_t kMaxTextLayers = 64;
// Convolution kernel sizes.
inline constexpr int64_t kMaxKernel = 15;
// CLIP vocabulary and positions; the MLP width.
inline constexpr int64_t kMaxVocabulary = 1'000'000;
inline constexpr int64_t kMaxPositions = 65536;
inline constexpr int64_t kMaxIntermediate = 4 * kMaxChannels;
// Input side of a vision transformer (CLIP, ViT: 224 or 336) and its patch.
inline constexpr int64_t kMaxImageSide = 4096;

}  // namespace dreamshot::models

#endif  // DREAMSHOT_MODELS_CONFIG_LIMITS_H_
