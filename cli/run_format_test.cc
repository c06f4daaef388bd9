#include "cli/run_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dreamshot::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

v1::Run MakeRun(int64_t id, std::vector<std::pair<std::string, std::string>> params,
                std::vector<std::pair<std::string, double>> metrics) {
  v1::Run run;
  run.set_id(id);
  run.set_status(v1::FINISHED);
  run.set_start_ms(1000);
  run.set_end_ms(4000);
  for (const auto& [k, v] : params) {
    v1::Param* p = run.add_params();
    p->set_key(k);
    p->set_value(v);
  }
  for (const auto& [k, v] : metrics) {
    v1::MetricSummary* m = run.add_metrics();
    m->set_key(k);
    m->set_value(v);
    m->set_count(1);
  }
  return run;
}

TEST(KeysMentionedTest, FindsKeysPerNamespace) {
  const std::string filter = "params.lora_rank = 8 and (metrics.clip_t > 0.3 or tags.keep = 'yes') "
                             "and param.`odd key` = 1 and xparams.no = 2";
  EXPECT_THAT(KeysMentioned(filter, "params"), ElementsAre("lora_rank", "odd key"));
  EXPECT_THAT(KeysMentioned(filter, "metrics"), ElementsAre("clip_t"));
  EXPECT_THAT(KeysMentioned("METRICS.opt.lr desc", "metrics"), ElementsAre("opt.lr"));
}

TEST(RunsTableTest, PrefersMentionedAndVaryingKeys) {
  std::vector<v1::Run> runs = {MakeRun(1, {{"a", "1"}, {"same", "x"}, {"seed", "1"}}, {{"loss", 0.5}}),
                               MakeRun(2, {{"a", "2"}, {"same", "x"}, {"seed", "2"}}, {{"loss", 0.25}})};
  const std::string text = RunsTable(runs, {"seed"}, {}, 0);
  const std::string header = text.substr(0, text.find('\n'));
  EXPECT_THAT(header, HasSubstr("DURATION  seed  a  same  loss"));
  EXPECT_THAT(text, HasSubstr("3.0s"));
  EXPECT_THAT(text, HasSubstr("0.25"));
}

TEST(CompareTablesTest, MarksDifferingParams) {
  v1::CompareRunsResponse response;
  *response.add_runs() = MakeRun(1, {}, {});
  *response.add_runs() = MakeRun(2, {}, {});
  v1::ParamRow* rank = response.add_params();
  rank->set_key("rank");
  rank->add_values("4");
  rank->add_values("8");
  rank->add_present(true);
  rank->add_present(true);
  rank->set_differs(true);
  v1::MetricRow* clip = response.add_metrics();
  clip->set_key("clip_t");
  v1::MetricCell* cell = clip->add_cells();
  cell->set_present(true);
  cell->set_last(0.3);
  cell->set_min(0.1);
  cell->set_max(0.3);
  cell->set_count(3);
  clip->add_cells();
  const std::string text = CompareTables(response);
  EXPECT_THAT(text, HasSubstr("*  rank"));
  EXPECT_THAT(text, HasSubstr("0.3 (0.1..0.3)"));
  EXPECT_THAT(text, Not(HasSubstr("*  (status)")));
}

TEST(AggregateTableTest, MeanPlusMinusHalfWidth) {
  v1::AggregateRunsResponse response;
  response.set_confidence(0.95);
  for (const char* rank : {"4", "8"}) {
    v1::RunGroup* g = response.add_groups();
    v1::Param* p = g->add_params();
    p->set_key("rank");
    p->set_value(rank);
    g->add_run_ids(1);
    g->add_run_ids(2);
    v1::MetricAggregate* m = g->add_metrics();
    m->set_key("clip_t");
    m->set_n(2);
    m->set_mean(0.3);
    m->set_ci_low(0.2);
    m->set_ci_high(0.4);
  }
  const std::string text = AggregateTable(response);
  EXPECT_THAT(text, HasSubstr("0.3 \xC2\xB1 0.1 [0.2, 0.4]"));
  EXPECT_THAT(text, HasSubstr("rank"));
}

}  // namespace
}  // namespace dreamshot::cli
