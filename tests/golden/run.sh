#!/usr/bin/env bash
# Golden tests: tests/golden/*/NAME.acc with expected outputs beside it.
#
#   usage: bash tests/golden/run.sh ACCL [--update] [PATTERN]
#
# For each NAME.acc (an optional first line `// args: ...` adds options), every
# expected file that exists is one case:
#   NAME.tokens  stdout of `accl ARGS --emit=tokens NAME.acc`    (exit 0)
#   NAME.ast     stdout of `accl ARGS --emit=ast NAME.acc`       (exit 0)
#   NAME.sched   stdout of `accl ARGS --emit=schedule NAME.acc`  (exit 0)
#   NAME.ir      stdout of `accl ARGS --emit=ir NAME.acc`        (exit 0; with
#                --dump=after:PASS in ARGS the dump comes first, on stdout)
#   NAME.err     stderr of `accl ARGS --check NAME.acc`  (exit 1, stdout empty)
#   NAME.ok      empty marker: `accl ARGS --check NAME.acc` exits 0, stderr empty
# and .err and .ok have a second case, `NAME.err (compile)`: with ARGS less any
# --dump or --emit (the target stays), `accl ARGS --check NAME.acc` and the full
# compile `accl ARGS NAME.acc -o OBJ` agree. For .err both exit 1 with the same
# first error line (file:line:col: error: text), which is also the first error
# of NAME.err, and --check prints nothing on stdout; for .ok the compile exits 0.
# An .acc with no expected file is an error. A run killed by a signal always fails.
#
# PATTERN picks the cases to run (or update): those whose expected file's path
# under tests/golden (`spmd/barrier_tile.ir`) matches it, as a glob when it holds
# *, ? or [ (`lower/*.err`), else as a substring (`spmd/`, `lower/fuse_err_holes`,
# `.sched`). A PATTERN that matches no case is an error.
# --update rewrites the expected files from what accl prints (when it exits as
# the case requires); the compile cases compare and are never written.
# Ends with `N passed, N failed`; exits 1 on any failure.
set -u

usage() {
    echo "usage: $0 ACCL [--update] [PATTERN]" >&2
    exit 2
}
[ $# -ge 1 ] || usage
accl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
shift
update=0
pattern=
for a in "$@"; do
    if [ "$a" = --update ] && [ "$update" = 0 ]; then
        update=1
    elif [ -z "$pattern" ] && [ -n "$a" ] && [[ $a != -* ]]; then
        pattern=$a
    else
        usage
    fi
done
if [ ! -x "$accl" ]; then
    echo "$0: '$1' is not an executable" >&2
    exit 2
fi

cd "$(dirname "$0")" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0
fail=0
matched=0

failed() { # case message
    echo "FAIL $1: $2"
    fail=$((fail + 1))
}

# selected EXPECTED: whether PATTERN (if any) picks the case.
selected() {
    [ -z "$pattern" ] && return 0
    case $pattern in
    *[*?[]*) [[ $1 == $pattern ]] ;;
    *) [[ $1 == *"$pattern"* ]] ;;
    esac
}

# first_error FILE: the first line of FILE that reports an error.
first_error() {
    grep -m 1 -E '(^|: )error: ' "$1"
}

# compile_case FILE EXPECTED ARGS...: --check and a full compile agree (see above).
compile_case() {
    local f=$1 exp=$2
    shift 2
    local name="$exp (compile)" rc=0 crc=0
    "$accl" "$@" --check "$f" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
    "$accl" "$@" "$f" -o "$tmp/obj.o" >/dev/null 2>"$tmp/cerr" </dev/null || crc=$?
    if [ "$rc" -gt 128 ] || [ "$crc" -gt 128 ]; then
        failed "$name" "accl was killed by a signal (--check: $rc, compile: $crc)"
        return
    fi
    local want_rc=0
    [[ $exp == *.err ]] && want_rc=1
    if [ "$rc" -ne "$want_rc" ] || [ "$crc" -ne "$want_rc" ]; then
        failed "$name" "exit status $rc with --check and $crc compiling, expected $want_rc"
        sed 's/^/    check:   /' "$tmp/err" | head -5
        sed 's/^/    compile: /' "$tmp/cerr" | head -5
        return
    fi
    if [ -s "$tmp/out" ]; then
        failed "$name" "--check wrote to stdout"
        sed 's/^/    /' "$tmp/out" | head -20
        return
    fi
    if [ "$want_rc" = 1 ]; then
        local c e g
        c=$(first_error "$tmp/err") e=$(first_error "$tmp/cerr") g=$(first_error "$exp")
        if [ -z "$c" ] || [ "$c" != "$e" ] || [ "$c" != "$g" ]; then
            failed "$name" "first errors differ"
            printf '    %-9s %s\n' "--check:" "$c" compile: "$e" "$exp:" "$g"
            return
        fi
    fi
    pass=$((pass + 1))
}

