// Tests for the run filter/order-by compiler. The compiled SQL is executed
// against an in-memory SQLite database with the real schema, so the tests
// check which runs match, not how the SQL happens to be spelled.
#include "experiments/filter.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace dreamshot::experiments {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class FilterDbTest : public ::testing::Test {
 protected:
  FilterDbTest() : db_(":memory:", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE) {
    db_.exec(R"sql(
      CREATE TABLE runs (id INTEGER PRIMARY KEY, experiment_id INTEGER NOT NULL,
        name TEXT NOT NULL, status TEXT NOT NULL, start_ms INTEGER, end_ms INTEGER,
        parent_run_id INTEGER, notes TEXT NOT NULL DEFAULT '', created_ms INTEGER NOT NULL);
      CREATE TABLE params (run_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        value_num REAL, PRIMARY KEY (run_id, key));
      CREATE TABLE latest_metrics (run_id INTEGER NOT NULL, key TEXT NOT NULL,
        step INTEGER NOT NULL, value REAL NOT NULL, wall_ms INTEGER NOT NULL,
        min_value REAL, max_value REAL, count INTEGER, PRIMARY KEY (run_id, key));
      CREATE TABLE run_tags (run_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
        PRIMARY KEY (run_id, key));
      INSERT INTO runs VALUES
        (1, 1, 'baseline', 'finished', 1000, 2000, NULL, 'first try', 100),
        (2, 1, 'lora-r4',  'finished', 2000, 3000, 1,    'Good LoRA', 200),
        (3, 1, 'lora-r8',  'failed',   3000, 3500, 1,    '',          300),
        (4, 2, 'lora-r16', 'running',  4000, NULL, NULL, 'nan loss',  400),
        (5, 2, 'sweep-a',  'queued',   NULL, NULL, NULL, '',          500),
        (6, 2, 'sweep-b',  'cancelled',5000, 5100, 4,    '',          600),
        (7, 3, 'dpm',      'finished', 6000, 7000, NULL, 'best so far', 700),
        (8, 3, 'ddim',     'finished', 7000, 8000, 7,    '',          800);
    )sql");
    Param(2, "lora_rank", "4"); Param(3, "lora_rank", "8"); Param(4, "lora_rank", "16");
    Param(6, "lora_rank", "8"); Param(7, "lora_rank", "4");
    Param(1, "lr", "1e-4"); Param(2, "lr", "0.0001"); Param(3, "lr", "3e-4");
    Param(4, "lr", "1e-3"); Param(5, "lr", "0.0001");
    Param(1, "optimizer", "adam"); Param(2, "optimizer", "adamw");
    Param(3, "optimizer", "adamw"); Param(4, "optimizer", "sgd"); Param(7, "optimizer", "AdamW");
    Param(1, "seed", "42"); Param(2, "seed", "042");
    Param(2, "my key", "x");
    Metric(1, "clip_t", 0.25); Metric(2, "clip_t", 0.31); Metric(3, "clip_t", 0.29);
    Metric(4, "clip_t", 0.33); Metric(7, "clip_t", 0.35); Metric(8, "clip_t", 0.31);
    Metric(1, "loss", 0.5); Metric(2, "loss", 0.2); Metric(3, "loss", 0.4); Metric(4, "loss", 1.5);
    Metric(7, "val/fid", 12.5); Metric(8, "val/fid", 14.0);
    Tag(2, "keep", "yes"); Tag(7, "keep", "yes"); Tag(3, "keep", "no");
    Tag(1, "owner", "alice"); Tag(2, "owner", "Bob"); Tag(3, "owner", "bob"); Tag(7, "owner", "carol");
    Tag(2, "version", "1.50"); Tag(3, "version", "2");
    Tag(8, "it's; DROP TABLE runs; --", "v");
  }

  void Param(int64_t run, const std::string& key, const std::string& value) {
    SQLite::Statement st(db_, "INSERT INTO params VALUES (?, ?, ?, ?)");
    st.bind(1, run);
    st.bind(2, key);
    st.bind(3, value);
    // value_num is the value parsed as a number, NULL when it is not one.
    char* end = nullptr;
    const double num = std::strtod(value.c_str(), &end);
    if (!value.empty() && *end == '\0' && std::isfinite(num)) st.bind(4, num);
    st.exec();
  }
  void Metric(int64_t run, const std::string& key, double value) {
    SQLite::Statement st(db_, "INSERT INTO latest_metrics VALUES (?, ?, 10, ?, 0, ?, ?, 1)");
    st.bind(1, run);
    st.bind(2, key);
    st.bind(3, value);
    st.bind(4, value);
    st.bind(5, value);
    st.exec();
  }
  void Tag(int64_t run, const std::string& key, const std::string& value) {
    SQLite::Statement st(db_, "INSERT INTO run_tags VALUES (?, ?, ?)");
    st.bind(1, run);
    st.bind(2, key);
    st.bind(3, value);
    st.exec();
  }

  // Runs SELECT r.id ... WHERE <filter> ORDER BY <order_by> and returns the ids.
  std::vector<int64_t> Run(const SqlFragment& where, const SqlFragment& order) {
    SQLite::Statement st(db_, absl::StrCat("SELECT r.id FROM runs r WHERE ", where.sql,
                                           " ORDER BY ", order.sql));
    int index = 0;
    for (const SqlFragment* f : {&where, &order}) {
      for (const SqlValue& v : f->bindings) {
        ++index;
        std::visit([&](const auto& x) { st.bind(index, x); }, v);
      }
    }
    std::vector<int64_t> ids;
    while (st.executeStep()) ids.push_back(st.getColumn(0).getInt64());
    return ids;
  }

  std::vector<int64_t> Ids(absl::string_view filter, absl::string_view order_by = "id") {
    absl::StatusOr<SqlFragment> where = CompileRunFilter(filter);
    absl::StatusOr<SqlFragment> order = CompileRunOrderBy(order_by);
    if (!where.ok() || !order.ok()) {
      ADD_FAILURE() << filter << " / " << order_by << ": " << where.status() << " "
                    << order.status();
      return {};
    }
    return Run(*where, *order);
  }

  int64_t CountRuns() { return db_.execAndGet("SELECT count(*) FROM runs").getInt64(); }

  SQLite::Database db_;
};

