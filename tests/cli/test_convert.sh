#!/usr/bin/env bash
# `autovoice convert` and `autovoice f0` end to end, with the fixture model package (random
# weights: the output is not singing, but every step of the path runs) and the bundled example.
# usage: test_convert.sh AUTOVOICE_BINARY REPO_ROOT MODEL_DIR SCRATCH_DIR
set -u
bin=$1 root=$2 model=$3 tmp=$4
py=/usr/bin/python3
mkdir -p "$tmp"
rm -f "$tmp"/*.wav "$tmp"/*.csv "$tmp"/*.flac
fails=0
ex=$root/examples/example-sung.wav
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

"$bin" convert "$ex" -o "$tmp/a.wav" --model "$model" --speaker tenor --seed 7 >"$tmp/out.txt" 2>&1
check "convert succeeds" "[ $? -eq 0 ] && grep -q 'at 44100 Hz' $tmp/out.txt"
"$bin" convert "$ex" -o "$tmp/b.wav" --model "$model" --speaker tenor --seed 7 >/dev/null 2>&1
"$bin" convert "$ex" -o "$tmp/c.wav" --model "$model" --speaker tenor --seed 8 >/dev/null 2>&1
"$bin" convert "$ex" -o "$tmp/d.wav" --model "$model" --speaker bass --seed 7 --pitch-shift -3 --output-rate 22050 >/dev/null 2>&1
"$bin" convert "$ex" -o "$tmp/e.flac" --model "$model" --threads 1 --seed 7 --speaker tenor --f0-method yin >/dev/null 2>&1
check "same seed, same output" "cmp -s $tmp/a.wav $tmp/b.wav"
check "other seed, other output" "! cmp -s $tmp/a.wav $tmp/c.wav"
$py - "$tmp" "$ex" <<'PY' && echo "ok   output lengths, rates and content" || { echo "FAIL output lengths, rates and content"; exit 1; }
import sys, wave, numpy as np
d, ex = sys.argv[1], sys.argv[2]
def read(p):
    with wave.open(p) as w:
        x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16) / 32768.0
        return x, w.getframerate()
src, sr = read(ex)
a, ra = read(f"{d}/a.wav")
dd, rd = read(f"{d}/d.wav")
assert ra == 44100 and rd == 22050, (ra, rd)
assert abs(len(a) - round(len(src) * 44100 / sr)) <= 1, (len(a), len(src))
assert abs(len(dd) - round(len(src) * 22050 / sr)) <= 1
assert np.isfinite(a).all() and a.std() > 1e-3, a.std()     # not silence
assert (np.abs(a) < 0.999).mean() > 0.99                    # not saturated
PY
[ -s "$tmp/e.flac" ]; check "flac output" "[ -s $tmp/e.flac ]"

# bad input: an error naming the problem, exit status, nothing written
"$bin" convert "$ex" -o "$tmp/x.wav" --model "$model" --speaker nobody >"$tmp/o" 2>"$tmp/e"
check "unknown speaker lists the speakers" "[ $? -eq 1 ] && grep -q \"unknown speaker 'nobody' (this model has: alto, tenor, soprano, bass)\" $tmp/e && [ ! -e $tmp/x.wav ]"
"$bin" convert "$ex" -o "$ex" --model "$model" >"$tmp/o" 2>"$tmp/e"
check "refuses to overwrite the input" "[ $? -eq 2 ] && grep -q 'would overwrite the input' $tmp/e && cmp -s $ex $root/examples/example-sung.wav"
"$bin" convert "$ex" -o "$tmp/x.mp3" --model "$model" >"$tmp/o" 2>"$tmp/e"
check "unsupported output format" "[ $? -eq 2 ] && grep -q \"cannot write '.mp3'\" $tmp/e"
"$bin" convert "$ex" -o "$tmp/x.wav" --model "$tmp/no-model" >"$tmp/o" 2>"$tmp/e"
check "missing model package" "[ $? -eq 1 ] && grep -q 'no-model/model.yaml' $tmp/e && [ ! -e $tmp/x.wav ]"
"$bin" convert "$tmp/none.wav" -o "$tmp/x.wav" --model "$model" >"$tmp/o" 2>"$tmp/e"
check "missing input" "[ $? -eq 1 ] && grep -q 'none.wav' $tmp/e && [ ! -e $tmp/x.wav ]"
"$bin" convert "$ex" -o "$tmp/x.wav" --model "$model" --pitch-shift 99 >"$tmp/o" 2>"$tmp/e"
check "pitch shift out of range" "[ $? -eq 2 ]"
$py -c "import numpy as np, sys; np.save(sys.argv[1], np.load(sys.argv[2])[1]); np.save(sys.argv[3], np.zeros((2, 256), np.float32))" "$tmp/tenor.npy" "$model/speakers.npy" "$tmp/bad_emb.npy"
"$bin" convert "$ex" -o "$tmp/g.wav" --model "$model" --speaker "$tmp/tenor.npy" --seed 7 >/dev/null 2>&1
check "speaker embedding file = named speaker" "cmp -s $tmp/a.wav $tmp/g.wav"
"$bin" convert "$ex" -o "$tmp/x.wav" --model "$model" --speaker "$tmp/bad_emb.npy" >"$tmp/o" 2>"$tmp/e"
check "embedding of the wrong size" "[ $? -eq 1 ] && grep -q 'must be float32 \[256\] or \[1, 256\]' $tmp/e && [ ! -e $tmp/x.wav ]"
printf 'time,f0\n0.0,220\n' >"$tmp/f0.csv"
"$bin" convert "$ex" -o "$tmp/f.wav" --model "$model" --f0 "$tmp/f0.csv" >/dev/null 2>&1
check "supplied F0 contour" "[ -s $tmp/f.wav ]"
printf 'time,f0\n0.0,abc\n' >"$tmp/bad.csv"
"$bin" convert "$ex" -o "$tmp/x.wav" --model "$model" --f0 "$tmp/bad.csv" >"$tmp/o" 2>"$tmp/e"
check "malformed F0 file" "[ $? -eq 1 ] && grep -q 'bad.csv:2' $tmp/e && [ ! -e $tmp/x.wav ]"

# f0: the bundled example's notes (examples/example-sung.notes.csv) are found
"$bin" f0 "$ex" -o "$tmp/ex_f0.csv" >/dev/null 2>&1
check "f0 writes a csv" "[ -s $tmp/ex_f0.csv ] && head -1 $tmp/ex_f0.csv | grep -q '^time,f0,voiced,confidence$'"
$py - "$tmp/ex_f0.csv" "$root/examples/example-sung.notes.csv" <<'PY' && echo "ok   f0 follows the example's notes" || { echo "FAIL f0 follows the example's notes"; fails=$((fails + 1)); }
import csv, sys, math
f0 = [(float(r["time"]), float(r["f0"]), int(r["voiced"])) for r in csv.DictReader(open(sys.argv[1]))]
notes = list(csv.DictReader(open(sys.argv[2])))
hit = total = 0
for n in notes:
    if not n.get("freq_hz"):
        continue
    lo, hi, hz = float(n["vowel_onset_s"]), float(n["onset_s"]) + float(n["duration_s"]), float(n["freq_hz"])
    for t, f, v in f0:
        if lo + 0.05 <= t <= hi - 0.05:
            total += 1
            hit += v and f > 0 and abs(1200 * math.log2(f / hz)) <= 50
print(f"f0 on the example: {hit} of {total} vowel frames within 50 cents")
assert total > 200 and hit / total >= 0.95
PY
echo "test_convert: $fails failure(s)"
[ $fails -eq 0 ]
