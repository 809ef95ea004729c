/* Bounds of i64 expressions under loop ranges, facts and assumptions: see
 * interval.h for the method. */
#include "lower/interval.h"

#include <string.h>

#include "lower/ir_affine.h"
#include "util/intmath.h"

enum { IV_BUDGET = 4000, IV_MAX_DEPTH = 24 };

/* Linearization steps one query (iv_prove*, iv_rewrite) may take, the proofs
 * it starts included. A proof of a range inside a rewrite linearizes again,
 * so nested fdiv and fmod (a chain of splits) would cost exponentially many
 * steps without it; once spent, linearizing fails: no proof, no rewrite. */
#define IV_STEPS 200000L

/* One linearization or proof: the context, the mode, and a step budget. */
typedef struct IvLin {
    const IvCtx *ctx;
    bool interval;     /* substitute lets, count multiples of m in units of m */
    bool fired;        /* a fdiv/fmod rule applied (rewrite mode) */
    int budget;
    long *steps;       /* the query's, shared by the proofs it starts */
    IrAtoms atoms;     /* the keys of its forms' atoms */
} IvLin;

/* ---- the scope ---- */

static void push(IvCtx *c, IvScope s)
{
    if (c->len == c->cap) {
        int cap = c->cap ? c->cap * 2 : 32;
        IvScope *items = ARENA_ARRAY(c->f->arena, IvScope, cap);
        if (c->len)
            memcpy(items, c->items, sizeof *items * (size_t)c->len);
        c->items = items;
        c->cap = cap;
    }
    c->items[c->len++] = s;
}

void iv_push_loop(IvCtx *c, const IrStmt *loop)
{
    push(c, (IvScope){.kind = IV_SCOPE_LOOP, .var = loop->var, .lo = loop->lo, .extent = loop->extent});
}

void iv_push_let(IvCtx *c, const IrVar *v, const IrExpr *value)
{
    push(c, (IvScope){.kind = IV_SCOPE_LET, .var = v, .value = value});
}

static bool is_cmp(IrOp op) { return op >= IR_EQ && op <= IR_GE; }

static bool const_pos(const IrExpr *e, int64_t *v) { return ir_const_int(e, v) && *v > 0; }

/* X % m == 0 or X fmod m == 0 with X a size: X is a multiple of m. */
static void push_multiple(IvCtx *c, const IrExpr *a, const IrExpr *b)
{
    int64_t zero, m;
    if (!ir_const_int(b, &zero) || zero != 0 || a->kind != IR_BINARY ||
        (a->op != IR_REM && a->op != IR_FLOORMOD) || !const_pos(a->args[1], &m) ||
        a->args[0]->kind != IR_VARREF || a->args[0]->var->kind != IR_VAR_SIZE)
        return;
    push(c, (IvScope){.kind = IV_SCOPE_MULTIPLE, .var = a->args[0]->var, .m = m});
}

/* lhs op rhs is true: rhs - lhs - off >= 0 (and the reverse for ==). */
static void push_cmp(IvCtx *c, IrOp op, const IrExpr *l, const IrExpr *r)
{
    switch (op) {
    case IR_LT: push(c, (IvScope){.kind = IV_SCOPE_FACT, .lhs = l, .rhs = r, .off = 1}); break;
    case IR_LE: push(c, (IvScope){.kind = IV_SCOPE_FACT, .lhs = l, .rhs = r, .off = 0}); break;
    case IR_GT: push(c, (IvScope){.kind = IV_SCOPE_FACT, .lhs = r, .rhs = l, .off = 1}); break;
    case IR_GE: push(c, (IvScope){.kind = IV_SCOPE_FACT, .lhs = r, .rhs = l, .off = 0}); break;
    case IR_EQ:
        push(c, (IvScope){.kind = IV_SCOPE_FACT, .lhs = l, .rhs = r, .off = 0});
        push(c, (IvScope){.kind = IV_SCOPE_FACT, .lhs = r, .rhs = l, .off = 0});
        push_multiple(c, l, r);
        push_multiple(c, r, l);
        break;
    default: break;
    }
}

/* The comparison that is true when `a op b` is false (integers only). */
static IrOp negate_cmp(IrOp op)
{
    switch (op) {
    case IR_LT: return IR_GE;
    case IR_LE: return IR_GT;
    case IR_GT: return IR_LE;
    case IR_GE: return IR_LT;
    case IR_EQ: return IR_NE;
    default: return IR_EQ;
    }
}

