#!/usr/bin/env bash
# Smoke test of the demo path: what `make demo` runs, from the repository root, must succeed,
# report each step, and write nothing.
# usage: demo_smoke.sh AUTOVOICE_BINARY REPO_ROOT
set -u
bin=$1 root=$2
cd "$root" || exit 1
before=$(find examples models -type f -printf '%p %s %T@\n' 2>/dev/null | sort)
out=$("$bin" demo 2>&1)
rc=$?
after=$(find examples models -type f -printf '%p %s %T@\n' 2>/dev/null | sort)
echo "$out"
fail() { echo "demo_smoke: FAIL: $*"; exit 1; }
[ $rc -eq 0 ] || fail "exit code $rc"
grep -q '\[done\]    read input: ' <<<"$out" || fail "input step not reported"
grep -q 'model package' <<<"$out" || fail "model step not reported"
grep -q 'nothing was written' <<<"$out" || fail "does not say that nothing was written"
[ "$before" = "$after" ] || fail "files under examples/ or models/ changed"
echo "demo_smoke: ok"
