#!/usr/bin/env bash
# Runs dreamshot_parity on the shared reference folder and requires every
# implemented case to pass (the runner exits 1 on any FAIL).
set -euo pipefail
runner=parity/dreamshot_parity
ref=${DREAMSHOT_REFERENCE_DIR:-$(dirname "$(realpath WORKSPACE)")/../shared/reference}
[ -f "$ref/cases.json" ] || { echo "reference folder not found: $ref" >&2; exit 1; }
out=$("$runner" "$ref")
echo "$out"
for kind in clip_tokenizer clip_text_model unet_sd15 unet_sd2 vae scheduler_ddpm_add_noise_velocity \
    scheduler_{ddim,pndm,euler,euler_ancestral,dpmpp_2m}_{10,25}steps pipeline_{ddim,pndm,euler,dpmpp_2m} lora_unet \
    dreambooth_lora_train_steps dreambooth_lora_train_steps_clip_active clip_model_and_image_processor dino_vit; do
  grep -q "^PASS $kind " <<<"$out" || { echo "expected PASS for $kind" >&2; exit 1; }
done
# Every case of the reference folder is implemented: none may be skipped.
if grep -q "^SKIP " <<<"$out"; then echo "a reference case was skipped" >&2; exit 1; fi
# A folder without cases.json is an error, not a silent pass.
if "$runner" "$TEST_TMPDIR" >/dev/null 2>&1; then echo "runner accepted an empty folder" >&2; exit 1; fi
