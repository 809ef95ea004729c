#!/usr/bin/env bash
# `accl run` and `accl bench` on the command line: exit codes and messages
# of usage errors, PASS on examples (interpreter and compiled kernel), and
# bench's report, and that the check catches one wrong element of an f16 or
# bf16 output (ACCL_RUN_MUTATE, lang/SPEC.md accl run; more mutations on the
# API, in tests/unit/test_reference.c).
#
#   usage: bash tests/run/cli.sh ACCL
#
# Each case runs accl run with some arguments and checks the exit code and a
# piece of text expected on stdout or stderr. Ends with `N passed, N failed`.
set -u
source "$(dirname "$0")/../prelude.sh"

# command_prints CMD RC TEXT ARGS...: accl CMD ARGS exits RC and prints TEXT (stdout or stderr).
command_prints() {
    local cmd=$1 want_rc=$2 text=$3
    shift 3
    local rc=0
    "$accl" "$cmd" "$@" >"$tmp/out" 2>&1 </dev/null || rc=$?
    if [ "$rc" -ne "$want_rc" ] || ! grep -qF -- "$text" "$tmp/out"; then
        echo "FAIL accl $cmd $*: exit $rc (want $want_rc), want text '$text'"
        sed 's/^/    /' "$tmp/out" | head -10
        fail=$((fail + 1))
    else
        pass=$((pass + 1))
    fi
}
# expect RC TEXT ARGS...: the same for accl run; bench RC TEXT ARGS...: for accl bench.
expect() { command_prints run "$@"; }
bench() { command_prints bench "$@"; }

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

# Mutations: one wrong element of an f16/bf16 output converted from an f32 sum
# of K = 131 products FAILs. With every input 0.5 each element is 32.75, and its
# bound is the f32 sum's error plus one rounding to the output type (f16: 0.0322,
# just above the 1/32 ulp there; it was 2.19 when every rounding counted at
# f16's precision): one ulp passes, two fail. A swapped element fails too.
cat >"$tmp/mm16.acc" <<'ACC'
kernel mmh(A: f16[M, K], B: f16[K, N], D: out f16[M, N]) {
    var C: f32[M, N];
    init:   for i in 0..M, j in 0..N { C[i, j] = 0.0; }
    update: for i in 0..M, j in 0..N, k in 0..K { C[i, j] += f32(A[i, k]) * f32(B[k, j]); }
    epi:    for i in 0..M, j in 0..N { D[i, j] = f16(C[i, j]); }
}
kernel mmb(A: bf16[M, K], B: bf16[K, N], D: out bf16[M, N]) {
    var C: f32[M, N];
    init:   for i in 0..M, j in 0..N { C[i, j] = 0.0; }
    update: for i in 0..M, j in 0..N, k in 0..K { C[i, j] += f32(A[i, k]) * f32(B[k, j]); }
    epi:    for i in 0..M, j in 0..N { D[i, j] = C[i, j]; }
}
ACC
half=$(printf '0.5%.0s,' $(seq 262))
half=(--size M=2,N=2,K=131 --input "A=${half%,}" --input "B=${half%,}")
for k in mmh mmb; do
    expect 0 "PASS" "$tmp/mm16.acc" --kernel $k "${half[@]}"
    expect 0 "PASS" "$tmp/mm16.acc" --kernel $k "${half[@]}" --interpret
    ACCL_RUN_MUTATE=D,3,1 expect 0 "PASS" "$tmp/mm16.acc" --kernel $k "${half[@]}"
    ACCL_RUN_MUTATE=D,3,2 expect 1 "D: 4 compared, 1 failed; worst D[1, 1]" "$tmp/mm16.acc" --kernel $k "${half[@]}"
    ACCL_RUN_MUTATE=D,3,2 expect 1 "FAIL" "$tmp/mm16.acc" --kernel $k "${half[@]}" --interpret
    ACCL_RUN_MUTATE=D,5,swap expect 1 "D: 64 compared, 2 failed" "$tmp/mm16.acc" --kernel $k --size M=8,N=8,K=131
    ACCL_RUN_MUTATE=D,5,swap expect 1 "D: 64 compared, 2 failed" "$tmp/mm16.acc" --kernel $k --size M=8,N=8,K=131 \
        --emulate --target=nvidia:sm_80
