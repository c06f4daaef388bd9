// Dataset pools: the items of a dataset-building run, the per-source
// progress that makes a build resumable, item images, drop state, labels,
// captions and named splits.
#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/artifact_rows.h"
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
                                                  const std::vector<DatasetItem>& items,
                                                  const std::vector<DatasetItemImage>& images) {
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
  // items[i] → images[image_of[i]], or -1.
  std::vector<int64_t> image_of(items.size(), -1);
  std::set<std::string> image_paths;
  for (size_t i = 0; i < images.size(); ++i) {
    const DatasetItemImage& image = images[i];
    if (image.item >= items.size()) {
      return absl::InvalidArgumentError(absl::StrCat(source.source, ": image ", i, " is of item ", image.item,
                                                     " but the commit has ", items.size(), " items"));
    }
    if (image_of[image.item] >= 0) {
      return absl::InvalidArgumentError(absl::StrCat(source.source, ": item ", image.item, " (shot ",
                                                     items[image.item].shot_index, ") has two images"));
    }
    image_of[image.item] = static_cast<int64_t>(i);
    absl::Status fields = CheckArtifactFields(image.artifact);
    if (!fields.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(source.source, ": image ", i, ": ", fields.message()));
    }
    if (image.artifact.run_id != 0 && image.artifact.run_id != run_id) {
      return absl::InvalidArgumentError(absl::StrCat(source.source, ": image ", i, " ('", image.artifact.path,
                                                     "') is an artifact of run ", image.artifact.run_id,
                                                     ", not of run ", run_id));
    }
    if (!image_paths.insert(image.artifact.path).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(source.source, ": two images of one commit share the path '", image.artifact.path, "'"));
    }
  }
  return db_->Write("commit dataset source", [&](SQLite::Database& db) -> absl::Status {
    RETURN_IF_ERROR(LoadRunStatus(db, run_id).status());
    const int64_t now = core::NowMillis();
    // A source committed twice (a resumed build that redid it) replaces its
    // items and their images instead of duplicating them — unless something
    // else points at them: split rows would silently lose items, and image
    // pairs would keep deleted artifacts.
    SQLite::Statement in_split(db,
                               "SELECT s.name FROM dataset_splits s JOIN dataset_items i ON s.item_id = i.id "
                               "WHERE i.run_id = ? AND i.source = ? ORDER BY s.name LIMIT 1");
    in_split.bind(1, run_id);
    in_split.bind(2, source.source);
    if (in_split.executeStep()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "source ", source.source, " has items in split '", in_split.getColumn(0).getString(), "' of run ", run_id,
          "; a source cannot be recommitted once its items are in a split"));
    }
    SQLite::Statement in_pair(db,
                              "SELECT p.id, a.path FROM dataset_items i JOIN artifacts a ON a.id = i.image_artifact "
                              "JOIN image_pairs p ON p.artifact_a = a.id OR p.artifact_b = a.id "
                              "WHERE i.run_id = ? AND i.source = ? ORDER BY p.id LIMIT 1");
    in_pair.bind(1, run_id);
    in_pair.bind(2, source.source);
    if (in_pair.executeStep()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "source ", source.source, " has an image ('", in_pair.getColumn(1).getString(), "') in image pair ",
          in_pair.getColumn(0).getInt64(), "; a source cannot be recommitted once its images are in a pair"));
    }
    std::vector<int64_t> old_images;
    {
      SQLite::Statement q(db,
                          "SELECT DISTINCT image_artifact FROM dataset_items "
                          "WHERE run_id = ? AND source = ? AND image_artifact IS NOT NULL");
      q.bind(1, run_id);
      q.bind(2, source.source);
      while (q.executeStep()) old_images.push_back(q.getColumn(0).getInt64());
    }
    SQLite::Statement clear(db, "DELETE FROM dataset_items WHERE run_id = ? AND source = ?");
    clear.bind(1, run_id);
    clear.bind(2, source.source);
    clear.exec();
    // The items go first (they reference the artifacts); an image another
    // item still uses is kept.
    SQLite::Statement drop_image(db,
                                 "DELETE FROM artifacts WHERE id = ? AND run_id = ? AND NOT EXISTS "
                                 "(SELECT 1 FROM dataset_items WHERE image_artifact = artifacts.id)");
    for (int64_t artifact_id : old_images) {
      drop_image.bind(1, artifact_id);
      drop_image.bind(2, run_id);
      drop_image.exec();
      drop_image.reset();
    }
    const std::string columns = std::string(kItemColumns).substr(std::string("id, ").size());
    // One "?" per column, so the list cannot drift from kItemColumns.
    std::string placeholders = "?";
    for (char c : columns) {
      if (c == ',') placeholders += ", ?";
    }
    SQLite::Statement insert(db, absl::StrCat("INSERT INTO dataset_items (", columns, ") VALUES (", placeholders, ")"));
    for (size_t i = 0; i < items.size(); ++i) {
      const DatasetItem* item = &items[i];
      DatasetItem with_image;
      if (image_of[i] >= 0) {
        Artifact artifact = images[image_of[i]].artifact;
        artifact.run_id = run_id;
        absl::StatusOr<int64_t> artifact_id = InsertArtifactRow(db, artifact, now);
        if (!artifact_id.ok()) {
          return absl::Status(artifact_id.status().code(),
                              absl::StrCat(source.source, ": image of shot ", item->shot_index, ": ",
                                           artifact_id.status().message()));
        }
        with_image = *item;
        with_image.image_artifact = *artifact_id;
        item = &with_image;
      }
      BindItem(insert, run_id, *item, now);
      try {
        insert.exec();
      } catch (const SQLite::Exception& e) {
        if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE) {
          return absl::InvalidArgumentError(
              absl::StrCat(source.source, ": shot ", item->shot_index, " appears twice in one commit"));
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

absl::Status ExperimentStore::SetDatasetDrops(int64_t run_id, const std::vector<DatasetDropUpdate>& drops) {
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
