#include "dataset/shots/frame_metrics.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

namespace dreamshot::dataset::shots {
namespace {

cv::Mat Solid(cv::Scalar bgr, cv::Size size = cv::Size(256, 144)) { return cv::Mat(size, CV_8UC3, bgr); }

cv::Mat Texture(int seed, cv::Size size = cv::Size(256, 144)) {
  cv::Mat noise(size.height / 8, size.width / 8, CV_8UC3), out;
  cv::theRNG().state = static_cast<uint64_t>(seed);
  cv::randu(noise, 30, 230);
  cv::resize(noise, out, size, 0, 0, cv::INTER_CUBIC);
  return out;
}

TEST(FrameScorerTest, ScoresTheMeanHsvDifferenceOnA0To255Scale) {
  FrameScorer scorer;
  const FrameMetrics first = scorer.Score(0, 0, Solid({0, 0, 255}));  // red: H 0, S 255, V 255
  EXPECT_FALSE(first.scored);
  EXPECT_EQ(first.content, 0);
  const FrameMetrics same = scorer.Score(1, 0.04, Solid({0, 0, 255}));
  EXPECT_TRUE(same.scored);
  EXPECT_EQ(same.content, 0);
  const FrameMetrics blue = scorer.Score(2, 0.08, Solid({255, 0, 0}));  // H 120
  EXPECT_DOUBLE_EQ(blue.delta_hue, 120);
  EXPECT_DOUBLE_EQ(blue.delta_sat, 0);
  EXPECT_DOUBLE_EQ(blue.delta_value, 0);
  EXPECT_DOUBLE_EQ(blue.content, 40);
  EXPECT_NEAR(blue.luma, 29, 0.5);  // BT.601: 0.114 * 255
  // Against the frame two back (red); there is none three back.
  EXPECT_DOUBLE_EQ(blue.content_to_earlier[0], 40);
  EXPECT_EQ(blue.content_to_earlier[1], -1);
  const FrameMetrics red = scorer.Score(3, 0.12, Solid({0, 0, 255}));
  EXPECT_DOUBLE_EQ(red.content, 40);
  EXPECT_DOUBLE_EQ(red.content_to_earlier[0], 0);  // like frame 1: a flash's shape
  EXPECT_DOUBLE_EQ(red.content_to_earlier[1], 0);
}

TEST(FrameScorerTest, EdgesCountWhenWeighted) {
  ScoreOptions options;
  options.weight_hue = options.weight_sat = options.weight_value = 0;
  options.weight_edges = 1;
  FrameScorer scorer(options);
  scorer.Score(0, 0, Texture(1));
  EXPECT_EQ(scorer.Score(1, 0, Texture(1)).content, 0);
  const FrameMetrics other = scorer.Score(2, 0, Texture(2));
  EXPECT_GT(other.delta_edges, 20);
  EXPECT_DOUBLE_EQ(other.content, other.delta_edges);
}

TEST(FrameScorerTest, ASizeChangeStartsOver) {
  FrameScorer scorer;
  scorer.Score(0, 0, Texture(1));
  EXPECT_FALSE(scorer.Score(1, 0, Texture(1, cv::Size(128, 72))).scored);
}

TEST(PictureAreaTest, FindsLetterboxAndPillarboxBars) {
  cv::Mat frame = Solid({0, 0, 0});
  Texture(3)(cv::Rect(0, 20, 256, 104)).copyTo(frame(cv::Rect(0, 20, 256, 104)));
  cv::Mat grey;
  cv::cvtColor(frame, grey, cv::COLOR_BGR2GRAY);
  EXPECT_EQ(PictureArea(grey, 12), cv::Rect(0, 20, 256, 104));

  frame = Solid({0, 0, 0});
  Texture(4)(cv::Rect(32, 0, 192, 144)).copyTo(frame(cv::Rect(32, 0, 192, 144)));
  frame(cv::Rect(0, 0, 32, 144)).setTo(cv::Scalar(3, 3, 3));  // not quite black, as after compression
  cv::cvtColor(frame, grey, cv::COLOR_BGR2GRAY);
  EXPECT_EQ(PictureArea(grey, 12), cv::Rect(32, 0, 192, 144));
}

TEST(PictureAreaTest, ABlackFrameKeepsItsMiddleHalfAndDarkDetailIsNoBar) {
  cv::Mat grey(144, 256, CV_8U, cv::Scalar(2));
  EXPECT_EQ(PictureArea(grey, 12), cv::Rect(64, 36, 128, 72));
  // A dark scene's top rows: mean under 12 but a bright star in each.
  grey.setTo(cv::Scalar(60));
  grey(cv::Rect(0, 0, 256, 30)).setTo(cv::Scalar(4));
  for (int y = 0; y < 30; ++y) grey.at<uchar>(y, (y * 37) % 256) = 200;
  EXPECT_EQ(PictureArea(grey, 12), cv::Rect(0, 0, 256, 144));
}

TEST(FrameScorerTest, BarsAreLeftOutOfLumaAndScores) {
  // The same two pictures, bare and letterboxed: equal scores and luma.
  auto letterbox = [](const cv::Mat& picture) {
    cv::Mat frame = Solid({0, 0, 0});
    cv::Mat small;
    cv::resize(picture, small, cv::Size(256, 96));
    small.copyTo(frame(cv::Rect(0, 24, 256, 96)));
    return frame;
  };
  cv::Mat a, b;
  cv::resize(Texture(5), a, cv::Size(256, 96));
  cv::resize(Texture(6), b, cv::Size(256, 96));
  FrameScorer bare, boxed;
  bare.Score(0, 0, a);
  boxed.Score(0, 0, letterbox(a));
  const FrameMetrics m_bare = bare.Score(1, 0, b), m_boxed = boxed.Score(1, 0, letterbox(b));
  EXPECT_NEAR(m_boxed.content, m_bare.content, 0.5);
  EXPECT_NEAR(m_boxed.luma, m_bare.luma, 0.5);
  EXPECT_EQ(m_boxed.picture.y, 24);
  EXPECT_EQ(m_boxed.picture.height, 96);
}

}  // namespace
}  // namespace dreamshot::dataset::shots
