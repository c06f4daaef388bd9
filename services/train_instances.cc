#include "services/train_instances.h"

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "trainer/pool_images.h"

namespace dreamshot::services {

absl::StatusOr<InstanceSet> ListInstances(const v1::TrainConfig& c, const TrainInputs& inputs) {
  InstanceSet set;
  if (c.pool_run_id() == 0) {
    ASSIGN_OR_RETURN(set.images, trainer::ListImageFolder(c.instance_dir()));
    set.source = c.instance_dir();
    return set;
  }
  if (inputs.datasets == nullptr || inputs.artifacts == nullptr) {
    return absl::FailedPreconditionError("pool_run_id: this server cannot read dataset pools here");
  }
  ASSIGN_OR_RETURN(set.images, trainer::ListPoolImages(*inputs.datasets, *inputs.artifacts,
                                                       {c.pool_run_id(), c.pool_split(), c.shot_scale()}));
  set.source = absl::StrCat("pool run ", c.pool_run_id());
  if (!c.pool_split().empty()) absl::StrAppend(&set.source, " split '", c.pool_split(), "'");
  if (!c.shot_scale().empty()) absl::StrAppend(&set.source, " (", c.shot_scale(), ")");
  return set;
}

}  // namespace dreamshot::services
