#!/usr/bin/env bash
# CLI contract tests: stdout, stderr and exit code of the autovoice command.
# usage: test_cli.sh AUTOVOICE_BINARY REPO_ROOT SCRATCH_DIR
set -u
bin=$1 root=$2 tmp=$3
mkdir -p "$tmp"
fails=0
out="$tmp/stdout" err="$tmp/stderr"

# expect NAME WANT_EXIT STDOUT_REGEX STDERR_REGEX -- ARGS...
expect() {
  local name=$1 want=$2 out_re=$3 err_re=$4
  shift 5
  "$bin" "$@" >"$out" 2>"$err"
  local got=$?
  local ok=1
  [ "$got" -eq "$want" ] || ok=0
  [ -z "$out_re" ] || grep -Eq -- "$out_re" "$out" || ok=0
  [ -z "$err_re" ] || grep -Eq -- "$err_re" "$err" || ok=0
  if [ "$want" -ne 0 ] && [ -s "$out" ] && [ -z "$out_re" ]; then ok=0; fi  # errors go to stderr only
  if [ $ok -eq 1 ]; then
    echo "ok   $name"
  else
    echo "FAIL $name: exit $got (want $want)"
    echo "  stdout: $(head -c 600 "$out")"
    echo "  stderr: $(head -c 600 "$err")"
    fails=$((fails + 1))
  fi
}

expect "help"              0 '^usage: autovoice <command>' ''   -- --help
expect "help -h"           0 '^usage: autovoice'           ''   -- -h
expect "no arguments"      2 ''                            '^usage: autovoice' --
for c in info demo inspect run convert f0; do
  expect "$c --help"        0 "^usage: autovoice $c" '' -- $c --help
  "$bin" $c --help | grep -q '^examples*:' || { echo "FAIL $c --help has no example"; fails=$((fails + 1)); }
done
expect "version"           0 '^autovoice [0-9]+\.[0-9]+\.[0-9]+$' '' -- --version
expect "version build info" 0 '^backends: cpu'             ''   -- -V
expect "unknown command"   2 ''  "unknown command 'frobnicate'"  -- frobnicate
expect "build missing model" 1 '' 'x\.onnx: '                   -- build x.onnx
expect "info example"      0 'example-sung.wav: .*Hz, 1 channel, [0-9]+ samples' '' -- info "$root/examples/example-sung.wav"
expect "info missing file" 1 ''  'nope\.wav: No such file or directory' -- info "$tmp/nope.wav"
printf 'this is not audio\n' >"$tmp/text.wav"
expect "info not audio"    1 ''  'text\.wav: not a readable audio file' -- info "$tmp/text.wav"
expect "info directory"    1 ''  'is a directory'          -- info "$tmp"
sox -n -r 22050 -c 1 -b 16 "$tmp/empty.wav" trim 0 0 2>/dev/null
expect "info empty audio"  1 ''  'empty\.wav: contains no audio' -- info "$tmp/empty.wav"
sox -n -r 4000 -c 1 -b 16 "$tmp/lowrate.wav" synth 0.1 sine 300 2>/dev/null
expect "info rate too low" 1 ''  'lowrate\.wav: sample rate 4000 Hz is outside' -- info "$tmp/lowrate.wav"
expect "info no file arg"  2 ''  'expected exactly one FILE' -- info
expect "demo bad option"   2 ''  "unknown or incomplete option '--frob'" -- demo --frob
expect "demo missing input" 1 '' 'missing\.wav: No such file' -- demo --input "$tmp/missing.wav"

# ---- inspect / run on an official ONNX test model (Debian's libonnx-testdata) ------------------
add=/usr/share/libonnx-testdata/data/node/test_add/model.onnx
if [ -f "$add" ]; then
  /usr/bin/python3 - "$tmp" <<'PY'
import sys, numpy as np
d = sys.argv[1]
r = np.random.RandomState(1)
np.save(f"{d}/x.npy", r.standard_normal((3, 4, 5)).astype(np.float32))
np.save(f"{d}/y.npy", r.standard_normal((3, 4, 5)).astype(np.float32))
np.save(f"{d}/y_bad.npy", r.standard_normal((3, 4, 6)).astype(np.float32))
PY
  mkdir -p "$tmp/out"
  expect "inspect model"     0 'x +float32 +\[3, 4, 5\]' '' -- inspect "$add"
  expect "inspect plan"      0 'arena .*without reuse' '' -- inspect "$add"
  expect "inspect missing"   1 ''  'nope\.onnx' -- inspect "$tmp/nope.onnx"
  expect "inspect not onnx"  1 ''  'text\.wav' -- inspect "$tmp/text.wav"
  expect "run add"           0 'run median .* ms' '' -- run "$add" --input x="$tmp/x.npy" --input y="$tmp/y.npy" --output-dir "$tmp/out" --threads 2 --repeat 3
  if /usr/bin/python3 -c "
import numpy as np, sys
d = sys.argv[1]
z = np.load(f'{d}/out/sum.npy')
assert np.array_equal(z, np.load(f'{d}/x.npy') + np.load(f'{d}/y.npy'))" "$tmp" 2>/dev/null; then
    echo "ok   run add output"
  else
    echo "FAIL run add output: $tmp/out/sum.npy missing or not x + y"; fails=$((fails + 1))
  fi
  expect "run wrong shape"   1 ''  'dimension 2 must be 5, got 6' -- run "$add" --input x="$tmp/x.npy" --input y="$tmp/y_bad.npy" --output-dir "$tmp/out"
  expect "run missing input" 1 ''  "'y' was not set" -- run "$add" --input x="$tmp/x.npy" --output-dir "$tmp/out"
  expect "run unknown input" 1 ''  "no input named 'q'" -- run "$add" --input q="$tmp/x.npy" --output-dir "$tmp/out"
  expect "run bad npy"       1 ''  'text\.wav' -- run "$add" --input x="$tmp/text.wav" --output-dir "$tmp/out"
  expect "run bad spec"      2 ''  "bad --input" -- run "$add" --input x
  expect "run bad outdir"    1 ''  'not a directory' -- run "$add" --input x="$tmp/x.npy" --output-dir "$tmp/x.npy"
else
  echo "skip inspect/run tests: $add not installed (libonnx-testdata)"
fi

echo "test_cli: $fails failure(s)"
[ $fails -eq 0 ]
