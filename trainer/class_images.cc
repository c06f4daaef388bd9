#include "trainer/class_images.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "core/atomic_file.h"
#include "core/device.h"
#include "core/encoding_cache.h"
#include "core/sha256.h"
#include "core/status_macros.h"
#include "diffusion/pipeline/image_generation.h"
#include "trainer/derived_seed.h"

namespace dreamshot::trainer {
namespace {

namespace fs = std::filesystem;

constexpr char kClassImageVersion[] = "1";
constexpr size_t kShortKey = 16;

std::string SlotFileName(int64_t slot, const std::string& key) {
  return absl::StrFormat("class-%05d-%s.png", slot, key.substr(0, kShortKey));
}

// "class-<digits>-<16 hex>.png": a file this code linked into a class folder.
bool IsGeneratedName(const std::string& name) {
  absl::string_view rest = name;
  if (!absl::ConsumePrefix(&rest, "class-") || !absl::ConsumeSuffix(&rest, ".png")) return false;
  const size_t dash = rest.find('-');
  if (dash == absl::string_view::npos || dash == 0 || rest.size() - dash - 1 != kShortKey) return false;
  const absl::string_view slot = rest.substr(0, dash), key = rest.substr(dash + 1);
  return std::all_of(slot.begin(), slot.end(), absl::ascii_isdigit) &&
         std::all_of(key.begin(), key.end(), [](char c) { return absl::ascii_isxdigit(c) && !absl::ascii_isupper(c); });
}

struct ClassFolder {
  std::vector<std::string> own;              // the user's images, by name
  std::map<std::string, std::string> generated;  // file name → path
};

absl::StatusOr<ClassFolder> ReadClassFolder(const std::string& dir) {
  ClassFolder folder;
  if (dir.empty()) return folder;
  if (absl::Status made = core::MakeDirectories(dir); !made.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("class_dir: cannot create ", dir, ": ", made.message()));
  }
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || !IsImageFileName(entry.path().string())) continue;
    const std::string name = entry.path().filename().string();
    if (IsGeneratedName(name)) {
      folder.generated[name] = entry.path().string();
    } else {
      folder.own.push_back(entry.path().string());
    }
  }
  if (ec) return absl::FailedPreconditionError(absl::StrCat("class_dir: cannot list ", dir, ": ", ec.message()));
  std::sort(folder.own.begin(), folder.own.end());
  return folder;
}

absl::Status Validate(const ClassImageRequest& r) {
  if (r.num_class_images < 0) {
    return absl::InvalidArgumentError(absl::StrCat("num_class_images must be ≥ 0, got ", r.num_class_images));
  }
  if (r.num_class_images == 0) return absl::OkStatus();
  if (r.prompts.empty()) return absl::InvalidArgumentError("num_class_images > 0 needs a class prompt");
  for (size_t i = 0; i < r.prompts.size(); ++i) {
    if (absl::StripAsciiWhitespace(r.prompts[i]).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("class prompt ", i, " is blank"));
    }
  }
  if (r.settings.batch_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat("class images: batch_size must be ≥ 1, got ", r.settings.batch_size));
  }
  const diffusion::TextToImageRequest check = ClassImageGenerationRequest(r.settings, r.prompts[0], {});
  if (absl::Status s = diffusion::ValidateTextToImageRequest(check); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("class image settings: ", s.message()));
  }
  if (!r.settings.scheduler.name.empty()) {
    if (absl::Status s = diffusion::SchedulerShortName(r.settings.scheduler.name).status(); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("class image settings: ", s.message()));
    }
  }
  return absl::OkStatus();
}

core::CacheKeyParts KeyParts(const ClassImageRequest& r, const std::string& model_sha256, const std::string& prompt,
                             uint64_t seed) {
  const ClassImageSettings& s = r.settings;
  return {{"kind", "class_image"},
          {"version", kClassImageVersion},
          {"model_sha256", model_sha256},
          {"dtype", core::DtypeName(r.base.spec.dtype)},
          {"prompt", prompt},
          {"negative_prompt", s.negative_prompt},
          {"seed", absl::StrCat(seed)},
          {"width", absl::StrCat(s.width)},
          {"height", absl::StrCat(s.height)},
          {"steps", absl::StrCat(s.steps)},
          {"guidance_scale", absl::StrFormat("%.17g", s.guidance_scale)},
          // "DDIMScheduler" and "ddim" make the same images (the name was validated).
          {"scheduler", s.scheduler.name.empty() ? "" : *diffusion::SchedulerShortName(s.scheduler.name)},
          {"ddim_eta", absl::StrFormat("%.17g", s.scheduler.ddim_eta)}};
}

// One generated image's place in the cache.
struct CacheEntryPaths {
  std::string png, json;
};

