// A store created by an older build (schema v1) opens with this build: the
// migration keeps every row and fills the tables added since.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <utility>

#include "experiments/database.h"
#include "experiments/schema.h"
#include "experiments/store.h"

namespace dreamshot::experiments {
namespace {

using ::testing::HasSubstr;

std::string TempDb(const std::string& name) {
  std::string path = std::string(::testing::TempDir()) + "/" + name + "-" + std::to_string(::getpid()) + ".db";
  std::remove(path.c_str());
  return path;
}

TEST(SchemaMigrationTest, VersionOneStoreMigratesWithItsData) {
  const std::string path = TempDb("v1");
  {
    auto db = OpenRawConnection(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(MigrateTo(**db, path, 1).ok());
    EXPECT_EQ(*ReadSchemaVersion(**db, path), 1);
    (*db)->exec(R"sql(
      INSERT INTO experiments (id, name, created_ms) VALUES (1, 'old', 1);
      INSERT INTO runs (id, experiment_id, name, status, created_ms) VALUES (1, 1, 'r1', 'finished', 1);
      INSERT INTO params (run_id, key, value) VALUES (1, 'lora_rank', '8'), (1, 'prompt', 'close shot');
      INSERT INTO metrics (run_id, key, step, value, wall_ms) VALUES
        (1, 'loss', 0, 0.9, 10), (1, 'loss', 2, 0.5, 30), (1, 'loss', 1, 0.7, 20),
        (1, 'loss', 2, 0.4, 40), (1, 'clip_t', 0, 0.31, 50);
    )sql");
  }
  auto store = ExperimentStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  auto run = (*store)->GetRun(1);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_EQ(run->metrics.size(), 2u);
  const MetricSummary& loss = run->metrics[1];
  EXPECT_EQ(loss.key, "loss");
  EXPECT_EQ(loss.step, 2);
  EXPECT_DOUBLE_EQ(loss.value, 0.4);  // the later of the two step-2 points
  EXPECT_DOUBLE_EQ(loss.min, 0.4);
  EXPECT_DOUBLE_EQ(loss.max, 0.9);
  EXPECT_EQ(loss.count, 4);
  // Numeric params were backfilled: numeric filters see them.
  RunQuery q;
  q.filter = "params.lora_rank = 8 and params.prompt = 'close shot'";
  auto page = (*store)->SearchRuns(q);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->runs.size(), 1u);
  // New writes work on the migrated store.
  ASSERT_TRUE((*store)->LogMetrics(1, {{"loss", 3, 0.3, 0}}, "after-migration").ok());
  EXPECT_DOUBLE_EQ((*store)->GetRun(1)->metrics[1].value, 0.3);
}

TEST(SchemaMigrationTest, NewerSchemaIsRefusedUntouched) {
  const std::string path = TempDb("future");
  {
    auto db = OpenRawConnection(path);
    ASSERT_TRUE(MigrateToLatest(**db, path).ok());
    (*db)->exec("PRAGMA user_version = 999");
  }
  auto store = ExperimentStore::Open(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("schema version 999"));
  auto db = OpenRawConnection(path);
  EXPECT_EQ((*db)->execAndGet("PRAGMA user_version").getInt(), 999);
}

std::string Bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

// A rollback-journal file (SQLite's default, as another tool or an old copy
// may leave it) that this build must refuse: the refusal is decided before
// the store's connection would switch it to WAL, so not a byte changes.
TEST(SchemaMigrationTest, RefusedRollbackJournalFilesKeepEveryByteAndTheirJournalMode) {
  const std::string newer = TempDb("future-rollback");
  {
    SQLite::Database db(newer, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE experiments (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO experiments VALUES (1, 'x')");
    db.exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    db.exec("PRAGMA user_version = " + std::to_string(LatestSchemaVersion() + 1));
  }
  const std::string foreign = TempDb("foreign-rollback");
  {
    SQLite::Database db(foreign, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x')");
  }
  for (const auto& [path, why] : {std::pair<std::string, std::string>{newer, "newer than this build supports"},
                                  std::pair<std::string, std::string>{foreign, "not a DreamShot experiment store"}}) {
    const std::string before = Bytes(path);
    ASSERT_GT(before.size(), 100u);
    ASSERT_EQ(before[18], 1) << "the file should start in rollback-journal mode";
    auto store = ExperimentStore::Open(path);
    EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition) << path;
    EXPECT_THAT(std::string(store.status().message()), HasSubstr(why));
    EXPECT_THAT(std::string(store.status().message()), HasSubstr(path));
    EXPECT_TRUE(Bytes(path) == before) << path << " changed";  // (not printed: 8 KiB of bytes)
    for (const char* suffix : {"-wal", "-shm", "-journal"}) EXPECT_FALSE(Exists(path + suffix)) << path << suffix;
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "delete") << path;
  }
  EXPECT_THAT(std::string(ExperimentStore::Open(newer).status().message()),
              HasSubstr("schema version " + std::to_string(LatestSchemaVersion() + 1)));
}

TEST(SchemaMigrationTest, ForeignSqliteDatabaseIsRefusedUntouched) {
  const std::string path = TempDb("foreign");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x')");
  }
  auto store = ExperimentStore::Open(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("not a DreamShot experiment store"));
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  EXPECT_EQ(db.execAndGet("SELECT COUNT(*) FROM sqlite_master").getInt(), 1);
}

TEST(SchemaMigrationTest, OpeningTwiceIsIdempotent) {
  const std::string path = TempDb("twice");
  ASSERT_TRUE(ExperimentStore::Open(path).ok());
  auto again = ExperimentStore::Open(path);
  ASSERT_TRUE(again.ok());
  auto db = OpenRawConnection(path);
  EXPECT_EQ(*ReadSchemaVersion(**db, path), LatestSchemaVersion());
  EXPECT_EQ((*db)->execAndGet("PRAGMA journal_mode").getString(), "wal");
  EXPECT_EQ((*db)->execAndGet("PRAGMA foreign_keys").getInt(), 1);
}

}  // namespace
}  // namespace dreamshot::experiments
