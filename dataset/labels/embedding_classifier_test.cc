#include "dataset/labels/embedding_classifier.h"

#include <fstream>
#include <random>

#include <gtest/gtest.h>

namespace dreamshot::dataset::labels {
namespace {

constexpr int kDim = 15;  // five dimensions per class: the classes are symmetric

// Three clusters around orthogonal-ish directions with Gaussian noise; a
// fixed seed keeps the test deterministic.
std::vector<LabelledEmbedding> Clusters(int per_class, double noise, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> gauss(0.0f, float(noise));
  const std::vector<std::string> labels = {"close", "medium", "long"};
  std::vector<LabelledEmbedding> out;
  for (int i = 0; i < per_class; ++i) {
    for (size_t k = 0; k < labels.size(); ++k) {
      std::vector<float> e(kDim);
      for (int d = 0; d < kDim; ++d) e[d] = gauss(rng) + (d % 3 == int(k) ? 1.0f : 0.0f);
      out.push_back({labels[k], e});
    }
  }
  return out;
}

TEST(EmbeddingClassifierTest, SeparatesSyntheticClusters) {
  absl::StatusOr<EmbeddingClassifier> model = EmbeddingClassifier::Train(Clusters(40, 0.3, 1));
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->labels(), (std::vector<std::string>{"close", "long", "medium"}));
  EXPECT_EQ(model->dim(), kDim);
  int correct = 0, total = 0;
  for (const LabelledEmbedding& e : Clusters(50, 0.3, 2)) {
    absl::StatusOr<EmbeddingPrediction> p = model->Predict(e.embedding);
    ASSERT_TRUE(p.ok()) << p.status();
    correct += p->label == e.label;
    ++total;
    double sum = 0;
    for (const auto& [label, prob] : p->probabilities) sum += prob;
    EXPECT_NEAR(sum, 1.0, 1e-9);
  }
  EXPECT_GE(correct, total * 95 / 100) << correct << "/" << total;
}

TEST(EmbeddingClassifierTest, AmbiguousPointsGetLowProbability) {
  // Overlapping clusters (noise 0.8 against a signal of 1 in a third of the
  // dimensions), so a point between two centroids is genuinely ambiguous.
  absl::StatusOr<EmbeddingClassifier> model = EmbeddingClassifier::Train(Clusters(300, 0.8, 1));
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<float> centre(kDim), halfway(kDim);
  for (int d = 0; d < kDim; ++d) {
    centre[d] = d % 3 == 0 ? 1.0f : 0.0f;                 // the "close" direction
    halfway[d] = d % 3 == 0 || d % 3 == 1 ? 1.0f : 0.0f;  // between close and medium
  }
  absl::StatusOr<EmbeddingPrediction> sure = model->Predict(centre), unsure = model->Predict(halfway);
  ASSERT_TRUE(sure.ok() && unsure.ok());
  EXPECT_EQ(sure->label, "close");
  EXPECT_GT(sure->probability, 0.9);
  EXPECT_LT(unsure->probability, 0.7) << unsure->probabilities.at("close") << " " << unsure->probabilities.at("medium");
  EXPECT_LT(unsure->probabilities.at("long"), 0.1);
}

TEST(EmbeddingClassifierTest, DeterministicAndSavesAndLoadsExactly) {
  const std::vector<LabelledEmbedding> train = Clusters(30, 0.5, 7);
  absl::StatusOr<EmbeddingClassifier> a = EmbeddingClassifier::Train(train);
  absl::StatusOr<EmbeddingClassifier> b = EmbeddingClassifier::Train(train);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ToJson(), b->ToJson());

  const std::string path = testing::TempDir() + "/shot_scale_classifier.json";
  ASSERT_TRUE(a->Save(path).ok());
  absl::StatusOr<EmbeddingClassifier> loaded = EmbeddingClassifier::Load(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  for (const LabelledEmbedding& e : Clusters(10, 0.5, 8)) {
    absl::StatusOr<EmbeddingPrediction> p = a->Predict(e.embedding), q = loaded->Predict(e.embedding);
    ASSERT_TRUE(p.ok() && q.ok());
    EXPECT_EQ(p->label, q->label);
    EXPECT_EQ(p->probabilities, q->probabilities);  // bit-exact through JSON
  }
}

TEST(EmbeddingClassifierTest, ErrorsNameTheProblem) {
  std::vector<LabelledEmbedding> train = Clusters(5, 0.3, 1);
  train[4].embedding.pop_back();
  absl::Status s = EmbeddingClassifier::Train(train).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("example 4"), std::string::npos) << s;

  EXPECT_FALSE(EmbeddingClassifier::Train({{"close", {1, 0}}, {"close", {1, 0.1f}}}).ok());  // one class
  EXPECT_FALSE(EmbeddingClassifier::Train({{"close", {1, 0}}, {"long", {0, 1}}}).ok());      // no spread
  absl::StatusOr<EmbeddingClassifier> model = EmbeddingClassifier::Train(Clusters(5, 0.3, 1));
  ASSERT_TRUE(model.ok());
  EXPECT_EQ(model->Predict({1, 2, 3}).status().code(), absl::StatusCode::kInvalidArgument);

  const std::string path = testing::TempDir() + "/bad_classifier.json";
  std::ofstream(path) << R"({"format": "dreamshot.nearest_centroid.v1", "dim": 3, "l2_normalize": true,
      "temperature": 1, "variance": 0.1, "classes": [{"label": "a", "count": 1, "centroid": [1, 2]}]})";
  s = EmbeddingClassifier::Load(path).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(path), std::string::npos) << s;
  EXPECT_NE(s.message().find("classes[0].centroid has length 2"), std::string::npos) << s;
  EXPECT_EQ(EmbeddingClassifier::Load(path + ".missing").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace dreamshot::dataset::labels
