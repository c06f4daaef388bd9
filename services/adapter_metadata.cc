#include "services/adapter_metadata.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "core/version.h"
#include "trainer/training_loop.h"
#include "google/protobuf/util/json_util.h"

namespace dreamshot::services {
namespace {

std::string Json(const v1::TrainConfig& config) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(config, &out, options);
  return out;
}

std::string Bool(bool b) { return b ? "True" : "False"; }  // as Python's str() writes them

// Python's repr of a float as sd-scripts stores it ("0.0001", "1e-05").
std::string PyFloat(double x) {
  std::string s = absl::StrCat(x);
  if (s.find_first_of(".e") == std::string::npos && s != "inf" && s != "nan") s += ".0";
  return s;
}

// JSON string literal.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(&out, "\\u00", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// sd-scripts' ss_tag_frequency: {"<dataset dir>": {"<tag>": count}}, tags
// being the caption's comma-separated parts.
std::string TagFrequency(const std::string& source, const std::vector<std::string>& captions) {
  std::map<std::string, int64_t> counts;
  for (const std::string& caption : captions) {
    for (absl::string_view tag : absl::StrSplit(caption, ',')) {
      std::string t(absl::StripAsciiWhitespace(tag));
      if (!t.empty()) ++counts[t];
    }
  }
  std::vector<std::string> parts;
  for (const auto& [tag, n] : counts) parts.push_back(absl::StrCat(Quote(tag), ": ", n));
  return absl::StrCat("{", Quote(source), ": {", absl::StrJoin(parts, ", "), "}}");
}

// The optimizer as sd-scripts records it: the class and its arguments,
// here the settings every DreamShot training uses.
std::string Optimizer(const trainer::AdamWSettings& a) {
  return absl::StrCat("torch.optim.adamw.AdamW(weight_decay=", PyFloat(a.weight_decay), ",betas=(", PyFloat(a.beta1),
                      ", ", PyFloat(a.beta2), "),eps=", absl::StrFormat("%g", a.eps), ")");
}

}  // namespace

std::map<std::string, std::string> AdapterMetadata(const v1::TrainConfig& c, const AdapterFacts& f) {
  const double alpha = c.has_alpha() ? c.alpha() : c.rank();
  const std::string targets = absl::StrJoin(c.target_modules(), ",");
  std::map<std::string, std::string> m = {
      {"dreamshot.version", core::kDreamShotVersion},
      {"dreamshot.run_id", absl::StrCat(f.run_id)},
      {"dreamshot.base_model", c.base_model()},
      {"dreamshot.base_model_sha256", f.base_model_sha256},
      {"dreamshot.rank", absl::StrCat(c.rank())},
      {"dreamshot.alpha", absl::StrCat(alpha)},
      {"dreamshot.target_modules", targets},
      {"dreamshot.train_text_encoder", c.train_text_encoder() ? "true" : "false"},
      {"dreamshot.shot_scale", c.shot_scale()},
      {"dreamshot.token", c.token()},
      {"dreamshot.dataset", f.dataset_source},
      {"dreamshot.dataset_sha256", f.dataset_sha256},
      {"dreamshot.steps", absl::StrCat(f.steps)},
      {"dreamshot.train_config", Json(c)},
      // kohya's keys: its LoRA browsers show these, and sd-scripts'
      // tools (resize, merge) read the dimension and alpha.
      {"ss_network_module", "networks.lora"},
      {"ss_network_dim", absl::StrCat(c.rank())},
      {"ss_network_alpha", PyFloat(alpha)},
      {"ss_base_model_version", "sd_v1"},
      {"ss_v2", Bool(false)},
      {"ss_sd_model_name", c.base_model()},
      {"ss_new_sd_model_hash", f.base_model_sha256},
      {"ss_resolution", absl::StrCat("(", c.resolution(), ", ", c.resolution(), ")")},
      {"ss_learning_rate", PyFloat(c.learning_rate())},
      {"ss_unet_lr", PyFloat(c.learning_rate())},
      {"ss_text_encoder_lr", c.train_text_encoder() ? PyFloat(c.learning_rate()) : "None"},
      {"ss_lr_scheduler", c.lr_scheduler()},
      {"ss_lr_warmup_steps", absl::StrCat(c.lr_warmup_steps())},
      {"ss_max_train_steps", absl::StrCat(c.max_train_steps())},
      {"ss_steps", absl::StrCat(f.steps)},
      {"ss_gradient_accumulation_steps", absl::StrCat(c.gradient_accumulation_steps())},
      {"ss_gradient_checkpointing", Bool(c.gradient_checkpointing())},
      {"ss_seed", absl::StrCat(c.seed())},
      {"ss_prior_loss_weight", PyFloat(c.prior_loss_weight())},
      {"ss_max_grad_norm", PyFloat(c.max_grad_norm())},
      {"ss_min_snr_gamma", c.has_snr_gamma() ? PyFloat(c.snr_gamma()) : "None"},
      {"ss_noise_offset", c.has_noise_offset() ? PyFloat(c.noise_offset()) : "None"},
      {"ss_optimizer", Optimizer(trainer::AdamWSettings{})},
      {"ss_mixed_precision", "no"},
      {"ss_cache_latents", Bool(!c.has_cache_latents() || c.cache_latents())},
      {"ss_num_train_images", absl::StrCat(f.captions.size())},
      {"ss_num_reg_images", absl::StrCat(f.class_images)},
      {"ss_training_comment", absl::StrCat("DreamShot ", core::kDreamShotVersion, ": ", c.shot_scale().empty() ? "" : c.shot_scale() + " shots, ", "token ", c.token())},
      {"ss_tag_frequency", TagFrequency(f.dataset_source, f.captions)},
      {"ss_dataset_dirs", absl::StrCat("{", Quote(f.dataset_source), ": {\"n_repeats\": 1, \"img_count\": ",
                                       f.captions.size(), "}}")},
      {"ss_training_started_at", absl::StrFormat("%.3f", f.started_ms / 1000.0)},
      {"ss_training_finished_at", absl::StrFormat("%.3f", f.finished_ms / 1000.0)},
  };
  return m;
}

}  // namespace dreamshot::services