void iv_push_fact(IvCtx *c, const IrExpr *cond)
{
    if (cond->kind == IR_UNARY && cond->op == IR_NOT) {
        iv_push_false(c, cond->args[0]);
        return;
    }
    if (cond->kind != IR_BINARY)
        return;
    if (cond->op == IR_AND) {
        iv_push_fact(c, cond->args[0]);
        iv_push_fact(c, cond->args[1]);
    } else if (is_cmp(cond->op) && cond->args[0]->type == ELEM_I64) {
        push_cmp(c, cond->op, cond->args[0], cond->args[1]);
    }
}

void iv_push_false(IvCtx *c, const IrExpr *cond)
{
    if (cond->kind == IR_UNARY && cond->op == IR_NOT) {
        iv_push_fact(c, cond->args[0]);
        return;
    }
    if (cond->kind != IR_BINARY)
        return;
    if (cond->op == IR_OR) {
        iv_push_false(c, cond->args[0]);
        iv_push_false(c, cond->args[1]);
    } else if (is_cmp(cond->op) && cond->args[0]->type == ELEM_I64) {
        push_cmp(c, negate_cmp(cond->op), cond->args[0], cond->args[1]);
    }
}

int64_t iv_multiple(const IvCtx *c, const IrVar *v)
{
    int64_t m = 1;
    for (int i = 0; i < c->len; i++) {
        const IvScope *s = &c->items[i];
        if (s->kind != IV_SCOPE_MULTIPLE || s->var != v || m % s->m == 0)
            continue;
        int64_t l;  /* lcm, giving up on overflow */
        if (!__builtin_mul_overflow(m / im_gcd(m, s->m), s->m, &l))
            m = l;
    }
    return m;
}

static const IvScope *find_scope(const IvCtx *c, const IrVar *v, IvScopeKind k, int *at)
{
    for (int i = c->len - 1; i >= 0; i--)
        if (c->items[i].kind == k && c->items[i].var == v) {
            if (at)
                *at = i;
            return &c->items[i];
        }
    return NULL;
}

/* ---- affine forms ---- */

/* Forms are util/affine.h's over IR atoms (lower/ir_affine.h). */
static void add_term(IvLin *l, Affine *a, const IrExpr *atom, int64_t k)
{
    aff_add_term(a, ir_atom_key(&l->atoms, atom), k);
}

static void lin(IvLin *l, const IrExpr *e, int64_t scale, Affine *a);
static bool prove_nonneg(IvLin *l, Affine g, int depth);

/* c + sum k*atom as an IR expression, a leading negative term as x * k. */
static IrExpr *aff_expr(IrFunc *f, const Affine *a) { return ir_affine_expr(f, a, false); }

/* The multiple a size atom is known to be (interval mode counts it in those units). */
static int64_t atom_multiple(const IvLin *l, const IrExpr *atom)
{
    if (atom->kind != IR_VARREF || atom->var->kind != IR_VAR_SIZE)
        return 1;
    return iv_multiple(l->ctx, atom->var);
}

static bool prove_goal(const IvCtx *c, const IrExpr *hi, const IrExpr *lo, int64_t off, long *steps);

/* 0 <= r < c. In interval mode r counts sizes in units of their multiples, so
 * it is proved as it is; otherwise as an expression, with the facts in scope. */
static bool aff_in_range(IvLin *l, const Affine *r, int64_t c)
{
    if (!l->interval) {
        IrFunc *f = l->ctx->f;
        IrExpr *e = aff_expr(f, r);
        return prove_goal(l->ctx, e, ir_index(f, 0), 0, l->steps) &&
               prove_goal(l->ctx, ir_index(f, c - 1), e, 0, l->steps);
    }
    Affine hi = aff_const(c - 1);
    aff_add_scaled(&hi, r, -1);
    return prove_nonneg(l, *r, 1) && prove_nonneg(l, hi, 1);
}

/* x fdiv c or x fmod c, c > 0: x = c*D + M + R where D's coefficients were
 * divisible by c, M's terms are multiples of c through known multiples of
 * sizes (rewrite mode), R is the rest with a constant in [0, c). */
