#include "trainer/tiny_training_model.h"

#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "core/testdata_paths.h"
#include "diffusion/schedulers/scheduler_factory.h"
#include "models/load_model.h"

namespace dreamshot::trainer {

TinyTrainingModel::TinyTrainingModel(int64_t rank, uint64_t lora_seed) {
  auto loaded = models::LoadModelFromFolder<models::unet::UNet2DConditionModel>(core::ReferencePath("tiny_sd/unet"),
                                                                                core::DeviceSpec{});
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  if (!loaded.ok()) return;
  unet = std::move(*loaded);
  FreezeParameters(unet->module());
  auto index = models::lora::AdaptableModules::Index(unet->module(), models::lora::LoraComponent::kUNet);
  EXPECT_TRUE(index.ok()) << index.status();
  modules = std::make_unique<models::lora::AdaptableModules>(std::move(*index));
  LoraTrainingOptions options;
  options.rank = rank;
  auto attached = TrainableLora::Attach(*modules, options, at::detail::createCPUGenerator(lora_seed));
  EXPECT_TRUE(attached.ok()) << attached.status();
  if (attached.ok()) lora = std::move(*attached);
  auto ddpm = diffusion::LoadScheduler(core::ReferencePath("tiny_sd"), diffusion::SchedulerChoice{"ddpm"});
  EXPECT_TRUE(ddpm.ok()) << ddpm.status();
  if (ddpm.ok()) scheduler = std::move(*ddpm);
}

}  // namespace dreamshot::trainer
