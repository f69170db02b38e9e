#!/usr/bin/env bash
# autovoice's CUDA backend against PyTorch on one NVIDIA GPU, in one command from a fresh checkout.
# For each preset: exports the package with random-init weights (tools/export_onnx.py --random-init
# --seed 20261124, into WORK/bench-PRESET; kept when present), runs
#   autovoice bench --device cuda --precision fp32,tf32,fp16 --save-tensors ...
# on every component and length, then bench/gpu_compare.py runs the PyTorch reference model on the
# same weights and the same saved inputs (fp32 eager, fp16 autocast, fp16 autocast in a CUDA graph;
# CUDA events), compares every output with PyTorch fp32 and prints the preset's table. Last, the
# markdown of all presets; with --write it regenerates the section between <!-- bench-gpu:begin -->
# and <!-- bench-gpu:end --> in docs/BENCHMARKS.md (bench/run-gpu.sh delegates here: one owner).
# JSON: WORK/gpu-PRESET.json (autovoice's bench document, docs/BENCH_SCHEMA.md, with the PyTorch
# records and a gpu_compare key). Needs python3 with torch (CUDA), numpy, onnx and yaml; --ort also
# onnxruntime (its CPU provider, on the vocoder at 1 s, for scale). The binary runs with the
# caller's environment (LD_LIBRARY_PATH included).
# --device cpu is a dry run without a GPU (autovoice and PyTorch fp32 on the CPU): it writes
# WORK/gpu-dryrun-PRESET.json and never docs/BENCHMARKS.md.
# usage: bench/gpu.sh [--bin PATH] [--presets LIST] [--seconds LIST] [--repeat N] [--warmup N]
#                     [--components LIST] [--python PY] [--work DIR] [--ort] [--write]
#                     [--device cuda|cpu]
# defaults: --bin build-cuda/bin/autovoice --presets seed,small --seconds 1,10,60 --repeat 20
# --warmup 5 --python python3 --work build/bench (relative to the repository root)
set -euo pipefail
here=$PWD
cd "$(dirname "$0")/.."
bin=build-cuda/bin/autovoice presets=seed,small seconds=1,10,60 repeat=20 warmup=5 py=python3
components=vocoder,content_encoder,pitch_encoder,flow_decoder,mel_projection
work=build/bench ort=0 write=0 device=cuda
usage() {
  sed -n '/^# usage:/,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case $1 in
    --bin) [ $# -ge 2 ] || usage; bin=$2; shift 2 ;;
    --presets|--preset) [ $# -ge 2 ] || usage; presets=$2; shift 2 ;;
    --seconds) [ $# -ge 2 ] || usage; seconds=$2; shift 2 ;;
    --repeat) [ $# -ge 2 ] || usage; repeat=$2; shift 2 ;;
    --warmup) [ $# -ge 2 ] || usage; warmup=$2; shift 2 ;;
    --components) [ $# -ge 2 ] || usage; components=$2; shift 2 ;;
    --python) [ $# -ge 2 ] || usage; py=$2; shift 2 ;;
    --work) [ $# -ge 2 ] || usage; work=$2; shift 2 ;;
    --device) [ $# -ge 2 ] || usage; device=$2; shift 2 ;;
    --ort) ort=1; shift ;;
    --write) write=1; shift ;;
    -h|--help) usage ;;
    *) echo "gpu.sh: unknown option '$1'" >&2; usage ;;
  esac
done
case $device in cuda|cpu) ;; *) echo "gpu.sh: --device cuda or cpu" >&2; exit 2 ;; esac
for p in ${presets//,/ }; do
  case $p in seed|small) ;; *) echo "gpu.sh: unknown preset '$p' (seed, small)" >&2; exit 2 ;; esac
