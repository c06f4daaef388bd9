#include "experiments/store_test_util.h"

#include <unistd.h>

#include <cstdio>

namespace dreamshot::experiments {

std::string TempPath(const std::string& name) {
  return std::string(::testing::TempDir()) + "/" + name + "-" + std::to_string(::getpid());
}

void StoreTestBase::SetUp() {
  path_ = TempPath(::testing::UnitTest::GetInstance()->current_test_info()->name()) + ".db";
  std::remove(path_.c_str());
  auto store = ExperimentStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = std::move(*store);
  auto e = store_->CreateExperiment("shots", "close/medium/long", {{"team", "ds"}});
  ASSERT_TRUE(e.ok()) << e.status();
  experiment_ = *e;
}

experiments::Run StoreTestBase::NewRunWith(Params params, Tags tags) {
  NewRun r;
  r.experiment_id = experiment_.id;
  r.name = "run";
  r.params = std::move(params);
  r.tags = std::move(tags);
  auto run = store_->CreateRun(r);
  EXPECT_TRUE(run.ok()) << run.status();
  return *run;
}

}  // namespace dreamshot::experiments