TEST_F(FilterDbTest, EmptyFilterMatchesEverything) {
  absl::StatusOr<SqlFragment> f = CompileRunFilter("  \t\n");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->sql, "1");
  EXPECT_THAT(f->bindings, IsEmpty());
  EXPECT_THAT(Ids(""), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
}

TEST_F(FilterDbTest, MetricsAndParamsNumeric) {
  EXPECT_THAT(Ids("metrics.clip_t > 0.3"), ElementsAre(2, 4, 7, 8));
  EXPECT_THAT(Ids("metrics.clip_t > 0.3 AND params.lora_rank <= 8"), ElementsAre(2, 7));
  EXPECT_THAT(Ids("metric.loss < 1 AND metrics.clip_t >= 0.29"), ElementsAre(2, 3));
  EXPECT_THAT(Ids("metrics.val/fid < 13"), ElementsAre(7));
  EXPECT_THAT(Ids("metrics.`val/fid` >= 1.3e1"), ElementsAre(8));
  // "1e-4" and "0.0001" are the same number.
  EXPECT_THAT(Ids("params.lr = 0.0001"), ElementsAre(1, 2, 5));
  EXPECT_THAT(Ids("params.lr > 1E-4 and params.lr < .002"), ElementsAre(3, 4));
}

TEST_F(FilterDbTest, ParamsNumberVersusString) {
  EXPECT_THAT(Ids("params.seed = 42"), ElementsAre(1, 2));
  EXPECT_THAT(Ids("params.seed = '42'"), ElementsAre(1));
  EXPECT_THAT(Ids("params.seed == \"042\""), ElementsAre(2));
  // Non-numeric values never match a numeric comparison.
  EXPECT_THAT(Ids("params.optimizer != 0"), IsEmpty());
  EXPECT_THAT(Ids("params.`my key` = 'x'"), ElementsAre(2));
  EXPECT_THAT(Ids("params.optimizer <> 'adamw'"), ElementsAre(1, 4, 7));
}

