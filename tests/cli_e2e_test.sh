#!/usr/bin/env bash
# End-to-end test of the `dreamshot` CLI against a real dreamshotd: starts the
# server on a free loopback port, drives the CLI like a user and checks its
# output, JSON and exit codes. Each check prints "ok: ..."; the first failure
# prints "FAIL: ..." with the command's output and exits 1.
set -euo pipefail

# Under bazel test the working directory is the runfiles root; by hand, the workspace.
lib=tests/test_lib.sh
[[ -f "$lib" ]] || lib="$(dirname "${BASH_SOURCE[0]}")/test_lib.sh"
source "$lib"
DS="$(find_binary cli/dreamshot)"
DSD="$(find_binary services/dreamshotd)"
INIT_TINY="$(find_binary tools/dreamshot-init-tiny-model)"

SERVER_PIDS=()
cleanup() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${SERVER_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  if [[ -f "$TMP/out" ]]; then
    echo "--- stdout:" >&2
    cat "$TMP/out" >&2
    echo "--- stderr:" >&2
    cat "$TMP/err" >&2
  fi
  exit 1
}
ok() { echo "ok: $*"; }

# start_server NAME [dreamshotd flags...]: sets STARTED_PORT once it serves.
# (Not run in a subshell, so that SERVER_PIDS reaches the EXIT trap.)
start_server() {
  local name=$1
  shift
  local port_file="$TMP/$name.port"
  rm -f "$port_file"
  "$DSD" --listen=127.0.0.1:0 --survey_listen=127.0.0.1:0 --data_dir="$TMP/$name-data" --port_file="$port_file" "$@" \
    >"$TMP/$name.log" 2>&1 &
  local pid=$!
  SERVER_PIDS+=("$pid")
  local i
  for i in $(seq 1 200); do
    if [[ -s "$port_file" ]]; then
      STARTED_PORT="$(cat "$port_file")"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      cat "$TMP/$name.log" >&2
      echo "FAIL: dreamshotd ($name) exited before serving" >&2
      return 1
    fi
    sleep 0.1
  done
  cat "$TMP/$name.log" >&2
  echo "FAIL: dreamshotd ($name) wrote no port file in 20 s" >&2
  return 1
}

# run WANT_RC CMD...: runs the command; OUT and ERR hold its stdout/stderr.
run() {
  local want=$1
  shift
  local rc=0
  "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  OUT="$(cat "$TMP/out")"
  ERR="$(cat "$TMP/err")"
  if [[ "$rc" -ne "$want" ]]; then
    fail "'$*' exited $rc, want $want"
  fi
}
contains() {  # contains TEXT NEEDLE WHAT
  [[ "$1" == *"$2"* ]] || fail "$3: expected '$2' in output"
}
# json EXPR: evaluates a Python expression over d = the JSON document in $OUT
# (docs = every line's document) and prints the result.
json() {
  python3 -c '
import json, sys
docs = [json.loads(line) for line in sys.stdin.read().splitlines() if line.strip()]
d = docs[0] if docs else None
print(eval(sys.argv[1]))
' "$1" <<<"$OUT"
}
expect_json() {  # expect_json EXPR WANT WHAT
  local got
  got="$(json "$1")" || fail "$3: cannot evaluate $1"
  [[ "$got" == "$2" ]] || fail "$3: $1 is '$got', want '$2'"
  ok "$3"
}

start_server main
PORT="$STARTED_PORT"
ds() { "$DS" --server "127.0.0.1:$PORT" "$@"; }
DS_ABS="$(cd "$(dirname "$DS")" && pwd)/$(basename "$DS")"
# ds_in DIR ARGS...: the CLI run from DIR, so relative paths are DIR's.
ds_in() {
  local dir=$1
  shift
  (cd "$dir" && exec "$DS_ABS" --server "127.0.0.1:$PORT" "$@")
}
ok "dreamshotd serving on port $PORT"

# --- help and version -------------------------------------------------------
run 0 "$DS" --help
contains "$OUT" "runs aggregate" "top-level help lists verbs"
contains "$OUT" "UNAUTHENTICATED" "top-level help has the exit codes"
run 0 "$DS" runs list --help
contains "$OUT" "--order-by EXPR" "runs list --help"
run 0 "$DS" version
contains "$OUT" "dreamshot " "version"
ok "help and version"

# --- experiments ------------------------------------------------------------
run 0 ds experiments create lora-sweep --description "rank sweep" --tag owner=e2e
EXP_ID="$OUT"
[[ "$EXP_ID" =~ ^[0-9]+$ ]] || fail "experiments create printed '$EXP_ID', want an id"
ok "experiments create -> id $EXP_ID"
run 4 ds experiments create lora-sweep
contains "$ERR" "dreamshot: ALREADY_EXISTS:" "duplicate experiment"
contains "$ERR" "lora-sweep" "duplicate experiment names it"
ok "duplicate experiment -> exit 4: $ERR"
run 0 ds --json experiments show lora-sweep
expect_json 'd["id"] == "'"$EXP_ID"'" and d["tags"]["owner"]' "e2e" "experiments show --json"
run 0 ds experiments list
contains "$OUT" "rank sweep" "experiments list"
ok "experiments list"

# --- runs with params and inline metrics -------------------------------------
# clip_t at step 200: rank 4 -> 0.20 0.22 0.24 (mean 0.22), rank 8 -> 0.30 0.32 0.34 (mean 0.32)
declare -A RUN
for rank in 4 8; do
  for seed in 1 2 3; do
    run 0 ds runs create --experiment lora-sweep --name "r$rank-s$seed" \
      --param lora_rank=$rank --param seed=$seed --param lr=1e-4 --tag sweep=a
    RUN[$rank.$seed]="$OUT"
    [[ "$OUT" =~ ^[0-9]+$ ]] || fail "runs create printed '$OUT'"
    run 0 ds metrics log "${RUN[$rank.$seed]}" clip_t=0.1 loss=0.9 --step 100
    contains "$OUT" "logged 2 points" "metrics log inline"
    clip="0.$(((rank == 4 ? 20 : 30) + 2 * (seed - 1)))"
    run 0 ds metrics log "${RUN[$rank.$seed]}" "clip_t=$clip" loss=0.5 --step 200
  done
done
ok "created 6 runs with params and logged metrics (ids ${RUN[*]})"

run 0 ds --json runs create --experiment "$EXP_ID" --name queued --queued --param lora_rank=16
expect_json 'd["status"]' "QUEUED" "runs create --queued --json"
QUEUED_ID="$(json 'd["id"]')"
run 0 ds runs start "$QUEUED_ID"
contains "$OUT" "running" "runs start"
ok "runs start"

# --- list with filter and order ---------------------------------------------
run 0 ds --json runs list --experiment lora-sweep \
  --filter "params.lora_rank = 8 and metrics.clip_t > 0.31" --order-by "metrics.clip_t desc"
expect_json '[r["id"] for r in d["runs"]]' "['${RUN[8.3]}', '${RUN[8.2]}']" "runs list filter+order (json)"
run 0 ds runs list --experiment lora-sweep --filter "params.lora_rank = 8 and metrics.clip_t > 0.31" \
  --order-by "metrics.clip_t desc"
