/* Pass schedule-loops: the loop structure of each nest's schedule.
 *
 * A nest's schedule becomes a plan: one LoopDef per loop that ever existed
 * (the nest's indices and every loop a clause created, as sema's derivations
 * record them in NestSched.derivs), each either final (a loop of the
 * schedule's last state) or replaced:
 *
 *   split L by F -> o, i     L = o * F + i        ext(o) = (ext(L) + F - 1) fdiv F, ext(i) = F
 *   tile                     one split per loop   (the order comes from the final state)
 *   fuse a, b -> f           a = f fdiv ext(b), b = f fmod ext(b),   ext(f) = ext(a) * ext(b)
 *   reorder                  only the final order matters
 *   unroll, vectorize,       the final loop's kind; tensorized loops stay serial
 *   parallel, bind
 *
 * The nest is rebuilt from the plan: the final loops in the final order; each
 * index that a clause replaced is bound by `let i = lo + value` just inside
 * the innermost loop its value uses; and guards. A loop X whose value may
 * reach ext(X) (some split below it may not divide: a non-constant extent, or
 * a constant one that F does not divide) gets `if (X < hi)` just inside the
 * innermost loop the condition uses, when X is an index of the nest or the
 * inner loop of a split (an outer loop that overshoots makes the loop it was
 * split from overshoot too, so that loop's guard covers it). Constant extents
 * that the factors divide get no guard. A loop whose bounds use an index of
 * the nest (triangular nests) must sit inside every loop that index's value
 * uses, or else take a bounding box (below).
 *
 * Triangular bounds: when a loop derived from index j has an extent that uses
 * j's bounds (the outer loop of a split, a fused loop, j itself) and sits
 * where an index i of those bounds is not fully known (only some of i's
 * pieces are outside it), j takes the bounding box of its bounds over the
 * unknown pieces: each bound is affine in i, so its least (greatest) value is
 * at i's least or greatest value by the sign of i's coefficient, and i ranges
 * over lo + (its value with every unknown piece at 0 .. at its extent - 1),
 * clamped by i's own upper bound. j then runs from the box's lo, and the exact
 * condition lo(i) <= j < hi(i) guards the body where i is known. Where no box
 * exists (a bound not affine in i, or an unknown piece whose extent is itself
 * not known there: `fuse i, j` when j's bounds use i, since the fused extent
 * needs j's), lowering reports the error above.
 *
 * Default GPU mapping (nests without clauses, on a GPU target): the indices
 * that index every tensor the nest writes, as plain indices with the same
 * index list at every access of that tensor in the nest, and whose bounds use
 * no index, are moved outermost, fused, split by 256 and bound to block.x and
 * thread.x; the other loops run serially inside, in their order. A nest with
 * no such index runs as written. On the CPU nests without clauses stay as
 * written. */
#include <string.h>

#include "lower/lower_internal.h"
#include "lower/passes.h"
#include "util/intmath.h"

enum { GPU_DEFAULT_THREADS = 256 };

typedef enum DefHow {
    DEF_FINAL,        /* a loop of the final state */
    DEF_SPLIT,        /* replaced by a (outer) and b (inner) */
    DEF_FUSED_OUTER,  /* fused as the outer loop into a, with b the inner part */
    DEF_FUSED_INNER,  /* fused as the inner loop into a */
} DefHow;

typedef struct LoopDef {
    const char *name;
    int iter;              /* the nest index it is, or -1 for a created loop */
    bool split_inner;      /* created as the inner loop of a split */
    IrExpr *extent;        /* i64; may use indices of the nest */
    Span span;
    DefHow how;
    int a, b;              /* see DefHow */
    int64_t factor;        /* DEF_SPLIT */
    IrVar *var;            /* DEF_FINAL: the loop's variable */
    IrLoopKind kind;       /* DEF_FINAL */
    HwIndex hw;
    IrExpr *box_lo;        /* a nest index whose bounds are boxed: the box's lo (extent
                              holds the box's extent); NULL: the index's own bounds */
} LoopDef;

typedef struct Plan {
    LoopDef *defs;
    int ndefs, cap;
    int *order;            /* final loops, outermost first (indices into defs) */
    int norder;
} Plan;

/* The nest as lowered: one loop per index, outermost first, and the body. */
typedef struct NestShape {
    int niters;
    IrStmt **loops;
    IrBlock body;
} NestShape;

