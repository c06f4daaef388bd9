// Dataset pools: committing a source's items with their images, and reading
// sources and items back. Labels, captions, drops and splits are in
// dataset_store_updates.cc.
#include "experiments/dataset_store.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "core/time.h"
#include "experiments/artifact_rows.h"
#include "experiments/database.h"
#include "experiments/run_loader.h"
#include "experiments/sql_value.h"

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

}  // namespace

absl::Status DatasetStore::CommitDatasetSource(int64_t run_id, const DatasetSource& source,
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

absl::StatusOr<std::vector<DatasetSource>> DatasetStore::ListDatasetSources(int64_t run_id) {
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

absl::StatusOr<std::vector<DatasetItem>> DatasetStore::ListDatasetItems(int64_t run_id, bool kept_only) {
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

}  // namespace dreamshot::experiments