done
ACCL_RUN_MUTATE=D,0,1 expect 0 "bound 0.0322 ratio 0.969" "$tmp/mm16.acc" --kernel mmh "${half[@]}"
ACCL_RUN_MUTATE=D,4,swap expect 1 "ACCL_RUN_MUTATE=D,4,swap: expected OUTPUT,INDEX,swap|N" "$tmp/mm16.acc" --kernel mmh "${half[@]}"
ACCL_RUN_MUTATE=A,0,1 expect 1 "ACCL_RUN_MUTATE=A,0,1: expected OUTPUT,INDEX,swap|N" "$tmp/mm16.acc" --kernel mmh "${half[@]}"
# An f16 value the two sides round to neighbouring values, through exp: the
# bound covers the whole ulp (corners, not only the derivative), so the correct
# result PASSes. An f16 store that overflows is exact infinity (a wrong element
# after min(inf, 2) FAILs).
cat >"$tmp/f16edge.acc" <<'ACC'
kernel ex(A: f32[N], B: f32[N], C: f32[N], D: f32[N], Y: out f32[N]) {
    var H: f16[N];
    h: for i in 0..N { H[i] = f16(((A[i] + B[i]) + C[i]) + D[i]); }
    y: for i in 0..N { Y[i] = exp(f32(H[i])); }
}
kernel ov(X: f32[N], Y: out f32[N]) {
    var H: f16[N];
    h: for i in 0..N { H[i] = f16(X[i] * 100000.0 + 0.5); }
    y: for i in 0..N { Y[i] = min(f32(H[i]), 2.0); }
}
ACC
edge=(--size N=1 --input A=8.00390625 --input B=4.77768480777740478515625e-07
    --input C=4.77768480777740478515625e-07 --input D=-1.429579220712184906005859375e-06)
expect 0 "PASS" "$tmp/f16edge.acc" --kernel ex "${edge[@]}"
expect 0 "PASS" "$tmp/f16edge.acc" --kernel ex "${edge[@]}" --emulate --target=nvidia:sm_80
expect 0 "PASS" "$tmp/f16edge.acc" --kernel ov --size N=2 --input X=1,2
ACCL_RUN_MUTATE=Y,0,1000000 expect 1 "FAIL" "$tmp/f16edge.acc" --kernel ov --size N=2 --input X=1,2

# accl bench: usage errors, then a report.
bench 0 "usage: accl bench" --help
bench 2 "--interpret is not an option of accl bench" $mm --kernel matmul --size M=2,N=2,K=2 --interpret
bench 2 "(run 'accl bench --help' for the options)" $mm --kernel matmul --size M=2,N=2,K=2 --print
bench 1 "accl: error: no GPU to run on: no GPU driver" $mm --kernel matmul --size M=2,N=2,K=2 --target=nvidia:sm_80
bench 2 "--threads expects an integer from 1 to 1000000, got '0'" $mm --kernel matmul --size M=2,N=2,K=2 --threads 0
bench 2 "--runs expects an integer from 1 to 1000000, got 'x'" $mm --kernel matmul --size M=2,N=2,K=2 --runs x
bench 2 "kernel 'matmul' needs --size for: K, N" $mm --kernel matmul --size M=3
bench 0 "runs: 5, inputs rotated over 4 copies" $mm --kernel matmul --size M=64,N=64,K=64 --runs 5
# 2 * 64^3 flops (a multiply and an add per update) per run, over 3 * 64^2 * 4 bytes:
# 10.7 flop/byte, compute-bound on a CPU (nominal balance 10): GFLOP/s first.
bench 0 "; 0.000524288 GFLOP per run" $mm --kernel matmul --size M=64,N=64,K=64 --runs 3
bench 0 "; 0.049152 MB per run" $mm --kernel matmul --size M=64,N=64,K=64 --runs 3
bench 0 "bound: compute, GFLOP/s (10.7 flop/byte; a CPU's nominal balance is 10)" \
    $mm --kernel matmul --size M=64,N=64,K=64 --runs 3
bench 0 "threads: 1" $mm --kernel matmul --size M=64,N=64,K=64 --runs 3 --threads 1
# No float operations: GB/s only, every tensor once (two 4-byte 100x100 tensors).
bench 0 "GB/s: " examples/transpose.acc --kernel transpose --size M=100,N=100 --runs 3
bench 0 "; 0.08 MB per run" examples/transpose.acc --kernel transpose --size M=100,N=100 --runs 3
bench 0 "bound: memory, GB/s (no float operations)" examples/transpose.acc --kernel transpose \
    --size M=100,N=100 --runs 3
# A max reduction (argmax's shape): one flop per 4 bytes is memory-bound, so GB/s comes
# first, then GFLOP/s; it used to print only GFLOP/s, for having a reduction.
cat >"$tmp/amax.acc" <<'ACC'
kernel amax(X: f32[N], M: out f32[1]) {
    init: for z in 0..1 { M[z] = -inf; }
    red:  for z in 0..1, i in 0..N { M[z] = max(M[z], X[i]); }
}
ACC
"$accl" bench "$tmp/amax.acc" --kernel amax --size N=4096 --runs 3 >"$tmp/out" 2>&1
if grep -qE '^GB/s: .*; 0.016388 MB per run$' "$tmp/out" &&
    [ "$(grep -E '^(GB/s|GFLOP/s|bound):' "$tmp/out" | cut -d: -f1 | tr '\n' ' ')" = "GB/s GFLOP/s bound " ] &&
    grep -qF "bound: memory, GB/s (0.25 flop/byte; a CPU's nominal balance is 10)" "$tmp/out"; then
    pass=$((pass + 1))
else
    echo "FAIL accl bench amax: want GB/s, then GFLOP/s, then 'bound: memory, GB/s (0.25 flop/byte ...'"
    sed 's/^/    /' "$tmp/out" | head -10
    fail=$((fail + 1))
fi

summary
