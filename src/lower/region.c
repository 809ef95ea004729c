/* Region analysis (see region.h): symbolic interval arithmetic over index
 * expressions. A value is bounded by an interval [lo, hi] of affine forms over
 * the fixed variables, with a stride: every value is lo + stride * t. The
 * region's extent in a dimension is (hi - lo) / stride + 1, which must be a
 * constant: the symbolic parts of lo and hi cancel. */
#include "lower/region.h"

#include <stdlib.h>
#include <string.h>

#include "lower/ir_affine.h"
#include "util/intmath.h"

typedef struct Ival {
    Affine lo, hi;
    int64_t stride;        /* 0 for a single value */
} Ival;

/* A clause's guard on the path from L to an access (region_compute_exact):
 * var <= hi, with var the guard's varying part (loop references only). */
typedef struct RGuard {
    Affine var;
    int64_t hi;
    bool usable;           /* false: not affine, or the bound is not a constant */
    Affine uses;           /* the varying loops the condition uses (coefficients 1) */
} RGuard;

typedef struct RegionCtx {
    IrFunc *f;
    const RegionLets *lets;
    IrStmt **loop_of;      /* by var id: the loop declaring it, in the analysed tree */
    bool *varies;          /* by var id */
    bool failed;
    bool inexact;          /* a bound was widened (fdiv, fmod) */
    const char *bad_var;   /* the variable a non-constant extent depends on */
    int depth;             /* let chains looked through */
    /* region_compute_exact: the clauses' guards in scope, innermost last */
    bool use_guards;
    Span nest_span;        /* guards from inside it are the kernel's own */
    RGuard *guards;
    int nguards, capguards;
    bool guard_missed;     /* a guard on an index's loops could not narrow it */
    bool joined_apart;     /* accesses with different boxes were joined */
    IrAtoms atoms;         /* the keys of the forms' atoms */
} RegionCtx;

/* ---- affine forms ----
 * util/affine.h's, over IR atoms (lower/ir_affine.h): fixed i64 expressions
 * (a variable's reference, or an opaque expression such as fdiv(bi, 3)). */

/* The arithmetic a region needs, with an overflow or too many terms making
 * the analysis fail. */
static void fail_unless_ok(RegionCtx *cx, const Affine *a)
{
    if (!a->ok)
        cx->failed = true;
}

static void add_atom(RegionCtx *cx, Affine *a, const IrExpr *atom, int64_t coef)
{
    aff_add_term(a, ir_atom_key(&cx->atoms, atom), coef);
    fail_unless_ok(cx, a);
}

/* a + k * b */
static Affine axpy(RegionCtx *cx, const Affine *a, int64_t k, const Affine *b)
{
    Affine r = *a;
    aff_add_scaled(&r, b, k);
    fail_unless_ok(cx, &r);
    return r;
}

static Affine scale(RegionCtx *cx, const Affine *a, int64_t k)
{
    Affine r = aff_scale(a, k);
    fail_unless_ok(cx, &r);
    return r;
}

/* The first variable (or tensor read) inside e, for messages. */
static const char *expr_some_var(const IrExpr *e)
{
    if (e->kind == IR_VARREF)
        return e->var->name;
    for (int i = 0; i < e->nargs; i++) {
        const char *v = expr_some_var(e->args[i]);
        if (v)
            return v;
    }
    return e->kind == IR_LOAD ? e->buf->name : NULL;
}

/* A variable that a's symbolic part depends on, for messages: the atoms are
 * variables or opaque fixed expressions ((N + 255) fdiv 256 depends on N). */
static const char *aff_some_var(const Affine *a)
{
    for (int i = 0; i < a->n; i++)
        if (ir_atom(a->t[i].key)->kind == IR_VARREF)
            return ir_atom(a->t[i].key)->var->name;
    for (int i = 0; i < a->n; i++) {
        const char *v = expr_some_var(ir_atom(a->t[i].key));
        if (v)
            return v;
    }
    return NULL;
}

/* An i64 expression computing a (a leading negative term as its negation). */
static IrExpr *aff_to_expr(IrFunc *f, const Affine *a) { return ir_affine_expr(f, a, true); }

/* ---- intervals ---- */

static Ival ival_point(Affine a)
{
    Ival v = {.lo = a, .hi = a, .stride = 0};
    return v;
}

static bool ival_is_point(const Ival *v) { return v->stride == 0; }

/* hi - lo as a constant, or false when it is symbolic. */
static bool ival_width(RegionCtx *cx, const Ival *v, int64_t *w)
{
    Affine d = axpy(cx, &v->hi, -1, &v->lo);
    if (!aff_is_const(&d)) {
        if (!cx->bad_var)
            cx->bad_var = aff_some_var(&d);
        return false;
    }
    *w = d.c;
    return true;
}

static Ival eval(RegionCtx *cx, const IrExpr *e);

/* A fixed value: the expression itself (lets resolved) is an atom. */
static IrExpr *resolve(RegionCtx *cx, const IrExpr *e);

static Ival eval_atom(RegionCtx *cx, const IrExpr *e)
{
    Affine a = aff_const(0);
    add_atom(cx, &a, resolve(cx, e), 1);
    return ival_point(a);
}

static IrExpr *resolve(RegionCtx *cx, const IrExpr *e)
{
    if (e->kind == IR_VARREF && e->var->id < cx->lets->n && cx->lets->def[e->var->id] &&
        cx->depth < 1000) {
        cx->depth++;
        IrExpr *r = resolve(cx, cx->lets->def[e->var->id]);
        cx->depth--;
        return r;
    }
    /* A varying loop of extent 1 is a point (eval_loop_var): its lower bound, since the
     * atom is used outside the loop. */
    int64_t ext;
    if (e->kind == IR_VARREF && cx->varies[e->var->id] && cx->loop_of[e->var->id] &&
        ir_const_int(cx->loop_of[e->var->id]->extent, &ext) && ext == 1 && cx->depth < 1000) {
        cx->depth++;
        IrExpr *r = resolve(cx, cx->loop_of[e->var->id]->lo);
        cx->depth--;
        return r;
    }
    IrExpr *c = ir_expr_copy(cx->f, e);
    for (int i = 0; i < c->nargs; i++)
        c->args[i] = resolve(cx, e->args[i]);
    return c;
}

