#include "models/blocks/banded_conv.h"

#include <torch/torch.h>

#include <algorithm>

namespace dreamshot::models {
namespace {

constexpr int64_t kMinInputBytes = int64_t{64} << 20;
// Input bytes per band: big enough for oneDNN to run at full speed.
constexpr int64_t kBandInputBytes = int64_t{8} << 20;

}  // namespace

bool UseBandedConv(const torch::nn::Conv2dImpl& conv, const BandedInput& input) {
  if (torch::GradMode::is_enabled() || input.options.device().type() != c10::kCPU ||
      c10::typeMetaToScalarType(input.options.dtype()) != torch::kFloat) {
    return false;
  }
  const auto& o = conv.options;
  const auto* padding = c10::get_if<torch::ExpandingArray<2>>(&o.padding());
  if (padding == nullptr || o.groups() != 1 ||
      !c10::holds_alternative<torch::enumtype::kZeros>(o.padding_mode())) {
    return false;
  }
  for (int i = 0; i < 2; ++i) {
    if ((*o.stride())[i] != 1 || (*o.dilation())[i] != 1 || (**padding)[i] * 2 + 1 != (*o.kernel_size())[i]) {
      return false;
    }
  }
  return input.batch * input.channels * input.height * input.width * int64_t{4} >= kMinInputBytes;
}

at::Tensor BandedConv2d(torch::nn::Conv2dImpl& conv, const BandedInput& input, at::Tensor out,
                        const ConvOutputRows& residual) {
  const auto& o = conv.options;
  const int64_t pad_h = (**c10::get_if<torch::ExpandingArray<2>>(&o.padding()))[0];
  const int64_t pad_w = (**c10::get_if<torch::ExpandingArray<2>>(&o.padding()))[1];
  const int64_t height = input.height;
  if (!out.defined()) out = torch::empty({input.batch, o.out_channels(), height, input.width}, input.options);
  const int64_t row_bytes = input.batch * input.channels * input.width * 4;
  const int64_t band = std::clamp<int64_t>(kBandInputBytes / std::max<int64_t>(row_bytes, 1), 1, height);
  for (int64_t y0 = 0; y0 < height; y0 += band) {
    const int64_t y1 = std::min(height, y0 + band);
    // Output rows [y0, y1) read input rows [y0 - pad, y1 + pad); outside the
    // image those are the convolution's zero padding.
    const int64_t r0 = std::max<int64_t>(0, y0 - pad_h), r1 = std::min(height, y1 + pad_h);
    at::Tensor rows = input.rows(r0, r1);
    const int64_t top = r0 - (y0 - pad_h), bottom = (y1 + pad_h) - r1;
    if (top > 0 || bottom > 0) rows = torch::constant_pad_nd(rows, {0, 0, top, bottom}, 0);
    at::Tensor result =
        torch::conv2d(rows, conv.weight, conv.bias, /*stride=*/1, /*padding=*/at::IntArrayRef{0, pad_w});
    if (residual) result.add_(residual(y0, y1));
    out.narrow(2, y0, y1 - y0).copy_(result);
  }
  return out;
}

BandedInput RowsOf(const at::Tensor& x) {
  return {[x](int64_t r0, int64_t r1) { return x.narrow(2, r0, r1 - r0); }, x.size(0), x.size(1), x.size(2),
          x.size(3), x.options()};
}

BandedInput GroupNormSiluRowsOf(torch::nn::GroupNormImpl& norm, const at::Tensor& x) {
  const int64_t b = x.size(0), c = x.size(1), groups = norm.options.num_groups();
  // Statistics over (C/G, H, W) per sample and group, as GroupNorm; the
  // per-channel scale and shift fold in the affine parameters.
  auto [var, mean] = torch::var_mean(x.reshape({b, groups, -1}), /*dim=*/{2}, /*unbiased=*/false);
  const at::Tensor rstd = (var + norm.options.eps()).rsqrt();                          // [B, G]
  const at::Tensor per_channel_rstd = rstd.repeat_interleave(c / groups, 1);          // [B, C]
  const at::Tensor per_channel_mean = mean.repeat_interleave(c / groups, 1);
  at::Tensor scale = per_channel_rstd, shift = -per_channel_mean * per_channel_rstd;
  if (norm.options.affine()) {
    scale = scale * norm.weight;
    shift = shift * norm.weight + norm.bias;
  }
  scale = scale.view({b, c, 1, 1});
  shift = shift.view({b, c, 1, 1});
  return {[x, scale, shift](int64_t r0, int64_t r1) {
            at::Tensor rows = torch::addcmul(shift, x.narrow(2, r0, r1 - r0), scale);
            torch::silu_(rows);
            return rows;
          },
          b, c, x.size(2), x.size(3), x.options()};
}

BandedInput Upsample2xRowsOf(const at::Tensor& x) {
  return {[x](int64_t r0, int64_t r1) {
            // Upsampled row y is source row y / 2.
            const int64_t s0 = r0 / 2, s1 = (r1 + 1) / 2;
            const at::Tensor src = x.narrow(2, s0, s1 - s0).contiguous();
            const at::Tensor up = torch::upsample_nearest2d(src, {2 * (s1 - s0), 2 * x.size(3)});
            return up.narrow(2, r0 - 2 * s0, r1 - r0);
          },
          x.size(0), x.size(1), 2 * x.size(2), 2 * x.size(3), x.options()};
}

}  // namespace dreamshot::models