ids="$(awk 'NR > 1 {print $1}' <<<"$OUT" | tr '\n' ' ')"
[[ "$ids" == "${RUN[8.3]} ${RUN[8.2]} " ]] || fail "runs list table ids are '$ids'"
contains "$(head -1 <<<"$OUT")" "lora_rank" "runs list shows the filtered param column"
contains "$(head -1 <<<"$OUT")" "clip_t" "runs list shows the metric column"
ok "runs list table: ids in order ($ids)"
echo "$OUT" | sed 's/^/    /'

run 0 ds runs list --experiment lora-sweep --limit 2
contains "$OUT" "next page: --page-token " "runs list --limit paging"
token="$(sed -n 's/^next page: --page-token //p' <<<"$OUT")"
run 0 ds runs list --experiment lora-sweep --limit 10 --page-token "$token"
rows=$(($(wc -l <<<"$OUT") - 1))
[[ $rows -eq 5 ]] || fail "second page has $rows runs, want 5"
run 0 ds --json runs list --all
expect_json 'len(d["runs"])' "7" "runs list --all"
ok "runs list paging"

# --- show, tag, note, compare -------------------------------------------------
R1="${RUN[4.1]}"
run 0 ds runs tag "$R1" keep=yes stage=draft
run 0 ds --json runs tag "$R1" --remove stage
expect_json 'sorted(d["tags"].items())' "[('keep', 'yes'), ('sweep', 'a')]" "runs tag set + --remove"
run 0 ds runs note "$R1" best of the low ranks
run 0 ds --json runs list --filter "params.lora_rank = 8 and metrics.clip_t > 0.33 or tags.keep = 'yes'" \
  --order-by "params.lora_rank asc"
expect_json '[r["id"] for r in d["runs"]]' "['$R1', '${RUN[8.3]}']" "runs list filter with tags (or)"
run 0 ds runs show "$R1"
contains "$OUT" "best of the low ranks" "runs show notes"
contains "$OUT" "lora_rank" "runs show params"
contains "$OUT" "keep" "runs show tags"
contains "$OUT" "clip_t" "runs show metrics"
ok "runs show"
run 0 ds --json runs show "$R1"
expect_json '(d["notes"], [m["count"] for m in d["metrics"] if m["key"] == "clip_t"][0], docs[1]["artifacts"])' \
  "('best of the low ranks', '2', [])" "runs show --json (Run + artifacts)"

run 0 ds runs compare "$R1" "${RUN[8.1]}" "${RUN[8.2]}"
grep -Eq '^\*  +lora_rank +4 +8 +8$' <<<"$OUT" || fail "compare: lora_rank row not marked as differing"
grep -Eq '^ +lr +1e-4 +1e-4 +1e-4$' <<<"$OUT" || fail "compare: lr row should be unmarked"
grep -Eq 'clip_t +0\.2 \(0\.1\.\.0\.2\) +0\.3 \(0\.1\.\.0\.3\)' <<<"$OUT" || fail "compare: metric cells"
ok "runs compare (marker on differing params, last (min..max))"
echo "$OUT" | sed 's/^/    /'
run 0 ds --json runs compare "$R1" "${RUN[8.1]}"
expect_json '{p["key"]: p["differs"] for p in d["params"]}' "{'lora_rank': True, 'lr': False, 'seed': False}" \
  "runs compare --json"

# --- end --------------------------------------------------------------------
for id in "${RUN[@]}"; do
  run 0 ds runs end "$id"
  contains "$OUT" "finished" "runs end $id"
done
run 0 ds --json runs end "$QUEUED_ID" --status cancelled
expect_json 'd["status"]' "CANCELLED" "runs end --status cancelled"
run 5 ds runs end "$R1" --status failed
contains "$ERR" "FAILED_PRECONDITION" "ending a finished run again"
ok "ending a finished run again -> exit 5"
run 2 ds runs end "$R1" --status bogus
contains "$ERR" "--status" "bad --status"
ok "bad --status -> exit 2"

# --- aggregate across seeds ---------------------------------------------------
run 0 ds runs aggregate --experiment lora-sweep --metric clip_t --filter "params.lora_rank < 16"
contains "$OUT" "0.22 ±" "aggregate mean for rank 4"
contains "$OUT" "0.32 ±" "aggregate mean for rank 8"
ok "runs aggregate prints mean ± half-width"
echo "$OUT" | sed 's/^/    /'
run 0 ds --json runs aggregate --experiment lora-sweep --metric clip_t --filter "params.lora_rank < 16"
expect_json 'sorted((len(g["run_ids"]), round(g["metrics"][0]["mean"], 6)) for g in d["groups"])' \
  "[(3, 0.22), (3, 0.32)]" "runs aggregate --json groups"

# --- metrics from CSV, history ------------------------------------------------
run 0 ds runs create --experiment lora-sweep --name csv-run
CSV_RUN="$OUT"
python3 - "$TMP/metrics.csv" <<'EOF'
import math, sys
with open(sys.argv[1], "w") as f:
    f.write("key,step,value,wall_ms\n")
    for s in range(25000):
        f.write(f"loss,{s},{math.exp(-s / 5000):.6f},\n")
    f.write("lr,0,0.0001,1700000000000\n")
EOF
run 0 ds metrics log "$CSV_RUN" --csv "$TMP/metrics.csv"
contains "$OUT" "logged 25001 points" "metrics log --csv"
contains "$OUT" "3 batches" "metrics log --csv batches of 10000"
run 0 ds metrics log "$CSV_RUN" --csv "$TMP/metrics.csv"
contains "$OUT" "logged 0 points" "re-running a CSV upload is idempotent"
ok "metrics log --csv (25001 points, 3 batches, re-run applied once)"
printf 'key,step,value\nloss,1,oops\n' >"$TMP/bad.csv"
run 2 ds metrics log "$CSV_RUN" --csv "$TMP/bad.csv"
contains "$ERR" "bad.csv:2" "bad CSV names file:line"
ok "bad CSV -> exit 2 ($ERR)"
run 0 ds --json metrics history "$CSV_RUN" loss --max-points 50
expect_json '(len(d["points"]), d["total_points"], d["points"][0]["step"], d["points"][-1]["step"])' \
  "(50, '25000', '0', '24999')" "metrics history --max-points --json"
run 0 ds metrics history "$CSV_RUN" loss --max-points 10
contains "$OUT" "10 of 25000 points" "metrics history table"
[[ $(grep -Ec '^ *[0-9]+ +[0-9.e-]+ +[0-9]{4}-' <<<"$OUT") -eq 10 ]] || fail "history table rows"
ok "metrics history table (step/value/time)"

# --- artifacts ------------------------------------------------------------------
head -c 100000 /dev/urandom >"$TMP/weights.bin"
want_sha="$(sha256sum "$TMP/weights.bin" | cut -d' ' -f1)"
run 0 ds --json artifacts log "$CSV_RUN" "$TMP/weights.bin" --kind checkpoint
expect_json '(d["sha256"], d["path"], d["size_bytes"], d["kind"])' \
  "('$want_sha', 'weights.bin', '100000', 'checkpoint')" "artifacts log: sha256 matches sha256sum"
