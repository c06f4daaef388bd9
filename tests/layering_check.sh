#!/usr/bin/env bash
# Checks a dependency graph against the layer table.
#
#   layering_check.sh TABLE GRAPH
#
# TABLE: //bazel:layers (made from bazel/layers.bzl): lines
#   `layer FOLDER DEP...`, `exception TARGET FOLDER`, `restricted LABEL FOLDER...`.
# GRAPH: `bazel query ... --output=graph --nograph:factored` (genquery too).
# Prints every edge that goes the wrong way, e.g.
#   //models:foo -> //experiments:store: models may not depend on experiments (models may depend on: core)
# and exits 1 if there is one. Edges inside one folder, to third_party/,
# bazel/, the root package or an external repository are allowed, except
# those to a RESTRICTED third-party label.
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: $0 TABLE GRAPH" >&2; exit 2; }

awk '
  function folder(label,    rest) {
    if (label !~ /^\/\//) return "@"          # external repository
    rest = substr(label, 3)
    sub(/[:\/].*/, "", rest)
    return rest == "" ? "//" : rest           # "//" is the root package
  }
  function open_folder(f) { return f == "@" || f == "//" || f == "third_party" || f == "bazel" }

  FNR == NR {                                 # the table
    if ($1 == "layer") {
      known[$2] = 1; layers++
      for (i = 3; i <= NF; i++) { may[$2, $i] = 1; list[$2] = list[$2] (i > 3 ? ", " : "") $i }
      if (NF < 3) list[$2] = "nothing but third_party"
    } else if ($1 == "exception") {
      exception[$2, $3] = 1
    } else if ($1 == "restricted") {
      restricted[$2] = 1
      for (i = 3; i <= NF; i++) { restricted_to[$2, $i] = 1; rlist[$2] = rlist[$2] (i > 3 ? ", " : "") $i }
    }
    next
  }

  /->/ {
    from = $1; to = $3
    gsub(/"/, "", from); gsub(/"/, "", to)
    edges++
    f = folder(from); t = folder(to)
    if (open_folder(f)) next
    if (!(f in known)) { bad[f ": folder has no row in bazel/layers.bzl (" from ")"] = 1; next }
    if (to in restricted) {
      if (!((to, f) in restricted_to))
        bad[from " -> " to ": " f " may not use " to " (only " rlist[to] ")"] = 1
      next
    }
    if (f == t || open_folder(t) || (f, t) in may || (to, f) in exception) next
    if (!(t in known)) { bad[t ": folder has no row in bazel/layers.bzl (" to ")"] = 1; next }
    bad[from " -> " to ": " f " may not depend on " t " (" f " may depend on: " list[f] ")"] = 1
  }

  END {
    if (layers == 0) { print "layering_check: empty layer table" > "/dev/stderr"; exit 2 }
    n = 0
    for (line in bad) { print line | "sort"; n++ }
    close("sort")
    if (n > 0) {
      printf "layering_check: %d of %d edges go the wrong way; the layers are in bazel/layers.bzl and docs/architecture.md\n", n, edges > "/dev/stderr"
      exit 1
    }
    printf "layering_check: %d edges, none goes the wrong way\n", edges
  }
' "$1" "$2"
