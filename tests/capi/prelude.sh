# The start every tests/capi script shares, sourced with the script's own
# arguments: `usage: SCRIPT ACCL`, then
#   ACCL   the compiler, as an absolute path; RT the runtime beside it
#   work   a scratch folder, removed at exit (the current folder is the repository)
#   pass, fail MESSAGE   count a check (fail prints MESSAGE)
#   count OUTPUT         adds a C test program's `NAME: N passed, N failed` line to
#                        the counts (and prints the rest of its output)
#   summary              prints `N passed, N failed`; its status is 0 when none failed
[ $# -eq 1 ] || { echo "usage: $0 ACCL" >&2; exit 2; }
ACCL=$(realpath "$1")
RT=$(dirname "$ACCL")/libaccrt.a
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
summary() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
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