run 0 ds artifacts log "$CSV_RUN" "$TMP/weights.bin" --kind checkpoint --path ckpt/final.bin
contains "$OUT" "$want_sha" "artifacts log human output"
run 0 ds artifacts list "$CSV_RUN"
contains "$OUT" "ckpt/final.bin" "artifacts list path"
contains "$OUT" "$want_sha" "artifacts list sha256"
run 0 ds --json artifacts list "$CSV_RUN"
expect_json 'sorted(a["path"] for a in d["artifacts"] if a["sha256"] == "'"$want_sha"'")' \
  "['ckpt/final.bin', 'weights.bin']" "artifacts list --json"
run 2 ds artifacts log "$CSV_RUN" "$TMP/weights.bin"
contains "$ERR" "--kind" "artifacts log without --kind"
ok "artifacts log without --kind -> exit 2"

# artifacts get: by path into the current directory (the artifact's file
# name), by id to --out, never over an existing file without --force.
GET_DIR="$TMP/get"
mkdir -p "$GET_DIR"
run 0 ds_in "$GET_DIR" artifacts get "$CSV_RUN" ckpt/final.bin
contains "$OUT" "-> final.bin, sha256 $want_sha verified" "artifacts get by path"
cmp -s "$GET_DIR/final.bin" "$TMP/weights.bin" || fail "artifacts get wrote other bytes"
ok "artifacts get RUN PATH writes ./final.bin, byte for byte"
run 4 ds_in "$GET_DIR" artifacts get "$CSV_RUN" ckpt/final.bin
contains "$ERR" "ALREADY_EXISTS: final.bin exists: give --force" "artifacts get refuses to overwrite"
run 0 ds_in "$GET_DIR" artifacts get "$CSV_RUN" ckpt/final.bin --force
ok "artifacts get refuses to overwrite (exit 4) unless --force"
run 0 ds --json artifacts list "$CSV_RUN"
WEIGHTS_ID="$(json '[a["id"] for a in d["artifacts"] if a["path"] == "weights.bin"][0]')"
run 0 ds --json artifacts get "$CSV_RUN" "$WEIGHTS_ID" --out "$TMP/by-id.bin"
expect_json '(d["id"], d["sha256"])' "('$WEIGHTS_ID', '$want_sha')" "artifacts get by id --json"
cmp -s "$TMP/by-id.bin" "$TMP/weights.bin" || fail "artifacts get by id wrote other bytes"
mkdir -p "$GET_DIR/sub"
run 0 ds artifacts get "$CSV_RUN" "$WEIGHTS_ID" --out "$GET_DIR/sub"
[[ -s "$GET_DIR/sub/weights.bin" ]] || fail "artifacts get --out DIR wrote no DIR/weights.bin"
ok "artifacts get RUN ID --out FILE | DIR"
run 3 ds artifacts get "$CSV_RUN" no/such.bin
contains "$ERR" "NOT_FOUND: run $CSV_RUN has no artifact at path 'no/such.bin'" "artifacts get unknown path"
run 3 ds artifacts get 999999 weights.bin
contains "$ERR" "NOT_FOUND" "artifacts get unknown run"
[[ ! -e "$GET_DIR/such.bin" ]] || fail "a failed get left a file"
ok "artifacts get of an unknown path or run -> exit 3"

# A 3 MB artifact (three 1 MiB chunks), then its blob damaged on the server's disk.
head -c 3000000 /dev/urandom >"$TMP/victim.bin"
run 0 ds --json artifacts log "$CSV_RUN" "$TMP/victim.bin" --kind checkpoint
VICTIM_BLOB="$(json 'd["uri"][len("file://"):]')"
run 0 ds artifacts get "$CSV_RUN" victim.bin --out "$TMP/victim.copy"
cmp -s "$TMP/victim.copy" "$TMP/victim.bin" || fail "a 3 MB artifact came back different"
ok "artifacts get of a 3 MB artifact (chunked) is byte for byte"
chmod u+w "$VICTIM_BLOB"
printf 'XXXX' | dd of="$VICTIM_BLOB" bs=1 seek=1000 conv=notrunc status=none
run 1 ds artifacts get "$CSV_RUN" victim.bin --out "$TMP/victim.bad"
contains "$ERR" "dreamshot: DATA_LOSS: sha256 mismatch for artifact" "damaged blob: sha256 checked"
contains "$ERR" "nothing written to $TMP/victim.bad" "damaged blob: nothing written"
[[ ! -e "$TMP/victim.bad" ]] || fail "a download with the wrong sha256 left $TMP/victim.bad"
compgen -G "$TMP/victim.bad.part*" >/dev/null && fail "a failed download left its .part file"
ok "artifacts get of a damaged blob -> exit 1, DATA_LOSS, nothing written ($ERR)"
truncate -s 100 "$VICTIM_BLOB"
run 1 ds artifacts get "$CSV_RUN" victim.bin --out "$TMP/victim.bad"
contains "$ERR" "DATA_LOSS" "truncated blob"
contains "$ERR" "$VICTIM_BLOB holds 100 bytes; the store recorded 3000000" "truncated blob names the file"
rm -f "$VICTIM_BLOB"
run 1 ds artifacts get "$CSV_RUN" victim.bin --out "$TMP/victim.bad"
contains "$ERR" "DATA_LOSS" "missing blob"
contains "$ERR" "its file $VICTIM_BLOB is gone" "missing blob names the file"
ok "artifacts get of a truncated or missing blob -> exit 1, DATA_LOSS naming the file"

# --- error paths ------------------------------------------------------------------
run 3 ds runs show 999999
contains "$ERR" "dreamshot: NOT_FOUND:" "unknown run"
contains "$ERR" "999999" "unknown run names the id"
ok "unknown run -> exit 3 ($ERR)"
run 2 ds runs show abc
contains "$ERR" "run id must be a positive integer, got 'abc'" "non-numeric run id"
ok "non-numeric run id -> exit 2"
run 2 ds runs list --filter "params.lora_rank = and x"
contains "$ERR" "INVALID_ARGUMENT" "malformed filter"
contains "$ERR" "column 20" "malformed filter names the column"
ok "malformed filter -> exit 2 ($ERR)"
run 2 ds metrics log "$R1" clip_t
contains "$ERR" "KEY=VALUE, got 'clip_t'" "malformed k=v"
run 2 ds metrics log "$R1" clip_t=high
contains "$ERR" "metric 'clip_t' must be a number" "non-numeric metric"
run 2 ds runs create --experiment lora-sweep --param novalue
contains "$ERR" "--param must look like KEY=VALUE" "malformed --param"
ok "malformed k=v -> exit 2"
run 2 ds runs frobnicate
contains "$ERR" "unknown verb 'frobnicate'" "unknown verb"
run 2 ds runs list --bogus 1
contains "$ERR" "unknown flag --bogus" "unknown flag"
run 2 ds runs compare "$R1"
contains "$ERR" "missing RUN" "missing positional"
ok "unknown verb / flag, missing positional -> exit 2"
run 6 "$DS" --server 127.0.0.1:1 --timeout 5 experiments list
contains "$ERR" "is dreamshotd running at 127.0.0.1:1?" "server down"
ok "server down -> exit 6"