/* A varying loop variable: [lo, lo + extent - 1], stride 1. */
static Ival eval_loop_var(RegionCtx *cx, const IrStmt *loop)
{
    Ival lo = eval(cx, loop->lo), ext = eval(cx, loop->extent);
    int64_t w;
    if (ival_width(cx, &ext, &w) && aff_is_const(&ext.lo) && ext.lo.c == 1 && w == 0)
        return lo;
    Ival r = lo;
    r.hi = axpy(cx, &lo.hi, 1, &ext.hi);
    aff_add_const(&r.hi, -1);
    r.stride = im_gcd(lo.stride, 1);
    return r;
}

static Ival eval_var(RegionCtx *cx, const IrExpr *e)
{
    int id = e->var->id;
    if (id < cx->lets->n && cx->lets->def[id] && cx->depth < 1000) {
        cx->depth++;
        Ival r = eval(cx, cx->lets->def[id]);
        cx->depth--;
        return r;
    }
    if (cx->varies[id] && cx->loop_of[id])
        return eval_loop_var(cx, cx->loop_of[id]);
    return eval_atom(cx, e);
}

/* Whether a + b (or a - b), both ranges, hits every value of its box on the
 * finer stride: the finer range must span a whole step of the coarser one
 * (4*q13 + q14, q13 < 4, q14 < 2, holds 0, 1, 4, 5, ... but not 2, 3). */
static bool sum_fills(RegionCtx *cx, const Ival *a, const Ival *b)
{
    if (ival_is_point(a) || ival_is_point(b))
        return true;
    const Ival *fine = a->stride <= b->stride ? a : b, *coarse = fine == a ? b : a;
    Affine d = axpy(cx, &fine->hi, -1, &fine->lo);
    return coarse->stride % fine->stride == 0 && aff_is_const(&d) && d.c + fine->stride >= coarse->stride;
}

static Ival eval_add(RegionCtx *cx, const Ival *a, const Ival *b, int sign)
{
    Ival r;
    r.lo = axpy(cx, &a->lo, sign, sign > 0 ? &b->lo : &b->hi);
    r.hi = axpy(cx, &a->hi, sign, sign > 0 ? &b->hi : &b->lo);
    r.stride = im_gcd(a->stride, b->stride);
    if (!sum_fills(cx, a, b))
        cx->inexact = true;   /* the box is a superset */
    return r;
}

static Ival eval_scale(RegionCtx *cx, const Ival *a, int64_t k)
{
    Ival r;
    r.lo = scale(cx, k >= 0 ? &a->lo : &a->hi, k);
    r.hi = scale(cx, k >= 0 ? &a->hi : &a->lo, k);
    r.stride = a->stride * (k < 0 ? -k : k);
    return r;
}

static bool const_point(const Ival *v, int64_t *k)
{
    if (!ival_is_point(v) || !aff_is_const(&v->lo))
        return false;
    *k = v->lo.c;
    return true;
}

/* fdiv(x, k), k > 0, x not a point: exact when x's low end and stride are
 * multiples of k; otherwise [fdiv(lo, k), fdiv(lo, k) + ceil(width / k)], stride 1. */
static Ival eval_floordiv(RegionCtx *cx, const Ival *a, int64_t k)
{
    int64_t w;
    if (aff_divisible(&a->lo, k) && a->stride % k == 0) {
        Ival r = {.lo = aff_div_exact(&a->lo, k), .hi = aff_div_exact(&a->hi, k),
                  .stride = a->stride / k};
        return r;
    }
    if (!ival_width(cx, a, &w)) {
        cx->failed = true;
        return *a;
    }
    /* region_compute_exact: x over every value of [k*q, k*q + w] gives exactly
     * q + [0, w fdiv k] */
    if (cx->use_guards && aff_divisible(&a->lo, k) && a->stride == 1) {
        Ival r = {.lo = aff_div_exact(&a->lo, k), .hi = aff_div_exact(&a->lo, k), .stride = 1};
        aff_add_const(&r.hi, w / k);
        r.stride = w / k ? 1 : 0;
        return r;
    }
    cx->inexact = true;
    Ival r;
    if (aff_is_const(&a->lo)) {
        r.lo = aff_const(im_floor_div(a->lo.c, k));
    } else {
        r.lo = aff_const(0);
        add_atom(cx, &r.lo, ir_binary(cx->f, IR_FLOORDIV, aff_to_expr(cx->f, &a->lo),
                                           ir_index(cx->f, k)), 1);
    }
    r.hi = r.lo;
    /* Not im_ceil_div: a negative width (an empty interval) truncates toward
     * zero here, as it always has, where the ceiling would go below lo. */
    aff_add_const(&r.hi, (w + k - 1) / k);
    r.stride = 1;
    return r;
}

/* fmod(x, k), k > 0, x not a point: x itself when x's low end is a multiple
 * of k and its width is below k; otherwise [0, k - 1]. */
