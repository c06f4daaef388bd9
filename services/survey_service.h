// SurveyService: the researcher's side of pairwise A/B surveys (create from
// stored pairs, open, close, status, results, export). Participants use the HTTP
// page (services/survey_web.h) over the same domain code.
#ifndef DREAMSHOT_SERVICES_SURVEY_SERVICE_H_
#define DREAMSHOT_SERVICES_SURVEY_SERVICE_H_

#include <mutex>
#include <string>

#include "dreamshot/v1/survey.grpc.pb.h"
#include "experiments/artifact_blobs.h"
#include "experiments/stores.h"
#include "services/rpc_guard.h"
#include "survey/survey_status.h"

namespace dreamshot::services {

class SurveyServiceImpl final : public v1::SurveyService::CallbackService {
 public:
  // A survey is made from `stores.pairs`, as a run of `stores.runs`, with
  // artifacts of its own; the rest is `stores.surveys`. `blobs` holds the
  // pictures of broken-image attention checks.
  SurveyServiceImpl(const experiments::Stores& stores, experiments::ArtifactBlobs* blobs, const RpcGuard* guard)
      : stores_(stores), surveys_(stores.surveys), blobs_(blobs), guard_(guard) {}

  // The address the participant pages are bound to (host as given to
  // --survey_listen, the bound port), set once they listen; every Survey
  // in a response then carries its participant_url. Unset: the pages are
  // off and participant_url stays empty. Safe while calls are served.
  void SetParticipantAddress(const std::string& host, int port);

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
  // "http://host:port/s/<name>", or "" without participant pages.
  std::string ParticipantUrl(const std::string& name) const;
  void AddParticipantUrl(v1::Survey* survey) const;
  // OpenSurvey and CloseSurvey: the survey named or numbered in `ref`, set to `to`.
  absl::Status ChangeStatus(const v1::SurveyRef& ref, survey::SurveyStatus to, v1::Survey* response);

  mutable std::mutex mu_;
  std::string participant_base_;  // "http://host:port"; guarded by mu_
  const experiments::Stores stores_;
  experiments::SurveyStore* const surveys_;
  experiments::ArtifactBlobs* blobs_;
  const RpcGuard* guard_;
};

}  // namespace dreamshot::services

#endif  // DREAMSHOT_SERVICES_SURVEY_SERVICE_H_