# --- metrics watch ----------------------------------------------------------------
run 0 ds runs create --experiment lora-sweep --name watched
W_RUN="$OUT"
run 0 ds metrics log "$W_RUN" loss=1 --step 0
timeout 60 "$DS" --server "127.0.0.1:$PORT" metrics watch "$W_RUN" --from-start \
  >"$TMP/watch.out" 2>"$TMP/watch.err" &
WATCH_PID=$!
timeout 60 "$DS" --server "127.0.0.1:$PORT" --json metrics watch "$W_RUN" --from-start --key loss \
  >"$TMP/watch.json" 2>"$TMP/watch_json.err" &
WATCH_JSON_PID=$!
sleep 0.5
run 0 ds metrics log "$W_RUN" loss=0.5 acc=0.25 --step 1
sleep 0.3
run 0 ds metrics log "$W_RUN" loss=0.125 --step 2
kill -0 "$WATCH_PID" 2>/dev/null || fail "metrics watch ended before the run did: $(cat "$TMP/watch.err")"
run 0 ds runs end "$W_RUN"
rc=0
wait "$WATCH_PID" || rc=$?
[[ $rc -eq 0 ]] || fail "metrics watch exited $rc: $(cat "$TMP/watch.err")"
rc=0
wait "$WATCH_JSON_PID" || rc=$?
[[ $rc -eq 0 ]] || fail "metrics watch --json exited $rc: $(cat "$TMP/watch_json.err")"
OUT="$(cat "$TMP/watch.out")"
contains "$OUT" "step 0  loss = 1" "watch --from-start"
contains "$OUT" "step 1  acc = 0.25" "watch new points"
contains "$OUT" "step 2  loss = 0.125" "watch last point"
contains "$OUT" "run $W_RUN ended: finished" "watch ends with the run"
ok "metrics watch printed the points and ended with the run"
OUT="$(cat "$TMP/watch.json")"
expect_json '([(p["step"], float(p["value"])) for x in docs for p in x["points"]], docs[-1]["status"])' \
  "([('0', 1.0), ('1', 0.5), ('2', 0.125)], 'FINISHED')" "metrics watch --json --key loss (one doc per line)"

run 0 ds runs create --experiment lora-sweep --name interrupted
"$DS" --server "127.0.0.1:$PORT" metrics watch "$OUT" >"$TMP/int.out" 2>"$TMP/int.err" &
INT_PID=$!
# SIGINT until it exits: a background job starts with SIGINT ignored until
# the CLI installs its handler, so an early signal may be lost.
for i in $(seq 1 100); do
  sleep 0.2
  kill -INT "$INT_PID" 2>/dev/null || break
  kill -0 "$INT_PID" 2>/dev/null || break
done
rc=0
wait "$INT_PID" || rc=$?
[[ $rc -eq 130 ]] || fail "interrupted watch exited $rc, want 130: $(cat "$TMP/int.err")"
ok "Ctrl-C cancels metrics watch cleanly (exit 130)"

# --- generation ---------------------------------------------------------------------
# The models come from the tiny-model tool (not a client command: the
# client links no LibTorch).
TINY="$TMP/tiny-sd"
run 0 "$INIT_TINY" --help
contains "$OUT" "usage: dreamshot-init-tiny-model DIR [--seed N]" "dreamshot-init-tiny-model --help"
contains "$OUT" "RANDOM weights" "the tool's help says the weights are random"
run 2 "$INIT_TINY" "$TINY" --seed -1
contains "$ERR" "usage error: --seed must be a non-negative integer" "dreamshot-init-tiny-model rejects a bad seed"
run 2 "$INIT_TINY"
contains "$ERR" "give the folder to write" "dreamshot-init-tiny-model wants a folder"
run 0 "$INIT_TINY" "$TINY" --seed 3
contains "$OUT" "RANDOM weights" "dreamshot-init-tiny-model says the weights are random"
[[ -f "$TINY/unet/diffusion_pytorch_model.safetensors" && -f "$TINY/tokenizer/merges.txt" ]] \
  || fail "dreamshot-init-tiny-model wrote no diffusers layout"
run 5 "$INIT_TINY" "$TINY"
contains "$ERR" "FAILED_PRECONDITION" "dreamshot-init-tiny-model refuses a non-empty folder"
ok "dreamshot-init-tiny-model writes the diffusers layout and refuses to overwrite"
run 0 "$INIT_TINY" "$TMP/tiny-clip" --kind clip
contains "$OUT" "tiny CLIP model with RANDOM weights" "dreamshot-init-tiny-model --kind clip says the weights are random"
run 0 "$INIT_TINY" "$TMP/tiny-dino" --kind=dino --seed 2
[[ -f "$TMP/tiny-clip/preprocessor_config.json" && -f "$TMP/tiny-dino/model.safetensors" ]] \
  && grep -q RANDOM "$TMP/tiny-dino/README.md" || fail "dreamshot-init-tiny-model wrote no CLIP / DINO folder"
run 2 "$INIT_TINY" "$TMP/tiny-x" --kind vae
contains "$ERR" "--kind must be sd, clip or dino" "dreamshot-init-tiny-model rejects an unknown kind"
ok "dreamshot-init-tiny-model writes tiny CLIP and DINO folders"

run 0 ds generate "Close Shot, a lighthouse keeper" --model "$TINY" --width 32 --height 32 --steps 4 \
  --scheduler euler_a --seed 11 --seed 12 --experiment gen-e2e --out "$TMP/images"
contains "$OUT" "image 1  seed 12" "generate lists its images"
contains "$ERR" "denoising" "generate shows progress on stderr"
[[ -s "$TMP/images/0000-seed11.png" && -s "$TMP/images/0001-seed12.png" ]] || fail "generate --out wrote no PNGs"
GEN_RUN="$(sed -n 's/^run \([0-9]*\)$/\1/p' <<<"$OUT" | head -1)"
run 0 ds --json artifacts list "$GEN_RUN"
expect_json "len(d['artifacts'])" 2 "generated images are artifacts of run $GEN_RUN"
first_sha="$(json "d['artifacts'][0]['sha256']")"
run 0 ds --json generate "Close Shot, a lighthouse keeper" --model "$TINY" --width 32 --height 32 --steps 4 \
  --scheduler euler_a --seed 11 --experiment gen-e2e
[[ "$(json "[x for x in docs if 'image' in x][0]['image']['artifact']['sha256']")" == "$first_sha" ]] \
  || fail "the same seed gave different bytes"
ok "the same seed gives the same PNG bytes in a new run"

run 0 ds pairs --model "$TINY" --a-label base --b-label other --prompt "Long Shot, a harbour" \
  --seed 5 --width 32 --height 32 --steps 3 --experiment gen-e2e
contains "$OUT" "pair 1  seed 5  long" "pairs prints the pair with its shot type"
contains "$OUT" "other: seed 5" "pairs prints side b"
ok "pairs stores an A/B pair"
PAIRS_RUN="$(sed -n 's/^run \([0-9]*\): .*pair.*$/\1/p' <<<"$OUT" | head -1)"
[[ "$PAIRS_RUN" =~ ^[0-9]+$ ]] || fail "pairs printed no run id: $OUT"

