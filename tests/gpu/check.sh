#!/usr/bin/env bash
# The CUDA backend's checks, in one command, on a machine with an NVIDIA GPU (they skip on the CPU
# machines that run `make test`):
#   1. test_cuda: the device probe and a kernel self-test
#   2. test_cuda_{elementwise,shape,reduce,conv}: every operator's CUDA kernel against the CPU
#      kernel on random data of awkward sizes, fp32 math (relative L2 <= 1e-5) and fp16 storage
#      (relative L2 <= 1e-2, SNR >= 40 dB)
#   3. test_engine_parity --device cuda: every component of both reference presets (random-init
#      weights, exported now with tools/make_fixtures.py) against PyTorch, in fp32, tf32 and fp16,
#      each case run eagerly, captured as a CUDA graph and replayed
# and prints a table of the results last. Builds with the CUDA backend first (build-cuda/) unless
# --bin-dir names a directory holding prebuilt autovoice, test_cuda* and test_engine_parity.
# usage: tests/gpu/check.sh [--bin-dir DIR] [--python PY] [--work DIR] [--presets LIST]
set -uo pipefail
cd "$(dirname "$0")/../.."
bin_dir="" py=python3 work=build-cuda/gpu-check presets="small seed"
while [ $# -gt 0 ]; do
  case $1 in
    --bin-dir) bin_dir=$2; shift 2 ;;
    --python) py=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --presets) presets=${2//,/ }; shift 2 ;;
    *) echo "usage: tests/gpu/check.sh [--bin-dir DIR] [--python PY] [--work DIR] [--presets LIST]" >&2; exit 2 ;;
  esac
done
if [ -z "$bin_dir" ]; then
  cmake -S . -B build-cuda -DAV_CUDA=ON -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build build-cuda -j"$(nproc)" >/dev/null || { echo "check.sh: build failed" >&2; exit 1; }
  bin_dir=build-cuda/tests
fi
mkdir -p "$work"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
results=()
record() { results+=("$(printf '%-44s %s' "$1" "$2")"); }
run() { # NAME COMMAND...: runs, keeps the log, records pass / fail / skip
  local name=$1; shift
  local log="$work/${name//[^A-Za-z0-9_.-]/_}.log"
  "$@" >"$log" 2>&1
  local rc=$?
  cat "$log"
  case $rc in
    0) record "$name" "pass" ;;
    77) record "$name" "SKIPPED ($(tail -1 "$log"))" ;;
    *) record "$name" "FAIL (exit $rc; $(grep -c -E 'FAIL|failed' "$log") failing lines)" ;;
  esac
}
run test_cuda "$bin_dir/test_cuda"
for t in elementwise shape reduce conv; do
  [ -x "$bin_dir/test_cuda_$t" ] && run "test_cuda_$t" "$bin_dir/test_cuda_$t"
done
for preset in $presets; do
  if [ ! -f "$work/fixtures-$preset/MANIFEST" ]; then
    PYTHONDONTWRITEBYTECODE=1 $py tools/make_fixtures.py --preset "$preset" \
      --out "$work/fixtures-$preset" --package "$work/model-$preset" >"$work/fixtures-$preset.log" 2>&1 ||
      { cat "$work/fixtures-$preset.log"; record "fixtures $preset" "FAIL (export)"; continue; }
  fi
  for prec in fp32 tf32 fp16; do
    run "parity $preset cuda $prec" "$bin_dir/test_engine_parity" "$work/model-$preset" \
      "$work/fixtures-$preset" --device cuda --precision $prec
  done
done
echo
echo "== CUDA backend checks =="
printf '%s\n' "${results[@]}"
! printf '%s\n' "${results[@]}" | grep -q FAIL
