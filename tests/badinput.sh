#!/usr/bin/env bash
# Hostile and broken inputs: accl must answer each with exit 0 (valid input) or
# exit 1 and a diagnostic, never a signal, never a sanitizer report, and the big
# inputs within 1 second.
#
#   usage: bash tests/badinput.sh ACCL
#
# Prints failures, then `N passed, N failed`; exits 1 on any failure.
set -u
export LC_ALL=C

if [ $# -ne 1 ]; then
    echo "usage: $0 ACCL" >&2
    exit 2
fi
accl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
# Sanitizer builds run several times slower; they pass a larger limit.
limit_ms=${ACCL_TIME_LIMIT_MS:-1000}
# A run is stopped well past the limit (5 s for the default 1 s; more where the
# limit is raised, as under AddressSanitizer), so a slow run fails on the limit.
timeout_s=$(((limit_ms + 999) / 1000 + 4))
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'chmod -R u+rwx "$tmp" 2>/dev/null; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 2

pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() {
    echo "FAIL $1: $2"
    [ -s err ] && head -c 2000 err | sed 's/^/    /'
    fail=$((fail + 1))
}

# expect NAME WANT_RC FILE [ACCL ARGS...]: one run of `accl --check FILE`
# (or of the given arguments), timed. WANT_RC is 0 or 1.
expect() {
    local name=$1 want=$2 file=$3
    shift 3
    local args=("$@")
    [ ${#args[@]} -eq 0 ] && args=(--check "$file")
    local t0 t1 rc=0
    t0=$(date +%s%N)
    timeout "$timeout_s" "$accl" "${args[@]}" >out 2>err </dev/null || rc=$?
    t1=$(date +%s%N)
    local ms=$(((t1 - t0) / 1000000))
    if [ "$rc" = 124 ]; then
        bad "$name" "timed out after $timeout_s s"
    elif [ "$rc" -gt 128 ]; then
        bad "$name" "killed by signal $((rc - 128))"
    elif grep -q Sanitizer err; then
        bad "$name" "sanitizer report"
    elif [ "$rc" != "$want" ]; then
        bad "$name" "exit status $rc, expected $want"
    elif [ "$want" = 1 ] && ! grep -q 'error' err; then
        bad "$name" "exit 1 without a diagnostic on stderr"
    elif [ "$ms" -ge "$limit_ms" ]; then
        bad "$name" "took $ms ms (the limit is $limit_ms ms)"
    else
        ok
    fi
}

# Deterministic bytes 1..255 (Park-Miller generator, fixed seed; no NUL, which
# awk cannot print portably).
random_bytes() { # COUNT
    awk -v n="$1" 'BEGIN { x = 42; for (i = 0; i < n; i++) { x = (x * 16807) % 2147483647; printf "%c", 1 + x % 255 } }'
}
repeat() { # COUNT STRING
    awk -v n="$1" -v s="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s", s }'
}

# ---- small and strange files ----
: >empty.acc
expect "empty file" 0 empty.acc

random_bytes 65536 >random.acc
expect "64 KB of random bytes" 1 random.acc

repeat 65536 $'\xff' >ff.acc
expect "64 KB of invalid UTF-8 (0xff)" 1 ff.acc
printf 'kernel k(X: f32[N], Y: out f32[N]) { for i in 0..N { Y[i] = X[i] \xc3\x28 \xe2\x82 \xf0\x9f\x98; } }\n' >utf8.acc
expect "truncated and malformed UTF-8 sequences" 1 utf8.acc

head -c 65536 /dev/zero >nul.acc
expect "64 KB of NUL bytes" 1 nul.acc
printf 'kernel k(X: f32[N], Y: out f32[N]) {\0 for i in 0..N { Y[i] = X[i]; } }\n' >nul1.acc
expect "a NUL byte inside a kernel" 1 nul1.acc

# ---- big inputs ----
{ printf '// '; repeat 1048576 x; printf '\n'; } >longcomment.acc
expect "1 MB comment line" 0 longcomment.acc
repeat 524288 'x ' >longline.acc
expect "1 MB line of identifiers" 1 longline.acc
{ printf 'kernel k(X: f32[N], Y: out f32[N]) { for i in 0..N { Y[i] = '; repeat 1048576 'X[i]+' | head -c 1048576; printf 'X[i]; } }\n'; } >longexpr.acc
expect "1 MB expression on one line (deeper than the 1000-level limit)" 1 longexpr.acc

{ printf 'kernel k(X: f32[N], Y: out f32[N]) { for i in 0..N { Y[i] = '; repeat 100000 '('; printf 'X[i]'; repeat 100000 ')'; printf '; } }\n'; } >parens.acc
expect "100,000 nested parentheses" 1 parens.acc
{ printf 'kernel k(X: f32[N], Y: out f32[N]) { for i in 0..N { '; repeat 100000 '{'; repeat 100000 '}'; printf ' } }\n'; } >braces.acc
expect "100,000 nested braces" 1 braces.acc
{ printf 'kernel k(X: f32[N], Y: out f32[N]) { for i in 0..N { Y[i] = '; repeat 100000 '-'; printf 'X[i]; } }\n'; } >minus.acc
expect "100,000 unary minuses" 1 minus.acc
{ printf 'kernel k(A: f32[N], B: out f32[N]) {\n    for i in 0..N {\n'; repeat 100000 $'        B[i] = A[i];\n'; printf '    }\n}\n'; } >stmts.acc
expect "100,000 statements in one nest" 0 stmts.acc

# ---- files that are not there or cannot be read ----
expect "missing file" 1 missing.acc
if ! grep -q "missing.acc" err || ! grep -qi "no such file" err; then
    bad "missing file message" "does not name the path and the reason"
else
    ok
fi
if [ "$(id -u)" = 0 ]; then
    mkdir adir.acc
    expect "a directory as input" 1 adir.acc
    if ! grep -q "adir.acc" err || ! grep -qi "directory" err; then
        bad "directory message" "does not name the path and the reason"
    else
        ok
    fi
else
    echo 'kernel k() { }' >noread.acc
    chmod 000 noread.acc
    expect "unreadable file" 1 noread.acc
    if ! grep -q "noread.acc" err || ! grep -qi "permission denied" err; then
        bad "unreadable file message" "does not name the path and the reason"
    else
        ok
    fi
fi

# ---- -o is replaced only on success ----
printf 'kernel k( {\n' >bad.acc
printf 'previous contents\n' >out.txt
cp out.txt out.orig
expect "-o with a bad input" 1 bad.acc --emit=ast bad.acc -o out.txt
if ! cmp -s out.txt out.orig; then
    bad "-o file untouched on failure" "out.txt was changed"
elif ls out.txt.* 2>/dev/null | grep -qv 'out.txt.orig'; then
    bad "-o file untouched on failure" "a temporary file was left behind: $(ls out.txt.*)"
else
    ok
fi
printf 'kernel k(X: f32[N], Y: out f32[N]) { for i in 0..N { Y[i] = X[i]; } }\n' >good.acc
expect "-o with a good input" 0 good.acc --emit=ast good.acc -o out.txt
if ! grep -q '^kernel k' out.txt; then
    bad "-o file written on success" "out.txt does not hold the AST"
else
    ok
fi

# ---- every truncation of every example ----
# Only exit 0 or 1 is allowed; the examples run in parallel, each in its own
# directory, and stderr is kept to look for sanitizer reports.
ntrunc=0
for f in "$root"/examples/*.acc; do
    [ -e "$f" ] || continue
    d=trunc.$(basename "$f" .acc)
    mkdir "$d"
    (
        cd "$d" || exit 1
        text=$(cat "$f"; printf x)
        text=${text%x}
        n=${#text}
        worst=0
        for ((i = 0; i < n; i++)); do
            printf '%s' "${text:0:i}" >t.acc
            "$accl" --check t.acc >/dev/null 2>>log
            rc=$?
            if [ "$rc" -gt 1 ]; then
                echo "$i $rc" >>bad
                head -c "$i" "$f" >"cut-$i.acc"
            fi
        done
        echo "$n" >count
    ) &
done
wait
for d in trunc.*; do
    [ -d "$d" ] || continue
    name=${d#trunc.}
    ntrunc=$((ntrunc + $(cat "$d/count")))
    if [ -s "$d/bad" ]; then
        bad "truncations of $name.acc" "exit status above 1 at these byte offsets (offset status):"
        head -5 "$d/bad" | sed 's/^/    /'
    elif grep -q Sanitizer "$d/log" 2>/dev/null; then
        bad "truncations of $name.acc" "sanitizer report"
        grep -m3 -A5 Sanitizer "$d/log" | sed 's/^/    /'
    else
        ok
    fi
done
echo "($ntrunc truncated inputs checked)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