# --- jobs ---------------------------------------------------------------------
run 0 ds generate "Medium Shot, a lighthouse at dusk" --model "$TINY" --width 32 --height 32 --steps 3 \
  --seed 21 --seed 22 --experiment gen-e2e --detach --priority 2
contains "$OUT" "queued; it goes on without this client" "generate --detach leaves at once"
JOB="$(sed -n 's/^job \([0-9]*\) queued.*/\1/p' <<<"$OUT")"
[[ "$JOB" =~ ^[0-9]+$ ]] || fail "generate --detach printed no job id: $OUT"
run 0 ds jobs watch "$JOB"
contains "$OUT" "job $JOB: finished" "jobs watch follows the job to its end"
[[ "$(grep -c '^image ' <<<"$OUT")" == 2 ]] || fail "jobs watch shows both images: $OUT"
run 0 ds --json jobs show "$JOB"
expect_json "d['state']" "JOB_FINISHED" "jobs show gives the state"
expect_json "d['priority']" "2" "jobs show gives the priority"
expect_json "d['kind']" "generate" "jobs show gives the kind"
run 0 ds jobs list --kind generate --state finished
contains "$OUT" "generate  finished" "jobs list filters by kind and state"
run 5 ds jobs retry "$JOB"
contains "$ERR" "FAILED_PRECONDITION: job $JOB is finished" "jobs retry refuses a finished job, naming its state"
run 5 ds jobs cancel "$JOB"
contains "$ERR" "is finished" "jobs cancel refuses a finished job"
run 3 ds jobs show 99999
run 2 ds jobs list --state sleeping
contains "$ERR" "--state must be" "jobs list names a bad state"
ok "jobs: detach, watch, show, list, retry and cancel refusals"

# --- train --------------------------------------------------------------------
mkdir -p "$TMP/train"
python3 - "$TMP/train" <<'PY'
import struct, sys, zlib
def png(path, w, h, v):
    raw = b''.join(b'\x00' + bytes((v * (x + y)) % 256 for x in range(w * 3)) for y in range(h))
    def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    open(path, 'wb').write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                           + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
for i in range(2):
    png(f'{sys.argv[1]}/{i}.png', 64, 48, i + 3)
    open(f'{sys.argv[1]}/{i}.txt', 'w').write('a lighthouse keeper')
PY
run 2 ds train --images "$TMP/train"
contains "$ERR" "--model" "train names the missing --model"
run 0 ds train --model "$TINY" --images "$TMP/train" --no-prior --scale close --resolution 32 --steps 3 --lr 1e-3
contains "$OUT" "adapter lora/pytorch_lora_weights.safetensors" "train stores the adapter"
contains "$OUT" "after 3 steps" "train runs the steps asked for"
run 2 ds train --model "$TINY" --images "$TMP/train" --no-prior --resolution 30
contains "$ERR" "resolution must be a positive multiple of 8" "train names a bad resolution"
ok "train: a tiny LoRA, stored as an artifact; bad flags named"

# --- survey (admin side; the participant side is e2e/survey_browser_test) ----
run 0 ds survey create e2e-survey --pairs-run "$PAIRS_RUN" --pairs-per-participant 1 --title "E2E <shots>"
contains "$OUT" "e2e-survey  (draft" "survey create makes a draft"
run 0 ds survey open e2e-survey
contains "$OUT" "(open" "survey open"
run 0 ds survey results e2e-survey --resamples 100
contains "$OUT" "# Survey results: e2e-survey (open)" "survey results heading"
contains "$OUT" "## base vs other" "survey results: one table per pair of systems"
contains "$OUT" "| preference | all | 0 | 0 |" "survey results before any answer"
run 0 ds --json survey results e2e-survey
expect_json "d['rows'][0]['system_y']" "other" "survey results --json"
run 0 ds survey export e2e-survey --format html --out "$TMP/results.html"
grep -q "<th>base</th>" "$TMP/results.html" || fail "survey export --format html wrote no table"
run 0 ds survey export e2e-survey
contains "$OUT" "participant,position,item,pair" "survey export: CSV header"
run 2 ds survey results e2e-survey --format pdf
contains "$ERR" "--format is markdown or html" "survey results --format pdf"
run 2 ds survey results e2e-survey --level 2
contains "$ERR" "--level must lie in (0, 1)" "survey results --level 2"
run 3 ds survey results no-such-survey
contains "$ERR" "NOT_FOUND" "survey results of an unknown survey"
ok "survey create, open, results and export"

# The page address printed is the one dreamshotd's survey pages listen on.
run 0 ds survey status e2e-survey
PAGE_URL="$(sed -n 's|^  participant page: \(http://127\.0\.0\.1:[0-9]*/s/e2e-survey\)$|\1|p' <<<"$OUT")"
[[ -n "$PAGE_URL" ]] || fail "survey status printed no participant page URL: $OUT"
python3 -c 'import sys, urllib.request; sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=10).status == 200 else 1)' \
  "$PAGE_URL" || fail "the printed participant page $PAGE_URL does not answer 200"
ok "survey status prints the real participant page ($PAGE_URL answers 200)"

run 2 ds survey create 2 --pairs-run "$PAIRS_RUN" --pairs-per-participant 1
contains "$ERR" "dreamshot: INVALID_ARGUMENT: survey name '2' is all digits" "numeric survey name"
ok "survey create with an all-digit name -> exit 2"
run 2 ds survey create greedy --pairs-run "$PAIRS_RUN" --pairs-per-participant 36
contains "$ERR" "pairs_per_participant is 36 but the survey's pool holds only 1 pair" "too many pairs per participant"
run 3 ds survey status greedy
ok "survey create --pairs-per-participant 36 over a 1-pair pool -> exit 2, nothing stored"
run 0 ds survey create greedy --pairs-run "$PAIRS_RUN" --pairs-per-participant 36 --allow-fewer-pairs
contains "$OUT" "each participant judges 1 pair (the whole pool; 36 asked)" "--allow-fewer-pairs says what is used"
run 0 ds survey list
grep -Eq '^ *[0-9]+ +greedy +draft +[0-9]+ +1 +http://127\.0\.0\.1:[0-9]+/s/greedy$' <<<"$OUT" \
  || fail "survey list shows greedy's stored pairs/person as 1 and its page"
ok "survey create --allow-fewer-pairs stores and lists the 1 pair used"
run 0 ds --json survey create asked --pairs-run "$PAIRS_RUN" --question "sharp=Which is sharper?" \
  --question "frame=Which is framed closer?" --option-a Left --option-b Right --option-neither "Can't tell"
expect_json '([q["key"] for q in d["config"]["questions"]], d["config"]["option_a"], d["config"]["option_neither"], d["config"]["pairs_per_participant"])' \
  "(['sharp', 'frame'], 'Left', \"Can't tell\", 1)" "survey create --question / --option-*"
