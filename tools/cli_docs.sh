#!/usr/bin/env bash
# Regenerates docs/cli.md from the dreamshot binary's own --help texts, so
# the reference never drifts from the code. Run after changing a command:
#   bazel build //cli:dreamshot && tools/cli_docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ds=bazel-bin/cli/dreamshot
top=$("$ds" --help)
{
  echo "# The dreamshot CLI"
  echo
  echo "A gRPC client of \`dreamshotd\`; every command below is generated from the binary's own \`--help\` (\`tools/cli_docs.sh\`). Generation is described with examples in docs/generation.md."
  echo
  echo '```'
  echo "$top"
  echo '```'
  # The command names: the indented lines of the "commands:" block.
  echo "$top" | awk '/^commands:/{on=1; next} on && /^$/{exit} on' |
    sed -E 's/^  ([a-z-]+( [a-z-]+)?) {2,}.*/\1/' |
    while read -r command; do
      echo
      echo "## dreamshot $command"
      echo
      echo '```'
      # shellcheck disable=SC2086
      "$ds" $command --help
      echo '```'
    done
} > docs/cli.md
echo "wrote docs/cli.md"
