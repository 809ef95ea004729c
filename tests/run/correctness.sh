#!/usr/bin/env bash
# The correctness suite: every example, every kernel, the default (cpu) target
# and each target the file has a schedule for, lowered for that target and run
# through the IR interpreter against the reference evaluator by `accl run`.
# With --jit, the compiled kernel (LLVM's ORC JIT) runs instead of the
# interpreter, for the cpu target only (GPU targets need the GPU backend).
# With --emulate, the GPU emulator runs the GPU execution form instead, for
# each GPU target the file has a schedule for plus nvidia:sm_80 and
# amd:gfx942 (the default mappings where there is none).
#
#   usage: bash tests/run/correctness.sh [--table] [--jit|--emulate] ACCL [FILE.acc...]
#
# Kernels, their size names and scalar params are read from `ACCL --emit=ast`.
# Each kernel runs at several size sets: all 1, all 17 (a prime), all 129 and
# all 65 (just above a tile multiple), and a mix of those; a set whose product
# exceeds ACCL_RUN_BUDGET (default 2.2M, about a 129^3 matmul) is shrunk by
# halving its largest sizes along 129, 65, 33, 17, 9, 5, 3, 2, 1, so each run
# stays well under ~2 s; sets equal after shrinking run once. Scalars get
# --arg NAME=V (floats 1e-5, integers 3, bool 1). Sizes subtracted in a shape
# entry (R in H - R + 1) take at most 3; a set that still makes a shape entry
# negative is skipped. For each target, sizes are rounded up to satisfy the
# schedule's assumes of the forms `M % F == 0` and `M >= F`; a run that
# violates another assume is skipped (the interpreter says `violated assume`,
# the compiled kernel returns ACCL_ERR_ASSUME).
#
# Prints one line per run (and the end of the output of each failing run),
# then `N passed, N failed[, N skipped]`; exits 1 on any failure.
#
# --table (used by `make run` through tests/run/examples-table.sh): one size
# set per kernel and target (the mix), printed as a table of kernel, target,
# sizes, time, worst error ratio and PASS/FAIL.
set -u

table=0
executor=(--interpret)
while [ "${1:-}" = "--table" ] || [ "${1:-}" = "--jit" ] || [ "${1:-}" = "--emulate" ]; do
    if [ "$1" = "--table" ]; then
        table=1
    elif [ "$1" = "--emulate" ]; then
        executor=(--emulate)
    else
        executor=()
    fi
    shift
done
if [ $# -lt 1 ]; then
    echo "usage: $0 [--table] [--jit|--emulate] ACCL [FILE.acc...]" >&2
    exit 2
fi
accl=$1
shift
root=$(cd "$(dirname "$0")/../.." && pwd)
budget=${ACCL_RUN_BUDGET:-2200000}
per_run_timeout=${ACCL_RUN_TIMEOUT:-60}
if [ $# -gt 0 ]; then
    files=("$@")
else
    files=("$root"/examples/*.acc)
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

passed=0
failed=0
skipped=0

# Kernels of an AST dump: "KERNEL|SIZE SIZE...|ARG ARG..." per kernel, sizes in
# order of first appearance in the param shapes, one --arg per `in` scalar param.
kernels_of() {
    awk '
    function flush() {
        if (k != "") print k "|" sizes "|" args
    }
    /^kernel / { flush(); k = $2; sizes = ""; args = ""; delete seen; next }
    /^  param / && k != "" {
        name = $2; type = $4
        if (index(type, "[") == 0 && $3 != "in") next   # an out or inout scalar: an output
        if (index(type, "[") == 0) {
            # A scalar: floats get a small positive value, integers 3, bool 1.
            if (type ~ /^(f16|bf16|f32|f64)$/) v = "1e-5"
            else if (type == "bool") v = "1"
            else v = "3"
            args = args (args == "" ? "" : " ") name "=" v
            next
        }
        # The shape: every identifier between the brackets of this line.
        line = $0
        sub(/ @[0-9]+:[0-9]+$/, "", line)
        shape = substr(line, index(line, "[") + 1)
        while (match(shape, /[A-Za-z_][A-Za-z0-9_]*/)) {
            id = substr(shape, RSTART, RLENGTH)
            shape = substr(shape, RSTART + RLENGTH)
            if (!(id in seen)) { seen[id] = 1; sizes = sizes (sizes == "" ? "" : " ") id }
        }
        next
    }
    /^[a-z]/ && !/^kernel / { flush(); k = "" }
    END { flush() }'
}