run 2 ds survey create badq --pairs-run "$PAIRS_RUN" --question sharp
contains "$ERR" "--question must look like KEY=VALUE" "--question without ="
run 2 ds survey create badq --pairs-run "$PAIRS_RUN" --question "bad key=text"
contains "$ERR" "question key 'bad key' may hold letters, digits and '_' only" "--question with a bad key"
ok "survey create --question KEY=TEXT (repeatable) and option labels; bad ones -> exit 2"

# A server without participant pages says so instead of printing an address.
start_server nopages --survey_listen=
NOPAGES="127.0.0.1:$STARTED_PORT"
run 0 "$DS" --server "$NOPAGES" pairs --model "$TINY" --prompt "Long Shot, a harbour" --seed 5 --width 32 \
  --height 32 --steps 2
NOPAGES_RUN="$(sed -n 's/^run \([0-9]*\): .*pair.*$/\1/p' <<<"$OUT" | head -1)"
run 0 "$DS" --server "$NOPAGES" survey create offline --pairs-run "$NOPAGES_RUN"
contains "$OUT" "participant page: survey pages are off (start dreamshotd with --survey_listen HOST:PORT)" \
  "survey create without survey pages"
ok "survey create on a server without --survey_listen says the pages are off"

run 2 ds generate "x" --model "$TINY" --scheduler plms
contains "$ERR" 'unknown scheduler "plms"' "unknown scheduler"
run 2 ds generate "x" --model "$TINY" --steps 0
contains "$ERR" "steps must be in [1, 1000], got 0" "zero steps"
run 3 ds generate "x" --model "$TMP/no-such-model"
contains "$ERR" "NOT_FOUND: generation.model: no model at" "missing model"
run 2 ds generate --model "$TINY"
contains "$ERR" "give a PROMPT" "missing prompt"
ok "bad generation requests exit 2/3 with the problem named"

"$DS" --server "127.0.0.1:$PORT" generate "Close Shot, a long wait" --model "$TINY" --width 64 --height 64 \
  --steps 900 --scheduler ddim --seed 1 >"$TMP/gint.out" 2>"$TMP/gint.err" &
gen_pid=$!
for _ in $(seq 1 300); do grep -q "denoising" "$TMP/gint.err" 2>/dev/null && break; sleep 0.1; done
kill -INT "$gen_pid"
rc=0
wait "$gen_pid" || rc=$?
[[ $rc -eq 130 ]] || fail "interrupted generate exited $rc, want 130: $(cat "$TMP/gint.err")"
INT_RUN="$(sed -n 's/^run \([0-9]*\)$/\1/p' "$TMP/gint.out" | head -1)"
for _ in $(seq 1 100); do
  run 0 ds --json runs show "$INT_RUN"
  [[ "$(json "d['status']")" == "CANCELLED" ]] && break
  sleep 0.1
done
[[ "$(json "d['status']")" == "CANCELLED" ]] \
  || fail "the interrupted generation's run $INT_RUN is not cancelled: $OUT"
ok "Ctrl-C cancels generate (exit 130) and the server marks run $INT_RUN cancelled"

# --- dataset: shots, pool build, report, resume, export ---------------------------
# OpenCV's sample footage (Debian's opencv-doc, which tools/setup.sh installs).
# Megamind.avi: 720x528, 270 frames, cuts at 98, 154 and 200 -> 4 shots.
FOOTAGE=/usr/share/doc/opencv-doc/examples/data
for f in Megamind.avi vtest.avi baboon.jpg; do
  [[ -s "$FOOTAGE/$f" ]] || fail "$FOOTAGE/$f missing: install opencv-doc (tools/setup.sh)"
done
MEGAMIND="$FOOTAGE/Megamind.avi"
# shot_rows: "SHOT FIRST LAST;" per table row of $OUT.
shot_rows() { awk '$1 ~ /^[0-9]+$/ {printf "%s %s %s;", $1, $2, $3}' <<<"$OUT"; }
# done_sources FILE...: the sources of the "done" lines, one a line.
done_sources() { sed -n 's/^done \+\([^:]*\): .*/\1/p' "$@"; }

run 0 ds dataset shots "$MEGAMIND"
contains "$(head -1 <<<"$OUT")" "$MEGAMIND: 270 frames, 720x528," "dataset shots header line"
contains "$(head -1 <<<"$OUT")" "; 4 shots in " "dataset shots counts the shots"
grep -Eq '^SHOT +FIRST +LAST +START +END +KEYFRAME +SCALE +FINE +CONF +KEPT +DROPPED BECAUSE$' <<<"$OUT" \
  || fail "dataset shots: table header"
[[ "$(shot_rows)" == "0 0 97;1 98 153;2 154 199;3 200 269;" ]] || fail "dataset shots rows are '$(shot_rows)'"
ok "dataset shots: 4 shots (first 0 98 154 200, last 97 153 199 269), 270 frames, 720x528"
echo "$OUT" | sed 's/^/    /'
run 0 ds --json dataset shots "$MEGAMIND"
expect_json '([s["start_frame"] for s in d["shots"]], [s["end_frame"] for s in d["shots"]], d["frames"], d["width"], d["height"])' \
  "(['0', '98', '154', '200'], ['97', '153', '199', '269'], '270', 720, 528)" "dataset shots --json frames"
expect_json '[s.get("label", {}).get("scale") in ("CLOSE", "MEDIUM", "LONG") for s in d["shots"]]' \
  "[True, True, True, True]" "dataset shots --json: every shot has a label.scale"
run 0 ds dataset shots --cuts-only "$MEGAMIND"
grep -Eq '^SHOT +FIRST +LAST +START +END$' <<<"$OUT" || fail "dataset shots --cuts-only: table header"
[[ "$OUT" != *KEYFRAME* && "$OUT" != *"not ground truth"* ]] || fail "dataset shots --cuts-only judged keyframes"
[[ "$(shot_rows)" == "0 0 97;1 98 153;2 154 199;3 200 269;" ]] || fail "--cuts-only rows are '$(shot_rows)'"
ok "dataset shots --cuts-only: the same cuts, no KEYFRAME column"

run 3 ds dataset shots "$TMP/no-such.avi"
contains "$ERR" "dreamshot: NOT_FOUND:" "missing video"
contains "$ERR" "$TMP/no-such.avi" "missing video names the path"
: >"$TMP/empty.mp4"
run 2 ds dataset shots "$TMP/empty.mp4"
contains "$ERR" "dreamshot: INVALID_ARGUMENT:" "empty video"
contains "$ERR" "empty" "empty video says so"
run 2 ds dataset shots --threshold 300 "$MEGAMIND"
contains "$ERR" "dreamshot: INVALID_ARGUMENT:" "--threshold 300"
contains "$ERR" "detection.threshold" "--threshold 300 names the setting"
run 2 ds dataset build
contains "$ERR" "usage error: give at least one SOURCE" "dataset build without SOURCE"
ok "dataset errors: missing file -> 3, empty file / bad threshold -> 2, no SOURCE -> usage (2)"

