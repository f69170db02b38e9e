#!/usr/bin/env bash
# fp32 CPU benchmark of the engine on the `seed` HiFi-GAN vocoder (documented random init, the
# weights of tools/make_fixtures.py) at 1 s and 10 s of audio, against ONNX Runtime
# (onnxruntime-node 1.30.0, same ONNX file) and PyTorch (Debian's 1.13, same weights), all on the
# same inputs and thread count, in one run. Prints a markdown table; with --write, replaces the
# table between the markers in docs/BENCHMARKS.md.
# usage: bench/engine_fp32.sh [--threads N] [--write]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2 write=0
while [ $# -gt 0 ]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --write) write=1; shift ;;
    *) echo "usage: bench/engine_fp32.sh [--threads N] [--write]" >&2; exit 2 ;;
  esac
done
work=build/bench
mkdir -p $work
py=/usr/bin/python3
bin=build/bin/autovoice
[ -x $bin ] || { echo "build first: make build" >&2; exit 1; }

# ONNX Runtime for Node, installed without its download scripts (CPU binaries ship in the package)
if [ ! -d $work/node_modules/onnxruntime-node ]; then
  (cd $work && { [ -f package.json ] || npm init -y >/dev/null; } &&
   npm install --ignore-scripts --no-audit --no-fund onnxruntime-node@1.30.0 >/dev/null)
fi
export NODE_PATH=$PWD/$work/node_modules
# Debian's OpenBLAS 0.3.21 takes recent AMD CPUs for Haswell (AVX2); on a CPU with AVX-512 the
# bench asks for its AVX-512 kernels, for autovoice and for PyTorch alike (the autovoice command
# does the same by itself unless OPENBLAS_CORETYPE is already set).
if grep -q avx512bw /proc/cpuinfo && grep -q avx512vl /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SKYLAKEX
fi

[ -f $work/model-seed/vocoder.onnx ] ||
  $py tools/make_fixtures.py --preset seed --out $work/fixtures-seed --package $work/model-seed >/dev/null
$py - <<PY
import numpy as np
r = np.random.RandomState(7)
for s, frames in ((1, 87), (10, 862)):
    np.save(f"$work/mel_{s}s.npy", (r.standard_normal((1, 80, frames)) * 1.5 - 4.0).astype(np.float32))
PY

json() { $py -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }
ms_ours() { sed -n 's/.*run median \([0-9.]*\) ms.*/\1/p'; }

rows=""
for s in 1 10; do
  reps=$([ $s = 1 ] && echo 7 || echo 3)
  mel=$work/mel_${s}s.npy
  ours=$($bin run $work/model-seed/vocoder.onnx --input mel_input=$mel --threads $threads \
         --repeat $reps --output-dir $work | ms_ours)
  mv $work/audio_output.npy $work/ours_${s}s.npy
  ort=$(node bench/ort_run.js $work/model-seed/vocoder.onnx mel_input=$mel --threads $threads \
        --repeat $reps --out $work/ort_${s}s.npy | json median_ms)
  pt=$($py bench/torch_vocoder.py --preset seed --input $mel --threads $threads --repeat $reps \
       --out $work/torch_${s}s.npy | json median_ms)
  acc=$($py - <<PY
import numpy as np
t = np.load("$work/torch_${s}s.npy").astype(np.float64)
def err(x):
    x = np.load(x).astype(np.float64)
    return np.linalg.norm(x - t) / np.linalg.norm(t)
print(f"{err('$work/ours_${s}s.npy'):.1e} | {err('$work/ort_${s}s.npy'):.1e}")
PY
)
  row=$($py -c "
o, r, p = $ours, $ort, $pt
print(f'| {$s} s | {o:.0f} | {r:.0f} | {p:.0f} | {r / o:.2f} | {p / o:.2f} | $acc |')")
  rows="$rows$row"$'\n'
done

cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
table="Seed HiFi-GAN vocoder (13.9 M parameters, 52.9 GFLOP per second of audio), fp32, $threads threads,
median latency in ms. Machine: $cpu ($(nproc) cores visible). Versions: autovoice $($bin --version | head -1 | cut -d' ' -f2),
onnxruntime-node 1.30.0, PyTorch $($py -c 'import torch; print(torch.__version__)'), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}. Date: $(date -u +%Y-%m-%d).
Command: \`bench/engine_fp32.sh --threads $threads\`. Ratios above 1 mean autovoice is faster; accuracy is
the relative L2 distance of each output from PyTorch's.

| audio | autovoice | ONNX Runtime | PyTorch | ORT / autovoice | PyTorch / autovoice | rel. L2 vs PyTorch: autovoice | rel. L2 vs PyTorch: ORT |
|---|---|---|---|---|---|---|---|
$rows"
echo "$table"
if [ $write = 1 ]; then
  $py - "$table" <<'PY'
import re, sys
path = "docs/BENCHMARKS.md"
begin, end = "<!-- engine_fp32:begin -->", "<!-- engine_fp32:end -->"
text = open(path).read()
new = f"{begin}\n{sys.argv[1]}\n{end}"
text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: new, text, flags=re.S)
open(path + ".tmp", "w").write(text)
import os; os.replace(path + ".tmp", path)
PY
fi