# Shape entries of every tensor param of kernel $2, one per line, from an AST dump.
shapes_of() {
    awk -v want="$1" '
    /^kernel / { in_k = ($2 == want); next }
    /^[a-z]/ { in_k = 0 }
    in_k && /^  param / && index($4, "[") {
        line = $0
        sub(/ @[0-9]+:[0-9]+$/, "", line)
        shape = substr(line, index(line, "[") + 1)
        sub(/\][^]]*$/, "", shape)
        print shape
    }'
}

# The targets of `schedule K for T` lines, as --target values, cpu first.
targets_of() {
    { echo cpu; sed -n 's/^schedule [A-Za-z_][A-Za-z0-9_]* for \([a-z]*\)(\([a-z0-9_]*\)) @.*/\1:\2/p; s/^schedule [A-Za-z_][A-Za-z0-9_]* for \([a-z]*\) @.*/\1/p'; } |
        awk '!seen[$0]++'
}

# Halves the largest values of the list until the product is within the
# budget: every value equal to the largest at once ($1 = all), or only the
# first ($1 = first) or the last ($1 = last) of them.
shrink() {
    local mode=$1
    shift
    local -a v=("$@")
    while :; do
        local prod=1 big=0 at=-1 i
        for i in "${!v[@]}"; do
            prod=$((prod * v[i]))
            if [ "${v[i]}" -gt "$big" ] || { [ "$mode" = last ] && [ "${v[i]}" -eq "$big" ]; }; then
                big=${v[i]}
                at=$i
            fi
        done
        if [ "$prod" -le "$budget" ] || [ "$big" -le 1 ]; then
            break
        fi
        for i in "${!v[@]}"; do
            if [ "$i" -eq "$at" ] || { [ "$mode" = all ] && [ "${v[i]}" -eq "$big" ]; }; then
                v[i]=$(((v[i] - 1) / 2 + 1))
            fi
        done
    done
    echo "${v[*]}"
}

# Size sets for n sizes, one per line (values separated by spaces), before
# shrinking to the budget.
size_sets() {
    local n=$1 i
    local -a mix=(33 129 7 65 17)
    local ones="" primes="" t129="" t65="" mixed=""
    for ((i = 0; i < n; i++)); do
        ones="$ones 1"
        primes="$primes 17"
        t129="$t129 129"
        t65="$t65 65"
        mixed="$mixed ${mix[i % 5]}"
    done
    # shellcheck disable=SC2086
    if [ "$table" = 1 ]; then
        echo "$mixed"
    else
        printf '%s\n' "$ones" "$primes" "$t129" "$t65" "$mixed"
    fi
}

# Whether every shape entry is >= 0 under the sizes (names $1, values $2).
shapes_ok() {
    local names=$1 values=$2 shapes=$3 entry expr
    local -a n=($names) v=($values)
    while IFS= read -r line; do
        [ -n "$line" ] || continue
        IFS=',' read -ra entries <<<"$line"
        for entry in "${entries[@]}"; do
            expr=$entry
            for i in "${!n[@]}"; do
                expr=$(printf '%s' "$expr" | sed "s/\\b${n[i]}\\b/(${v[i]})/g")
            done
            if [ $((expr)) -lt 0 ]; then
                return 1
            fi
        done
    done <<<"$shapes"
    return 0
}

