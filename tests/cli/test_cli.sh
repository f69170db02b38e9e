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
expect "version"           0 '^autovoice [0-9]+\.[0-9]+\.[0-9]+$' '' -- --version
expect "version build info" 0 '^backends: cpu'             ''   -- -V
expect "unknown command"   2 ''  "unknown command 'frobnicate'"  -- frobnicate
expect "planned command"   2 ''  "'convert' is not available"     -- convert x.wav
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

echo "test_cli: $fails failure(s)"
[ $fails -eq 0 ]
