#!/usr/bin/env bash
# `autovoice convert` end to end on the CPU: where the time goes per component for both presets,
# the peak memory of a 10-minute 44.1 kHz stereo song, and how much chunking changes the output
# (SNR of chunked against whole-input conversion of the same 30 s, per chunk length).
# The models are the documented random inits of tools/export_onnx.py (seed 20261124): the timings
# hold for any weights of these architectures; the SNRs depend on the weights (the content
# encoder's instance normalisation is the only stage whose output depends on the chunking).
# Prints markdown; with --write, replaces the section between the markers in docs/BENCHMARKS.md.
# usage: bench/convert.sh [--threads N] [--write]
set -euo pipefail
cd "$(dirname "$0")/.."
threads=2 write=0
while [ $# -gt 0 ]; do
  case $1 in
    --threads) threads=$2; shift 2 ;;
    --write) write=1; shift ;;
    *) echo "usage: bench/convert.sh [--threads N] [--write]" >&2; exit 2 ;;
  esac
done
work=build/bench
mkdir -p $work
py=/usr/bin/python3
bin=build/bin/autovoice
[ -x $bin ] || { echo "build first: make build" >&2; exit 1; }
command -v sox >/dev/null || { echo "needs sox (scripts/install-deps.sh)" >&2; exit 1; }
if grep -q avx512bw /proc/cpuinfo && grep -q avx512vl /proc/cpuinfo; then
  export OPENBLAS_CORETYPE=SKYLAKEX
fi
for preset in small seed; do
  [ -f $work/convert-$preset/model.yaml ] ||
    $py tools/export_onnx.py --preset $preset --random-init --seed 20261124 --speakers 4 \
      --name bench-$preset --out $work/convert-$preset >/dev/null
done
ex=examples/example-sung.wav
# 30 s: the example repeated; 10 minutes of 44.1 kHz stereo: the same, resampled and doubled
[ -f $work/song30.wav ] || sox $ex $work/song30.wav repeat 4 trim 0 30
[ -f $work/song600.wav ] || sox $ex -r 44100 -c 2 $work/song600.wav repeat 85 trim 0 600

# 1. where the time goes, per preset (30 s input, default chunking)
stage_rows=""
for preset in small seed; do
  $bin convert $work/song30.wav -o $work/out30-$preset.wav --model $work/convert-$preset \
    --threads $threads --force --stats >$work/stats-$preset.txt
done
table1=$($py - $work/stats-small.txt $work/stats-seed.txt <<'PY'
import sys
def rows(path):
    out = {}
    for line in open(path):
        parts = line.rstrip().rsplit(None, 2)
        if len(parts) == 3 and line.startswith("  ") and parts[1].replace(".", "").isdigit():
            out[parts[0].strip()] = (float(parts[1]), float(parts[2]))
    return out
a, b = rows(sys.argv[1]), rows(sys.argv[2])
print("| stage | small: s | small: RTF | seed: s | seed: RTF |")
print("|---|---|---|---|---|")
for k in a:
    print(f"| {k} | {a[k][0]:.3f} | {a[k][1]:.4f} | {b[k][0]:.3f} | {b[k][1]:.4f} |")
PY
)

# 2. a 10-minute song: peak memory with and without chunking
mem_rows=""
for chunk in 10 0; do
  /usr/bin/time -f "%e %M" -o $work/time.txt $bin convert $work/song600.wav -o $work/out600.wav \
    --model $work/convert-small --threads $threads --chunk $chunk --force --quiet
  read -r secs kb <$work/time.txt
  mem_rows="$mem_rows| $([ $chunk = 0 ] && echo "whole input" || echo "$chunk s chunks") | $secs | $((kb / 1024)) |"$'\n'
done

# 3. chunked vs whole on the same 30 s (small preset): SNR per chunk length and context
$bin convert $work/song30.wav -o $work/whole30.wav --model $work/convert-small --threads $threads \
  --chunk 0 --force --quiet
snr_rows=""
for spec in "5 1" "10 1" "15 1" "20 1" "10 0.5" "10 2" "10 4"; do
  set -- $spec
  $bin convert $work/song30.wav -o $work/chunk30.wav --model $work/convert-small --threads $threads \
    --chunk $1 --context $2 --force --quiet
  snr=$($py - $work/whole30.wav $work/chunk30.wav <<'PY'
import sys, wave, numpy as np
def rd(p):
    with wave.open(p) as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64)
a, b = rd(sys.argv[1]), rd(sys.argv[2])
print(f"{10 * np.log10(np.sum(a * a) / np.sum((a - b) ** 2)):.1f}")
PY
)
  snr_rows="$snr_rows| $1 s | $2 s | $snr |"$'\n'
done

cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
table="Machine: $cpu ($(nproc) cores visible), $threads threads, autovoice $($bin --version | head -1 | cut -d' ' -f2),
OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}. Date: $(date -u +%Y-%m-%d). Command: \`bench/convert.sh --threads $threads\`.
Models: \`tools/export_onnx.py --random-init --seed 20261124\` of each preset. RTF = seconds per second of audio.

Where the time goes: \`autovoice convert --stats\`, 30 s of the bundled example repeated (22.05 kHz
mono), default chunking (10 s):

$table1

A 10-minute song (the example repeated, 44.1 kHz stereo), \`small\` preset; peak RSS from
\`/usr/bin/time -f %M\`:

| conversion | wall s | peak RSS MiB |
|---|---|---|
$mem_rows
Chunked against whole-input conversion of the same 30 s (\`small\` preset, seed 0): SNR of the
difference. Only the content encoder's instance normalisation sees the chunking (the flow, mel
projection and vocoder run over their measured receptive fields and give the whole-input samples,
as tests/c/test_convert.c checks); more context and longer chunks bring its statistics closer to
the whole input's.

| chunk | content context | SNR dB |
|---|---|---|
$snr_rows"
echo "$table"
if [ $write = 1 ]; then
  $py - "$table" <<'PY'
import re, sys, os
path = "docs/BENCHMARKS.md"
begin, end = "<!-- convert:begin -->", "<!-- convert:end -->"
text = open(path).read()
new = f"{begin}\n{sys.argv[1]}\n{end}"
if begin in text:
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: new, text, flags=re.S)
else:
    text = text.rstrip("\n") + "\n\n## Conversion, CPU: stages, memory on a long song, chunking\n\n" + new + "\n"
open(path + ".tmp", "w").write(text)
os.replace(path + ".tmp", path)
PY
fi
