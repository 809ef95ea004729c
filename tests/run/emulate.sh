#!/usr/bin/env bash
# The GPU emulator suite (lang/SPEC.md, Emulator):
#   1. every example, every ported tutorial kernel (tests/run/tutorials/) and
#      every file of tests/run/emulate/ (kernels whose GPU
#      execution form is correct: shared fills and barriers, reductions across
#      threads, a 3-D grid, two launches through a var), for each GPU target
#      the file has a schedule for plus nvidia:sm_80 and amd:gfx942 (their
#      default mappings where there is none), at sizes that do not divide the
#      tiles: tests/run/correctness.sh --emulate (sizes 1, 17, 129, 65 and a
#      mix, shrunk to ACCL_RUN_BUDGET, default 300000 here); then every example
#      and tutorial kernel on the other GPU targets (sm_86, sm_89, sm_90, sm_90a, gfx90a, gfx1100)
#      at a budget of 20000; every run must PASS
#   2. the command line: --emulate needs a GPU target and excludes
#      --interpret; a seed gives the same output every time; the budget
#      (ACCL_EMULATE_STEPS) stops a huge grid at once with exit 1, and so does
#      a grid beyond the launch limits; a 3-D grid with hoisted extents passes.
#
#   usage: bash tests/run/emulate.sh ACCL
# Ends with `N passed, N failed`; exits 1 when any failed.
set -u
[ $# -eq 1 ] || { echo "usage: $0 ACCL" >&2; exit 2; }
accl=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() { echo "FAIL  $*"; failed=$((failed + 1)); }

# sweep NAME FILES...: tests/run/correctness.sh --emulate over FILES (with the
# caller's ACCL_RUN_BUDGET and ACCL_EMULATE_TARGETS), its counts added to ours.
sweep() {
    local name=$1 rc sp sf
    shift
    bash "$root/tests/run/correctness.sh" --emulate "$accl" "$@" >"$tmp/$name" 2>&1
    rc=$?
    grep -v '^PASS' "$tmp/$name"
    read -r sp _ sf _ < <(tail -n 1 "$tmp/$name" | tr -d ',')
    passed=$((passed + ${sp:-0}))
    failed=$((failed + ${sf:-0}))
    [ "$rc" -eq 0 ] || [ "${sf:-0}" -gt 0 ] || fail "the $name failed: $(tail -n 1 "$tmp/$name")"
}

# 1. Every example and hand-written kernel at awkward sizes.
ACCL_RUN_BUDGET=${ACCL_RUN_BUDGET:-300000} sweep sweep "$root"/examples/*.acc "$root"/tests/run/emulate/*.acc \
    "$root"/tests/run/tutorials/*.acc

# The other GPU targets (the sm_80 schedules apply to sm_86..sm_90a; gfx90a and
# gfx1100 take the default mapping, gfx1100 with 32-lane waves), every example
# and every ported tutorial kernel at smaller awkward sizes.
ACCL_EMULATE_TARGETS="nvidia:sm_86 nvidia:sm_89 nvidia:sm_90 nvidia:sm_90a amd:gfx90a amd:gfx1100" \
    ACCL_RUN_BUDGET=${ACCL_RUN_BUDGET_OTHER:-20000} sweep "second sweep" "$root"/examples/*.acc \
    "$root"/tests/run/tutorials/*.acc

# 2. The command line. expect RC PATTERN CMD ARGS...: `accl CMD ARGS` exits
# with RC and a line of its stdout or stderr matches PATTERN.
expect() {
    local want=$1 pattern=$2
    shift 2
    "$accl" "$@" >"$tmp/out" 2>&1
    local rc=$?
    if [ "$rc" -ne "$want" ] || ! grep -qE -- "$pattern" "$tmp/out"; then
        fail "accl $* (exit $rc, want $want and /$pattern/):"
        sed 's/^/    /' "$tmp/out" | tail -n 5
    else
        pass
    fi
}
mm=("$root/examples/matmul.acc" --kernel matmul --size M=9,N=10,K=11)
expect 2 'error: --emulate needs a GPU target \(--target=nvidia:\.\.\. or amd:\.\.\.\)' run "${mm[@]}" --emulate
expect 2 'error: --emulate and --interpret exclude each other' run "${mm[@]}" --emulate --interpret \
    --target=nvidia:sm_80
expect 0 '^PASS$' run "${mm[@]}" --emulate --target=amd:gfx942 --seed 7
expect 2 'error: --emulate is not an option of accl bench' bench "${mm[@]}" --emulate \
    --target=nvidia:sm_80
# Warps without thread loops: every lane fills its register cache from C and
# lane 0 writes it back; a barrier must order the two (a race before the fix).
expect 0 '^PASS$' run "$root/tests/golden/schedule/rdna_wmma.acc" --kernel hmatmul \
    --size M=17,K=17,N=17 --emulate --target=amd:gfx1100
# A 3-D grid whose y and x extents the passes hoist into a let in block.z's
# body (an internal error before the fix), and one beyond the launch limits of
# z <= 65535, which the device would refuse.
expect 0 '^PASS$' run "$root/tests/golden/spmd/grid_3d_hoisted.acc" --kernel k --size B=3,N=17 \
    --emulate --target=nvidia:sm_80
expect 1 'the emulator failed: the grid of a launch, 1 x 1 x 65536 blocks, is beyond the launch limits' \
    run "$root/tests/golden/spmd/grid_3d_hoisted.acc" --kernel k --size B=65536,N=1 --emulate --target=nvidia:sm_80
# The block-stride reduction (one block) at a size of many rounds per thread.
expect 0 '^PASS$' run "$root/tests/run/emulate/block_stride_sum.acc" --kernel k --size N=65537 \
    --emulate --target=nvidia:sm_80
expect 0 '^PASS$' run "$root/tests/run/emulate/block_stride_sum.acc" --kernel k --size N=65537 \
    --emulate --target=amd:gfx942

# A seed gives the same output every time, and another seed passes too.
"$accl" run "${mm[@]}" --emulate --target=nvidia:sm_80 --seed 5 --print >"$tmp/a" 2>/dev/null
"$accl" run "${mm[@]}" --emulate --target=nvidia:sm_80 --seed 5 --print >"$tmp/b" 2>/dev/null
if cmp -s "$tmp/a" "$tmp/b" && grep -q '^PASS$' "$tmp/a"; then pass; else fail "--seed 5 twice: outputs differ or FAIL"; fi
# The budget: a grid too large for it fails before it starts, with the numbers.
ACCL_EMULATE_STEPS=100000 expect 1 \
    "the emulator failed: a launch of .* blocks of 256 threads exceeds what is left of the emulation's budget of 100000 steps" \
    run "$root/examples/gelu.acc" --kernel gelu --size N=4000000 --emulate --target=nvidia:sm_80
ACCL_EMULATE_STEPS=100000 expect 1 'the emulator failed: .*budget of 100000 ' \
    run "$root/examples/matmul.acc" --kernel matmul --size M=64,N=64,K=200 --emulate --target=nvidia:sm_80

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
