#include "tests/survey_test_pairs.h"

#include "absl/strings/str_cat.h"
#include "core/png.h"
#include "core/status_macros.h"
#include "experiments/artifact_blobs.h"
#include "experiments/artifact_store.h"
#include "experiments/pair_store.h"
#include "experiments/store.h"

namespace dreamshot::testing {

absl::StatusOr<StoredTestPairs> StoreTestPairs(const experiments::Stores& stores, const std::string& artifacts_dir,
                                               int pairs, int size) {
  StoredTestPairs out;
  ASSIGN_OR_RETURN(experiments::Experiment experiment, stores.runs->GetOrCreateExperiment("pairs"));
  experiments::NewRun run;
  run.experiment_id = experiment.id;
  ASSIGN_OR_RETURN(experiments::Run created, stores.runs->CreateRun(run));
  out.run_id = created.id;
  experiments::ArtifactBlobs blobs(artifacts_dir);
  const char* types[] = {"close", "medium", "long"};
  for (int i = 0; i < pairs; ++i) {
    int64_t ids[2];
    for (int side = 0; side < 2; ++side) {
      core::PngImage image;
      image.width = image.height = size;
      image.pixels.resize(static_cast<size_t>(size) * size * 3);
      for (size_t k = 0; k < image.pixels.size(); ++k) image.pixels[k] = static_cast<uint8_t>(k * (i + 1) + side * 7);
      ASSIGN_OR_RETURN(std::string png, core::EncodePng(image));
      ASSIGN_OR_RETURN(experiments::StoredBlob blob, blobs.PutBytes(png));
      experiments::Artifact a;
      a.run_id = created.id;
      a.kind = "image";
      a.path = absl::StrCat("pairs/", i, side ? "-lora.png" : "-base.png");
      a.sha256 = blob.sha256;
      a.size_bytes = blob.size_bytes;
      a.uri = blob.uri;
      ASSIGN_OR_RETURN(experiments::Artifact stored, stores.artifacts->AddArtifact(a));
      ids[side] = stored.id;
      out.png_of_artifact[stored.id] = std::move(png);
    }
    experiments::ImagePair pair;
    pair.run_id = created.id;
    pair.prompt = absl::StrCat("a <b>lighthouse</b> keeper ", i);
    pair.shot_type = types[i % 3];
    pair.label_a = "base";
    pair.label_b = "lora";
    pair.artifact_a = ids[0];
    pair.artifact_b = ids[1];
    RETURN_IF_ERROR(stores.pairs->AddImagePair(pair).status());
  }
  return out;
}

}  // namespace dreamshot::testing
