#!/usr/bin/env bash
# `autovoice bench` and its peers on the CPU, in one run: every component of a model package and
# the whole conversion, then PyTorch (Debian's python3-torch, the reference model of
# tools/autovoice_ref rebuilt with the same weights) and ONNX Runtime (onnxruntime-node 1.30.0, the
# same ONNX files) on the same saved inputs and thread count. Prints the report (ratios to
# autovoice, accuracy against PyTorch fp32) and regenerates the section between
# <!-- bench:begin --> and <!-- bench:end --> in docs/BENCHMARKS.md with its plots in docs/img/.
# The model is the documented random init of tools/export_onnx.py (seed 20261124): timings hold
# for any weights of the architecture. JSON: build/bench/bench-cpu-PRESET.json (bench/compare.py).
# Runs from any directory; needs `make build` (or --bin) and scripts/install-deps.sh.
# usage: bench/run-all.sh [--preset seed|small] [--threads N] [--seconds LIST] [--repeat N]
#                         [--warmup N] [--bin PATH] [--no-write] [--note TEXT]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=seed threads=2 seconds=1,10 repeat=5 warmup=1 bin=build/bin/autovoice write=1 note=
usage() {
  echo "usage: bench/run-all.sh [--preset seed|small] [--threads N] [--seconds LIST] [--repeat N] [--warmup N] [--bin PATH] [--no-write] [--note TEXT]" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case $1 in
    --preset) [ $# -ge 2 ] || usage; preset=$2; shift 2 ;;
    --threads) [ $# -ge 2 ] || usage; threads=$2; shift 2 ;;
    --seconds) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
    --repeat) [ $# -ge 2 ] || usage; repeat=$2; shift 2 ;;
    --warmup) [ $# -ge 2 ] || usage; warmup=$2; shift 2 ;;
    --bin) [ $# -ge 2 ] || usage; bin=$2; shift 2 ;;
    --no-write) write=0; shift ;;
    --note) [ $# -ge 2 ] || usage; note=$2; shift 2 ;;
    *) usage ;;
  esac
done
case $preset in seed|small) ;; *) usage ;; esac
work=build/bench
py=/usr/bin/python3
mkdir -p $work
[ -x "$bin" ] || { echo "run-all: $bin: build first (make build), or give --bin PATH" >&2; exit 1; }
$py -c 'import matplotlib' 2>/dev/null ||
  echo "run-all: python3-matplotlib is missing: no plots (scripts/install-deps.sh)" >&2

# ONNX Runtime for Node, installed without its download scripts (CPU binaries ship in the package)
if [ ! -d $work/node_modules/onnxruntime-node ]; then
  (cd $work && { [ -f package.json ] || npm init -y >/dev/null; } &&
   npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0 >/dev/null)
fi
# Debian's OpenBLAS 0.3.21 takes recent AMD CPUs for Haswell: on a CPU with AVX-512, its AVX-512
# kernels for autovoice and PyTorch alike (as bench/engine_fp32.sh)
if grep -q avx512bw /proc/cpuinfo && grep -q avx512vl /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SKYLAKEX
fi

pkg=$work/bench-$preset
[ -f $pkg/model.yaml ] ||
  $py tools/export_onnx.py --preset $preset --random-init --seed 20261124 --speakers 4 \
    --name bench-$preset --out $pkg >/dev/null
tensors=$work/tensors-$preset
rm -rf $tensors
# bf16 and int8 are plans the bench builds first (`autovoice bench --help`); on a CPU without
# AVX512-BF16 / VNNI the command says so and skips them
"$bin" bench --model $pkg --input examples/example-sung.wav --precision fp32,bf16,int8 \
  --seconds $seconds --threads $threads --repeat $repeat --warmup $warmup \
  --json $work/ours-$preset.json --save-tensors $tensors
$py bench/peers.py --ours $work/ours-$preset.json --out $work/bench-cpu-$preset.json \
  --node-modules $work/node_modules

cmd="bench/run-all.sh --preset $preset --threads $threads --seconds $seconds --repeat $repeat --warmup $warmup"
if [ $write = 1 ]; then
  $py bench/report.py $work/bench-cpu-$preset.json --command "$cmd" --note "$note" \
    --write docs/BENCHMARKS.md --img-dir docs/img
else
  $py bench/report.py $work/bench-cpu-$preset.json --command "$cmd" --note "$note" --img-dir $work/img
fi
