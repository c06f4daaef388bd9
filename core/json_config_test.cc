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

TEST(JsonConfigTest, MalformedAndMissingFiles) {
  EXPECT_EQ(JsonConfig::FromString("{", "x.json").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(JsonConfig::FromString("[1]", "x.json").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(JsonConfig::FromFile("/no/such/config.json").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace dreamshot::core