static void lin_divmod(IvLin *l, const IrExpr *e, IrOp op, const IrExpr *x, int64_t c,
                       int64_t scale, Affine *a)
{
    IrFunc *f = l->ctx->f;
    Affine ax = aff_const(0);
    lin(l, x, 1, &ax);
    if (!ax.ok) {
        add_term(l, a, e, scale);
        return;
    }
    Affine d = aff_const(im_floor_div(ax.c, c)), m = aff_const(0), r = aff_const(im_floor_mod(ax.c, c));
    for (int i = 0; i < ax.n; i++) {
        int64_t k = ax.t[i].k, km;
        const IrExpr *at = ir_atom(ax.t[i].key);
        if (k % c == 0)
            add_term(l, &d, at, k / c);
        else if (!__builtin_mul_overflow(k, atom_multiple(l, at), &km) && km % c == 0 && !l->interval)
            add_term(l, &m, at, k);
        else
            add_term(l, &r, at, k);
    }
    bool split = d.n || d.c || m.n;
    bool small = r.n == 0 || aff_in_range(l, &r, c);
    if ((!split || l->interval) && !small) {
        add_term(l, a, e, scale);
        return;
    }
    l->fired = true;
    if (op == IR_FLOORMOD) {
        if (small)
            aff_add_scaled(a, &r, scale);
        else
            add_term(l, a, ir_binary(f, IR_FLOORMOD, aff_expr(f, &r), ir_index(f, c)), scale);
        return;
    }
    aff_add_scaled(a, &d, scale);
    if (m.n)
        add_term(l, a, ir_binary(f, IR_FLOORDIV, aff_expr(f, &m), ir_index(f, c)), scale);
    if (!small)
        add_term(l, a, ir_binary(f, IR_FLOORDIV, aff_expr(f, &r), ir_index(f, c)), scale);
}

/* What ir_affine_add does not take apart: a let's value (interval mode), a
 * variable (a size counted in units of its multiple), fdiv and fmod by a
 * positive constant. Each node costs a step. */
static IrAffStep lin_visit(void *cx, const IrExpr *e, int64_t scale, Affine *a)
{
    IvLin *l = cx;
    if (!a->ok)
        return IR_AFF_DONE;
    if (--*l->steps < 0 || e->type != ELEM_I64) {
        a->ok = false;
        return IR_AFF_DONE;
    }
    int64_t v, c;
    if (e->kind == IR_VARREF) {
        const IvScope *s = l->interval ? find_scope(l->ctx, e->var, IV_SCOPE_LET, NULL) : NULL;
        if (s) {
            lin(l, s->value, scale, a);
            return IR_AFF_DONE;
        }
        int64_t m = l->interval ? atom_multiple(l, e) : 1;
        if (__builtin_mul_overflow(scale, m, &v))
            a->ok = false;
        else
            add_term(l, a, e, v);
        return IR_AFF_DONE;
    }
    if (e->kind != IR_BINARY || (e->op != IR_FLOORDIV && e->op != IR_FLOORMOD) ||
        !const_pos(e->args[1], &c))
        return IR_AFF_OPEN;
    const IrExpr *x = e->args[0];
    int64_t b, bc;
    /* (x fdiv b) fdiv c = x fdiv (b*c); (x fmod b) fmod c = x fmod c when c divides b */
    if (x->kind == IR_BINARY && x->op == e->op && const_pos(x->args[1], &b) &&
        (e->op == IR_FLOORDIV ? !__builtin_mul_overflow(b, c, &bc) : b % c == 0)) {
        int64_t d = e->op == IR_FLOORDIV ? bc : c;
        IrFunc *f = l->ctx->f;
        l->fired = true;
        lin_divmod(l, ir_binary(f, e->op, x->args[0], ir_index(f, d)), e->op, x->args[0], d, scale, a);
        return IR_AFF_DONE;
    }
    lin_divmod(l, e, e->op, x, c, scale, a);
    return IR_AFF_DONE;
}

/* Anything else is a term. */
static bool lin_whole(void *cx, const IrExpr *e, int64_t scale, Affine *a)
{
    add_term(cx, a, e, scale);
    return true;
}

/* Adds scale*e to a. */
static void lin(IvLin *l, const IrExpr *e, int64_t scale, Affine *a)
{
    IrAffineOps ops = {.cx = l, .visit = lin_visit, .whole = lin_whole};
    ir_affine_add(&ops, e, scale, a);
}

