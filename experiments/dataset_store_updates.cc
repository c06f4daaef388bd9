// Dataset pools after their items are committed: the labels, captions and
// drop state of items, an item's image, and named splits.
#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "experiments/database.h"
#include "experiments/dataset_store.h"
#include "experiments/run_loader.h"
#include "experiments/store_limits.h"

namespace dreamshot::experiments {
namespace {

absl::Status CheckItemOfRun(SQLite::Database& db, int64_t run_id, int64_t item_id) {
  SQLite::Statement q(db, "SELECT 1 FROM dataset_items WHERE id = ? AND run_id = ?");
  q.bind(1, item_id);
  q.bind(2, run_id);
  if (!q.executeStep()) {
    return absl::NotFoundError(absl::StrCat("dataset item ", item_id, " is not in run ", run_id));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status DatasetStore::SetDatasetLabels(int64_t run_id, const std::vector<DatasetLabelUpdate>& labels) {
  return db_->Write("set dataset labels", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    SQLite::Statement update(db,
                             "UPDATE dataset_items SET scale = ?, fine_scale = ?, scale_confidence = ?, "
                             "scale_method = ?, scale_evidence = ? WHERE id = ? AND run_id = ?");
    for (const DatasetLabelUpdate& l : labels) {
      RETURN_IF_ERROR(CheckItemOfRun(db, run_id, l.item_id));
      update.bind(1, l.scale);
      update.bind(2, l.fine_scale);
      update.bind(3, l.confidence);
      update.bind(4, l.method);
      update.bind(5, l.evidence);
      update.bind(6, l.item_id);
      update.bind(7, run_id);
      update.exec();
      update.reset();
    }
    return absl::OkStatus();
  });
}

absl::Status DatasetStore::SetDatasetCaptions(int64_t run_id, const std::vector<DatasetCaptionUpdate>& captions) {
  return db_->Write("set dataset captions", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    SQLite::Statement update(db,
                             "UPDATE dataset_items SET caption = ?, caption_source = ? WHERE id = ? AND run_id = ?");
    for (const DatasetCaptionUpdate& c : captions) {
      RETURN_IF_ERROR(CheckItemOfRun(db, run_id, c.item_id));
      update.bind(1, c.caption);
      update.bind(2, c.caption_source);
      update.bind(3, c.item_id);
      update.bind(4, run_id);
      update.exec();
      update.reset();
    }
    return absl::OkStatus();
  });
}

absl::Status DatasetStore::SetDatasetDrops(int64_t run_id, const std::vector<DatasetDropUpdate>& drops) {
  for (const DatasetDropUpdate& d : drops) {
    const nlohmann::json reasons = nlohmann::json::parse(d.drop_reasons_json, nullptr, /*allow_exceptions=*/false);
    if (!reasons.is_array()) {
      return absl::InvalidArgumentError(absl::StrCat("drop reasons of dataset item ", d.item_id,
                                                     " must be a JSON array, got '",
                                                     d.drop_reasons_json.substr(0, 80), "'"));
    }
  }
  return db_->Write("set dataset drops", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    SQLite::Statement update(db, "UPDATE dataset_items SET kept = ?, drop_reasons = ? WHERE id = ? AND run_id = ?");
    for (const DatasetDropUpdate& d : drops) {
      RETURN_IF_ERROR(CheckItemOfRun(db, run_id, d.item_id));
      update.bind(1, d.kept ? 1 : 0);
      update.bind(2, d.drop_reasons_json);
      update.bind(3, d.item_id);
      update.bind(4, run_id);
      update.exec();
      update.reset();
    }
    return absl::OkStatus();
  });
}

absl::Status DatasetStore::SetDatasetItemImage(int64_t item_id, int64_t artifact_id) {
  return db_->Write("set dataset item image", [&](SQLite::Database& db) -> absl::Status {
    SQLite::Statement q(db, "SELECT i.run_id, a.run_id FROM dataset_items i, artifacts a WHERE i.id = ? AND a.id = ?");
    q.bind(1, item_id);
    q.bind(2, artifact_id);
    if (!q.executeStep()) {
      return absl::NotFoundError(absl::StrCat("no dataset item ", item_id, " or no artifact ", artifact_id));
    }
    if (q.getColumn(0).getInt64() != q.getColumn(1).getInt64()) {
      return absl::InvalidArgumentError(absl::StrCat("artifact ", artifact_id, " is not of dataset item ", item_id,
                                                     "'s run"));
    }
    SQLite::Statement update(db, "UPDATE dataset_items SET image_artifact = ? WHERE id = ?");
    update.bind(1, artifact_id);
    update.bind(2, item_id);
    update.exec();
    return absl::OkStatus();
  });
}

absl::Status DatasetStore::CreateDatasetSplits(int64_t run_id,
                                               const std::map<std::string, std::vector<int64_t>>& splits) {
  for (const auto& [name, ids] : splits) {
    if (name.empty() || name.size() > kMaxKeyLength) {
      return absl::InvalidArgumentError("a split name needs 1 to 250 characters");
    }
  }
  return db_->Write("create dataset splits", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    SQLite::Statement exists(db, "SELECT 1 FROM dataset_splits WHERE run_id = ? AND name = ? LIMIT 1");
    SQLite::Statement insert(db, "INSERT INTO dataset_splits (run_id, name, position, item_id) VALUES (?, ?, ?, ?)");
    for (const auto& [name, item_ids] : splits) {
      exists.bind(1, run_id);
      exists.bind(2, name);
      if (exists.executeStep()) {
        return absl::AlreadyExistsError(absl::StrCat("run ", run_id, " already has a split named '", name, "'"));
      }
      exists.reset();
      for (size_t i = 0; i < item_ids.size(); ++i) {
        RETURN_IF_ERROR(CheckItemOfRun(db, run_id, item_ids[i]));
        insert.bind(1, run_id);
        insert.bind(2, name);
        insert.bind(3, static_cast<int64_t>(i));
        insert.bind(4, item_ids[i]);
        try {
          insert.exec();
        } catch (const SQLite::Exception& e) {
          if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE ||
              e.getExtendedErrorCode() == SQLITE_CONSTRAINT_PRIMARYKEY) {
            return absl::InvalidArgumentError(absl::StrCat("split '", name, "' lists item ", item_ids[i], " twice"));
          }
          throw;
        }
        insert.reset();
      }
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<int64_t>> DatasetStore::GetDatasetSplit(int64_t run_id, const std::string& name) {
  std::vector<int64_t> out;
  RETURN_IF_ERROR(db_->Read("get dataset split", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    SQLite::Statement q(db, "SELECT item_id FROM dataset_splits WHERE run_id = ? AND name = ? ORDER BY position");
    q.bind(1, run_id);
    q.bind(2, name);
    while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
    if (out.empty()) return absl::NotFoundError(absl::StrCat("run ", run_id, " has no split named '", name, "'"));
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::map<std::string, int64_t>> DatasetStore::ListDatasetSplits(int64_t run_id) {
  std::map<std::string, int64_t> out;
  RETURN_IF_ERROR(db_->Read("list dataset splits", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    SQLite::Statement q(db, "SELECT name, COUNT(*) FROM dataset_splits WHERE run_id = ? GROUP BY name ORDER BY name");
    q.bind(1, run_id);
    while (q.executeStep()) out[q.getColumn(0).getString()] = q.getColumn(1).getInt64();
    return absl::OkStatus();
  }));
  return out;
}

}  // namespace dreamshot::experiments
