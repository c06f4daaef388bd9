#include "core/device.h"

#include <ATen/Parallel.h>
#include <sched.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace dreamshot::core {

std::string DeviceSpec::ToString() const { return absl::StrCat(device.str(), "/", DtypeName(dtype)); }

absl::StatusOr<c10::Device> ParseDevice(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "cpu") return c10::Device(c10::kCPU);
  absl::string_view rest = t;
  if (absl::ConsumePrefix(&rest, "cuda")) {
    int index = 0;
    if (!rest.empty()) {
      if (!absl::ConsumePrefix(&rest, ":") || !absl::SimpleAtoi(rest, &index) || index < 0) {
        return absl::InvalidArgumentError(absl::StrCat("device '", text, "' is malformed (expected cuda or cuda:N)"));
      }
    }
    if (!torch::cuda::is_available()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "device '", text, "' requested but CUDA is not available (this LibTorch build or machine has no GPU; "
          "build with LIBTORCH_PATH pointing at a CUDA LibTorch)"));
    }
    if (index >= static_cast<int>(torch::cuda::device_count())) {
      return absl::FailedPreconditionError(absl::StrCat("device '", text, "' does not exist (",
                                                        torch::cuda::device_count(), " CUDA devices)"));
    }
    return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown device '", text, "' (expected cpu, cuda or cuda:N)"));
}

absl::StatusOr<c10::ScalarType> ParseFloatDtype(absl::string_view text) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "float32" || t == "fp32" || t == "float") return c10::kFloat;
  if (t == "float16" || t == "fp16" || t == "half") return c10::kHalf;
  if (t == "bfloat16" || t == "bf16") return c10::kBFloat16;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown dtype '", text, "' (expected float32, float16 or bfloat16)"));
}

absl::StatusOr<DeviceSpec> ParseDeviceSpec(absl::string_view device, absl::string_view dtype) {
  DeviceSpec spec;
  absl::StatusOr<c10::Device> d = ParseDevice(device);
  if (!d.ok()) return d.status();
  absl::StatusOr<c10::ScalarType> t = ParseFloatDtype(dtype);
  if (!t.ok()) return t.status();
  spec.device = *d;
  spec.dtype = *t;
  return spec;
}

std::string DtypeName(c10::ScalarType dtype) {
  switch (dtype) {
    case c10::kFloat:
      return "float32";
    case c10::kHalf:
      return "float16";
    case c10::kBFloat16:
      return "bfloat16";
    case c10::kDouble:
      return "float64";
    case c10::kLong:
      return "int64";
    case c10::kInt:
      return "int32";
    case c10::kByte:
      return "uint8";
    case c10::kBool:
      return "bool";
    default:
      return c10::toString(dtype);
  }
}

int InitCpuThreads(int threads) {
  if (threads <= 0) {
    const char* env = std::getenv("OMP_NUM_THREADS");
    if (env != nullptr && absl::SimpleAtoi(env, &threads) && threads > 0) {
      // honour the user's setting
    } else {
      cpu_set_t set;
      threads = ::sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
    }
  }
  at::set_num_threads(std::max(threads, 1));
  return at::get_num_threads();
}

}  // namespace dreamshot::core
