// dreamshot-init-tiny-model DIR [--seed N]: writes a small Stable Diffusion
// model (the diffusers layout) with random weights, for demos and tests.
// A tool of its own, not a `dreamshot` command: it links LibTorch, and the
// client, a gRPC program, must not (tests/cli_links_no_torch_test.sh).
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "diffusion/pipeline/tiny_model_writer.h"

int main(int argc, char** argv) {
  const std::string usage =
      "usage: dreamshot-init-tiny-model DIR [--seed N]\n\n"
      "Writes a small Stable Diffusion model in the real diffusers layout (model_index.json, unet/, vae/,\n"
      "text_encoder/, tokenizer/, scheduler/) with RANDOM weights: its images are noise-like patterns, not\n"
      "pictures. Runs locally (no server). A DIR that exists and is not an empty folder is refused\n"
      "(FAILED_PRECONDITION, exit 5).\n\n"
      "  --seed N   seed of the random weights (default 0)\n";
  std::string dir;
  uint64_t seed = 0;
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string value;
    if (args[i] == "--seed" && i + 1 < args.size()) {
      value = args[++i];
    } else if (args[i].rfind("--seed=", 0) == 0) {
      value = args[i].substr(7);
    } else if (args[i] == "--help" || args[i] == "-h") {
      std::cout << usage;
      return 0;
    } else if (!args[i].empty() && args[i][0] != '-' && dir.empty()) {
      dir = args[i];
      continue;
    } else {
      std::cerr << "dreamshot-init-tiny-model: usage error: unexpected argument '" << args[i] << "'\n" << usage;
      return 2;
    }
    if (!absl::SimpleAtoi(value, &seed)) {
      std::cerr << "dreamshot-init-tiny-model: usage error: --seed must be a non-negative integer, got '" << value
                << "'\n"
                << usage;
      return 2;
    }
  }
  if (dir.empty()) {
    std::cerr << "dreamshot-init-tiny-model: usage error: give the folder to write (DIR)\n" << usage;
    return 2;
  }
  const absl::Status status = dreamshot::diffusion::WriteTinyStableDiffusion(dir, seed);
  if (!status.ok()) {
    std::cerr << "dreamshot-init-tiny-model: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
              << "\n";
    return status.code() == absl::StatusCode::kFailedPrecondition ? 5 : 1;
  }
  std::cout << "wrote a tiny Stable Diffusion model with RANDOM weights (seed " << seed << ") to " << dir
            << "\n  its images are noise-like patterns: use it to try the platform, not to judge images\n";
  return 0;
}
