// The stores of one store file, for code that works across concepts (a
// survey is created from image pairs, as a run, with artifacts of its own).
// Pointers only: code includes the header of each store it calls, and an
// owner (DreamshotServer, StoreSet) fills in the stores it has.
#ifndef DREAMSHOT_EXPERIMENTS_STORES_H_
#define DREAMSHOT_EXPERIMENTS_STORES_H_

namespace dreamshot::experiments {

class ArtifactStore;
class DatasetStore;
class ExperimentStore;
class PairStore;
class SurveyStore;

struct Stores {
  ExperimentStore* runs = nullptr;  // experiments, runs, metrics, search
  ArtifactStore* artifacts = nullptr;
  PairStore* pairs = nullptr;
  DatasetStore* datasets = nullptr;
  SurveyStore* surveys = nullptr;
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_STORES_H_
