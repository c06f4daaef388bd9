// Where tests find the upstream reference vectors (../shared/reference next
// to the checkout; see its README).
//
// ReferenceDir() is, in order:
//   1. $DREAMSHOT_REFERENCE_DIR when set (e.g. --test_env=DREAMSHOT_REFERENCE_DIR=/data/reference);
//   2. <workspace root>/../shared/reference, the workspace root found by
//      resolving the runfile symlink dreamshot/WORKSPACE to the source tree.
//      Tests using this declare `data = ["//:WORKSPACE"]`. Bazel's
//      processwrapper sandbox (this repo's .bazelrc) keeps absolute paths
//      visible, so plain `bazel test` works.
// Returns "" when neither resolves; tests then fail naming the env variable.
#ifndef DREAMSHOT_CORE_TESTDATA_PATHS_H_
#define DREAMSHOT_CORE_TESTDATA_PATHS_H_

#include <string>

namespace dreamshot::core {

std::string ReferenceDir();
// ReferenceDir() + "/" + relative, or "" when ReferenceDir() is "".
std::string ReferencePath(const std::string& relative);
// A runfile of this workspace ("core/testdata/x"), resolved through
// $TEST_SRCDIR/$TEST_WORKSPACE when set, else relative to the working folder.
std::string RunfilePath(const std::string& relative);

}  // namespace dreamshot::core

#endif  // DREAMSHOT_CORE_TESTDATA_PATHS_H_
