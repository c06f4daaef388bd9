// A full disk is RESOURCE_EXHAUSTED (the CLI's exit 8), never INTERNAL, with
// a message naming the folder and the space left. SQLite reports a full disk
// as SQLITE_FULL, which a page limit (PRAGMA max_page_count) produces
// without filling a real disk; tests/disk_full_test.cc fills a real tmpfs.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "core/atomic_file.h"
#include "experiments/database.h"

namespace dreamshot::experiments {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;

TEST(DiskFullTest, SqliteFullIsResourceExhaustedNamingTheStoreFolderAndFreeSpace) {
  const std::string dir = ::testing::TempDir();
  const std::string path = dir + "/disk-full-" + std::to_string(::getpid()) + ".db";
  std::remove(path.c_str());
  auto db = Database::Open(path);
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->Write("make table", [](SQLite::Database& c) {
                      c.exec("CREATE TABLE filler (x BLOB)");
                      return absl::OkStatus();
                    }).ok());
  absl::Status full = (*db)->Write("fill", [](SQLite::Database& c) {
    const int pages = c.execAndGet("PRAGMA page_count").getInt();
    c.exec("PRAGMA max_page_count = " + std::to_string(pages + 2));
    for (int i = 0; i < 100; ++i) c.exec("INSERT INTO filler VALUES (zeroblob(4096))");
    return absl::OkStatus();
  });
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted) << full;
  const std::string message(full.message());
  EXPECT_THAT(message, HasSubstr("disk full: experiment store " + path + ": fill: database or disk is full"));
  EXPECT_THAT(message, ContainsRegex("\\([0-9.]+ (bytes|KiB|MiB|GiB|TiB) free in "));
  EXPECT_THAT(message, HasSubstr(" free in " + dir + ")"));

  // The transaction was rolled back and the connection still works.
  int rows = -1;
  ASSERT_TRUE((*db)->Write("count", [&](SQLite::Database& c) {
                      c.exec("PRAGMA max_page_count = 1073741823");
                      rows = c.execAndGet("SELECT COUNT(*) FROM filler").getInt();
                      return absl::OkStatus();
                    }).ok());
  EXPECT_EQ(rows, 0);
}

// The few writes that must land on a full disk (a run ending failed) give up
// the reserve file kept beside the store and try again; the reserve comes
// back with a later write. (That the freed space lets the write through is
// shown on a real full disk by tests/disk_full_test.cc.)
TEST(DiskFullTest, AWriteThatMustLandGivesUpTheReserveAndALaterWriteRestoresIt) {
  const std::string path = std::string(::testing::TempDir()) + "/reserve-" + std::to_string(::getpid()) + ".db";
  std::remove(path.c_str());
  const std::string reserve = path + ".reserve";
  std::remove(reserve.c_str());
  auto db = Database::Open(path);
  ASSERT_TRUE(db.ok()) << db.status();
  struct stat st;
  ASSERT_EQ(::stat(reserve.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, Database::kReserveBytes);
  EXPECT_GE(static_cast<int64_t>(st.st_blocks) * 512, Database::kReserveBytes) << "allocated, not sparse";

  ASSERT_TRUE((*db)->Write("make table", [](SQLite::Database& c) {
                      c.exec("CREATE TABLE filler (x BLOB)");
                      return absl::OkStatus();
                    }).ok());
  int tries = 0;
  absl::Status full = (*db)->WriteEvenIfFull("must land", [&](SQLite::Database& c) {
    ++tries;
    c.exec("PRAGMA max_page_count = " + std::to_string(c.execAndGet("PRAGMA page_count").getInt() + 1));
    for (int i = 0; i < 10; ++i) c.exec("INSERT INTO filler VALUES (zeroblob(4096))");
    return absl::OkStatus();
  });
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(tries, 2) << "tried again with the reserve given up";
  EXPECT_NE(::stat(reserve.c_str(), &st), 0);

  ASSERT_TRUE((*db)->Write("lift limit", [](SQLite::Database& c) {
                      c.exec("PRAGMA max_page_count = 1073741823");
                      return absl::OkStatus();
                    }).ok());
  EXPECT_EQ(::stat(reserve.c_str(), &st), 0) << "a write that found room restored the reserve";
}

TEST(DiskFullTest, OtherStoreErrorsStayInternal) {
  const std::string path = std::string(::testing::TempDir()) + "/disk-full-other-" + std::to_string(::getpid()) + ".db";
  std::remove(path.c_str());
  auto db = Database::Open(path);
  ASSERT_TRUE(db.ok());
  absl::Status bad = (*db)->Write("bad sql", [](SQLite::Database& c) {
    c.exec("INSERT INTO no_such_table VALUES (1)");
    return absl::OkStatus();
  });
  EXPECT_EQ(bad.code(), absl::StatusCode::kInternal) << bad;
}

TEST(DiskFullTest, FileErrorsFromAFullDiskAreResourceExhausted) {
  EXPECT_TRUE(core::IsNoSpaceErrno(ENOSPC));
  EXPECT_TRUE(core::IsNoSpaceErrno(EDQUOT));
  EXPECT_FALSE(core::IsNoSpaceErrno(EACCES));
  absl::Status s = core::DiskFullError("/", "cannot write /x.tmp: No space left on device");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()),
              ContainsRegex("^disk full: cannot write /x.tmp: No space left on device \\([0-9.]+ "
                            "(bytes|KiB|MiB|GiB|TiB) free in /\\)$"));
  EXPECT_EQ(core::FreeSpaceText("/nonexistent/folder"), "unknown");
}

}  // namespace
}  // namespace dreamshot::experiments
