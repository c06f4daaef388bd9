// Dataset pools: the items of a dataset-building run, the per-source
// progress that makes a build resumable, labels, captions and named splits.
#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/run_loader.h"
#include "experiments/sql_value.h"
#include "experiments/store.h"

namespace dreamshot::experiments {
namespace {

constexpr char kItemColumns[] =
    "id, run_id, source, shot_index, start_frame, end_frame, start_s, end_s, keyframe, detector, kept, "
    "drop_reasons, phash, crop_x, crop_y, crop_width, crop_height, image_artifact, scale, fine_scale, "
    "scale_confidence, scale_method, scale_evidence, caption, caption_source, created_ms";

DatasetItem ReadItem(SQLite::Statement& q) {
  DatasetItem d;
  int c = 0;
  d.id = q.getColumn(c++).getInt64();
  d.run_id = q.getColumn(c++).getInt64();
  d.source = q.getColumn(c++).getString();
  d.shot_index = q.getColumn(c++).getInt64();
  d.start_frame = q.getColumn(c++).getInt64();
  d.end_frame = q.getColumn(c++).getInt64();
  d.start_s = q.getColumn(c++).getDouble();
  d.end_s = q.getColumn(c++).getDouble();
  d.keyframe = q.getColumn(c++).getInt64();
  d.detector_json = q.getColumn(c++).getString();
  d.kept = q.getColumn(c++).getInt() != 0;
  d.drop_reasons_json = q.getColumn(c++).getString();
  if (!q.getColumn(c).isNull()) d.phash = Uint64FromBits(q.getColumn(c).getInt64());
  ++c;
  d.crop_x = q.getColumn(c++).getInt();
  d.crop_y = q.getColumn(c++).getInt();
  d.crop_width = q.getColumn(c++).getInt();
  d.crop_height = q.getColumn(c++).getInt();
  if (!q.getColumn(c).isNull()) d.image_artifact = q.getColumn(c).getInt64();
  ++c;
  d.scale = q.getColumn(c++).getString();
  d.fine_scale = q.getColumn(c++).getString();
  d.scale_confidence = q.getColumn(c++).getDouble();
  d.scale_method = q.getColumn(c++).getString();
  d.scale_evidence = q.getColumn(c++).getString();
  d.caption = q.getColumn(c++).getString();
  d.caption_source = q.getColumn(c++).getString();
  d.created_ms = q.getColumn(c++).getInt64();
  return d;
}

void BindItem(SQLite::Statement& insert, int64_t run_id, const DatasetItem& d, int64_t now) {
  int c = 1;
  insert.bind(c++, run_id);
  insert.bind(c++, d.source);
  insert.bind(c++, d.shot_index);
  insert.bind(c++, d.start_frame);
  insert.bind(c++, d.end_frame);
  insert.bind(c++, d.start_s);
  insert.bind(c++, d.end_s);
  insert.bind(c++, d.keyframe);
  insert.bind(c++, d.detector_json);
  insert.bind(c++, d.kept ? 1 : 0);
  insert.bind(c++, d.drop_reasons_json);
  if (d.phash) {
    insert.bind(c++, Uint64Bits(*d.phash));
  } else {
    insert.bind(c++);
  }
  insert.bind(c++, d.crop_x);
  insert.bind(c++, d.crop_y);
  insert.bind(c++, d.crop_width);
  insert.bind(c++, d.crop_height);
  if (d.image_artifact) {
    insert.bind(c++, *d.image_artifact);
  } else {
    insert.bind(c++);
  }
  insert.bind(c++, d.scale);
  insert.bind(c++, d.fine_scale);
  insert.bind(c++, d.scale_confidence);
  insert.bind(c++, d.scale_method);
  insert.bind(c++, d.scale_evidence);
  insert.bind(c++, d.caption);
  insert.bind(c++, d.caption_source);
  insert.bind(c++, now);
}

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

absl::Status ExperimentStore::CommitDatasetSource(int64_t run_id, const DatasetSource& source,
                                                  const std::vector<DatasetItem>& items) {
  if (source.source.empty()) return absl::InvalidArgumentError("a dataset source needs its path");
  if (source.status != "done" && source.status != "failed") {
    return absl::InvalidArgumentError(absl::StrCat("dataset source status must be done or failed, got '",
                                                   source.status, "'"));
  }
  for (const DatasetItem& item : items) {
    if (item.source != source.source) {
      return absl::InvalidArgumentError(absl::StrCat("dataset item from ", item.source, " committed with source ",
                                                     source.source));
    }
  }
  return db_->Write("commit dataset source", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    const int64_t now = core::NowMillis();
    // A source committed twice (a resumed build that redid it) replaces
    // its items instead of duplicating them.
    SQLite::Statement clear(db, "DELETE FROM dataset_items WHERE run_id = ? AND source = ?");
    clear.bind(1, run_id);
    clear.bind(2, source.source);
    clear.exec();
    const std::string columns = std::string(kItemColumns).substr(std::string("id, ").size());
    std::string placeholders = "?";
    for (int i = 1; i < 25; ++i) placeholders += ", ?";
    SQLite::Statement insert(db, absl::StrCat("INSERT INTO dataset_items (", columns, ") VALUES (", placeholders, ")"));
    for (const DatasetItem& item : items) {
      BindItem(insert, run_id, item, now);
      try {
        insert.exec();
      } catch (const SQLite::Exception& e) {
        if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE) {
          return absl::InvalidArgumentError(
              absl::StrCat(source.source, ": shot ", item.shot_index, " appears twice in one commit"));
        }
        throw;
      }
      insert.reset();
    }
    SQLite::Statement record(db,
                             "INSERT OR REPLACE INTO dataset_sources (run_id, source, status, detail, shots, frames, "
                             "updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)");
    record.bind(1, run_id);
    record.bind(2, source.source);
    record.bind(3, source.status);
    record.bind(4, source.detail);
    record.bind(5, source.shots);
    record.bind(6, source.frames);
    record.bind(7, now);
    record.exec();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<DatasetSource>> ExperimentStore::ListDatasetSources(int64_t run_id) {
  std::vector<DatasetSource> out;
  RETURN_IF_ERROR(db_->Read("list dataset sources", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    SQLite::Statement q(db,
                        "SELECT source, status, detail, shots, frames, updated_ms FROM dataset_sources "
                        "WHERE run_id = ? ORDER BY source");
    q.bind(1, run_id);
    while (q.executeStep()) {
      out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString(),
                     q.getColumn(3).getInt64(), q.getColumn(4).getInt64(), q.getColumn(5).getInt64()});
    }
    return absl::OkStatus();
  }));
  return out;
}

