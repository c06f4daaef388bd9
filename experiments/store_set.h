// Every concept store over one ExperimentStore's database, made together:
// for the owners of a store file (DreamshotServer, tests, benchmarks), who
// hand each user the stores it needs.
#ifndef DREAMSHOT_EXPERIMENTS_STORE_SET_H_
#define DREAMSHOT_EXPERIMENTS_STORE_SET_H_

#include "experiments/artifact_store.h"
#include "experiments/dataset_store.h"
#include "experiments/pair_store.h"
#include "experiments/store.h"
#include "experiments/stores.h"
#include "experiments/survey_store.h"

namespace dreamshot::experiments {

class StoreSet {
 public:
  // `runs` outlives the StoreSet.
  explicit StoreSet(ExperimentStore* runs);
  StoreSet(const StoreSet&) = delete;
  StoreSet& operator=(const StoreSet&) = delete;

  ExperimentStore* runs() const { return stores_.runs; }
  ArtifactStore* artifacts() { return &artifacts_; }
  PairStore* pairs() { return &pairs_; }
  DatasetStore* datasets() { return &datasets_; }
  SurveyStore* surveys() { return &surveys_; }
  // All of them, for code that works across concepts.
  const Stores& all() const { return stores_; }

 private:
  ArtifactStore artifacts_;
  PairStore pairs_;
  DatasetStore datasets_;
  SurveyStore surveys_;
  Stores stores_;  // points at the members above
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_STORE_SET_H_