CacheEntryPaths EntryPaths(const std::string& cache_root, const std::string& key) {
  const fs::path dir = fs::path(cache_root) / "class_images" / key.substr(0, 2);
  return {(dir / (key + ".png")).string(), (dir / (key + ".json")).string()};
}

// Complete entries only: the sidecar (written last) names this key and the
// PNG has the size it recorded.
bool CacheHolds(const CacheEntryPaths& paths, const std::string& key) {
  std::ifstream in(paths.json);
  if (!in) return false;
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json sidecar = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!sidecar.is_object() || sidecar.value("key", "") != key) return false;
  std::error_code ec;
  const uintmax_t size = fs::file_size(paths.png, ec);
  return !ec && sidecar.contains("png_bytes") && sidecar["png_bytes"].is_number_unsigned() &&
         sidecar["png_bytes"].get<uintmax_t>() == size;
}

absl::Status StoreInCache(const CacheEntryPaths& paths, const std::string& key, const core::CacheKeyParts& parts,
                          const std::string& png, const ClassImageRequest& r) {
  RETURN_IF_ERROR(core::MakeDirectories(fs::path(paths.png).parent_path().string()));
  RETURN_IF_ERROR(core::WriteFileAtomically(paths.png, png));
  nlohmann::json sidecar = {{"key", key},
                            {"model_path", r.base.path},
                            {"device", r.base.spec.ToString()},
                            {"png_bytes", png.size()},
                            {"png_sha256", core::Sha256Hex(png)}};
  for (const auto& [name, value] : parts) sidecar["parts"][name] = value;
  return core::WriteFileAtomically(paths.json, sidecar.dump(2) + "\n");
}

// The cache file into the class folder: a hard link (no second copy of the
// bytes), or an atomic copy where links do not work (another filesystem).
absl::Status LinkIntoClassFolder(const std::string& cached, const std::string& target) {
  std::error_code ec;
  fs::create_hard_link(cached, target, ec);
  if (!ec || fs::exists(target)) return absl::OkStatus();
  return core::CopyFileAtomically(cached, target);
}

class Generation {
 public:
  Generation(const ClassImageRequest& request, const ClassImageProgressFn& on_progress, const core::CancelFlag* cancel)
      : request_(request), on_progress_(on_progress), cancel_(cancel) {}

  // Generates `slots` (all wanted, none cached), grouped by prompt since a
  // pipeline run takes one prompt; each image is cached and linked as soon
  // as its batch is decoded, so a cancel keeps what was finished.
  absl::Status Run(diffusion::ModelCache& cache, const std::vector<int64_t>& slots,
                   const std::function<absl::Status(int64_t slot, const std::string& png)>& store) {
    std::vector<std::pair<std::string, std::vector<int64_t>>> groups;
    for (int64_t slot : slots) {
      const std::string& prompt = PromptOf(slot);
      auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == prompt; });
      if (it == groups.end()) it = groups.insert(groups.end(), {prompt, {}});
      it->second.push_back(slot);
    }
    progress_.to_generate = static_cast<int64_t>(slots.size());
    const ClassImageSettings& s = request_.settings;
    std::vector<int64_t> planned;
    for (const auto& g : groups) {
      planned.push_back(diffusion::PlannedSteps(static_cast<int64_t>(g.second.size()), s.batch_size, s.steps));
    }
    int64_t finished_steps = 0;
    for (size_t k = 0; k < groups.size(); ++k) {
      if (Cancelled()) return absl::CancelledError("class image generation cancelled");
      std::vector<uint64_t> seeds;
      for (int64_t slot : groups[k].second) seeds.push_back(ClassImageSeed(request_.seed, slot));
      const diffusion::TextToImageRequest t = ClassImageGenerationRequest(s, groups[k].first, std::move(seeds));
      int64_t later = 0;
      for (size_t j = k + 1; j < groups.size(); ++j) later += planned[j];
      int64_t group_total = planned[k];
      auto on_steps = [&](const diffusion::GenerationProgress& p) {
        group_total = p.total;  // PNDM's extra step shows up once its scheduler exists
        progress_.steps_done = finished_steps + p.done;
        progress_.steps_total = finished_steps + p.total + later;
        Report();
        return !Cancelled();
      };
      const std::vector<int64_t>& group_slots = groups[k].second;
      RETURN_IF_ERROR(diffusion::RenderImages(cache, {request_.base, {}}, t, s.batch_size, on_steps,
                                              [&](diffusion::RenderedImage image) {
                                                RETURN_IF_ERROR(store(group_slots[image.index], image.png));
                                                ++progress_.generated;
                                                Report();
                                                return absl::OkStatus();
                                              }));
      finished_steps += group_total;
    }
    return absl::OkStatus();
  }

  const std::string& PromptOf(int64_t slot) const {
    return request_.prompts[static_cast<size_t>(slot) % request_.prompts.size()];
  }

 private:
  bool Cancelled() const { return cancel_ != nullptr && cancel_->cancelled(); }
  void Report() const {
    if (on_progress_) on_progress_(progress_);
  }

  const ClassImageRequest& request_;
  const ClassImageProgressFn& on_progress_;
  const core::CancelFlag* cancel_;
  ClassImageProgress progress_;
};

}  // namespace

