#include "services/config_flatten.h"

#include <gtest/gtest.h>

#include "dreamshot/v1/experiment.pb.h"

namespace dreamshot::services {
namespace {

TEST(ConfigFlattenTest, FlattensNestedMapsAndRepeatedFields) {
  // Any message known to the server works as a config; this one has scalars,
  // repeated fields and a map.
  v1::AggregateRunsRequest config;
  config.add_experiment_ids(3);
  config.add_experiment_ids(4);
  config.set_filter("params.lora_rank = 8");
  config.add_ignore_params("seed");
  config.set_confidence(0.9);
  google::protobuf::Any any;
  any.PackFrom(config);
  auto flat = FlattenConfig(any);
  ASSERT_TRUE(flat.ok()) << flat.status();
  EXPECT_EQ(flat->type_name, "dreamshot.v1.AggregateRunsRequest");
  EXPECT_EQ(flat->params.at("experiment_ids"), "[3,4]");
  EXPECT_EQ(flat->params.at("filter"), "params.lora_rank = 8");
  EXPECT_EQ(flat->params.at("ignore_params"), "[\"seed\"]");
  EXPECT_EQ(flat->params.at("confidence"), "0.9");
  EXPECT_EQ(flat->params.count("metrics"), 0u);  // unset fields are not params
  EXPECT_NE(flat->json.find("\"filter\""), std::string::npos);

  v1::CreateExperimentRequest with_map;
  (*with_map.mutable_tags())["shot"] = "close";
  auto map_params = FlattenMessage(with_map);
  EXPECT_EQ(map_params.at("tags.shot"), "close");

  v1::UpdateRunRequest with_enum;
  with_enum.set_status(v1::FINISHED);
  EXPECT_EQ(FlattenMessage(with_enum).at("status"), "FINISHED");
}

TEST(ConfigFlattenTest, UnknownTypeAndBadBytesAreInvalidArgument) {
  google::protobuf::Any unknown;
  unknown.set_type_url("type.googleapis.com/acme.NoSuchConfig");
  auto r = FlattenConfig(unknown);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(r.status().message()).find("acme.NoSuchConfig"), std::string::npos);

  google::protobuf::Any garbage;
  garbage.set_type_url("type.googleapis.com/dreamshot.v1.Run");
  garbage.set_value("\xff\xff\xff");
  EXPECT_EQ(FlattenConfig(garbage).status().code(), absl::StatusCode::kInvalidArgument);

  google::protobuf::Any malformed;
  malformed.set_type_url("no-slash");
  EXPECT_EQ(FlattenConfig(malformed).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace dreamshot::services
