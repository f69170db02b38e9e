#!/usr/bin/env bash
# Vocoder variants side by side on one GPU (docs/TRAINING.md, call 9), from the repository root:
#
#   tools/train/device_variants.sh SECONDS RESUME_DIR NAME=ARGS [NAME=ARGS ...]
#
# Unpacks espeak-ng/sox and generates the corpus as device_slice.sh does, then trains one vocoder
# process per NAME=ARGS (extra train.py arguments, e.g. "fp32=--voc-precision fp32 --lr 1e-4"),
# each resumed from RESUME_DIR with its own work folder, until SECONDS after this script started.
# Each variant's parts and loss log go to $OUT/NAME/.
set -uo pipefail
t0=$(date +%s)
budget=${1:?usage: device_variants.sh SECONDS RESUME_DIR NAME=ARGS ...}
resume=${2:?usage: device_variants.sh SECONDS RESUME_DIR NAME=ARGS ...}
shift 2
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
W=${AV_TRAIN_DIR:-/var/tmp/avtrain}
out=${OUT:-$W/out}
PY=${PYTHON:-python3}
mkdir -p "$W" "$out"
say() { echo "[device_variants $(( $(date +%s) - t0 ))s] $*"; }
say "$(nvidia-smi -L 2>/dev/null | head -1)"
if [ ! -x "$W/prefix/usr/bin/espeak-ng" ]; then
  tools/corpus/prefix.sh unpack .debs "$W/prefix" || { say "cannot unpack espeak-ng/sox"; exit 3; }
fi
if [ ! -f "$W/corpus/corpus.json" ]; then
  say "generating the corpus"
  $PY tools/corpus/make_corpus.py --out "$W/corpus" --prefix "$W/prefix" --jobs "$(nproc)" ||
    { say "corpus generation failed"; exit 4; }
fi
deadline=$(( t0 + budget ))
pids=()
for spec in "$@"; do
  name=${spec%%=*} args=${spec#*=}
  mkdir -p "$out/$name"
  say "variant $name: $args"
  # shellcheck disable=SC2086
  $PY -u tools/train/train.py --part vocoder --corpus "$W/corpus" --work "$W/work-$name" \
    --export "$out/$name" --resume "$resume" --deadline "$deadline" $args \
    > "$out/$name/train.log" 2>&1 &
  pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
say "done (exit $rc): $(ls "$out"/* | tr '\n' ' ')"
exit $rc
