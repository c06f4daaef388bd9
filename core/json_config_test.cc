#include "core/json_config.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace dreamshot::core {
namespace {

TEST(JsonConfigTest, TypedGettersWithFallbacksAndNamedErrors) {
  auto c = JsonConfig::FromString(
      R"({"hidden_size": 16, "eps": 1e-5, "act": "quick_gelu", "flag": true, "dims": [1, 2],
          "names": ["a"], "nested": {"x": 3}, "nothing": null, "unknown_key": {}})",
      "config.json");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c->Int("hidden_size"), 16);
  EXPECT_DOUBLE_EQ(*c->Double("eps"), 1e-5);
  EXPECT_DOUBLE_EQ(*c->Double("hidden_size"), 16.0);  // an integer is a number
  EXPECT_EQ(*c->String("act"), "quick_gelu");
  EXPECT_TRUE(*c->Bool("flag"));
  EXPECT_EQ(*c->IntList("dims"), (std::vector<int64_t>{1, 2}));
  EXPECT_FALSE(c->BoolList("dims").ok());  // integers are not booleans
  EXPECT_EQ(*c->StringList("names"), (std::vector<std::string>{"a"}));
  EXPECT_EQ(*c->Object("nested")->Int("x"), 3);
  EXPECT_EQ(*c->Int("nothing", 7), 7);
  EXPECT_FALSE(c->Has("nothing"));

  auto missing = c->Int("num_layers");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.status().message(), "config.json: num_layers is required but missing");
  EXPECT_EQ(c->Int("eps").status().message(), "config.json: eps must be an integer");
  EXPECT_EQ(c->Object("nested")->Int("y").status().message(), "config.json: nested: y is required but missing");
}

TEST(JsonConfigTest, ObjectLists) {
  auto c = JsonConfig::FromString(R"({"cases": [{"name": "a"}, {"name": "b"}], "bad": [1]})", "cases.json");
  ASSERT_TRUE(c.ok());
  auto cases = c->ObjectList("cases");
  ASSERT_TRUE(cases.ok());
  ASSERT_EQ(cases->size(), 2u);
  EXPECT_EQ(*(*cases)[1].String("name"), "b");
  EXPECT_EQ((*cases)[1].Int("x").status().message(), "cases.json: cases[1]: x is required but missing");
  EXPECT_EQ(c->ObjectList("bad").status().message(), "cases.json: bad[0] must be an object");
  EXPECT_EQ(c->RawJson("bad"), "[1]");
}

TEST(JsonConfigTest, PythonNonFiniteNumbersAreRead) {
  auto c = JsonConfig::FromString(
      R"({"lambda_min_clipped": -Infinity, "hi": Infinity, "n": NaN, "s": "NaN -Infinity \" Infinity"})",
      "scheduler_config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c->Double("lambda_min_clipped"), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(*c->Double("hi"), std::numeric_limits<double>::infinity());
  EXPECT_TRUE(std::isnan(*c->Double("n")));
  EXPECT_EQ(*c->String("s"), "NaN -Infinity \" Infinity");  // strings untouched
}

// Python's json writes 1e12 for a float and 1000000000000 for an int: only
// the second is an integer, and one beyond int64 is refused rather than
// wrapped to a negative number.
TEST(JsonConfigTest, IntegersMustFitInt64AndBeWrittenAsIntegers) {
  auto c = JsonConfig::FromString(
      R"({"exp": 1e12, "big": 1000000000000, "huge": 18446744073709551615, "list": [1, 18446744073709551615]})",
      "scheduler_config.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->Int("exp").status().message(), "scheduler_config.json: exp must be an integer");
  EXPECT_EQ(*c->Int("big"), 1000000000000);
  EXPECT_EQ(c->Int("huge").status().message(), "scheduler_config.json: huge must be an integer");
  EXPECT_EQ(c->IntList("list").status().message(), "scheduler_config.json: list must be a list of integers");
}

TEST(JsonConfigTest, RangeChecksNameTheKey) {
  EXPECT_TRUE(CheckIntRange("layers_per_block", 2, 1, 16).ok());
  absl::Status s = CheckIntRange("block_out_channels[1]", 1000000000, 1, 16384);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "block_out_channels[1] = 1000000000 is outside [1, 16384]");
  EXPECT_TRUE(CheckNumberRange("beta_end", 0.012, 0, 1).ok());
  EXPECT_EQ(CheckNumberRange("beta_end", 2, 0, 1).message(), "beta_end = 2 is outside [0, 1]");
  EXPECT_FALSE(CheckNumberRange("norm_eps", std::nan(""), 0, 1).ok());
}

TEST(JsonConfigTest, MalformedAndMissingFiles) {
  EXPECT_EQ(JsonConfig::FromString("{", "x.json").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(JsonConfig::FromString("[1]", "x.json").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(JsonConfig::FromFile("/no/such/config.json").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace dreamshot::core
