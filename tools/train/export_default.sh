#!/usr/bin/env bash
# The shipped default model from trained parts (docs/TRAINING.md):
#
#   tools/train/export_default.sh PARTS_DIR [TEMPERATURE]
#
# PARTS_DIR holds acoustic.pt.* and vocoder.pt.* as tools/train/train.py --export writes them.
# Writes tools/checkpoints/default.ckpt (git-ignored) and the package models/default/, with the
# default inference temperature (0 unless given; chosen on training utterances, docs/QUALITY.md).
set -euo pipefail
parts=${1:?usage: export_default.sh PARTS_DIR [TEMPERATURE]}
temp=${2:-0}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
mkdir -p tools/checkpoints
/usr/bin/python3 tools/train/assemble.py --parts "$parts" --out tools/checkpoints/default.ckpt
rm -rf models/default.tmp
/usr/bin/python3 tools/export_onnx.py --preset small --checkpoint tools/checkpoints/default.ckpt \
  --out models/default.tmp --name autovoice-default-small
sed -i "s/^  temperature: .*/  temperature: $temp            # default noise scale (docs\/QUALITY.md)/" \
  models/default.tmp/model.yaml
rm -rf models/default
mv models/default.tmp models/default
du -sh models/default
