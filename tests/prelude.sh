# The start the test scripts share, sourced with the script's own arguments:
# `usage: SCRIPT ACCL`, then
#   accl   the compiler, as an absolute path
#   root   the repository, which is also the current folder
#   llvm   LLVM 19's tools
#   tmp    a scratch folder, removed at exit
#   ok; bad MESSAGE  count a check (bad prints FAIL MESSAGE, and the head of
#                    $tmp/err when the script left the failed command's errors there)
#   summary          prints `N passed, N failed`; its status is 0 when none failed
if [ $# -ne 1 ]; then
    echo "usage: $0 ACCL" >&2
    exit 2
fi
if [ ! -x "$1" ]; then
    echo "$0: '$1' is not an executable" >&2
    exit 2
fi
accl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root" || exit 2
llvm=/usr/lib/llvm-19/bin
tmp=$(mktemp -d)
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
    echo "FAIL $*"
    [ -s "$tmp/err" ] && sed 's/^/    /' "$tmp/err" | head -20
    fail=$((fail + 1))
}
summary() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
