// Replays the committed seed corpus (core/testdata/safetensors_corpus)
// through the fuzz target, plus deterministic mutations of every seed (each
// prefix, each byte flipped, header length perturbed), so the fuzzer's
// invariants run in every `bazel test` even without clang/libFuzzer.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "core/safetensors_format.h"
#include "core/testdata_paths.h"
#include "gtest/gtest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace dreamshot::core {
namespace {

int Fuzz(const std::string& bytes) {
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

std::vector<std::string> Seeds(int* valid) {
  const std::filesystem::path dir = RunfilePath("core/testdata/safetensors_corpus");
  std::vector<std::string> seeds;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    const bool ok = ParseSafetensorsHeader(seeds.back(), entry.path().string()).ok();
    EXPECT_EQ(ok, entry.path().filename().string().rfind("valid_", 0) == 0) << entry.path();
    *valid += ok;
  }
  return seeds;
}

TEST(SafetensorsFuzzerCorpusTest, ReplaysSeedsAndMutations) {
  int valid = 0;
  const std::vector<std::string> seeds = Seeds(&valid);
  ASSERT_GE(seeds.size(), 5u);
  EXPECT_GE(valid, 4);
  size_t runs = 0;
  for (const std::string& seed : seeds) {
    EXPECT_EQ(Fuzz(seed), 0);
    ++runs;
    for (size_t n = 0; n < seed.size(); ++n, ++runs) Fuzz(seed.substr(0, n));
    for (size_t i = 0; i < seed.size(); ++i) {
      for (unsigned char flip : {0x01, 0x80, 0xff}) {
        std::string mutated = seed;
        mutated[i] = static_cast<char>(static_cast<unsigned char>(mutated[i]) ^ flip);
        Fuzz(mutated);
        ++runs;
      }
    }
    for (int delta : {-9, -1, 1, 7, 8}) {
      std::string mutated = seed;
      if (mutated.size() < 8) break;
      mutated[0] = static_cast<char>(static_cast<unsigned char>(mutated[0]) + delta);
      Fuzz(mutated + std::string(16, ' '));
      ++runs;
    }
  }
  std::cout << "replayed " << runs << " inputs from " << seeds.size() << " seeds\n";
}

}  // namespace
}  // namespace dreamshot::core