typedef struct LoopsCtx {
    IrFunc *f;
    PassCtx *pass;
    const Nest *nest;
    NestShape shape;
    Plan plan;
    int *slot_of_var;      /* by IrVar id: the slot where a let or final loop declares it */
} LoopsCtx;

/* ---- extents ---- */

static bool known_nonneg(const IrExpr *e)
{
    switch (e->kind) {
    case IR_INT: return e->ival >= 0;
    case IR_VARREF: return e->var->kind == IR_VAR_SIZE;
    case IR_BINARY:
        if (e->op == IR_ADD || e->op == IR_MUL)
            return known_nonneg(e->args[0]) && known_nonneg(e->args[1]);
        if (e->op == IR_FLOORDIV)
            return known_nonneg(e->args[0]);
        if (e->op == IR_MAX)
            return known_nonneg(e->args[0]) || known_nonneg(e->args[1]);
        return false;
    default: return false;
    }
}

/* An empty range may have a negative extent (1..M with M = 0): clamped
 * before it is multiplied, so that two empty loops never fuse into a full one. */
static IrExpr *clamp_nonneg(IrFunc *f, IrExpr *e)
{
    return known_nonneg(e) ? e : ir_binary(f, IR_MAX, e, ir_index(f, 0));
}

static IrExpr *ext_ceildiv(IrFunc *f, IrExpr *ext, int64_t F)
{
    int64_t c;
    if (F == 1)
        return ir_expr_copy(f, ext);
    if (ir_const_int(ext, &c))
        return ir_index(f, c >= 0 ? im_ceil_div(c, F) : 0);
    return ir_binary(f, IR_FLOORDIV, ir_binary(f, IR_ADD, ir_expr_copy(f, ext), ir_index(f, F - 1)),
                     ir_index(f, F));
}

static IrExpr *ext_mul(IrFunc *f, IrExpr *a, IrExpr *b)
{
    int64_t x, y;
    if (ir_const_int(a, &x) && ir_const_int(b, &y))
        return ir_index(f, (x > 0 ? x : 0) * (y > 0 ? y : 0));
    return ir_binary(f, IR_MUL, clamp_nonneg(f, ir_expr_copy(f, a)), clamp_nonneg(f, ir_expr_copy(f, b)));
}

/* ---- the plan ---- */

static int plan_add(LoopsCtx *c, const char *name, IrExpr *extent, Span span)
{
    Plan *p = &c->plan;
    if (p->ndefs == p->cap) {
        int cap = p->cap ? p->cap * 2 : 16;
        LoopDef *defs = ARENA_ARRAY(c->f->arena, LoopDef, cap);
        if (p->ndefs)
            memcpy(defs, p->defs, sizeof *defs * (size_t)p->ndefs);
        p->defs = defs;
        p->cap = cap;
    }
    p->defs[p->ndefs] = (LoopDef){.name = name, .iter = -1, .extent = extent, .span = span,
                                  .how = DEF_FINAL, .a = -1, .b = -1, .hw = HW_NONE};
    return p->ndefs++;
}

/* split L by F -> o, i */
static void plan_split(LoopsCtx *c, int L, int64_t F, const char *oname, const char *iname,
                       Span ospan, Span ispan)
{
    int o = plan_add(c, oname, ext_ceildiv(c->f, c->plan.defs[L].extent, F), ospan);
    int i = plan_add(c, iname, ir_index(c->f, F), ispan);
    LoopDef *d = &c->plan.defs[L];
    c->plan.defs[i].split_inner = true;
    d->how = DEF_SPLIT;
    d->a = o;
    d->b = i;
    d->factor = F;
}

/* fuse a, b -> f */
static int plan_fuse(LoopsCtx *c, int a, int b, const char *fname, Span span)
{
    int fu = plan_add(c, fname, ext_mul(c->f, c->plan.defs[a].extent, c->plan.defs[b].extent), span);
    c->plan.defs[a].how = DEF_FUSED_OUTER;
    c->plan.defs[a].a = fu;
    c->plan.defs[a].b = b;
    c->plan.defs[b].how = DEF_FUSED_INNER;
    c->plan.defs[b].a = fu;
    return fu;
}

static void plan_start(LoopsCtx *c)
{
    c->plan = (Plan){0};
    for (int p = 0; p < c->shape.niters; p++) {
        const IrStmt *l = c->shape.loops[p];
        int d = plan_add(c, l->var->name, l->extent, l->origin);
        c->plan.defs[d].iter = p;
    }
}

