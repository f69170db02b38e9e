#!/usr/bin/env bash
# Precision benchmark of the engine on the `seed` HiFi-GAN vocoder (documented random init:
# tools/export_onnx.py --preset seed --random-init --seed 20261124) at 1 s and 10 s of audio:
# ONNX Runtime fp32 (onnxruntime-node 1.30.0, same ONNX file) against our fp32 with the
# im2col + SGEMM convolutions (the ONNX file), our fp32 plan with oneDNN convolutions
# (`autovoice build --onednn`), our bf16 plan and our int8 plan (`--precision bf16|int8`,
# calibrated on the builder's synthetic inputs at the opt shape, not on the benchmark input), all
# on the same inputs (bench/engine_fp32.sh's) and thread count, one after the other. Latency is
# the median of `autovoice run --repeat`; accuracy is the SNR of each output against our fp32
# (SGEMM) output. Prints a markdown table; with --write, replaces the table between the
# engine_precision markers in docs/BENCHMARKS.md (appending the section when it is missing).
# usage: bench/engine_precision.sh [--threads N] [--bin AUTOVOICE] [--work DIR] [--write]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2 write=0 bin=build/bin/autovoice work=build/bench
while [ $# -gt 0 ]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --write) write=1; shift ;;
    *) echo "usage: bench/engine_precision.sh [--threads N] [--bin AUTOVOICE] [--work DIR] [--write]" >&2; exit 2 ;;
  esac
done
py=/usr/bin/python3
[ -x "$bin" ] || { echo "build first: make build (or give --bin)" >&2; exit 1; }
mkdir -p "$work"
if [ ! -d "$work/node_modules/onnxruntime-node" ]; then
  (cd "$work" && { [ -f package.json ] || npm init -y >/dev/null; } &&
   npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0 >/dev/null)
fi
export NODE_PATH=$PWD/$work/node_modules
if grep -q avx512bw /proc/cpuinfo && grep -q avx512vl /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SKYLAKEX   # as bench/engine_fp32.sh: the AVX-512 SGEMM kernels
fi
model=$work/precision-seed/vocoder.onnx
[ -f "$model" ] || $py tools/export_onnx.py --preset seed --random-init --seed 20261124 \
  --out "$work/precision-seed" >/dev/null
$py - <<PY
import numpy as np
r = np.random.RandomState(7)   # the inputs of bench/engine_fp32.sh
for s, frames in ((1, 87), (10, 862)):
    np.save(f"$work/mel_{s}s.npy", (r.standard_normal((1, 80, frames)) * 1.5 - 4.0).astype(np.float32))
PY

# the plans: one profile covering both lengths, opt = 10 s (the builder times and calibrates there)
shape=mel_input:1x80x1/1x80x862/1x80x3968
log=$work/precision-build.log
: >"$log"
for p in onednn bf16 int8; do
  args=(--precision "$p")
  [ $p = onednn ] && args=(--onednn)
  echo "$p" >>"$log"
  "$bin" build "$model" -o "$work/precision-$p.plan" "${args[@]}" --shape $shape \
    --threads "$threads" >>"$log" 2>&1 ||
    { cat "$log" >&2; exit 1; }
done

# Wait (at most 10 minutes) for 10 s in a row without another running process: the 2-core
# development machine is shared, and any other job skews every number below.
quiet=0 waited=0
while [ $quiet -lt 10 ] && [ $waited -lt 600 ]; do
  r=$(awk '/procs_running/ {print $2}' /proc/stat)   # counts this awk too
  if [ "$r" -le 2 ]; then quiet=$((quiet + 1)); else quiet=0; fi
  sleep 1; waited=$((waited + 1))
done
[ $quiet -ge 10 ] && machine="idle before the timed runs (waited ${waited} s)" ||
  machine="BUSY: no 10 idle seconds in 10 minutes, numbers skewed"
