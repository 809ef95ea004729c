#!/usr/bin/env bash
# Checks every example: `accl --check` for the default target, and once more
# for each target the file has a schedule for.
#
#   usage: bash tests/check-examples.sh ACCL
#
# Prints a table (file, targets, result), then a summary line; exits 1 when
# any check fails.
set -u

source "$(dirname "$0")/prelude.sh"

# The targets named by `schedule K for T` lines, as --target values.
targets_of() {
    sed -n 's/^[[:space:]]*schedule[[:space:]]\{1,\}[A-Za-z_][A-Za-z0-9_]*[[:space:]]\{1,\}for[[:space:]]\{1,\}\([a-z]*\)[[:space:]]*\(([[:space:]]*\([A-Za-z0-9_]*\)[[:space:]]*)\)\{0,1\}.*/\1:\3/p' "$1" |
        sed 's/:$//' | LC_ALL=C sort -u
}

files=0
failed=0
runs=0
printf '%-22s %-40s %s\n' FILE TARGETS RESULT
for f in "$root"/examples/*.acc; do
    [ -e "$f" ] || continue
    files=$((files + 1))
    name=${f#"$root"/}
    clean=1
    shown=default
    errors=""
    # The default target first (no --target), then each scheduled one.
    for t in "" $(targets_of "$f"); do
        runs=$((runs + 1))
        if [ -n "$t" ]; then
            shown="$shown,$t"
            "$accl" --check "--target=$t" "$f" >/dev/null 2>"$tmp/out"
        else
            "$accl" --check "$f" >/dev/null 2>"$tmp/out"
        fi
        rc=$?
        if [ "$rc" -ne 0 ] || [ -s "$tmp/out" ]; then
            clean=0
            errors="$errors  [${t:-default}] exit $rc\n$(sed 's/^/    /' "$tmp/out" | head -20)\n"
        fi
    done
    if [ "$clean" = 1 ]; then
        printf '%-22s %-40s %s\n' "$name" "$shown" ok
    else
        failed=$((failed + 1))
        printf '%-22s %-40s %s\n' "$name" "$shown" FAILED
        printf '%b' "$errors"
    fi
done

echo "examples: $files files, $runs checks, $((files - failed)) passed, $failed failed"
[ "$files" -gt 0 ] && [ "$failed" -eq 0 ]
