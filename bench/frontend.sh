#!/usr/bin/env bash
# Front-end speed: generates a valid 50,000-line program (many kernels, each
# with nests and a schedule), checks it with `accl --check`, times the front end
# on it (`accl --emit=schedule`, which stops after the checks of the source and
# the schedules; --check also lowers every kernel) (best of 3), prints lines per
# second, and fails when the best run takes more than 0.5 s.
#
#   usage: bash bench/frontend.sh ACCL
set -u
export LC_ALL=C

if [ $# -ne 1 ]; then
    echo "usage: $0 ACCL" >&2
    exit 2
fi
accl=$1
limit_ms=500
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
src=$tmp/bench.acc

# 25 lines per kernel and its schedule; 2,000 of them.
awk 'BEGIN {
    for (n = 0; n < 2000; n++) {
        printf "// kernel %d: a matmul with a bias and a clamp\n", n
        printf "kernel k%d(A: f32[M, K], B: f32[K, N], bias: f32[N], lo: f32, C: out f32[M, N]) {\n", n
        printf "    var t: f32[M, N];\n"
        printf "    init: for i in 0..M, j in 0..N {\n"
        printf "        t[i, j] = 0.0;\n"
        printf "    }\n"
        printf "    update: for i in 0..M, j in 0..N, k in 0..K {\n"
        printf "        t[i, j] += A[i, k] * B[k, j];\n"
        printf "    }\n"
        printf "    epilogue: for i in 0..M, j in 0..N {\n"
        printf "        let v = t[i, j] + bias[j] * %d.5;\n", n % 7
        printf "        if v < lo { C[i, j] = lo; } else { C[i, j] = min(v, 6.0); }\n"
        printf "    }\n"
        printf "}\n"
        printf "schedule k%d for cpu {\n", n
        printf "    param MB = 64, NB = 128 in {64, 128, 256};\n"
        printf "    in update {\n"
        printf "        tile i, j by MB, NB -> io, jo, ii, ji;\n"
        printf "        split ji by 8 -> jv, jl;\n"
        printf "        parallel io;\n"
        printf "        unroll jv; vectorize jl;\n"
        printf "    }\n"
        printf "    in epilogue { split j by 8 -> jo, jv; parallel i; vectorize jv; }\n"
        printf "}\n"
        printf "\n"
    }
}' >"$src"
lines=$(wc -l <"$src")

if ! "$accl" --check "$src" >/dev/null 2>"$tmp/err"; then
    echo "bench: accl --check failed on the generated program:" >&2
    head -20 "$tmp/err" >&2
    exit 1
fi

best=
for run in 1 2 3; do
    t0=$(date +%s%N)
    "$accl" --emit=schedule "$src" >/dev/null 2>&1
    t1=$(date +%s%N)
    ns=$((t1 - t0))
    if [ -z "$best" ] || [ "$ns" -lt "$best" ]; then best=$ns; fi
done
ms=$((best / 1000000))
rate=$((lines * 1000000000 / (best > 0 ? best : 1)))
printf 'frontend: %d lines in %d.%03d s (best of 3): %d lines/s\n' \
    "$lines" $((ms / 1000)) $((ms % 1000)) "$rate"
if [ "$ms" -gt "$limit_ms" ]; then
    echo "frontend: slower than the limit of $limit_ms ms" >&2
    exit 1
fi
