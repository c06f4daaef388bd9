// The text or vision part of a transformers CLIPModel config.json. Files
// written by transformers < 4.25 (openai/clip-vit-large-patch14 and
// -base-patch32 on the Hub) hold a full `text_config` of *library defaults*
// (hidden_size 512 for ViT-L/14's 768-wide text tower) plus
// `text_config_dict` with the real values, and CLIPConfig lets the _dict win
// key by key; the same for vision. Reading `text_config` alone would build
// the wrong network.
#ifndef DREAMSHOT_MODELS_CLIP_TOWER_CONFIG_H_
#define DREAMSHOT_MODELS_CLIP_TOWER_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "core/json_config.h"

namespace dreamshot::models::clip {

// `tower` is "text" or "vision": `<tower>_config` with `<tower>_config_dict`
// laid over it. NOT_FOUND when the file has neither (it is then a tower's
// own config, not a CLIPModel's).
absl::StatusOr<core::JsonConfig> TowerConfig(const core::JsonConfig& clip_config, const std::string& tower);

}  // namespace dreamshot::models::clip

#endif  // DREAMSHOT_MODELS_CLIP_TOWER_CONFIG_H_
