#!/usr/bin/env bash
# `accl run` on the command line: exit codes and messages of usage errors,
# and PASS on examples. (That the check catches wrong outputs is tested on the
# API, in tests/unit/test_reference.c.)
#
#   usage: bash tests/run/cli.sh ACCL
#
# Each case runs accl run with some arguments and checks the exit code and a
# piece of text expected on stdout or stderr. Ends with `N passed, N failed`.
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 ACCL" >&2
    exit 2
fi
accl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
cd "$(dirname "$0")/../.." || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

# expect RC TEXT ARGS...: accl run ARGS exits RC and prints TEXT (stdout or stderr).
expect() {
    local want_rc=$1 text=$2
    shift 2
    local rc=0
    "$accl" run "$@" >"$tmp/out" 2>&1 </dev/null || rc=$?
    if [ "$rc" -ne "$want_rc" ] || ! grep -qF -- "$text" "$tmp/out"; then
        echo "FAIL accl run $*: exit $rc (want $want_rc), want text '$text'"
        sed 's/^/    /' "$tmp/out" | head -10
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}

mm=examples/matmul.acc
expect 0 "usage: accl run" --help
expect 2 "only --interpret is available until the CPU backend (issue 5) lands" $mm --kernel matmul --size M=2,N=2,K=2
expect 2 "no input file" --interpret
expect 2 "unknown option '--bogus'" $mm --bogus
expect 2 "--kernel is required; the kernels in 'examples/matmul.acc' are: matmul" $mm --interpret --size M=1
expect 2 "unknown kernel 'mm'; the kernels in 'examples/matmul.acc' are: matmul" $mm --interpret --kernel mm
expect 2 "kernel 'matmul' needs --size for: K, N" $mm --interpret --kernel matmul --size M=3
expect 2 "kernel 'matmul' has no size 'Q'" $mm --interpret --kernel matmul --size M=3,Q=1
expect 2 "--size expects NAME=INTEGER" $mm --interpret --kernel matmul --size M=three
expect 2 "size M=-1 is negative" $mm --interpret --kernel matmul --size M=-1,N=1,K=1
expect 2 "dimension 3 of 'Y' is -1, which is negative" examples/conv2d.acc --interpret --kernel conv2d --size N=1,C=1,H=4,W=2,K=1,R=1,S=4
expect 2 "scalar parameter 'eps' needs --arg eps=VALUE" examples/layernorm.acc --interpret --kernel layernorm --size R=2,N=3
expect 2 "--arg eps: 'tiny' is not a valid f32" examples/layernorm.acc --interpret --kernel layernorm --size R=2,N=3 --arg eps=tiny
expect 2 "'X' is not a scalar parameter of kernel 'layernorm'" examples/layernorm.acc --interpret --kernel layernorm --size R=2,N=3 --arg X=1
expect 2 "--input A: expected 4 values, got 3" $mm --interpret --kernel matmul --size M=2,N=2,K=2 --input A=1,2,3
expect 2 "--input C: an out tensor has no contents on entry" $mm --interpret --kernel matmul --size M=1,N=1,K=1 --input C=1
expect 2 "'Z' is not a tensor parameter of kernel 'matmul'" $mm --interpret --kernel matmul --size M=1,N=1,K=1 --input Z=1
expect 2 "--seed expects an integer, got 'x'" $mm --interpret --seed x
expect 1 "cannot open 'missing.acc'" missing.acc --interpret --kernel k
expect 0 "PASS" $mm --interpret --kernel matmul --size M=77,N=33,K=65 --seed 3
expect 0 "PASS" $mm --interpret --kernel matmul --size M=1,N=1,K=1
expect 0 "PASS" examples/softmax.acc --interpret --kernel softmax --size R=3,N=257 --target=nvidia:sm_80
expect 0 "PASS" examples/layernorm.acc --interpret --kernel layernorm --size R=4,N=33 --arg eps=1e-5

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