static Ival eval_floormod(RegionCtx *cx, const Ival *a, int64_t k)
{
    int64_t w;
    if (aff_divisible(&a->lo, k) && ival_width(cx, a, &w) && w < k) {
        Ival r = {.lo = aff_const(0), .hi = aff_const(w), .stride = a->stride};
        return r;
    }
    /* region_compute_exact: every value of [k*q, k*q + w], w >= k - 1, gives every residue */
    if (!(cx->use_guards && aff_divisible(&a->lo, k) && a->stride == 1 && ival_width(cx, a, &w) &&
          w >= k - 1))
        cx->inexact = true;
    Ival r = {.lo = aff_const(0), .hi = aff_const(k - 1), .stride = 1};
    return r;
}

static Ival eval_binary(RegionCtx *cx, const IrExpr *e)
{
    Ival a = eval(cx, e->args[0]), b = eval(cx, e->args[1]);
    int64_t k;
    switch (e->op) {
    case IR_ADD: return eval_add(cx, &a, &b, 1);
    case IR_SUB: return eval_add(cx, &a, &b, -1);
    case IR_MUL:
        if (const_point(&b, &k))
            return eval_scale(cx, &a, k);
        if (const_point(&a, &k))
            return eval_scale(cx, &b, k);
        break;
    case IR_FLOORDIV:
    case IR_FLOORMOD:
        if (!const_point(&b, &k) || k <= 0)
            break;
        if (ival_is_point(&a) && aff_is_const(&a.lo))  /* a constant: folded */
            return ival_point(aff_const(e->op == IR_FLOORDIV ? im_floor_div(a.lo.c, k)
                                                             : im_floor_mod(a.lo.c, k)));
        if (ival_is_point(&a))  /* fixed but symbolic: an atom */
            return eval_atom(cx, e);
        return e->op == IR_FLOORDIV ? eval_floordiv(cx, &a, k) : eval_floormod(cx, &a, k);
    default: break;
    }
    if (ival_is_point(&a) && ival_is_point(&b))
        return eval_atom(cx, e);
    cx->failed = true;
    return a;
}

/* Index expressions: + - * by constants, fdiv and fmod by positive constants;
 * any other fixed expression is an atom; anything else fails. */
static Ival eval(RegionCtx *cx, const IrExpr *e)
{
    switch (e->kind) {
    case IR_INT: return ival_point(aff_const(e->ival));
    case IR_VARREF: return eval_var(cx, e);
    case IR_BINARY: return eval_binary(cx, e);
    case IR_UNARY:
        if (e->op == IR_NEG) {
            Ival a = eval(cx, e->args[0]);
            return eval_scale(cx, &a, -1);
        }
        break;
    default: break;
    }
    bool fixed = true;
    for (int i = 0; i < e->nargs; i++) {
        Ival a = eval(cx, e->args[i]);
        fixed = fixed && ival_is_point(&a);
    }
    if (fixed)
        return eval_atom(cx, e);
    cx->failed = true;
    return ival_point(aff_const(0));
}

/* ---- clauses' guards (region_compute_exact) ----
 *
 * A split whose factor does not divide leaves `if (value < F)` around what
 * follows (schedule-loops): the inner loop runs over [0, F) only through that
 * guard. An index whose affine form over the varying loops holds the guard's
 * varying part m times, index = rest + m * var, lies in
 * rest + m * [lo(var), min(hi(var), bound)] rather than in the box over the
 * loops' full ranges. Guards from the kernel's own `if`s (their origin lies
 * in the nest) are data, not iteration space: they stay ignored. */

static bool is_varying_ref(const RegionCtx *cx, const IrExpr *a)
{
    return a->kind == IR_VARREF && cx->varies[a->var->id] && cx->loop_of[a->var->id];
}

static bool unit_loop(const RegionCtx *cx, const IrVar *v)
{
    int64_t ext;
    return cx->loop_of[v->id] && ir_const_int(cx->loop_of[v->id]->extent, &ext) && ext == 1;
}

/* The varying loops e uses, lets looked through, as atoms with coefficient 1. */
static void collect_varying(RegionCtx *cx, const IrExpr *e, Affine *set)
{
    if (e->kind == IR_VARREF) {
        int id = e->var->id;
        if (id < cx->lets->n && cx->lets->def[id] && cx->depth < 1000) {
            cx->depth++;
            collect_varying(cx, cx->lets->def[id], set);
            cx->depth--;
            return;
        }
        if (is_varying_ref(cx, e)) {
            for (int i = 0; i < set->n; i++)
                if (ir_atom(set->t[i].key)->var == e->var)
                    return;
            add_atom(cx, set, e, 1);
        }
        return;
    }
    for (int i = 0; i < e->nargs; i++)
        collect_varying(cx, e->args[i], set);
}

static bool sets_meet(const Affine *a, const Affine *b)
{
    for (int i = 0; i < a->n; i++)
        for (int k = 0; k < b->n; k++)
            if (ir_atom(a->t[i].key)->var == ir_atom(b->t[k].key)->var)
                return true;
    return false;
}

static IrAffineOps lin_ops(RegionCtx *cx);

/* lin_of's variables: a let is its value, a varying loop of extent 1 its lower
 * bound, another varying loop a term (its reference). */
static IrAffStep lin_visit(void *p, const IrExpr *e, int64_t scale, Affine *a)
{
    RegionCtx *cx = p;
    if (e->kind != IR_VARREF)
        return IR_AFF_OPEN;
    int id = e->var->id;
    const IrExpr *to = NULL;
    if (id < cx->lets->n && cx->lets->def[id] && cx->depth < 1000)
        to = cx->lets->def[id];
    else if (is_varying_ref(cx, e) && unit_loop(cx, e->var) && cx->depth < 1000)
        to = cx->loop_of[id]->lo;
    if (to) {
        IrAffineOps ops = lin_ops(cx);
        cx->depth++;
        bool ok = ir_affine_add(&ops, to, scale, a);
        cx->depth--;
        return ok ? IR_AFF_DONE : IR_AFF_REFUSED;
    }
    if (!is_varying_ref(cx, e))
        return IR_AFF_OPEN;
    add_atom(cx, a, e, scale);
    return IR_AFF_DONE;
}

