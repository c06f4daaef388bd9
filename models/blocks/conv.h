// 2-D convolution forward that picks the faster CPU algorithm per shape.
//
// LibTorch 1.13 runs float32 CPU convolutions through oneDNN, which reorders
// the weight into its blocked layout on every call. When the weight is much
// larger than the activation (1280-channel 3×3 convolutions on 8×8 latents:
// 59 MB of weight, 0.6 MB of input) that reorder costs as much as the
// arithmetic; an im2col of the batch and one BLAS GEMM against the weight as
// stored does not pay it (bench/conv_benchmark: 72 → 32 ms for 1280 ch at
// 8², batch 2). Every other case, CUDA included, goes to conv->forward.
#ifndef DREAMSHOT_MODELS_BLOCKS_CONV_H_
#define DREAMSHOT_MODELS_BLOCKS_CONV_H_

#include <torch/nn/modules/conv.h>

namespace dreamshot::models {

// Same result as conv->forward(x) (zero padding, any stride).
torch::Tensor Conv2dForward(torch::nn::Conv2dImpl& conv, const torch::Tensor& x);

// True when Conv2dForward uses im2col + GEMM for this input (for tests).
bool Conv2dUsesGemm(const torch::nn::Conv2dImpl& conv, const torch::Tensor& x);

}  // namespace dreamshot::models

#endif  // DREAMSHOT_MODELS_BLOCKS_CONV_H_
