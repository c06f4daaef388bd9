#!/usr/bin/env bash
# dreamshotd stops cleanly on SIGTERM (issue: it crashed with SIGSEGV after
# "dreamshotd stopped" when the signal came during a generation job or
# after survey traffic). ROUNDS times during a generation job and ROUNDS
# times under survey traffic, the server must exit 0 and leave a store
# that passes SQLite's integrity check with no run left "running" but the
# runs of open surveys (which stay open across restarts by design).
set -euo pipefail

# Under bazel test the working directory is the runfiles root; by hand, the workspace.
lib=tests/test_lib.sh
[[ -f "$lib" ]] || lib="$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"
source "$lib"
ROUNDS="${SHUTDOWN_ROUNDS:-20}"

DS="$(find_binary cli/dreamshot)"
DSD="$(find_binary services/dreamshotd)"
INIT_TINY="$(find_binary tools/dreamshot-init-tiny-model)"
SIMULATE="$RUNFILES/tools/survey_simulate.py"
[[ -f "$SIMULATE" ]] || SIMULATE="tools/survey_simulate.py"
DATA="$TMP/data"
SERVER=""
cleanup() { [[ -n "$SERVER" ]] && kill -9 "$SERVER" 2>/dev/null || true; }
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  [[ -f "$TMP/server.log" ]] && { echo "--- server log (tail):" >&2; tail -20 "$TMP/server.log" >&2; }
  exit 1
}

start_server() {
  rm -f "$TMP/port" "$TMP/survey_port"
  "$DSD" --listen=127.0.0.1:0 --survey_listen=127.0.0.1:0 --data_dir="$DATA" --port_file="$TMP/port" \
    --survey_port_file="$TMP/survey_port" --survey_requests_per_s=0 --survey_joins_per_minute=0 --threads=1 \
    >"$TMP/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 200); do
    [[ -s "$TMP/port" && -s "$TMP/survey_port" ]] && break
    kill -0 "$SERVER" 2>/dev/null || fail "dreamshotd exited before serving"
    sleep 0.05
  done
  [[ -s "$TMP/port" ]] || fail "dreamshotd wrote no port file"
  export DREAMSHOT_SERVER="127.0.0.1:$(cat "$TMP/port")"
}

# SIGTERM, then: exit status 0 within 30 s and a consistent store.
stop_server_and_check() {
  local what=$1 rc=0
  kill -TERM "$SERVER"
  for _ in $(seq 300); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$SERVER" 2>/dev/null && fail "$what: dreamshotd still running 30 s after SIGTERM"
  wait "$SERVER" || rc=$?
  SERVER=""
  [[ $rc -eq 0 ]] || fail "$what: dreamshotd exited with $rc after SIGTERM"
  grep -q "dreamshotd stopped" "$TMP/server.log" || fail "$what: no 'dreamshotd stopped' in the log"
  python3 - "$DATA/experiments.db" "$what" <<'PY' || fail "$what: store inconsistent"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
check = db.execute("PRAGMA integrity_check").fetchone()[0]
if check != "ok":
    sys.exit(f"integrity_check: {check}")
left = db.execute("""SELECT id, name FROM runs WHERE status = 'running'
                     AND id NOT IN (SELECT run_id FROM surveys WHERE status = 'open')""").fetchall()
if left:
    sys.exit(f"runs left running: {left}")
PY
}

# A server to set up the models and a survey over 6 pairs.
start_server
"$INIT_TINY" "$DATA/tiny" >/dev/null
"$INIT_TINY" "$DATA/tiny-b" --seed 1 >/dev/null
printf '%s\n' "Close Shot, a cat" "Medium Shot, a dog" "Long Shot, a barn" "Close Shot, a fox" \
  "Medium Shot, a hen" "Long Shot, a field" >"$TMP/prompts"
pairs_run=$("$DS" pairs --model "$DATA/tiny" --b-model "$DATA/tiny-b" --prompts "$TMP/prompts" --seed 3 \
  --width 32 --height 32 --steps 2 --scheduler ddim | sed -n 's/^run \([0-9]*\): .*/\1/p')
[[ -n "$pairs_run" ]] || fail "no pairs run"
"$DS" survey create traffic --pairs-run "$pairs_run" --pairs-per-participant 6 --attention-checks 0 >/dev/null
"$DS" survey open traffic >/dev/null
stop_server_and_check "setup"
echo "ok: setup (tiny models, 6 pairs, an open survey)"

for round in $(seq "$ROUNDS"); do
  start_server
  # A job far longer than the test: it is running when the signal comes.
  "$DS" generate "Long Shot, a lighthouse" --model "$DATA/tiny" --width 32 --height 32 --steps 200 --num-images 50 \
    --scheduler ddim --experiment shutdown >"$TMP/gen.out" 2>&1 &
  client=$!
  # SIGTERM once the job's run exists and is running.
  started=""
  for _ in $(seq 300); do
    if "$DS" runs list --experiment shutdown --json 2>/dev/null | grep -q '"status":"RUNNING"'; then
      started=1
      break
    fi
    kill -0 "$client" 2>/dev/null || fail "generation round $round: the client ended early: $(cat "$TMP/gen.out")"
    sleep 0.1
  done
  [[ -n "$started" ]] || fail "generation round $round: no running generation run after 30 s"
  stop_server_and_check "generation round $round"
  wait "$client" 2>/dev/null && fail "generation round $round: the client did not see its job end early"
  # The job is interrupted (a person may retry it), its run failed with the
  # event in its notes: not cancelled, since nobody asked for that.
  python3 - "$DATA/experiments.db" <<'PY' || fail "generation round $round: the job and its run do not say interrupted"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
run_id, status, notes = db.execute("""SELECT r.id, r.status, r.notes FROM runs r JOIN experiments e
                                      ON r.experiment_id = e.id WHERE e.name = 'shutdown'
                                      ORDER BY r.id DESC LIMIT 1""").fetchone()
job = db.execute("SELECT state, error FROM jobs WHERE run_id = ?", (run_id,)).fetchone()
ok = status == "failed" and "interrupted at" in notes and job == ("interrupted", "the server stopped while it ran")
sys.exit(0 if ok else f"last run: {status} {notes!r}, its job: {job}")
PY
  echo "ok: SIGTERM during generation, round $round"
done

for round in $(seq "$ROUNDS"); do
  start_server
  python3 "$SIMULATE" --url "http://127.0.0.1:$(cat "$TMP/survey_port")" --survey traffic --participants 30 \
    --seed "$round" >"$TMP/sim.out" 2>&1 &
  sim=$!
  # SIGTERM once answers are flowing, at a random moment after.
  answered() { "$DS" survey status traffic --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["answered_pairs"])'; }
  before=$(answered)
  for _ in $(seq 100); do
    (( $(answered) > before )) && break
    kill -0 "$sim" 2>/dev/null || fail "survey round $round: the simulated participants stopped: $(cat "$TMP/sim.out")"
    sleep 0.1
  done
  (( $(answered) > before )) || fail "survey round $round: no answers within 10 s"
  sleep "0.$((RANDOM % 3))"
  stop_server_and_check "survey round $round"
  wait "$sim" 2>/dev/null || true  # cut off mid-survey: its exit status does not matter
  echo "ok: SIGTERM under survey traffic, round $round"
done
echo "all shutdown checks passed"
