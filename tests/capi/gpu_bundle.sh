#!/usr/bin/env bash
# The GPU bundle without a GPU (make gpu-bundle's script, bench/gpu/bundle.sh):
# it builds; it is small (under 16 MiB, for the 64 MiB a carried folder may
# hold); it holds a GPU object, header and renamed CPU reference for every
# example with an nvidia schedule (or a note why one is left out), and the
# runtime and harness; kernels.h lists each kernel; the headers compile
# together as C++; and the harness compiles and links with nvcc against the
# driver's link stubs (skipped with a message where nvcc is absent).
#
#   usage: bash tests/capi/gpu_bundle.sh build/accl
# Ends with `N passed, N failed`; exits 1 when any failed.
set -u
source "$(dirname "$0")/prelude.sh"
b="$work/bundle"

if out=$(bash bench/gpu/bundle.sh "$ACCL" "$b" sm_90 2>&1); then pass; else fail "bundle.sh: $out"; fi
echo "$out" | grep '^note:'
bytes=$(du -sb "$b" 2>/dev/null | cut -f1)
if [ -n "$bytes" ] && [ "$bytes" -lt $((16 * 1024 * 1024)) ]; then pass; else fail "bundle size ${bytes:-?} bytes"; fi
echo "gpu bundle: $((${bytes:-0} / 1024)) KiB"
for f in libaccrt.a accl.h accl_codes.h kernels.h harness.cu run.sh EXAMPLES ARCH; do
    if [ -s "$b/$f" ]; then pass; else fail "bundle lacks $f"; fi
done
# Every example with an nvidia schedule: in the bundle or left out with a note.
for f in examples/*.acc; do
    grep -q '^schedule [A-Za-z_0-9]* for nvidia' "$f" || continue
    n=$(basename "$f" .acc)
    if grep -qx "$n" "$b/EXAMPLES" 2>/dev/null; then
        ok=yes
        for x in gpu.o gpu.h ref.o ref.h; do [ -s "$b/$n.$x" ] || ok=""; done
        # The reference's symbols are renamed; the GPU object's are not.
        nm "$b/$n.ref.o" 2>/dev/null | grep -q " T ref_$n\$" || ok=""
        nm "$b/$n.ref.o" 2>/dev/null | grep -q " T $n\$" && ok=""
        nm "$b/$n.gpu.o" 2>/dev/null | grep -q " T $n\$" || ok=""
        grep -q "{\"$n\", gpu_${n}_packed, ref_${n}_packed," "$b/kernels.h" || ok=""
        if [ -n "$ok" ]; then pass; else fail "$n: objects, headers, symbols or kernels.h entry"; fi
    elif echo "$out" | grep -q "^note: $n left out"; then
        pass
    else
        fail "$n: neither in the bundle nor left out with a note"
    fi
done
# The headers together, as C++ (what the harness does).
if command -v c++ >/dev/null; then
    if (cd "$b" && printf '#include "%s"\n' *.gpu.h *.ref.h accl.h | c++ -Wall -Wextra -Werror -fsyntax-only -x c++ -); then
        pass
    else
        fail "the bundle's headers together as C++"
    fi
fi
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
if [[ "${CAPI_CFLAGS:-}" == *-fsanitize* ]]; then
    # make asan: libaccrt.a is built with the sanitizers, which nvcc's link lacks.
    echo "note: a sanitizer build: the harness is not linked with nvcc here"
elif [ -x "$nvcc" ] && [ -d /usr/local/cuda/lib64/stubs ]; then
    if PATH="$(dirname "$nvcc"):$PATH" NVCC_FLAGS=-L/usr/local/cuda/lib64/stubs bash "$b/run.sh" --build-only >"$work/nvcc.log" 2>&1 &&
        [ -x "$b/harness" ]; then
        pass
    else
        fail "nvcc could not build the harness: $(tail -5 "$work/nvcc.log")"
    fi
else
    echo "note: no nvcc (or no /usr/local/cuda/lib64/stubs): the harness is not compiled here"
fi

summary
