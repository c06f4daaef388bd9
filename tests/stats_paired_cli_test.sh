#!/usr/bin/env bash
# `dreamshot stats paired` through the built client, no server: published
# textbook results (Student's sleep data as R reports them; the Zea mays
# example of scipy.stats.wilcoxon's documentation), --json, determinism of
# the bootstrap given --seed, and the exit code and message of bad input.
set -euo pipefail

# Under bazel test the working directory is the runfiles root; by hand, the workspace.
lib=tests/test_lib.sh
[[ -f "$lib" ]] || lib="$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"
source "$lib"
DS="$(find_binary cli/dreamshot)"
# Nothing here may need a server: point at a port nobody listens on.
export DREAMSHOT_SERVER=127.0.0.1:1

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# expect_in TEXT NEEDLE: TEXT contains NEEDLE literally.
expect_in() {
  [[ "$1" == *"$2"* ]] || fail "expected '$2' in:
$1"
}

# row NAME VALUE: a row of the text output as the client lays it out.
row() {
  printf '  %-21s %s' "$1" "$2"
}

# run_status ARGS...: runs the client, stdout+stderr in $OUT, status in $CODE.
run_status() {
  set +e
  OUT="$("$DS" "$@" 2>&1)"
  CODE=$?
  set -e
}

# Student's sleep data: a = drug 1, b = drug 2 (R's `sleep`, extra hours).
SLEEP="$TMP/sleep.csv"
cat >"$SLEEP" <<'CSV'
id,a,b
1,0.7,1.9
2,-1.6,0.8
3,-0.2,1.1
4,-1.2,0.1
5,-0.1,-0.1
6,3.4,4.4
7,3.7,5.5
8,0.8,1.6
9,0.0,4.6
10,2.0,3.4
CSV

