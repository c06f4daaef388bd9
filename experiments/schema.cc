#include "experiments/schema.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdlib>
#include <exception>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "experiments/numeric_text.h"

namespace dreamshot::experiments {
namespace {

struct Migration {
  int version;
  const char* description;
  std::function<void(SQLite::Database&)> apply;
};

// Version 1: the core tables.
void CreateCoreTables(SQLite::Database& db) {
  db.exec(R"sql(
    CREATE TABLE experiments (
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      description TEXT NOT NULL DEFAULT '',
      created_ms INTEGER NOT NULL
    );
    CREATE TABLE experiment_tags (
      experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
      key TEXT NOT NULL,
      value TEXT NOT NULL,
      PRIMARY KEY (experiment_id, key)
    ) WITHOUT ROWID;
    CREATE TABLE runs (
      id INTEGER PRIMARY KEY,
      experiment_id INTEGER NOT NULL REFERENCES experiments(id),
      name TEXT NOT NULL DEFAULT '',
      status TEXT NOT NULL
        CHECK (status IN ('queued', 'running', 'finished', 'failed', 'cancelled')),
      start_ms INTEGER,
      end_ms INTEGER,
      parent_run_id INTEGER REFERENCES runs(id),
      notes TEXT NOT NULL DEFAULT '',
      config_type TEXT NOT NULL DEFAULT '',
      config_json TEXT NOT NULL DEFAULT '',
      created_ms INTEGER NOT NULL
    );
    CREATE INDEX runs_by_experiment ON runs (experiment_id, start_ms);
    CREATE INDEX runs_by_status ON runs (status);
    CREATE TABLE run_tags (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      key TEXT NOT NULL,
      value TEXT NOT NULL,
      PRIMARY KEY (run_id, key)
    ) WITHOUT ROWID;
    CREATE TABLE params (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      key TEXT NOT NULL,
      value TEXT NOT NULL,
      PRIMARY KEY (run_id, key)
    ) WITHOUT ROWID;
    -- value NULL stands for NaN (SQLite cannot store NaN).
    CREATE TABLE metrics (
      seq INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      key TEXT NOT NULL,
      step INTEGER NOT NULL,
      value REAL,
      wall_ms INTEGER NOT NULL
    );
    CREATE INDEX metrics_by_run_key_step ON metrics (run_id, key, step);
    CREATE TABLE artifacts (
      id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      kind TEXT NOT NULL,
      path TEXT NOT NULL,
      sha256 TEXT NOT NULL,
      size_bytes INTEGER NOT NULL,
      uri TEXT NOT NULL,
      created_ms INTEGER NOT NULL,
      UNIQUE (run_id, path)
    );
  )sql");
}

// Version 2: fast search. Numeric param values for numeric filters, a
// latest-value table so metric filters/ordering do not scan histories, and
// idempotency keys for retried metric batches.
void AddSearchTables(SQLite::Database& db) {
  db.exec("ALTER TABLE params ADD COLUMN value_num REAL");
  {
    SQLite::Statement select(db, "SELECT run_id, key, value FROM params");
    SQLite::Statement update(db, "UPDATE params SET value_num = ? WHERE run_id = ? AND key = ?");
    while (select.executeStep()) {
      std::optional<double> number = ParseNumericText(select.getColumn(2).getString());
      if (!number) continue;
      update.bind(1, *number);
      update.bind(2, select.getColumn(0).getInt64());
      update.bind(3, select.getColumn(1).getString());
      update.exec();
      update.reset();
    }
  }
  db.exec(R"sql(
    CREATE INDEX params_by_key_number ON params (key, value_num);
    CREATE TABLE latest_metrics (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      key TEXT NOT NULL,
      step INTEGER NOT NULL,
      value REAL,
      wall_ms INTEGER NOT NULL,
      min_value REAL,
      max_value REAL,
      count INTEGER NOT NULL,
      PRIMARY KEY (run_id, key)
    ) WITHOUT ROWID;
    INSERT INTO latest_metrics (run_id, key, step, value, wall_ms, min_value, max_value, count)
      SELECT m.run_id, m.key, m.step, m.value, m.wall_ms, a.min_value, a.max_value, a.count
      FROM metrics m
      JOIN (SELECT run_id, key, MAX(seq) AS last_seq, MIN(value) AS min_value,
                   MAX(value) AS max_value, COUNT(*) AS count, MAX(step) AS max_step
            FROM metrics GROUP BY run_id, key) a
        ON m.run_id = a.run_id AND m.key = a.key
      WHERE m.seq = (SELECT MAX(seq) FROM metrics x
                     WHERE x.run_id = a.run_id AND x.key = a.key AND x.step = a.max_step);
    CREATE TABLE applied_requests (
      request_id TEXT PRIMARY KEY,
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      created_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
  )sql");
}

// Version 3: A/B image pairs — the same prompt and seed through two models —
// which the evaluator scores and the survey shows to people.
void AddImagePairs(SQLite::Database& db) {
  db.exec(R"sql(
    CREATE TABLE image_pairs (
      id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      prompt TEXT NOT NULL,
      shot_type TEXT NOT NULL DEFAULT '',
      seed INTEGER NOT NULL,  -- the uint64 seed's bits
      label_a TEXT NOT NULL,
      label_b TEXT NOT NULL,
      artifact_a INTEGER NOT NULL REFERENCES artifacts(id),
      artifact_b INTEGER NOT NULL REFERENCES artifacts(id),
      created_ms INTEGER NOT NULL
    );
    CREATE INDEX image_pairs_by_run ON image_pairs (run_id, id);
  )sql");
}

// Version 4: dataset pools — shots with provenance, drop reasons, labels and
// captions; per-source progress for resuming; named splits.
void AddDatasetTables(SQLite::Database& db) {
  db.exec(R"sql(
    CREATE TABLE dataset_items (
      id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      source TEXT NOT NULL,
      shot_index INTEGER NOT NULL,
      start_frame INTEGER NOT NULL,
      end_frame INTEGER NOT NULL,
      start_s REAL NOT NULL,
      end_s REAL NOT NULL,
      keyframe INTEGER NOT NULL,
      detector TEXT NOT NULL DEFAULT '',
      kept INTEGER NOT NULL,
      drop_reasons TEXT NOT NULL DEFAULT '[]',
      phash INTEGER,  -- the uint64 hash's bits
      crop_x INTEGER NOT NULL DEFAULT 0,
      crop_y INTEGER NOT NULL DEFAULT 0,
      crop_width INTEGER NOT NULL DEFAULT 0,
      crop_height INTEGER NOT NULL DEFAULT 0,
      image_artifact INTEGER REFERENCES artifacts(id),
      scale TEXT NOT NULL DEFAULT 'unknown',
      fine_scale TEXT NOT NULL DEFAULT 'unknown',
      scale_confidence REAL NOT NULL DEFAULT 0,
      scale_method TEXT NOT NULL DEFAULT '',
      scale_evidence TEXT NOT NULL DEFAULT '',
      caption TEXT NOT NULL DEFAULT '',
      caption_source TEXT NOT NULL DEFAULT '',
      created_ms INTEGER NOT NULL,
      UNIQUE (run_id, source, shot_index)
    );
    CREATE TABLE dataset_sources (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      source TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
      detail TEXT NOT NULL DEFAULT '',
      shots INTEGER NOT NULL DEFAULT 0,
      frames INTEGER NOT NULL DEFAULT 0,
      updated_ms INTEGER NOT NULL,
      PRIMARY KEY (run_id, source)
    ) WITHOUT ROWID;
    CREATE TABLE dataset_splits (
      run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
      name TEXT NOT NULL,
      position INTEGER NOT NULL,
      item_id INTEGER NOT NULL REFERENCES dataset_items(id) ON DELETE CASCADE,
      PRIMARY KEY (run_id, name, position),
      UNIQUE (run_id, name, item_id)
    ) WITHOUT ROWID;
  )sql");
}

// Version 5: pairwise A/B surveys. A survey snapshots its pairs (items), so
// later changes to the pairs cannot change what participants judged. Only a
// hash of each participant's token is stored.
void AddSurveyTables(SQLite::Database& db) {
  db.exec(R"sql(
    CREATE TABLE surveys (
      id INTEGER PRIMARY KEY,
      run_id INTEGER NOT NULL UNIQUE REFERENCES runs(id) ON DELETE CASCADE,
      name TEXT NOT NULL UNIQUE,
      status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed')),
      config TEXT NOT NULL,
      created_ms INTEGER NOT NULL,
      opened_ms INTEGER,
      closed_ms INTEGER
    );
    CREATE TABLE survey_items (
      id INTEGER PRIMARY KEY,
      survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
      pair_id INTEGER REFERENCES image_pairs(id),
      attention TEXT NOT NULL DEFAULT '',
      prompt TEXT NOT NULL,
      shot_type TEXT NOT NULL,
      label_x TEXT NOT NULL,
      label_y TEXT NOT NULL,
      artifact_x INTEGER NOT NULL REFERENCES artifacts(id),
      artifact_y INTEGER NOT NULL REFERENCES artifacts(id)
    );
    CREATE INDEX survey_items_by_survey ON survey_items (survey_id);
    CREATE TABLE survey_participants (
      id INTEGER PRIMARY KEY,
      survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
      seq INTEGER NOT NULL,
      token_hash TEXT NOT NULL UNIQUE,
      created_ms INTEGER NOT NULL,
      consented_ms INTEGER,
      finished_ms INTEGER,
      UNIQUE (survey_id, seq)
    );
    CREATE TABLE survey_assignments (
      participant_id INTEGER NOT NULL REFERENCES survey_participants(id) ON DELETE CASCADE,
      position INTEGER NOT NULL,
      item_id INTEGER NOT NULL REFERENCES survey_items(id),
      swapped INTEGER NOT NULL,
      PRIMARY KEY (participant_id, position),
      UNIQUE (participant_id, item_id)
    ) WITHOUT ROWID;
    CREATE TABLE survey_answers (
      id INTEGER PRIMARY KEY,
      participant_id INTEGER NOT NULL REFERENCES survey_participants(id) ON DELETE CASCADE,
      item_id INTEGER NOT NULL REFERENCES survey_items(id),
      question INTEGER NOT NULL,
      shown TEXT NOT NULL CHECK (shown IN ('A', 'B', 'neither')),
      choice TEXT NOT NULL CHECK (choice IN ('x', 'y', 'neither')),
      idempotency_key TEXT NOT NULL,
      elapsed_ms INTEGER NOT NULL DEFAULT 0,
      created_ms INTEGER NOT NULL,
      UNIQUE (participant_id, item_id, question)
    );
    CREATE INDEX survey_answers_by_key ON survey_answers (participant_id, idempotency_key);
  )sql");
}

// Version 6: blob writes not yet recorded. A blob's file is written before
// the row that refers to it; the write is noted first and the note dropped
// with the row's insert, so the notes left over name exactly the files that
// failed or crashed transactions left behind, and a sweep removes those
// without touching blobs of another store sharing the folder.
void AddBlobWrites(SQLite::Database& db) {
  db.exec(R"sql(
    CREATE TABLE blob_writes (
      sha256 TEXT PRIMARY KEY,
      noted_ms INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX artifacts_by_sha256 ON artifacts (sha256);
  )sql");
}

// Version 7: the persistent job queue. A job's config is what its body
// reads; the run plan (JSON) is how it comes by its run. Queued jobs are
// picked by lane (device), highest priority first, then oldest.
void AddJobs(SQLite::Database& db) {
  db.exec(R"sql(
    CREATE TABLE jobs (
      id INTEGER PRIMARY KEY,
      kind TEXT NOT NULL,
      state TEXT NOT NULL
        CHECK (state IN ('queued', 'running', 'finished', 'failed', 'cancelled', 'interrupted')),
      device TEXT NOT NULL,
      priority INTEGER NOT NULL DEFAULT 0,
      owner TEXT NOT NULL CHECK (owner IN ('server', 'client')),
      parent_id INTEGER REFERENCES jobs(id),
      config_type TEXT NOT NULL DEFAULT '',
      config_json TEXT NOT NULL DEFAULT '',
      run_id INTEGER REFERENCES runs(id),
      run_mode TEXT NOT NULL CHECK (run_mode IN ('none', 'new', 'add', 'resume')),
      run_plan TEXT NOT NULL DEFAULT '{}',
      attempts INTEGER NOT NULL DEFAULT 0,
      auto_retries INTEGER NOT NULL DEFAULT 0,
      error_code INTEGER NOT NULL DEFAULT 0,
      error TEXT NOT NULL DEFAULT '',
      created_ms INTEGER NOT NULL,
      started_ms INTEGER,
      ended_ms INTEGER
    );
    CREATE INDEX jobs_queued ON jobs (state, device, priority DESC, id);
    CREATE INDEX jobs_by_parent ON jobs (parent_id);
    CREATE INDEX jobs_by_run ON jobs (run_id);
  )sql");
}

const std::vector<Migration>& Migrations() {
  static const auto* migrations = new std::vector<Migration>{
      {1, "core tables", CreateCoreTables},
      {2, "search tables: numeric params, latest metrics, request ids", AddSearchTables},
      {3, "A/B image pairs", AddImagePairs},
      {4, "dataset pools: items, sources, splits", AddDatasetTables},
      {5, "A/B surveys: items, participants, assignments, answers", AddSurveyTables},
      {6, "blob writes not yet recorded", AddBlobWrites},
      {7, "the persistent job queue", AddJobs},
  };
  return *migrations;
}

// A look that must not wait long for a writer: opening read-write waits.
constexpr int kCheckBusyTimeoutMs = 5000;

absl::Status ForeignStoreError(const std::string& path, int app_id, int tables) {
  return absl::FailedPreconditionError(absl::StrCat(
      path, " is a SQLite database but not a DreamShot experiment store (application_id ", app_id, ", ", tables,
      " schema objects); refusing to modify it"));
}

absl::Status CheckNotNewer(const std::string& path, int version) {
  if (version <= LatestSchemaVersion()) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(path, " has schema version ", version,
                                                    ", newer than this build supports (", LatestSchemaVersion(),
                                                    "); upgrade dreamshot"));
}

}  // namespace

int LatestSchemaVersion() { return Migrations().back().version; }

absl::StatusOr<int> ReadSchemaVersion(SQLite::Database& db, const std::string& path) {
  try {
    const int app_id = db.execAndGet("PRAGMA application_id").getInt();
    const int version = db.execAndGet("PRAGMA user_version").getInt();
    if (app_id == kApplicationId) return version;
    const int tables = db.execAndGet("SELECT COUNT(*) FROM sqlite_master").getInt();
    if (app_id == 0 && version == 0 && tables == 0) return 0;  // a new, empty file
    return ForeignStoreError(path, app_id, tables);
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is not a DreamShot experiment store: ", e.what()));
  }
}

absl::Status CheckBeforeOpening(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || st.st_size == 0) return absl::OkStatus();  // a new store
  int app_id = 0;
  int version = 0;
  int tables = 0;
  try {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    db.setBusyTimeout(kCheckBusyTimeoutMs);
    app_id = db.execAndGet("PRAGMA application_id").getInt();
    version = db.execAndGet("PRAGMA user_version").getInt();
    tables = db.execAndGet("SELECT COUNT(*) FROM sqlite_master").getInt();
  } catch (const SQLite::Exception& e) {
    // Not SQLite at all is a refusal; anything else the read-write open decides.
    if (e.getErrorCode() == SQLITE_NOTADB) {
      return absl::FailedPreconditionError(absl::StrCat(path, " is not a DreamShot experiment store: ", e.what()));
    }
    return absl::OkStatus();
  }
  if (app_id == kApplicationId) return CheckNotNewer(path, version);
  if (app_id == 0 && version == 0 && tables == 0) return absl::OkStatus();
  return ForeignStoreError(path, app_id, tables);
}

absl::Status MigrateTo(SQLite::Database& db, const std::string& path, int target) {
  absl::StatusOr<int> current = ReadSchemaVersion(db, path);
  if (!current.ok()) return current.status();
  if (absl::Status newer = CheckNotNewer(path, *current); !newer.ok()) return newer;
  for (const Migration& m : Migrations()) {
    if (m.version <= *current || m.version > target) continue;
    try {
      SQLite::Transaction transaction(db, SQLite::TransactionBehavior::IMMEDIATE);
      // Re-check under the write lock: another process may have migrated.
      if (db.execAndGet("PRAGMA user_version").getInt() >= m.version) continue;
      m.apply(db);
      db.exec(absl::StrCat("PRAGMA application_id = ", kApplicationId));
      db.exec(absl::StrCat("PRAGMA user_version = ", m.version));
      transaction.commit();
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("migrating ", path, " to schema version ",
                                              m.version, " (", m.description,
                                              ") failed: ", e.what()));
    }
  }
  return absl::OkStatus();
}

absl::Status MigrateToLatest(SQLite::Database& db, const std::string& path) {
  return MigrateTo(db, path, LatestSchemaVersion());
}

}  // namespace dreamshot::experiments
