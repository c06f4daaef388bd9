#include "experiments/store_set.h"

namespace dreamshot::experiments {

StoreSet::StoreSet(ExperimentStore* runs)
    : artifacts_(runs->database()),
      pairs_(runs->database()),
      datasets_(runs->database()),
      surveys_(runs->database(), runs->changes()),
      stores_{runs, &artifacts_, &pairs_, &datasets_, &surveys_} {}

}  // namespace dreamshot::experiments
