#!/usr/bin/env bash
# The install test: `make install` into a temporary DESTDIR and PREFIX (twice:
# installing again must be harmless), checks every file against its source,
# runs the installed accl, compiles a kernel with it and links a C program
# against the installed accl.h and libaccrt.a; then `make uninstall` must leave
# exactly what was there before (a folder and a file that were not accl's stay).
#
#   usage: [INSTALL_CFLAGS=...] bash tests/man/install.sh build/accl
# INSTALL_CFLAGS: extra flags for the C program (the sanitizers libaccrt.a was
# built with). Ends with `N passed, N failed`; exits 1 when any failed.
set -u
[ $# -eq 1 ] || { echo "usage: $0 ACCL" >&2; exit 2; }
ACCL=$(realpath "$1")
cd "$(dirname "$0")/../.." || exit 2
BUILD=$(realpath --relative-to=. "$(dirname "$ACCL")")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

stage=$work/stage
prefix=/opt/accl
root=$stage$prefix
# Not accl's: make uninstall must leave them.
mkdir -p "$root/bin"
echo other >"$root/bin/other-tool"
before=$(cd "$stage" && find . | sort)

mk() { make -s --no-print-directory "$@" BUILD="$BUILD" DESTDIR="$stage" PREFIX="$prefix"; }

for round in 1 2; do
    if mk install >"$work/install.log" 2>&1; then pass; else fail "make install (round $round): $(cat "$work/install.log")"; fi
done

# Each installed file is its source, byte for byte.
expect() {
    local src=$1 dst=$root/$2
    if cmp -s "$src" "$dst"; then pass; else fail "$dst is not a copy of $src"; fi
}
expect "$ACCL" bin/accl
if [ -x "$root/bin/accl" ]; then pass; else fail "bin/accl is not executable"; fi
expect "$BUILD/libaccrt.a" lib/libaccrt.a
expect src/runtime/accl.h include/accl.h
expect src/runtime/accl_codes.h include/accl_codes.h
expect man/accl.1 share/man/man1/accl.1
for f in stdlib/*.acc; do [ ! -e "$f" ] || expect "$f" "share/accl/stdlib/${f#stdlib/}"; done
if [ -d lang/editors ]; then
    while IFS= read -r f; do
        expect "lang/editors/$f" "share/accl/editors/$f"
    done < <(cd lang/editors && find . -name node_modules -prune -o -type f -print | sed 's|^\./||')
fi
# Each header accl.h includes is installed beside it.
for h in $(sed -nE 's/^#include "([^"]+)"/\1/p' src/runtime/accl.h); do
    if [ -f "$root/include/$h" ]; then pass; else fail "accl.h includes $h, which is not installed"; fi
done

want=$("$ACCL" --version)
got=$("$root/bin/accl" --version 2>&1)
if [ "$got" = "$want" ] && [ -n "$got" ]; then pass; else fail "installed accl --version: '$got', expected '$want'"; fi

# A kernel compiled by the installed accl, called from C through the installed
# header and library.
cat >"$work/scale.acc" <<'EOF'
kernel scale(X: f32[N], a: f32, Y: out f32[N]) {
    for i in 0..N {
        Y[i] = a * X[i];
    }
}
EOF
cat >"$work/main.c" <<'EOF'
#include <accl.h>
#include <stdio.h>
#include <string.h>

#include "scale.h"

int main(void)
{
    float x[5] = {1, 2, 3, 4, 5}, y[5] = {0};
    int bad = 0;
    if (scale(x, 2.0f, y, 5) != ACCL_OK)
        bad++;
    for (int i = 0; i < 5; i++)
        bad += y[i] != 2.0f * x[i];
    bad += scale(x, 2.0f, y, -1) != ACCL_ERR_BAD_SIZE;
    bad += strlen(accl_strerror(ACCL_ERR_BAD_SIZE)) == 0;
    bad += accl_num_threads() < 1;
    printf("%s\n", bad ? "wrong" : "ok");
    return bad != 0;
}
EOF
if "$root/bin/accl" "$work/scale.acc" -o "$work/scale.o" --header "$work/scale.h"; then
    pass
    if cc -std=c11 -Wall -Wextra -Werror ${INSTALL_CFLAGS:-} -I"$root/include" -I"$work" \
        -o "$work/main" "$work/main.c" "$work/scale.o" -L"$root/lib" -laccrt -lm -lpthread; then
        pass
        out=$("$work/main")
        if [ "$out" = ok ]; then pass; else fail "the program linked against the install says '$out'"; fi
    else
        fail "cc against the installed accl.h and libaccrt.a"
    fi
else
    fail "the installed accl cannot compile scale.acc"
fi

if mk uninstall >"$work/uninstall.log" 2>&1; then pass; else fail "make uninstall: $(cat "$work/uninstall.log")"; fi
after=$(cd "$stage" && find . | sort)
if [ "$after" = "$before" ]; then
    pass
else
    fail "make uninstall left or removed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | tr '\n' ' ')"
fi
out=$(mk uninstall 2>&1)
case "$out" in "nothing to uninstall"*) pass ;; *) fail "a second make uninstall: $out" ;; esac

echo "install: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
