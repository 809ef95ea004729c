#!/usr/bin/env bash
# Tests of `accl fmt` (lang/SPEC.md, Layout).
#
#   usage: bash tests/fmt/run.sh ACCL [--update]
#
# 1. Golden cases: tests/fmt/cases/NAME.acc formats to NAME.fmt, and every
#    NAME.fmt is a fixed point. --update rewrites the .fmt files.
# 2. Every examples/*.acc, tests/run/tutorials/*.acc and tests/golden/**/*.acc,
#    copied: those that parse are formatted in place (-w), then formatting is
#    idempotent (--check lists nothing) and `accl --emit=ast` is unchanged but
#    for @LINE:COL; those that do not parse are reported and left byte-identical.
# 3. The command line: -w (atomic, only when changed, mode kept), --check,
#    '-', files with syntax errors, usage errors.
# Ends with `N passed, N failed`; exits 1 on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 2
if [ $# -lt 1 ] || [ $# -gt 2 ] || { [ $# -eq 2 ] && [ "$2" != --update ]; }; then
    echo "usage: $0 ACCL [--update]" >&2
    exit 2
fi
accl=$1
[ -x "$accl" ] || { echo "$0: '$accl' is not an executable" >&2; exit 2; }
update=0
[ "${2:-}" = --update ] && update=1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() {   # check DESCRIPTION COMMAND...: passes when the command succeeds
    local what=$1; shift
    if "$@"; then ok; else bad "$what"; fi
}
strip_pos() { sed 's/ @[0-9]*:[0-9]*$//'; }

# ---- 1. golden cases ----
for c in tests/fmt/cases/*.acc; do
    want=${c%.acc}.fmt
    "$accl" fmt "$c" >"$tmp/out" 2>"$tmp/err"; rc=$?
    if [ $update = 1 ] && [ $rc = 0 ]; then cp "$tmp/out" "$want"; fi
    if [ $rc != 0 ]; then
        bad "$c: accl fmt exited $rc: $(head -3 "$tmp/err")"
    elif ! cmp -s "$tmp/out" "$want"; then
        bad "$c: output differs from $want"; diff "$want" "$tmp/out" | head -20
    else
        ok
    fi
done
"$accl" fmt --check tests/fmt/cases/*.fmt >"$tmp/out" 2>&1
check "the .fmt files are fixed points (changed: $(tr '\n' ' ' <"$tmp/out"))" test ! -s "$tmp/out"

# ---- 2. every example and golden input, on copies ----
mkdir -p "$tmp/orig"
names=("")
for f in examples/*.acc tests/run/tutorials/*.acc $(find tests/golden -name '*.acc' | sort); do
    names+=("$f")
    cp "$f" "$tmp/orig/$((${#names[@]} - 1)).acc"
done
cp -r "$tmp/orig" "$tmp/work"
"$accl" fmt -w "$tmp"/work/*.acc 2>"$tmp/w.err" >/dev/null
# Files with syntax errors are those the diagnostics name.
declare -A broken=() changed=()
for i in $(sed -n "s|^$tmp/work/\([0-9]*\)\.acc:[0-9]*:[0-9]*: error: .*|\1|p" "$tmp/w.err"); do
    broken[$i]=1
done
good=()
for i in $(seq $((${#names[@]} - 1))); do
    if [ -n "${broken[$i]:-}" ]; then
        check "${names[$i]}: has syntax errors, must be left untouched" \
            cmp -s "$tmp/orig/$i.acc" "$tmp/work/$i.acc"
    else
        good+=("$i")
    fi
done
good_paths=()
for i in "${good[@]}"; do good_paths+=("$tmp/work/$i.acc"); done
"$accl" fmt --check "${good_paths[@]}" >"$tmp/check.out" 2>&1
for i in $(sed -n "s|^$tmp/work/\([0-9]*\)\.acc$|\1|p" "$tmp/check.out"); do
    changed[$i]=1
done
# The AST of all the files at once (parsing runs no checks), then file by file on a mismatch.
for i in "${good[@]}"; do cat "$tmp/orig/$i.acc"; echo; done >"$tmp/all_orig.acc"
for i in "${good[@]}"; do cat "$tmp/work/$i.acc"; echo; done >"$tmp/all_fmt.acc"
"$accl" --emit=ast "$tmp/all_orig.acc" 2>&1 | strip_pos >"$tmp/ast_orig"
"$accl" --emit=ast "$tmp/all_fmt.acc" 2>&1 | strip_pos >"$tmp/ast_fmt"
ast_same=0
cmp -s "$tmp/ast_orig" "$tmp/ast_fmt" && [ -s "$tmp/ast_orig" ] && ast_same=1
for i in "${good[@]}"; do
    if [ -n "${changed[$i]:-}" ]; then
        bad "${names[$i]}: formatting twice changes the text"
        "$accl" fmt "$tmp/work/$i.acc" | diff "$tmp/work/$i.acc" - | head -10
    elif [ $ast_same = 0 ] && ! cmp -s <("$accl" --emit=ast "$tmp/orig/$i.acc" 2>&1 | strip_pos) \
                                       <("$accl" --emit=ast "$tmp/work/$i.acc" 2>&1 | strip_pos); then
        bad "${names[$i]}: the AST of the formatted text differs"
    else
        ok
    fi
done
check "--check over the formatted corpus lists nothing" test ! -s "$tmp/check.out"
check "some corpus files parse (${#good[@]}) and some do not (${#broken[@]})" \
    test "${#good[@]}" -gt 100 -a "${#broken[@]}" -gt 10

# ---- 3. the command line ----
d=$tmp/cli
mkdir -p "$d"
cp tests/fmt/cases/schedule.acc "$d/messy.acc"
cp tests/fmt/cases/schedule.fmt "$d/clean.acc"
printf 'kernel k(A: f32[N]) {\n    c: for i in 0..N { A[i] = ; }\n}\n' >"$d/broken.acc"
cp "$d/broken.acc" "$d/broken.orig"
chmod 640 "$d/messy.acc"
ino_messy=$(stat -c %i "$d/messy.acc")
ino_clean=$(stat -c %i "$d/clean.acc")
mtime_clean=$(stat -c %Y.%y "$d/clean.acc")

"$accl" fmt --check "$d/messy.acc" "$d/clean.acc" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "--check exits 1 when a file would change (got $rc)" test $rc = 1
check "--check lists exactly the file that would change" test "$(cat "$tmp/out")" = "$d/messy.acc"
check "--check writes nothing" cmp -s "$d/messy.acc" tests/fmt/cases/schedule.acc
"$accl" fmt --check "$d/clean.acc" >"$tmp/out" 2>&1; rc=$?
check "--check exits 0 and is silent when nothing would change" test $rc = 0 -a ! -s "$tmp/out"

"$accl" fmt -w "$d/messy.acc" "$d/clean.acc" "$d/broken.acc" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "-w with a broken file exits 1 (got $rc)" test $rc = 1
check "-w prints nothing on stdout" test ! -s "$tmp/out"
check "-w rewrites the file that changes" cmp -s "$d/messy.acc" tests/fmt/cases/schedule.fmt
check "-w replaces it by a rename (new inode)" test "$(stat -c %i "$d/messy.acc")" != "$ino_messy"
check "-w keeps the file's mode" test "$(stat -c %a "$d/messy.acc")" = 640
check "-w leaves a formatted file alone (same inode and time)" \
    test "$(stat -c %i "$d/clean.acc")" = "$ino_clean" -a "$(stat -c %Y.%y "$d/clean.acc")" = "$mtime_clean"
check "-w leaves a file with syntax errors byte-identical" cmp -s "$d/broken.acc" "$d/broken.orig"
check "-w reports the syntax error" grep -q "broken.acc:2:31: error: unexpected ';'" "$tmp/err"
check "-w leaves no temporary file" test "$(ls "$d" | wc -l)" = 4

"$accl" fmt "$d/broken.acc" >"$tmp/out" 2>"$tmp/err"; rc=$?
check "a file with syntax errors: exit 1, nothing on stdout, the error on stderr" \
    test $rc = 1 -a ! -s "$tmp/out" -a -s "$tmp/err"
"$accl" fmt - <tests/fmt/cases/kernel.acc >"$tmp/out"; rc=$?
check "'-' formats standard input to standard output" test $rc = 0
check "'-' gives the same text as the file" cmp -s "$tmp/out" tests/fmt/cases/kernel.fmt
"$accl" fmt --check - <tests/fmt/cases/kernel.acc >"$tmp/out"; rc=$?
check "--check - lists <stdin>" test $rc = 1 -a "$(cat "$tmp/out")" = "<stdin>"
"$accl" fmt tests/fmt/cases/empty.acc tests/fmt/cases/kernel.acc >"$tmp/out"; rc=$?
check "several files print one after another" test $rc = 0
check "several files: their texts in order" cmp -s "$tmp/out" \
    <(cat tests/fmt/cases/empty.fmt tests/fmt/cases/kernel.fmt)
"$accl" fmt "$d/missing.acc" >/dev/null 2>"$tmp/err"; rc=$?
check "a missing file: exit 1, 'cannot open'" test $rc = 1 -a -n "$(grep "cannot open" "$tmp/err")"

usage() {   # usage EXPECTED-MESSAGE ARGS...
    local msg=$1; shift
    "$accl" fmt "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; local rc=$?
    check "accl fmt $*: exit 2 (got $rc)" test $rc = 2
    check "accl fmt $*: says '$msg'" grep -qF "accl: error: $msg" "$tmp/err"
}
usage "no input file"
usage "unknown option '-x'" -x "$d/clean.acc"
usage "-w and --check cannot be combined" -w --check "$d/clean.acc"
usage "-w cannot rewrite standard input" -w -
"$accl" fmt --help >"$tmp/out"; rc=$?
check "--help exits 0 and prints the usage" test $rc = 0 -a -n "$(grep '^usage: accl fmt' "$tmp/out")"

echo "$pass passed, $fail failed"
[ $fail = 0 ]
