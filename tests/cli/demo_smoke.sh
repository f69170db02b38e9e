#!/usr/bin/env bash
# Smoke test of the demo path: what `make demo` runs, from the repository root, must succeed,
# report each step, convert with a model package when there is one, and write nothing but its
# output (never under examples/ or models/).
# usage: demo_smoke.sh AUTOVOICE_BINARY REPO_ROOT MODEL_DIR SCRATCH_DIR
set -u
bin=$1 root=$2 model=$3 tmp=$4
cd "$root" || exit 1
mkdir -p "$tmp"
rm -f "$tmp/demo.wav"
fail() { echo "demo_smoke: FAIL: $*"; exit 1; }
before=$(find examples models -type f -printf '%p %s %T@\n' 2>/dev/null | sort)

# no model package: says so, and writes nothing
out=$("$bin" demo --model "$tmp/no-such-model" --output "$tmp/demo.wav" 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "exit code $rc without a model"
grep -q '\[done\]    read input: ' <<<"$out" || fail "input step not reported"
grep -q '\[missing\] model package' <<<"$out" || fail "missing model not reported"
grep -q 'nothing was written' <<<"$out" || fail "does not say that nothing was written"
[ ! -e "$tmp/demo.wav" ] || fail "wrote an output without a model"

# with the fixture package: the whole path, and where the output is
out=$("$bin" demo --model "$model" --output "$tmp/demo.wav" 2>&1)
rc=$?
echo "$out"
[ $rc -eq 0 ] || fail "exit code $rc with the fixture model"
grep -q '\[done\]    F0 (pYIN): ' <<<"$out" || fail "F0 step not reported"
grep -q '\[done\]    converted to speaker' <<<"$out" || fail "conversion not reported"
grep -q "listen to $tmp/demo.wav" <<<"$out" || fail "does not say where the output is"
[ -s "$tmp/demo.wav" ] || fail "no output file"

after=$(find examples models -type f -printf '%p %s %T@\n' 2>/dev/null | sort)
[ "$before" = "$after" ] || fail "files under examples/ or models/ changed"
echo "demo_smoke: ok"