/* (x fdiv c)*k*c + (x fmod c)*k = x*k. */
static void recombine(IvLin *l, Affine *a)
{
    for (int i = 0; i < a->n && a->ok; i++) {
        const IrExpr *md = ir_atom(a->t[i].key);
        int64_t c, kc;
        /* (kc and k are negated below: INT64_MIN is left alone) */
        if (md->kind != IR_BINARY || md->op != IR_FLOORMOD || !const_pos(md->args[1], &c) ||
            __builtin_mul_overflow(a->t[i].k, c, &kc) || kc == INT64_MIN || a->t[i].k == INT64_MIN)
            continue;
        for (int j = 0; j < a->n; j++) {
            const IrExpr *dv = ir_atom(a->t[j].key);
            int64_t c2;
            if (dv->kind != IR_BINARY || dv->op != IR_FLOORDIV || !const_pos(dv->args[1], &c2) ||
                c2 != c || a->t[j].k != kc || !ir_expr_equal(dv->args[0], md->args[0]))
                continue;
            int64_t k = a->t[i].k;
            add_term(l, a, dv, -kc);
            add_term(l, a, md, -k);
            lin(l, md->args[0], k, a);
            l->fired = true;
            i = -1;
            break;
        }
    }
}

static Affine linearize(IvLin *l, const IrExpr *e)
{
    Affine a = aff_const(0);
    lin(l, e, 1, &a);
    recombine(l, &a);
    return a;
}

/* ---- proofs ---- */

/* Whether an atom left after elimination is known to be >= 0. */
static bool atom_nonneg(IvLin *l, const IrExpr *atom, int depth)
{
    if (atom->kind == IR_VARREF)
        return atom->var->kind == IR_VAR_SIZE;
    int64_t c;
    if (atom->kind == IR_BINARY && atom->op == IR_FLOORMOD && const_pos(atom->args[1], &c))
        return true;
    if (atom->kind == IR_BINARY && atom->op == IR_FLOORDIV && const_pos(atom->args[1], &c))
        return prove_nonneg(l, linearize(l, atom->args[0]), depth + 1);
    return false;
}

static bool final_check(IvLin *l, const Affine *g, int depth)
{
    if (g->c < 0)
        return false;
    for (int i = 0; i < g->n; i++)
        if (g->t[i].k < 0 || !atom_nonneg(l, ir_atom(g->t[i].key), depth))
            return false;
    return true;
}

/* g with term i replaced by its coefficient times e. */
static Affine replace(IvLin *l, const Affine *g, int i, const IrExpr *e)
{
    Affine r = aff_without(g, g->t[i].key);
    lin(l, e, g->t[i].k, &r);
    return r;
}

/* The term of g whose atom is the innermost loop index in scope, or -1. */
static int innermost_loop(IvLin *l, const Affine *g, const IvScope **scope)
{
    int best = -1, best_at = -1;
    for (int i = 0; i < g->n; i++) {
        const IrExpr *a = ir_atom(g->t[i].key);
        int at;
        const IvScope *s;
        if (a->kind == IR_VARREF && (s = find_scope(l->ctx, a->var, IV_SCOPE_LOOP, &at)) && at > best_at) {
            best = i;
            best_at = at;
            *scope = s;
        }
    }
    return best;
}

static bool eliminate_loop(IvLin *l, const Affine *g, int i, const IvScope *s, int depth)
{
    Affine r = aff_without(g, g->t[i].key);
    lin(l, s->lo, g->t[i].k, &r);
    if (g->t[i].k < 0) {  /* upper bound: lo + extent - 1 */
        lin(l, s->extent, g->t[i].k, &r);
        int64_t v;
        if (__builtin_mul_overflow(g->t[i].k, -1, &v))
            return false;
        aff_add_const(&r, v);
    }
    return prove_nonneg(l, r, depth + 1);
}

/* min(a, b) <= a, b and min is one of them; max likewise. */
static bool eliminate_minmax(IvLin *l, const Affine *g, int i, int depth)
{
    const IrExpr *e = ir_atom(g->t[i].key);
    bool both = (e->op == IR_MIN) == (g->t[i].k > 0);
    bool p0 = prove_nonneg(l, replace(l, g, i, e->args[0]), depth + 1);
    if (p0 != both)
        return p0;
    return prove_nonneg(l, replace(l, g, i, e->args[1]), depth + 1);
}

