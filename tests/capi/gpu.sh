#!/usr/bin/env bash
# The GPU runtime and launch stubs without a GPU (no GPU is needed or used):
#   - the runtime's calls with no driver, and with a stand-in libcuda.so.1
#     (tests/capi/fake_cuda.c, on LD_LIBRARY_PATH) that fails cuInit, has no
#     device, fails loading modules, or works on host memory and logs launches;
#     for AMD the same stand-in as libamdhip64.so
#   - GPU objects and headers from accl linked with a C program (gpu_stubs.c)
#     and libaccrt.a: the entry checks before any device work, the grid limit,
#     the launches' grids, threads, shared bytes and parameters, `var`s
#     allocated and freed, no driver / no device; headers as C11 and C++
#   - accl run --target=nvidia:sm_80 with no GPU: exit 1 with the runtime's message
#
#   usage: [CAPI_CFLAGS=...] bash tests/capi/gpu.sh build/accl
# Ends with `N passed, N failed`; exits 1 when any failed.
set -u
source "$(dirname "$0")/prelude.sh"
CFLAGS="-std=c11 -O1 -g -Wall -Wextra -Werror ${CAPI_CFLAGS:-}"

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

# no_driver_no_device DIR REAL LIB INIT WHO: DIR/gpu_stubs with no driver (unless
# REAL says a real one is installed; LIB ends the message) and with a driver
# whose INIT finds no device; WHO starts the failure messages.
no_driver_no_device() {
    local dir=$1 real=$2 lib=$3 init=$4 who=$5 out
    if [ -z "$real" ]; then
        out=$("$dir/gpu_stubs" fail 7 2>&1)
        count "$out"
        echo "$out" | grep -q "^twice: no GPU driver: .*$lib not found" && pass || fail "${who}no driver: $out"
    fi
    out=$(fake initfail "$dir/gpu_stubs" fail 5 2>&1)
    count "$out"
    echo "$out" | grep -q "^twice: the GPU driver found no device; $init: CUDA_ERROR_NO_DEVICE (100)\$" && pass ||
        fail "${who}$init failing: $out"
}

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

# ---- GPU objects and headers from accl ----
# ptxas, where present, puts a cubin for sm_80 beside the PTX.
objs_ok=yes
for f in tests/capi/gpu_kernels.acc examples/softmax.acc; do
    n=$(basename "$f" .acc)
    if "$ACCL" "$f" --target=nvidia:sm_80 -o "$work/$n.o" --header "$work/$n.h"; then
        pass
    else
        fail "accl $f --target=nvidia:sm_80 -o $n.o --header $n.h"
        objs_ok=""
    fi
    if ! grep -q "^int $(sed -n 's/^kernel \([a-z_0-9]*\).*/\1/p' "$f" | head -1)(.*, void \*stream);$" "$work/$n.h"; then
        fail "$n.h: the prototype does not end with void *stream"
    else
        pass
    fi
    if cc -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c "$work/$n.h"; then pass; else fail "$n.h as C"; fi
    if command -v c++ >/dev/null; then
        if c++ -Wall -Wextra -Werror -fsyntax-only -x c++ "$work/$n.h"; then pass; else fail "$n.h as C++"; fi
    fi
done

