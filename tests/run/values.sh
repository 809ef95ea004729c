#!/usr/bin/env bash
# Hand-computed outputs: tests/golden/values/NAME.acc with NAME.values beside it.
#
#   usage: bash tests/run/values.sh ACCL
#
# NAME.acc starts with a line `// run: ARGS` (--kernel, --size, --input, --arg);
# the case runs `accl run NAME.acc ARGS --interpret --print`, which prints every
# output element as `T[i, j] ref=R got=G`. NAME.values holds one line
# `T[i, j] VALUE` per output element, worked out by hand (not by accl). A case
# passes when the set of elements is the same, every reference value R and
# every interpreter value G equals VALUE (within 1e-6 relative; NaN equals
# NaN, infinities must match, so integers and exact values must be exact), and
# accl exits 0 with PASS. Ends with `N passed, N failed`; exits 1 on any failure.
set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 ACCL" >&2
    exit 2
fi
accl=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
if [ ! -x "$accl" ]; then
    echo "$0: '$1' is not an executable" >&2
    exit 2
fi
dir=$(cd "$(dirname "$0")/../golden/values" && pwd)
exec python3 - "$accl" "$dir" <<'PY'
import math, os, re, shlex, subprocess, sys

accl, root = sys.argv[1], sys.argv[2]
LINE = re.compile(r"^(\S+\[[^\]]*\]) ref=(\S+) got=(\S+)$")

def num(s):
    try:
        return float(s)          # accepts nan, -nan, inf, -inf
    except ValueError:
        return None

def same(got, want):
    g, w = num(got), num(want)
    if g is None or w is None:
        return False
    if math.isnan(w) or math.isnan(g):
        return math.isnan(w) and math.isnan(g)
    if math.isinf(w) or math.isinf(g):
        return g == w
    return abs(g - w) <= 1e-6 * abs(w)

passed = failed = 0
for name in sorted(f[:-4] for f in os.listdir(root) if f.endswith(".acc")):
    acc, exp = os.path.join(root, name + ".acc"), os.path.join(root, name + ".values")
    problems = []
    first = open(acc).readline()
    if not first.startswith("// run:"):
        problems.append("first line is not '// run: ARGS'")
    elif not os.path.exists(exp):
        problems.append("no %s.values" % name)
    else:
        args = shlex.split(first[len("// run:"):])
        p = subprocess.run([accl, "run", acc] + args + ["--interpret", "--print"],
                           capture_output=True, text=True, timeout=60)
        got = {}
        for ln in p.stdout.splitlines():
            m = LINE.match(ln)
            if m:
                got[m.group(1)] = (m.group(2), m.group(3))
        want = {}
        for ln in open(exp):
            if ln.strip():
                key, value = ln.rsplit(None, 1)
                want[key] = value
        for key in sorted(set(got) | set(want)):
            if key not in got:
                problems.append("%s: not printed" % key)
            elif key not in want:
                problems.append("%s: printed (ref=%s) but not expected" % (key, got[key][0]))
            else:
                r, g = got[key]
                if not same(r, want[key]):
                    problems.append("%s: reference %s, expected %s" % (key, r, want[key]))
                if not same(g, want[key]):
                    problems.append("%s: interpreter %s, expected %s" % (key, g, want[key]))
        if p.returncode != 0 or "PASS" not in p.stdout.splitlines():
            problems.append("accl exited %d without PASS: %s" % (p.returncode, p.stderr.strip()[:300]))
    if problems:
        failed += 1
        print("FAIL %s" % name)
        for x in problems[:10]:
            print("    " + x)
    else:
        passed += 1
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