# run_case FILE EXPECTED KIND ARGS...: runs accl and compares one expected file.
run_case() {
    local f=$1 exp=$2 kind=$3
    shift 3
    local rc=0
    "$accl" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
    if [ "$rc" -gt 128 ]; then
        failed "$exp" "accl was killed by signal $((rc - 128))"
        sed 's/^/    /' "$tmp/err" | head -20
        return
    fi
    local want_rc=0 got=$tmp/out
    case $kind in
    err) want_rc=1 got=$tmp/err ;;
    ok) want_rc=0 got=$tmp/err ;;
    esac
    if [ "$rc" -ne "$want_rc" ]; then
        failed "$exp" "exit status $rc, expected $want_rc"
        sed 's/^/    /' "$tmp/err" | head -20
        return
    fi
    if [ "$kind" = err ] && [ -s "$tmp/out" ]; then
        failed "$exp" "stdout is not empty"
        sed 's/^/    /' "$tmp/out" | head -20
        return
    fi
    if [ "$kind" = ok ]; then
        if [ -s "$tmp/err" ]; then
            failed "$exp" "stderr is not empty"
            sed 's/^/    /' "$tmp/err" | head -20
        else
            pass=$((pass + 1))
        fi
        return
    fi
    if [ "$update" = 1 ]; then
        cp "$got" "$exp"
        pass=$((pass + 1))
    elif cmp -s "$got" "$exp"; then
        pass=$((pass + 1))
    else
        failed "$exp" "output differs"
        diff -u "$exp" "$got" | sed 's/^/    /' | head -60
    fi
}

while IFS= read -r f; do
    base=${f%.acc}
    # Hand-computed outputs (NAME.values) are checked by tests/run/values.sh.
    [ -e "$base.values" ] && continue
    args=()
    first=$(head -n 1 "$f" | tr -d '\0')
    if [[ $first == "// args:"* ]]; then
        read -r -a args <<<"${first#// args:}"
    fi
    # The args of a compile: the target and params, no stage printed.
    cargs=()
    for a in "${args[@]}"; do
        case $a in
        --dump=* | --emit=*) ;;
        *) cargs+=("$a") ;;
        esac
    done
    found=0
    for ext in tokens ast sched ir err ok; do
        exp=$base.$ext
        [ -e "$exp" ] || continue
        found=1
        selected "$exp" || continue
        matched=$((matched + 1))
        case $ext in
        tokens) run_case "$f" "$exp" out "${args[@]}" --emit=tokens "$f" ;;
        ast) run_case "$f" "$exp" out "${args[@]}" --emit=ast "$f" ;;
        sched) run_case "$f" "$exp" out "${args[@]}" --emit=schedule "$f" ;;
        ir) run_case "$f" "$exp" out "${args[@]}" --emit=ir "$f" ;;
        err) run_case "$f" "$exp" err "${args[@]}" --check "$f" ;;
        ok) run_case "$f" "$exp" ok "${args[@]}" --check "$f" ;;
        esac
        case $ext in
        err | ok) compile_case "$f" "$exp" "${cargs[@]}" ;;
        esac
    done
    if [ "$found" = 0 ] && selected "$f"; then
        failed "$f" "no expected file (.tokens, .ast, .sched, .ir, .err or .ok) beside it"
    fi
done < <(find . -mindepth 2 -name '*.acc' | sed 's|^\./||' | LC_ALL=C sort)

if [ -n "$pattern" ] && [ "$matched" = 0 ] && [ "$fail" = 0 ]; then
    echo "$0: no case matches '$pattern'" >&2
    fail=1
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
