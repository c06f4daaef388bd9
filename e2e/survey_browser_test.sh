#!/usr/bin/env bash
# Real-browser end-to-end test of the survey participant page: starts
# dreamshotd on free loopback ports, stores A/B pairs made with a tiny random
# model, creates and opens a survey, lets headless Chromium (driven by
# survey_browser_test.mjs) take part like a person, then checks the exported
# CSV against what the browser clicked. Prints "ok: ..." per check; the first
# failure prints "FAIL: ..." and exits 1.
set -euo pipefail

TMP="${TEST_TMPDIR:-$(mktemp -d)}"
RUNFILES="${TEST_SRCDIR:-}/${TEST_WORKSPACE:-dreamshot}"
SHOTS="${TEST_UNDECLARED_OUTPUTS_DIR:-$TMP/screenshots}"
mkdir -p "$SHOTS"

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
ok() { echo "ok: $*"; }

find_file() {
  local rel=$1 candidate
  for candidate in "$RUNFILES/$rel" "$rel" "bazel-bin/$rel"; do
    if [[ -e "$candidate" ]]; then
      echo "$candidate"
      return 0
    fi
  done
  fail "cannot find $rel (looked in runfiles and the working directory)"
}
DS="$(find_file cli/dreamshot)"
DSD="$(find_file services/dreamshotd)"
INIT_TINY="$(find_file tools/dreamshot-init-tiny-model)"
# The runfile is a symlink into the source tree; node_modules lives next to
# the real file (npm installs there, Bazel does not carry it).
MJS="$(find_file e2e/survey_browser_test.mjs)"
MJS="$(readlink -f "$MJS")"
E2E_DIR="$(dirname "$MJS")"
CHROMIUM=/usr/bin/chromium
[[ -x "$CHROMIUM" ]] || fail "$CHROMIUM is missing: run tools/setup.sh (installs Debian's chromium)"
command -v node >/dev/null || fail "node is missing: run tools/setup.sh (installs nodejs)"
[[ -f "$E2E_DIR/node_modules/playwright-core/package.json" ]] \
  || fail "$E2E_DIR/node_modules/playwright-core is missing: run tools/setup.sh (npm ci in e2e/)"

