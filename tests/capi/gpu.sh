#!/usr/bin/env bash
# The GPU runtime and launch stubs without a GPU (no GPU is needed or used):
#   - the runtime's calls with no driver, and with a stand-in libcuda.so.1
#     (tests/capi/fake_cuda.c, on LD_LIBRARY_PATH) that fails cuInit, has no
#     device, fails loading modules, or works on host memory and logs launches
#   - GPU objects and headers from accl linked with a C program (gpu_stubs.c)
#     and libaccrt.a: the entry checks before any device work, the grid limit,
#     the launches' grids, threads, shared bytes and parameters, `var`s
#     allocated and freed, no driver / no device; headers as C11 and C++
#   - accl run --target=nvidia:sm_80 with no GPU: exit 1 with the runtime's message
#
#   usage: [CAPI_CFLAGS=...] bash tests/capi/gpu.sh build/accl
# Ends with `N passed, N failed`; exits 1 when any failed.
set -u
[ $# -eq 1 ] || { echo "usage: $0 ACCL" >&2; exit 2; }
ACCL=$(realpath "$1")
RT=$(dirname "$ACCL")/libaccrt.a
cd "$(dirname "$0")/../.." || exit 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
CFLAGS="-std=c11 -O1 -g -Wall -Wextra -Werror ${CAPI_CFLAGS:-}"

# Adds a C test program's `NAME: N passed, N failed` line to the counts.
count() {
    local out=$1 line p f
    echo "$out" | grep -v ': [0-9]* passed, [0-9]* failed$'
    line=$(echo "$out" | grep -E ': [0-9]+ passed, [0-9]+ failed$' | tail -1)
    p=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(echo "$line" | sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ -n "$p" ] && [ -n "$f" ]; then
        passed=$((passed + p)) failed=$((failed + f))
    else
        fail "a test program ended without its counts: $out"
    fi
}

# The stand-in driver.
mkdir -p "$work/fake"
if ! cc -std=c11 -O1 -Wall -Wextra -Werror -shared -fPIC -o "$work/fake/libcuda.so.1" tests/capi/fake_cuda.c; then
    fail "cc fake_cuda.c"
fi
fake() { LD_LIBRARY_PATH="$work/fake" ACCL_FAKE_CUDA=$1 "${@:2}"; }
# A real driver on this machine: the cases without one are skipped.
real_driver=""
if ldconfig -p 2>/dev/null | grep -q 'libcuda\.so\.1 '; then
    real_driver=yes
    echo "note: this machine has libcuda.so.1: the no-driver cases are skipped"
fi

# ---- the runtime's calls ----
if cc $CFLAGS -Isrc -o "$work/gpu_runtime" tests/capi/gpu_runtime.c "$RT" -lpthread; then
    pass
    [ -n "$real_driver" ] || count "$("$work/gpu_runtime" 7 'libcuda.so.1 not found' 2>&1)"
    count "$(fake initfail "$work/gpu_runtime" 5 'cuInit: CUDA_ERROR_NO_DEVICE (100)' 2>&1)"
    count "$(fake nodevice "$work/gpu_runtime" 5 'cuDeviceGetCount: no device' 2>&1)"
    count "$(fake ok "$work/gpu_runtime" 0 '' 2>&1)"
else
    fail "cc gpu_runtime.c"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
