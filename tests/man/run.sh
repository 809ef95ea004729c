#!/usr/bin/env bash
# The man page test: man/accl.1 renders without groff warnings, and its OPTIONS
# match the --help of each command both ways. Each command has one `.SS` in
# OPTIONS ("accl FILE.acc", "accl run", "accl bench", "accl fmt"); every option
# named on an indented line of `accl [CMD] --help` must be the tag of a `.TP`
# in that subsection, and every option tagged there must appear in that --help.
# A command whose --help does not print its own usage yet (accl fmt before it
# exists) is skipped, with a note.
#
#   usage: bash tests/man/run.sh build/accl
# Ends with `N passed, N failed`; exits 1 when any failed.
set -u
[ $# -eq 1 ] || { echo "usage: $0 ACCL" >&2; exit 2; }
ACCL=$(realpath "$1")
cd "$(dirname "$0")/../.." || exit 2
MAN=man/accl.1
passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# The option names (`--emit`, `-o`) on a stream of option-column texts, one a line.
option_names() {
    grep -oE '(^|[ ,])--?[a-zA-Z][-a-zA-Z]*' | sed -E 's/^[ ,]+//' | sort -u
}

# The options of `accl CMD --help` (CMD empty for the compiler): lines indented by
# exactly two spaces that start with '-', up to the gap before the description.
help_options() {
    "$ACCL" $1 --help | grep -E '^  -' | sed -E 's/^  //; s/ {2,}.*//' | option_names
}

# The options tagged in subsection "accl WHAT" of OPTIONS: the line after each .TP,
# with font macros, font escapes, quotes and \- removed.
man_options() {
    awk -v want="accl $1" '
        /^\.SH/ { in_opts = ($0 ~ /^\.SH +"?OPTIONS"?$/); sub_ok = 0; next }
        in_opts && /^\.SS/ { t = $0; sub(/^\.SS +/, "", t); gsub(/"/, "", t); sub_ok = (t == want); next }
        in_opts && sub_ok && tag { print; tag = 0; next }
        in_opts && sub_ok && /^\.TP/ { tag = 1 }
    ' "$MAN" | sed -E 's/^\.[A-Z]+ *//; s/\\-/-/g; s/\\f[BIRP]//g; s/"//g' | option_names
}

# One command: both directions of the comparison.
check_command() {
    local cmd=$1 section=$2 h m
    h=$(help_options "$cmd")
    m=$(man_options "$section")
    if [ -z "$h" ]; then fail "accl $cmd --help lists no options"; return; fi
    if [ -z "$m" ]; then fail "$MAN has no options in .SS \"accl $section\""; return; fi
    for o in $h; do
        if grep -qxF -- "$o" <<<"$m"; then pass; else fail "$o (accl $cmd --help) is missing from $MAN, .SS \"accl $section\""; fi
    done
    for o in $m; do
        if grep -qxF -- "$o" <<<"$h"; then pass; else fail "$o ($MAN, .SS \"accl $section\") is not in accl $cmd --help"; fi
    done
    # The subcommand is in the SYNOPSIS too.
    if [ -n "$cmd" ]; then
        if grep -qxF ".SY \"accl $cmd\"" "$MAN"; then pass; else fail "no .SY \"accl $cmd\" in the SYNOPSIS"; fi
    fi
}

if command -v groff >/dev/null; then
    warnings=$(groff -man -Tutf8 -ww "$MAN" 2>&1 >/dev/null)
    if [ -z "$warnings" ]; then pass; else fail "groff warns about $MAN: $warnings"; fi
else
    fail "groff is not installed (make deps installs groff-base)"
fi

check_command "" FILE.acc
# Every subcommand in the usage lines of accl --help, and fmt once it exists.
subcommands=$("$ACCL" --help | sed -nE 's/^(usage:)? +accl ([a-z]+) .*/\2/p')
for cmd in run bench; do
    if grep -qx "$cmd" <<<"$subcommands"; then pass; else fail "accl --help does not show 'accl $cmd'"; fi
done
for cmd in $(printf '%s\nfmt\n' "$subcommands" | sort -u); do
    if ! "$ACCL" "$cmd" --help 2>/dev/null | head -n 1 | grep -q "^usage: accl $cmd "; then
        echo "note: accl $cmd --help prints no usage of its own yet; its options are not checked"
        continue
    fi
    check_command "$cmd" "$cmd"
done

echo "man: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
