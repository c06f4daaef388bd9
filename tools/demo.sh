#!/usr/bin/env bash
# Starts dreamshotd on the default data directory (./dreamshot-data, or
# $DREAMSHOT_DATA), generates an image through it from a tiny random-weight
# model (written on first use), prints that run back from the experiment
# store and downloads its image, builds a shot pool, runs a small A/B survey
# with simulated participants and prints its results table, and stops the
# server. Every figure it prints was computed here: training and evaluation
# join the demo when they exist. Assumes the binaries are built.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=bazel-bin
data=${DREAMSHOT_DATA:-$PWD/dreamshot-data}
mkdir -p "$data"
port_file=$(mktemp)
survey_port_file=$(mktemp)
rm -f "$port_file" "$survey_port_file"

"$bin/services/dreamshotd" --listen=127.0.0.1:0 --survey_listen=127.0.0.1:0 --port_file="$port_file" \
  --survey_port_file="$survey_port_file" --data_dir="$data" \
  2> "$data/dreamshotd.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -f "$port_file" "$survey_port_file"' EXIT
for _ in $(seq 100); do [ -s "$port_file" ] && break; sleep 0.1; done
[ -s "$port_file" ] || { echo "dreamshotd did not start; see $data/dreamshotd.log" >&2; exit 1; }
export DREAMSHOT_SERVER=127.0.0.1:$(cat "$port_file")
ds() { "$bin/cli/dreamshot" "$@"; }
init_tiny() { "$bin/tools/dreamshot-init-tiny-model" "$@"; }

echo "== dreamshotd serving $data/experiments.db on $DREAMSHOT_SERVER"

tiny="$data/models/tiny-sd"
if [ ! -e "$tiny/model_index.json" ]; then
  echo "== dreamshot-init-tiny-model $tiny"
  init_tiny "$tiny"
fi
echo "== dreamshot generate (a random-weight model: expect a noise-like pattern, not a picture)"
ds generate "Close Shot, a lighthouse keeper looking at the sea" --model "$tiny" \
  --negative "blurry" --width 64 --height 64 --steps 20 --scheduler dpmpp_2m_karras --seed 42 \
  --experiment quickstart-generation --out "$data/quickstart-images" | tee "$data/.generate.out"
gen_run=$(sed -n 's/^run \([0-9]*\): .*/\1/p' "$data/.generate.out")
rm -f "$data/.generate.out"
echo
megamind=/usr/share/doc/opencv-doc/examples/data/Megamind.avi  # Debian's opencv-doc
if [ -e "$megamind" ]; then
  echo "== dreamshot dataset build (a pool of shots from OpenCV's sample clip)"
  ds dataset build "$megamind" --experiment quickstart-dataset
  echo
fi
echo "== dreamshot runs show $gen_run (the generation, as the experiment store keeps it)"
ds runs show "$gen_run"
echo
echo "== dreamshot artifacts get $gen_run images/... (downloaded, sha256 checked)"
image_path=$(ds artifacts list "$gen_run" --json | python3 -c \
  'import json,sys; print(json.load(sys.stdin)["artifacts"][0]["path"])')
ds artifacts get "$gen_run" "$image_path" --out "$data/quickstart-images/downloaded.png" --force
echo

# Survey names and simulated answers vary from one quick start to the next.
seed=$gen_run

# A pairwise A/B survey over pairs of the tiny model and a second one (seed 1)
# standing in for base vs fine-tuned; simulated participants answer through
# the participant API exactly as the page does (docs/survey.md).
tiny_b="$data/models/tiny-sd-seed1"
[ -e "$tiny_b/model_index.json" ] || init_tiny "$tiny_b" --seed 1 >/dev/null
prompts=$(mktemp)
printf '%s\n' "Close Shot, a lighthouse keeper" "Close Shot, a fisherman mending a net" \
  "Medium Shot, two sailors on a pier" "Medium Shot, a woman reading a letter" \
  "Long Shot, a harbour at dawn" "Long Shot, a ship leaving port" > "$prompts"
echo "== dreamshot pairs --prompts (6 prompts, base vs finetuned)"
pairs_run=$(ds pairs --model "$tiny" --b-model "$tiny_b" --a-label base --b-label finetuned --prompts "$prompts" \
  --seed 7 --width 64 --height 64 --steps 8 --experiment quickstart-survey | sed -n 's/^run \([0-9]*\): .*/\1/p')
rm -f "$prompts"
survey="quickstart-$seed"
ds survey create "$survey" --pairs-run "$pairs_run" --pairs-per-participant 6 --attention-checks 1 --seed "$seed"
ds survey open "$survey" >/dev/null
survey_url="http://127.0.0.1:$(cat "$survey_port_file")"
echo "== participant page: $survey_url/s/$survey — 12 simulated participants answer (one careless)"
python3 tools/survey_simulate.py --url "$survey_url" --survey "$survey" --participants 12 --careless 1 \
  --seed "$seed"
ds survey close "$survey" >/dev/null
echo
echo "== dreamshot survey results $survey"
ds survey results "$survey"
