#include "parity/case_images.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/status_macros.h"

namespace dreamshot::parity {

absl::StatusOr<std::vector<evaluator::Image8>> ReadCaseImages(const ParityCase& c) {
  std::vector<std::string> names;
  if (c.spec.Has("images")) {
    ASSIGN_OR_RETURN(names, c.spec.StringList("images"));
  } else {  // dino_vit lists them among its files only
    ASSIGN_OR_RETURN(std::vector<std::string> files, c.spec.StringList("files"));
    for (std::string& f : files) {
      if (absl::EndsWith(f, ".png")) names.push_back(std::move(f));
    }
  }
  if (names.empty()) return absl::InvalidArgumentError(absl::StrCat(c.name, ": no images listed"));
  std::vector<evaluator::Image8> images;
  for (const std::string& name : names) {
    ASSIGN_OR_RETURN(evaluator::Image8 image, evaluator::ReadPngImage(c.Path(name)));
    images.push_back(std::move(image));
  }
  return images;
}

}  // namespace dreamshot::parity