static IrLoopKind ir_kind(LoopKind k)
{
    switch (k) {
    case LOOP_PARALLEL: return IR_PARALLEL;
    case LOOP_VECTORIZED: return IR_VECTORIZED;
    case LOOP_UNROLLED: return IR_UNROLLED;
    case LOOP_BOUND: return IR_BOUND;
    default: return IR_SERIAL;   /* serial, and tensorized (run as written) */
    }
}

/* One def per loop that sema's derivations record, in their order; the kinds
 * and the order from the final state. */
static void plan_from_schedule(LoopsCtx *c, const NestSched *ns)
{
    plan_start(c);
    int *def = ARENA_ARRAY(c->f->arena, int, ns->nderivs + 1);
    for (int d = 0; d < ns->nderivs; d++) {
        const SchedDeriv *dv = &ns->derivs[d];
        switch (dv->kind) {
        case DERIV_WRITTEN: def[d] = d; break;   /* plan_start: index d */
        case DERIV_OUTER: {
            /* the inner piece is the next derivation: one split makes both */
            const SchedDeriv *in = &ns->derivs[d + 1];
            plan_split(c, def[dv->from[0]], dv->factor, dv->name, in->name, dv->span, in->span);
            def[d] = c->plan.ndefs - 2;
            def[d + 1] = c->plan.ndefs - 1;
            d++;
            break;
        }
        case DERIV_INNER: break;   /* made with its outer piece */
        case DERIV_FUSED:
            def[d] = plan_fuse(c, def[dv->from[0]], def[dv->from[1]], dv->name, dv->span);
            break;
        }
    }
    const SchedState *fin = sched_final(ns);
    c->plan.order = ARENA_ARRAY(c->f->arena, int, fin->nloops + 1);
    c->plan.norder = fin->nloops;
    for (int k = 0; k < fin->nloops; k++) {
        int d = def[fin->loops[k].deriv];
        c->plan.order[k] = d;
        c->plan.defs[d].kind = ir_kind(fin->loops[k].kind);
        c->plan.defs[d].hw = c->plan.defs[d].kind == IR_BOUND ? fin->loops[k].hw : HW_NONE;
    }
}

/* ---- default GPU mapping ---- */

static bool ast_equal(const Expr *a, const Expr *b)
{
    if (a->kind != b->kind || a->nargs != b->nargs)
        return false;
    switch (a->kind) {
    case EXPR_INT: if (a->ival != b->ival) return false; break;
    case EXPR_NAME:
    case EXPR_INDEX: if (a->decl != b->decl) return false; break;
    case EXPR_UNARY:
    case EXPR_BINARY: if (a->op != b->op) return false; break;
    default: return false;   /* only affine index forms compare equal */
    }
    for (int i = 0; i < a->nargs; i++)
        if (!ast_equal(a->args[i], b->args[i]))
            return false;
    return true;
}

/* The written accesses of the nest (assignment targets), collected in order. */
typedef struct Writes {
    const Expr **lhs;
    int n, cap;
    Arena *arena;
} Writes;

static void collect_writes(Writes *w, const StmtList *l)
{
    for (int i = 0; i < l->len; i++) {
        const Stmt *st = l->items[i];
        if (st->kind == STMT_IF) {
            collect_writes(w, &st->then_body);
            collect_writes(w, &st->else_body);
        }
        if (st->kind != STMT_ASSIGN)
            continue;
        if (w->n == w->cap) {
            int cap = w->cap ? w->cap * 2 : 8;
            const Expr **v = ARENA_ARRAY(w->arena, const Expr *, cap);
            if (w->n)
                memcpy(v, w->lhs, sizeof *v * (size_t)w->n);
            w->lhs = v;
            w->cap = cap;
        }
        w->lhs[w->n++] = st->lhs;
    }
}

/* Every access to a written tensor in e uses the index list of its writes. */
static bool reads_regular(const Writes *w, const Expr *e)
{
    if (!e)
        return true;
    if (e->kind == EXPR_INDEX || (e->kind == EXPR_NAME && (e->sym == SYM_VAR || e->sym == SYM_TENSOR)))
        for (int i = 0; i < w->n; i++)
            if (w->lhs[i]->decl == e->decl && !ast_equal(w->lhs[i], e))
                return false;
    for (int i = 0; i < e->nargs; i++)
        if (!reads_regular(w, e->args[i]))
            return false;
    return true;
}

