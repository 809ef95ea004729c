#!/usr/bin/env bash
# Nvidia device code (src/emit/gpu.c, nvptx.c) and the driver's device-code
# options (--emit=llvm|ptx|cubin, --print-resources).
#
#   usage: bash tests/emit/gpu.sh ACCL
#
# 1. Every example and tutorial kernel (tests/run/tutorials/) x every Nvidia
#    target: --emit=ptx succeeds, declares no external function, and (where
#    ptxas is present) ptxas -arch=<sm> accepts it.
# 2. tests/emit/nvptx/NAME.acc (options on the first line `// emit-args: ...`)
#    and NAME.check (first line `// emit-args: INPUT ...`, INPUT relative to the
#    repository): FileCheck (LLVM 19) checks the output against the file once per
#    check prefix it uses (CHECK, SMEM, BAR, ...), so that each prefix's checks
#    are ordered on their own; the LIBDEVICE prefix only where libdevice is.
# 3. ptxas present: --emit=cubin writes an ELF for the CUDA machine;
#    --print-resources prints one line per kernel in the documented format;
#    without libdevice ($ACCL_LIBDEVICE naming no file) the math is accl's own,
#    still with no call, and ptxas accepts it.
# 4. Errors: ptxas missing for --emit=cubin and --print-resources (exit 1, the
#    message), the Nvidia-only options on other targets and their clashes
#    (exit 2).
# Skips the ptxas parts (with a message) where ptxas is not found.
# Ends with `N passed, N failed`; exits 1 on any failure.
set -u
source "$(dirname "$0")/../prelude.sh"

targets="sm_80 sm_86 sm_89 sm_90 sm_90a"
ptxas=${ACCL_PTXAS:-$(command -v ptxas || true)}
[ -n "$ptxas" ] || [ ! -x /usr/local/cuda/bin/ptxas ] || ptxas=/usr/local/cuda/bin/ptxas
if [ -z "$ptxas" ] || [ ! -x "$ptxas" ]; then
    echo "note: ptxas not found (\$ACCL_PTXAS, PATH, /usr/local/cuda/bin): skipping the ptxas checks"
    ptxas=""
fi

libdevice=${ACCL_LIBDEVICE:-/usr/local/cuda/nvvm/libdevice/libdevice.10.bc}
if [ ! -r "$libdevice" ]; then
    echo "note: no libdevice ($libdevice): skipping the LIBDEVICE checks (accl's own math is used)"
    libdevice=""
fi

