#!/usr/bin/env bash
# `autovoice convert` and `autovoice f0` end to end, with the fixture model package (random
# weights: the output is not singing, but every step of the path runs) and the bundled example.
# usage: test_convert.sh AUTOVOICE_BINARY REPO_ROOT MODEL_DIR SCRATCH_DIR
set -u
bin=$1 root=$2 model=$3 tmp=$4
py=/usr/bin/python3
mkdir -p "$tmp"
rm -rf "$tmp"/*.wav "$tmp"/*.csv "$tmp"/*.flac "$tmp"/batch
fails=0
ex=$root/examples/example-sung.wav
check() { if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; }

"$bin" convert "$ex" -o "$tmp/a.wav" --model "$model" --speaker tenor --seed 7 >"$tmp/out.txt" 2>&1
check "convert succeeds with a one-line summary" "[ $? -eq 0 ] && [ \$(wc -l <$tmp/out.txt) -eq 1 ] && grep -q \"$ex -> $tmp/a.wav: 7.03 s of audio in .* s (real-time factor .*), speaker tenor, pitch shift +0\" $tmp/out.txt"
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
cp "$tmp/c.wav" "$tmp/c.keep"
"$bin" convert "$ex" -o "$tmp/c.wav" --model "$model" --seed 7 >"$tmp/o" 2>"$tmp/e"
check "refuses to replace an output without --force" "[ $? -eq 2 ] && grep -q 'c.wav: exists; use --force' $tmp/e && cmp -s $tmp/c.wav $tmp/c.keep"
"$bin" convert "$ex" -o "$tmp/c.wav" --model "$model" --speaker tenor --seed 7 --force --quiet >"$tmp/o" 2>"$tmp/e"
check "--force replaces it; --quiet prints nothing" "[ $? -eq 0 ] && cmp -s $tmp/c.wav $tmp/a.wav && [ ! -s $tmp/o ] && [ ! -s $tmp/e ]"
"$bin" convert "$ex" -o "$tmp/whole.wav" --model "$model" --speaker tenor --seed 7 --chunk 0 >/dev/null 2>&1
check "a 7 s input is one chunk: --chunk 0 gives the same samples" "cmp -s $tmp/whole.wav $tmp/a.wav"
"$bin" convert "$ex" -o "$tmp/x.wav" --model "$model" --chunk 0.5 >"$tmp/o" 2>"$tmp/e"
check "chunk length out of range" "[ $? -eq 2 ] && grep -q \"option '--chunk'\" $tmp/e"
"$bin" convert --help >"$tmp/o" 2>"$tmp/e"
check "--help prints usage, options and examples" "[ $? -eq 0 ] && grep -q '^usage: autovoice convert IN' $tmp/o && grep -q '^examples:' $tmp/o && grep -q '^exit status:' $tmp/o"

# the progress bar: on a terminal only (script(1) provides one), never in a pipe
if command -v script >/dev/null 2>&1; then
  script -qec "$bin convert $ex -o $tmp/tty.wav --model $model --force" /dev/null >"$tmp/tty.txt" 2>&1
  check "progress bar with percentage and ETA on a terminal" "grep -q '100%' $tmp/tty.txt && grep -q 'ETA' $tmp/tty.txt"
  "$bin" convert "$ex" -o "$tmp/tty.wav" --model "$model" --force >"$tmp/o" 2>"$tmp/e"
  check "no progress bar when stderr is not a terminal" "[ ! -s $tmp/e ]"
fi

# several inputs into a directory, the model loaded once; names from the inputs
mkdir -p "$tmp/batch"
cp "$ex" "$tmp/one.wav"
sox "$ex" "$tmp/two.flac" 2>/dev/null || cp "$ex" "$tmp/two.wav"
two=$(ls "$tmp"/two.* | head -1)
"$bin" convert "$tmp/one.wav" "$two" -o "$tmp/batch" --model "$model" --format flac --bits 16 >"$tmp/o" 2>"$tmp/e"
check "several inputs -> a directory" "[ $? -eq 0 ] && [ -s $tmp/batch/one.flac ] && [ -s $tmp/batch/two.flac ] && [ \$(wc -l <$tmp/o) -eq 2 ]"
"$bin" convert "$tmp/one.wav" "$two" -o "$tmp/none-such-dir" --model "$model" >"$tmp/o" 2>"$tmp/e"
check "several inputs need an existing directory" "[ $? -eq 2 ] && grep -q 'must be an existing directory' $tmp/e"
"$bin" convert "$tmp/one.wav" "$tmp/none.wav" -o "$tmp/batch" --model "$model" --force >"$tmp/o" 2>"$tmp/e"
check "one bad input: exit 1, the others still converted" "[ $? -eq 1 ] && grep -q 'none.wav' $tmp/e && [ -s $tmp/batch/one.wav ] && [ ! -e $tmp/batch/none.wav ]"
"$bin" convert "$tmp/one.wav" "$tmp/batch/one.wav" -o "$tmp/batch" --model "$model" --force >"$tmp/o" 2>"$tmp/e"
check "an output that is also an input is refused" "[ $? -eq 2 ] && grep -q 'would overwrite the input' $tmp/e"
"$bin" convert "$ex" -o "$tmp/x.wav" --model "$model" --format flac >"$tmp/o" 2>"$tmp/e"
check "--format must agree with the file's extension" "[ $? -eq 2 ] && grep -q 'does not match' $tmp/e"
"$bin" convert "$ex" -o "$tmp/x.flac" --model "$model" --bits float >"$tmp/o" 2>"$tmp/e"
check "float samples need WAV" "[ $? -eq 2 ] && grep -q 'needs WAV' $tmp/e"
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

# plans: a package with built plans converts to the same samples; shapes outside a plan's
# profiles fall back to the component's ONNX file
rm -rf "$tmp/planned" && mkdir -p "$tmp/planned"
for f in "$model"/*; do ln -s "$f" "$tmp/planned/"; done
"$bin" build --package "$tmp/planned" >"$tmp/o" 2>"$tmp/e"
check "build --package" "[ $? -eq 0 ] && [ -s $tmp/planned/vocoder.plan ]"
"$bin" convert "$ex" -o "$tmp/planned.wav" --model "$tmp/planned" --speaker tenor --seed 7 --quiet
check "plans give the ONNX package's samples" "cmp -s $tmp/planned.wav $tmp/a.wav"
"$bin" build "$model/vocoder.onnx" -o "$tmp/planned/vocoder.plan" --shape mel_input:1x80x1/1x80x100/1x80x200 >/dev/null 2>&1
"$bin" convert "$ex" -o "$tmp/fallback.wav" --model "$tmp/planned" --speaker tenor --seed 7 --quiet 2>"$tmp/e"
check "a chunk outside a plan's profile runs the ONNX file" "[ $? -eq 0 ] && cmp -s $tmp/fallback.wav $tmp/a.wav"

# a package without a vocoder: Griffin-Lim on the decoder mel
rm -rf "$tmp/novoc" && mkdir -p "$tmp/novoc"
for f in "$model"/*; do ln -s "$f" "$tmp/novoc/"; done
rm "$tmp/novoc/model.yaml" "$tmp/novoc/vocoder.onnx"
grep -v '^  vocoder: ' "$model/model.yaml" >"$tmp/novoc/model.yaml"
"$bin" convert "$ex" -o "$tmp/gl.wav" --model "$tmp/novoc" --seed 7 --stats >"$tmp/o" 2>"$tmp/e"
check "no vocoder: Griffin-Lim converts" "[ $? -eq 0 ] && grep -q 'Griffin-Lim' $tmp/o"
"$bin" convert "$ex" -o "$tmp/gl2.wav" --model "$tmp/novoc" --seed 7 --quiet
check "Griffin-Lim output is deterministic" "cmp -s $tmp/gl.wav $tmp/gl2.wav"
$py - "$tmp/gl.wav" "$ex" <<'PY' && echo "ok   Griffin-Lim output length and level" || { echo "FAIL Griffin-Lim output length and level"; fails=$((fails + 1)); }
import sys, wave, numpy as np
def read(p):
    with wave.open(p) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16) / 32768.0, w.getframerate()
y, r = read(sys.argv[1]); x, rx = read(sys.argv[2])
assert r == 44100 and abs(len(y) - round(len(x) * 44100 / rx)) <= 1, (r, len(y))
assert np.isfinite(y).all() and y.std() > 1e-4, y.std()
PY

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