static bool body_regular(const Writes *w, const StmtList *l)
{
    for (int i = 0; i < l->len; i++) {
        const Stmt *st = l->items[i];
        if (!reads_regular(w, st->rhs) || !reads_regular(w, st->cond) ||
            (st->lhs && !reads_regular(w, st->lhs)) || !body_regular(w, &st->then_body) ||
            !body_regular(w, &st->else_body))
            return false;
    }
    return true;
}

static bool uses_index(const Expr *e)
{
    if (e->kind == EXPR_NAME && e->sym == SYM_INDEX)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (uses_index(e->args[i]))
            return true;
    return false;
}

/* Whether index p is a plain subscript of every write. */
static bool indexes_every_write(const Writes *w, const Iter *it)
{
    for (int i = 0; i < w->n; i++) {
        const Expr *lhs = w->lhs[i];
        bool found = false;
        for (int d = 0; lhs->kind == EXPR_INDEX && d < lhs->nargs; d++)
            found |= lhs->args[d]->kind == EXPR_NAME && lhs->args[d]->decl == it;
        if (!found)
            return false;
    }
    return w->n > 0;
}

static const char *joined(Arena *a, const char *x, const char *sep, const char *y)
{
    size_t n = strlen(x) + strlen(sep) + strlen(y) + 1;
    char *s = ARENA_ARRAY(a, char, n);
    snprintf(s, n, "%s%s%s", x, sep, y);
    return s;
}

/* Returns false (and leaves the nest as written) when no index qualifies. */
static bool plan_gpu_default(LoopsCtx *c)
{
    const Nest *n = c->nest;
    Writes w = {.arena = c->f->arena};
    collect_writes(&w, &n->body);
    if (!body_regular(&w, &n->body))
        return false;
    plan_start(c);
    int *mapped = ARENA_ARRAY(c->f->arena, int, n->niters + 1), nmapped = 0;
    for (int p = 0; p < n->niters; p++)
        if (!uses_index(n->iters[p]->lo) && !uses_index(n->iters[p]->hi) &&
            indexes_every_write(&w, n->iters[p]))
            mapped[nmapped++] = p;
    if (nmapped == 0)
        return false;
    int fu = mapped[0];
    for (int m = 1; m < nmapped; m++)
        fu = plan_fuse(c, fu, mapped[m],
                       joined(c->f->arena, c->plan.defs[fu].name, "_", c->plan.defs[mapped[m]].name),
                       n->span);
    const char *base = c->plan.defs[fu].name;
    plan_split(c, fu, GPU_DEFAULT_THREADS, joined(c->f->arena, base, "_", "block"),
               joined(c->f->arena, base, "_", "thread"), n->span, n->span);
    Plan *p = &c->plan;
    p->order = ARENA_ARRAY(c->f->arena, int, n->niters + 2);
    p->order[p->norder++] = p->defs[fu].a;
    p->order[p->norder++] = p->defs[fu].b;
    p->defs[p->defs[fu].a].kind = IR_BOUND;
    p->defs[p->defs[fu].a].hw = HW_BLOCK_X;
    p->defs[p->defs[fu].b].kind = IR_BOUND;
    p->defs[p->defs[fu].b].hw = HW_THREAD_X;
    for (int q = 0; q < n->niters; q++)
        if (p->defs[q].how == DEF_FINAL)
            p->order[p->norder++] = q;
    return true;
}

/* ---- values and guards ---- */

/* The lower bound that nest index it runs from: its own, or its box's. */
static const IrExpr *iter_lo(const LoopsCtx *c, int it)
{
    const IrExpr *b = c->plan.defs[it].box_lo;
    return b ? b : c->shape.loops[it]->lo;
}

static bool is_zero(const IrExpr *e)
{
    int64_t v;
    return ir_const_int(e, &v) && v == 0;
}

/* The value of loop d, counted from 0 (without its lower bound), over final loops. */
static IrExpr *rel_value(LoopsCtx *c, int d)
{
    IrFunc *f = c->f;
    const LoopDef *l = &c->plan.defs[d];
    switch (l->how) {
    case DEF_FINAL: {
        IrExpr *v = ir_ref(f, l->var);
        if (l->iter < 0)
            return v;
        const IrExpr *lo = iter_lo(c, l->iter);
        return is_zero(lo) ? v : ir_binary(f, IR_SUB, v, ir_expr_copy(f, lo));
    }
    case DEF_SPLIT:
        return ir_binary(f, IR_ADD,
                         ir_binary(f, IR_MUL, rel_value(c, l->a), ir_index(f, l->factor)),
                         rel_value(c, l->b));
    default: {
        const IrExpr *eb = c->plan.defs[l->how == DEF_FUSED_OUTER ? l->b : d].extent;
        int64_t k;
        bool cst = ir_const_int(eb, &k) && k > 0;
        IrOp op = l->how == DEF_FUSED_OUTER ? (cst ? IR_FLOORDIV : IR_DIV) : (cst ? IR_FLOORMOD : IR_REM);
        return ir_binary(f, op, rel_value(c, l->a), ir_expr_copy(f, eb));
    }
    }
}

