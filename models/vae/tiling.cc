#include "models/vae/tiling.h"

#include <torch/torch.h>

#include <algorithm>
#include <vector>

namespace dreamshot::models::vae {
namespace {

at::Tensor Blend(const at::Tensor& a, const at::Tensor& b, int64_t extent, int64_t dim) {
  const int64_t e = std::min({a.size(dim), b.size(dim), extent});
  if (e <= 0) return b;
  // Weights y / e for y in [0, e), computed in double like the upstream loop.
  std::vector<int64_t> shape(b.dim(), 1);
  shape[dim] = e;
  torch::Tensor w = (torch::arange(e, torch::dtype(torch::kDouble)) / static_cast<double>(e))
                        .view(shape)
                        .to(b.device());
  torch::Tensor one_minus_w = (1.0 - w).to(b.scalar_type());
  w = w.to(b.scalar_type());
  torch::Tensor out = b.clone();
  out.narrow(dim, 0, e).copy_(a.narrow(dim, a.size(dim) - e, e) * one_minus_w + b.narrow(dim, 0, e) * w);
  return out;
}

}  // namespace

at::Tensor BlendV(const at::Tensor& a, const at::Tensor& b, int64_t extent) { return Blend(a, b, extent, 2); }
at::Tensor BlendH(const at::Tensor& a, const at::Tensor& b, int64_t extent) { return Blend(a, b, extent, 3); }

at::Tensor TileAndBlend(const at::Tensor& input, const TileGeometry& g,
                        const std::function<at::Tensor(const at::Tensor&)>& fn) {
  TORCH_CHECK(g.input_tile > 0 && g.input_stride > 0 && g.output_tile > g.blend_extent, "bad tile geometry");
  const int64_t height = input.size(2), width = input.size(3);
  const int64_t row_limit = g.output_tile - g.blend_extent;
  std::vector<at::Tensor> previous_row, result_rows;
  for (int64_t i = 0; i < height; i += g.input_stride) {
    std::vector<at::Tensor> row, kept;
    for (int64_t j = 0, col = 0; j < width; j += g.input_stride, ++col) {
      const torch::Tensor in = input.narrow(2, i, std::min(g.input_tile, height - i))
                                   .narrow(3, j, std::min(g.input_tile, width - j));  // [B, C, ≤tile, ≤tile]
      torch::Tensor tile = fn(in);
      if (!previous_row.empty()) tile = BlendV(previous_row[col], tile, g.blend_extent);
      if (col > 0) tile = BlendH(row[col - 1], tile, g.blend_extent);
      row.push_back(tile);
      kept.push_back(tile.narrow(2, 0, std::min(row_limit, tile.size(2)))
                         .narrow(3, 0, std::min(row_limit, tile.size(3))));
    }
    result_rows.push_back(torch::cat(kept, 3));
    previous_row = std::move(row);
  }
  return torch::cat(result_rows, 2);
}

}  // namespace dreamshot::models::vae
