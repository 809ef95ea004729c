#!/usr/bin/env bash
# accl's matmul example against OpenBLAS sgemm, on the CPU, in the same run.
#
#   usage: bash bench/cpu_gemm.sh [ACCL] [SIZE...]     (default build/accl, 1024 2048)
#
# Builds examples/matmul.acc with its CPU schedule into an object and a header
# (`accl examples/matmul.acc -o matmul.o --header matmul.h`, timed: the compile
# time from source to object), links bench/gemm_harness.c against it,
# build/libaccrt.a and OpenBLAS (Debian libopenblas-dev), and times both at
# each size (M = N = K) on one thread (ACCL_NUM_THREADS=1,
# OPENBLAS_NUM_THREADS=1) and on all cores. Prints a table of size, threads,
# accl GFLOP/s, OpenBLAS GFLOP/s and their ratio. The environment's
# OPENBLAS_CORETYPE is left as it is and printed (see the env notes).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
accl=${1:-$root/build/accl}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1024 2048)
accl=$(cd "$(dirname "$accl")" && pwd)/$(basename "$accl")
rt=$(dirname "$accl")/libaccrt.a
for f in "$accl" "$rt"; do
    [ -e "$f" ] || { echo "missing $f: build first (make BUILD=...)" >&2; exit 2; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

start=$(date +%s.%N)
"$accl" "$root/examples/matmul.acc" --target=cpu -o "$tmp/matmul.o" --header "$tmp/matmul.h"
compile=$(echo "$start $(date +%s.%N)" | awk '{ printf "%.3f", $2 - $1 }')

cc -O2 -std=c11 -march=native -I"$tmp" -I"$root/src/runtime" -o "$tmp/gemm" \
    "$root/bench/gemm_harness.c" "$tmp/matmul.o" "$rt" -lopenblas -lpthread -lm

cores=$(nproc)
cat <<INFO
cpu: $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), $cores cores
OPENBLAS_CORETYPE: ${OPENBLAS_CORETYPE:-(not set)}; OpenBLAS: $("$tmp/gemm" --info)
compile examples/matmul.acc to an object: ${compile} s
INFO
printf '%-6s %-8s %12s %16s %7s\n' SIZE THREADS "accl GFLOP/s" "OpenBLAS GFLOP/s" RATIO
status=0
for n in "${sizes[@]}"; do
    for t in 1 "$cores"; do
        if out=$(ACCL_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t "$tmp/gemm" "$n"); then :; else
            status=1
        fi
        echo "$out" | awk -v n="$n" -v t="$t" '{
            r = ($4 > 0) ? $2 / $4 : 0
            printf "%-6s %-8s %12.1f %16.1f %6.2fx%s\n", n, t, $2, $4, r, ($6 > 1e-4 ? "  (results differ: " $6 ")" : "")
        }'
    done
done
exit $status
