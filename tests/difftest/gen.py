#!/usr/bin/env python3
"""Differential testing of schedules (issue 8).

For every example kernel (examples/*.acc and tests/difftest/kernels/epilogue.acc, read
through `accl --emit=ast`) this makes random schedules -- split, tile, reorder, fuse,
unroll, vectorize, parallel, cache, bind, pipeline, fuse ... into -- for a random target
(cpu, nvidia:sm_80, amd:gfx942), appends each as the kernel's only schedule to a copy of
the kernel and checks it. On a GPU, a kernel with a reduction nest and a later nest
reading what it writes mostly gets one shape instead (gen_warp_epilogue): the written
loops tiled to blocks, warps bound inside, the written tensor cached in registers at the
innermost warp loop, and the later nest fused at a block loop (a write-back by one lane
of each warp that the epilogue must wait for).

  legal mode    `accl --target=T FILE` (every check, the loop IR's too) must accept (exit 0) or reject (exit 1 with `error:`);
                an accepted schedule must PASS `accl run` against the reference at two
                random sizes of at most 64 (CPU through the JIT, GPU targets through the
                GPU emulator, `--emulate`: blocks, threads, shared memory, barriers,
                races; --gpu-exec=interpret for the IR interpreter), each run within a
                time limit. Two accepted schedules of one
                kernel therefore agree with each other through the reference (printed
                outputs are not compared bit for bit: reordered reductions round apart).
  illegal mode  schedules illegal by construction (duplicate binds, over 1024 threads,
                factors <= 0, unknown names, an init fused inside a reduction loop,
                parallel over a carried dependence, vectorize of a non-constant extent,
                a cache of non-constant shape) must be rejected with an error and never
                compiled (`accl -o` fails and writes nothing).

A failure is shrunk (clauses dropped one at a time, then sizes halved, while it still
fails) and printed as the whole .acc file and the command that reproduces it. The run
ends with the acceptance rate per clause kind (CPU and GPU targets apart), the slowest
cases, and `N passed, N failed`.

usage: gen.py --accl build/accl [-n 200] [--seed 1] [--jobs J] [--mode legal|illegal|both]
              [--gpu-exec emulate|interpret]
DIFFTEST_WHY=1 also prints each rejection's message (to see what keeps schedules shallow).
Standard library only.
"""
import argparse
import concurrent.futures
import glob
import os
import random
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TARGETS = ["cpu", "nvidia:sm_80", "amd:gfx942"]
SCHED_TARGET = {"cpu": "cpu", "nvidia:sm_80": "nvidia(sm_80)", "amd:gfx942": "amd(gfx942)"}
KINDS = ["split", "tile", "reorder", "fuse", "unroll", "vectorize", "parallel", "cache",
         "bind", "pipeline", "fuse-into", "warp-cache"]
WAVE = {"nvidia:sm_80": 32, "amd:gfx942": 64}
TIME_LIMIT = 10          # seconds per accl invocation
WORK_CAP = 200000        # the product of a kernel's sizes stays at most this
WORK_CAP_GPU = 50000     # in the GPU emulator (a thread per context switch: slower)


# ---------------------------------------------------------------- reading kernels

class Kernel:
    def __init__(self, path, text, name, tensors, scalars, sizes, shapes, nests, writes):
        self.path, self.text, self.name = path, text, name
        self.tensors = tensors      # name -> dims (list of expression strings)
        self.scalars = scalars      # name -> type
        self.sizes = sizes          # size names, in order of first use
        self.shapes = shapes        # every dimension expression (for checking sizes)
        self.nests = nests          # list of (label or None, [(loop, lo, hi)], [tensor])
        self.writes = writes        # per nest: [(tensor, [index], reduces)] of its stores


def strip_schedules(text):
    """The source without its top-level `schedule ... { ... }` blocks."""
    out, depth, skipping = [], 0, False
    for line in text.splitlines():
        code = line.split("//", 1)[0]
        if not skipping and depth == 0 and re.match(r"\s*schedule\b", code):
            skipping = True
        if skipping:
            depth += code.count("{") - code.count("}")
            if depth <= 0 and "}" in code:
                skipping, depth = False, 0
            continue
        out.append(line)
    return "\n".join(out).rstrip() + "\n"


