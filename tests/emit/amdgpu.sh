#!/usr/bin/env bash
# AMD device code (src/emit/amdgpu.c, gpumath.c) and the intrinsics on every
# GPU target.
#
#   usage: bash tests/emit/amdgpu.sh ACCL
#
# 1. Every example, tutorial kernel and tests/emit/amdgpu/*.acc for amd:gfx90a, gfx942 and gfx1100
#    (each file's schedule for the target, else the default mapping):
#    --emit=hsaco gives a code object whose amdhsa.kernels notes
#    (llvm-readobj-19 --notes) name the kernels accl_<K>_<i> of the GPU
#    execution form (--dump=after:spmd), each with .max_flat_workgroup_size
#    its launch's threads, .wavefront_size 64 (gfx9) or 32 (gfx1100) and
#    .group_segment_fixed_size 0 (shared memory is dynamic, sized at launch),
#    for the target (amdhsa.target); no undefined symbol (llvm-nm-19 -u); where
#    the GPU form has barriers, --emit=amdgcn has s_barrier. The shared-memory
#    test file's cache fills are 16-byte global loads and LDS stores; its
#    softmax's reductions shuffle (ds_bpermute_b32).
# 2. tests/emit/amdgpu/intrinsics.acc (every float intrinsic in f32 and f64) for
#    every AMD target (above: no undefined symbol) and every Nvidia target:
#    --emit=ptx declares no external function (.extern .func) and, where ptxas
#    is present, ptxas -arch=<sm> accepts it.
# 3. Errors: --emit=amdgcn|hsaco for an Nvidia target (exit 2); ld.lld missing
#    ($ACCL_LLD naming no file: exit 1, the message, no output).
# Skips (exit 0, with a message) when llvm-readobj-19 or ld.lld is missing.
# Ends with `N passed, N failed`; exits 1 on any failure.
set -u
source "$(dirname "$0")/../prelude.sh"
if [ ! -x "$llvm/llvm-readobj" ] || [ ! -x "$llvm/llvm-nm" ]; then
    echo "SKIP tests/emit/amdgpu.sh: llvm-readobj and llvm-nm of LLVM 19 are not installed (llvm-19)"
    exit 0
fi
if [ -z "${ACCL_LLD:-}" ] && ! command -v ld.lld-19 >/dev/null && [ ! -x "$llvm/ld.lld" ]; then
    echo "SKIP tests/emit/amdgpu.sh: ld.lld of LLVM 19 is not installed (lld-19)"
    exit 0
fi
ptxas=${ACCL_PTXAS:-$(command -v ptxas || echo /usr/local/cuda/bin/ptxas)}
[ -x "$ptxas" ] || ptxas=

# `accl_<K>_<i> T` for each launch of the GPU form, sorted.
launches() {
    awk '/^func [A-Za-z_0-9]+ for/ { k = $2; i = 0 }
         /bound thread\.x/ { t = $0; sub(/.*\[0, \+/, "", t); sub(/\).*/, "", t); print "accl_" k "_" i, t; i++ }' \
        "$1" | sort
}

# `name max_flat_workgroup_size wavefront_size group_segment_fixed_size` per
# kernel of the notes, sorted (a kernel's keys sit at four spaces, in order).
kernels() {
    awk '/^    \.group_segment_fixed_size:/ { g = $2 }
         /^    \.max_flat_workgroup_size:/ { m = $2 }
         /^    \.name:/ { n = $2 }
         /^    \.wavefront_size:/ { print n, m, $2, g }' "$1" | sort
}

# check_amd FILE GFX WAVE
check_amd() {
    local f=$1 gfx=$2 wave=$3 name
    name="$(basename "$f") amd:$gfx"
    : >"$tmp/err"
    if ! "$accl" "$f" --target="amd:$gfx" --emit=hsaco -o "$tmp/k.hsaco" 2>"$tmp/err"; then
        bad "$name: --emit=hsaco"
        return
    fi
    "$accl" "$f" --target="amd:$gfx" --dump=after:spmd >"$tmp/spmd" 2>"$tmp/err" || { bad "$name: spmd"; return; }
    "$llvm/llvm-readobj" --notes "$tmp/k.hsaco" >"$tmp/notes" 2>"$tmp/err" || { bad "$name: readobj"; return; }
    launches "$tmp/spmd" | awk -v w="$wave" '{ print $1, $2, w, 0 }' >"$tmp/want"
    kernels "$tmp/notes" >"$tmp/got"
    if [ ! -s "$tmp/want" ] || ! diff "$tmp/want" "$tmp/got" >"$tmp/err"; then
        bad "$name: kernels (name, threads, wave, static LDS) differ from the GPU form's launches"
        return
    fi
    if ! grep -q "amdhsa.target: *amdgcn-amd-amdhsa--$gfx\$" "$tmp/notes"; then
        bad "$name: amdhsa.target is not amdgcn-amd-amdhsa--$gfx"
        return
    fi
    "$llvm/llvm-nm" -u "$tmp/k.hsaco" >"$tmp/err" 2>&1
    if [ -s "$tmp/err" ]; then
        bad "$name: undefined symbols"
        return
    fi
    # A barrier in a launch of more threads than a wave must become s_barrier
    # (LLVM drops one in a block of one wave: a one-thread default mapping).
    if awk -v w="$wave" '/^  launch / { match($0, / threads [0-9]+/); t = substr($0, RSTART + 9, RLENGTH - 9) + 0 } /^ *barrier/ && t > w { found = 1 } END { exit !found }' "$tmp/spmd"; then
        if ! "$accl" "$f" --target="amd:$gfx" --emit=amdgcn -o "$tmp/k.s" 2>"$tmp/err" ||
            ! grep -q 's_barrier' "$tmp/k.s"; then
            bad "$name: the GPU form has barriers, the assembly no s_barrier"
            return
        fi
    fi
    ok
}

