// Safetensors loading against the speed of reading the file.
//
//   bazel run //bench:safetensors_benchmark
//   SAFETENSORS_BENCH_MB=400 bazel run //bench:safetensors_benchmark   # smaller file
//
// Writes a ~1.7 GB fp16 file of SD-UNet-like tensors with random data to
// $TEST_TMPDIR (else /tmp; smaller when that has < 8 GB free), deletes it at
// the end, and times with a warm page cache:
//   BM_ReadLoop          read() the file in 1 MiB chunks (~ cat > /dev/null)
//   BM_LoadAllZeroCopy   SafetensorsFile::Open + LoadAll(fp16, cpu), then one
//                        byte read per 4 KiB page of every tensor
//   BM_LoadAllToFloat32  Open + LoadAll(fp32, cpu): a converting copy
// and prints the medians and the ratio zero-copy / read loop (target <= 1.5).
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "core/safetensors.h"

namespace {

using dreamshot::core::SafetensorsFile;

constexpr uint64_t kMiB = uint64_t{1} << 20;

// Shapes met in the SD 1.5 UNet (convs, attention and MLP projections, norms).
const std::vector<std::vector<int64_t>> kShapes = {
    {1280, 1280, 3, 3}, {320, 320, 3, 3}, {640, 640, 3, 3}, {1280, 5120}, {640, 2560}, {320, 768}, {1280},
    {640},              {320},            {2560},           {1280, 1280}, {640, 640},  {320, 320}, {320, 1280},
    {640, 768},         {1280, 768},      {320},            {640},        {1280},      {5120},     {320, 4, 3, 3},
};

std::map<std::string, std::vector<double>>& Samples() {
  static auto* samples = new std::map<std::string, std::vector<double>>();
  return *samples;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

uint64_t FileSize(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  const off_t size = ::lseek(fd, 0, SEEK_END);
  ::close(fd);
  return static_cast<uint64_t>(size);
}

// Returns the number of tensors written.
int GenerateFile(const std::string& path, uint64_t target_bytes) {
  torch::manual_seed(0);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  uint64_t total = 0;
  for (size_t i = 0; total < target_bytes; ++i) {
    const std::vector<int64_t>& shape = kShapes[i % kShapes.size()];
    at::Tensor t = torch::rand(shape).to(torch::kHalf);
    total += t.nbytes();
    char name[96];
    std::snprintf(name, sizeof(name), "unet.block_%04zu.layer_%zu.weight", i / kShapes.size(), i % kShapes.size());
    tensors.emplace_back(name, std::move(t));
  }
  const absl::Status status = dreamshot::core::WriteSafetensors(path, tensors, {{"format", "pt"}});
  if (!status.ok()) {
    std::cerr << status << "\n";
    std::exit(1);
  }
  return static_cast<int>(tensors.size());
}

void ReadLoop(benchmark::State& state, const std::string& path) {
  std::vector<char> buffer(kMiB);
  uint64_t bytes = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const int fd = ::open(path.c_str(), O_RDONLY);
    ssize_t n;
    while ((n = ::read(fd, buffer.data(), buffer.size())) > 0) bytes += static_cast<uint64_t>(n);
    ::close(fd);
    benchmark::DoNotOptimize(buffer.data());
    Samples()["read"].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

// Open + LoadAll + one byte read per 4 KiB page of every tensor; returns the
// bytes loaded. Everything (unmapping, freeing) happens inside the call.
absl::StatusOr<uint64_t> LoadOnce(const std::string& path, c10::ScalarType dtype) {
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Open(path);
  if (!file.ok()) return file.status();
  absl::StatusOr<std::map<std::string, at::Tensor>> all = file->LoadAll(dtype);
  if (!all.ok()) return all.status();
  uint64_t bytes = 0;
  unsigned sum = 0;
  for (const auto& [name, t] : *all) {
    const auto* p = static_cast<const unsigned char*>(t.data_ptr());
    const size_t n = t.nbytes();
    for (size_t i = 0; i < n; i += 4096) sum += p[i];
    bytes += n;
  }
  benchmark::DoNotOptimize(sum);
  return bytes;
}

void LoadAll(benchmark::State& state, const std::string& path, c10::ScalarType dtype, const std::string& key) {
  uint64_t bytes = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const absl::StatusOr<uint64_t> loaded = LoadOnce(path, dtype);
    if (!loaded.ok()) {
      state.SkipWithError(loaded.status().ToString().c_str());
      return;
    }
    bytes += *loaded;
    Samples()[key].push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp != nullptr ? tmp : "/tmp";
  uint64_t target = 1700 * kMiB;
  if (const char* mb = std::getenv("SAFETENSORS_BENCH_MB")) target = std::strtoull(mb, nullptr, 10) * kMiB;
  struct statvfs fs;
  if (::statvfs(dir.c_str(), &fs) == 0) {
    const uint64_t avail = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (avail < 8 * 1024 * kMiB) {
      target = std::min(target, avail / 4);
      std::cout << "only " << avail / kMiB << " MiB free in " << dir << ": using a " << target / kMiB
                << " MiB file\n";
    }
  }
  const std::string path = dir + "/safetensors_benchmark_" + std::to_string(::getpid()) + ".safetensors";
  const auto gen_start = std::chrono::steady_clock::now();
  const int count = GenerateFile(path, target);
  const uint64_t size = FileSize(path);
  std::cout << "generated " << path << ": " << count << " fp16 tensors, " << size / kMiB << " MiB in "
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - gen_start).count() << " s\n";
  {  // warm the page cache
    std::vector<char> buffer(kMiB);
    const int fd = ::open(path.c_str(), O_RDONLY);
    while (::read(fd, buffer.data(), buffer.size()) > 0) {
    }
    ::close(fd);
  }

  const auto configure = [](benchmark::internal::Benchmark* b) {
    b->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1)->Repetitions(7)->ReportAggregatesOnly(true);
  };
  configure(benchmark::RegisterBenchmark("BM_ReadLoop", [&](benchmark::State& s) { ReadLoop(s, path); }));
  configure(benchmark::RegisterBenchmark(
      "BM_LoadAllZeroCopy", [&](benchmark::State& s) { LoadAll(s, path, torch::kHalf, "zero_copy"); }));
  configure(benchmark::RegisterBenchmark(
      "BM_LoadAllToFloat32", [&](benchmark::State& s) { LoadAll(s, path, torch::kFloat, "to_float32"); }));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::remove(path.c_str());

  const double read = Median(Samples()["read"]);
  const double zero_copy = Median(Samples()["zero_copy"]);
  const double to_f32 = Median(Samples()["to_float32"]);
  std::printf("\nfile: %d tensors, %.0f MiB\n", count, static_cast<double>(size) / kMiB);
  std::printf("median read loop        %8.1f ms  (%.2f GB/s)\n", read * 1e3, size / read / 1e9);
  std::printf("median LoadAll fp16     %8.1f ms  (%.2f GB/s)\n", zero_copy * 1e3, size / zero_copy / 1e9);
  std::printf("median LoadAll ->fp32   %8.1f ms  (%.2f GB/s of input)\n", to_f32 * 1e3, size / to_f32 / 1e9);
  for (const auto& [key, samples] : Samples()) {
    std::printf("samples %-10s ms:", key.c_str());
    for (double t : samples) std::printf(" %.0f", t * 1e3);
    std::printf("\n");
  }
  if (read > 0) std::printf("ratio LoadAll fp16 / read loop = %.2f (target <= 1.5)\n", zero_copy / read);
  return 0;
}
