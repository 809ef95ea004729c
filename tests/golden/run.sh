#!/usr/bin/env bash
# Golden tests: tests/golden/*/NAME.acc with expected outputs beside it.
#
#   usage: bash tests/golden/run.sh ACCL [--update]
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
# An .acc with no expected file is an error. A run killed by a signal always fails.
# --update rewrites the expected files from what accl prints (when it exits as
# the case requires). Ends with `N passed, N failed`; exits 1 on any failure.
set -u

if [ $# -lt 1 ] || [ $# -gt 2 ] || { [ $# -eq 2 ] && [ "$2" != --update ]; }; then
    echo "usage: $0 ACCL [--update]" >&2
    exit 2
fi
accl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
update=0
[ "${2:-}" = --update ] && update=1
if [ ! -x "$accl" ]; then
    echo "$0: '$1' is not an executable" >&2
    exit 2
fi

cd "$(dirname "$0")" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass=0
fail=0

failed() { # case message
    echo "FAIL $1: $2"
    fail=$((fail + 1))
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
    found=0
    for ext in tokens ast sched ir err ok; do
        exp=$base.$ext
        [ -e "$exp" ] || continue
        found=1
        case $ext in
        tokens) run_case "$f" "$exp" out "${args[@]}" --emit=tokens "$f" ;;
        ast) run_case "$f" "$exp" out "${args[@]}" --emit=ast "$f" ;;
        sched) run_case "$f" "$exp" out "${args[@]}" --emit=schedule "$f" ;;
        ir) run_case "$f" "$exp" out "${args[@]}" --emit=ir "$f" ;;
        err) run_case "$f" "$exp" err "${args[@]}" --check "$f" ;;
        ok) run_case "$f" "$exp" ok "${args[@]}" --check "$f" ;;
        esac
    done
    if [ "$found" = 0 ]; then
        failed "$f" "no expected file (.tokens, .ast, .sched, .ir, .err or .ok) beside it"
    fi
done < <(find . -mindepth 2 -name '*.acc' | sed 's|^\./||' | LC_ALL=C sort)

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
