# The start every tests/capi script shares, sourced with the script's own
# arguments: `usage: SCRIPT ACCL`, then
#   ACCL   the compiler, as an absolute path; RT the runtime beside it
#   work   a scratch folder, removed at exit (the current folder is the repository)
#   pass, fail MESSAGE   count a check (fail prints MESSAGE)
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
