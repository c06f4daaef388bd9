#include "dataset/types.h"

#include <algorithm>
#include <cctype>

namespace dreamshot::dataset {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

const char* ShotScaleName(ShotScale scale) {
  switch (scale) {
    case ShotScale::kClose:
      return "close";
    case ShotScale::kMedium:
      return "medium";
    case ShotScale::kLong:
      return "long";
    case ShotScale::kUnknown:
      break;
  }
  return "unknown";
}

std::optional<ShotScale> ParseShotScale(const std::string& name) {
  const std::string n = Lower(name);
  if (n == "close" || n == "close shot" || n == "cs") return ShotScale::kClose;
  if (n == "medium" || n == "medium shot" || n == "ms") return ShotScale::kMedium;
  if (n == "long" || n == "long shot" || n == "ls") return ShotScale::kLong;
  if (n == "unknown") return ShotScale::kUnknown;
  return std::nullopt;
}

const char* FineShotScaleName(FineShotScale scale) {
  switch (scale) {
    case FineShotScale::kExtremeClose:
      return "ECS";
    case FineShotScale::kClose:
      return "CS";
    case FineShotScale::kMedium:
      return "MS";
    case FineShotScale::kFull:
      return "FS";
    case FineShotScale::kLong:
      return "LS";
    case FineShotScale::kUnknown:
      break;
  }
  return "unknown";
}

std::optional<FineShotScale> ParseFineShotScale(const std::string& name) {
  const std::string n = Lower(name);
  if (n == "ecs") return FineShotScale::kExtremeClose;
  if (n == "cs") return FineShotScale::kClose;
  if (n == "ms") return FineShotScale::kMedium;
  if (n == "fs") return FineShotScale::kFull;
  if (n == "ls") return FineShotScale::kLong;
  if (n == "unknown") return FineShotScale::kUnknown;
  return std::nullopt;
}

ShotScale CoarseScale(FineShotScale fine) {
  switch (fine) {
    case FineShotScale::kExtremeClose:
    case FineShotScale::kClose:
      return ShotScale::kClose;
    case FineShotScale::kMedium:
      return ShotScale::kMedium;
    case FineShotScale::kFull:
    case FineShotScale::kLong:
      return ShotScale::kLong;
    case FineShotScale::kUnknown:
      break;
  }
  return ShotScale::kUnknown;
}

}  // namespace dreamshot::dataset
