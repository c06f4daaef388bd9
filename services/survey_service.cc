#include "services/survey_service.h"

#include "absl/strings/str_cat.h"
#include "core/status_macros.h"
#include "experiments/survey_store.h"
#include "services/survey_convert.h"
#include "survey/results.h"
#include "survey/results_format.h"
#include "survey/survey_admin.h"
#include "survey/survey_export.h"
#include "survey/survey_status.h"

namespace dreamshot::services {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;

void SurveyServiceImpl::SetParticipantAddress(const std::string& host, int port) {
  // An IPv6 literal needs brackets in a URL.
  const bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  std::lock_guard<std::mutex> lock(mu_);
  participant_base_ = absl::StrCat("http://", v6 ? "[" : "", host, v6 ? "]" : "", ":", port);
}

std::string SurveyServiceImpl::ParticipantUrl(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (participant_base_.empty()) return "";
  return absl::StrCat(participant_base_, "/s/", name);
}

void SurveyServiceImpl::AddParticipantUrl(v1::Survey* survey) const {
  survey->set_participant_url(ParticipantUrl(survey->name()));
}

ServerUnaryReactor* SurveyServiceImpl::CreateSurvey(CallbackServerContext* context,
                                                    const v1::CreateSurveyRequest* request, v1::Survey* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    survey::NewSurvey create;
    create.name = request->name();
    if (!request->experiment().empty()) create.experiment = request->experiment();
    create.pair_runs.assign(request->pair_runs().begin(), request->pair_runs().end());
    create.pair_ids.assign(request->pair_ids().begin(), request->pair_ids().end());
    create.config = FromProto(request->config());
    create.blobs = blobs_;
    // Left unset, the default number adapts to a small pool; asked for, it
    // must fit unless the request allows fewer.
    create.allow_fewer_pairs = request->allow_fewer_pairs() || !request->config().has_pairs_per_participant();
    ASSIGN_OR_RETURN(experiments::Survey created, survey::CreateSurvey(stores_, create));
    ToProto(created, response);
    AddParticipantUrl(response);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* SurveyServiceImpl::OpenSurvey(CallbackServerContext* context, const v1::SurveyRef* request,
                                                  v1::Survey* response) {
  return Unary(context, *guard_, [&] { return ChangeStatus(*request, survey::SurveyStatus::kOpen, response); });
}

ServerUnaryReactor* SurveyServiceImpl::CloseSurvey(CallbackServerContext* context, const v1::SurveyRef* request,
                                                   v1::Survey* response) {
  return Unary(context, *guard_, [&] { return ChangeStatus(*request, survey::SurveyStatus::kClosed, response); });
}

absl::Status SurveyServiceImpl::ChangeStatus(const v1::SurveyRef& ref, survey::SurveyStatus to,
                                             v1::Survey* response) {
  ASSIGN_OR_RETURN(experiments::Survey found, survey::FindSurvey(*surveys_, ref.survey()));
  ASSIGN_OR_RETURN(experiments::Survey changed, survey::ChangeSurveyStatus(*surveys_, found.id, to));
  ToProto(changed, response);
  AddParticipantUrl(response);
  return absl::OkStatus();
}

ServerUnaryReactor* SurveyServiceImpl::GetSurveyStatus(CallbackServerContext* context, const v1::SurveyRef* request,
                                                       v1::SurveyStatus* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(experiments::Survey found, survey::FindSurvey(*surveys_, request->survey()));
    ASSIGN_OR_RETURN(survey::SurveyProgress progress, survey::GetSurveyProgress(*surveys_, found.id));
    ToProto(progress, response);
    AddParticipantUrl(response->mutable_survey());
    return absl::OkStatus();
  });
}

ServerUnaryReactor* SurveyServiceImpl::ListSurveys(CallbackServerContext* context,
                                                   const v1::ListSurveysRequest* /*request*/,
                                                   v1::ListSurveysResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<experiments::Survey> surveys, surveys_->ListSurveys());
    for (const auto& s : surveys) {
      v1::Survey* out = response->add_surveys();
      ToProto(s, out);
      AddParticipantUrl(out);
    }
    return absl::OkStatus();
  });
}

ServerUnaryReactor* SurveyServiceImpl::ExportSurvey(CallbackServerContext* context,
                                                    const v1::ExportSurveyRequest* request,
                                                    v1::ExportSurveyResponse* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(experiments::Survey found, survey::FindSurvey(*surveys_, request->survey()));
    ASSIGN_OR_RETURN(survey::AnswersCsv csv, survey::ExportAnswersCsv(*surveys_, found.id));
    response->set_csv(std::move(csv.text));
    response->set_answers(csv.rows);
    return absl::OkStatus();
  });
}

ServerUnaryReactor* SurveyServiceImpl::GetSurveyResults(CallbackServerContext* context,
                                                        const v1::SurveyResultsRequest* request,
                                                        v1::SurveyResults* response) {
  return Unary(context, *guard_, [&]() -> absl::Status {
    const std::string& format = request->format();
    if (!format.empty() && format != "markdown" && format != "html") {
      return absl::InvalidArgumentError(
          absl::StrCat("format must be \"markdown\" or \"html\" (or empty), got \"", format, "\""));
    }
    ASSIGN_OR_RETURN(survey::ResultsOptions options, FromProto(*request));
    ASSIGN_OR_RETURN(experiments::Survey found, survey::FindSurvey(*surveys_, request->survey()));
    ASSIGN_OR_RETURN(survey::ResultsInput input, survey::LoadResultsInput(*surveys_, found.id));
    ASSIGN_OR_RETURN(survey::SurveyResults results, survey::ComputeResults(input, options));
    ToProto(found, response->mutable_survey());
    AddParticipantUrl(response->mutable_survey());
    ToProto(results, response);
    ASSIGN_OR_RETURN(const survey::SurveyStatus status, survey::StatusOf(found));
    const survey::ResultsHeading heading{found.name, status};
    if (format == "markdown") response->set_rendered(survey::ResultsMarkdown(heading, results));
    if (format == "html") response->set_rendered(survey::ResultsHtml(heading, results));
    return absl::OkStatus();
  });
}

}  // namespace dreamshot::services
