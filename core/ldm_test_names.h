// Test support: diffusers names -> original LDM single-file names, written
// by hand in the inverse direction and independently of
// core/ldm_key_mapping.cc, so tests can build LDM checkpoints from a
// diffusers model and check the mapping round-trips.
#ifndef DREAMSHOT_CORE_LDM_TEST_NAMES_H_
#define DREAMSHOT_CORE_LDM_TEST_NAMES_H_

#include <ATen/core/Tensor.h>

#include <map>
#include <set>
#include <string>

namespace dreamshot::core::testing {

// `component`: "unet", "vae", "text_encoder" (transformers >= 4.x names,
// cond_stage_model.transformer.text_model.*) or "text_encoder_legacy"
// (cond_stage_model.transformer.* without text_model). `all_names` is the
// component's full diffusers name set (the UNet upsampler index depends on
// whether the up block has attentions). "" when there is no LDM name.
std::string LdmNameFor(const std::string& component, const std::string& diffusers_name,
                       const std::set<std::string>& all_names, int num_blocks, int layers_per_block);

// The component's diffusers tensors under LDM names; VAE mid-attention
// linear weights [C, C] become 1x1 conv weights [C, C, 1, 1]. Aborts the
// test (via an exception) when a name has no LDM counterpart.
std::map<std::string, at::Tensor> ToLdmTensors(const std::string& component,
                                               const std::map<std::string, at::Tensor>& diffusers, int num_blocks,
                                               int layers_per_block);

}  // namespace dreamshot::core::testing

#endif  // DREAMSHOT_CORE_LDM_TEST_NAMES_H_