/* Whether loop d's value may reach its extent (see the top of the file). */
static bool may_exceed(const LoopsCtx *c, int d)
{
    const LoopDef *l = &c->plan.defs[d];
    int64_t e;
    switch (l->how) {
    case DEF_FINAL: return false;
    case DEF_SPLIT:
        return may_exceed(c, l->a) || !ir_const_int(l->extent, &e) || e % l->factor != 0;
    case DEF_FUSED_OUTER: return may_exceed(c, l->a);
    default: return false;
    }
}

/* The slot where e can first be evaluated: 0 outside every final loop, k + 1
 * inside the k-th. */
static int slot_of(const LoopsCtx *c, const IrExpr *e)
{
    int s = 0;
    if (e->kind == IR_VARREF && c->slot_of_var[e->var->id] > s)
        s = c->slot_of_var[e->var->id];
    for (int i = 0; i < e->nargs; i++) {
        int t = slot_of(c, e->args[i]);
        if (t > s)
            s = t;
    }
    return s;
}

/* What goes at a slot, in order: lets and guards (a guard holds what follows). */
typedef struct SlotItem {
    int slot;
    IrStmt *stmt;
} SlotItem;

/* hi of a nest index, from its lowered lo and extent (extent = hi - lo, or hi when lo is 0). */
static IrExpr *iter_hi(IrFunc *f, const IrStmt *loop)
{
    int64_t lo;
    if (ir_const_int(loop->lo, &lo) && lo == 0)
        return ir_expr_copy(f, loop->extent);
    if (loop->extent->kind == IR_BINARY && loop->extent->op == IR_SUB &&
        ir_expr_equal(loop->extent->args[1], loop->lo))
        return ir_expr_copy(f, loop->extent->args[0]);
    return ir_binary(f, IR_ADD, ir_expr_copy(f, loop->lo), ir_expr_copy(f, loop->extent));
}

static IrStmt *guard(IrFunc *f, IrExpr *value, IrExpr *bound, Span origin)
{
    return ir_if(f, ir_binary(f, IR_LT, value, bound), origin);
}

/* ---- triangular bounds: bounding boxes ---- */

/* Nest index it's value over final loops: its lower bound plus its value from 0. */
static IrExpr *iter_value(LoopsCtx *c, int it)
{
    const IrExpr *lo = iter_lo(c, it);
    IrExpr *v = rel_value(c, it);
    return is_zero(lo) ? v : ir_binary(c->f, IR_ADD, ir_expr_copy(c->f, lo), v);
}

/* The exact range of nest index it as a guard: `i < hi`, and `lo <= i &&` in
 * front when a box moved its lower bound. */
static IrStmt *exact_guard(LoopsCtx *c, int it)
{
    IrFunc *f = c->f;
    const IrStmt *orig = c->shape.loops[it];
    IrStmt *g = guard(f, ir_ref(f, orig->var), iter_hi(f, orig), orig->origin);
    const IrExpr *box_lo = c->plan.defs[it].box_lo;
    if (box_lo && !ir_expr_equal(box_lo, orig->lo))
        g->cond = ir_binary(f, IR_AND, ir_binary(f, IR_LE, ir_expr_copy(f, orig->lo), ir_ref(f, orig->var)),
                            g->cond);
    return g;
}

/* ext - 1, folded when ext is a constant. */
static IrExpr *last_of(IrFunc *f, const IrExpr *ext)
{
    int64_t e;
    return ir_const_int(ext, &e) ? ir_index(f, e - 1)
                                 : ir_binary(f, IR_SUB, ir_expr_copy(f, ext), ir_index(f, 1));
}

/* Whether e can be evaluated outside the final loop at position k0. */
static bool known_at(const LoopsCtx *c, const IrExpr *e, int k0) { return slot_of(c, e) <= k0; }

