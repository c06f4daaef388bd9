// Errors that list problems (unknown keys, shape mismatches) name the first
// few and count the rest: a LoRA file for another model can have hundreds,
// and the whole list would bury the point (and outgrow a gRPC status).
#ifndef DREAMSHOT_CORE_PROBLEM_LIST_H_
#define DREAMSHOT_CORE_PROBLEM_LIST_H_

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace dreamshot::core {

// "a; b; c" or "a; b; …; and 12 more".
inline std::string JoinProblems(const std::vector<std::string>& problems, size_t shown = 8) {
  if (problems.size() <= shown) return absl::StrJoin(problems, "; ");
  std::vector<std::string> head(problems.begin(), problems.begin() + shown);
  return absl::StrCat(absl::StrJoin(head, "; "), "; and ", problems.size() - shown, " more");
}

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_PROBLEM_LIST_H_
