// Client-streaming upload of one artifact (ExperimentService's
// UploadArtifact). The token is checked when the call starts, before any
// message is read; then a header and chunks of at most 1 MiB are written to
// a staging file as they arrive (one read in flight, so an upload holds one
// chunk in memory whatever its size), hashed as they go, checked against
// the declared size and sha256, and only then stored: blob first, then the
// artifact row, as LogArtifact does. Any failure or cancellation removes
// the staging file and stores nothing.
#ifndef DREAMSHOT_SERVICES_ARTIFACT_UPLOAD_H_
#define DREAMSHOT_SERVICES_ARTIFACT_UPLOAD_H_

#include <grpcpp/support/server_callback.h>

#include <cstddef>
#include <cstdint>

#include "dreamshot/v1/experiment.pb.h"
#include "experiments/artifact_blobs.h"
#include "experiments/artifact_store.h"
#include "services/rpc_guard.h"

namespace dreamshot::services {

struct ArtifactUploadLimits {
  size_t max_chunk_bytes = size_t{1} << 20;
  int64_t max_artifact_bytes = int64_t{4096} << 20;
};

// Returns a reactor that owns itself (deleted by gRPC's OnDone). `store`,
// `blobs` and `guard` outlive the call; `response` is the call's.
grpc::ServerReadReactor<v1::UploadArtifactRequest>* StartArtifactUpload(grpc::CallbackServerContext* context,
                                                                        const RpcGuard& guard,
                                                                        experiments::ArtifactStore* store,
                                                                        experiments::ArtifactBlobs* blobs,
                                                                        ArtifactUploadLimits limits,
                                                                        v1::ArtifactRef* response);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_ARTIFACT_UPLOAD_H_
