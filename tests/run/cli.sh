#!/usr/bin/env bash
# `accl run` and `accl bench` on the command line: exit codes and messages
# of usage errors, PASS on examples (interpreter and compiled kernel), and
# bench's report. (That the check catches wrong outputs is tested on the
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
# A GPU target runs on this machine's GPU; here there is none (the runtime's reason, exit 1).
expect 1 "accl: error: no GPU to run on: no GPU driver" $mm --kernel matmul --size M=2,N=2,K=2 --target=nvidia:sm_80
expect 1 "(libamdhip64.so not found" $mm --kernel matmul --size M=2,N=2,K=2 --target=amd:gfx942
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
expect 2 "--arg best: 'best' is an 'out' scalar, a result of kernel 'argmax'" examples/argmax.acc --interpret --kernel argmax --size N=3 --arg best=1
expect 0 "best: 1 compared, 0 failed; worst best: got 2 ref 2 (exact)" examples/argmax.acc --interpret --kernel argmax --size N=3 --input X=1,2,5
expect 0 "best ref=2 got=2" examples/argmax.acc --kernel argmax --size N=3 --input X=1,2,5 --print
expect 2 "--input A: expected 4 values, got 3" $mm --interpret --kernel matmul --size M=2,N=2,K=2 --input A=1,2,3
expect 2 "--input C: an out tensor has no contents on entry" $mm --interpret --kernel matmul --size M=1,N=1,K=1 --input C=1
expect 2 "'Z' is not a tensor parameter of kernel 'matmul'" $mm --interpret --kernel matmul --size M=1,N=1,K=1 --input Z=1
expect 2 "--seed expects an integer, got 'x'" $mm --interpret --seed x
expect 1 "cannot open 'missing.acc'" missing.acc --interpret --kernel k
expect 0 "PASS" $mm --interpret --kernel matmul --size M=77,N=33,K=65 --seed 3
expect 0 "PASS" $mm --interpret --kernel matmul --size M=1,N=1,K=1
expect 0 "PASS" examples/softmax.acc --interpret --kernel softmax --size R=3,N=257 --target=nvidia:sm_80
expect 0 "PASS" examples/layernorm.acc --interpret --kernel layernorm --size R=4,N=33 --arg eps=1e-5

# The compiled kernel (the default executor).
expect 0 "PASS" $mm --kernel matmul --size M=77,N=33,K=65 --seed 3
expect 0 "PASS" $mm --kernel matmul --size M=1,N=1,K=1
expect 0 "PASS" $mm --kernel matmul --size M=0,N=5,K=3
expect 0 "PASS" examples/layernorm.acc --kernel layernorm --size R=4,N=33 --arg eps=1e-5
expect 0 "ref=" $mm --kernel matmul --size M=2,N=2,K=2 --print
# A violated assume: the compiled kernel's entry returns ACCL_ERR_ASSUME.
cat >"$tmp/scale.acc" <<'ACC'
kernel scale(X: f32[N], Y: out f32[N]) {
    for i in 0..N { Y[i] = X[i] * 2.0; }
}
schedule scale for cpu {
    assume N % 8 == 0;
    split i by 8 -> io, ii;
    vectorize ii;
}
ACC
expect 0 "PASS" "$tmp/scale.acc" --kernel scale --size N=24
expect 1 "the compiled kernel failed: an assumption of the schedule does not hold for these sizes (code 2)" \
    "$tmp/scale.acc" --kernel scale --size N=12

# accl bench: usage errors, then a report.
bench() {
    local want_rc=$1 text=$2
    shift 2
    local rc=0
    "$accl" bench "$@" >"$tmp/out" 2>&1 </dev/null || rc=$?
    if [ "$rc" -ne "$want_rc" ] || ! grep -qF -- "$text" "$tmp/out"; then
        echo "FAIL accl bench $*: exit $rc (want $want_rc), want text '$text'"
        sed 's/^/    /' "$tmp/out" | head -10
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}
bench 0 "usage: accl bench" --help
bench 2 "--interpret is not an option of accl bench" $mm --kernel matmul --size M=2,N=2,K=2 --interpret
bench 2 "(run 'accl bench --help' for the options)" $mm --kernel matmul --size M=2,N=2,K=2 --print
bench 1 "accl: error: no GPU to run on: no GPU driver" $mm --kernel matmul --size M=2,N=2,K=2 --target=nvidia:sm_80
bench 2 "--threads expects an integer from 1 to 1000000, got '0'" $mm --kernel matmul --size M=2,N=2,K=2 --threads 0
bench 2 "--runs expects an integer from 1 to 1000000, got 'x'" $mm --kernel matmul --size M=2,N=2,K=2 --runs x
bench 2 "kernel 'matmul' needs --size for: K, N" $mm --kernel matmul --size M=3
bench 0 "runs: 5, inputs rotated over 4 copies" $mm --kernel matmul --size M=64,N=64,K=64 --runs 5
# 2 * 64^3 flops (a multiply and an add per update) per run.
bench 0 "; 0.000524288 GFLOP per run" $mm --kernel matmul --size M=64,N=64,K=64 --runs 3
bench 0 "threads: 1" $mm --kernel matmul --size M=64,N=64,K=64 --runs 3 --threads 1
# No reduction: GB/s, every tensor once (two 4-byte 100x100 tensors).
bench 0 "GB/s: " examples/transpose.acc --kernel transpose --size M=100,N=100 --runs 3
bench 0 "; 0.08 MB per run" examples/transpose.acc --kernel transpose --size M=100,N=100 --runs 3

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
