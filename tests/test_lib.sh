# Shared by the shell tests (source it): where Bazel put the test's files,
# and where the binaries are when the script runs by hand from the
# workspace instead.
TMP="${TEST_TMPDIR:-$(mktemp -d)}"
RUNFILES="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-dreamshot}"

# find_binary REL: the executable REL (e.g. cli/dreamshot) from the
# runfiles, the working directory or bazel-bin; exits the test when none.
find_binary() {
  local rel=$1 candidate
  for candidate in "$RUNFILES/$rel" "$rel" "bazel-bin/$rel"; do
    if [[ -x "$candidate" ]]; then
      echo "$candidate"
      return 0
    fi
  done
  echo "FAIL: cannot find $rel (looked in runfiles and the working directory)" >&2
  exit 1
}
