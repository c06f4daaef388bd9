// Reading PyTorch checkpoints (`torch.save` zip archives: `.bin`, `.ckpt`,
// `.pth`, `.pt`) as named tensors, with every tensor mapped to CPU.
//
// The archive's data.pkl is read by our own bounds-checked unpickler for the
// state-dict subset of pickle (core/state_dict_unpickler.h): Python
// `torch.save(model.state_dict())` files (OrderedDict), Lightning `.ckpt`
// files, and torch::pickle_save files. Objects of unknown classes (e.g. a
// Lightning callback) become opaque values and are reported as skipped
// ("callbacks (object pytorch_lightning.callbacks....ModelCheckpoint)").
// Pickles using TorchScript-only opcodes/globals it does not implement fall
// back to LibTorch's TorchScript unpickler.
//
// Accepted layouts: a dict of tensors at the top, or a dict whose
// "state_dict" / "model" / "module" entry is such a dict (Lightning and
// training-script checkpoints; searched a few levels deep). Entries of the
// chosen dict that are not tensors, and the sibling entries of the chosen
// dict (global_step, epoch, optimizer, ...), are skipped and reported.
// Tensors sharing a storage come back as views of one buffer.
//
// Errors (all name the file): NOT_FOUND when missing; INVALID_ARGUMENT for
// non-zip files (legacy pre-1.6 torch.save files get their own message),
// corrupt/truncated archives and pickles (with the opcode offset), tensors
// whose size/stride reach past their storage (naming the key), a top level that is not a dict, non-string
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