/* The least and greatest value of loop d counted from 0 (rel_value) over the
 * final loops at positions k0 and inside, symbolic in the loops outside.
 * False when an extent needed is not known there. */
static bool rel_range(LoopsCtx *c, int d, int k0, IrExpr **lo, IrExpr **hi)
{
    IrFunc *f = c->f;
    const LoopDef *l = &c->plan.defs[d];
    IrExpr *v = rel_value(c, d);
    if (known_at(c, v, k0)) {
        *lo = v;
        *hi = ir_expr_copy(f, v);
        return true;
    }
    IrExpr *alo, *ahi, *blo, *bhi;
    switch (l->how) {
    case DEF_FINAL:
        if (!known_at(c, l->extent, k0))
            return false;
        *lo = ir_index(f, 0);
        *hi = last_of(f, l->extent);
        return true;
    case DEF_SPLIT:
        if (!rel_range(c, l->a, k0, &alo, &ahi) || !rel_range(c, l->b, k0, &blo, &bhi))
            return false;
        *lo = ir_binary(f, IR_MUL, alo, ir_index(f, l->factor));
        if (!is_zero(blo))
            *lo = ir_binary(f, IR_ADD, *lo, blo);
        *hi = ir_binary(f, IR_ADD, ir_binary(f, IR_MUL, ahi, ir_index(f, l->factor)), bhi);
        return true;
    case DEF_FUSED_OUTER: {
        /* f div ext(b): monotone in f */
        const IrExpr *eb = c->plan.defs[l->b].extent;
        if (!known_at(c, eb, k0) || !rel_range(c, l->a, k0, &alo, &ahi))
            return false;
        *lo = ir_binary(f, v->op, alo, ir_expr_copy(f, eb));
        *hi = ir_binary(f, v->op, ahi, ir_expr_copy(f, eb));
        return true;
    }
    default:
        /* f mod ext(b) */
        if (!known_at(c, l->extent, k0))
            return false;
        *lo = ir_index(f, 0);
        *hi = last_of(f, l->extent);
        return true;
    }
}

/* hi of nest index it as it runs: its own, or its box's. */
static IrExpr *iter_hi_eff(LoopsCtx *c, int it)
{
    const LoopDef *l = &c->plan.defs[it];
    if (!l->box_lo)
        return iter_hi(c->f, c->shape.loops[it]);
    return ir_binary(c->f, IR_ADD, ir_expr_copy(c->f, l->box_lo), ir_expr_copy(c->f, l->extent));
}

/* The least and greatest value of nest index it over the final loops at
 * positions k0 and inside, clamped by its own upper bound where known. */
static bool index_range(LoopsCtx *c, int it, int k0, IrExpr **lo, IrExpr **hi)
{
    IrFunc *f = c->f;
    const IrExpr *base = iter_lo(c, it);
    IrExpr *rlo, *rhi, *top = iter_hi_eff(c, it);
    bool top_known = known_at(c, top, k0);
    if (!known_at(c, base, k0) || !rel_range(c, it, k0, &rlo, &rhi))
        return false;
    *lo = is_zero(base) ? rlo : ir_binary(f, IR_ADD, ir_expr_copy(f, base), rlo);
    *hi = is_zero(base) ? rhi : ir_binary(f, IR_ADD, ir_expr_copy(f, base), rhi);
    if (top_known)
        *hi = ir_binary(f, IR_MIN, *hi, last_of(f, top));
    return true;
}

/* The least (want_max false) or greatest value of the affine bound e over the
 * nest indices not known outside position k0; NULL when there is none. */
static IrExpr *bound_box(LoopsCtx *c, const IrExpr *e, int k0, bool want_max)
{
    IrFunc *f = c->f;
    IrExpr *r = ir_expr_copy(f, e);
    for (int it = 0; it < c->shape.niters; it++) {
        const IrVar *v = c->shape.loops[it]->var;
        int64_t k;
        IrExpr *lo, *hi;
        if (!ir_expr_uses(r, v) || c->slot_of_var[v->id] <= k0)
            continue;
        if (!ir_coef_of(r, v, &k) || !index_range(c, it, k0, &lo, &hi))
            return NULL;
        r = ir_substitute(f, r, v, (k > 0) == want_max ? hi : lo);
    }
    return r;
}