done
[ $write = 0 ] || [ "$device" = cuda ] || { echo "gpu.sh: --write takes GPU results, not a --device cpu dry run" >&2; exit 2; }
# a relative --bin is the caller's when it is there, else the repository root's; --work is the root's
case $bin in /*) ;; *) [ -e "$here/$bin" ] && bin=$here/$bin ;; esac
[ -x "$bin" ] || { echo "gpu.sh: $bin: no autovoice binary there (build with the CUDA backend, or give --bin PATH)" >&2; exit 1; }
mkdir -p "$work"
t0=$SECONDS

echo "gpu.sh: $("$bin" --version | tr '\n' ';' | sed 's/;$//; s/;/; /g')"
[ "$device" = cpu ] || { command -v nvidia-smi >/dev/null && nvidia-smi -L; } || echo "gpu.sh: nvidia-smi not found" >&2
DEVICE=$device "$py" - <<'PY' || { echo "gpu.sh: $py needs torch (with CUDA for --device cuda), numpy, onnx and yaml" >&2; exit 1; }
import os
import numpy, onnx, yaml, torch
cuda = os.environ["DEVICE"] == "cuda"
assert not cuda or torch.cuda.is_available(), "torch sees no CUDA device"
print(f"gpu.sh: torch {torch.__version__}" +
      (f" (CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}) on {torch.cuda.get_device_name(0)}" if cuda else " on the CPU (dry run)"))
PY

cmd="bench/gpu.sh --bin $bin --presets $presets --seconds $seconds --repeat $repeat --warmup $warmup"
[ "$components" = vocoder,content_encoder,pitch_encoder,flow_decoder,mel_projection ] || cmd+=" --components $components"
[ $ort = 0 ] || cmd+=" --ort"
[ "$device" = cuda ] || cmd+=" --device cpu"
ortflag=() ; [ $ort = 0 ] || ortflag=(--ort)
name=gpu ; [ "$device" = cuda ] || name=gpu-dryrun
results=()
for preset in ${presets//,/ }; do
  pkg=$work/bench-$preset
  if [ ! -f "$pkg/model.yaml" ]; then
    echo "gpu.sh: exporting $pkg (random-init seed 20261124)"
    "$py" tools/export_onnx.py --preset "$preset" --random-init --seed 20261124 --speakers 4 \
      --name "bench-$preset" --out "$pkg" >/dev/null
  fi
  # our plans: the builder's fp32 graph (oneDNN-style FusedConv nodes, channels-last, conv +
  # bias + activation / residual add fused), profiles up to 65 s (the configuration's max is 46 s)
  cfg=$work/gpu-profiles.yaml
  sed -e 's/max: \[1, 736000\]/max: [1, 1040000]/' -e 's/max: \[1, 4600\]/max: [1, 6500]/g' \
      -e 's/max: \[1, \([0-9]*\), 3968\]/max: [1, \1, 5600]/g' config/model_config.yaml >"$cfg"
  echo "gpu.sh: [$((SECONDS - t0)) s] autovoice build --package $pkg --onednn (fp32 plans)"
  "$bin" build --package "$pkg" --onednn --config "$cfg" >"$work/build-$preset.log" 2>&1 ||
    { tail -n 20 "$work/build-$preset.log" >&2; echo "gpu.sh: autovoice build failed on $preset" >&2; exit 1; }
  tensors=$work/tensors-$device-$preset
  ours=$work/ours-$device-$preset
  rm -rf "$tensors"
  echo "gpu.sh: [$((SECONDS - t0)) s] autovoice bench $preset on $device (log: $ours.log)"
  if ! "$bin" bench --model "$pkg" --plans --component "$components" --device "$device" --precision fp32,tf32,fp16 \
       --seconds "$seconds" --repeat "$repeat" --warmup "$warmup" --json "$ours.json" \
       --save-tensors "$tensors" >"$ours.log" 2>&1; then
    tail -n 30 "$ours.log" >&2
    echo "gpu.sh: autovoice bench failed on $preset" >&2
    exit 1
  fi
  grep -i "skip" "$ours.log" >&2 || true
  echo "gpu.sh: [$((SECONDS - t0)) s] PyTorch $preset on $device"
  PYTHONUNBUFFERED=1 "$py" bench/gpu_compare.py measure --ours "$ours.json" --out "$work/$name-$preset.json" \
    --device "$device" --repeat "$repeat" --warmup "$warmup" --bin "$bin" --command "$cmd" "${ortflag[@]}"
  results+=("$work/$name-$preset.json")
done

echo "gpu.sh: [$((SECONDS - t0)) s] done; the section:"
echo
if [ $write = 1 ]; then
  "$py" bench/gpu_compare.py report "${results[@]}" --write docs/BENCHMARKS.md
else
  "$py" bench/gpu_compare.py report "${results[@]}"
fi
