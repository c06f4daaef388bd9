#include "dataset/labels/embedding_classifier.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "core/atomic_file.h"
#include "core/status_macros.h"
#include "dataset/labels/table_rows.h"

namespace dreamshot::dataset::labels {
namespace {

constexpr char kFormat[] = "dreamshot.nearest_centroid.v1";
// Floor for σ² so identical training examples do not divide by zero.
constexpr double kMinVariance = 1e-12;

double SquaredDistance(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum;
}

}  // namespace

std::vector<double> EmbeddingClassifier::Prepare(const std::vector<float>& embedding) const {
  std::vector<double> x(embedding.begin(), embedding.end());
  if (options_.l2_normalize) {
    double norm = 0;
    for (double v : x) norm += v * v;
    norm = std::sqrt(norm);
    if (norm > 0) {
      for (double& v : x) v /= norm;
    }
  }
  return x;
}

absl::StatusOr<EmbeddingClassifier> EmbeddingClassifier::Train(const std::vector<LabelledEmbedding>& examples,
                                                               const EmbeddingClassifierOptions& options) {
  if (examples.empty()) return absl::InvalidArgumentError("EmbeddingClassifier::Train: no examples");
  if (!(options.temperature > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("EmbeddingClassifier: temperature ", options.temperature, " <= 0"));
  }
  EmbeddingClassifier model;
  model.options_ = options;
  model.dim_ = int(examples.front().embedding.size());
  std::map<std::string, std::vector<std::vector<double>>> by_label;
  for (size_t i = 0; i < examples.size(); ++i) {
    const LabelledEmbedding& e = examples[i];
    if (e.embedding.empty() || int(e.embedding.size()) != model.dim_) {
      return absl::InvalidArgumentError(absl::StrCat("EmbeddingClassifier::Train: example ", i, " ('", e.label,
                                                     "') has length ", e.embedding.size(), ", example 0 has ",
                                                     model.dim_));
    }
    if (!std::all_of(e.embedding.begin(), e.embedding.end(), [](float v) { return std::isfinite(v); })) {
      return absl::InvalidArgumentError(
          absl::StrCat("EmbeddingClassifier::Train: example ", i, " ('", e.label, "') has a non-finite value"));
    }
    by_label[e.label].push_back(model.Prepare(e.embedding));
  }
  if (by_label.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("EmbeddingClassifier::Train: need >= 2 classes, got ", by_label.size()));
  }
  double within = 0;  // Σ ‖x - μ_class‖²
  int64_t n = 0;
  for (const auto& [label, xs] : by_label) {
    Class c{label, int64_t(xs.size()), std::vector<double>(size_t(model.dim_), 0.0)};
    for (const auto& x : xs) {
      for (int d = 0; d < model.dim_; ++d) c.centroid[d] += x[d];
    }
    for (double& v : c.centroid) v /= double(xs.size());
    for (const auto& x : xs) within += SquaredDistance(x, c.centroid);
    n += int64_t(xs.size());
    model.classes_.push_back(std::move(c));
  }
  const int64_t dof = n - int64_t(model.classes_.size());
  if (dof <= 0) {
    return absl::InvalidArgumentError(
        "EmbeddingClassifier::Train: every class has one example; need two in some class to estimate the spread");
  }
  model.variance_ = std::max(kMinVariance, within / (double(dof) * model.dim_));
  return model;
}

absl::StatusOr<EmbeddingPrediction> EmbeddingClassifier::Predict(const std::vector<float>& embedding) const {
  if (int(embedding.size()) != dim_) {
    return absl::InvalidArgumentError(
        absl::StrCat("EmbeddingClassifier::Predict: embedding length ", embedding.size(), ", model expects ", dim_));
  }
  if (!std::all_of(embedding.begin(), embedding.end(), [](float v) { return std::isfinite(v); })) {
    return absl::InvalidArgumentError("EmbeddingClassifier::Predict: embedding has a non-finite value");
  }
  const std::vector<double> x = Prepare(embedding);
  std::vector<double> logits;
  for (const Class& c : classes_) {
    logits.push_back(-SquaredDistance(x, c.centroid) / (2 * options_.temperature * variance_));
  }
  const double top = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (double& l : logits) sum += (l = std::exp(l - top));  // stable softmax
  EmbeddingPrediction out;
  for (size_t k = 0; k < classes_.size(); ++k) {
    const double p = logits[k] / sum;
    out.probabilities[classes_[k].label] = p;
    if (p > out.probability) out.label = classes_[k].label, out.probability = p;
  }
  return out;
}

std::vector<std::string> EmbeddingClassifier::labels() const {
  std::vector<std::string> out;
  for (const Class& c : classes_) out.push_back(c.label);
  return out;
}

std::string EmbeddingClassifier::ToJson() const {
  nlohmann::json j;
  j["format"] = kFormat;
  j["dim"] = dim_;
  j["l2_normalize"] = options_.l2_normalize;
  j["temperature"] = options_.temperature;
  j["variance"] = variance_;
  j["classes"] = nlohmann::json::array();
  for (const Class& c : classes_) {
    j["classes"].push_back({{"label", c.label}, {"count", c.count}, {"centroid", c.centroid}});
  }
  return j.dump(1);
}

absl::StatusOr<EmbeddingClassifier> EmbeddingClassifier::FromJson(absl::string_view json, absl::string_view source) {
  auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a nearest-centroid classifier: ", what));
  };
  EmbeddingClassifier model;
  try {
    const nlohmann::json j = nlohmann::json::parse(json.begin(), json.end());
    if (j.value("format", "") != kFormat) return bad(absl::StrCat("\"format\" is not \"", kFormat, "\""));
    model.dim_ = j.at("dim").get<int>();
    model.options_.l2_normalize = j.at("l2_normalize").get<bool>();
    model.options_.temperature = j.at("temperature").get<double>();
    model.variance_ = j.at("variance").get<double>();
    if (model.dim_ <= 0 || !(model.variance_ > 0) || !(model.options_.temperature > 0)) {
      return bad("\"dim\", \"variance\" and \"temperature\" must be positive");
    }
    const nlohmann::json& classes = j.at("classes");
    for (size_t k = 0; k < classes.size(); ++k) {
      Class c{classes[k].at("label").get<std::string>(), classes[k].at("count").get<int64_t>(),
              classes[k].at("centroid").get<std::vector<double>>()};
      if (int(c.centroid.size()) != model.dim_) {
        return bad(absl::StrCat("classes[", k, "].centroid has length ", c.centroid.size(), ", \"dim\" is ",
                                model.dim_));
      }
      if (!model.classes_.empty() && !(model.classes_.back().label < c.label)) {
        return bad(absl::StrCat("classes[", k, "] ('", c.label, "') is out of label order or repeated"));
      }
      model.classes_.push_back(std::move(c));
    }
    if (model.classes_.size() < 2) return bad("fewer than 2 classes");
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
  return model;
}

absl::Status EmbeddingClassifier::Save(const std::string& path) const {
  return core::WriteFileAtomically(path, ToJson());
}

absl::StatusOr<EmbeddingClassifier> EmbeddingClassifier::Load(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadTextFile(path));
  return FromJson(text, path);
}

}  // namespace dreamshot::dataset::labels