/* Loop d's extent changed: the extents computed from it follow. */
static void propagate_extent(LoopsCtx *c, int d)
{
    Plan *p = &c->plan;
    LoopDef *l = &p->defs[d];
    int outer = d, inner = l->b;
    switch (l->how) {
    case DEF_FINAL:
        return;
    case DEF_SPLIT:
        p->defs[l->a].extent = ext_ceildiv(c->f, l->extent, l->factor);
        propagate_extent(c, l->a);
        return;
    case DEF_FUSED_INNER:
        inner = d;
        for (int e = 0; e < p->ndefs; e++)
            if (p->defs[e].how == DEF_FUSED_OUTER && p->defs[e].b == d)
                outer = e;
        break;
    default:
        break;
    }
    p->defs[l->a].extent = ext_mul(c->f, p->defs[outer].extent, p->defs[inner].extent);
    propagate_extent(c, l->a);
}

/* The outermost position of a final loop whose extent follows loop d's bounds. */
static int outermost_dependent(const LoopsCtx *c, int d)
{
    const LoopDef *l = &c->plan.defs[d];
    if (l->how == DEF_FINAL)
        return c->slot_of_var[l->var->id] - 1;
    return outermost_dependent(c, l->a);   /* the outer loop of a split, the fused loop */
}

/* Nest indices in order (a bound uses only indices to its left): each whose
 * bounds are not known where the first loop that needs them sits takes the
 * bounding box there; then its let's slot is known for the indices after it. */
static void box_triangular(LoopsCtx *c)
{
    IrFunc *f = c->f;
    for (int it = 0; it < c->shape.niters; it++) {
        LoopDef *l = &c->plan.defs[it];
        const IrStmt *orig = c->shape.loops[it];
        int k0 = outermost_dependent(c, it);
        if (!known_at(c, orig->lo, k0) || !known_at(c, orig->extent, k0)) {
            IrExpr *lo = bound_box(c, orig->lo, k0, false);
            IrExpr *hi = bound_box(c, iter_hi(f, orig), k0, true);
            if (lo && hi) {
                l->box_lo = lo;
                l->extent = lower_extent(f, lo, hi);
                propagate_extent(c, it);
            }
        }
        if (l->how != DEF_FINAL)
            c->slot_of_var[orig->var->id] = slot_of(c, iter_value(c, it));
    }
}

/* ---- rebuilding the nest ---- */

static void make_final_loops(LoopsCtx *c)
{
    IrFunc *f = c->f;
    for (int k = 0; k < c->plan.norder; k++) {
        LoopDef *l = &c->plan.defs[c->plan.order[k]];
        l->var = l->iter >= 0 ? c->shape.loops[l->iter]->var
                              : ir_var_new(f, l->name, ELEM_I64, IR_VAR_LOOP);
        c->slot_of_var[l->var->id] = k + 1;
    }
}

/* Lets and guards, each with its slot, in an order that declares before use. */
static SlotItem *slot_items(LoopsCtx *c, int *nitems)
{
    IrFunc *f = c->f;
    Plan *p = &c->plan;
    SlotItem *items = ARENA_ARRAY(f->arena, SlotItem, 3 * p->ndefs + 1);
    int n = 0;
    /* inner loops of splits that overshoot: they would repeat the next block's values */
    for (int d = 0; d < p->ndefs; d++) {
        if (p->defs[d].iter >= 0 || !p->defs[d].split_inner || !may_exceed(c, d))
            continue;
        IrStmt *g = guard(f, rel_value(c, d), ir_expr_copy(f, p->defs[d].extent), p->defs[d].span);
        items[n++] = (SlotItem){slot_of(c, g->cond), g};
    }
    for (int it = 0; it < c->shape.niters; it++) {
        const LoopDef *l = &p->defs[it];
        const IrStmt *orig = c->shape.loops[it];
        if (l->how == DEF_FINAL && l->box_lo) {
            IrStmt *g = exact_guard(c, it);
            items[n++] = (SlotItem){slot_of(c, g->cond), g};
        }
        if (l->how == DEF_FINAL)
            continue;
        IrExpr *value = iter_value(c, it);
        orig->var->kind = IR_VAR_LET;
        IrStmt *let = ir_let(f, orig->var, value, orig->origin);
        int s = slot_of(c, value);
        items[n++] = (SlotItem){s, let};
        c->slot_of_var[orig->var->id] = s;
        if (may_exceed(c, it) || l->box_lo) {
            IrStmt *g = exact_guard(c, it);
            items[n++] = (SlotItem){slot_of(c, g->cond), g};
        }
    }
    *nitems = n;
    return items;
}

