#include "cli/args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace dreamshot::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ParseTest : public ::testing::Test {
 protected:
  ParseTest() {
    list_.group = "runs";
    list_.verb = "list";
    list_.flags = {{"experiment", "NAME_OR_ID", "", true}, {"filter", "EXPR", ""}, {"all", "", ""}};
    tag_.group = "runs";
    tag_.verb = "tag";
    tag_.positionals = {{"RUN"}, {"KEY=VALUE", false, true}};
    tag_.flags = {{"remove", "KEY", "", true}};
    create_.group = "runs";
    create_.verb = "create";
    create_.flags = {{"experiment", "NAME_OR_ID", "", false, true}};
    version_.group = "version";
    sweep_.group = "sweep";
    sweep_.positionals = {{"WORD", false}};
    sweep_.flags = {{"rank", "N", ""}};
    sweep_status_.group = "sweep";
    sweep_status_.verb = "status";
    sweep_status_.positionals = {{"JOB"}};
    specs_ = {&list_, &tag_, &create_, &version_, &sweep_, &sweep_status_};
  }

  absl::StatusOr<ParsedCommandLine> Parse(std::vector<std::string> argv,
                                          std::map<std::string, std::string> env = {}) {
    return ParseCommandLine(argv, specs_, env);
  }

  CommandSpec list_, tag_, create_, version_, sweep_, sweep_status_;
  std::vector<const CommandSpec*> specs_;
};

TEST_F(ParseTest, FlagsInBothFormsAndRepeated) {
  auto p = Parse({"runs", "list", "--experiment", "a", "--experiment=b", "--filter=x = 1", "--all"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->command, &list_);
  EXPECT_THAT(p->args.GetAll("experiment"), ElementsAre("a", "b"));
  EXPECT_EQ(p->args.GetOr("filter", ""), "x = 1");
  EXPECT_TRUE(p->args.Has("all"));
}

TEST_F(ParseTest, GlobalFlagsAnywhereAndDefaults) {
  auto p = Parse({"--json", "runs", "--server=h:1", "list", "--timeout", "2.5"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->global.json);
  EXPECT_EQ(p->global.server, "h:1");
  EXPECT_DOUBLE_EQ(p->global.timeout_s, 2.5);
  EXPECT_TRUE(p->global.timeout_given);

  auto d = Parse({"runs", "list"}, {{"DREAMSHOT_SERVER", "env:9"}});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->global.server, "env:9");
  EXPECT_DOUBLE_EQ(d->global.timeout_s, 30);
  EXPECT_EQ(Parse({"runs", "list"})->global.server, "127.0.0.1:50051");
}

TEST_F(ParseTest, PositionalsAndDoubleDash) {
  auto p = Parse({"runs", "tag", "5", "a=1", "--remove", "b", "--", "--c=2"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_THAT(p->args.positionals(), ElementsAre("5", "a=1", "--c=2"));
  EXPECT_THAT(p->args.GetAll("remove"), ElementsAre("b"));
}

TEST_F(ParseTest, UsageErrorsNameTheProblem) {
  auto unknown = Parse({"runs", "list", "--bogus"});
  EXPECT_TRUE(IsUsageError(unknown.status()));
  EXPECT_THAT(unknown.status().message(), HasSubstr("--bogus"));
  EXPECT_THAT(Parse({"runs", "frobnicate"}).status().message(), HasSubstr("unknown verb 'frobnicate'"));
  EXPECT_THAT(Parse({"nothing"}).status().message(), HasSubstr("unknown command 'nothing'"));
  EXPECT_THAT(Parse({"runs", "tag"}).status().message(), HasSubstr("missing RUN"));
  EXPECT_THAT(Parse({"runs", "list", "extra"}).status().message(), HasSubstr("unexpected argument 'extra'"));
  EXPECT_THAT(Parse({"runs", "list", "--filter"}).status().message(), HasSubstr("--filter needs a value"));
  EXPECT_THAT(Parse({"runs", "list", "--all=1"}).status().message(), HasSubstr("--all takes no value"));
  EXPECT_THAT(Parse({"runs", "list", "--filter", "a", "--filter", "b"}).status().message(),
              HasSubstr("given twice"));
  EXPECT_THAT(Parse({"runs", "create"}).status().message(), HasSubstr("--experiment"));
  EXPECT_THAT(Parse({"runs", "list", "--timeout", "0"}).status().message(), HasSubstr("--timeout"));
  EXPECT_THAT(Parse({"runs"}).status().message(), HasSubstr("needs a verb"));
  EXPECT_THAT(Parse({}).status().message(), HasSubstr("no command"));
}

TEST_F(ParseTest, HelpIgnoresMissingArguments) {
  auto p = Parse({"runs", "tag", "--help", "--whatever"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_TRUE(p->global.help);
  EXPECT_EQ(p->command, &tag_);
  auto group = Parse({"runs", "-h"});
  ASSERT_TRUE(group.ok());
  EXPECT_EQ(group->command, nullptr);
  EXPECT_EQ(group->group, "runs");
}

TEST_F(ParseTest, VerblessCommand) {
  auto p = Parse({"version"});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->command, &version_);
}

TEST(UsageLineTest, ShowsPositionalsAndFlags) {
  CommandSpec spec{"runs", "tag", "", "", {{"RUN"}, {"KEY=VALUE", false, true}}, {{"remove", "KEY", "", true}}};
  EXPECT_EQ(UsageLine(spec), "dreamshot runs tag RUN [KEY=VALUE...] [--remove KEY]...");
  EXPECT_THAT(CommandHelp(spec), HasSubstr("--token-file"));
}

TEST(ValueTest, Parsers) {
  EXPECT_EQ(*ParseId("12", "run id"), 12);
  EXPECT_THAT(ParseId("abc", "run id").status().message(), HasSubstr("run id must be a positive integer, got 'abc'"));
  EXPECT_FALSE(ParseId("0", "run id").ok());
  EXPECT_EQ(ParseKeyValue("a=b=c", "--param")->second, "b=c");
  EXPECT_EQ(ParseKeyValue("a=", "--param")->second, "");
  EXPECT_THAT(ParseKeyValue("novalue", "--param").status().message(), HasSubstr("KEY=VALUE, got 'novalue'"));
  EXPECT_FALSE(ParseKeyValue("=v", "--param").ok());
  EXPECT_FALSE(ParseDouble("x1", "v").ok());
  EXPECT_EQ(*ParseInt64("-3", "step"), -3);
}

TEST_F(ParseTest, AGroupWithAVerblessCommandAndVerbs) {
  auto launch = Parse({"sweep", "--rank", "4,8"});
  ASSERT_TRUE(launch.ok()) << launch.status();
  EXPECT_EQ(launch->command, &sweep_);
  auto status = Parse({"sweep", "status", "7"});
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->command, &sweep_status_);
  EXPECT_THAT(status->args.positionals(), ElementsAre("7"));
  // Only right after the group: later the word is a positional.
  auto word = Parse({"sweep", "other", "status"});
  EXPECT_FALSE(word.ok());  // one positional at most
  auto positional = Parse({"sweep", "other"});
  ASSERT_TRUE(positional.ok()) << positional.status();
  EXPECT_EQ(positional->command, &sweep_);
  EXPECT_THAT(positional->args.positionals(), ElementsAre("other"));
}

}  // namespace
}  // namespace dreamshot::cli
