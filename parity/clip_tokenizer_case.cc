// clip_tokenizer: transformers.CLIPTokenizer(prompt, padding="max_length",
// max_length=77, truncation=True) on the case's tokenizer folder, with ftfy
// text cleanup (input_ids) and with transformers' fallback without ftfy
// (input_ids_without_ftfy). Ids must match exactly.
#include <torch/torch.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/json_config.h"
#include "core/safetensors.h"
#include "core/status_macros.h"
#include "models/clip/tokenizer.h"
#include "parity/case_kinds.h"
#include "parity/case_io.h"

namespace dreamshot::parity {
namespace {

absl::StatusOr<std::string> FileEndingWith(const ParityCase& c, const std::vector<std::string>& files,
                                           absl::string_view suffix) {
  for (const std::string& f : files) {
    if (absl::EndsWith(f, suffix)) return c.Path(f);
  }
  return absl::InvalidArgumentError(absl::StrCat(c.name, ": no *", suffix, " file listed in cases.json"));
}

at::Tensor ToTensor(const std::vector<int64_t>& values, int64_t rows, int64_t cols) {
  return torch::tensor(values, torch::kLong).view({rows, cols});
}

}  // namespace

absl::StatusOr<CaseResult> RunClipTokenizerCase(const ParityCase& c, const RunOptions&) {
  ASSIGN_OR_RETURN(std::string model_dir, c.spec.String("model"));
  ASSIGN_OR_RETURN(std::vector<std::string> files, c.spec.StringList("files"));
  ASSIGN_OR_RETURN(std::string prompts_path, FileEndingWith(c, files, ".json"));
  ASSIGN_OR_RETURN(std::string ids_path, FileEndingWith(c, files, ".safetensors"));

  ASSIGN_OR_RETURN(core::JsonConfig prompt_file, core::JsonConfig::FromFile(prompts_path));
  ASSIGN_OR_RETURN(int64_t max_length, prompt_file.Int("max_length", 77));
  ASSIGN_OR_RETURN(std::vector<core::JsonConfig> entries, prompt_file.ObjectList("cases"));
  std::vector<std::string> prompts;
  for (const core::JsonConfig& e : entries) {
    ASSIGN_OR_RETURN(std::string prompt, e.String("prompt"));
    prompts.push_back(std::move(prompt));
  }
  ASSIGN_OR_RETURN(core::SafetensorsFile expected, core::SafetensorsFile::Open(ids_path));

  struct Variant {
    const char* ids_name;
    models::clip::TextCleanup cleanup;
  };
  const Variant variants[] = {{"input_ids", models::clip::TextCleanup::kFtfy},
                              {"input_ids_without_ftfy", models::clip::TextCleanup::kBasicTokenizer}};
  OutputChecker checker(expected, /*atol=*/0, /*rtol=*/0);
  const int64_t rows = static_cast<int64_t>(prompts.size());
  for (const Variant& v : variants) {
    if (!expected.Contains(v.ids_name)) continue;
    models::clip::ClipTokenizerOptions options;
    options.cleanup = v.cleanup;
    ASSIGN_OR_RETURN(auto tokenizer, models::clip::ClipTokenizer::FromFolder(c.Path(model_dir), options));
    const models::clip::TokenizedBatch batch = tokenizer.Tokenize(prompts, static_cast<int>(max_length));
    std::vector<std::pair<std::string, at::Tensor>> outputs = {
        {v.ids_name, ToTensor(batch.input_ids, rows, batch.seq_len)}};
    if (v.cleanup == models::clip::TextCleanup::kFtfy && expected.Contains("attention_mask")) {
      outputs.push_back({"attention_mask", ToTensor(batch.attention_mask, rows, batch.seq_len)});
    }
    // Errors locate [prompt row, token position].
    for (const auto& [name, actual] : outputs) RETURN_IF_ERROR(checker.CheckIfPresent(name, actual));
  }
  return checker.result();
}

}  // namespace dreamshot::parity