/* Anything else that uses no varying loop is a fixed term (resolved). */
static bool lin_whole(void *p, const IrExpr *e, int64_t scale, Affine *a)
{
    RegionCtx *cx = p;
    Affine used = aff_const(0);
    collect_varying(cx, e, &used);
    if (used.n)
        return false;
    add_atom(cx, a, resolve(cx, e), scale);
    return true;
}

/* Operands' forms are built apart, then combined: the term order lin_of has
 * always had, which reaches printed IR through aff_to_expr. */
static IrAffineOps lin_ops(RegionCtx *cx)
{
    return (IrAffineOps){.cx = cx, .visit = lin_visit, .whole = lin_whole, .apart = true};
}

/* e as an affine form whose atoms are varying loops (their references) and
 * fixed expressions (resolved); false when e is not affine in the loops, or
 * on an overflow (which also fails the analysis, except where guards_of
 * forgives it: such a form must not make a usable guard). */
static bool lin_of(RegionCtx *cx, const IrExpr *e, Affine *out)
{
    IrAffineOps ops = lin_ops(cx);
    *out = aff_const(0);
    bool ok = ir_affine_add(&ops, e, 1, out);
    fail_unless_ok(cx, out);
    return ok && out->ok;
}

/* The interval of an affine form from lin_of. */
static Ival lin_ival(RegionCtx *cx, const Affine *a)
{
    Affine fixed = aff_const(a->c);
    for (int i = 0; i < a->n; i++)
        if (!is_varying_ref(cx, ir_atom(a->t[i].key)))
            add_atom(cx, &fixed, ir_atom(a->t[i].key), a->t[i].k);
    Ival r = ival_point(fixed);
    for (int i = 0; i < a->n; i++) {
        if (!is_varying_ref(cx, ir_atom(a->t[i].key)))
            continue;
        Ival v = eval_loop_var(cx, cx->loop_of[ir_atom(a->t[i].key)->var->id]);
        Ival t = eval_scale(cx, &v, a->t[i].k);
        r = eval_add(cx, &r, &t, 1);
    }
    return r;
}

static void guard_push(RegionCtx *cx, const RGuard *g)
{
    if (cx->nguards == cx->capguards) {
        int cap = cx->capguards ? 2 * cx->capguards : 8;
        RGuard *gs = ARENA_ARRAY(cx->f->arena, RGuard, cap);
        if (cx->nguards)
            memcpy(gs, cx->guards, sizeof *gs * (size_t)cx->nguards);
        cx->guards = gs;
        cx->capguards = cap;
    }
    cx->guards[cx->nguards++] = *g;
}

static bool uses_size(const IrExpr *e)
{
    if (e->kind == IR_VARREF)
        return e->var->kind == IR_VAR_SIZE;
    for (int i = 0; i < e->nargs; i++)
        if (uses_size(e->args[i]))
            return true;
    return false;
}

/* The guards of cond (a conjunction of comparisons) that constrain varying loops.
 * A comparison with a size in its fixed part (i < M, the copy of it that a
 * reduction's combining store takes) bounds the nest's domain, not a split's
 * overshoot: the elements it drops lie outside the tensor's range that the
 * nest covers, and no other iteration reaches them; it is not a guard here. */
static void guards_of(RegionCtx *cx, const IrExpr *cond)
{
    if (cond->kind == IR_BINARY && cond->op == IR_AND) {
        guards_of(cx, cond->args[0]);
        guards_of(cx, cond->args[1]);
        return;
    }
    RGuard g = {.var = aff_const(0), .uses = aff_const(0)};
    collect_varying(cx, cond, &g.uses);
    if (!g.uses.n)
        return;
    Affine a, b;
    bool saved = cx->failed;
    if (cond->kind == IR_BINARY && cond->op >= IR_LT && cond->op <= IR_GE &&
        lin_of(cx, cond->args[0], &a) && lin_of(cx, cond->args[1], &b)) {
        /* normalized to d <= k */
        bool less = cond->op == IR_LT || cond->op == IR_LE;
        Affine d = less ? axpy(cx, &a, -1, &b) : axpy(cx, &b, -1, &a);
        int64_t k = cond->op == IR_LT || cond->op == IR_GT ? -1 : 0;
        Affine var = aff_const(0), fixed = aff_const(d.c);
        for (int i = 0; i < d.n; i++) {
            const IrExpr *at = ir_atom(d.t[i].key);
            add_atom(cx, is_varying_ref(cx, at) ? &var : &fixed, at, d.t[i].k);
        }
        for (int i = 0; i < fixed.n; i++)
            if (uses_size(ir_atom(fixed.t[i].key))) {
                cx->failed = saved;
                return;
            }
        if (aff_is_const(&fixed) && var.n) {
            g.var = var;
            g.hi = k - fixed.c;
            g.usable = true;
        }
    }
    cx->failed = saved;
    guard_push(cx, &g);
}

/* m with a's terms over g's loops exactly m times g's; false when they are not. */
static bool guard_multiple(const Affine *a, const Affine *g, int64_t *m)
{
    *m = 0;
    for (int i = 0; i < g->n; i++) {
        int64_t c = 0;
        for (int k = 0; k < a->n; k++) {
            const IrExpr *at = ir_atom(a->t[k].key);
            if (at->kind == IR_VARREF && at->var == ir_atom(g->t[i].key)->var)
                c = a->t[k].k;
        }
        if (c == 0 || c % g->t[i].k || (*m && c / g->t[i].k != *m))
            return false;
        *m = c / g->t[i].k;
    }
    return *m != 0;
}

