#!/usr/bin/env bash
# Builds the GPU bundle (make gpu-bundle): one folder to carry to a machine
# with an Nvidia GPU, nvcc and cuBLAS but no LLVM, where bench/gpu/run.sh
# checks and times the examples (see run.sh).
#
#   usage: bash bench/gpu/bundle.sh ACCL OUT [ARCH]      (ARCH default sm_90)
#
# OUT receives, for every example with a schedule for nvidia that compiles
# for ARCH (examples that tensorize are left out, with a note, until tensor
# cores are done; so is one that fails to compile, with its first message):
#   NAME.gpu.o, NAME.gpu.h   the host object for ARCH (generic x86_64 host code;
#                            the PTX, and the cubin for ARCH where ptxas is
#                            present) and its header
#   NAME.ref.o, NAME.ref.h   the CPU reference (--target=cpu:x86_64) of the same
#                            kernels, each symbol K renamed ref_K (objcopy
#                            --redefine-sym, K.packed too), so both link into one
#                            program
# and libaccrt.a, accl.h, accl_codes.h, kernels.h (the table of kernels the
# harness walks: names, sizes, parameters and shapes, from the headers),
# harness.cu and run.sh. Prints the bundle's size.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 ACCL OUT [ARCH]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
accl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$2
arch=${3:-sm_90}
rt=$(dirname "$accl")/libaccrt.a
objcopy=$(command -v objcopy || command -v llvm-objcopy-19 || echo /usr/lib/llvm-19/bin/llvm-objcopy)

rm -rf "$out"
mkdir -p "$out"
names=()
for f in "$root"/examples/*.acc; do
    grep -q '^schedule [A-Za-z_0-9]* for nvidia' "$f" || continue
    n=$(basename "$f" .acc)
    if grep -q '^ *tensorize ' "$f"; then
        echo "note: $n left out: it tensorizes (tensor cores come in a later issue)"
        continue
    fi
    if ! "$accl" "$f" --target=nvidia:$arch -o "$out/$n.gpu.o" --header "$out/$n.gpu.h" 2>"$out/$n.err"; then
        echo "note: $n left out: accl --target=nvidia:$arch fails: $(head -1 "$out/$n.err")"
        rm -f "$out/$n".*
        continue
    fi
    "$accl" "$f" --target=cpu:x86_64 -o "$out/$n.ref.o" --header "$out/$n.ref.h"
    rm -f "$out/$n.err"
    kernels=$(sed -n 's/^int \([A-Za-z_0-9]*\)(.*/\1/p' "$out/$n.ref.h")
    args=()
    for k in $kernels; do
        args+=(--redefine-sym "$k=ref_$k" --redefine-sym "$k.packed=ref_$k.packed")
        sed -i "s/^int $k(/int ref_$k(/; s/^\/\* $k\$/\/* ref_$k (the CPU reference)/" "$out/$n.ref.h"
    done
    "$objcopy" "${args[@]}" "$out/$n.ref.o"
    # The guard follows the file name: MATMUL_REF_H, MATMUL_GPU_H.
    names+=("$n")
done
[ ${#names[@]} -gt 0 ] || { echo "no example compiles for nvidia:$arch" >&2; exit 1; }

python3 "$root/bench/gpu/kernels.py" "$out" "${names[@]}" >"$out/kernels.h"
cp "$rt" "$root/src/runtime/accl.h" "$root/src/runtime/accl_codes.h" "$root/bench/gpu/harness.cu" \
    "$root/bench/gpu/run.sh" "$out/"
printf '%s\n' "${names[@]}" >"$out/EXAMPLES"
echo "$arch" >"$out/ARCH"
chmod 644 "$out"/*
chmod 755 "$out/run.sh"
echo "gpu bundle: $out: ${names[*]} for nvidia:$arch; $(du -sh "$out" | cut -f1) ($(du -sb "$out" | cut -f1) bytes)"
