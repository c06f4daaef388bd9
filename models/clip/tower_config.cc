#include "models/clip/tower_config.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"

namespace dreamshot::models::clip {

absl::StatusOr<core::JsonConfig> TowerConfig(const core::JsonConfig& clip_config, const std::string& tower) {
  const std::string key = tower + "_config", dict_key = tower + "_config_dict";
  const bool has_config = clip_config.Has(key), has_dict = clip_config.Has(dict_key);
  if (!has_config && !has_dict) {
    return absl::NotFoundError(absl::StrCat(clip_config.source(), " has neither ", key, " nor ", dict_key));
  }
  if (!has_dict) return clip_config.Object(key);
  // Both parsed already by JsonConfig; merged here key by key, _dict winning.
  nlohmann::json merged = has_config ? nlohmann::json::parse(clip_config.RawJson(key), nullptr, false)
                                     : nlohmann::json::object();
  const nlohmann::json dict = nlohmann::json::parse(clip_config.RawJson(dict_key), nullptr, false);
  if (!merged.is_object() || !dict.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(clip_config.source(), ": ", key, " and ", dict_key,
                                                   " must be objects"));
  }
  for (auto it = dict.begin(); it != dict.end(); ++it) merged[it.key()] = it.value();
  return core::JsonConfig::FromString(merged.dump(),
                                      absl::StrCat(clip_config.source(), ": ", key, " + ", dict_key));
}

}  // namespace dreamshot::models::clip