/* The values of g's varying part that pass it: [lo, min(hi, bound)] on its stride. */
static bool guard_range(RegionCtx *cx, const RGuard *g, Ival *out)
{
    Ival v = lin_ival(cx, &g->var);
    if (cx->failed || !aff_is_const(&v.lo) || !aff_is_const(&v.hi))
        return false;
    int64_t s = v.stride > 0 ? v.stride : 1, hi = v.hi.c < g->hi ? v.hi.c : g->hi;
    if (hi < v.lo.c)
        return false;
    hi = v.lo.c + (hi - v.lo.c) / s * s;
    *out = v;
    out->hi = aff_const(hi);
    out->stride = hi == v.lo.c ? 0 : s;
    return true;
}

/* An access's index with the guards in scope applied. */
static Ival eval_index(RegionCtx *cx, const IrExpr *idx)
{
    if (!cx->use_guards || !cx->nguards)
        return eval(cx, idx);
    Affine used = aff_const(0), I;
    collect_varying(cx, idx, &used);
    bool lin = lin_of(cx, idx, &I), applied = false;
    Ival acc = ival_point(aff_const(0));
    for (int i = cx->nguards - 1; i >= 0; i--) {
        const RGuard *g = &cx->guards[i];
        if (!sets_meet(&g->uses, &used))
            continue;
        int64_t m;
        Ival r;
        if (!lin || !g->usable || !guard_multiple(&I, &g->var, &m) || !guard_range(cx, g, &r)) {
            cx->guard_missed = true;
            continue;
        }
        I = axpy(cx, &I, -m, &g->var);
        Ival t = eval_scale(cx, &r, m);
        acc = eval_add(cx, &acc, &t, 1);
        applied = true;
    }
    if (!applied)
        return eval(cx, idx);
    Ival rest = lin_ival(cx, &I);
    return eval_add(cx, &acc, &rest, 1);
}

/* ---- lets and loops ---- */

static void collect_lets(RegionLets *lets, const IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *s = b->items[i];
        if (s->kind == IR_LET && s->var->id < lets->n)
            lets->def[s->var->id] = s->value;
        collect_lets(lets, &s->body);
        collect_lets(lets, &s->else_body);
    }
}

void region_lets_init(RegionLets *lets, IrFunc *f)
{
    lets->n = f->nvars;
    lets->def = ARENA_ARRAY(f->arena, const IrExpr *, f->nvars + 1);
    memset(lets->def, 0, sizeof *lets->def * (size_t)(f->nvars + 1));
    collect_lets(lets, &f->body);
}

IrStmt *region_find_loop(IrStmt *s, const char *name)
{
    if (!s)
        return NULL;
    if (s->kind == IR_LOOP && strcmp(s->var->name, name) == 0)
        return s;
    const IrBlock *bs[2] = {&s->body, &s->else_body};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < bs[k]->len; i++) {
            IrStmt *r = region_find_loop(bs[k]->items[i], name);
            if (r)
                return r;
        }
    return NULL;
}

bool region_contains(const IrStmt *outer, const IrStmt *inner)
{
    if (outer == inner)
        return true;
    const IrBlock *bs[2] = {&outer->body, &outer->else_body};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < bs[k]->len; i++)
            if (region_contains(bs[k]->items[i], inner))
                return true;
    return false;
}

static bool is_warp_or_thread(const IrStmt *s)
{
    return s->loop_kind == IR_BOUND && s->hw >= HW_WARP_X && s->hw <= HW_THREAD_Z;
}

/* Marks the loops of the tree under s: every loop under L varies (inside is
 * true there), and per block also warp and thread loops anywhere. */
static void mark_loops(RegionCtx *cx, IrStmt *s, const IrStmt *L, bool inside, bool per_block)
{
    if (s->kind == IR_LOOP) {
        cx->loop_of[s->var->id] = s;
        cx->varies[s->var->id] = inside || (per_block && is_warp_or_thread(s));
        if (s == L)
            inside = true;
    }
    const IrBlock *bs[2] = {&s->body, &s->else_body};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < bs[k]->len; i++)
            mark_loops(cx, bs[k]->items[i], L, inside, per_block);
}

static void ctx_init(RegionCtx *cx, IrFunc *f, const RegionLets *lets)
{
    memset(cx, 0, sizeof *cx);
    cx->f = f;
    cx->lets = lets;
    ir_atoms_init(&cx->atoms, f->arena);
    cx->loop_of = ARENA_ARRAY(f->arena, IrStmt *, f->nvars + 1);
    cx->varies = ARENA_ARRAY(f->arena, bool, f->nvars + 1);
    memset(cx->loop_of, 0, sizeof *cx->loop_of * (size_t)(f->nvars + 1));
    memset(cx->varies, 0, sizeof *cx->varies * (size_t)(f->nvars + 1));
}

/* ---- accesses ---- */

typedef struct Acc {
    RegionCtx *cx;
    const IrBuffer *buf;
    int ndims;
    Ival *box;             /* the union so far */
    bool any;
    bool read, written;
    int bad_dim;
} Acc;

/* Joins v into dimension d of the box: the low ends must differ by a constant. */
static void acc_join(Acc *ac, int d, const Ival *v)
{
    RegionCtx *cx = ac->cx;
    if (!ac->any) {
        ac->box[d] = *v;
        return;
    }
    Ival *b = &ac->box[d];
    Affine dlo = axpy(cx, &v->lo, -1, &b->lo), dhi = axpy(cx, &v->hi, -1, &b->hi);
    if (!aff_is_const(&dlo) || !aff_is_const(&dhi)) {
        if (!cx->bad_var)
            cx->bad_var = aff_some_var(aff_is_const(&dlo) ? &dhi : &dlo);
        cx->failed = true;
        ac->bad_dim = d;
        return;
    }
    int64_t stride = im_gcd(im_gcd(b->stride, v->stride), dlo.c);
    if (dlo.c || dhi.c || stride != b->stride || stride != v->stride)
        cx->joined_apart = true;
    if (dlo.c < 0)
        b->lo = v->lo;
    if (dhi.c > 0)
        b->hi = v->hi;
    b->stride = stride;
}