/* q = x fdiv c satisfies x - c + 1 <= c*q <= x: c*g is bounded below by
 * replacing c*q with the bound that its coefficient's sign calls for. */
static bool eliminate_fdiv(IvLin *l, const Affine *g, int i, int64_t c, int depth)
{
    Affine r = aff_const(0);
    Affine rest = aff_without(g, g->t[i].key);
    aff_add_scaled(&r, &rest, c);
    int64_t k = g->t[i].k, v;
    lin(l, ir_atom(g->t[i].key)->args[0], k, &r);
    if (k > 0) {
        if (__builtin_mul_overflow(k, 1 - c, &v))
            return false;
        aff_add_const(&r, v);
    }
    return prove_nonneg(l, r, depth + 1);
}

static bool prove_nonneg(IvLin *l, Affine g, int depth)
{
    if (!g.ok || depth > IV_MAX_DEPTH || --l->budget < 0)
        return false;
    const IvScope *s = NULL;
    int i = innermost_loop(l, &g, &s);
    if (i >= 0)
        return eliminate_loop(l, &g, i, s, depth);
    int64_t c;
    for (i = 0; i < g.n; i++) {
        const IrExpr *e = ir_atom(g.t[i].key);
        if (e->kind != IR_BINARY)
            continue;
        if (e->op == IR_MIN || e->op == IR_MAX)
            return eliminate_minmax(l, &g, i, depth);
        if (e->op == IR_FLOORMOD && const_pos(e->args[1], &c)) {
            Affine r = aff_without(&g, g.t[i].key);
            if (g.t[i].k < 0 && !__builtin_mul_overflow(g.t[i].k, c - 1, &c))
                aff_add_const(&r, c);
            return prove_nonneg(l, r, depth + 1);
        }
    }
    if (final_check(l, &g, depth))
        return true;
    for (i = 0; i < g.n; i++) {
        const IrExpr *e = ir_atom(g.t[i].key);
        if (e->kind == IR_BINARY && e->op == IR_FLOORDIV && const_pos(e->args[1], &c))
            return eliminate_fdiv(l, &g, i, c, depth);
    }
    return false;
}

/* g >= 0 directly, or g - f >= 0 for a fact f >= 0 in scope. */
static bool prove_goal(const IvCtx *c, const IrExpr *hi, const IrExpr *lo, int64_t off, long *steps)
{
    IvLin l = {.ctx = c, .interval = true, .budget = IV_BUDGET, .steps = steps};
    ir_atoms_init(&l.atoms, c->f->arena);
    Affine g = linearize(&l, hi);
    Affine gl = linearize(&l, lo);
    aff_add_scaled(&g, &gl, -1);
    aff_add_const(&g, -off);
    if (prove_nonneg(&l, g, 0))
        return true;
    for (int i = 0; i < c->len; i++) {
        const IvScope *s = &c->items[i];
        if (s->kind != IV_SCOPE_FACT)
            continue;
        Affine r = g;
        Affine fh = linearize(&l, s->rhs), fl = linearize(&l, s->lhs);
        aff_add_scaled(&r, &fh, -1);
        aff_add_scaled(&r, &fl, 1);
        aff_add_const(&r, s->off);
        if (prove_nonneg(&l, r, 0))
            return true;
    }
    return false;
}

bool iv_prove_ge(const IvCtx *c, const IrExpr *e, int64_t k)
{
    long steps = IV_STEPS;
    return e->type == ELEM_I64 && prove_goal(c, e, ir_index(c->f, k), 0, &steps);
}

bool iv_prove_le(const IvCtx *c, const IrExpr *e, int64_t k)
{
    long steps = IV_STEPS;
    return e->type == ELEM_I64 && prove_goal(c, ir_index(c->f, k), e, 0, &steps);
}