SERVER_PID=""
cleanup() {
  if [[ -n "$SERVER_PID" ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT

"$DSD" --listen=127.0.0.1:0 --survey_listen=127.0.0.1:0 --data_dir="$TMP/data" --port_file="$TMP/port" \
  --survey_port_file="$TMP/survey_port" >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 200); do
  [[ -s "$TMP/port" && -s "$TMP/survey_port" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; fail "dreamshotd exited before serving"; }
  sleep 0.1
done
[[ -s "$TMP/port" && -s "$TMP/survey_port" ]] || { cat "$TMP/server.log" >&2; fail "dreamshotd wrote no port files in 20 s"; }
PORT="$(cat "$TMP/port")"
WEB="http://127.0.0.1:$(cat "$TMP/survey_port")"
ok "dreamshotd serving gRPC on $PORT, survey pages on $WEB"

# ds ARGS...: the CLI against our server; output in $OUT, fails loudly.
ds() {
  if ! OUT="$("$DS" --server "127.0.0.1:$PORT" "$@" 2>"$TMP/err")"; then
    fail "'dreamshot $*' failed: $OUT $(cat "$TMP/err")"
  fi
}

TINY="$TMP/tiny-sd"
"$INIT_TINY" "$TINY" --seed 3 >/dev/null || fail "dreamshot-init-tiny-model $TINY failed"
# The CLI reads the shot type from the prompt's first words ("Close Shot, ...").
A_LABEL=base
B_LABEL=other
ds pairs --model "$TINY" --a-label "$A_LABEL" --b-label "$B_LABEL" --prompt "Close Shot, a lighthouse keeper" \
  --prompt "Medium Shot, a fisherman mending nets" --prompt "Long Shot, a harbour at dusk" \
  --seed 5 --seed 6 --width 32 --height 32 --steps 2 --experiment browser-e2e
PAIRS_RUN="$(sed -n 's/^run \([0-9]*\): .*/\1/p' <<<"$OUT")"
[[ "$PAIRS_RUN" =~ ^[0-9]+$ ]] || fail "pairs printed no 'run N: ...' line: $OUT"
[[ "$(grep -c '^pair ' <<<"$OUT")" -eq 6 ]] || fail "pairs made $(grep -c '^pair ' <<<"$OUT") pairs, want 6: $OUT"
for type in close medium long; do
  grep -q "^pair .*  $type  " <<<"$OUT" || fail "no $type pair: $OUT"
done
ok "6 A/B pairs (close, medium, long x 2 seeds) in run $PAIRS_RUN"

SURVEY=browser-e2e
ds survey create "$SURVEY" --pairs-run "$PAIRS_RUN" --pairs-per-participant 4 --attention-checks 1 --seed 7
ds survey open "$SURVEY"
ok "survey $SURVEY created and opened (4 pairs + 1 attention check per participant)"

RESULT="$TMP/browser.json"
WEB="$WEB" SURVEY="$SURVEY" SHOTS="$SHOTS" RESULT="$RESULT" CHROMIUM="$CHROMIUM" LABELS="$A_LABEL,$B_LABEL" \
  node "$MJS" || fail "the browser run failed (see above; screenshots in $SHOTS)"

ds survey export "$SURVEY" --out "$TMP/answers.csv"
# Every row against what the browser clicked, and choice/system against the
# side swap: shown A means system x unless swapped.
python3 - "$TMP/answers.csv" "$RESULT" "$A_LABEL" "$B_LABEL" <<'EOF' || fail "the exported CSV does not match the clicks"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
clicked = json.load(open(sys.argv[2]))
x_label, y_label = sys.argv[3], sys.argv[4]
keys = clicked["questionKeys"]
def check(cond, what):
    if not cond:
        print("FAIL: " + what, file=sys.stderr)
        sys.exit(1)
by_participant = {}
for r in rows:
    by_participant.setdefault(r["participant"], []).append(r)
check(len(by_participant) == 2, f"want 2 participants (desktop, phone), got {sorted(by_participant)}")
for who in ("desktop", "phone"):
    pairs = clicked[who]
    mine = [rs for rs in by_participant.values() if len(rs) == 3 * len(pairs)]
    check(len(mine) == 1, f"{who}: want one participant with {3 * len(pairs)} rows, got {[len(v) for v in by_participant.values()]}")
    got = {(int(r["position"]), r["question"]): r for r in mine[0]}
    check(len(got) == len(mine[0]), f"{who}: a (position, question) twice")
    for p in pairs:
        for key, answer in zip(keys, p["answers"]):
            r = got.get((p["position"], key))
            check(r is not None, f"{who}: no row for position {p['position']} question {key}")
            check(r["shown"] == answer, f"{who}: position {p['position']} {key}: shown {r['shown']}, clicked {answer}")
            check(r["prompt"] == p["prompt"], f"{who}: position {p['position']}: prompt {r['prompt']!r}, page {p['prompt']!r}")
            want = "neither" if answer == "neither" else ("x" if (answer == "A") != (r["swapped"] == "1") else "y")
            check(r["choice"] == want, f"{who}: position {p['position']} {key}: choice {r['choice']}, want {want} (shown {answer}, swapped {r['swapped']})")
            system = {"x": r["system_x"], "y": r["system_y"], "neither": "neither"}[want]
            check(r["system"] == system, f"{who}: system {r['system']}, want {system}")
            if r["attention_check"] == "1":  # one picture twice: its system on both sides
                check(r["system_x"] == r["system_y"] in (x_label, y_label), f"{who}: check systems {r['system_x']}/{r['system_y']}")
            else:
                check((r["system_x"], r["system_y"]) == (x_label, y_label), f"{who}: systems {r['system_x']}/{r['system_y']}")
    if who == "desktop":
        checks = [r for r in mine[0] if r["attention_check"] == "1"]
        check(len(checks) == 3, f"desktop: {len(checks)} attention-check rows, want 3 (one pair)")
        check(all(r["position"] != "0" for r in checks), "desktop: an attention check came first")
        swaps = sorted({(r["position"], r["swapped"]) for r in mine[0] if r["attention_check"] == "0"})
        check(sum(s == "1" for _, s in swaps) * 2 == len(swaps), f"desktop: sides not balanced: {swaps}")
print(f"{len(rows)} rows: desktop {3 * len(clicked['desktop'])}, phone {3 * len(clicked['phone'])}")
EOF
ok "export CSV: rows per participant = pairs x 3, shown = clicked, choice/system consistent with swapped"

echo "screenshots:"
ls "$SHOTS"/*.png | sed 's/^/    /'
echo "PASS: survey page in headless Chromium"
