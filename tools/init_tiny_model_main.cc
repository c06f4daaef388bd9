// dreamshot-init-tiny-model DIR [--seed N] [--kind sd|clip|dino]: writes a
// small Stable Diffusion model (the diffusers layout), CLIP model or DINO
// ViT (the transformers layouts) with random weights, for demos and tests.
// A tool of its own, not a `dreamshot` command: it links LibTorch, and the
// client, a gRPC program, must not (tests/cli_links_no_torch_test.sh).
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "diffusion/pipeline/tiny_model_writer.h"
#include "evaluator/tiny_encoders.h"

int main(int argc, char** argv) {
  const std::string usage =
      "usage: dreamshot-init-tiny-model DIR [--seed N] [--kind sd|clip|dino]\n\n"
      "Writes a small model with RANDOM weights, in the real upstream layout. Runs locally (no server).\n"
      "A DIR that exists and is not an empty folder is refused (FAILED_PRECONDITION, exit 5).\n\n"
      "  --kind sd     (default) Stable Diffusion, diffusers layout (model_index.json, unet/, vae/,\n"
      "                text_encoder/, tokenizer/, scheduler/): its images are noise-like patterns\n"
      "  --kind clip   a transformers CLIPModel folder (text + vision towers, tokenizer,\n"
      "                preprocessor_config.json) for CLIP-T / CLIP-I: its scores mean nothing\n"
      "  --kind dino   a transformers ViTModel folder in the DINO ViT-S/16 layout: its scores mean nothing\n"
      "  --seed N      seed of the random weights (default 0)\n";
  std::string dir;
  std::string kind = "sd";
  uint64_t seed = 0;
  const std::vector<std::string> args(argv + 1, argv + argc);
  for (size_t i = 0; i < args.size(); ++i) {
    std::string value;
    if (args[i] == "--seed" && i + 1 < args.size()) {
      value = args[++i];
    } else if (args[i].rfind("--seed=", 0) == 0) {
      value = args[i].substr(7);
    } else if ((args[i] == "--kind" && i + 1 < args.size()) || args[i].rfind("--kind=", 0) == 0) {
      kind = args[i] == "--kind" ? args[++i] : args[i].substr(7);
      if (kind != "sd" && kind != "clip" && kind != "dino") {
        std::cerr << "dreamshot-init-tiny-model: usage error: --kind must be sd, clip or dino, got '" << kind
                  << "'\n"
                  << usage;
        return 2;
      }
      continue;
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
  const absl::Status status = kind == "clip"   ? dreamshot::evaluator::WriteTinyClipModel(dir, seed)
                              : kind == "dino" ? dreamshot::evaluator::WriteTinyDinoVit(dir, seed)
                                               : dreamshot::diffusion::WriteTinyStableDiffusion(dir, seed);
  if (!status.ok()) {
    std::cerr << "dreamshot-init-tiny-model: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
              << "\n";
    return status.code() == absl::StatusCode::kFailedPrecondition ? 5 : 1;
  }
  if (kind == "sd") {
    std::cout << "wrote a tiny Stable Diffusion model with RANDOM weights (seed " << seed << ") to " << dir
              << "\n  its images are noise-like patterns: use it to try the platform, not to judge images\n";
  } else {
    std::cout << "wrote a tiny " << (kind == "clip" ? "CLIP model" : "DINO ViT") << " with RANDOM weights (seed "
              << seed << ") to " << dir << "\n  its scores exercise the evaluator; they say nothing about images\n";
  }
  return 0;
}