TEST_F(FilterDbTest, PrecedenceAndParentheses) {
  // AND binds tighter than OR.
  EXPECT_THAT(Ids("status = 'finished' OR status = 'failed' AND params.lora_rank = 8"),
              ElementsAre(1, 2, 3, 7, 8));
  EXPECT_THAT(Ids("(status = 'finished' OR status = 'failed') AND params.lora_rank = 8"),
              ElementsAre(3));
  // NOT binds tighter than AND.
  EXPECT_THAT(Ids("NOT status = 'finished' AND experiment_id = 2"), ElementsAre(4, 5, 6));
  EXPECT_THAT(Ids("NOT (status = 'finished' AND experiment_id = 1)"),
              ElementsAre(3, 4, 5, 6, 7, 8));
  EXPECT_THAT(Ids("metrics.clip_t > 0.3 and not params.lora_rank = 4 or id = 1"),
              ElementsAre(1, 4, 8));
  EXPECT_THAT(Ids("NOT NOT ((((id = 3))))"), ElementsAre(3));
}

TEST_F(FilterDbTest, MissingKeysAreFalseAndNotIncludesThem) {
  EXPECT_THAT(Ids("tags.keep != 'yes'"), ElementsAre(3));
  EXPECT_THAT(Ids("NOT tags.keep = 'yes'"), ElementsAre(1, 3, 4, 5, 6, 8));
  EXPECT_THAT(Ids("tags.nope = 'x' OR NOT tags.nope = 'x'"), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
  // Nullable attributes behave the same: end_ms is NULL for runs 4 and 5.
  EXPECT_THAT(Ids("start_time >= 3000 AND end_time < 6000"), ElementsAre(3, 6));
  EXPECT_THAT(Ids("NOT end_time < 6000"), ElementsAre(4, 5, 7, 8));
  EXPECT_THAT(Ids("attr.parent_run_id != 1"), ElementsAre(6, 8));
}

TEST_F(FilterDbTest, InAndLike) {
  EXPECT_THAT(Ids("params.lora_rank IN (4, 16)"), ElementsAre(2, 4, 7));
  EXPECT_THAT(Ids("params.lora_rank not in (4,16)"), ElementsAre(3, 6));
  EXPECT_THAT(Ids("tags.owner IN ('bob', 'carol')"), ElementsAre(3, 7));
  EXPECT_THAT(Ids("STATUS IN ('Queued', 'running')"), ElementsAre(4, 5));
  EXPECT_THAT(Ids("params.optimizer LIKE 'adam%'"), ElementsAre(1, 2, 3, 7));
  EXPECT_THAT(Ids("params.optimizer NOT LIKE 'ADAMW'"), ElementsAre(1, 4));
  EXPECT_THAT(Ids("tags.owner LIKE 'BOB'"), ElementsAre(2, 3));
  EXPECT_THAT(Ids("name LIKE 'lora-%' AND run.id > 2"), ElementsAre(3, 4));
  EXPECT_THAT(Ids("status like 'f%'"), ElementsAre(1, 2, 3, 7, 8));
}

TEST_F(FilterDbTest, AttributesAndTagLiterals) {
  EXPECT_THAT(Ids("parent_run_id = 1"), ElementsAre(2, 3));
  EXPECT_THAT(Ids("notes = ''"), ElementsAre(3, 5, 6, 8));
  EXPECT_THAT(Ids("attributes.created_time > 650 OR run_id = +1"), ElementsAre(1, 7, 8));
  EXPECT_THAT(Ids("Attributes.Experiment_ID = 3"), ElementsAre(7, 8));
  EXPECT_THAT(Ids("notes = 'it''s' OR notes = \"Good LoRA\""), ElementsAre(2));
  // Number literals on tags compare as written.
  EXPECT_THAT(Ids("tags.version = 1.50"), ElementsAre(2));
  EXPECT_THAT(Ids("tags.version = 1.5"), IsEmpty());
  EXPECT_THAT(Ids("tags.version IN (2, '1.50')"), ElementsAre(2, 3));
}

TEST_F(FilterDbTest, InjectionAttemptsAreJustValues) {
  const char* kAttacks[] = {
      "tags.x = 'a''; DROP TABLE runs; --'",
      "tags.owner = 'alice'' OR ''1''=''1'",
      "name = \"x\\\" OR 1=1 --\"",
      "params.`optimizer'; DROP TABLE params; --` = 'adam'",
      "tags.`a``b) OR 1=1 --` = 'x'",
      "tags.owner IN ('x'); DELETE FROM runs; --')",
      "name LIKE '%'' OR ''a''=''a'",
  };
  for (const char* attack : kAttacks) {
    absl::StatusOr<SqlFragment> f = CompileRunFilter(attack);
    if (!f.ok()) {
      // Not compiling is a fine answer too, as long as it is a clean error.
      EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << attack;
      continue;
    }
    EXPECT_THAT(f->sql, ::testing::Not(HasSubstr("DROP"))) << attack;
    EXPECT_THAT(Ids(attack), IsEmpty()) << attack;
  }
  // The statement-looking key exists verbatim on run 8 and is matched as data.
  EXPECT_THAT(Ids("tags.`it's; DROP TABLE runs; --` = 'v'"), ElementsAre(8));
  EXPECT_THAT(Ids("tags.`it\\'s; DROP TABLE runs; --` LIKE 'V'"), ElementsAre(8));
  EXPECT_EQ(CountRuns(), 8);
  EXPECT_EQ(db_.execAndGet("SELECT count(*) FROM params").getInt64(), 18);
}

TEST_F(FilterDbTest, OrderBy) {
  EXPECT_THAT(Ids("", ""), ElementsAre(8, 7, 6, 4, 3, 2, 1, 5));
  // Ties (runs 2 and 8 at 0.31) break by id descending; missing runs last.
  EXPECT_THAT(Ids("", "metrics.clip_t desc"), ElementsAre(7, 4, 8, 2, 3, 1, 6, 5));
  EXPECT_THAT(Ids("", "metrics.clip_t ASC"), ElementsAre(1, 3, 8, 2, 4, 7, 6, 5));
  // Numeric, not textual: 16 > 8 > 4.
  EXPECT_THAT(Ids("", "params.lora_rank DESC"), ElementsAre(4, 6, 3, 7, 2, 8, 5, 1));
  EXPECT_THAT(Ids("", "params.optimizer"), ElementsAre(7, 1, 3, 2, 4, 8, 6, 5));
  EXPECT_THAT(Ids("", "status, start_time desc"), ElementsAre(6, 3, 8, 7, 2, 1, 5, 4));
  EXPECT_THAT(Ids("", "tags.owner desc"), ElementsAre(7, 3, 1, 2, 8, 6, 5, 4));
  EXPECT_THAT(Ids("", "end_time"), ElementsAre(1, 2, 3, 6, 7, 8, 5, 4));
  EXPECT_THAT(Ids("metrics.clip_t > 0.3 AND tags.owner != 'x'", "metrics.clip_t desc"),
              ElementsAre(7, 2));
  EXPECT_THAT(Ids("params.lr > 0", "params.lr DESC, metrics.loss ASC"),
              ElementsAre(4, 3, 1, 2, 5));
}

TEST(FilterSqlTest, KeysAndLiteralsAreBindings) {
  absl::StatusOr<SqlFragment> f = CompileRunFilter("params.lr >= 2 AND tags.`k'ey` IN ('a', 7)");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->sql,
            "(EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = ? AND "
            "p.value_num >= ?) AND EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id "
            "AND t.key = ? AND t.value IN (?, ?)))");
  EXPECT_THAT(f->bindings,
              ElementsAre(SqlValue(std::string("lr")), SqlValue(int64_t{2}),
                          SqlValue(std::string("k'ey")), SqlValue(std::string("a")),
                          SqlValue(std::string("7"))));
  absl::StatusOr<SqlFragment> o = CompileRunOrderBy("metrics.clip_t desc");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->sql,
            "(SELECT m.value FROM latest_metrics m WHERE m.run_id = r.id AND m.key = ?) "
            "DESC NULLS LAST, r.id DESC");
  EXPECT_THAT(o->bindings, ElementsAre(SqlValue(std::string("clip_t"))));
}