def read_kernel(accl, path):
    text = strip_schedules(open(path).read())
    ast = subprocess.run([accl, "--emit=ast", path], capture_output=True, text=True,
                         timeout=TIME_LIMIT).stdout
    name, tensors, scalars, sizes, shapes, nests, writes = None, {}, {}, [], [], [], []
    for line in ast.splitlines():
        line_ = re.sub(r" @\d+:\d+$", "", line)
        m = re.match(r"kernel (\w+)", line_)
        if m:
            if name:
                break                   # the first kernel only
            name = m.group(1)
            continue
        m = re.match(r"  (param|var) (\w+) (?:(in|out|inout) )?(\w+)(?:\[(.*)\])?$", line_)
        if m:
            kind, ident, mode, ty, shape = m.groups()
            if shape is None:
                # --arg gives in scalar params; --input an inout one's value on entry,
                # and a var or an out scalar is not an argument
                if kind == "param" and mode in (None, "in"):
                    scalars[ident] = ty
            else:
                dims = [d.strip() for d in shape.split(",")]
                tensors[ident] = dims
                for d in dims:
                    shapes.append(d)
                    for word in re.findall(r"[A-Za-z_]\w*", d):
                        if word not in sizes:
                            sizes.append(word)
            continue
        m = re.match(r"  nest (\w+) for (.*)$", line_)
        if m:
            loops = [(a, lo, hi) for a, lo, hi in
                     re.findall(r"(\w+) in (.+?)\.\.(.+?)(?=, \w+ in |$)", m.group(2))]
            label = None if m.group(1) == "_" else m.group(1)
            nests.append([label, loops, []])
            writes.append([])
            continue
        m = re.match(r"    (\w+)\[([^\]]*)\] (\+?=|[-*]=|max=|min=) ", line_)
        if nests and m and m.group(1) in tensors:
            writes[-1].append((m.group(1), [x.strip() for x in m.group(2).split(",")],
                               m.group(3) != "="))
        if nests and line_.startswith("    "):
            for t in re.findall(r"(\w+)\[", line_):
                if t in tensors and t not in nests[-1][2]:
                    nests[-1][2].append(t)
    return Kernel(path, text, name, tensors, scalars, sizes, shapes,
                  [tuple(n) for n in nests], writes)


def const(expr):
    return int(expr) if re.fullmatch(r"\d+", expr.strip()) else None


# ---------------------------------------------------------------- making schedules

class NestState:
    """A nest's loop list as the clauses so far leave it: [name, constant extent or None]."""

    def __init__(self, loops):
        self.loops = []
        for name, lo, hi in loops:
            a, b = const(lo), const(hi)
            self.loops.append([name, b - a if a is not None and b is not None else None])
        self.origin = {name: frozenset([name]) for name, _, _ in loops}   # the nest indices a loop runs over
        self.marked = set()
        self.blocks = []
        self.threads = 1
        self.cached = []


def factor(rng, ext=None):
    if ext and rng.random() < 0.5:
        divs = [d for d in range(1, min(ext, 64) + 1) if ext % d == 0]
        return rng.choice(divs)
    return rng.choice([1, 2, 3, 4, 5, 7, 8, 13, 16, 32, 64, rng.randint(1, 64)])


def threads_product(st):
    return st.threads


