#!/usr/bin/env bash
# The GPU counterpart of bench/run-all.sh, for a machine with an NVIDIA GPU, PyTorch 2.11 with CUDA
# and the Python onnxruntime (onnxruntime-gpu) in one interpreter (--python, default python3):
# every component of a model package (same weights: tools/export_onnx.py --random-init --seed
# 20261124) on the same inputs, saved by a CPU run of `autovoice bench --save-tensors`, through
#   PyTorch   fp32 eager, fp16 autocast, fp16 autocast captured in a CUDA graph
#   ONNX Runtime   the package's ONNX files on the CUDA execution provider
# with each one's accuracy against PyTorch fp32 eager on the GPU. Writes
# build/bench/bench-gpu-PRESET.json and prints the report; with --write, regenerates the section
# between <!-- bench-gpu:begin --> and <!-- bench-gpu:end --> in docs/BENCHMARKS.md.
# autovoice's own CUDA backend is not there yet: `autovoice bench --device cuda` says so, and its
# records join the report as soon as it can run.
# usage: bench/run-gpu.sh [--preset seed|small] [--seconds LIST] [--repeat N] [--warmup N]
#                         [--python PY] [--bin PATH] [--write]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=seed seconds=1,10 repeat=20 warmup=3 py=python3 bin=build/bin/autovoice write=0
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
    --write) write=1; shift ;;
    *) usage ;;
  esac
done
case $preset in seed|small) ;; *) usage ;; esac
work=build/bench
mkdir -p $work
[ -x "$bin" ] || { echo "run-gpu: $bin: build first (make build), or give --bin PATH" >&2; exit 1; }
command -v nvidia-smi >/dev/null && nvidia-smi -L || echo "run-gpu: nvidia-smi not found" >&2
$py - <<'PY' || { echo "run-gpu: $py needs torch with CUDA, onnxruntime-gpu, numpy and yaml" >&2; exit 1; }
import numpy, yaml, torch, onnxruntime
assert torch.cuda.is_available(), "torch sees no CUDA device"
print(f"run-gpu: torch {torch.__version__} (CUDA {torch.version.cuda}) on {torch.cuda.get_device_name(0)}, "
      f"onnxruntime {onnxruntime.__version__} ({', '.join(onnxruntime.get_available_providers())})")
PY

pkg=$work/bench-$preset
[ -f $pkg/model.yaml ] ||
  $py tools/export_onnx.py --preset $preset --random-init --seed 20261124 --speakers 4 \
    --name bench-$preset --out $pkg >/dev/null
components=content_encoder,pitch_encoder,flow_decoder,mel_projection,vocoder
tensors=$work/tensors-gpu-$preset
rm -rf $tensors
# the inputs and autovoice's fp32 CPU outputs (one run each: the CPU is not what is measured here)
"$bin" bench --model $pkg --component $components --seconds $seconds --repeat 1 --warmup 0 \
  --json $work/ours-gpu-$preset.json --save-tensors $tensors >/dev/null
merge=()
if "$bin" bench --model $pkg --component $components --device cuda --seconds $seconds \
     --repeat $repeat --warmup $warmup --json $work/ours-cuda-$preset.json; then
  merge=(--merge $work/ours-cuda-$preset.json)
else
  echo "run-gpu: autovoice's CUDA backend is not available in this build yet; the report has the peers only" >&2
fi
$py bench/peers.py --ours $work/ours-gpu-$preset.json --out $work/bench-gpu-$preset.json \
  --device cuda --threads "$(nproc)" --repeat $repeat --warmup $warmup "${merge[@]}"

cmd="bench/run-gpu.sh --preset $preset --seconds $seconds --repeat $repeat --warmup $warmup"
if [ $write = 1 ]; then
  $py bench/report.py $work/bench-gpu-$preset.json --device cuda --command "$cmd" \
    --write docs/BENCHMARKS.md --img-dir docs/img
else
  $py bench/report.py $work/bench-gpu-$preset.json --device cuda --command "$cmd" --img-dir $work/img
fi
