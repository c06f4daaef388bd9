// 2-D convolution forward that picks the faster CPU algorithm per shape.
//
// LibTorch 1.13 runs float32 CPU convolutions through oneDNN, which reorders
// the weight, the input and the output between PyTorch's NCHW and its
// blocked layout on every call. When the weight is much larger than the
// activation (1280-channel 3×3 convolutions on 8×8 latents: 59 MB of weight,
// 0.6 MB of input) the weight reorder costs as much as the arithmetic; an
// im2col of the batch and one GEMM against the weight as stored does not pay
// it (bench/conv_benchmark: 72 → 32 ms at 8², batch 2). Everything else,
// CUDA and other dtypes included, goes to conv->forward: channels-last and
// pre-reordered oneDNN weights measured slower for large activations, and a
// banded im2col + GEMM into the NCHW output (tried for the VAE decoder's
// 512² level: no activation-sized temporaries) was 20% slower than oneDNN.
#ifndef DREAMSHOT_MODELS_BLOCKS_CONV_H_
#define DREAMSHOT_MODELS_BLOCKS_CONV_H_

#include <torch/nn/modules/conv.h>

namespace dreamshot::models {

enum class Conv2dAlgorithm {
  kLibTorch,   // conv->forward (oneDNN on the CPU)
  kBatchGemm,  // im2col of the whole batch + one GEMM (autograd-capable)
};

// What Conv2dForward uses for this input.
Conv2dAlgorithm ChooseConv2dAlgorithm(const torch::nn::Conv2dImpl& conv, const torch::Tensor& x);

// Same result as conv->forward(x).
torch::Tensor Conv2dForward(torch::nn::Conv2dImpl& conv, const torch::Tensor& x);

// With a given algorithm (tests, benchmarks); falls back to conv->forward
// where the algorithm does not apply.
torch::Tensor Conv2dForwardWith(Conv2dAlgorithm algorithm, torch::nn::Conv2dImpl& conv, const torch::Tensor& x);

}  // namespace dreamshot::models

#endif  // DREAMSHOT_MODELS_BLOCKS_CONV_H_
