// A fresh store per test, shared by the run store's and the concept stores'
// tests: the file is named after the test, an experiment "shots" exists.
#ifndef DREAMSHOT_EXPERIMENTS_STORE_TEST_UTIL_H_
#define DREAMSHOT_EXPERIMENTS_STORE_TEST_UTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "experiments/store.h"

namespace dreamshot::experiments {

// <test temp dir>/<name>-<pid>: unique per test process.
std::string TempPath(const std::string& name);

class StoreTestBase : public ::testing::Test {
 protected:
  void SetUp() override;

  // A running run of experiment_ named "run" (qualified: gtest has a Run()).
  experiments::Run NewRunWith(Params params, Tags tags = {});

  std::string path_;
  std::unique_ptr<ExperimentStore> store_;
  Experiment experiment_;
};

}  // namespace dreamshot::experiments

#endif  // DREAMSHOT_EXPERIMENTS_STORE_TEST_UTIL_H_
