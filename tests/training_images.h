// Training images for the trainer's service tests: `dir`/instance and
// `dir`/class, two seeded 64×64 noise images each, captioned "a man at a
// desk" in <stem>.txt files.
#ifndef DREAMSHOT_TESTS_TRAINING_IMAGES_H_
#define DREAMSHOT_TESTS_TRAINING_IMAGES_H_

#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>

namespace dreamshot::testing {

inline void WriteTrainingImages(const std::string& dir) {
  cv::RNG rng(3);
  for (const char* set : {"instance", "class"}) {
    std::filesystem::create_directories(dir + "/" + set);
    for (int i = 0; i < 2; ++i) {
      cv::Mat image(64, 64, CV_8UC3);
      rng.fill(image, cv::RNG::UNIFORM, 0, 255);
      const std::string stem = dir + "/" + set + "/" + std::to_string(i);
      cv::imwrite(stem + ".png", image);
      std::ofstream(stem + ".txt") << "a man at a desk";
    }
  }
}

}  // namespace dreamshot::testing

#endif  // DREAMSHOT_TESTS_TRAINING_IMAGES_H_
