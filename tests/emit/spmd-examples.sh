#!/usr/bin/env bash
# Every example for every GPU target through the spmd step (the GPU execution
# form), which the verifier checks (debug builds): each must succeed, print one
# `launch` line per launch and leave no bound loop inside a launch's thread loop
# other than the launch's own.
#
#   usage: bash tests/emit/spmd-examples.sh ACCL
#
# Ends with `N passed, N failed`; exits 1 on any failure.
set -u
if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: $0 ACCL" >&2
    exit 2
fi
accl=$1
cd "$(dirname "$0")/../.." || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
targets="nvidia:sm_80 nvidia:sm_86 nvidia:sm_89 nvidia:sm_90 nvidia:sm_90a amd:gfx90a amd:gfx942 amd:gfx1100"
pass=0
fail=0
for f in examples/*.acc; do
    for t in $targets; do
        if ! "$accl" "$f" --target="$t" --dump=after:spmd >"$tmp/out" 2>"$tmp/err"; then
            echo "FAIL $f $t: exit status $?"
            sed 's/^/    /' "$tmp/err" | head -10
            fail=$((fail + 1))
            continue
        fi
        kernels=$(grep -c '^func ' "$tmp/out")
        launches=$(grep -c '^  launch ' "$tmp/out")
        tids=$(grep -c 'for tid in \[0, +[0-9]*) bound thread.x {' "$tmp/out")
        bound=$(grep -c 'bound \(warp\|thread\)' "$tmp/out")
        if [ "$kernels" -lt 1 ] || [ "$launches" -lt 1 ] || [ "$tids" -ne "$launches" ] ||
            [ "$bound" -ne "$tids" ] || [ -s "$tmp/err" ]; then
            echo "FAIL $f $t: $kernels kernels, $launches launches, $tids thread loops, $bound bound to warps or threads"
            fail=$((fail + 1))
            continue
        fi
        pass=$((pass + 1))
    done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
