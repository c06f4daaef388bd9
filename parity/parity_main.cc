// dreamshot_parity: runs the cases of a reference folder (the layout of
// ../shared/reference: cases.json + model folders + cases/*.safetensors)
// through DreamShot's implementation and prints
//   PASS|FAIL|SKIP <case> max_abs_err=<e> tol=<t>
// per case and a summary line. Exit status 1 if any case fails, 2 if the
// folder cannot be read.
#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "core/cpu_init.h"
#include "core/device.h"
#include "parity/case_runner.h"

namespace {

int Usage() {
  std::fprintf(stderr,
               "usage: dreamshot_parity REFERENCE_DIR [--device cpu|cuda[:N]] [--dtype float32|float16|bfloat16]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir, device = "cpu", dtype = "float32";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--device" || arg == "--dtype") && i + 1 < argc) {
      (arg == "--device" ? device : dtype) = argv[++i];
    } else if (!arg.empty() && arg[0] != '-' && dir.empty()) {
      dir = arg;
    } else {
      return Usage();
    }
  }
  if (dir.empty()) return Usage();
  dreamshot::core::InitCpu(argv);  // a usage error has exited before any re-exec
  auto spec = dreamshot::core::ParseDeviceSpec(device, dtype);
  if (!spec.ok()) {
    std::fprintf(stderr, "dreamshot_parity: %s\n", std::string(spec.status().message()).c_str());
    return 2;
  }
  auto cases = dreamshot::parity::ReadCases(dir);
  if (!cases.ok()) {
    std::fprintf(stderr, "dreamshot_parity: %s\n", std::string(cases.status().message()).c_str());
    return 2;
  }
  dreamshot::parity::RunOptions options{*spec};
  int passed = 0, failed = 0, skipped = 0;
  for (const auto& c : *cases) {
    dreamshot::parity::CaseRunnerFn run = dreamshot::parity::FindRunner(c.name);
    if (run == nullptr) {
      std::printf("SKIP %s (kind not implemented yet)\n", c.name.c_str());
      ++skipped;
      continue;
    }
    auto result = run(c, options);
    if (!result.ok()) {
      std::printf("FAIL %s error: %s\n", c.name.c_str(), std::string(result.status().message()).c_str());
      ++failed;
      continue;
    }
    std::printf("%s %s max_abs_err=%.3g tol=%.3g%s%s\n", result->passed ? "PASS" : "FAIL", c.name.c_str(),
                result->max_abs_err, result->tolerance, result->detail.empty() ? "" : " at ",
                result->detail.c_str());
    (result->passed ? passed : failed)++;
  }
  std::printf("%d passed, %d failed, %d skipped (%s, %s)\n", passed, failed, skipped, dir.c_str(),
              spec->ToString().c_str());
  return failed > 0 ? 1 : 0;
}