absl::StatusOr<std::vector<DatasetItem>> ExperimentStore::ListDatasetItems(int64_t run_id, bool kept_only) {
  std::vector<DatasetItem> out;
  RETURN_IF_ERROR(db_->Read("list dataset items", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    SQLite::Statement q(db, absl::StrCat("SELECT ", kItemColumns, " FROM dataset_items WHERE run_id = ?",
                                         kept_only ? " AND kept = 1" : "", " ORDER BY source, shot_index"));
    q.bind(1, run_id);
    while (q.executeStep()) out.push_back(ReadItem(q));
    return absl::OkStatus();
  }));
  return out;
}

absl::Status ExperimentStore::SetDatasetLabels(int64_t run_id, const std::vector<DatasetLabelUpdate>& labels) {
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

absl::Status ExperimentStore::SetDatasetCaptions(int64_t run_id, const std::vector<DatasetCaptionUpdate>& captions) {
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

absl::Status ExperimentStore::SetDatasetItemImage(int64_t item_id, int64_t artifact_id) {
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

absl::Status ExperimentStore::CreateDatasetSplits(int64_t run_id,
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

absl::StatusOr<std::vector<int64_t>> ExperimentStore::GetDatasetSplit(int64_t run_id, const std::string& name) {
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

absl::StatusOr<std::map<std::string, int64_t>> ExperimentStore::ListDatasetSplits(int64_t run_id) {
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