static void acc_index(Acc *ac, IrExpr **idx, int n)
{
    RegionCtx *cx = ac->cx;
    if (n != ac->ndims || cx->failed)
        return;
    Ival *vs = ARENA_ARRAY(cx->f->arena, Ival, n + 1);
    for (int d = 0; d < n; d++) {
        vs[d] = eval_index(cx, idx[d]);
        if (cx->failed) {
            ac->bad_dim = d;
            return;
        }
    }
    for (int d = 0; d < n && !cx->failed; d++)
        acc_join(ac, d, &vs[d]);
    ac->any = true;
}

static void acc_expr(Acc *ac, const IrExpr *e)
{
    for (int i = 0; i < e->nargs; i++)
        acc_expr(ac, e->args[i]);
    if (e->kind == IR_LOAD && e->buf == ac->buf) {
        ac->read = true;
        acc_index(ac, e->args, e->nargs);
    }
}

/* A copy's box as an access: origin + [0, extent). */
static void acc_copy_side(Acc *ac, IrExpr **origin, const int64_t *extent)
{
    RegionCtx *cx = ac->cx;
    Ival *vs = ARENA_ARRAY(cx->f->arena, Ival, ac->ndims + 1);
    for (int d = 0; d < ac->ndims; d++) {
        vs[d] = eval(cx, origin[d]);
        if (extent[d] > 1) {
            aff_add_const(&vs[d].hi, extent[d] - 1);
            vs[d].stride = im_gcd(vs[d].stride, 1);
        }
    }
    for (int d = 0; d < ac->ndims && !cx->failed; d++)
        acc_join(ac, d, &vs[d]);
    ac->any = true;
}

static void acc_block(Acc *ac, const IrBlock *b);

static void acc_stmt(Acc *ac, const IrStmt *s)
{
    switch (s->kind) {
    case IR_LOOP:
        acc_expr(ac, s->lo);
        acc_expr(ac, s->extent);
        break;
    case IR_STORE:
        for (int i = 0; i < s->nidx; i++)
            acc_expr(ac, s->idx[i]);
        acc_expr(ac, s->value);
        if (s->buf == ac->buf) {
            ac->written = true;
            acc_index(ac, s->idx, s->nidx);
        }
        break;
    case IR_LET: acc_expr(ac, s->value); break;
    case IR_IF: {
        acc_expr(ac, s->cond);
        RegionCtx *cx = ac->cx;
        int mark = cx->nguards;
        if (cx->use_guards && !(s->origin.lo >= cx->nest_span.lo && s->origin.hi <= cx->nest_span.hi))
            guards_of(cx, s->cond);
        acc_block(ac, &s->body);
        cx->nguards = mark;
        acc_block(ac, &s->else_body);
        return;
    }
    case IR_COPY:
        if (s->copy.src == ac->buf) {
            ac->read = true;
            acc_copy_side(ac, s->copy.src_origin, s->copy.extent);
        }
        if (s->copy.dst == ac->buf) {
            ac->written = true;
            acc_copy_side(ac, s->copy.dst_origin, s->copy.extent);
        }
        break;
    case IR_ALLOC:
    case IR_BARRIER: break;
    }
    acc_block(ac, &s->body);
    acc_block(ac, &s->else_body);
}

static void acc_block(Acc *ac, const IrBlock *b)
{
    for (int i = 0; i < b->len; i++)
        acc_stmt(ac, b->items[i]);
}

static bool compute(RegionCtx *cx_, IrStmt *root, IrStmt *loop, const IrBuffer *buf, bool per_block,
                    Region *out, RegionError *err);

bool region_compute(IrFunc *f, const RegionLets *lets, IrStmt *root, IrStmt *loop,
                    const IrBuffer *buf, bool per_block, Region *out, RegionError *err)
{
    RegionCtx cx;
    ctx_init(&cx, f, lets);
    return compute(&cx, root, loop, buf, per_block, out, err);
}

bool region_compute_exact(IrFunc *f, const RegionLets *lets, IrStmt *root, IrStmt *loop,
                          const IrBuffer *buf, Span nest_span, Region *out, RegionError *err,
                          bool *exact)
{
    RegionCtx cx;
    ctx_init(&cx, f, lets);
    cx.use_guards = true;
    cx.nest_span = nest_span;
    bool ok = compute(&cx, root, loop, buf, false, out, err);
    *exact = ok && !cx.inexact && !cx.guard_missed && !cx.joined_apart;
    return ok;
}

static bool compute(RegionCtx *cx_, IrStmt *root, IrStmt *loop, const IrBuffer *buf, bool per_block,
                    Region *out, RegionError *err)
{
    RegionCtx cx = *cx_;
    IrFunc *f = cx.f;
    mark_loops(&cx, root, loop, false, per_block);
    Acc ac = {.cx = &cx, .buf = buf, .ndims = buf->ndims, .bad_dim = 0};
    ac.box = ARENA_ARRAY(f->arena, Ival, buf->ndims + 1);
    acc_block(&ac, &loop->body);
    out->buf = buf;
    out->ndims = buf->ndims;
    out->read = ac.read;
    out->written = ac.written;
    out->dims = ARENA_ARRAY(f->arena, RegionDim, buf->ndims + 1);
    err->dim = ac.bad_dim;
    err->var = NULL;
    for (int d = 0; d < buf->ndims && !cx.failed; d++) {
        RegionDim *rd = &out->dims[d];
        int64_t w = 0;
        if (!ac.any) {
            rd->min = ir_index(f, 0);
            rd->stride = rd->extent = 1;
            continue;
        }
        if (!ival_width(&cx, &ac.box[d], &w)) {
            cx.failed = true;
            err->dim = d;
            break;
        }
        rd->stride = ac.box[d].stride > 0 ? ac.box[d].stride : 1;
        rd->extent = w / rd->stride + 1;
        rd->min = aff_to_expr(f, &ac.box[d].lo);
    }
    *cx_ = cx;
    if (cx.failed) {
        err->var = cx.bad_var;
        return false;
    }
    return true;
}

