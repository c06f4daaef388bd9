// A/B image pair records: which two artifacts of a run show the same prompt
// and seed from two systems.
#include "experiments/pair_store.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/database.h"
#include "experiments/run_loader.h"
#include "experiments/sql_value.h"

namespace dreamshot::experiments {
namespace {

constexpr char kPairColumns[] =
    "id, run_id, prompt, shot_type, seed, label_a, label_b, artifact_a, artifact_b, created_ms";

ImagePair ReadPair(SQLite::Statement& q) {
  ImagePair p;
  p.id = q.getColumn(0).getInt64();
  p.run_id = q.getColumn(1).getInt64();
  p.prompt = q.getColumn(2).getString();
  p.shot_type = q.getColumn(3).getString();
  p.seed = Uint64FromBits(q.getColumn(4).getInt64());
  p.label_a = q.getColumn(5).getString();
  p.label_b = q.getColumn(6).getString();
  p.artifact_a = q.getColumn(7).getInt64();
  p.artifact_b = q.getColumn(8).getInt64();
  p.created_ms = q.getColumn(9).getInt64();
  return p;
}

absl::Status CheckArtifactOfRun(SQLite::Database& db, int64_t artifact_id, int64_t run_id, const char* side) {
  SQLite::Statement q(db, "SELECT run_id FROM artifacts WHERE id = ?");
  q.bind(1, artifact_id);
  if (!q.executeStep()) {
    return absl::NotFoundError(absl::StrCat("image pair side ", side, ": no artifact ", artifact_id));
  }
  if (q.getColumn(0).getInt64() != run_id) {
    return absl::InvalidArgumentError(absl::StrCat("image pair side ", side, ": artifact ", artifact_id,
                                                   " belongs to run ", q.getColumn(0).getInt64(),
                                                   ", not to run ", run_id));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ImagePair> PairStore::AddImagePair(const ImagePair& pair) {
  if (pair.label_a.empty() || pair.label_b.empty() || pair.label_a == pair.label_b) {
    return absl::InvalidArgumentError(absl::StrCat("an image pair needs two different, non-empty labels, got '",
                                                   pair.label_a, "' and '", pair.label_b, "'"));
  }
  if (pair.artifact_a == pair.artifact_b) {
    return absl::InvalidArgumentError("an image pair needs two different artifacts");
  }
  ImagePair stored;
  RETURN_IF_ERROR(db_->Write("add image pair", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, pair.run_id).status());
    RETURN_IF_ERROR(CheckArtifactOfRun(db, pair.artifact_a, pair.run_id, "a"));
    RETURN_IF_ERROR(CheckArtifactOfRun(db, pair.artifact_b, pair.run_id, "b"));
    SQLite::Statement insert(db,
                             "INSERT INTO image_pairs (run_id, prompt, shot_type, seed, label_a, label_b, "
                             "artifact_a, artifact_b, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    insert.bind(1, pair.run_id);
    insert.bind(2, pair.prompt);
    insert.bind(3, pair.shot_type);
    insert.bind(4, Uint64Bits(pair.seed));
    insert.bind(5, pair.label_a);
    insert.bind(6, pair.label_b);
    insert.bind(7, pair.artifact_a);
    insert.bind(8, pair.artifact_b);
    insert.bind(9, core::NowMillis());
    insert.exec();
    SQLite::Statement q(db, absl::StrCat("SELECT ", kPairColumns, " FROM image_pairs WHERE id = ?"));
    q.bind(1, db.getLastInsertRowid());
    q.executeStep();
    stored = ReadPair(q);
    return absl::OkStatus();
  }));
  return stored;
}

absl::StatusOr<std::vector<ImagePair>> PairStore::ListImagePairs(int64_t run_id) {
  std::vector<ImagePair> out;
  RETURN_IF_ERROR(db_->Read("list image pairs", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    SQLite::Statement q(db, absl::StrCat("SELECT ", kPairColumns, " FROM image_pairs WHERE run_id = ? ORDER BY id"));
    q.bind(1, run_id);
    while (q.executeStep()) out.push_back(ReadPair(q));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<ImagePair> PairStore::GetImagePair(int64_t id) {
  ImagePair out;
  RETURN_IF_ERROR(db_->Read("get image pair", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement q(db, absl::StrCat("SELECT ", kPairColumns, " FROM image_pairs WHERE id = ?"));
    q.bind(1, id);
    if (!q.executeStep()) return absl::NotFoundError(absl::StrCat("no image pair ", id));
    out = ReadPair(q);
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace dreamshot::experiments