# 1. every example for every Nvidia target (two at a time)
one_example() {
    local f=$1 t=$2 out="$tmp/ex.$(basename "$1" .acc).$2"
    if ! "$accl" "$f" --target=nvidia:$t --emit=ptx -o "$out.ptx" 2>"$out.err"; then
        echo "FAIL example $(basename "$f") $t: accl"; sed 's/^/    /' "$out.err" | head -10; return
    fi
    if grep -qE '\.extern \.func|\bcall(\.uni)? ' "$out.ptx"; then
        echo "FAIL example $(basename "$f") $t: an external function or call is left"; return
    fi
    if [ -n "$ptxas" ] && ! "$ptxas" -arch=$t -o "$out.cubin" "$out.ptx" >"$out.err" 2>&1; then
        echo "FAIL example $(basename "$f") $t: ptxas"; sed 's/^/    /' "$out.err" | head -10; return
    fi
    echo "PASS example $(basename "$f") $t"
}
export -f one_example
export accl tmp ptxas
for f in examples/*.acc tests/run/tutorials/*.acc; do for t in $targets; do echo "$f $t"; done; done |
    xargs -P 2 -n 2 bash -c 'one_example "$0" "$1"' >"$tmp/examples.log"
grep '^FAIL' -A10 "$tmp/examples.log" | grep -v '^PASS'
pass=$((pass + $(grep -c '^PASS' "$tmp/examples.log")))
fail=$((fail + $(grep -c '^FAIL' "$tmp/examples.log")))

# 2. structure tests
for f in tests/emit/nvptx/*.acc tests/emit/nvptx/*.check; do
    [ -e "$f" ] || continue
    name=nvptx/$(basename "$f")
    read -r -a args < <(sed -n '1s#^// emit-args: ##p' "$f")
    [[ $f == *.acc ]] && args+=("$f")
    if ! "$accl" "${args[@]}" -o "$tmp/out" 2>"$tmp/err"; then
        bad "$name"
        continue
    fi
    good=1
    for p in $(grep -oE '^// [A-Z]+(-[A-Z0-9]+)*:' "$f" | sed -E 's#^// ([A-Z]+).*#\1#' | sort -u); do
        [ $p != LIBDEVICE ] || [ -n "$libdevice" ] || continue
        "$llvm/FileCheck" --check-prefix="$p" --input-file="$tmp/out" "$f" 2>"$tmp/err" || { good=0; break; }
    done
    if [ $good = 1 ]; then ok; else bad "$name"; fi
done

# 3. ptxas: cubin, resources, no libdevice
if [ -n "$ptxas" ]; then
    export ACCL_PTXAS=$ptxas
    name="--emit=cubin writes an ELF for the CUDA machine"
    if "$accl" examples/matmul.acc --target=nvidia:sm_90a --emit=cubin -o "$tmp/m.cubin" 2>"$tmp/err" &&
        [ "$(head -c 4 "$tmp/m.cubin" | od -An -c | tr -d ' ')" = '177ELF' ] &&
        "$llvm/llvm-readobj" --file-headers "$tmp/m.cubin" >"$tmp/hdr" 2>"$tmp/err" &&
        grep -qE 'Machine: (EM_CUDA|0xBE)' "$tmp/hdr"; then
        ok
    else
        bad "$name"
    fi

    # One line per kernel: <kernel>: registers R, shared S bytes (static A, dynamic D),
    # spill stores X bytes, spill loads Y bytes, stack Z bytes, threads T
    line='^accl_[a-z0-9_]+: registers [0-9]+, shared [0-9]+ bytes \(static [0-9]+, dynamic [0-9]+\), spill stores [0-9]+ bytes, spill loads [0-9]+ bytes, stack [0-9]+ bytes, threads [0-9]+$'
    name="--print-resources: matmul sm_80"
    if "$accl" examples/matmul.acc --target=nvidia:sm_80 --print-resources >"$tmp/out" 2>"$tmp/res" &&
        [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/res")" = 1 ] && grep -qE "$line" "$tmp/res" &&
        grep -qE '^accl_matmul_0: .*shared 16384 bytes \(static 0, dynamic 16384\), .*threads 256$' "$tmp/res"; then
        ok
    else
        cp "$tmp/res" "$tmp/err"
        bad "$name"
    fi
    name="--print-resources: layernorm's five launches, with --emit=ptx"
    if "$accl" examples/layernorm.acc --target=nvidia:sm_86 --emit=ptx -o "$tmp/l.ptx" --print-resources \
        2>"$tmp/res" && [ -s "$tmp/l.ptx" ] && [ "$(grep -cE "$line" "$tmp/res")" = 5 ] &&
        [ "$(wc -l <"$tmp/res")" = 5 ]; then
        ok
    else
        cp "$tmp/res" "$tmp/err"
        bad "$name"
    fi

    name="no libdevice: accl's own math, no call, accepted by ptxas"
    if ACCL_LIBDEVICE=$tmp/none.bc "$accl" examples/gelu.acc --target=nvidia:sm_80 --emit=ptx -o "$tmp/g.ptx" \
        2>"$tmp/err" && ! grep -qE '\.extern|\bcall' "$tmp/g.ptx" &&
        "$ptxas" -arch=sm_80 -o "$tmp/g.cubin" "$tmp/g.ptx" 2>"$tmp/err"; then
        ok
    else
        bad "$name"
    fi
    unset ACCL_PTXAS
fi

# 4. errors
expect() {   # expect NAME STATUS PATTERN -- accl args...
    local name=$1 status=$2 pat=$3
    shift 4
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ $rc = "$status" ] && grep -qF -- "$pat" "$tmp/err"; then ok; else echo "(exit $rc)" >>"$tmp/err"; bad "$name"; fi
}
expect "cubin without ptxas" 1 "accl: error: ptxas not found (looked at \$ACCL_PTXAS, on PATH and in /usr/local/cuda/bin): a cubin needs it" -- \
    env ACCL_PTXAS="$tmp/no-ptxas" "$accl" examples/gelu.acc --target=nvidia:sm_80 --emit=cubin -o "$tmp/x.cubin"
[ ! -e "$tmp/x.cubin" ] || { echo "cubin written after an error" >"$tmp/err"; bad "no cubin after the error"; }
expect "resources without ptxas" 1 "--print-resources needs it" -- \
    env ACCL_PTXAS="$tmp/no-ptxas" "$accl" examples/gelu.acc --target=nvidia:sm_80 --print-resources
expect "ptx for amd" 2 "accl: error: --emit=ptx needs an Nvidia target and no --check" -- \
    "$accl" examples/gelu.acc --target=amd:gfx942 --emit=ptx
expect "cubin for the cpu" 2 "accl: error: --emit=cubin needs an Nvidia target and no --check" -- \
    "$accl" examples/gelu.acc --emit=cubin
expect "resources for the cpu" 2 "accl: error: --print-resources needs an Nvidia target and no --check" -- \
    "$accl" examples/gelu.acc --print-resources
expect "resources with --emit=ir" 2 "accl: error: --print-resources cannot be combined with --emit=ir" -- \
    "$accl" examples/gelu.acc --target=nvidia:sm_80 --emit=ir --print-resources
expect "resources with -o" 2 "accl: error: --print-resources cannot be combined with -o without --emit" -- \
    "$accl" examples/gelu.acc --target=nvidia:sm_80 -o "$tmp/x.o" --print-resources
expect "ptx with a header" 2 "accl: error: --header cannot be combined with --emit=ptx" -- \
    "$accl" examples/gelu.acc --target=nvidia:sm_80 --emit=ptx --header "$tmp/x.h"
expect "asm for a GPU" 2 "accl: error: --emit=asm needs a CPU target and no --check" -- \
    "$accl" examples/gelu.acc --target=nvidia:sm_80 --emit=asm

summary