/* a op b for i64 a and b. */
static IvTruth prove_cmp(const IvCtx *c, IrOp op, const IrExpr *a, const IrExpr *b, long *n)
{
    switch (op) {
    case IR_LT: return prove_goal(c, b, a, 1, n) ? IV_TRUE : prove_goal(c, a, b, 0, n) ? IV_FALSE : IV_UNKNOWN;
    case IR_LE: return prove_goal(c, b, a, 0, n) ? IV_TRUE : prove_goal(c, a, b, 1, n) ? IV_FALSE : IV_UNKNOWN;
    case IR_GT: return prove_cmp(c, IR_LT, b, a, n);
    case IR_GE: return prove_cmp(c, IR_LE, b, a, n);
    case IR_EQ:
        if (prove_goal(c, a, b, 0, n) && prove_goal(c, b, a, 0, n))
            return IV_TRUE;
        return prove_goal(c, a, b, 1, n) || prove_goal(c, b, a, 1, n) ? IV_FALSE : IV_UNKNOWN;
    case IR_NE: {
        IvTruth t = prove_cmp(c, IR_EQ, a, b, n);
        return t == IV_TRUE ? IV_FALSE : t == IV_FALSE ? IV_TRUE : IV_UNKNOWN;
    }
    default: return IV_UNKNOWN;
    }
}

static IvTruth prove(const IvCtx *c, const IrExpr *cond, long *steps);

IvTruth iv_prove(const IvCtx *c, const IrExpr *cond)
{
    long steps = IV_STEPS;
    return prove(c, cond, &steps);
}

static IvTruth prove(const IvCtx *c, const IrExpr *cond, long *steps)
{
    int64_t v;
    if (ir_const_int(cond, &v))
        return v ? IV_TRUE : IV_FALSE;
    if (cond->kind == IR_UNARY && cond->op == IR_NOT) {
        IvTruth t = prove(c, cond->args[0], steps);
        return t == IV_TRUE ? IV_FALSE : t == IV_FALSE ? IV_TRUE : IV_UNKNOWN;
    }
    if (cond->kind != IR_BINARY)
        return IV_UNKNOWN;
    if (cond->op == IR_AND || cond->op == IR_OR) {
        IvTruth x = prove(c, cond->args[0], steps);
        IvTruth short_circuit = cond->op == IR_AND ? IV_FALSE : IV_TRUE;
        if (x == short_circuit)
            return x;
        IvTruth y = prove(c, cond->args[1], steps);
        if (y == short_circuit)
            return y;
        return x == y ? x : IV_UNKNOWN;
    }
    if (is_cmp(cond->op) && cond->args[0]->type == ELEM_I64)
        return prove_cmp(c, cond->op, cond->args[0], cond->args[1], steps);
    return IV_UNKNOWN;
}

/* ---- rewriting ---- */

int iv_expr_nodes(const IrExpr *e)
{
    int n = 1;
    for (int i = 0; i < e->nargs; i++)
        n += iv_expr_nodes(e->args[i]);
    return n;
}

IrExpr *iv_rewrite(const IvCtx *c, const IrExpr *e, bool only_if_smaller)
{
    if (e->type != ELEM_I64)
        return NULL;
    long steps = IV_STEPS;
    IvLin l = {.ctx = c, .interval = false, .budget = IV_BUDGET, .steps = &steps};
    ir_atoms_init(&l.atoms, c->f->arena);
    Affine a = linearize(&l, e);
    if (!a.ok)
        return NULL;
    IrExpr *r = aff_expr(c->f, &a);
    if (only_if_smaller && !l.fired && iv_expr_nodes(r) >= iv_expr_nodes(e))
        return NULL;
    /* A rule that fired inside an atom may give back e itself ((N fdiv 8) with
     * N a multiple of 8): that is no rewrite. Saying so ends the callers'
     * rewrite-until-unchanged loops, which otherwise re-simplify each operand
     * at every level (a chain of splits: exponential time and memory). */
    if (ir_expr_equal(r, e))
        return NULL;
    return r;
}

/* ---- assumptions ---- */

/* Replaces e's schedule params by their values: facts are over sizes. */
static void param_values(IrFunc *f, IrExpr *e)
{
    for (int i = 0; i < e->nargs; i++) {
        const IrExpr *a = e->args[i];
        if (a->kind == IR_VARREF && a->var->kind == IR_VAR_PARAM)
            e->args[i] = ir_index(f, a->var->value);
        else
            param_values(f, e->args[i]);
    }
}

void iv_init(IvCtx *c, IrFunc *f)
{
    *c = (IvCtx){.f = f};
    /* Sema allows in an assume only comparisons joined by && over i64
     * arithmetic: each is a fact, and none is a bare param. */
    for (int i = 0; i < f->nassumes; i++) {
        IrExpr *cond = ir_expr_copy(f, f->assumes[i]);
        param_values(f, cond);
        iv_push_fact(c, cond);
    }
}
