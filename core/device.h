// The one place that decides where tensors live and in which precision.
// Every loader and model takes a DeviceSpec; nothing picks a device or dtype
// on its own. Light header: c10 types only, no <torch/torch.h>.
#ifndef DREAMSHOT_CORE_DEVICE_H_
#define DREAMSHOT_CORE_DEVICE_H_

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace dreamshot::core {

struct DeviceSpec {
  c10::Device device = c10::Device(c10::kCPU);
  // Precision of floating-point weights and activations. Integer tensors
  // (token ids, timesteps) keep their own type.
  c10::ScalarType dtype = c10::kFloat;

  std::string ToString() const;  // "cpu/float32", "cuda:0/float16"
};

// "cpu", "cuda", "cuda:1". INVALID_ARGUMENT for anything else;
// FAILED_PRECONDITION for CUDA when this LibTorch build or machine has none.
absl::StatusOr<c10::Device> ParseDevice(absl::string_view text);
// "float32"/"fp32"/"float", "float16"/"fp16"/"half", "bfloat16"/"bf16".
absl::StatusOr<c10::ScalarType> ParseFloatDtype(absl::string_view text);
absl::StatusOr<DeviceSpec> ParseDeviceSpec(absl::string_view device, absl::string_view dtype);
// "float32", "float16", "bfloat16", "int64", ...
std::string DtypeName(c10::ScalarType dtype);

// Sets LibTorch's intra-op CPU threads: `threads` if > 0, else
// $OMP_NUM_THREADS if set, else every core this process may use. Binaries
// call it once at start: on Debian's LibTorch + OpenBLAS-OpenMP the default
// was observed to be 1 thread on a 2-core machine (1.6x slower text encoder).
// Returns the thread count in effect.
int InitCpuThreads(int threads = 0);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_DEVICE_H_
