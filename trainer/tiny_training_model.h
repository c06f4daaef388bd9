// For trainer tests: the tiny reference UNet, frozen, with a trainable
// adapter attached, and the DDPM scheduler training uses.
#ifndef DREAMSHOT_TRAINER_TINY_TRAINING_MODEL_H_
#define DREAMSHOT_TRAINER_TINY_TRAINING_MODEL_H_

#include <memory>

#include "diffusion/schedulers/scheduler.h"
#include "models/lora/adaptable_modules.h"
#include "models/unet/unet_2d_condition.h"
#include "trainer/trainable_lora.h"

namespace dreamshot::trainer {

struct TinyTrainingModel {
  // Fails the calling test (gtest) when the reference model does not load.
  explicit TinyTrainingModel(int64_t rank = 4, uint64_t lora_seed = 3);

  std::unique_ptr<models::unet::UNet2DConditionModel> unet;
  std::unique_ptr<models::lora::AdaptableModules> modules;
  std::unique_ptr<TrainableLora> lora;
  std::unique_ptr<diffusion::Scheduler> scheduler;
};

}  // namespace dreamshot::trainer

#endif  // DREAMSHOT_TRAINER_TINY_TRAINING_MODEL_H_
