#!/usr/bin/env bash
# `accl --check` on the command line: what it may be combined with, and that a
# --dump stops the printing, not the checks. (That --check and a compile report
# the same first error is checked for every golden .err by tests/golden/run.sh.)
#
#   usage: bash tests/check.sh ACCL
#
# Each case runs accl and checks the exit code, a piece of text expected on
# stderr and, where given, one on stdout. Ends with `N passed, N failed`.
set -u
source "$(dirname "$0")/prelude.sh"

# holds FILE TEXT: FILE holds TEXT, or is empty when TEXT is.
holds() {
    if [ -z "$2" ]; then [ ! -s "$1" ]; else grep -qF -- "$2" "$1"; fi
}

# expect RC ERR OUT ARGS...: accl ARGS exits RC and prints ERR on stderr and OUT
# on stdout (an empty one: nothing).
expect() {
    local want_rc=$1 err=$2 out=$3
    shift 3
    local rc=0
    "$accl" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
    if [ "$rc" -ne "$want_rc" ] || ! holds "$tmp/err" "$err" || ! holds "$tmp/out" "$out"; then
        echo "FAIL accl $*: exit $rc (want $want_rc), stderr: '$err', stdout: '$out' (empty: nothing)"
        sed 's/^/    err: /' "$tmp/err" | head -5
        sed 's/^/    out: /' "$tmp/out" | head -5
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}

mm=examples/matmul.acc
# --check writes nothing.
expect 2 "accl: error: --emit=ir cannot be combined with --check" "" --check --emit=ir $mm
expect 2 "accl: error: --emit=tokens cannot be combined with --check" "" --check --emit=tokens $mm
expect 2 "accl: error: -o cannot be combined with --check" "" --check -o "$tmp/x.o" $mm
[ ! -e "$tmp/x.o" ] || { echo "FAIL --check -o wrote $tmp/x.o"; fail=$((fail + 1)); }
expect 2 "accl: error: --header cannot be combined with --check" "" --check --header "$tmp/x.h" $mm
expect 2 "accl: error: --emit=obj needs a CPU target and no --check" "" --check --emit=obj $mm
# Silence and 0 for a good file, on every kind of target.
expect 0 "" "" --check $mm
expect 0 "" "" --check --target=nvidia:sm_80 $mm
expect 0 "" "" --check --target=amd:gfx942 examples/hmatmul.acc
# The pass list's checks (an error of fuse-nests) without --target: the host cpu.
expect 1 "lower/fuse_err_holes.acc:" "" --check tests/golden/lower/fuse_err_holes.acc
# A GPU target's checks need the GPU execution form: the shared memory limit.
expect 1 "over the limit of 166912 bytes on nvidia:sm_80" "" \
    --check --target=nvidia:sm_80 tests/golden/spmd/err_shared_limit.acc
# With a dump, the dump stops after its pass; the checks go on past it.
expect 1 "over the limit of 166912 bytes on nvidia:sm_80" "-- after caches:" \
    --check --target=nvidia:sm_80 --dump=after:caches tests/golden/spmd/err_shared_limit.acc
# The same without --check prints the dump and stops there, as it always did.
expect 0 "" "-- after caches:" \
    --target=nvidia:sm_80 --dump=after:caches tests/golden/spmd/err_shared_limit.acc

summary
