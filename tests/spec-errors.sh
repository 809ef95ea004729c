#!/usr/bin/env bash
# Checks that every error message the compiler can give is documented in the
# Errors section of lang/SPEC.md.
#
#   usage: bash tests/spec-errors.sh [--list]
#
# Messages are the format strings passed to diag_error and diag_warning in
# src/**/*.c, src/**/*.re and src/**/*.y (split over lines and string pieces;
# each literal of a `c ? "a" : "b"` format counts), plus the driver's
# usage_error(...) formats and its `accl: error: ...` fprintfs. Each printf
# conversion (%s %d %lld %c %02x %.*s ...) becomes a wildcard. In the SPEC,
# templates are inline code spans (`like this`) in the Errors section, outside
# code fences, with <placeholders> as the wildcards. A message passes when a
# SPEC template equals it, or starts with it (for messages printed in pieces).
# --list prints every extracted template and where it comes from.
# Ends with `N passed, N failed`; exits 1 when any message is missing.
set -u
cd "$(dirname "$0")/.." || exit 2
exec python3 - "$@" <<'PY'
import glob, os, re, sys

WILD = "\x00"
CONV = re.compile(r"%[-+ #0]*(\*|\d+)?(\.(\*|\d+))?(hh|h|ll|l|z|j|t|L)?[diouxXeEfgGcspa]")
PLACEHOLDER = re.compile(r"<[A-Za-z0-9][A-Za-z0-9_ .'/|-]*>")

def unescape(s):
    return (s.replace(r"\n", "\n").replace(r"\t", "\t").replace(r"\"", '"')
             .replace(r"\'", "'").replace("\\\\", "\\"))

def normalize_code(fmt, args=()):
    """printf format -> template with WILD for conversions. Literal string
    arguments (usage_error("%s needs ...", "-o")) are substituted."""
    out, i, argi = [], 0, 0
    while i < len(fmt):
        if fmt.startswith("%%", i):
            out.append("%"); i += 2; continue
        m = CONV.match(fmt, i)
        if m:
            a = args[argi] if argi < len(args) else None
            out.append(a if a is not None and m.group(0) == "%s" else WILD)
            argi += 1 + (m.group(0).count("*"))
            i = m.end(); continue
        out.append(fmt[i]); i += 1
    return squash("".join(out))

def squash(s):
    s = re.sub(WILD + "+", WILD, s)
    return s.strip()

def normalize_spec(t):
    return squash(PLACEHOLDER.sub(WILD, t))

def split_args(text, start):
    """Arguments of the call whose '(' is at text[start-1]; returns (args, end)."""
    depth, i, cur, args = 0, start, [], []
    while i < len(text):
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            cur.append(text[i:j + 1]); i = j + 1; continue
        if text.startswith("/*", i):
            j = text.find("*/", i + 2); i = len(text) if j < 0 else j + 2; continue
        if text.startswith("//", i):
            j = text.find("\n", i); i = len(text) if j < 0 else j; continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                args.append("".join(cur).strip()); return args, i
            depth -= 1
        elif c == "," and depth == 0:
            args.append("".join(cur).strip()); cur = []; i += 1; continue
        cur.append(c); i += 1
    return args, i

LIT = re.compile(r'"((?:[^"\\\n]|\\.)*)"')

def literal_groups(arg):
    """The alternatives of a format argument: runs of adjacent string literals
    (concatenated); `c ? "a" : "b"` gives two. None if there is no literal."""
    groups, cur, last_end = [], None, None
    for m in LIT.finditer(arg):
        between = arg[last_end:m.start()] if last_end is not None else ""
        if cur is not None and between.strip() == "":
            cur += unescape(m.group(1))
        else:
            if cur is not None:
                groups.append(cur)
            cur = unescape(m.group(1))
        last_end = m.end()
    if cur is not None:
        groups.append(cur)
    return groups

def only_literal(arg):
    m = LIT.fullmatch(arg.strip())
    return unescape(m.group(1)) if m else None

def extract():
    found = []   # (template, where)
    files = sorted(set(glob.glob("src/**/*.c", recursive=True) +
                       glob.glob("src/**/*.re", recursive=True) +
                       glob.glob("src/**/*.y", recursive=True)))
    call = re.compile(r"\b(diag_error|diag_warning|usage_error|fprintf)\s*\(")
    for path in files:
        text = open(path, encoding="utf-8", errors="replace").read()
        for m in call.finditer(text):
            name = m.group(1)
            line = text.count("\n", 0, m.start()) + 1
            if re.fullmatch(r"\s*(static\s+)?void\s+", text[text.rfind("\n", 0, m.start()) + 1:m.start()]):
                continue                                  # a definition, not a call
            args, _ = split_args(text, m.end())
            if name in ("diag_error", "diag_warning"):
                if len(args) < 3:
                    continue
                fmt_arg, rest = args[2], args[3:]
            elif name == "usage_error":
                if path != "src/driver/main.c" or len(args) < 1:
                    continue
                fmt_arg, rest = args[0], args[1:]
            else:                                         # fprintf(stderr, "accl: error: ...")
                if len(args) < 2 or args[0] != "stderr":
                    continue
                fmt_arg, rest = args[1], args[2:]
            groups = literal_groups(fmt_arg)
            where = "%s:%d" % (path, line)
            if not groups:
                if name == "fprintf":
                    continue                              # usage_error's own fprintf
                found.append((None, where + " (format is not a string literal: %s)" % fmt_arg))
                continue
            lits = tuple(only_literal(a) for a in rest)
            for g in groups:
                if name == "fprintf":
                    if not g.startswith("accl: error: "):
                        continue
                    g = g[len("accl: error: "):]
                found.append((normalize_code(g, lits if name == "usage_error" else ()), where))
    return found

def spec_templates():
    try:
        lines = open("lang/SPEC.md", encoding="utf-8").read().split("\n")
    except OSError as e:
        sys.exit("spec-errors: cannot read lang/SPEC.md: %s" % e)
    inside, fence, out = False, False, []
    for ln in lines:
        if ln.startswith("## "):
            inside = ln.strip() == "## Errors"
            continue
        if not inside:
            continue
        if ln.lstrip().startswith("```"):
            fence = not fence
            continue
        if fence:
            continue
        for m in re.finditer(r"(`+)(.+?)\1", ln):
            t = m.group(2)
            if len(m.group(1)) > 1 and t.startswith(" ") and t.endswith(" "):
                t = t[1:-1]
            out.append(normalize_spec(t))
    return out

found = extract()
spec = spec_templates()
if not spec:
    print("spec-errors: lang/SPEC.md has no '## Errors' section with templates")
show = lambda t: t.replace(WILD, "*").replace("\n", "\\n")
if "--list" in sys.argv[1:]:
    for t, where in found:
        print("%-50s %s" % (where, show(t) if t is not None else "?"))
passed = failed = 0
seen = set()
for t, where in found:
    if t is None:
        print("UNCHECKED %s" % where)
        continue
    if t in seen:
        continue
    seen.add(t)
    if any(s == t or s.startswith(t) for s in spec):
        passed += 1
    else:
        failed += 1
        print("MISSING `%s` (%s)" % (show(t), where))
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