struct ErrorCase {
  const char* input;
  const char* message;  // must appear in the status message
};

TEST(FilterErrorTest, MalformedFiltersNameProblemAndColumn) {
  const ErrorCase kCases[] = {
      {"metrics.clip_t > ", "filter: expected a value after '>' at column 18"},
      {"metrics.clip_t >= AND", "filter: expected a value after '>=' at column 19"},
      {"foo.bar = 1", "filter: unknown field namespace 'foo' at column 1 (expected params, "
                      "metrics, tags or attributes)"},
      {"tags.a = 'abc", "filter: unterminated string starting at column 10"},
      {"tags.a = \"abc\\\"", "filter: unterminated string starting at column 10"},
      {"status = 'finished')", "filter: unexpected ')' at column 20"},
      {"status = 'finished' xyz", "filter: trailing input 'xyz' at column 21"},
      {"metrics.clip_t = 'x'",
       "filter: metrics.clip_t compares with numbers, got string 'x' at column 18"},
      {"metrics.loss LIKE 'a%'", "does not support LIKE at column 14"},
      {"status = 'done'", "filter: invalid status 'done' at column 10 (expected one of "
                          "queued, running, finished, failed, cancelled)"},
      {"status IN ('failed', 'oops')", "invalid status 'oops' at column 22"},
      {"(status = 'failed'", "filter: unexpected end of input at column 19 (expected ')' to "
                             "close '(' at column 1)"},
      {"status = 'failed' AND", "filter: unexpected end of input at column 22"},
      {"bogus = 1", "filter: unknown attribute 'bogus' at column 1"},
      {"attr.bogus = 1", "filter: unknown attribute 'bogus' at column 6"},
      {"params. = 1", "filter: expected a key name after 'params.' at column 8"},
      {"tags.`` = 1", "filter: expected a key name after 'tags.' at column 6"},
      {"params.x 5", "filter: unexpected number 5 at column 10 (expected an operator"},
      {"params.x", "filter: unexpected end of input at column 9 (expected an operator"},
      {"params.x NOT = 5", "filter: unexpected '=' at column 14 (expected IN or LIKE"},
      {"params.x IN 5", "filter: unexpected number 5 at column 13 (expected '(' after IN)"},
      {"params.x IN ()", "filter: unexpected ')' at column 14"},
      {"params.x IN (1, 'a')", "filter: IN list mixes numbers and strings at column 17"},
      {"params.x IN (1 2)", "filter: unexpected number 2 at column 16"},
      {"params.x IN (1,", "filter: unexpected end of input at column 16"},
      {"params.x LIKE 5", "filter: expected a quoted string pattern after LIKE at column 15"},
      {"start_time = 'now'",
       "filter: start_time compares with numbers, got string 'now' at column 14"},
      {"id LIKE '1%'", "does not support LIKE at column 4"},
      {"tags.a = 'x\\q'", "filter: unknown escape '\\q' at column 12"},
      {"tags.a = 1.2.3", "filter: invalid number '1.2.3' at column 10"},
      {"tags.a = 12abc", "filter: invalid number '12abc' at column 10"},
      {"tags.a = 1e", "filter: invalid number '1e' at column 10"},
      {"tags.a = 1e999", "filter: number '1e999' is out of range at column 10"},
      {"id = 1 $", "filter: unexpected character '$' at column 8"},
      {"id = 1 AND name = '\x01", "filter: unterminated string starting at column 19"},
      {"id \x7f 1", "filter: unexpected character '\\x7f' at column 4"},
      {"tags.a ! 1", "filter: unexpected character '!' at column 8"},
      {"`x` = 1", "filter: a backquoted name needs a namespace at column 1"},
      {"tags.`abc = 1", "filter: unterminated backquoted name starting at column 6"},
      {"()", "filter: unexpected ')' at column 2 (expected a field"},
      {"AND id = 1", "filter: unexpected 'AND' at column 1"},
      {"id = 1 OR", "filter: unexpected end of input at column 10"},
      {"NOT", "filter: unexpected end of input at column 4"},
      {"id = 1 AND )", "filter: unexpected ')' at column 12"},
      {"id = x", "filter: expected a value after '=' at column 6"},
      {"'x' = id", "filter: unexpected string 'x' at column 1"},
      {"42", "filter: unexpected number 42 at column 1"},
      {"id = 1 id = 2", "filter: trailing input 'id = 2' at column 8"},
      // The first problem in the input is the one reported.
      {"foo.x = 'unterminated", "unknown field namespace 'foo' at column 1"},
  };
  for (const ErrorCase& c : kCases) {
    absl::StatusOr<SqlFragment> f = CompileRunFilter(c.input);
    ASSERT_FALSE(f.ok()) << c.input << " compiled to " << f->sql;
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << c.input;
    EXPECT_THAT(std::string(f.status().message()), HasSubstr(c.message)) << c.input;
  }
}