ms_ours() { sed -n 's/.*run median \([0-9.]*\) ms.*/\1/p'; }
json() { $py -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }
rows=""
for s in 1 10; do
  reps=$([ $s = 1 ] && echo 9 || echo 3)
  mel=$work/mel_${s}s.npy
  ort=$(node bench/ort_run.js "$model" mel_input=$mel --threads "$threads" --repeat $reps \
        --out "$work/prec_ort_${s}s.npy" | json median_ms)
  declare -A ms
  for v in gemm onednn bf16 int8; do
    m=$work/precision-$v.plan
    [ $v = gemm ] && m=$model
    mkdir -p "$work/prec_$v"
    ms[$v]=$("$bin" run "$m" --input mel_input=$mel --threads "$threads" --repeat $reps \
             --output-dir "$work/prec_$v" | ms_ours)
    mv "$work/prec_$v/audio_output.npy" "$work/prec_${v}_${s}s.npy"
  done
  row=$($py - <<PY
import numpy as np
ref = np.load("$work/prec_gemm_${s}s.npy").astype(np.float64)
def snr(v):
    x = np.load(f"$work/prec_{v}_${s}s.npy").astype(np.float64)
    e = ((x - ref) ** 2).sum()
    return "inf" if e == 0 else f"{10 * np.log10((ref ** 2).sum() / e):.1f}"
ort = $ort
t = {"gemm": ${ms[gemm]}, "onednn": ${ms[onednn]}, "bf16": ${ms[bf16]}, "int8": ${ms[int8]}}
cells = [f"{ort:.0f}"]
for v in ("gemm", "onednn", "bf16", "int8"):
    cells.append(f"{t[v]:.0f} ({ort / t[v]:.2f}x)")
cells += [snr("onednn"), snr("bf16"), snr("int8")]
print(f"| {$s} s | " + " | ".join(cells) + " |")
PY
)
  rows="$rows$row"$'\n'
done

runs_end=$(date -u +%H:%M:%S)
cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
plan_counts() { grep -A200 "^$1\$" "$log" | grep -m1 '^  precision: ' |
  sed 's/^  precision: //; s/; every other node fp32//; s/ convolutions$//; s/, 0 [a-z0-9]*$//; s/^0 int8, //' |
  sed 's/, / + /g'; }
counts="the bf16 plan runs $(plan_counts bf16) convolutions, the int8 plan $(plan_counts int8)"
table="Seed HiFi-GAN vocoder (13.9 M parameters, 52.9 GFLOP per second of audio), $threads threads, median
latency in ms and speed-up over ONNX Runtime fp32 (above 1: faster). Machine: $cpu ($(nproc) cores
visible). Versions: autovoice $("$bin" --version | head -1 | cut -d' ' -f2), oneDNN 2.6 (Debian libdnnl),
onnxruntime-node 1.30.0, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}. Date: $(date -u +%Y-%m-%d).
Command: \`bench/engine_precision.sh --threads $threads\` (machine $machine; other jobs
starting during the runs, which ended at $runs_end UTC, would skew them). Plans built with \`--shape $shape\`,
int8 calibrated (entropy) on the builder's synthetic input at the opt shape; $counts (the
configuration's keep_precision layers: fp32 in the bf16 plan, bf16 in the int8 plan). SNR in dB
against our fp32 SGEMM output on the same input. Targets (SPEC.md §6): fp32 >= 1.0x, bf16 >= 1.8x
with SNR >= 35 dB, int8 >= 2.5x with SNR >= 30 dB.

| audio | ONNX Runtime fp32 | ours fp32, SGEMM | ours fp32, oneDNN | ours bf16 | ours int8 | SNR fp32 oneDNN | SNR bf16 | SNR int8 |
|---|---|---|---|---|---|---|---|---|
$rows"
echo "$table"
if [ $write = 1 ]; then
  $py - "$table" <<'PY'
import os, re, sys
path = "docs/BENCHMARKS.md"
begin, end = "<!-- engine_precision:begin -->", "<!-- engine_precision:end -->"
text = open(path).read()
new = f"{begin}\n{sys.argv[1]}\n{end}"
if begin in text:
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: new, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n## Engine precisions, CPU: fp32, bf16 and int8 plans of the `seed` vocoder\n\n" + new + "\n"
open(path + ".tmp", "w").write(text)
os.replace(path + ".tmp", path)
PY
fi
