#!/usr/bin/env bash
# The GPU counterpart of bench/run-all.sh, kept for its command line: it runs bench/gpu.sh (one
# NVIDIA GPU: autovoice's CUDA backend in fp32, tf32 and fp16 against PyTorch fp32 eager, fp16
# autocast and fp16 autocast in a CUDA graph, on the same weights and saved inputs), which owns the
# section between <!-- bench-gpu:begin --> and <!-- bench-gpu:end --> in docs/BENCHMARKS.md.
# The options map onto gpu.sh's (--preset P is --presets P); the defaults are this script's own:
# --preset seed --seconds 1,10 --repeat 20 --warmup 3 --bin build/bin/autovoice --python python3.
# usage: bench/run-gpu.sh [--preset seed|small] [--seconds LIST] [--repeat N] [--warmup N]
#                         [--python PY] [--bin PATH] [--write]
set -euo pipefail
preset=seed seconds=1,10 repeat=20 warmup=3 py=python3 bin=build/bin/autovoice write=()
usage() {
  echo "usage: bench/run-gpu.sh [--preset seed|small] [--seconds LIST] [--repeat N] [--warmup N] [--python PY] [--bin PATH] [--write]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case $1 in
    --preset) [ $# -ge 2 ] || usage; preset=$2; shift 2 ;;
    --seconds) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
    --repeat) [ $# -ge 2 ] || usage; repeat=$2; shift 2 ;;
    --warmup) [ $# -ge 2 ] || usage; warmup=$2; shift 2 ;;
    --python) [ $# -ge 2 ] || usage; py=$2; shift 2 ;;
    --bin) [ $# -ge 2 ] || usage; bin=$2; shift 2 ;;
    --write) write=(--write); shift ;;
    *) usage ;;
  esac
done
case $preset in seed|small) ;; *) usage ;; esac
exec "$(dirname "$0")/gpu.sh" --presets "$preset" --seconds "$seconds" --repeat "$repeat" \
  --warmup "$warmup" --python "$py" --bin "$bin" "${write[@]}"
