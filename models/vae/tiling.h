// Overlapping-tile processing with linear seam blending, as diffusers'
// AutoencoderKL.tiled_encode / tiled_decode do it. Pure tensor code.
#ifndef DREAMSHOT_MODELS_VAE_TILING_H_
#define DREAMSHOT_MODELS_VAE_TILING_H_

#include <ATen/core/Tensor.h>

#include <functional>

namespace dreamshot::models::vae {

// diffusers blend_v / blend_h: the first e = min(a.size, b.size, extent)
// rows (V, dim 2) or columns (H, dim 3) of `b` become
// a[-e + y] · (1 - y/e) + b[y] · (y/e). Returns the blended copy of b.
at::Tensor BlendV(const at::Tensor& a, const at::Tensor& b, int64_t extent);
at::Tensor BlendH(const at::Tensor& a, const at::Tensor& b, int64_t extent);

struct TileGeometry {
  int64_t input_tile = 0;    // tile edge in input pixels
  int64_t input_stride = 0;  // input_tile · (1 - overlap)
  int64_t output_tile = 0;   // nominal tile edge in output pixels
  int64_t blend_extent = 0;  // output_tile · overlap
};

// Runs fn on input[:, :, i:i+input_tile, j:j+input_tile] for i, j stepping by
// input_stride, blends each tile with its upper and left neighbours (after
// those were blended themselves) and keeps its first output_tile -
// blend_extent rows/columns; the kept parts are concatenated. Only the
// previous row of tile outputs is held at any time.
at::Tensor TileAndBlend(const at::Tensor& input, const TileGeometry& geometry,
                        const std::function<at::Tensor(const at::Tensor&)>& fn);

}  // namespace dreamshot::models::vae

#endif  // DREAMSHOT_MODELS_VAE_TILING_H_
