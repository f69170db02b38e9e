#!/usr/bin/env bash
# One training slice on a GPU machine (docs/TRAINING.md), from the repository root:
#
#   tools/train/device_slice.sh SECONDS [RESUME_DIR]
#
# 1. unpacks espeak-ng/sox from .debs/ into .train/prefix (tools/corpus/prefix.sh) unless there;
# 2. generates the corpus into .train/corpus unless there (same seed and sizes every time, so a
#    fresh machine makes the same corpus);
# 3. trains the acoustic part and the vocoder (PARTS, default both) side by side until SECONDS after this script
#    started, from .train/work (same machine) or else from RESUME_DIR (parts brought back);
# 4. the parts to bring back and the loss logs go to $OUT (or .train/out): 7 files.
# The state lives in $AV_TRAIN_DIR (default /var/tmp/avtrain, outside the repository: the
# repository copy on the machine is re-synced at every call), so it stays while the machine is warm.
set -uo pipefail
t0=$(date +%s)
budget=${1:?usage: device_slice.sh SECONDS [RESUME_DIR]}
resume=${2:-}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
W=${AV_TRAIN_DIR:-/var/tmp/avtrain}
out=${OUT:-$W/out}
mkdir -p "$W" "$out"
PY=${PYTHON:-python3}
say() { echo "[device_slice $(( $(date +%s) - t0 ))s] $*"; }

say "$(nvidia-smi -L 2>/dev/null | head -1)"
$PY -c 'import torch, numpy; print("torch", torch.__version__, "numpy", numpy.__version__, "cuda", torch.cuda.is_available())'
if [ ! -x "$W/prefix/usr/bin/espeak-ng" ]; then
  tools/corpus/prefix.sh unpack .debs "$W/prefix" || { say "cannot unpack espeak-ng/sox"; exit 3; }
fi
if [ ! -f "$W/corpus/corpus.json" ]; then
  say "generating the corpus"
  $PY tools/corpus/make_corpus.py --out "$W/corpus" --prefix "$W/prefix" --jobs "$(nproc)" \
    ${CORPUS_ARGS:-} || { say "corpus generation failed"; exit 4; }
else
  say "corpus already here: $(du -sh "$W/corpus" | cut -f1)"
fi
deadline=$(( t0 + budget ))
say "training until $(( deadline - $(date +%s) )) s from now"
res=()
[ -n "$resume" ] && res=(--resume "$resume")
parts=" ${PARTS:-vocoder acoustic} "
pv= pa= rv=0 ra=0
[[ $parts == *" vocoder "* ]] && { $PY -u tools/train/train.py --part vocoder --corpus "$W/corpus" --work "$W/work" --export "$out" \
  --deadline "$deadline" "${res[@]}" ${TRAIN_ARGS:-} ${VOC_ARGS:-} 2>&1 | tee -a "$W/vocoder.log" &
pv=$!; }
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader -l 5 > "$W/gpu.log" 2>&1 &
  ps=$!
fi
sleep "${ACOUSTIC_DELAY:-0}"
[[ $parts == *" acoustic "* ]] && { $PY -u tools/train/train.py --part acoustic --corpus "$W/corpus" --work "$W/work" --export "$out" \
  --deadline "$deadline" "${res[@]}" ${TRAIN_ARGS:-} ${AC_ARGS:-} 2>&1 | tee -a "$W/acoustic.log" &
pa=$!; }
[ -n "$pv" ] && { wait "$pv"; rv=$?; }
[ -n "$pa" ] && { wait "$pa"; ra=$?; }
[ -n "${ps:-}" ] && kill "$ps" 2>/dev/null && say "GPU utilisation % every 5 s: $(cut -d, -f1 "$W/gpu.log" | tr -d ' %' | tr '\n' ' ')"
say "done: vocoder exit $rv, acoustic exit $ra; $(ls "$out" | tr '\n' ' ')"
[ $rv -eq 0 ] && [ $ra -eq 0 ]
