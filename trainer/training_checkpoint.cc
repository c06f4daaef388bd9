#include "trainer/training_checkpoint.h"

#include <torch/torch.h>

#include <filesystem>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/safetensors.h"
#include "core/status_macros.h"

namespace dreamshot::trainer {
namespace {

constexpr char kFormatKey[] = "dreamshot.checkpoint";
constexpr char kFormat[] = "1";
constexpr char kStepKey[] = "dreamshot.step";
constexpr char kRankKey[] = "dreamshot.rank";
constexpr char kAlphaKey[] = "dreamshot.alpha";
constexpr char kTextRankKey[] = "dreamshot.text_encoder.rank";
constexpr char kTextAlphaKey[] = "dreamshot.text_encoder.alpha";
constexpr char kNone[] = "none";
constexpr char kAdapterPrefix[] = "adapter.";

at::Tensor BytesTensor(const std::string& bytes) {
  at::Tensor t = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  std::memcpy(t.data_ptr(), bytes.data(), bytes.size());
  return t;
}

std::string TensorBytes(const at::Tensor& t) {
  const at::Tensor c = t.contiguous().to(torch::kUInt8);
  return std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.numel()));
}

absl::Status Mismatch(const std::string& path, const std::string& key, const std::string& stored,
                      const std::string& wanted) {
  return absl::FailedPreconditionError(absl::StrCat("checkpoint ", path, " was made with ", key, " = '", stored,
                                                    "', this run has '", wanted, "': it cannot resume from it"));
}

// The rank/alpha metadata of an adapter; "none" for a missing one.
std::string RankText(const TrainableLora* lora) { return lora == nullptr ? kNone : absl::StrCat(lora->rank()); }
std::string AlphaText(const TrainableLora* lora) { return lora == nullptr ? kNone : absl::StrCat(lora->alpha()); }

}  // namespace

absl::Status SaveTrainingCheckpoint(const std::string& path, const TrainableLora& lora,
                                    torch::optim::Optimizer& optimizer, int64_t step, const at::Generator& generator,
                                    const std::map<std::string, std::string>& identity,
                                    const TrainableLora* text_lora) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const TrainableLora* adapter : {&lora, text_lora}) {
    if (adapter == nullptr) continue;
    for (const auto& [name, tensor] : adapter->named_parameters()) {
      tensors.emplace_back(kAdapterPrefix + name, tensor.detach());
    }
  }
  std::ostringstream optimizer_bytes;
  try {
    torch::serialize::OutputArchive archive;
    optimizer.save(archive);
    archive.save_to(optimizer_bytes);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("cannot serialise the optimizer state: ", e.what()));
  }
  tensors.emplace_back("optimizer", BytesTensor(optimizer_bytes.str()));
  tensors.emplace_back("rng", generator.get_state());
  std::map<std::string, std::string> metadata = identity;
  metadata[kFormatKey] = kFormat;
  metadata[kStepKey] = absl::StrCat(step);
  metadata[kRankKey] = absl::StrCat(lora.rank());
  metadata[kAlphaKey] = absl::StrCat(lora.alpha());
  if (text_lora != nullptr) {
    metadata[kTextRankKey] = RankText(text_lora);
    metadata[kTextAlphaKey] = AlphaText(text_lora);
  }
  return core::WriteSafetensors(path, tensors, metadata);
}

absl::StatusOr<int64_t> LoadTrainingCheckpoint(const std::string& path, TrainableLora& lora,
                                               torch::optim::Optimizer& optimizer, at::Generator& generator,
                                               const std::map<std::string, std::string>& identity,
                                               TrainableLora* text_lora) {
  if (!std::filesystem::exists(path)) return absl::NotFoundError(absl::StrCat("no checkpoint at ", path));
  ASSIGN_OR_RETURN(core::SafetensorsFile file, core::SafetensorsFile::Open(path));
  const std::map<std::string, std::string>& metadata = file.metadata();
  auto value = [&](const std::string& key, const std::string& absent = std::string()) {
    auto found = metadata.find(key);
    return found == metadata.end() ? absent : found->second;
  };
  if (value(kFormatKey) != kFormat) {
    return absl::DataLossError(absl::StrCat(path, " is not a DreamShot training checkpoint (no ", kFormatKey, ")"));
  }
  int64_t step = 0;
  if (!absl::SimpleAtoi(value(kStepKey), &step) || step < 0) {
    return absl::DataLossError(absl::StrCat(path, ": bad ", kStepKey, " '", value(kStepKey), "'"));
  }
  if (value(kRankKey) != absl::StrCat(lora.rank())) return Mismatch(path, "rank", value(kRankKey), absl::StrCat(lora.rank()));
  if (value(kAlphaKey) != absl::StrCat(lora.alpha())) {
    return Mismatch(path, "alpha", value(kAlphaKey), absl::StrCat(lora.alpha()));
  }
  if (value(kTextRankKey, kNone) != RankText(text_lora)) {
    return Mismatch(path, "text-encoder adapter rank", value(kTextRankKey, kNone), RankText(text_lora));
  }
  if (value(kTextAlphaKey, kNone) != AlphaText(text_lora)) {
    return Mismatch(path, "text-encoder adapter alpha", value(kTextAlphaKey, kNone), AlphaText(text_lora));
  }
  for (const auto& [key, wanted] : identity) {
    if (value(key) != wanted) return Mismatch(path, key, value(key), wanted);
  }
  // Keys carry their component ("unet.…", "text_encoder.…").
  const std::string text_prefix =
      absl::StrCat(models::lora::ComponentName(models::lora::LoraComponent::kTextEncoder), ".");
  std::map<std::string, at::Tensor> adapter, text_adapter;
  for (const std::string& name : file.names()) {
    if (name.rfind(kAdapterPrefix, 0) != 0) continue;
    const std::string key = name.substr(sizeof(kAdapterPrefix) - 1);
    auto& into = text_lora != nullptr && key.rfind(text_prefix, 0) == 0 ? text_adapter : adapter;
    ASSIGN_OR_RETURN(into[key], file.Load(name, torch::kFloat));
  }
  RETURN_IF_ERROR(lora.Load(adapter));
  if (text_lora != nullptr) RETURN_IF_ERROR(text_lora->Load(text_adapter));
  ASSIGN_OR_RETURN(at::Tensor optimizer_state, file.Load("optimizer"));
  ASSIGN_OR_RETURN(at::Tensor rng, file.Load("rng"));
  try {
    std::istringstream in(TensorBytes(optimizer_state));
    torch::serialize::InputArchive archive;
    archive.load_from(in);
    optimizer.load(archive);
    generator.set_state(rng.contiguous());
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": the optimizer or generator state does not load: ", e.what()));
  }
  return step;
}

}  // namespace dreamshot::trainer