/* The bounds of final loop k must be known outside it (triangular nests). */
static bool check_bounds_in_scope(LoopsCtx *c)
{
    for (int k = 0; k < c->plan.norder; k++) {
        const LoopDef *l = &c->plan.defs[c->plan.order[k]];
        const IrExpr *lo = l->iter >= 0 ? iter_lo(c, l->iter) : NULL;
        if (slot_of(c, l->extent) <= k && (!lo || slot_of(c, lo) <= k))
            continue;
        const char *inner = NULL;
        for (int it = 0; it < c->shape.niters && !inner; it++)
            if (ir_expr_uses(l->extent, c->shape.loops[it]->var) ||
                (lo && ir_expr_uses(lo, c->shape.loops[it]->var)))
                inner = c->shape.loops[it]->var->name;
        diag_error(c->pass->diag, l->span,
                   "the bounds of loop '%s' use index '%s', which is not known there: a loop "
                   "whose bounds use another loop's index must stay inside it",
                   l->name, inner ? inner : "?");
        return false;
    }
    return true;
}

static IrStmt *build_nest(LoopsCtx *c)
{
    IrFunc *f = c->f;
    Plan *p = &c->plan;
    c->slot_of_var = ARENA_ARRAY(f->arena, int, f->nvars + p->norder + 1);  /* zeroed */
    make_final_loops(c);
    box_triangular(c);
    int nitems;
    SlotItem *items = slot_items(c, &nitems);
    if (!check_bounds_in_scope(c))
        return NULL;
    IrStmt *root = NULL;
    IrBlock *cur = NULL;
    for (int k = 0; k <= p->norder; k++) {
        for (int i = 0; i < nitems; i++) {
            if (items[i].slot != k)
                continue;
            if (cur)
                ir_block_push(f, cur, items[i].stmt);
            else
                root = items[i].stmt;   /* slot 0 holds nothing: every value uses a loop */
            if (items[i].stmt->kind == IR_IF)
                cur = &items[i].stmt->body;
        }
        if (k == p->norder)
            break;
        const LoopDef *l = &p->defs[p->order[k]];
        IrExpr *lo = l->iter >= 0 ? ir_expr_copy(f, iter_lo(c, l->iter)) : ir_index(f, 0);
        IrStmt *loop = ir_loop(f, l->var, lo, l->extent, l->kind, l->span);
        loop->hw = l->hw;
        if (cur)
            ir_block_push(f, cur, loop);
        else
            root = loop;
        cur = &loop->body;
    }
    for (int i = 0; i < c->shape.body.len; i++)
        ir_block_push(f, cur, c->shape.body.items[i]);
    return root;
}

static void read_shape(IrFunc *f, const IrNest *n, NestShape *out)
{
    out->niters = n->nest->niters;
    out->loops = ARENA_ARRAY(f->arena, IrStmt *, out->niters + 1);
    IrStmt *s = n->root;
    for (int p = 0; p < out->niters; p++) {
        out->loops[p] = s;
        if (p + 1 < out->niters)
            s = s->body.items[0];
    }
    out->body = s->body;
}

static void replace_root(IrFunc *f, IrNest *n, IrStmt *root)
{
    for (int i = 0; i < f->body.len; i++)
        if (f->body.items[i] == n->root)
            f->body.items[i] = root;
    n->root = root;
}

bool pass_schedule_loops(IrFunc *f, PassCtx *ctx)
{
    bool changed = false;
    for (int i = 0; i < f->nnests; i++) {
        IrNest *n = &f->nests[i];
        LoopsCtx c = {.f = f, .pass = ctx, .nest = n->nest};
        if (!n->root)
            continue;
        bool clauses = n->sched && n->sched->nsteps > 0;
        /* A nest fused into another, or one another is fused into (the fuse names
         * its loops as written), gets no default GPU mapping. */
        bool fused = n->sched && n->sched->fused_into >= 0;
        for (int j = 0; j < f->nnests && !fused; j++)
            fused = f->nests[j].sched && f->nests[j].sched->fused_into == i;
        bool gpu_default = !clauses && target_is_gpu(f->target) && !fused;
        if (!clauses && !gpu_default)
            continue;
        read_shape(f, n, &c.shape);
        if (clauses)
            plan_from_schedule(&c, n->sched);
        else if (!plan_gpu_default(&c))
            continue;
        IrStmt *root = build_nest(&c);
        if (!root)
            return changed;
        replace_root(f, n, root);
        changed = true;
    }
    return changed;
}