std::vector<PromptedImage> ClassImageResult::Prompted() const {
  std::vector<PromptedImage> out;
  for (const ClassImage& image : images) out.push_back({image.path, image.prompt});
  return out;
}

diffusion::TextToImageRequest ClassImageGenerationRequest(const ClassImageSettings& settings,
                                                          const std::string& prompt, std::vector<uint64_t> seeds) {
  diffusion::TextToImageRequest t;
  t.prompt = prompt;
  t.negative_prompt = settings.negative_prompt;
  t.width = settings.width;
  t.height = settings.height;
  t.steps = settings.steps;
  t.guidance_scale = settings.guidance_scale;
  t.scheduler = settings.scheduler;
  t.seeds = std::move(seeds);
  return t;
}

uint64_t ClassImageSeed(uint64_t seed, int64_t index) {
  return DerivedSeed(seed, static_cast<uint64_t>(index)) & 0xFFFFFFFFULL;
}

absl::StatusOr<ClassImageResult> EnsureClassImages(diffusion::ModelCache& cache, const ClassImageRequest& request,
                                                   const ClassImageProgressFn& on_progress,
                                                   const core::CancelFlag* cancel) {
  RETURN_IF_ERROR(Validate(request));
  ClassImageResult result;
  if (request.num_class_images == 0) return result;
  ASSIGN_OR_RETURN(ClassFolder folder, ReadClassFolder(request.class_dir));
  Generation generation(request, on_progress, cancel);
  const int64_t n = request.num_class_images;
  result.images.resize(static_cast<size_t>(n));
  const int64_t own = std::min<int64_t>(n, static_cast<int64_t>(folder.own.size()));
  for (int64_t i = 0; i < own; ++i) {
    result.images[i] = {folder.own[i], generation.PromptOf(i), ClassImageSource::kClassFolder, 0, ""};
  }
  result.from_class_folder = own;
  if (own < n && request.cache_root.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("class images: the class folder holds ", own, " of the ", n,
                                                   " wanted; generating the rest needs a cache_root"));
  }

  // Each generated slot: in the class folder already, in the cache, or to generate.
  std::vector<std::string> keys(static_cast<size_t>(n));
  std::vector<core::CacheKeyParts> parts(static_cast<size_t>(n));
  std::vector<int64_t> missing;
  std::set<std::string> wanted_files;
  if (own < n) {
    ASSIGN_OR_RETURN(result.model_sha256, cache.ModelSha256(request.base.path, request.base.config_dir));
  }
  auto target_of = [&](int64_t slot) {
    const std::string cached = EntryPaths(request.cache_root, keys[slot]).png;
    return request.class_dir.empty() ? cached
                                     : (fs::path(request.class_dir) / SlotFileName(slot, keys[slot])).string();
  };
  for (int64_t slot = own; slot < n; ++slot) {
    const uint64_t seed = ClassImageSeed(request.seed, slot);
    parts[slot] = KeyParts(request, result.model_sha256, generation.PromptOf(slot), seed);
    keys[slot] = core::CacheKey(parts[slot]);
    ClassImage& image = result.images[slot];
    image = {target_of(slot), generation.PromptOf(slot), ClassImageSource::kReused, seed, keys[slot]};
    const CacheEntryPaths entry = EntryPaths(request.cache_root, keys[slot]);
    if (!request.class_dir.empty()) {
      const std::string name = SlotFileName(slot, keys[slot]);
      wanted_files.insert(name);
      if (folder.generated.count(name) > 0) continue;
      if (CacheHolds(entry, keys[slot])) {
        RETURN_IF_ERROR(LinkIntoClassFolder(entry.png, image.path));
        continue;
      }
    } else if (CacheHolds(entry, keys[slot])) {
      continue;
    }
    missing.push_back(slot);
  }
  for (const auto& [name, path] : folder.generated) {
    if (wanted_files.count(name) == 0) result.ignored.push_back(path);
  }

  RETURN_IF_ERROR(generation.Run(cache, missing, [&](int64_t slot, const std::string& png) -> absl::Status {
    const CacheEntryPaths entry = EntryPaths(request.cache_root, keys[slot]);
    RETURN_IF_ERROR(StoreInCache(entry, keys[slot], parts[slot], png, request));
    if (!request.class_dir.empty()) RETURN_IF_ERROR(LinkIntoClassFolder(entry.png, result.images[slot].path));
    result.images[slot].source = ClassImageSource::kGenerated;
    return absl::OkStatus();
  }));
  result.generated = static_cast<int64_t>(missing.size());
  result.reused = n - own - result.generated;
  return result;
}

}  // namespace dreamshot::trainer