TEST(FilterErrorTest, MalformedOrderBy) {
  const ErrorCase kCases[] = {
      {"metrics.x sideways", "order_by: unexpected 'sideways' at column 11"},
      {"a.b", "order_by: unknown field namespace 'a' at column 1"},
      {"id,", "order_by: unexpected end of input at column 4 (expected a field"},
      {"'x'", "order_by: unexpected string 'x' at column 1"},
      {"params.x desc asc", "order_by: unexpected 'asc' at column 15"},
      {"id, , name", "order_by: unexpected ',' at column 5"},
      {"bogus desc", "order_by: unknown attribute 'bogus' at column 1"},
      {"id, id, id, id, id, id, id, id, id", "order_by: more than 8 order-by terms at column 33"},
  };
  for (const ErrorCase& c : kCases) {
    absl::StatusOr<SqlFragment> f = CompileRunOrderBy(c.input);
    ASSERT_FALSE(f.ok()) << c.input << " compiled to " << f->sql;
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << c.input;
    EXPECT_THAT(std::string(f.status().message()), HasSubstr(c.message)) << c.input;
  }
  EXPECT_TRUE(CompileRunOrderBy("id, id, id, id, id, id, id, id").ok());
}

TEST(FilterLimitsTest, LengthDepthAndInList) {
  EXPECT_THAT(std::string(CompileRunFilter(std::string(5000, ' ')).status().message()),
              HasSubstr("filter: too long (5000 bytes, at most 4096)"));
  EXPECT_FALSE(CompileRunOrderBy(std::string(4097, ' ')).ok());

  auto nested = [](int depth) {
    return std::string(depth, '(') + "id = 1" + std::string(depth, ')');
  };
  EXPECT_TRUE(CompileRunFilter(nested(64)).ok());
  EXPECT_THAT(std::string(CompileRunFilter(nested(65)).status().message()),
              HasSubstr("filter: nesting deeper than 64 levels at column 65"));
  EXPECT_FALSE(CompileRunFilter(std::string(4000, '(')).ok());

  std::string nots;
  for (int i = 0; i < 65; ++i) nots += "NOT ";
  EXPECT_THAT(std::string(CompileRunFilter(nots + "id = 1").status().message()),
              HasSubstr("nesting deeper than 64 levels at column 257"));
  EXPECT_TRUE(CompileRunFilter(nots.substr(4) + "id = 1").ok());

  auto in_list = [](int n) {
    std::vector<std::string> values(n, "7");
    return absl::StrCat("params.x IN (", absl::StrJoin(values, ","), ")");
  };
  absl::StatusOr<SqlFragment> ok = CompileRunFilter(in_list(1000));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->bindings.size(), 1001u);
  EXPECT_THAT(std::string(CompileRunFilter(in_list(1001)).status().message()),
              HasSubstr("IN list has more than 1000 values at column 2014"));
}