# The assumes of kernel $1's schedule for target $2 (a --target value) in
# the simple forms `S % F == 0` and `S >= F` / `S > F` (S a size, F a literal
# or a param of that schedule), one "S mod F" / "S min F" per line.
assumes_of() {
    local ast_target=$2
    case $2 in *:*) ast_target="${2%%:*}(${2#*:})" ;; esac
    awk -v want="$1" -v target="$ast_target" '
    /^schedule / { in_s = ($2 == want && $4 == target); delete params; next }
    /^[a-z]/ { in_s = 0 }
    in_s && /^  param / { params[$2] = $4; next }
    in_s && /^  assume / {
        e = $0
        sub(/^  assume /, "", e); sub(/ @[0-9]+:[0-9]+$/, "", e); gsub(/[() ]/, "", e)
        n = split(e, parts, "&&")
        for (i = 1; i <= n; i++) {
            p = parts[i]
            if (match(p, /^[A-Za-z_][A-Za-z0-9_]*%[A-Za-z0-9_]+==0$/)) {
                split(p, x, /%|==/); f = (x[2] in params) ? params[x[2]] : x[2]
                print x[1], "mod", f
            } else if (match(p, /^[A-Za-z_][A-Za-z0-9_]*>=[A-Za-z0-9_]+$/)) {
                split(p, x, />=/); f = (x[2] in params) ? params[x[2]] : x[2]
                print x[1], "min", f
            } else if (match(p, /^[A-Za-z_][A-Za-z0-9_]*>[A-Za-z0-9_]+$/)) {
                split(p, x, />/); f = (x[2] in params) ? params[x[2]] : x[2]
                print x[1], "min", f + 1
            }
        }
    }'
}

# The sizes (names $1, values $2) raised to satisfy the assumes ($3): a
# multiple of F rounds up (0 stays 0), a minimum raises.
apply_assumes() {
    local -a n=($1) v=($2)
    local size kind f i
    while read -r size kind f; do
        [ -n "$size" ] || continue
        [[ $f =~ ^[0-9]+$ ]] && [ "$f" -gt 0 ] || continue
        for i in "${!n[@]}"; do
            [ "${n[i]}" = "$size" ] || continue
            if [ "$kind" = mod ]; then
                v[i]=$(((v[i] + f - 1) / f * f))
            elif [ "${v[i]}" -lt "$f" ]; then
                v[i]=$f
            fi
        done
    done <<<"$3"
    echo "${v[*]}"
}

# The worst error ratio in `accl run`'s output: the largest number that
# follows "ratio" on its lines (one line per output tensor); "-" if none.
worst_ratio() {
    awk '{
        for (i = 1; i < NF; i++)
            if ($i == "ratio") {
                v = $(i + 1); x = v + 0
                if (v ~ /^[+]?inf/ || v ~ /^nan/) x = 1e308
                if (!found || x > best) { best = x; shown = v; found = 1 }
            }
    } END { print found ? shown : "-" }' "$1"
}

if [ "$table" = 1 ]; then
    printf '%-12s %-14s %-34s %7s %10s  %s\n' KERNEL TARGET SIZES TIME WORST RESULT
fi

