// Memory-lean inference for convolutions over large activations.
//
// oneDNN (LibTorch 1.13's CPU convolution) copies input and output to and
// from its blocked layout on every call, and the layer before a convolution
// usually materialises its input (GroupNorm + SiLU, nearest upsampling). At
// the SD VAE decoder's 512² level that is ~1 GB of temporaries around one
// convolution whose input and output are 268 and 134 MB: the peak of a 512²
// text-to-image run. BandedConv2d computes the convolution in bands of
// output rows: each band asks a row source for just the input rows it needs
// (GroupNorm with whole-tensor statistics + SiLU, or upsampling, applied to
// those rows only), convolves them with LibTorch and writes — or adds — the
// result into the output. Same arithmetic per output pixel; temporaries are
// band-sized. Inference only (autograd off), stride-1 "same" convolutions.
#ifndef DREAMSHOT_MODELS_BLOCKS_BANDED_CONV_H_
#define DREAMSHOT_MODELS_BLOCKS_BANDED_CONV_H_

#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/normalization.h>

#include <cstdint>
#include <functional>

namespace dreamshot::models {

// Input rows [r0, r1) of the convolution's input, [B, Cin, r1 - r0, W].
using ConvInputRows = std::function<at::Tensor(int64_t r0, int64_t r1)>;

struct BandedInput {
  ConvInputRows rows;
  int64_t batch = 0, channels = 0, height = 0, width = 0;  // of the whole input
  c10::TensorOptions options;
};

// True when `conv` on an input of this size should run banded: autograd off,
// CPU float32, stride 1, padding (k-1)/2, and an input of ≥ 64 MiB.
bool UseBandedConv(const torch::nn::Conv2dImpl& conv, const BandedInput& input);

// Output rows [y0, y1) of a tensor shaped like the convolution's output.
using ConvOutputRows = std::function<at::Tensor(int64_t y0, int64_t y1)>;

// conv(input) + residual, written band by band into `out` ([B, Cout, H, W];
// allocated when undefined). A band's residual rows are read before the band
// is written, so they may live in memory that `out` overwrites: `out`
// itself, or the same rows of a consumed input (see ResnetBlock2D).
at::Tensor BandedConv2d(torch::nn::Conv2dImpl& conv, const BandedInput& input, at::Tensor out = at::Tensor(),
                        const ConvOutputRows& residual = nullptr);

// Row sources.
BandedInput RowsOf(const at::Tensor& x);
// silu(norm(x)) with norm's statistics over all of x.
BandedInput GroupNormSiluRowsOf(torch::nn::GroupNormImpl& norm, const at::Tensor& x);
// Nearest upsampling of x by 2 in both directions.
BandedInput Upsample2xRowsOf(const at::Tensor& x);

}  // namespace dreamshot::models

#endif  // DREAMSHOT_MODELS_BLOCKS_BANDED_CONV_H_