void region_report(Diag *d, Span at, const char *tensor, const char *loop, const RegionError *err)
{
    if (err->var)
        diag_error(d, at,
                   "the region of '%s' at '%s' is not of constant shape: its extent in dimension %d "
                   "depends on '%s'",
                   tensor, loop, err->dim, err->var);
    else
        diag_error(d, at,
                   "the region of '%s' at '%s' is not of constant shape: index %d of '%s' is not "
                   "affine",
                   tensor, loop, err->dim, tensor);
}

IrExpr *region_offset(IrFunc *f, const Region *r, int d, IrExpr *idx)
{
    const RegionDim *rd = &r->dims[d];
    int64_t m;
    IrExpr *off = ir_const_int(rd->min, &m) && m == 0
                      ? idx
                      : ir_binary(f, IR_SUB, idx, ir_expr_copy(f, rd->min));
    if (rd->stride > 1)
        off = ir_binary(f, IR_FLOORDIV, off, ir_index(f, rd->stride));
    return off;
}

/* ---- first written with = ---- */

static bool expr_reads(const IrExpr *e, const IrBuffer *b)
{
    if (e->kind == IR_LOAD && e->buf == b)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (expr_reads(e->args[i], b))
            return true;
    return false;
}

/* The accesses to b in the tree under s: their number, and the last store. */
static int count_accesses(const IrStmt *s, const IrBuffer *b, const IrStmt **store)
{
    int n = 0;
    switch (s->kind) {
    case IR_LOOP: n += expr_reads(s->lo, b) + expr_reads(s->extent, b); break;
    case IR_STORE:
        for (int i = 0; i < s->nidx; i++)
            n += expr_reads(s->idx[i], b);
        n += expr_reads(s->value, b);
        if (s->buf == b) {
            n++;
            *store = s;
        }
        break;
    case IR_LET: n += expr_reads(s->value, b); break;
    case IR_IF: n += expr_reads(s->cond, b); break;
    case IR_COPY: n += (s->copy.src == b) + (s->copy.dst == b); break;
    case IR_ALLOC:
    case IR_BARRIER: break;
    }
    const IrBlock *bs[2] = {&s->body, &s->else_body};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < bs[k]->len; i++)
            n += count_accesses(bs[k]->items[i], b, store);
    return n;
}

/* The statements from s down to target (loops and ifs), target excluded;
 * false when target sits in an else branch or is not under s. */
static bool path_to(const IrStmt *s, const IrStmt *target, const IrStmt **path, int *n, int max)
{
    if (s == target)
        return true;
    if (*n == max)
        return false;
    path[(*n)++] = s;
    for (int i = 0; i < s->body.len; i++)
        if (path_to(s->body.items[i], target, path, n, max))
            return true;
    (*n)--;
    return false;
}

/* A fixed value's affine form (nothing varies in cx). */
static Affine aff_of(RegionCtx *cx, const IrExpr *e)
{
    Ival v = eval(cx, e);
    return v.lo;
}

/* Whether `cond` only excludes elements outside buf: a conjunction of
 * idx[d] >= 0 and idx[d] < dims[d] (in any of the forms a <, <=, >, >= b). */
static bool guard_is_bounds(RegionCtx *cx, const IrExpr *cond, const IrStmt *store)
{
    int64_t k;
    if (ir_const_int(cond, &k) && cond->type == ELEM_BOOL)
        return k != 0;
    if (cond->kind != IR_BINARY)
        return false;
    if (cond->op == IR_AND)
        return guard_is_bounds(cx, cond->args[0], store) &&
               guard_is_bounds(cx, cond->args[1], store);
    if (cond->op < IR_LT || cond->op > IR_GE)
        return false;
    /* Normalized to E >= 0. */
    Affine a = aff_of(cx, cond->args[0]), b = aff_of(cx, cond->args[1]), e;
    switch (cond->op) {
    case IR_LT: e = axpy(cx, &b, -1, &a); aff_add_const(&e, -1); break;
    case IR_LE: e = axpy(cx, &b, -1, &a); break;
    case IR_GT: e = axpy(cx, &a, -1, &b); aff_add_const(&e, -1); break;
    default: e = axpy(cx, &a, -1, &b); break;
    }
    if (cx->failed)
        return false;
    const IrBuffer *buf = store->buf;
    for (int d = 0; d < store->nidx; d++) {
        Affine idx = aff_of(cx, store->idx[d]);
        Affine upper = aff_of(cx, buf->dims[d]);
        aff_add_const(&upper, -1);
        upper = axpy(cx, &upper, -1, &idx);
        if (aff_equal(&e, &idx) || aff_equal(&e, &upper))
            return true;
    }
    return false;
}

/* The varying loop variables e depends on (lets looked through): how many
 * distinct ones, and one of them. */
static int varying_vars(RegionCtx *cx, const IrExpr *e, const IrVar **one)
{
    if (e->kind == IR_VARREF) {
        int id = e->var->id;
        if (id < cx->lets->n && cx->lets->def[id])
            return varying_vars(cx, cx->lets->def[id], one);
        if (cx->varies[id]) {
            if (*one && *one != e->var)
                return 2;
            *one = e->var;
            return 1;
        }
        return 0;
    }
    int n = 0;
    for (int i = 0; i < e->nargs; i++) {
        int m = varying_vars(cx, e->args[i], one);
        n = m > n ? m : n;
    }
    return n;
}

