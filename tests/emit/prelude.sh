# The start every tests/emit script shares, sourced with the script's own
# arguments: `usage: SCRIPT ACCL`, then
#   accl   the compiler, as an absolute path
#   root   the repository
#   llvm   LLVM 19's tools
#   tmp    a scratch folder, removed at exit
#   ok, bad NAME   count a check (bad prints NAME and the head of $tmp/err)
#   summary        prints `N passed, N failed`; its status is 0 when none failed
if [ $# -ne 1 ]; then
    echo "usage: $0 ACCL" >&2
    exit 2
fi
accl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
llvm=/usr/lib/llvm-19/bin
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $1"; [ -s "$tmp/err" ] && sed 's/^/    /' "$tmp/err" | head -20; fail=$((fail + 1)); }
summary() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