TEST_F(FilterDbTest, LargestInListRuns) {
  std::vector<std::string> values;
  for (int i = 0; i < 1000; ++i) values.push_back(std::to_string(i));
  EXPECT_THAT(Ids(absl::StrCat("params.lora_rank IN (", absl::StrJoin(values, ","), ")")),
              ElementsAre(2, 3, 4, 6, 7));
}

// Checks the invariants of a compiled fragment and that SQLite accepts it.
void CheckCompiled(SQLite::Database& db, const SqlFragment& where, const SqlFragment& order,
                   const std::string& input) {
  for (const SqlFragment* f : {&where, &order}) {
    // No quotes or statement separators: nothing from the input is in the SQL.
    EXPECT_EQ(f->sql.find_first_of("'\";`"), std::string::npos) << input << "\n" << f->sql;
    EXPECT_EQ(static_cast<size_t>(std::count(f->sql.begin(), f->sql.end(), '?')),
              f->bindings.size())
        << input;
  }
  try {
    SQLite::Statement st(db, absl::StrCat("SELECT r.id FROM runs r WHERE ", where.sql,
                                          " ORDER BY ", order.sql));
    int index = 0;
    for (const SqlFragment* f : {&where, &order}) {
      for (const SqlValue& v : f->bindings) {
        ++index;
        std::visit([&](const auto& x) { st.bind(index, x); }, v);
      }
    }
    while (st.executeStep()) {
    }
  } catch (const SQLite::Exception& e) {
    ADD_FAILURE() << input << ": " << e.what() << "\n" << where.sql;
  }
}