for f in "$root"/examples/*.acc "$root"/tests/run/tutorials/*.acc "$root"/tests/emit/amdgpu/*.acc; do
    check_amd "$f" gfx90a 64
    check_amd "$f" gfx942 64
    check_amd "$f" gfx1100 32
done

# tests/emit/amdgpu/amd_shared.acc caches tiles in shared memory: 16-byte global
# loads and LDS stores (gfx9: global_load_dwordx4, ds_write_b128; gfx11:
# global_load_b128, ds_store_b128). (The 16-byte LDS reads that the softmax's
# combine made, 256 partials read as one expression, went with the shuffles;
# the matmul reads its tiles an element at a time.)
for gfx in gfx90a gfx942 gfx1100; do
    name="amd_shared.acc amd:$gfx: 16-byte copies"
    : >"$tmp/err"
    if ! "$accl" "$root/tests/emit/amdgpu/amd_shared.acc" --target="amd:$gfx" --emit=amdgcn -o "$tmp/k.s" 2>"$tmp/err"; then
        bad "$name: --emit=amdgcn"
    elif ! grep -qE 'global_load_(dwordx4|b128)' "$tmp/k.s" || ! grep -qE 'ds_(write|store)_b128' "$tmp/k.s"; then
        bad "$name: no 16-byte global load or LDS store"
    else
        ok
    fi
done

# Its softmax combines the thread-bound reductions' partials with shuffles:
# ds_bpermute_b32, once per butterfly step (6 of a wave of 64, 5 of 32) in each
# of the two reductions.
for gw in gfx90a:12 gfx942:12 gfx1100:10; do
    gfx=${gw%:*}
    name="amd_shared.acc amd:$gfx: shuffles"
    : >"$tmp/err"
    if ! "$accl" "$root/tests/emit/amdgpu/amd_shared.acc" --target="amd:$gfx" --emit=amdgcn -o "$tmp/k.s" 2>"$tmp/err"; then
        bad "$name: --emit=amdgcn"
    elif [ "$(grep -cE '^\s*ds_bpermute_b32' "$tmp/k.s")" != "${gw#*:}" ]; then
        grep -E 'ds_bpermute' "$tmp/k.s" >"$tmp/err"
        bad "$name: not ${gw#*:} ds_bpermute_b32"
    else
        ok
    fi
done

# The intrinsics for Nvidia: nothing external, ptxas accepts it.
intr="$root/tests/emit/amdgpu/intrinsics.acc"
for sm in sm_80 sm_86 sm_89 sm_90 sm_90a; do
    name="intrinsics.acc nvidia:$sm"
    : >"$tmp/err"
    if ! "$accl" "$intr" --target="nvidia:$sm" --emit=ptx -o "$tmp/k.ptx" 2>"$tmp/err"; then
        bad "$name: --emit=ptx"
    elif grep -n '\.extern *\.func' "$tmp/k.ptx" >"$tmp/err"; then
        bad "$name: external functions"
    elif [ -n "$ptxas" ] && ! "$ptxas" -arch="$sm" -o "$tmp/k.cubin" "$tmp/k.ptx" >"$tmp/err" 2>&1; then
        bad "$name: ptxas rejects the PTX"
    else
        ok
    fi
done
[ -n "$ptxas" ] || echo "note: ptxas not found: the intrinsics' PTX was not assembled"

# Errors: the AMD-only kinds elsewhere (exit 2), no ld.lld (exit 1, no output).
f="$root/examples/matmul.acc"
for kind in amdgcn hsaco; do
    "$accl" "$f" --target=nvidia:sm_80 --emit=$kind >/dev/null 2>"$tmp/err"
    rc=$?
    if [ $rc -eq 2 ] && grep -q "^accl: error: --emit=$kind needs an AMD target and no --check\$" "$tmp/err"; then
        ok
    else
        bad "--emit=$kind for nvidia:sm_80: exit $rc"
    fi
done
ACCL_LLD=/nonexistent "$accl" "$f" --target=amd:gfx942 --emit=hsaco -o "$tmp/none.hsaco" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && [ ! -e "$tmp/none.hsaco" ] && grep -q '^accl: error: ld.lld not found' "$tmp/err"; then
    ok
else
    bad "ACCL_LLD=/nonexistent: exit $rc"
fi

summary
