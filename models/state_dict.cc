#include "models/state_dict.h"

#include <torch/torch.h>

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace dreamshot::models {
namespace {

bool Contains(const std::vector<std::string>& list, const std::string& key) {
  return std::find(list.begin(), list.end(), key) != list.end();
}

std::string ShapeText(const at::Tensor& t) { return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]"); }

std::string Sample(const std::vector<std::string>& names) {
  constexpr size_t kShown = 8;
  std::vector<std::string> shown(names.begin(), names.begin() + std::min(names.size(), kShown));
  std::string out = absl::StrJoin(shown, ", ");
  if (names.size() > kShown) absl::StrAppend(&out, ", ... (", names.size() - kShown, " more)");
  return out;
}

}  // namespace

absl::Status LoadStateDict(torch::nn::Module& module, const TensorMap& tensors, const std::string& source,
                           const LoadOptions& options) {
  std::vector<std::pair<std::string, at::Tensor>> targets;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) targets.emplace_back(p.key(), p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/true)) targets.emplace_back(b.key(), b.value());

  std::vector<std::string> missing, mismatched;
  std::set<std::string> used;
  for (const auto& [name, target] : targets) {
    auto it = tensors.find(name);
    if (it == tensors.end()) {
      if (!Contains(options.optional_keys, name)) missing.push_back(name);
      continue;
    }
    used.insert(name);
    if (it->second.sizes() != target.sizes()) {
      mismatched.push_back(absl::StrCat(name, " ", ShapeText(it->second), " vs expected ", ShapeText(target)));
    }
  }
  std::vector<std::string> unexpected;
  for (const auto& [name, tensor] : tensors) {
    if (!used.count(name) && !Contains(options.ignorable_keys, name)) unexpected.push_back(name);
  }
  if (!missing.empty() || !unexpected.empty() || !mismatched.empty()) {
    std::vector<std::string> parts;
    if (!missing.empty()) parts.push_back(absl::StrCat(missing.size(), " missing: ", Sample(missing)));
    if (!unexpected.empty()) parts.push_back(absl::StrCat(unexpected.size(), " unexpected: ", Sample(unexpected)));
    if (!mismatched.empty()) parts.push_back(absl::StrCat(mismatched.size(), " with the wrong shape: ", Sample(mismatched)));
    return absl::InvalidArgumentError(absl::StrCat(source, " does not fit the model: ", absl::StrJoin(parts, "; ")));
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : targets) {
    auto it = tensors.find(name);
    if (it != tensors.end()) target.copy_(it->second);  // converts dtype and device in one pass
  }
  return absl::OkStatus();
}

}  // namespace dreamshot::models