# ---- the stubs ----
log="$work/launches.log"
params="accl_twice_0=pfbpip,accl_twice_1=pfbpip,accl_shift_0=ppii,accl_softmax_0=ppii"
if [ -n "$objs_ok" ] && cc $CFLAGS -I"$work" -Isrc -o "$work/gpu_stubs" tests/capi/gpu_stubs.c \
    "$work/gpu_kernels.o" "$work/softmax.o" "$RT" -lpthread; then
    pass
    # The checks come first: with no driver at all, and with a working one
    # that logs nothing (no module loaded, no allocation, no launch).
    [ -n "$real_driver" ] || count "$("$work/gpu_stubs" checks 2>&1)"
    rm -f "$log"
    count "$(ACCL_FAKE_CUDA_LOG="$log" fake ok "$work/gpu_stubs" checks 2>&1)"
    if [ ! -s "$log" ]; then pass; else fail "device work before a failed check: $(cat "$log")"; fi
    # A valid call with no driver, no device, a module the driver rejects.
    no_driver_no_device "$work" "$real_driver" "libcuda.so.1" cuInit ""
    count "$(fake nodevice "$work/gpu_stubs" fail 5 2>&1)"
    rm -f "$log"
    out=$(ACCL_FAKE_CUDA_LOG="$log" fake badmodule "$work/gpu_stubs" fail 8 2>&1)
    count "$out"
    echo "$out" | grep -q 'cuModuleLoadData: CUDA_ERROR_INVALID_PTX (218)' && pass || fail "bad module: $out"
    # One load per object (the cubin first where there is one, then the PTX)
    # whatever the number of calls; twice's `var` freed.
    want=$(printf 'alloc 400\nmodule ptx\nfree\nmodule ptx')
    grep -v '^module cubin$' "$log" >"$log.2"
    if [ "$(cat "$log.2")" = "$want" ]; then pass; else fail "bad module log: $(cat "$log")"; fi
    # Launches: grids from the sizes, threads, shared bytes, the parameter
    # block (bool as a byte, the `var`'s device pointer last), one allocation
    # and one free per call of twice.
    rm -f "$log"
    count "$(ACCL_FAKE_CUDA_LOG="$log" ACCL_FAKE_CUDA_PARAMS=$params fake ok "$work/gpu_stubs" launch 2>&1)"
    sed 's/^module cubin$/module ptx/' "$log" >"$log.2"
    cat >"$work/want.log" <<'LOG'
alloc 4000
module ptx
launch accl_twice_0 grid 4 1 1 block 256 shared 0 params ptr 2.5 1 ptr 1000 ptr
launch accl_twice_1 grid 4 1 1 block 256 shared 0 params ptr 2.5 1 ptr 1000 ptr
free
launch accl_shift_0 grid 2 3 1 block 1024 shared 0 params ptr ptr 33 100
module ptx
launch accl_softmax_0 grid 7 1 1 block 256 shared 2048 params ptr ptr 7 129
alloc 68
launch accl_twice_0 grid 1 1 1 block 256 shared 0 params ptr 0.5 0 ptr 17 ptr
launch accl_twice_1 grid 1 1 1 block 256 shared 0 params ptr 0.5 0 ptr 17 ptr
free
LOG
    if diff "$work/want.log" "$log.2" >"$work/diff"; then pass; else fail "launch log: $(cat "$work/diff")"; fi
    # The cubin (sm_80) where ptxas made one and the device runs it (8.x),
    # else the PTX (9.0).
    if command -v ptxas >/dev/null; then
        for sm in 80:cubin 86:cubin 90:ptx; do
            rm -f "$log"
            ACCL_FAKE_CUDA_SM=${sm%:*} ACCL_FAKE_CUDA_LOG="$log" fake ok "$work/gpu_stubs" launch >/dev/null 2>&1
            got=$(grep -m1 '^module' "$log")
            if [ "$got" = "module ${sm#*:}" ]; then pass; else fail "device sm_${sm%:*}: '$got', expected module ${sm#*:}"; fi
        done
    else
        echo "note: no ptxas: the objects hold PTX only; the cubin choice is not tested"
    fi
else
    fail "cc gpu_stubs.c"
fi

# ---- AMD: the same stubs over HIP's module API, the code object in the
# descriptor (the stand-in built as libamdhip64.so too) ----
amd="$work/amd"
mkdir -p "$amd"
if ! cc -std=c11 -O1 -Wall -Wextra -Werror -shared -fPIC -DFAKE_HIP -o "$work/fake/libamdhip64.so" tests/capi/fake_cuda.c; then
    fail "cc -DFAKE_HIP fake_cuda.c"
fi
real_hip=""
if ldconfig -p 2>/dev/null | grep -q 'libamdhip64\.so'; then
    real_hip=yes
    echo "note: this machine has libamdhip64.so: the AMD no-driver case is skipped"