echo "--- text output (sleep data)"
out="$("$DS" stats paired "$SLEEP")"
echo "$out"
expect_in "$out" "10 pairs, difference = a - b"
expect_in "$out" "$(row "mean a" 0.75)"
expect_in "$out" "$(row "mean b" 2.33)"
expect_in "$out" "$(row "mean difference" "-1.58  95% CI [")"
# R: t = -4.0621, df = 9, p-value = 0.002833, CI -2.4598858 -0.7001142.
expect_in "$out" "t = -4.06213, df = 9, p = 0.00283289  (t 95% CI [-2.45989, -0.700114])"
# scipy >= 1.15 default: exact given the tie and the zero, 2 / 2^9.
expect_in "$out" "W = 0, p = 0.00390625  (exact; 1 zero difference dropped; tied ranks; R+ = 0, R- = 45)"
expect_in "$out" "$(row "Cohen's d_z" -1.28456)"

echo "--- R's wilcox.test: normal approximation with continuity correction"
out="$("$DS" stats paired "$SLEEP" --wilcoxon-method asymptotic --correction)"
# R: V = 0, p-value = 0.009091.
expect_in "$out" "W = 0, p = 0.0090907  (normal approximation, continuity-corrected;"

echo "--- scipy's documented example: Zea mays height differences (b = 0)"
CORN="$TMP/corn.csv"
{
  echo "id,a,b"
  i=0
  for d in 6 8 14 16 23 24 28 29 41 -48 49 56 60 -67 75; do
    i=$((i + 1))
    echo "plant$i,$d,0"
  done
} >"$CORN"
out="$("$DS" stats paired "$CORN")"
# scipy: wilcoxon(d) -> (24.0, 0.041259765625).
expect_in "$out" "W = 24, p = 0.0412598  (exact; R+ = 96, R- = 24)"
out="$("$DS" stats paired "$CORN" --alternative greater)"
# scipy: wilcoxon(d, alternative='greater') -> (96.0, 0.0206298828125).
expect_in "$out" "W = 96, p = 0.0206299 (greater)"

echo "--- --json"
json="$("$DS" --json stats paired "$SLEEP")"
echo "$json"
expect_in "$json" '"n":10'
expect_in "$json" '"method":"exact"'
expect_in "$json" '"p":0.00390625'
expect_in "$json" '"resamples":10000'
expect_in "$json" '"difference":"a - b"'
[[ "$(echo "$json" | wc -l)" -eq 1 ]] || fail "--json prints one line"

echo "--- identical systems: t undefined (nan, null in JSON), Wilcoxon p = 1"
printf 'id,a,b\nx,0.3,0.3\ny,0.4,0.4\nz,0.5,0.5\n' >"$TMP/same.csv"
out="$("$DS" stats paired "$TMP/same.csv")"
expect_in "$out" "t = nan, df = 2, p = nan"
expect_in "$out" "W = 0, p = 1  (exact; 3 zero differences dropped;"
json="$("$DS" --json stats paired "$TMP/same.csv")"
expect_in "$json" '"t":null'
expect_in "$json" '"cohens_dz":null'

echo "--- the bootstrap is fixed by --seed"
one="$("$DS" stats paired "$SLEEP" --seed 7 --resamples 20000)"
two="$("$DS" stats paired "$SLEEP" --seed 7 --resamples 20000)"
other="$("$DS" stats paired "$SLEEP" --seed 8 --resamples 20000)"
[[ "$one" == "$two" ]] || fail "same seed, different output"
[[ "$(grep 'mean difference' <<<"$one")" != "$(grep 'mean difference' <<<"$other")" ]] ||
  fail "seeds 7 and 8 gave the same interval"
expect_in "$one" "(paired bootstrap, 20000 resamples, seed 7)"
out="$("$DS" stats paired "$SLEEP" --confidence 0.9)"
expect_in "$out" "90% CI ["

echo "--- standard input"
out="$("$DS" stats paired - <"$SLEEP")"
expect_in "$out" "<stdin>: 10 pairs"
expect_in "$out" "t = -4.06213"

echo "--- bad input: exit code and message"
run_status stats paired "$TMP/missing.csv"
[[ $CODE -eq 3 ]] || fail "missing file: exit $CODE, want 3 (NOT_FOUND): $OUT"
expect_in "$OUT" "cannot open $TMP/missing.csv"

printf 'id,x,y\n1,2,3\n' >"$TMP/header.csv"
run_status stats paired "$TMP/header.csv"
[[ $CODE -eq 2 ]] || fail "bad header: exit $CODE, want 2: $OUT"
expect_in "$OUT" "header.csv:1: the header must name the columns id, a and b; got 'id,x,y'"

printf 'id,a,b\n1,0.5,0.4\n2,0.6,zero\n' >"$TMP/cell.csv"
run_status stats paired "$TMP/cell.csv"
[[ $CODE -eq 2 ]] || fail "bad cell: exit $CODE, want 2: $OUT"
expect_in "$OUT" "cell.csv:3: column b of id '2' is not a finite number: 'zero'"

printf 'id,a,b\n1,0.5,0.4\n2,0.6,0.5\n1,0.7,0.1\n' >"$TMP/dup.csv"
run_status stats paired "$TMP/dup.csv"
[[ $CODE -eq 2 ]] || fail "duplicate id: exit $CODE, want 2: $OUT"
expect_in "$OUT" "dup.csv:4: duplicate id '1' (first on line 2)"

printf 'id,a,b\n1,0.5,0.4\n' >"$TMP/one.csv"
run_status stats paired "$TMP/one.csv"
[[ $CODE -eq 2 ]] || fail "one pair: exit $CODE, want 2: $OUT"
expect_in "$OUT" "need at least 2 pairs, got 1"

run_status stats paired "$SLEEP" --confidence 1.5
[[ $CODE -eq 2 ]] || fail "bad --confidence: exit $CODE, want 2: $OUT"
expect_in "$OUT" "usage error: --confidence must be in the open interval (0, 1), got 1.5"

run_status stats paired "$SLEEP" --wilcoxon-method approx
[[ $CODE -eq 2 ]] || fail "bad --wilcoxon-method: exit $CODE: $OUT"
expect_in "$OUT" "auto, exact or asymptotic, got 'approx'"

echo "PASS"
