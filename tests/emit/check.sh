#!/usr/bin/env bash
# Structure tests of the CPU code generator (src/emit/cpu.c, machine.c).
#
#   usage: bash tests/emit/check.sh ACCL
#
# 1. tests/golden/emit/NAME.acc: the first line `// emit-args: ...` gives the
#    options (--emit=llvm|asm, --target=cpu:ARCH); FileCheck (LLVM 19) checks
#    the output against the CHECK lines of NAME.acc. (Each also has a NAME.ok
#    for the golden runner: it passes --check.)
# 2. Cross emission: every example to an object for cpu:x86_64 and
#    cpu:aarch64; llvm-readobj must report the architecture.
# 3. The matmul example's inner loop: for cpu:x86_64 (AVX2) packed FMAs on
#    ymm registers; for the host, when it has AVX-512 (the schedule's 6 x 32
#    tile is 12 zmm accumulators), at least 12 packed FMAs and no spill: no
#    store to the stack and no vector register loaded from it (reloads of
#    loop-invariant scalars are allowed).
# Ends with `N passed, N failed`; exits 1 on any failure.
set -u
source "$(dirname "$0")/../prelude.sh"

for f in "$root"/tests/golden/emit/*.acc; do
    name=emit/$(basename "$f")
    read -r -a args < <(sed -n '1s#^// emit-args: ##p' "$f")
    if "$accl" "${args[@]}" "$f" >"$tmp/out" 2>"$tmp/err" &&
        "$llvm/FileCheck" --input-file="$tmp/out" "$f" 2>"$tmp/err"; then
        ok
    else
        bad "$name"
    fi
done

for f in "$root"/examples/*.acc; do
    for arch in x86_64 aarch64; do
        name="cross $(basename "$f") cpu:$arch"
        if "$accl" --emit=obj --target=cpu:$arch -o "$tmp/x.o" "$f" 2>"$tmp/err" &&
            "$llvm/llvm-readobj" --file-headers "$tmp/x.o" >"$tmp/hdr" 2>"$tmp/err"; then
            want=$([ $arch = x86_64 ] && echo 'Arch: x86_64' || echo 'Arch: aarch64')
            if grep -q "$want" "$tmp/hdr"; then ok; else echo "no '$want'" >"$tmp/err"; bad "$name"; fi
        else
            bad "$name"
        fi
    done
done

# The innermost loop (a label and a backward jump to it, with no other such
# loop inside) with the most packed FMAs: its FMA count and its spills.
inner_loop() {
    awk '
    { line[NR] = $0 }
    /^\.LBB[0-9_]+:/ { start[substr($1, 1, length($1) - 1)] = NR }
    /^\tj[a-z]+\t\.LBB/ { if ($2 in start && start[$2] < NR) { n++; ls[n] = start[$2]; le[n] = NR } }
    END {
        for (a = 1; a <= n; a++) {
            inner = 1
            for (b = 1; b <= n; b++)
                if (b != a && ls[b] >= ls[a] && le[b] <= le[a] && (ls[b] != ls[a] || le[b] != le[a]))
                    inner = 0
            if (!inner) continue
            f = 0; st = 0
            for (i = ls[a]; i <= le[a]; i++) {
                if (line[i] ~ /vfmadd[0-9]+ps/ && line[i] ~ /[yz]mm/) f++
                if (line[i] ~ /\(%rsp|\(%rbp/ && (line[i] ~ /[xyz]mm/ || line[i] ~ /, -?[0-9]*\(%r[sb]p/)) st++
            }
            if (f > best) { best = f; bst = st }
        }
        print best + 0, bst + 0
    }'
}
avx512=0
grep -q avx512f /proc/cpuinfo && [ "$(uname -m)" = x86_64 ] && avx512=1
for target in cpu cpu:x86_64; do
    name="matmul inner loop ($target)"
    [ $target = cpu ] && [ "$(uname -m)" != x86_64 ] && continue
    if "$accl" --emit=asm --target=$target -o "$tmp/mm.s" "$root/examples/matmul.acc" 2>"$tmp/err"; then
        read -r fmas stack < <(inner_loop <"$tmp/mm.s")
        if { [ $target = cpu ] && [ $avx512 = 1 ] && [ "$fmas" -ge 12 ] && [ "$stack" -eq 0 ]; } ||
            { { [ $target != cpu ] || [ $avx512 = 0 ]; } && [ "$fmas" -ge 1 ]; }; then
            ok
        else
            echo "inner loop: $fmas packed FMAs, $stack stack accesses" >"$tmp/err"
            bad "$name"
        fi
    else
        bad "$name"
    fi
done

summary
