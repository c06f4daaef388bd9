#include "diffusion/pipeline/generation_record.h"

#include <torch/torch.h>

#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "core/png.h"
#include "core/status_macros.h"

namespace dreamshot::diffusion {
namespace {

// A1111's names for our samplers (the "Sampler" field other tools read).
constexpr std::pair<const char*, const char*> kSamplerNames[] = {
    {"ddim", "DDIM"},         {"pndm", "PLMS"},         {"ddpm", "DDPM"},
    {"euler", "Euler"},       {"euler_a", "Euler a"},   {"dpmpp_2m", "DPM++ 2M"},
    {"dpmpp_2m_karras", "DPM++ 2M Karras"},
};

std::string SamplerName(const std::string& scheduler) {
  for (const auto& [ours, theirs] : kSamplerNames) {
    if (scheduler == ours) return theirs;
  }
  return scheduler;
}

// Values with separators are written as JSON-style quoted strings, as A1111.
std::string Quote(const std::string& value) {
  if (value.find_first_of(",:\"\n") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out + "\"";
}

// "Key: value, Key: \"quoted, value\", ..." → map.
absl::StatusOr<std::map<std::string, std::string>> ParsePairs(const std::string& line) {
  std::map<std::string, std::string> pairs;
  size_t i = 0;
  while (i < line.size()) {
    const size_t colon = line.find(": ", i);
    if (colon == std::string::npos) {
      return absl::InvalidArgumentError(absl::StrCat("generation parameters: no \"Key: value\" at \"", line.substr(i), "\""));
    }
    const std::string key = line.substr(i, colon - i);
    i = colon + 2;
    std::string value;
    if (i < line.size() && line[i] == '"') {
      for (++i; i < line.size() && line[i] != '"'; ++i) {
        if (line[i] == '\\' && i + 1 < line.size()) {
          ++i;
          value.push_back(line[i] == 'n' ? '\n' : line[i]);
        } else {
          value.push_back(line[i]);
        }
      }
      if (i >= line.size()) return absl::InvalidArgumentError(absl::StrCat("generation parameters: unterminated quote in ", key));
      ++i;  // closing quote
    } else {
      const size_t end = line.find(", ", i);
      value = line.substr(i, end == std::string::npos ? std::string::npos : end - i);
      i = end == std::string::npos ? line.size() : end;
    }
    pairs[key] = value;
    if (i < line.size()) {
      if (line.compare(i, 2, ", ") != 0) {
        return absl::InvalidArgumentError(absl::StrCat("generation parameters: expected \", \" after ", key));
      }
      i += 2;
    }
  }
  return pairs;
}

}  // namespace

std::string GenerationParametersText(const GenerationRecord& r) {
  std::vector<std::string> fields = {
      absl::StrCat("Steps: ", r.steps),
      absl::StrCat("Sampler: ", Quote(SamplerName(r.scheduler))),
      absl::StrCat("CFG scale: ", r.guidance_scale),
      absl::StrCat("Seed: ", r.seed),
      absl::StrCat("Size: ", r.width, "x", r.height),
  };
  if (!r.model_sha256.empty()) fields.push_back(absl::StrCat("Model hash: ", r.model_sha256.substr(0, 10)));
  if (r.clip_skip > 0) fields.push_back(absl::StrCat("Clip skip: ", r.clip_skip + 1));
  if (!r.model_name.empty()) fields.push_back(absl::StrCat("Model: ", Quote(r.model_name)));
  if (!r.loras.empty()) {
    std::vector<std::string> hashes, scales, full;
    for (const LoraRecord& l : r.loras) {
      hashes.push_back(absl::StrCat(l.name, ": ", l.sha256.substr(0, 12)));
      scales.push_back(absl::StrCat(l.name, ": ", l.scale));
      full.push_back(absl::StrCat(l.name, ": ", l.sha256));
    }
    fields.push_back(absl::StrCat("Lora hashes: ", Quote(absl::StrJoin(hashes, ", "))));
    fields.push_back(absl::StrCat("Lora scales: ", Quote(absl::StrJoin(scales, ", "))));
    fields.push_back(absl::StrCat("Lora sha256: ", Quote(absl::StrJoin(full, ", "))));
  }
  fields.push_back(absl::StrCat("Scheduler: ", r.scheduler));
  if (!r.model_sha256.empty()) fields.push_back(absl::StrCat("Model sha256: ", r.model_sha256));
  fields.push_back("Version: DreamShot");
  return absl::StrCat(r.prompt, "\nNegative prompt: ", r.negative_prompt, "\n", absl::StrJoin(fields, ", "));
}

absl::StatusOr<GenerationRecord> ParseGenerationParametersText(const std::string& text) {
  const size_t last = text.rfind('\n');
  if (last == std::string::npos) return absl::InvalidArgumentError("generation parameters: no parameters line");
  const std::string head = text.substr(0, last);
  GenerationRecord r;
  const size_t negative = head.rfind("\nNegative prompt: ");
  if (negative != std::string::npos) {
    r.prompt = head.substr(0, negative);
    r.negative_prompt = head.substr(negative + 18);
  } else if (head.rfind("Negative prompt: ", 0) == 0) {
    r.negative_prompt = head.substr(17);
  } else {
    r.prompt = head;
  }
  ASSIGN_OR_RETURN(auto pairs, ParsePairs(text.substr(last + 1)));
  auto number = [&](const char* key, auto* out) -> absl::Status {
    auto it = pairs.find(key);
    if (it == pairs.end()) return absl::OkStatus();
    if (!absl::SimpleAtoi(it->second, out)) {
      return absl::InvalidArgumentError(absl::StrCat("generation parameters: bad ", key, " \"", it->second, "\""));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(number("Steps", &r.steps));
  RETURN_IF_ERROR(number("Seed", &r.seed));
  int64_t a1111_clip_skip = 1;
  RETURN_IF_ERROR(number("Clip skip", &a1111_clip_skip));
  r.clip_skip = a1111_clip_skip > 1 ? a1111_clip_skip - 1 : 0;
  if (pairs.count("CFG scale") && !absl::SimpleAtod(pairs["CFG scale"], &r.guidance_scale)) {
    return absl::InvalidArgumentError(absl::StrCat("generation parameters: bad CFG scale \"", pairs["CFG scale"], "\""));
  }
  if (pairs.count("Size")) {
    std::vector<std::string> wh = absl::StrSplit(pairs["Size"], 'x');
    if (wh.size() != 2 || !absl::SimpleAtoi(wh[0], &r.width) || !absl::SimpleAtoi(wh[1], &r.height)) {
      return absl::InvalidArgumentError(absl::StrCat("generation parameters: bad Size \"", pairs["Size"], "\""));
    }
  }
  r.scheduler = pairs["Scheduler"];
  r.model_name = pairs["Model"];
  r.model_sha256 = pairs["Model sha256"];
  if (pairs.count("Lora sha256")) {
    std::map<std::string, double> scales;
    for (absl::string_view item : absl::StrSplit(pairs["Lora scales"], ", ", absl::SkipEmpty())) {
      std::vector<std::string> kv = absl::StrSplit(item, absl::MaxSplits(": ", 1));
      double s = 1.0;
      if (kv.size() == 2 && absl::SimpleAtod(kv[1], &s)) scales[kv[0]] = s;
    }
    for (absl::string_view item : absl::StrSplit(pairs["Lora sha256"], ", ", absl::SkipEmpty())) {
      std::vector<std::string> kv = absl::StrSplit(item, absl::MaxSplits(": ", 1));
      if (kv.size() != 2) return absl::InvalidArgumentError(absl::StrCat("generation parameters: bad Lora sha256 \"", item, "\""));
      r.loras.push_back({kv[0], kv[1], scales.count(kv[0]) ? scales[kv[0]] : 1.0});
    }
  }
  return r;
}

absl::StatusOr<std::string> EncodeGeneratedPng(const at::Tensor& image, const GenerationRecord& record) {
  if (image.dim() != 3 || image.size(0) != 3) {
    return absl::InvalidArgumentError(absl::StrCat("EncodeGeneratedPng: image must be [3, H, W], got ", c10::str(image.sizes())));
  }
  const at::Tensor hwc =
      (image.detach().to(torch::kCPU, torch::kFloat).clamp(0, 1) * 255).round().to(torch::kUInt8).permute({1, 2, 0}).contiguous();
  core::PngImage png;
  png.height = hwc.size(0);
  png.width = hwc.size(1);
  png.channels = 3;
  png.pixels.assign(hwc.data_ptr<uint8_t>(), hwc.data_ptr<uint8_t>() + hwc.numel());
  png.texts = {{"parameters", GenerationParametersText(record)}};
  return core::EncodePng(png);
}

absl::StatusOr<std::string> GenerationParametersOfPng(absl::string_view png_bytes) {
  ASSIGN_OR_RETURN(core::PngImage png, core::DecodePng(png_bytes));
  for (const auto& [key, text] : png.texts) {
    if (key == "parameters") return text;
  }
  return absl::NotFoundError("the PNG has no \"parameters\" text chunk");
}

}  // namespace dreamshot::diffusion
