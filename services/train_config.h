// A TrainConfig made complete and checked before a training job is queued:
// defaults filled in (so the stored config says exactly what ran), and every
// problem that can be known before the first step refused naming its field
// or file.
#ifndef DREAMSHOT_SERVICES_TRAIN_CONFIG_H_
#define DREAMSHOT_SERVICES_TRAIN_CONFIG_H_

#include "absl/status/status.h"
#include "dreamshot/v1/trainer.pb.h"
#include "services/train_instances.h"

namespace dreamshot::services {

// `inputs` reads the instance images of a dataset pool; without it a
// config naming a pool is refused.
absl::Status ResolveTrainConfig(v1::TrainConfig* config, const TrainInputs& inputs = {});

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_TRAIN_CONFIG_H_
