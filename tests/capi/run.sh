#!/usr/bin/env bash
# The C API test: compiles kernels to objects and headers with accl, links
# them with a C program (test_capi.c) and the runtime (libaccrt.a beside
# accl), and runs it; then checks that the bits do not depend on
# ACCL_NUM_THREADS, that headers stand alone (C and C++), that a failed
# compilation leaves existing outputs untouched, and --header alone.
#
#   usage: [CAPI_CFLAGS=...] bash tests/capi/run.sh build/accl
# Ends with `N passed, N failed`; exits 1 when any failed.
set -u
source "$(dirname "$0")/prelude.sh"

kernels="examples/matmul.acc examples/layernorm.acc examples/softmax.acc tests/capi/assume.acc tests/capi/half.acc tests/capi/outscalar.acc"
objs=""
for f in $kernels; do
    n=$(basename "$f" .acc)
    if "$ACCL" "$f" --target=cpu -o "$work/$n.o" --header "$work/$n.h"; then
        pass
    else
        fail "accl $f -o $n.o --header $n.h"
    fi
    objs="$objs $work/$n.o"
done

# Each header alone, as strict C and as C++.
for f in $kernels; do
    n=$(basename "$f" .acc)
    if cc -std=c11 -Wall -Wextra -Werror -pedantic -fsyntax-only -x c "$work/$n.h"; then pass; else fail "$n.h as C"; fi
    if ! command -v c++ >/dev/null; then continue; fi
    if c++ -Wall -Wextra -Werror -fsyntax-only -x c++ "$work/$n.h"; then pass; else fail "$n.h as C++"; fi
done

# CAPI_CFLAGS: extra flags for the program (the sanitizers libaccrt.a was built with).
if cc -std=c11 -O2 -Wall -Wextra -Werror ${CAPI_CFLAGS:-} -I"$work" -o "$work/test_capi" \
    tests/capi/test_capi.c $objs "$RT" -lm -lpthread; then
    pass
    count "$("$work/test_capi")"
    # The same bits on 1, 2 and 3 threads.
    ref=$(ACCL_NUM_THREADS=1 "$work/test_capi" --bits)
    case "$ref" in "rc 0 hash "*) pass ;; *) fail "test_capi --bits: $ref" ;; esac
    for t in 2 3; do
        got=$(ACCL_NUM_THREADS=$t "$work/test_capi" --bits)
        if [ "$got" = "$ref" ]; then pass; else fail "ACCL_NUM_THREADS=$t: $got, 1 thread: $ref"; fi
    done
else
    fail "cc test_capi.c"
fi

# A failed compilation leaves existing outputs as they were, and no temporaries.
cat > "$work/bad.acc" <<'ACC'
kernel shift(A: f32[N], B: out f32[N]) {
    for i in 0..N { B[i] = A[i + 1]; }
}
ACC
echo old-object > "$work/keep.o"
echo old-header > "$work/keep.h"
"$ACCL" "$work/bad.acc" -o "$work/keep.o" --header "$work/keep.h" 2>/dev/null
rc=$?
if [ $rc -eq 1 ]; then pass; else fail "bad.acc: exit $rc, expected 1"; fi
if [ "$(cat "$work/keep.o")" = old-object ] && [ "$(cat "$work/keep.h")" = old-header ]; then
    pass
else
    fail "a failed compilation touched -o or --header"
fi
if ls "$work"/keep.*.tmp* >/dev/null 2>&1; then fail "temporary files left"; else pass; fi

# --header alone writes the header only.
mkdir "$work/only"
if "$ACCL" examples/matmul.acc --header "$work/only/mm.h" && [ -s "$work/only/mm.h" ] &&
    [ "$(ls "$work/only")" = mm.h ] && grep -q '^#ifndef MM_H$' "$work/only/mm.h"; then
    pass
else
    fail "--header alone"
fi

summary
