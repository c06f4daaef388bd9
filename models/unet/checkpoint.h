// Gradient checkpointing for LibTorch C++, which has no
// torch.utils.checkpoint: a custom autograd Function runs a block without
// recording its graph (activations are freed) and, in backward, re-runs the
// block with grad enabled on the saved inputs and back-propagates through the
// recomputed graph. Gradients flow to the block's inputs and to the block's
// parameters that require grad (they are passed to the Function as extra
// inputs, so the node exists even when no activation requires grad, e.g. in
// LoRA training where only adapter weights do).
//
// The block must be deterministic (no dropout/RNG in training mode), as it is
// run twice.
#ifndef DREAMSHOT_MODELS_UNET_CHECKPOINT_H_
#define DREAMSHOT_MODELS_UNET_CHECKPOINT_H_

#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

namespace torch::nn {
class Module;
}

namespace dreamshot::models::unet {

using BlockFn = std::function<at::Tensor(const std::vector<at::Tensor>&)>;

// fn(inputs) with activations recomputed in backward. `module` owns the
// parameters fn reads (its parameters() are looked up at call time, so
// modules patched in later, e.g. LoRA, are covered, and so are the runtime
// LoRA deltas attached to its LoraLinear layers, which are not parameters). Without grad mode, or
// when nothing requires grad, this is just fn(inputs).
at::Tensor CheckpointedCall(const BlockFn& fn, const std::vector<at::Tensor>& inputs,
                            const torch::nn::Module& module);

}  // namespace dreamshot::models::unet

#endif  // DREAMSHOT_MODELS_UNET_CHECKPOINT_H_