/* Each dimension's index runs, bijectively, over exactly the region's box. */
static bool store_covers(RegionCtx *cx, const IrStmt *s, const Region *r)
{
    const IrVar **used = ARENA_ARRAY(cx->f->arena, const IrVar *, r->ndims + 1);
    for (int d = 0; d < r->ndims; d++) {
        const IrVar *v = NULL;
        int nv = varying_vars(cx, s->idx[d], &v);
        used[d] = v;
        for (int e = 0; e < d; e++)
            if (v && used[e] == v)
                return false;
        if (nv > 1 || (nv == 0 && r->dims[d].extent != 1))
            return false;
        Ival iv = eval(cx, s->idx[d]);
        Affine min = aff_of(cx, r->dims[d].min);
        int64_t w;
        if (cx->failed || cx->inexact || !ival_width(cx, &iv, &w) || !aff_equal(&iv.lo, &min))
            return false;
        int64_t stride = iv.stride > 0 ? iv.stride : 1;
        if (w / stride + 1 != r->dims[d].extent || (r->dims[d].extent > 1 && stride != r->dims[d].stride))
            return false;
        if (nv == 1) {
            int64_t ext;
            const IrStmt *lp = cx->loop_of[v->id];
            if (!ir_const_int(lp->extent, &ext) || ext != r->dims[d].extent)
                return false;
        }
    }
    return true;
}

/* Accesses to b in e whose indices equal idx. */
static int count_same(const IrExpr *e, const IrBuffer *b, IrExpr *const *idx, int n)
{
    int k = 0;
    for (int i = 0; i < e->nargs; i++)
        k += count_same(e->args[i], b, idx, n);
    if (e->kind == IR_LOAD && e->buf == b && e->nargs == n) {
        bool same = true;
        for (int d = 0; d < n; d++)
            same = same && ir_expr_equal(e->args[d], idx[d]);
        k += same;
    }
    return k;
}

/* Accesses after `store` in its own block that use exactly its indices:
 * they see the element it wrote. */
static int count_after(const IrBlock *b, const IrStmt *store)
{
    int at = -1, k = 0;
    for (int i = 0; i < b->len; i++)
        if (b->items[i] == store)
            at = i;
    for (int i = at + 1; at >= 0 && i < b->len; i++) {
        const IrStmt *s = b->items[i];
        if (s->kind != IR_STORE)
            continue;
        k += count_same(s->value, store->buf, store->idx, store->nidx);
        if (s->buf == store->buf) {
            bool same = true;
            for (int d = 0; d < s->nidx; d++)
                same = same && ir_expr_equal(s->idx[d], store->idx[d]);
            k += same;
        }
    }
    return k;
}

/* The first store to b in the tree under s (preorder), or NULL. */
static const IrStmt *first_store(const IrStmt *s, const IrBuffer *b)
{
    if (s->kind == IR_STORE && s->buf == b)
        return s;
    const IrBlock *bs[2] = {&s->body, &s->else_body};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < bs[k]->len; i++) {
            const IrStmt *r = first_store(bs[k]->items[i], b);
            if (r)
                return r;
        }
    return NULL;
}

bool region_first_written(IrFunc *f, const RegionLets *lets, IrStmt *root, IrStmt *loop,
                          const Region *r)
{
    enum { MAX_PATH = 64 };
    const IrStmt *top = NULL, *store = NULL;
    int n = 0;
    for (int i = 0; i < loop->body.len && !top; i++) {
        const IrStmt *st = NULL;
        n = count_accesses(loop->body.items[i], r->buf, &st);
        if (n > 0) {
            top = loop->body.items[i];
            store = first_store(top, r->buf);
        }
    }
    if (!top || !store || expr_reads(store->value, r->buf))
        return false;
    const IrStmt *path[MAX_PATH];
    int npath = 0;
    if (!path_to(top, store, path, &npath, MAX_PATH))
        return false;
    const IrBlock *home = npath ? &path[npath - 1]->body : NULL;
    for (int d = 0; d < store->nidx; d++)
        if (expr_reads(store->idx[d], r->buf))
            return false;
    if (n != 1 + (home ? count_after(home, store) : 0))
        return false;
    /* Guards: judged with nothing varying, every loop an atom. */
    RegionCtx fixed;
    ctx_init(&fixed, f, lets);
    for (int i = 0; i < npath; i++)
        if (path[i]->kind == IR_IF && !guard_is_bounds(&fixed, path[i]->cond, store))
            return false;
    RegionCtx cx;
    ctx_init(&cx, f, lets);
    mark_loops(&cx, root, loop, false, false);
    memset(cx.varies, 0, sizeof *cx.varies * (size_t)(f->nvars + 1));
    for (int i = 0; i < npath; i++)
        if (path[i]->kind == IR_LOOP)
            cx.varies[path[i]->var->id] = true;
    return store_covers(&cx, store, r);
}

bool region_loop_plus_const(IrFunc *f, const RegionLets *lets, const IrExpr *e, IrVar **var,
                            int64_t *offset)
{
    RegionCtx cx;
    ctx_init(&cx, f, lets);
    Affine a = aff_of(&cx, e);
    if (cx.failed || a.n != 1 || a.t[0].k != 1 || ir_atom(a.t[0].key)->kind != IR_VARREF ||
        ir_atom(a.t[0].key)->var->kind != IR_VAR_LOOP)
        return false;
    *var = ir_atom(a.t[0].key)->var;
    *offset = a.c;
    return true;
}