fi
if "$ACCL" tests/capi/gpu_kernels.acc --target=amd:gfx942 -o "$amd/gpu_kernels.o" --header "$amd/gpu_kernels.h" &&
    "$ACCL" examples/softmax.acc --target=amd:gfx942 -o "$amd/softmax.o" --header "$amd/softmax.h" &&
    cc $CFLAGS -I"$amd" -Isrc -o "$amd/gpu_stubs" tests/capi/gpu_stubs.c "$amd/gpu_kernels.o" "$amd/softmax.o" \
        "$RT" -lpthread; then
    pass
    no_driver_no_device "$amd" "$real_hip" "; libamdhip64.so" hipInit "AMD, "
    rm -f "$log"
    count "$(ACCL_FAKE_CUDA_LOG="$log" ACCL_FAKE_CUDA_PARAMS=$params fake ok "$amd/gpu_stubs" launch 2>&1)"
    # One code object loaded per object file, every kernel launched, each
    # allocation freed.
    if [ "$(grep -c '^module cubin$' "$log")" = 2 ] && ! grep -q '^module ptx' "$log" &&
        grep -q '^launch accl_twice_1 .* params ptr 2.5 1 ptr 1000 ptr$' "$log" &&
        grep -q '^launch accl_shift_0 ' "$log" && grep -q '^launch accl_softmax_0 ' "$log" &&
        [ "$(grep -c '^alloc' "$log")" = "$(grep -c '^free$' "$log")" ]; then
        pass
    else
        fail "AMD launch log: $(cat "$log")"
    fi
else
    fail "AMD objects and gpu_stubs"
fi

# ---- accl run and accl bench on a GPU target, with no GPU ----
for cmd in run bench; do
    if [ -z "$real_driver" ]; then
        out=$("$ACCL" $cmd examples/softmax.acc --kernel softmax --size R=3,N=17 --target=nvidia:sm_80 2>&1)
        rc=$?
        if [ $rc -eq 1 ] && echo "$out" | grep -q '^accl: error: no GPU to run on: no GPU driver: .*libcuda.so.1 not found'; then
            pass
        else
            fail "accl $cmd --target=nvidia:sm_80 with no driver: exit $rc: $out"
        fi
    fi
    out=$(fake initfail "$ACCL" $cmd examples/softmax.acc --kernel softmax --size R=3,N=17 --target=nvidia:sm_80 2>&1)
    rc=$?
    if [ $rc -eq 1 ] && [ "$out" = "accl: error: no GPU to run on: the GPU driver found no device (cuInit: CUDA_ERROR_NO_DEVICE (100)); --emulate runs the GPU code on the CPU" ]; then
        pass
    else
        fail "accl $cmd --target=nvidia:sm_80 with no device: exit $rc: $out"
    fi
done

# With the stand-in driver (which computes nothing: the run FAILs): accl run
# copies the tensors in, loads the PTX, opts into 64 KiB of dynamic shared
# memory (BK=32: two stages of two 16 KiB caches), launches, frees; accl bench
# times with events and names the device.
rm -f "$log"
out=$(ACCL_FAKE_CUDA_LOG="$log" fake ok "$ACCL" run examples/matmul.acc --kernel matmul --size M=5,N=7,K=9 \
    --target=nvidia:sm_80 --param BK=32 2>&1)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q '^C: 35 compared' && echo "$out" | grep -qx FAIL; then pass; else fail "accl run with the stand-in driver: exit $rc: $out"; fi
cat >"$work/want.log" <<'LOG'
alloc 180
alloc 252
alloc 140
module ptx
opt-in 65536
launch accl_matmul_0 grid 1 1 1 block 256 shared 65536 params
free
free
free
LOG
if diff "$work/want.log" "$log" >"$work/diff"; then pass; else fail "accl run's log: $(cat "$work/diff")"; fi
out=$(fake ok "$ACCL" bench examples/softmax.acc --kernel softmax --size R=3,N=17 --target=nvidia:sm_80 --runs 3 2>&1)
rc=$?
if [ $rc -eq 0 ] && echo "$out" | grep -qx 'device: Fake GPU' && echo "$out" | grep -q '^runs: 3, timed with GPU events$' &&
    echo "$out" | grep -q '^time: median 1.5 ms, min 1.5 ms$'; then
    pass
else
    fail "accl bench with the stand-in driver: exit $rc: $out"
fi

summary
