#include "core/device.h"

#include <gtest/gtest.h>
#include <torch/cuda.h>

namespace dreamshot::core {
namespace {

TEST(DeviceTest, ParsesDevicesAndDtypes) {
  EXPECT_EQ(*ParseDevice("CPU"), c10::Device(c10::kCPU));
  EXPECT_EQ(*ParseFloatDtype("fp16"), c10::kHalf);
  EXPECT_EQ(*ParseFloatDtype("bfloat16"), c10::kBFloat16);
  EXPECT_EQ(ParseFloatDtype("int8").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDevice("tpu").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDevice("cuda:x").status().code(), absl::StatusCode::kInvalidArgument);
  auto spec = ParseDeviceSpec("cpu", "float32");
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec->ToString(), "cpu/float32");
}

TEST(DeviceTest, CudaIsRefusedClearlyWithoutAGpu) {
  if (torch::cuda::is_available()) {
    EXPECT_TRUE(ParseDevice("cuda").ok());
    return;
  }
  auto cuda = ParseDevice("cuda:0");
  EXPECT_EQ(cuda.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(cuda.status().message()).find("CUDA is not available"), std::string::npos);
}

TEST(DeviceTest, InitCpuThreadsSetsTheCount) {
  EXPECT_EQ(InitCpuThreads(1), 1);
  EXPECT_GE(InitCpuThreads(), 1);
}

}  // namespace
}  // namespace dreamshot::core
