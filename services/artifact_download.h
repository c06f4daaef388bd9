// Server-streaming download of one stored artifact (ExperimentService's
// GetArtifact). The blob file is read one chunk at a time as the client
// takes them, with one write in flight, so a download holds one chunk in
// memory whatever the artifact's size. The bytes are sent as they are on
// disk; the first message carries the sha256 recorded when they were
// stored, and the client checks them against it.
#ifndef DREAMSHOT_SERVICES_ARTIFACT_DOWNLOAD_H_
#define DREAMSHOT_SERVICES_ARTIFACT_DOWNLOAD_H_

#include <grpcpp/support/server_callback.h>

#include <cstddef>

#include "dreamshot/v1/experiment.pb.h"
#include "experiments/types.h"

namespace dreamshot::services {

// Returns a reactor that owns itself (deleted by gRPC's OnDone). It fails
// with DATA_LOSS naming the file when the blob is missing, unreadable or
// not the size the store recorded. The caller has authenticated the call
// and checked that the artifact belongs to the requested run.
grpc::ServerWriteReactor<v1::GetArtifactResponse>* StartArtifactDownload(const experiments::Artifact& artifact,
                                                                          size_t chunk_bytes);

// A reactor that immediately finishes with `status` (failed auth, unknown run).
grpc::ServerWriteReactor<v1::GetArtifactResponse>* FailedArtifactDownload(const grpc::Status& status);

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_ARTIFACT_DOWNLOAD_H_