# A folder: two copies of one film (near-duplicates), an empty video, a still
# and a file that is no footage. Given relative to the CLI's directory.
POOL="$TMP/pool"
mkdir -p "$POOL"
cp "$MEGAMIND" "$POOL/a.avi"
cp "$MEGAMIND" "$POOL/b.avi"
: >"$POOL/empty.mp4"
cp "$FOOTAGE/baboon.jpg" "$POOL/baboon.jpg"
echo "no footage" >"$POOL/notes.txt"
run 0 ds_in "$TMP" dataset build pool
POOL_RUN="$(sed -n 's/^run \([0-9]*\)$/\1/p' <<<"$OUT" | head -1)"
[[ "$POOL_RUN" =~ ^[0-9]+$ && "$(head -1 <<<"$OUT")" == "run $POOL_RUN" ]] || fail "dataset build printed no 'run N' first"
grep -Eq "^failed +$POOL/empty\.mp4: .*empty" <<<"$OUT" || fail "dataset build: no failed line for empty.mp4"
[[ "$(done_sources "$TMP/out" | LC_ALL=C sort | tr '\n' ' ')" == "$POOL/a.avi $POOL/b.avi $POOL/baboon.jpg " ]] \
  || fail "dataset build: done lines for '$(done_sources "$TMP/out" | tr '\n' ' ')'"
[[ $(grep -Ec "^done +$POOL/[ab]\.avi: 4 shots, 4 kept, 270 frames in " <<<"$OUT") -eq 2 ]] \
  || fail "dataset build: the films' done lines"
grep -Eq "^done +$POOL/baboon\.jpg: 1 shot, 1 kept, 1 frame in " <<<"$OUT" || fail "dataset build: the still's done line"
grep -qx "ignored 1 file(s) that are neither video nor image: $POOL/notes.txt" <<<"$OUT" \
  || fail "dataset build: want notes.txt reported as ignored"
POOL_LINE="pool of run $POOL_RUN: 4 sources (1 failed), 9 shots, 5 kept, 0 captioned"
contains "$OUT" "$POOL_LINE; built in " "dataset build report line"
grep -qx "dropped: duplicate 4" <<<"$OUT" || fail "dataset build: want 'dropped: duplicate 4'"
contains "$OUT" "failed: $POOL/empty.mp4: " "dataset build report lists the failed source"
ok "dataset build pool/ -> run $POOL_RUN: 3 done, 1 failed, 5 of 9 shots kept, 4 duplicates"
echo "$OUT" | sed 's/^/    /'
run 0 ds dataset report "$POOL_RUN"
[[ "$(head -1 <<<"$OUT")" == "$POOL_LINE" ]] || fail "dataset report: first line '$(head -1 <<<"$OUT")'"
grep -qx "dropped: duplicate 4" <<<"$OUT" || fail "dataset report: want 'dropped: duplicate 4'"
contains "$OUT" "failed: $POOL/empty.mp4: " "dataset report lists the failed source"
ok "dataset report $POOL_RUN prints the build's pool line"
run 0 ds --json dataset report "$POOL_RUN"
expect_json '(d["run_id"], d["sources_done"], d["sources_failed"], d["items"], d["kept"], d["drops"], [f["source"] for f in d["failed_sources"]])' \
  "('$POOL_RUN', '3', '1', '9', '5', {'duplicate': '4'}, ['$POOL/empty.mp4'])" "dataset report --json"

run 0 ds dataset build --resume "$POOL_RUN"
[[ "$(head -1 <<<"$OUT")" == "run $POOL_RUN" ]] || fail "resumed build: first line '$(head -1 <<<"$OUT")'"
if grep -Eq '^(done|failed) ' <<<"$OUT"; then fail "resuming a finished build analysed sources again"; fi
contains "$OUT" "$POOL_LINE" "resumed finished build: the same pool"
grep -qx "dropped: duplicate 4" <<<"$OUT" || fail "resumed finished build: want 'dropped: duplicate 4'"
ok "dataset build --resume $POOL_RUN on a finished pool: nothing redone, the same report"
run 2 ds dataset build --resume "$POOL_RUN" "$POOL"
contains "$ERR" "usage error: --resume takes the sources and settings from the run: give no SOURCE" \
  "--resume with a SOURCE"
ok "dataset build --resume RUN SOURCE -> usage error (2)"

run 0 ds dataset export "$POOL_RUN" --kept-only
[[ $(wc -l <"$TMP/out") -eq 5 ]] || fail "export --kept-only: $(wc -l <"$TMP/out") lines, want 5 (the kept shots)"
expect_json '(len(docs), all(x["kept"] for x in docs), sorted(x["start_frame"] for x in docs if x["source"].endswith(".avi")), len({x["source"] for x in docs}), sum(x["source"] == "'"$POOL/baboon.jpg"'" for x in docs))' \
  "(5, True, [0, 98, 154, 200], 2, 1)" "dataset export --kept-only: one JSONL line per kept shot"
run 0 ds dataset export "$POOL_RUN"
[[ $(wc -l <"$TMP/out") -eq 9 ]] || fail "export: $(wc -l <"$TMP/out") lines, want 9 (every shot)"
ok "dataset export: 9 lines, --kept-only 5"

# Training on the pool: one scale, then scales the pool lacks (refused, nothing queued).
run 0 ds train --model "$TINY" --pool "$POOL_RUN" --scale close --class-count 2 --resolution 32 --steps 3 \
  --lr 1e-3 --validate-every 3 --validation-steps 2 --adapter-format kohya
contains "$OUT" "adapter lora/dreamshot_close_sks_run" "train --pool stores a kohya adapter named for its scale"
TRAIN_RUN="$(sed -n 's/^job [0-9]*: finished (run \([0-9]*\))$/\1/p' <<<"$OUT" | tail -1)"
run 0 ds artifacts list "$TRAIN_RUN"
contains "$OUT" "lora/validation/step-000003/p0-seed0.png" "train --validate-every stores validation images"
run 5 ds train --model "$TINY" --pool "$POOL_RUN" --scales close,long,medium --no-prior --resolution 32 --steps 2
contains "$ERR" "has no kept item of scale" "train --scales names the scale the pool lacks"
ok "train --pool $POOL_RUN --scale close: a kohya LoRA + validation images; a scale the pool lacks -> exit 5"

# Ctrl-C after the first of 4 sources (~3 s each with one thread), then --resume.
POOL2="$TMP/pool2"
mkdir -p "$POOL2"
for i in 1 2 3 4; do cp "$FOOTAGE/vtest.avi" "$POOL2/v$i.avi"; done
"$DS" --server "127.0.0.1:$PORT" dataset build "$POOL2" --threads 1 >"$TMP/bint.out" 2>"$TMP/bint.err" &
bint_pid=$!
for _ in $(seq 1 600); do
  grep -q '^done ' "$TMP/bint.out" && break
  kill -0 "$bint_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q '^done ' "$TMP/bint.out" || fail "no done line from the build in 60 s: $(cat "$TMP/bint.out" "$TMP/bint.err")"
