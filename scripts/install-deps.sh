#!/usr/bin/env bash
# Installs the Debian packages autovoice needs, and only those that are missing.
# Idempotent: a second run installs nothing and touches no package state.
# Used by `make demo`, `make test` and CI; the README lists every package and why.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config
  # C libraries
  libsndfile1-dev      # audio file I/O (WAV/FLAC/OGG/MP3)
  libsoxr-dev          # resampling
  libyaml-dev          # model.yaml of model packages
  libopenblas-dev      # SGEMM behind the CPU backend's convolutions and matrix products
  libfftw3-dev         # FFT (single precision) of the STFT and Griffin-Lim
  libdnnl-dev          # oneDNN: fp32/bf16/int8 convolutions of built plans (autovoice build)
  zlib1g-dev           # deflated .npz calibration files
  # the official ONNX operator (node) tests, run by the conformance runner
  libonnx-testdata
  # reference tools: PyTorch model, ONNX export, fixtures, tool tests
  python3 python3-numpy python3-torch python3-torchaudio python3-onnx python3-pytest python3-yaml
  # test and example audio
  espeak-ng sox
  # benchmark plots (bench/report.py)
  python3-matplotlib
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "install-deps: missing packages (${missing[*]}) and not root; install them or run as root" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
