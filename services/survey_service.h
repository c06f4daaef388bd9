// SurveyService: the researcher's side of pairwise A/B surveys (create from
// stored pairs, open, close, status, results, export). Participants use the HTTP
// page (services/survey_web.h) over the same domain code.
#ifndef DREAMSHOT_SERVICES_SURVEY_SERVICE_H_
#define DREAMSHOT_SERVICES_SURVEY_SERVICE_H_

#include "dreamshot/v1/survey.grpc.pb.h"
#include "experiments/artifact_blobs.h"
#include "experiments/store.h"
#include "services/rpc_guard.h"

namespace dreamshot::services {

class SurveyServiceImpl final : public v1::SurveyService::CallbackService {
 public:
  // `blobs` holds the pictures of broken-image attention checks.
  SurveyServiceImpl(experiments::ExperimentStore* store, experiments::ArtifactBlobs* blobs, const RpcGuard* guard)
      : store_(store), blobs_(blobs), guard_(guard) {}

  grpc::ServerUnaryReactor* CreateSurvey(grpc::CallbackServerContext* context, const v1::CreateSurveyRequest* request,
                                         v1::Survey* response) override;
  grpc::ServerUnaryReactor* OpenSurvey(grpc::CallbackServerContext* context, const v1::SurveyRef* request,
                                       v1::Survey* response) override;
  grpc::ServerUnaryReactor* CloseSurvey(grpc::CallbackServerContext* context, const v1::SurveyRef* request,
                                        v1::Survey* response) override;
  grpc::ServerUnaryReactor* GetSurveyStatus(grpc::CallbackServerContext* context, const v1::SurveyRef* request,
                                            v1::SurveyStatus* response) override;
  grpc::ServerUnaryReactor* ListSurveys(grpc::CallbackServerContext* context, const v1::ListSurveysRequest* request,
                                        v1::ListSurveysResponse* response) override;
  grpc::ServerUnaryReactor* ExportSurvey(grpc::CallbackServerContext* context, const v1::ExportSurveyRequest* request,
                                         v1::ExportSurveyResponse* response) override;
  grpc::ServerUnaryReactor* GetSurveyResults(grpc::CallbackServerContext* context,
                                             const v1::SurveyResultsRequest* request,
                                             v1::SurveyResults* response) override;

 private:
  experiments::ExperimentStore* store_;
  experiments::ArtifactBlobs* blobs_;
  const RpcGuard* guard_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_SURVEY_SERVICE_H_