kill -INT "$bint_pid"
rc=0
wait "$bint_pid" || rc=$?
[[ $rc -eq 130 ]] || fail "interrupted dataset build exited $rc, want 130: $(cat "$TMP/bint.out" "$TMP/bint.err")"
POOL2_RUN="$(sed -n 's/^run \([0-9]*\)$/\1/p' "$TMP/bint.out" | head -1)"
[[ "$POOL2_RUN" =~ ^[0-9]+$ ]] || fail "interrupted build printed no run: $(cat "$TMP/bint.out")"
contains "$(cat "$TMP/bint.err")" "dataset build --resume $POOL2_RUN" "interrupted build hints at --resume"
first_done=$(done_sources "$TMP/bint.out" | wc -l)
[[ $first_done -ge 1 && $first_done -lt 4 ]] || fail "interrupted build finished $first_done of 4 sources"
if grep -q '^pool of run' "$TMP/bint.out"; then fail "interrupted build printed a pool report"; fi
for _ in $(seq 1 100); do
  run 0 ds --json runs show "$POOL2_RUN"
  [[ "$(json "d['status']")" == "CANCELLED" ]] && break
  sleep 0.1
done
[[ "$(json "d['status']")" == "CANCELLED" ]] || fail "the interrupted build's run $POOL2_RUN is not cancelled"
ok "Ctrl-C stops dataset build after $first_done source(s) (exit 130, run $POOL2_RUN cancelled, --resume hint)"
run 0 ds dataset build --resume "$POOL2_RUN"
[[ "$(head -1 <<<"$OUT")" == "run $POOL2_RUN" ]] || fail "resume: first line '$(head -1 <<<"$OUT")'"
second_done=$(done_sources "$TMP/out" | wc -l)
[[ $((first_done + second_done)) -eq 4 ]] || fail "done lines: $first_done + $second_done, want 4 in all"
[[ "$(done_sources "$TMP/bint.out" "$TMP/out" | sort | tr '\n' ' ')" == "$POOL2/v1.avi $POOL2/v2.avi $POOL2/v3.avi $POOL2/v4.avi " ]] \
  || fail "resume redid or skipped sources: $(done_sources "$TMP/bint.out" "$TMP/out" | tr '\n' ' ')"
contains "$OUT" "pool of run $POOL2_RUN: 4 sources (0 failed), 4 shots, " "resumed build's report"
run 0 ds dataset report "$POOL2_RUN"
contains "$(head -1 <<<"$OUT")" "pool of run $POOL2_RUN: 4 sources (0 failed)" "dataset report after resume"
run 0 ds --json runs show "$POOL2_RUN"
expect_json 'd["status"]' "FINISHED" "the resumed build's run is finished"
ok "dataset build --resume $POOL2_RUN did the other $second_done source(s): 4 done in all, 0 failed"

# --- authentication ---------------------------------------------------------------
echo "e2e-secret" >"$TMP/token"
echo "wrong-secret" >"$TMP/bad_token"
start_server auth --auth_token_file="$TMP/token"
AUTH_PORT="$STARTED_PORT"
ok "second dreamshotd with --auth_token_file on port $AUTH_PORT"
run 7 "$DS" --server "127.0.0.1:$AUTH_PORT" experiments list
contains "$ERR" "dreamshot: UNAUTHENTICATED:" "no token"
run 7 "$DS" --server "127.0.0.1:$AUTH_PORT" --token-file "$TMP/bad_token" experiments list
contains "$ERR" "UNAUTHENTICATED" "bad token"
ok "bad token -> exit 7 ($ERR)"
run 0 "$DS" --server "127.0.0.1:$AUTH_PORT" --token-file "$TMP/token" experiments create secured
run 0 env DREAMSHOT_TOKEN=e2e-secret DREAMSHOT_SERVER="127.0.0.1:$AUTH_PORT" "$DS" experiments list
contains "$OUT" "secured" "DREAMSHOT_TOKEN / DREAMSHOT_SERVER"
ok "good token (--token-file and DREAMSHOT_TOKEN) -> exit 0"

# --- sweep --------------------------------------------------------------------
run 2 ds sweep --images "$TMP/train" --rank 2,4
contains "$ERR" "--model" "sweep names the missing --model"
run 2 ds sweep --model "$TINY" --images "$TMP/train" --no-prior --resolution 32 --steps 2 --rank 2,x
contains "$ERR" "spec.dimensions[0] (rank): 'x' is not a valid int32 for rank" "sweep names a bad value"
run 8 ds sweep --model "$TINY" --images "$TMP/train" --no-prior --resolution 32 \
  --sweep lr_warmup_steps="$(seq -s, 1 17)" --seeds "$(seq -s, 1 16)"
contains "$ERR" "the sweep has 272 children (17 lr_warmup_steps × 16 seeds); at most 256" "sweep caps its children"
run 0 ds sweep --model "$TINY" --images "$TMP/train" --no-prior --scale close --resolution 32 --steps 2 \
  --rank 2,4 --lr 1e-3,5e-4 --max-concurrent 1 --experiment e2e-sweep
SWEEP_JOB="$(sed -n 's/^sweep job \([0-9]*\) (run [0-9]*): 4 runs$/\1/p' <<<"$OUT")"
[[ -n "$SWEEP_JOB" ]] || fail "sweep printed no 'sweep job N (run R): 4 runs' line"
contains "$OUT" "rank=4 lr=0.0005" "sweep names each run by its values"
contains "$OUT" "rank=2 lr=0.001: finished, loss " "sweep follows each run to its end"
contains "$OUT" "sweep job $SWEEP_JOB: finished (4 finished)" "sweep ends with its parent"
run 0 ds sweep status "$SWEEP_JOB"
contains "$OUT" 'rank \ learning_rate  0.001' "sweep status: rows rank, columns lr"
grep -Eq '^ +4  finished [0-9.e-]+ +finished [0-9.e-]+$' <<<"$OUT" || fail "sweep status: no grid row for rank 4"
run 0 ds --json sweep status "$SWEEP_JOB"
expect_json '[c["state"] for c in d["children"]] == ["JOB_FINISHED"] * 4 and d["dimensions"]' \
  "['rank', 'learning_rate']" "sweep status --json"
cat >"$TMP/sweep.textproto" <<EOF
base { base_model: "$TINY" instance_dir: "$TMP/train" with_prior_preservation: false resolution: 32 max_train_steps: 4 }
spec { seeds: [1, 2, 3] max_concurrent: 1 early_stop { step: 2 factor: 1e-6 } }
target { experiment: "e2e-sweep" }
EOF
run 0 ds sweep --config "$TMP/sweep.textproto" --detach
STOP_JOB="$(sed -n 's/^sweep job \([0-9]*\) .*/\1/p' <<<"$OUT")"
contains "$OUT" "dreamshot sweep status $STOP_JOB" "sweep --detach says how to follow"
run 0 ds jobs watch "$STOP_JOB"
run 0 ds sweep status "$STOP_JOB"
grep -Eq '^ +[0-9]+  seed=2 +finished +2/4 ' <<<"$OUT" || fail "the early-stop rule did not finish seed=2 at step 2"
contains "$OUT" "stopped by the sweep's early-stop rule: loss at step 2 " "sweep status says which rule stopped it"
run 5 ds jobs retry "$STOP_JOB"
contains "$ERR" "none of its jobs failed, was cancelled or was interrupted" "retry leaves early-stopped runs alone"
ok "sweep: a 2×2 grid followed to its end, its status grid, early stop (finished early, not retried)"

echo "PASS: all dreamshot CLI checks"
