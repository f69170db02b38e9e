#!/usr/bin/env bash
# Checks on a GPU machine (the lent H100/H200, which has nvcc, CMake, PyTorch 2.x and onnxruntime
# but not Debian's -dev packages): the CUDA probe and kernel self-test, the reference tools on
# PyTorch 2.x, and the exported ONNX graphs under ONNX Runtime against the committed fixtures.
# usage: scripts/gpu-check.sh [OUT_DIR]     (results also copied to OUT_DIR when given)
set -u
cd "$(dirname "$0")/.."
out=${1:-}
log() { echo "== $*"; }
status=0
py=${PYTHON:-python3}

log "machine"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
nvcc --version | tail -1
$py -c 'import torch, onnx, onnxruntime; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "onnx", onnx.__version__, "onnxruntime", onnxruntime.__version__)'

log "CUDA probe and self-test (built without CMake: libsndfile-dev is not on these machines)"
b=$(mktemp -d)
cc="gcc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude -Isrc"
$cc -DAV_VERSION='"gpu-check"' -DAV_HAVE_CUDA=1 -c src/core/status.c -o $b/status.o &&
$cc -DAV_VERSION='"gpu-check"' -DAV_HAVE_CUDA=1 -c src/core/build_info.c -o $b/build_info.o &&
nvcc -O2 -Iinclude -Isrc -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
  -DAV_CUDA_ARCH_LIST='"80 90"' -c src/cuda/probe.cu -o $b/probe.o &&
$cc -Itests/c -c tests/c/test_cuda.c -o $b/test_cuda.o &&
nvcc -o $b/test_cuda $b/test_cuda.o $b/status.o $b/build_info.o $b/probe.o -lm &&
$b/test_cuda || status=1

log "reference tools on this PyTorch"
(cd tools && PYTHONDONTWRITEBYTECODE=1 $py -m pytest -q -p no:cacheprovider) || status=1

log "ONNX Runtime on the fixture package vs PyTorch's committed outputs"
pkg=$(mktemp -d)
$py tools/make_fixtures.py --out $pkg/fixtures --package $pkg/model >/dev/null &&
$py tools/check_onnxruntime.py $pkg/model || status=1

[ -z "$out" ] || cp -r "$pkg/model/model.yaml" "$out/" 2>/dev/null
log "gpu-check: $([ $status -eq 0 ] && echo ok || echo FAILED)"
exit $status