def gen_clause(rng, kernel, nest, st, target, fresh, threads):
    """One random clause for a nest: (kind, text), or None. Mostly plausible, sometimes not."""
    loops = st.loops
    gpu = target != "cpu"
    marked = st.marked            # loops already parallel, vectorized, bound, cached at...
    sloppy = rng.random() < 0.015  # now and then, any loop at all
    kinds = ["split", "split", "tile", "reorder", "fuse", "unroll", "vectorize", "cache"]
    kinds += ["bind", "bind", "pipeline"] if gpu else ["parallel", "parallel"]
    kind = rng.choice(kinds)
    free = [i for i, l in enumerate(loops) if l[0] not in marked]
    if not free:
        return None
    idx = rng.randrange(len(loops)) if sloppy else rng.choice(free)
    name, ext = loops[idx]
    if kind in ("tile", "fuse") and idx + 1 < len(loops) and loops[idx + 1][0] in marked and not sloppy:
        return None
    if kind == "reorder" and not sloppy:
        loops = [l for l in loops if l[0] not in marked]
    if kind == "split":
        f = factor(rng, ext)
        o, i = fresh(), fresh()
        loops[idx:idx + 1] = [[o, -(-ext // f) if ext else None], [i, f]]
        st.origin[o] = st.origin[i] = st.origin.get(name, frozenset())
        return kind, f"split {name} by {f} -> {o}, {i};"
    if kind == "tile":
        if idx + 1 >= len(loops):
            return None
        (a, ea), (b, eb) = loops[idx], loops[idx + 1]
        fa, fb = factor(rng, ea), factor(rng, eb)
        ao, bo, ai, bi = fresh(), fresh(), fresh(), fresh()
        loops[idx:idx + 2] = [[ao, -(-ea // fa) if ea else None], [bo, -(-eb // fb) if eb else None],
                              [ai, fa], [bi, fb]]
        st.origin[ao] = st.origin[ai] = st.origin.get(a, frozenset())
        st.origin[bo] = st.origin[bi] = st.origin.get(b, frozenset())
        return kind, f"tile {a}, {b} by {fa}, {fb} -> {ao}, {bo}, {ai}, {bi};"
    if kind == "reorder":
        if len(loops) < 2:
            return None
        pos = sorted(rng.sample(range(len(loops)), rng.randint(2, len(loops))))
        picked = [loops[p] for p in pos]
        perm = picked[:]
        rng.shuffle(perm)
        where = [st.loops.index(l) for l in picked]
        for p, l in zip(where, perm):
            st.loops[p] = l
        return kind, "reorder " + ", ".join(l[0] for l in perm) + ";"
    if kind == "fuse":
        if idx + 1 >= len(loops):
            return None
        (a, ea), (b, eb) = loops[idx], loops[idx + 1]
        f = fresh()
        loops[idx:idx + 2] = [[f, ea * eb if ea and eb else None]]
        st.origin[f] = st.origin.get(a, frozenset()) | st.origin.get(b, frozenset())
        return kind, f"fuse {a}, {b} -> {f};"
    if kind in ("unroll", "vectorize"):
        consts = [l for l in loops if l[1] is not None and l[1] <= 64 and l[0] not in marked]
        if consts and not sloppy:
            name = rng.choice(consts)[0]
        elif not sloppy:
            return None
        marked.add(name)
        return kind, f"{kind} {name};"
    if kind == "parallel":
        marked.add(name)
        return kind, f"parallel {name};"
    if kind == "cache":
        if not nest[2]:
            return None
        t = rng.choice(nest[2])
        where = "shared" if rng.random() < 0.6 else "registers"
        pad = f" pad {rng.randint(1, 8)}" if where == "shared" and rng.random() < 0.3 else ""
        # an inner loop, so the region is more often of constant shape
        if not sloppy and rng.random() < 0.7:
            name = loops[rng.randrange(len(loops) // 2, len(loops))][0]
        marked.add(name)
        st.cached.append(name)
        return kind, f"cache {t} at {name} in {where}{pad};"
    if kind == "bind":
        free = [a for a in ["block.x", "block.y", "block.z", "thread.x", "thread.y", "thread.z"]
                if a not in threads]
        if not free:
            return None
        consts = [l for l in loops if l[1] is not None and l[0] not in marked]
        axis = rng.choice(free)
        if axis.startswith("thread") and not sloppy:
            if not consts:
                return None
            name, ext = rng.choice(consts)
            if ext * threads_product(st) > 1024:
                return None
            st.threads = threads_product(st) * ext
        elif axis.startswith("block") and not sloppy:
            unbound = [l for l in loops if l[0] not in marked]
            if unbound[0][0] != loops[len(st.blocks)][0]:
                return None
            name = unbound[0][0]
            st.blocks.append(name)
        marked.add(name)
        threads.append(axis)
        return kind, f"bind {name} -> {axis};"
    if kind == "pipeline":
        if st.cached and not sloppy:
            name = rng.choice(st.cached)
        elif not sloppy:
            return None
        return kind, f"pipeline {name} stages {rng.randint(1 if sloppy else 2, 4)};"
    return None


def warp_epilogue_pair(kernel):
    """(r, e, tensor, [i, j]): nest r reduces into tensor at two plain loop indices i, j
    (r's first loops), and a later labelled nest e reads the tensor; or None."""
    for r, nest in enumerate(kernel.nests):
        loops = [l[0] for l in nest[1]]
        for t, idx, reduces in kernel.writes[r]:
            if not reduces or not nest[0] or len(idx) != 2 or idx != loops[:2] or len(loops) < 3:
                continue
            for e in range(r + 1, len(kernel.nests)):
                later = kernel.nests[e]
                if later[0] and t in later[2] and all(w[0] != t for w in kernel.writes[e]):
                    return r, e, t, idx
    return None


def gen_warp_epilogue(rng, kernel, target, pair):
    """The shape of issue 13, item 1: R's written loops tiled to blocks, warps bound
    inside (one or two dimensions), the written tensor cached in registers at the
    innermost warp loop, and the epilogue (sometimes the init too) fused at the block
    loop of the second tiled index. Lane 0 of each warp writes its part back; the
    epilogue, run once per block, reads all of it."""
    r, e, t, (i, j) = pair
    lab = kernel.nests[r][0]
    ti, tj = rng.choice([8, 16, 32, 64]), rng.choice([4, 8, 16, 32])
    wi = rng.choice([d for d in (1, 2, 4, 8, 16) if d <= ti])
    items = [(lab, "tile", f"tile {i}, {j} by {ti}, {tj} -> q1, q2, q3, q4;"),
             (lab, "split", f"split q3 by {wi} -> q5, q6;")]
    warps, inner = -(-ti // wi), "q5"
    binds = "bind q1 -> block.y, q2 -> block.x, q5 -> warp.x;"
    if rng.random() < 0.4:
        wj = rng.choice([d for d in (2, 4, 8) if d <= tj] or [tj])
        items.append((lab, "split", f"split q4 by {wj} -> q7, q8;"))
        items.append((lab, "reorder", "reorder q5, q7, q6, q8;"))
        warps *= -(-tj // wj)
        inner = "q7"
        binds = "bind q1 -> block.y, q2 -> block.x, q5 -> warp.y, q7 -> warp.x;"
    if warps * WAVE[target] > 1024:
        return None
    items.append((lab, "bind", binds))
    items.append((lab, "warp-cache", f"cache {t} at {inner} in registers;"))
    fused = [kernel.nests[p][0] for p in range(r) if kernel.nests[p][0] and rng.random() < 0.5
             and any(w[0] == t for w in kernel.writes[p])]
    items.append((None, "fuse-into", "fuse " + ", ".join(fused + [kernel.nests[e][0]])
                  + f" into {lab} at q2;"))
    return items


def gen_schedule(rng, kernel, target):
    """A schedule as a list of items (nest label or None, kind, clause text)."""
    pair = warp_epilogue_pair(kernel) if target != "cpu" else None
    if pair and rng.random() < 0.7:
        items = gen_warp_epilogue(rng, kernel, target, pair)
        if items:
            return items
    items = []
    counter = [0]

    def fresh():
        counter[0] += 1
        return f"q{counter[0]}"

    states = []
    for nest in kernel.nests:
        st = NestState(nest[1])
        states.append(st)
        if rng.random() < 0.25 and len(kernel.nests) > 1:
            continue
        threads = []
        for _ in range(rng.randint(1, 7)):
            c = gen_clause(rng, kernel, nest, st, target, fresh, threads)
            if c:
                items.append((nest[0], c[0], c[1]))
    labels = [n[0] for n in kernel.nests]
    if len(labels) > 1 and rng.random() < 0.4:
        r = rng.randrange(1, len(labels))
        ps = sorted(rng.sample(range(r), rng.randint(1, r)))
        # Mostly a loop L where the fused nests' region can be legal and of constant shape:
        # every loop around L runs over indices the fused nests share with R (not a
        # reduction loop), and those under L that do have constant extents.
        rl = states[r].loops
        shared = set().union(*({l[0] for l in kernel.nests[p][1]} for p in ps)) & \
            {l[0] for l in kernel.nests[r][1]}
        org = [states[r].origin.get(l[0], frozenset()) for l in rl]
        good = [p for p in range(len(rl)) if all(o <= shared for o in org[:p + 1]) and
                all(l[1] is not None for l, o in zip(rl[p + 1:], org[p + 1:]) if o <= shared)]
        at = rl[rng.choice(good)][0] if good and rng.random() < 0.75 else rng.choice(rl)[0]
        # A fused nest's own clauses on the loops indexing what it writes are an error
        # (nothing left to restrict): mostly it has none.
        if rng.random() < 0.7:
            fused = {kernel.nests[p][0] for p in ps}
            items = [it for it in items if it[0] not in fused]
        items.append((None, "fuse-into", "fuse " + ", ".join(labels[p] for p in ps)
                      + f" into {labels[r]} at {at};"))
    return items


def render(kernel, target, items):
    lines = [f"schedule {kernel.name} for {SCHED_TARGET[target]} {{"]
    for nest in kernel.nests:
        mine = [c for (lab, k, c) in items if lab == nest[0] and k != "fuse-into"]
        if not mine:
            continue
        if nest[0] is None:
            lines += ["    " + c for c in mine]
        else:
            lines.append(f"    in {nest[0]} {{")
            lines += ["        " + c for c in mine]
            lines.append("    }")
    lines += ["    " + c for (lab, k, c) in items if k == "fuse-into"]
    lines.append("}")
    return kernel.text + "\n" + "\n".join(lines) + "\n"


def gen_sizes(rng, kernel, cap=WORK_CAP):
    for _ in range(100):
        s = {n: rng.randint(1, 64) for n in kernel.sizes}
        while True:
            prod = 1
            for v in s.values():
                prod *= v
            if prod <= cap:
                break
            big = max(s, key=s.get)
            s[big] = max(1, s[big] // 2)
        if all(eval_dim(d, s) >= 1 for d in kernel.shapes):
            return s
    return {n: 1 for n in kernel.sizes}


def eval_dim(expr, sizes):
    return eval(re.sub(r"[A-Za-z_]\w*", lambda m: str(sizes.get(m.group(0), 0)), expr))


# ---------------------------------------------------------------- running accl

def accl_run(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIME_LIMIT)
        return p.returncode, p.stdout + p.stderr
    except subprocess.TimeoutExpired:
        return 124, f"timed out after {TIME_LIMIT} s"


GPU_EXEC = ["--emulate"]   # how accepted GPU schedules run (--gpu-exec)


def run_cmd(accl, path, kernel, target, sizes, seed):
    cmd = [accl, "run", path, "--kernel", kernel.name,
           "--size", ",".join(f"{k}={v}" for k, v in sizes.items()),
           "--seed", str(seed), f"--target={target}"]
    for name, ty in kernel.scalars.items():
        cmd += ["--arg", f"{name}=" + ("true" if ty == "bool" else "0.01" if ty[0] in "fb" else "3")]
    if target != "cpu":
        cmd += GPU_EXEC
    return cmd


def check_cmd(accl, target, path):
    """Every check, those on the loop IR too: `accl FILE` lowers for the target, writes nothing."""
    return [accl, f"--target={target}", path]


def classify_check(rc, out):
    """'accepted', 'rejected', or a failure description."""
    if rc == 0:
        return "accepted"
    if "internal error" in out:
        return "internal error"
    if rc == 1 and "error:" in out:
        return "rejected"
    return f"check failed: exit {rc}" + (" (no error: message)" if rc == 1 else "")


def try_case(accl, kernel, target, items, runs, tmpdir, tag):
    """Checks one schedule; returns (status, failure text or None). status: accepted, rejected, fail."""
    path = os.path.join(tmpdir, f"{tag}.acc")
    with open(path, "w") as f:
        f.write(render(kernel, target, items))
    rc, out = accl_run(check_cmd(accl, target, path))
    verdict = classify_check(rc, out)
    if verdict == "rejected":
        if os.environ.get("DIFFTEST_WHY"):
            print("REJECT", target, re.sub(r"'[^']*'", "'X'", out.split("error: ", 1)[1].split("\n")[0]))
        return "rejected", None
    if verdict != "accepted":
        return "fail", verdict + "\n" + out
    for sizes, seed in runs:
        cmd = run_cmd(accl, path, kernel, target, sizes, seed)
        rc, out = accl_run(cmd)
        if rc != 0 or "PASS" not in out:
            return "fail", f"run failed (exit {rc}) at {sizes}\n{out[-2000:]}"
    return "accepted", None


def shrink(accl, kernel, target, items, runs, tmpdir, tag):
    """Fewer clauses, then smaller sizes, while the case still fails."""
    def fails(its, rs):
        return try_case(accl, kernel, target, its, rs, tmpdir, tag + "s")[0] == "fail"

    changed = True
    while changed:
        changed = False
        for i in range(len(items)):
            cand = items[:i] + items[i + 1:]
            if fails(cand, runs):
                items, changed = cand, True
                break
    # keep only the first failing size, then halve each size while it fails
    for r in runs:
        if fails(items, [r]):
            runs = [r]
            break
    sizes, seed = runs[0]
    changed = True
    while changed:
        changed = False
        for k in sizes:
            if sizes[k] > 1:
                cand = dict(sizes)
                cand[k] = sizes[k] // 2
                if all(eval_dim(d, cand) >= 1 for d in kernel.shapes) and fails(items, [(cand, seed)]):
                    sizes, changed = cand, True
    return items, [(sizes, seed)]


def report_failure(accl, kernel, target, items, runs, tmpdir, tag, why):
    items, runs = shrink(accl, kernel, target, items, runs, tmpdir, tag)
    status, why2 = try_case(accl, kernel, target, items, runs, tmpdir, tag + "r")
    path = os.path.join(tmpdir, f"{tag}r.acc")
    text = [f"FAIL {tag}: {kernel.name} for {target}", (why2 or why).rstrip(),
            "---- reproducer (shrunk): save as repro.acc", render(kernel, target, items).rstrip(),
            "---- command",
            " ".join(run_cmd(accl, "repro.acc", kernel, target, runs[0][0], runs[0][1])),
            f"(or: {accl} --target={target} repro.acc)", ""]
    return "\n".join(text)


def legal_case(args, kernels, i, tmpdir):
    rng = random.Random(f"{args.seed}:{i}")
    kernel = rng.choice(kernels)
    target = rng.choice(TARGETS)
    items = gen_schedule(rng, kernel, target)
    cap = WORK_CAP if target == "cpu" else WORK_CAP_GPU
    runs = [(gen_sizes(rng, kernel, cap), rng.randint(1, 1000)) for _ in range(2)]
    t0 = time.monotonic()
    status, why = try_case(args.accl, kernel, target, items, runs, tmpdir, f"case{i}")
    took = time.monotonic() - t0
    text = None
    if status == "fail":
        text = report_failure(args.accl, kernel, target, items, runs, tmpdir, f"case{i}", why)
    what = f"case{i} {kernel.name} for {target} at {[r[0] for r in runs]} ({status}): " + \
        " ".join(c for (_, _, c) in items)
    return status, target, [k for (_, k, _) in items], text, (took, what)


# ---------------------------------------------------------------- illegal by construction

def illegal_case(args, kernels, prefix, i, tmpdir):
    """A schedule with one clause illegal by construction: (what, kernel, target, items)."""
    rng = random.Random(f"illegal:{args.seed}:{i}")
    what = rng.choice(["duplicate bind", "over 1024 threads", "factor <= 0", "unknown name",
                       "init fused inside a reduction", "parallel over a carried dependence",
                       "vectorize of a non-constant extent", "cache of non-constant shape"])
    gpu = rng.choice(["nvidia:sm_80", "amd:gfx942"])
    kernel = rng.choice(kernels)
    nest = rng.choice(kernel.nests)
    lab = nest[0]
    loop = rng.choice(nest[1])[0]
    target, items = "cpu", []
    if what == "duplicate bind":
        target = gpu
        items = [(lab, "split", f"split {loop} by 32 -> q1, q2;"),
                 (lab, "bind", "bind q1 -> thread.x;"), (lab, "bind", "bind q2 -> thread.x;")]
    elif what == "over 1024 threads":
        target = gpu
        a, b = rng.choice([(2048, 1), (64, 32), (1024, 2)])
        items = [(lab, "split", f"split {loop} by {a * b} -> q1, q2;"),
                 (lab, "split", f"split q2 by {b} -> q3, q4;"),
                 (lab, "bind", "bind q3 -> thread.x;"), (lab, "bind", "bind q4 -> thread.y;")]
    elif what == "factor <= 0":
        target = rng.choice(TARGETS)
        f = rng.choice(["0", "-1", "-64"])
        items = [(lab, "split", f"split {loop} by {f} -> q1, q2;")]
    elif what == "unknown name":
        target = rng.choice(TARGETS)
        items = [(lab, "unroll", rng.choice(["unroll zz9;", "vectorize zz9;",
                                             f"split zz9 by 4 -> q1, q2;",
                                             f"cache ZZ9 at {loop} in shared;"]))]
    elif what == "init fused inside a reduction":
        cands = [k for k in kernels if any(n[0] == "init" for n in k.nests) and len(k.nests) > 1]
        kernel = rng.choice(cands)
        # the first nest after init with a loop init lacks: a reduction loop
        init = next(n for n in kernel.nests if n[0] == "init")
        ivars = {l[0] for l in init[1]}
        r = next(n for n in kernel.nests if n[0] != "init" and {l[0] for l in n[1]} - ivars)
        red = next(l[0] for l in r[1] if l[0] not in ivars)
        target = rng.choice(TARGETS)
        items = [(None, "fuse-into", f"fuse init into {r[0]} at {red};")]
    elif what == "parallel over a carried dependence":
        kernel = prefix
        if rng.random() < 0.5:
            target, items = "cpu", [("scan", "parallel", "parallel i;")]
        else:
            target, items = gpu, [("scan", "split", "split i by 32 -> q1, q2;"),
                                  ("scan", "bind", "bind q2 -> thread.x;")]
    elif what == "vectorize of a non-constant extent":
        target = rng.choice(TARGETS)
        items = [(lab, "vectorize", f"vectorize {loop};")]
    else:
        target = gpu
        nest = rng.choice([n for n in kernel.nests if len(n[1]) >= 2] or
                          [n for k in kernels for n in k.nests if len(n[1]) >= 2])
        kernel = next(k for k in kernels if nest in k.nests)
        lab = nest[0]
        t = rng.choice([t for t in nest[2] if len(kernel.tensors[t]) >= 2])
        items = [(lab, "cache", f"cache {t} at {nest[1][0][0]} in shared;")]
    return what, kernel, target, items


def check_illegal(args, kernels, prefix, i, tmpdir):
    what, kernel, target, items = illegal_case(args, kernels, prefix, i, tmpdir)
    path = os.path.join(tmpdir, f"ill{i}.acc")
    with open(path, "w") as f:
        f.write(render(kernel, target, items))
    rc, out = accl_run(check_cmd(args.accl, target, path))
    bad = None
    if rc != 1 or "error:" not in out:
        bad = f"not rejected with an error (exit {rc})"
    else:
        obj = path + ".o"
        rc2, out2 = accl_run([args.accl, f"--target={target}", path, "-o", obj])
        if rc2 != 1 or os.path.exists(obj):
            bad = f"compiled anyway: accl -o exit {rc2}"
    if bad:
        return "fail", what, "\n".join([f"FAIL illegal{i} ({what}): {kernel.name} for {target}: {bad}",
                                        out.rstrip(), "---- reproducer", render(kernel, target, items).rstrip(),
                                        f"---- command\n{args.accl} --target={target} repro.acc", ""])
    return "rejected", what, None


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accl", default=os.path.join(ROOT, "build", "accl"))
    ap.add_argument("-n", type=int, default=200, help="legal-mode cases (illegal mode: n/4, at least 16)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--mode", choices=["legal", "illegal", "both"], default="both")
    ap.add_argument("--gpu-exec", choices=["emulate", "interpret"], default="emulate",
                    help="how accepted GPU schedules run: the GPU emulator or the IR interpreter")
    args = ap.parse_args()
    GPU_EXEC[:] = ["--" + args.gpu_exec]
    args.accl = os.path.abspath(args.accl)

    kernels = [read_kernel(args.accl, p) for p in sorted(glob.glob(os.path.join(ROOT, "examples", "*.acc")))
               + [os.path.join(ROOT, "tests", "difftest", "kernels", "epilogue.acc")]]
    kernels = [k for k in kernels if k.name and k.nests]
    prefix = read_kernel(args.accl, os.path.join(ROOT, "tests", "difftest", "kernels", "prefix.acc"))
    passed = failed = 0
    failures = []
    with tempfile.TemporaryDirectory(prefix="difftest.") as tmpdir, \
            concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        if args.mode in ("legal", "both"):
            groups = ["cpu", "gpu"]
            tried = {g: {k: 0 for k in KINDS} for g in groups}
            kept = {g: {k: 0 for k in KINDS} for g in groups}
            count = {g: [0, 0, 0] for g in groups}       # schedules, accepted, rejected
            accepted = rejected = 0
            times = []
            for status, target, kinds, text, took in pool.map(lambda i: legal_case(args, kernels, i, tmpdir),
                                                              range(args.n)):
                g = "cpu" if target == "cpu" else "gpu"
                times.append(took)
                count[g][0] += 1
                count[g][1] += status == "accepted"
                count[g][2] += status == "rejected"
                for k in kinds:
                    tried[g][k] += 1
                    kept[g][k] += status == "accepted"
                if status == "fail":
                    failed += 1
                    failures.append(text)
                else:
                    passed += 1
                    accepted += status == "accepted"
                    rejected += status == "rejected"
            gpu_how = "the emulator" if GPU_EXEC == ["--emulate"] else "the interpreter"
            print(f"legal mode (seed {args.seed}): {args.n} schedules, {accepted} accepted and PASS "
                  f"at 2 sizes each (CPU through the JIT, GPU through {gpu_how}), {rejected} rejected "
                  f"with an error, {args.n - accepted - rejected} failed")
            for g in groups:
                n, a, r = count[g]
                print(f"{g} targets: {n} schedules, {a} accepted, {r} rejected, {n - a - r} failed")
            print("clauses generated / in accepted schedules, per kind:")
            print(f"  {'':10} {'cpu':>21}   {'gpu (sm_80, gfx942)':>21}")
            for k in KINDS:
                cols = []
                for g in groups:
                    t, a = tried[g][k], kept[g][k]
                    cols.append(f"{a:5} / {t:5} {100.0 * a / t:5.1f}%" if t else f"{'-':>21}")
                if tried["cpu"][k] or tried["gpu"][k]:
                    print(f"  {k:10} {cols[0]:>21}   {cols[1]:>21}")
            times.sort(reverse=True)
            print(f"time: {sum(t for t, _ in times):.1f} s over the cases; the slowest:")
            for t, what in times[:3]:
                print(f"  {t:5.1f} s  {what}")
        if args.mode in ("illegal", "both"):
            m = max(16, args.n // 4)
            per = {}
            for status, what, text in pool.map(lambda i: check_illegal(args, kernels, prefix, i, tmpdir), range(m)):
                ok, n = per.get(what, (0, 0))
                per[what] = (ok + (status == "rejected"), n + 1)
                if status == "fail":
                    failed += 1
                    failures.append(text)
                else:
                    passed += 1
            print(f"illegal mode (seed {args.seed}): {m} schedules illegal by construction; rejected:")
            for what, (ok, n) in sorted(per.items()):
                print(f"  {what:38} {ok:4} / {n:4}")
    for text in failures:
        print(text)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