for f in "${files[@]}"; do
    [ -e "$f" ] || continue
    name=${f#"$root"/}
    if ! "$accl" --emit=ast "$f" >"$tmp" 2>/dev/null; then
        echo "FAIL  $name: accl --emit=ast failed"
        failed=$((failed + 1))
        continue
    fi
    ast=$(cat "$tmp")
    targets=$(printf '%s\n' "$ast" | targets_of)
    [ ${#executor[@]} -eq 0 ] && targets=cpu
    if [ "${executor[*]}" = --emulate ] && [ -n "${ACCL_EMULATE_TARGETS:-}" ]; then
        targets=$ACCL_EMULATE_TARGETS    # exactly these (the schedule for each, else the default)
    elif [ "${executor[*]}" = --emulate ]; then
        targets=$({ printf '%s\n' "$targets" | grep -v '^cpu$'; echo nvidia:sm_80; echo amd:gfx942; } |
            awk '!seen[$0]++')
    fi
    while IFS='|' read -r kernel sizes args; do
        [ -n "$kernel" ] || continue
        shapes=$(printf '%s\n' "$ast" | shapes_of "$kernel")
        nsizes=$(echo $sizes | wc -w)
        arg_opts=()
        for a in $args; do
            arg_opts+=(--arg "$a")
        done
        seed=0
        done_sets=""
        # Sizes subtracted in a shape entry (R in H - R + 1: a filter) take at
        # most 3, so that the output is more than one element wide.
        subtracted=$(printf '%s\n' "$shapes" | grep -o -- '- *[A-Za-z_][A-Za-z0-9_]*' | tr -d -- '- ')
        while IFS= read -r wanted; do
            read -ra vals <<<"$wanted"
            read -ra names <<<"$sizes"
            for i in "${!names[@]}"; do
                if printf '%s\n' $subtracted | grep -qx -- "${names[i]}" && [ "${vals[i]}" -gt 3 ]; then
                    vals[i]=3
                fi
            done
            wanted="${vals[*]}"
            # The set within the budget: the largest sizes halved together
            # (equal sizes stay equal, so conv2d's H - R + 1 stays >= 0), else
            # one at a time from the front, else from the end.
            # shellcheck disable=SC2086
            values=$(shrink all $wanted)
            # shellcheck disable=SC2086
            shapes_ok "$sizes" "$values" "$shapes" || values=$(shrink first $wanted)
            # shellcheck disable=SC2086
            shapes_ok "$sizes" "$values" "$shapes" || values=$(shrink last $wanted)
            case " $done_sets " in *"|$values|"*) continue ;; esac
            done_sets="$done_sets|$values|"
            seed=$((seed + 1))
            for t in $targets; do
                # Sizes rounded up to what the target's schedule assumes.
                tvalues=$(apply_assumes "$sizes" "$values" "$(printf '%s\n' "$ast" | assumes_of "$kernel" "$t")")
                read -ra vals <<<"$tvalues"
                read -ra names <<<"$sizes"
                spec=""
                for i in "${!names[@]}"; do
                    spec="$spec${spec:+,}${names[i]}=${vals[i]}"
                done
                size_opts=()
                [ -n "$spec" ] && size_opts=(--size "$spec")
                what="$name $kernel --target=$t ${spec:-(no sizes)} --seed $seed"
                if ! shapes_ok "$sizes" "$tvalues" "$shapes"; then
                    skipped=$((skipped + 1))
                    [ "$table" = 1 ] || echo "SKIP  $what (a shape entry would be negative)"
                    continue
                fi
                start=$(date +%s.%N)
                timeout "$per_run_timeout" "$accl" run "$f" --kernel "$kernel" "${size_opts[@]}" \
                    "${arg_opts[@]}" --seed "$seed" "${executor[@]}" "--target=$t" >"$tmp" 2>&1
                rc=$?
                secs=$(echo "$start $(date +%s.%N)" | awk '{ printf "%.2f", $2 - $1 }')
                if [ "$rc" -eq 0 ]; then
                    result=PASS
                    passed=$((passed + 1))
                elif grep -q -e 'violated assume' -e 'an assumption of the schedule does not hold' "$tmp"; then
                    # An assume of a form not rounded for above: these sizes are
                    # outside what the schedule accepts.
                    skipped=$((skipped + 1))
                    [ "$table" = 1 ] || echo "SKIP  $what ($(grep -o -e 'violated assume.*' -e 'an assumption of the schedule does not hold.*' "$tmp" | head -1))"
                    continue
                else
                    result=FAIL
                    failed=$((failed + 1))
                fi
                if [ "$table" = 1 ]; then
                    printf '%-12s %-14s %-34s %6ss %10s  %s\n' "$kernel" "$t" "${spec:--}" "$secs" \
                        "$(worst_ratio "$tmp")" "$result"
                else
                    echo "$result  $what (${secs}s)"
                fi
                if [ "$result" = FAIL ]; then
                    [ "$rc" -eq 124 ] && echo "    timed out after ${per_run_timeout}s"
                    echo "    reproduce: $accl run $f --kernel $kernel ${size_opts[*]} ${arg_opts[*]} --seed $seed ${executor[*]} --target=$t"
                    tail -n 8 "$tmp" | sed 's/^/    /'
                fi
            done
        done < <(size_sets "$nsizes")
    done < <(printf '%s\n' "$ast" | kernels_of)
done

summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
