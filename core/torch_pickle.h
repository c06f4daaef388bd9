// Reading PyTorch checkpoints (`torch.save` zip archives: `.bin`, `.ckpt`,
// `.pth`, `.pt`) as named tensors, through LibTorch's TorchScript unpickler
// (the machinery behind torch::pickle_load), with every tensor mapped to CPU.
//
// Accepted layouts: a dict of tensors at the top, or a dict whose
// "state_dict" / "model" / "module" entry is such a dict (Lightning and
// training-script checkpoints; searched a few levels deep). Entries of the
// chosen dict that are not tensors, and the sibling entries of the chosen
// dict (global_step, epoch, optimizer, ...), are skipped and reported.
//
// Known limit of LibTorch 1.13's unpickler: it only understands the objects
// TorchScript itself writes. A state dict saved from Python as an
// OrderedDict (`torch.save(model.state_dict())`, which is how most
// `pytorch_model.bin` files were written) or pickled custom classes fail
// with INVALID_ARGUMENT naming the file; convert such files to safetensors
// or re-save them with `torch.save(dict(sd))`.
//
// Errors (all name the file): NOT_FOUND when missing; INVALID_ARGUMENT for
// non-zip files (legacy pre-1.6 torch.save files get their own message),
// corrupt/truncated archives, a top level that is not a dict, non-string
// keys, and archives without any tensor.
#ifndef DREAMSHOT_CORE_TORCH_PICKLE_H_
#define DREAMSHOT_CORE_TORCH_PICKLE_H_

#include <ATen/core/Tensor.h>

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace dreamshot::core {

// The tensors of the checkpoint at `path`, by name, on CPU in their stored
// dtype. When `skipped` is given it receives one line per entry that was
// not taken, as "dotted.key (Type)", e.g. "global_step (Int)".
absl::StatusOr<std::map<std::string, at::Tensor>> ReadTorchStateDict(const std::string& path,
                                                                     std::vector<std::string>* skipped = nullptr);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_TORCH_PICKLE_H_