TEST_F(FilterDbTest, FuzzRandomBytesAndTokenSoups) {
  std::mt19937 rng(20240611);
  const std::vector<std::string> kFilterVocab = {
      "(", ")", "AND", "or", "NOT", "not", "IN", "LIKE", "params.lr", "metrics.clip_t",
      "tags.keep", "status", "start_time", "name", "attr.id", "params.`a b`", "`k`", "=",
      "==", "!=", "<", ">=", "<>", ">", "1", "-2.5e3", ".5", "+7", "'finished'", "'a''b'",
      "\"x\\\"y\"", "','", ",", "1e999", "'unterminated", "bogus.x", "run.notes", "%", "$"};
  const std::vector<std::string> kOrderVocab = {
      "metrics.clip_t", "params.lr", "tags.owner", "status", "end_time", "asc", "DESC",
      ",", ",", "(", "'x'", "1", "params.`my key`", "bogus"};
  auto soup = [&](const std::vector<std::string>& vocab) {
    std::string s;
    const int n = std::uniform_int_distribution<int>(0, 14)(rng);
    for (int i = 0; i < n; ++i) {
      if (rng() % 4 != 0) s += ' ';
      s += vocab[rng() % vocab.size()];
    }
    return s;
  };
  auto bytes = [&]() {
    std::string s(std::uniform_int_distribution<int>(0, 80)(rng), '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    return s;
  };
  const SqlFragment kAllRuns{"1", {}};
  const SqlFragment kById{"r.id", {}};
  int compiled = 0;
  for (int i = 0; i < 4000; ++i) {
    const std::string filter = i % 2 == 0 ? soup(kFilterVocab) : bytes();
    absl::StatusOr<SqlFragment> where = CompileRunFilter(filter);
    if (where.ok()) {
      ++compiled;
      CheckCompiled(db_, *where, kById, filter);
    } else {
      EXPECT_EQ(where.status().code(), absl::StatusCode::kInvalidArgument);
    }
    const std::string order = i % 2 == 0 ? soup(kOrderVocab) : bytes();
    absl::StatusOr<SqlFragment> order_by = CompileRunOrderBy(order);
    if (order_by.ok()) {
      ++compiled;
      CheckCompiled(db_, kAllRuns, *order_by, order);
    } else {
      EXPECT_EQ(order_by.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
  EXPECT_GT(compiled, 20);  // the soups do reach the SQL, not just the errors
  EXPECT_EQ(CountRuns(), 8);
}

}  // namespace
}  // namespace dreamshot::experiments
