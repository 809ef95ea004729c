#!/usr/bin/env bash
# `make run`, the main job: compiles every example for the CPU (through the
# JIT), runs it against the reference at sizes that divide no tile, times it,
# and prints a table: kernel, sizes, time, the rate of the resource that bounds
# it (GB/s or GFLOP/s: bench prints that one first) with `mem` or `cmp` after it,
# worst error ratio (|got - ref| / bound, PASS below 1), result.
#
#   usage: bash tests/run/examples-cpu.sh ACCL
#
# Exits 1 when any run fails its check.
set -u
source "$(dirname "$0")/../prelude.sh"

# file kernel check-sizes bench-sizes [args]: the check runs at sizes that
# divide no tile (the f64 reference is slow, so they stay modest); the timing
# at larger ones. The whole table takes about a minute.
cases=(
    "matmul.acc matmul M=197,N=131,K=257 M=1000,N=1000,K=1000"
    "bmatmul.acc bmatmul Bt=3,M=65,N=129,K=97 Bt=7,M=129,N=257,K=191"
    "conv2d.acc conv2d N=2,C=5,H=19,W=21,K=7,R=3,S=3 N=3,C=17,H=67,W=67,K=33,R=3,S=3"
    "gelu.acc gelu N=100003 N=1000003"
    "silu.acc silu R=101,N=1003 R=1001,N=1003"
    "transpose.acc transpose M=131,N=1013 M=1031,N=1013"
    "layernorm.acc layernorm R=101,N=1027 R=1001,N=1027 --arg eps=1e-5"
    "rmsnorm.acc rmsnorm R=101,N=1027 R=1001,N=1027 --arg eps=1e-5"
    "softmax.acc softmax R=101,N=1027 R=1001,N=1027"
    "hmatmul.acc hmatmul M=67,N=71,K=129 M=257,N=263,K=129"
    "argmax.acc argmax N=100003 N=1000003"
)

printf '%-10s %-38s %8s  %-6s %-40s %11s %18s\n' KERNEL "CHECKED AT" WORST RESULT "TIMED AT" TIME RATE
passed=0
failed=0
for c in "${cases[@]}"; do
    read -r file kernel sizes bsizes args <<<"$c"
    # shellcheck disable=SC2086
    if "$accl" run "$root/examples/$file" --kernel "$kernel" --size "$sizes" $args >"$tmp/out" 2>&1; then
        result=PASS
        passed=$((passed + 1))
    else
        result=FAIL
        failed=$((failed + 1))
    fi
    worst=$(awk '{ for (i = 1; i < NF; i++) if ($i == "ratio" && $(i + 1) + 0 >= w) w = $(i + 1) + 0 }
                 END { printf "%.3g", w }' "$tmp/out")
    [ "$result" = PASS ] || sed 's/^/    /' "$tmp/out" | tail -5
    # shellcheck disable=SC2086
    "$accl" bench "$root/examples/$file" --kernel "$kernel" --size "$bsizes" $args --runs 5 >"$tmp/out" 2>&1
    time=$(awk '/^time:/ { print $3, $4 }' "$tmp/out")
    rate=$(awk '/^(GFLOP|GB)\/s:/ && !r { r = $2 " " substr($1, 1, length($1) - 1) }
                /^bound: memory/ { b = "mem" } /^bound: compute/ { b = "cmp" }
                END { if (r != "") print r, b }' "$tmp/out")
    printf '%-10s %-38s %8s  %-6s %-40s %11s %18s\n' "$kernel" "$sizes" "$worst" "$result" "$bsizes" \
        "${time:--}" "${rate:--}"
done
echo "examples on the CPU: $passed passed, $failed failed"
[ "$failed" = 0 ]
