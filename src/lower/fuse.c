/* The fuse-nests pass: `fuse P, Q into R at L`.
 *
 * Each listed nest P runs inside R once per iteration of L, over the part of
 * its domain R needs there: for each tensor W that P writes, the region of W
 * that R accesses under L (region.c, per thread: loops around L are fixed).
 *   - A loop v of P that indexes W directly (W[.., v + c, ..]) is restricted
 *     to the region's box, intersected with v's own range:
 *         for v in [lo, +ext) { body }
 *     becomes
 *         for v_f in [0, +extent) { let v = min - c + stride * v_f;
 *                                   if v >= lo && v < lo + ext { body } }
 *   - A store whose index is not such a loop gets a guard: its index is in
 *     the box (min <= idx < min + stride * extent, on the stride).
 * The region narrows by the guards of splits that do not divide (region_compute_exact):
 * with a nest fused before an R that updates what it writes, it must be exact,
 * or an element of another iteration would be reset (an error at the clause).
 * A nest written before R goes at the start of L's body (in kernel order),
 * one written after R at its end (an epilogue). Nests before R are restricted
 * last first, each placed before the next is: the region a nest fills counts
 * the nests fused after it (what consumes it), not R alone. A nest with no
 * part of its domain under L (nothing there accesses what it writes, or an
 * epilogue reads nothing R writes there) is an error at the clause. Lets are
 * looked through everywhere (RegionLets). P's root leaves the function
 * body (IrNest.root = NULL). Run before the caches pass: a fused nest uses R's
 * caches, and a fused `= 0` init then counts as "first written with =". */
#include <string.h>

#include "lower/passes.h"
#include "lower/region.h"

/* One loop of P to restrict: its box. */
typedef struct Restrict {
    IrVar *var;
    IrExpr *min;           /* the region's min minus the index's constant */
    int64_t stride, extent;
} Restrict;

typedef struct FuseCtx {
    IrFunc *f;
    PassCtx *pc;
    RegionLets lets;
    Restrict *rs;
    int nrs, caprs;
    int replaced_dim;      /* a dimension of W that P's clauses left no loop for, or -1 */
} FuseCtx;

/* ---- the tensors P writes ---- */

static void written_buffers(const IrBlock *b, IrBuffer **out, int *n, int max)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *s = b->items[i];
        if (s->kind == IR_STORE && (s->buf->mem == IR_MEM_PARAM || s->buf->mem == IR_MEM_GLOBAL)) {
            bool seen = false;
            for (int k = 0; k < *n; k++)
                seen = seen || out[k] == s->buf;
            if (!seen && *n < max)
                out[(*n)++] = s->buf;
        }
        written_buffers(&s->body, out, n, max);
        written_buffers(&s->else_body, out, n, max);
    }
}

/* ---- restricting P ---- */

static Restrict *restriction_of(FuseCtx *c, const IrVar *v)
{
    for (int i = 0; i < c->nrs; i++)
        if (c->rs[i].var == v)
            return &c->rs[i];
    return NULL;
}

/* Whether dimension d of a store is covered by restricting its loop; records
 * the restriction when the loop has none yet. */
static bool restrict_dim(FuseCtx *c, const Region *r, int d, const IrExpr *idx)
{
    IrFunc *f = c->f;
    IrVar *v;
    int64_t off;
    if (!region_loop_plus_const(f, &c->lets, idx, &v, &off))
        return false;
    IrExpr *min = ir_expr_copy(f, r->dims[d].min);
    if (off)
        min = ir_binary(f, IR_SUB, min, ir_index(f, off));
    Restrict *have = restriction_of(c, v);
    if (have)
        return have->stride == r->dims[d].stride && have->extent == r->dims[d].extent &&
               ir_expr_equal(have->min, min);
    if (c->nrs == c->caprs)
        return false;
    c->rs[c->nrs++] = (Restrict){.var = v, .min = min, .stride = r->dims[d].stride,
                                 .extent = r->dims[d].extent};
    return true;
}

/* min <= idx < min + stride * extent, and (idx - min) a multiple of stride. */
static IrExpr *in_box(IrFunc *f, const RegionDim *rd, const IrExpr *idx)
{
    IrExpr *off = ir_binary(f, IR_SUB, ir_expr_copy(f, idx), ir_expr_copy(f, rd->min));
    IrExpr *cond = ir_binary(f, IR_AND, ir_binary(f, IR_GE, off, ir_index(f, 0)),
                             ir_binary(f, IR_LT, ir_expr_copy(f, off),
                                       ir_index(f, rd->stride * rd->extent)));
    if (rd->stride > 1)
        cond = ir_binary(f, IR_AND, cond,
                         ir_binary(f, IR_EQ,
                                   ir_binary(f, IR_FLOORMOD, ir_expr_copy(f, off),
                                             ir_index(f, rd->stride)),
                                   ir_index(f, 0)));
    return cond;
}

/* One access to r's buffer with indices idx: its dimensions restrict their
 * loops; the others join *guard. An index that is a nest index its clauses
 * replaced (a let: i = o * F + i_in, f fdiv E, ...) is noted in replaced_dim:
 * guarding it would run all of P's iterations in every iteration of L. */
static void restrict_access(FuseCtx *c, const Region *r, IrExpr **idx, int n, IrExpr **guard)
{
    for (int d = 0; d < n; d++) {
        if (restrict_dim(c, r, d, idx[d]))
            continue;
        if (idx[d]->kind == IR_VARREF && idx[d]->var->kind == IR_VAR_LET && c->replaced_dim < 0)
            c->replaced_dim = d;
        IrExpr *in = in_box(c->f, &r->dims[d], idx[d]);
        *guard = *guard ? ir_binary(c->f, IR_AND, *guard, in) : in;
    }
}

static void restrict_loads(FuseCtx *c, const Region *r, const IrExpr *e, IrExpr **guard)
{
    for (int i = 0; i < e->nargs; i++)
        restrict_loads(c, r, e->args[i], guard);
    if (e->kind == IR_LOAD && e->buf == r->buf)
        restrict_access(c, r, e->args, e->nargs, guard);
}

/* The stores in b, from item `from` on, that write r's buffer (by_loads
 * false: a nest fused before R), and the stores and lets that read it (true:
 * an epilogue reads what R wrote): restrict their loops, or guard them. A let's value reads the
 * element for the statements after it, so a let that needs a guard takes
 * the rest of its block under it (`let x = C[i, j]; D[i, j] = max(x, 0.0)`
 * reads C through x: the let, not the store, is what reads the region). */
static void restrict_stores(FuseCtx *c, IrBlock *b, int from, const Region *r, bool by_loads)
{
    IrFunc *f = c->f;
    for (int i = from; i < b->len; i++) {
        IrStmt *s = b->items[i];
        restrict_stores(c, &s->body, 0, r, by_loads);
        restrict_stores(c, &s->else_body, 0, r, by_loads);
        IrExpr *guard = NULL;
        if (s->kind == IR_STORE && !by_loads && s->buf == r->buf)
            restrict_access(c, r, s->idx, s->nidx, &guard);
        if ((s->kind == IR_STORE || s->kind == IR_LET) && by_loads)
            restrict_loads(c, r, s->value, &guard);
        if (!guard)
            continue;
        IrStmt *g = ir_if(f, guard, s->origin);
        if (s->kind == IR_LET) {
            for (int k = i; k < b->len; k++)
                ir_block_push(f, &g->body, b->items[k]);
            b->len = i + 1;
            b->items[i] = g;
            restrict_stores(c, &g->body, 1, r, by_loads);
            return;
        }
        ir_block_push(f, &g->body, s);
        b->items[i] = g;
    }
}

/* for v in [lo, +ext) { body }  ->
 * for v_f in [0, +E) { let v = min + stride * v_f; if v >= lo && v < lo + ext { body } } */
static void restrict_loop(FuseCtx *c, IrStmt *loop, const Restrict *rs)
{
    IrFunc *f = c->f;
    IrVar *v = loop->var;
    IrVar *t = ir_var_new(f, arena_printf(f->arena, "%s_f", v->name), ELEM_I64, IR_VAR_LOOP);
    IrExpr *value = ir_expr_copy(f, rs->min);
    if (rs->extent > 1)
        value = ir_binary(f, IR_ADD, value,
                          rs->stride == 1 ? ir_ref(f, t)
                                          : ir_binary(f, IR_MUL, ir_index(f, rs->stride), ir_ref(f, t)));
    IrExpr *hi = ir_binary(f, IR_ADD, ir_expr_copy(f, loop->lo), ir_expr_copy(f, loop->extent));
    IrExpr *cond = ir_binary(f, IR_AND, ir_binary(f, IR_GE, ir_ref(f, v), ir_expr_copy(f, loop->lo)),
                             ir_binary(f, IR_LT, ir_ref(f, v), hi));
    IrStmt *g = ir_if(f, cond, loop->origin);
    g->body = loop->body;
    v->kind = IR_VAR_LET;
    loop->var = t;
    loop->lo = ir_index(f, 0);
    loop->extent = ir_index(f, rs->extent);
    loop->body = (IrBlock){0};
    ir_block_push(f, &loop->body, ir_let(f, v, value, loop->origin));
    ir_block_push(f, &loop->body, g);
    /* P, once in R, is part of the regions of the nests fused before it */
    if (v->id < c->lets.n)
        c->lets.def[v->id] = value;
}

static void restrict_loops(FuseCtx *c, IrStmt *s)
{
    if (s->kind == IR_LOOP) {
        const Restrict *rs = restriction_of(c, s->var);
        if (rs)
            restrict_loop(c, s, rs);
    }
    IrBlock *bs[2] = {&s->body, &s->else_body};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < bs[k]->len; i++)
            restrict_loops(c, bs[k]->items[i]);
}

/* ---- nests that accumulate ----
 *
 * P runs once per iteration of L and of the loops around it. A P whose
 * stores read what they write (`+=`, `x = x / n`) must get a part of W of its
 * own in each: every loop from R's root down to L whose extent is not 1 moves
 * the region's min in some dimension, affinely, by at least the region's
 * width there, and the loops moving one dimension nest like a split's (each
 * coefficient at least the previous one times that loop's constant extent;
 * a loop of unknown extent only with the largest). */

/* Whether e reads b, lets looked through (`let t = s[r]; s[r] = t + x` accumulates). */
static bool reads_buffer(const RegionLets *lets, const IrExpr *e, const IrBuffer *b, int depth)
{
    if (e->kind == IR_LOAD && e->buf == b)
        return true;
    if (e->kind == IR_VARREF && e->var->id < lets->n && lets->def[e->var->id] && depth < 1000)
        return reads_buffer(lets, lets->def[e->var->id], b, depth + 1);
    for (int i = 0; i < e->nargs; i++)
        if (reads_buffer(lets, e->args[i], b, depth))
            return true;
    return false;
}

/* Whether a store in the tree under s writes b with a value that reads b. */
static bool accumulates(const RegionLets *lets, const IrStmt *s, const IrBuffer *b)
{
    if (s->kind == IR_STORE && s->buf == b && reads_buffer(lets, s->value, b, 0))
        return true;
    const IrBlock *bs[2] = {&s->body, &s->else_body};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < bs[k]->len; i++)
            if (accumulates(lets, bs[k]->items[i], b))
                return true;
    return false;
}

/* Whether a statement in the tree under s reads b. */
static bool tree_reads(const RegionLets *lets, const IrStmt *s, const IrBuffer *b)
{
    const IrExpr *es[3] = {s->value, s->cond, s->kind == IR_LOOP ? s->extent : NULL};
    for (int k = 0; k < 3; k++)
        if (es[k] && reads_buffer(lets, es[k], b, 0))
            return true;
    for (int d = 0; s->kind == IR_STORE && d < s->nidx; d++)
        if (reads_buffer(lets, s->idx[d], b, 0))
            return true;
    const IrBlock *bs[2] = {&s->body, &s->else_body};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < bs[k]->len; i++)
            if (tree_reads(lets, bs[k]->items[i], b))
                return true;
    return false;
}

/* The loops from s down to target, target included; false when it is not under s. */
static bool loops_to(IrStmt *s, const IrStmt *target, IrStmt **out, int *n, int max)
{
    bool is_loop = s->kind == IR_LOOP && *n < max;
    if (is_loop)
        out[(*n)++] = s;
    if (s == target)
        return true;
    const IrBlock *bs[2] = {&s->body, &s->else_body};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < bs[k]->len; i++)
            if (loops_to(bs[k]->items[i], target, out, n, max))
                return true;
    if (is_loop)
        (*n)--;
    return false;
}

/* The first loop around or at L that does not give P a part of reg of its own, or NULL. */
static const IrStmt *repeating_loop(IrNest *r, IrStmt *loop, const Region *reg)
{
    enum { MAX_LOOPS = 64 };
    IrStmt *ls[MAX_LOOPS];
    int n = 0;
    if (!loops_to(r->root, loop, ls, &n, MAX_LOOPS))
        return loop;
    for (int d = 0; d < reg->ndims; d++) {
        /* the loops moving dimension d, innermost first by coefficient */
        int64_t need = reg->dims[d].stride * reg->dims[d].extent;
        bool unbounded = false;
        for (;;) {
            int best = -1;
            int64_t bk = 0;
            for (int i = 0; i < n; i++) {
                int64_t k;
                if (!ls[i] || !ir_coef_of(reg->dims[d].min, ls[i]->var, &k) || k == 0)
                    continue;
                k = k < 0 ? -k : k;
                if (best < 0 || k < bk)
                    best = i, bk = k;
            }
            if (best < 0)
                break;
            int64_t ext;
            if (unbounded || bk < need)
                return ls[best];
            if (ir_const_int(ls[best]->extent, &ext) && ext >= 1)
                need = bk * ext;
            else
                unbounded = true;
            ls[best] = NULL;
        }
    }
    for (int i = 0; i < n; i++) {
        int64_t ext;
        if (ls[i] && !(ir_const_int(ls[i]->extent, &ext) && ext == 1))
            return ls[i];
    }
    return NULL;
}

/* P (written before R) writes x, and neither R nor the nests fused after P
 * access it under L. */
static void not_accessed(FuseCtx *c, const IrNest *p, const char *pl, const IrNest *r,
                         const IrStmt *loop, const IrBuffer *x)
{
    diag_error(c->pc->diag, p->sched->fuse->at.span,
               "'%s' cannot be fused into '%s' at '%s': neither '%s' nor a nest fused after '%s' "
               "accesses '%s' under '%s', so nothing limits '%s' to a part of its domain; fuse it "
               "into a nest that reads '%s', or fuse such a nest too",
               pl, r->nest->label.name, loop->var->name, r->nest->label.name, pl, x->name,
               loop->var->name, pl, x->name);
}

/* P restricted to what R needs under L; false after an error. */
static bool restrict_nest(FuseCtx *c, IrNest *p, IrNest *r, IrStmt *loop, Span kernel_ifs)
{
    enum { MAX_WRITTEN = 32 };
    IrFunc *f = c->f;
    IrBuffer *ws[MAX_WRITTEN];
    int nw = 0;
    IrBlock one = {0};
    ir_block_push(f, &one, p->root);
    written_buffers(&one, ws, &nw, MAX_WRITTEN);
    c->nrs = 0;
    c->caprs = 4 * MAX_WRITTEN;
    c->rs = ARENA_ARRAY(f->arena, Restrict, c->caprs);
    const char *pl = p->nest->label.name ? p->nest->label.name : "the nest";
    /* Before R: the tensors P writes. After R: the tensors R writes under L. */
    bool epilogue = p->nest->index > r->nest->index;
    /* An epilogue that accumulates (out[r] += Y[r, c]) runs once for each element of
     * the region: it must hold only what this iteration wrote, or it adds some twice. */
    const IrBuffer *epilogue_sum = NULL;
    for (int i = 0; epilogue && i < nw && !epilogue_sum; i++)
        if (accumulates(&c->lets, p->root, ws[i]))
            epilogue_sum = ws[i];
    if (epilogue) {
        nw = 0;
        written_buffers(&loop->body, ws, &nw, MAX_WRITTEN);
    }
    bool accessed = false;
    for (int i = 0; i < nw; i++) {
        Region reg;
        RegionError err;
        bool exact;
        if (!region_compute_exact(f, &c->lets, r->root, loop, ws[i], kernel_ifs, &reg, &err,
                                  &exact)) {
            region_report(c->pc->diag, p->sched->fuse->at.span, ws[i]->name, loop->var->name,
                          &err);
            return false;
        }
        /* P before R writes what R then updates: P's `=` at an element outside
         * what R reaches in this iteration would undo what R did there in an
         * earlier one. An epilogue or a producer R only reads rewrites its own
         * values (the same, or final in the iteration that finishes them). */
        if (epilogue && epilogue_sum && reg.written && !exact) {
            diag_error(c->pc->diag, p->sched->fuse->at.span,
                       "'%s' cannot be fused into '%s' at '%s': the elements of '%s' that '%s' "
                       "writes there are not an exact box, so '%s' would add some of them into "
                       "'%s' again",
                       pl, r->nest->label.name, loop->var->name, ws[i]->name, r->nest->label.name,
                       pl, epilogue_sum->name);
            return false;
        }
        if (!epilogue && reg.written && !exact) {
            diag_error(c->pc->diag, p->sched->fuse->at.span,
                       "'%s' cannot be fused into '%s' at '%s': the elements of '%s' that '%s' "
                       "updates there are not an exact box, so '%s' would overwrite elements "
                       "updated in other iterations",
                       pl, r->nest->label.name, loop->var->name, ws[i]->name,
                       r->nest->label.name, pl);
            return false;
        }
        /* What P writes and nothing under L accesses gives P no part to run
         * over: it would redo all of it in each iteration of L. */
        bool sums = !epilogue && accumulates(&c->lets, p->root, ws[i]);
        accessed = accessed || (epilogue ? tree_reads(&c->lets, p->root, ws[i])
                                         : reg.read || reg.written);
        if (!epilogue && !reg.read && !reg.written && (sums || (i == nw - 1 && !accessed))) {
            not_accessed(c, p, pl, r, loop, ws[i]);
            return false;
        }
        if (epilogue && i == nw - 1 && !accessed) {
            diag_error(c->pc->diag, p->sched->fuse->at.span,
                       "'%s' cannot be fused into '%s' at '%s': it reads nothing that '%s' writes "
                       "under '%s', so nothing limits '%s' to a part of its domain; fuse it into "
                       "a nest whose results it reads",
                       pl, r->nest->label.name, loop->var->name, r->nest->label.name,
                       loop->var->name, pl);
            return false;
        }
        const IrStmt *again = !sums ? NULL
                                                                      : repeating_loop(r, loop, &reg);
        if (again) {
            diag_error(c->pc->diag, p->sched->fuse->at.span,
                       "'%s' cannot be fused into '%s' at '%s': it accumulates into '%s', and "
                       "each iteration of '%s' would run it again over the same elements",
                       pl, r->nest->label.name, loop->var->name, ws[i]->name, again->var->name);
            return false;
        }
        c->replaced_dim = -1;
        if (reg.read || reg.written)
            restrict_stores(c, &one, 0, &reg, epilogue);
        if (!epilogue && c->replaced_dim >= 0) {
            diag_error(c->pc->diag, p->sched->fuse->at.span,
                       "'%s' cannot be fused into '%s' at '%s': its own clauses replace the loop "
                       "that indexes dimension %d of '%s', so it would run all of its iterations "
                       "in each iteration of '%s'",
                       pl, r->nest->label.name, loop->var->name, c->replaced_dim, ws[i]->name,
                       loop->var->name);
            return false;
        }
    }
    p->root = one.items[0];
    restrict_loops(c, p->root);
    return true;
}

/* ---- names ---- */

static bool tree_declares(const IrStmt *s, const char *name)
{
    if ((s->kind == IR_LOOP || s->kind == IR_LET) && strcmp(s->var->name, name) == 0)
        return true;
    const IrBlock *bs[2] = {&s->body, &s->else_body};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < bs[k]->len; i++)
            if (tree_declares(bs[k]->items[i], name))
                return true;
    return false;
}

/* P's loops and lets whose names R's tree also declares take P's label as a
 * suffix (co -> co_rowmax), so that loops stay found by name in R and the
 * printed IR reads unambiguously. */
static void rename_clashes(IrFunc *f, IrStmt *s, const IrStmt *r_root, const char *label)
{
    if ((s->kind == IR_LOOP || s->kind == IR_LET) && tree_declares(r_root, s->var->name))
        s->var->name = arena_printf(f->arena, "%s_%s", s->var->name, label);
    IrBlock *bs[2] = {&s->body, &s->else_body};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < bs[k]->len; i++)
            rename_clashes(f, bs[k]->items[i], r_root, label);
}

/* ---- moving P into R ---- */

static void remove_from_body(IrFunc *f, const IrStmt *s)
{
    for (int i = 0; i < f->body.len; i++)
        if (f->body.items[i] == s) {
            memmove(f->body.items + i, f->body.items + i + 1,
                    sizeof *f->body.items * (size_t)(f->body.len - i - 1));
            f->body.len--;
            return;
        }
}

/* The span of R's nest and of every nest fused into it: a kernel `if` inside
 * it is data, not a clause's guard (region_compute_exact), wherever the fused
 * nests now sit in R's tree. */
static Span fused_span(const IrFunc *f, const IrNest *r)
{
    Span sp = r->nest->span;
    for (int i = 0; i < f->nnests; i++) {
        const IrNest *q = &f->nests[i];
        if (!q->sched || q->sched->fused_into != r->nest->index)
            continue;
        sp.lo = q->nest->span.lo < sp.lo ? q->nest->span.lo : sp.lo;
        sp.hi = q->nest->span.hi > sp.hi ? q->nest->span.hi : sp.hi;
    }
    return sp;
}

/* Fusing, in the order that lets each nest see what consumes it: P's loops
 * restricted, then P moved into R. Nests written before R go last first, each
 * to the front of L's body as soon as it is restricted (so they end in kernel
 * order): the part P fills is what R and the nests fused after P access under
 * L (rowmax writes m for rowsum, fused after it, even when R never reads m).
 * Epilogues are restricted over R as written (what R writes under L), then
 * appended in kernel order. P's root leaves the function body. */
bool pass_fuse_nests(IrFunc *f, PassCtx *ctx)
{
    FuseCtx c = {.f = f, .pc = ctx};
    region_lets_init(&c.lets, f);
    IrStmt **at = ARENA_ARRAY(f->arena, IrStmt *, f->nnests + 1);
    bool any = false;
    for (int i = 0; i < f->nnests; i++) {
        IrNest *p = &f->nests[i];
        at[i] = NULL;
        if (!p->sched || p->sched->fused_into < 0 || !p->root)
            continue;
        IrNest *r = &f->nests[p->sched->fused_into];
        at[i] = region_find_loop(r->root, p->sched->fused_at);
        if (!at[i]) {
            diag_error(ctx->diag, p->sched->fuse->at.span,
                       "internal error: fusing into '%s' finds no loop '%s' in the IR",
                       r->nest->label.name, p->sched->fused_at);
            return false;
        }
        const char *label = p->nest->label.name ? p->nest->label.name
                                                 : arena_printf(f->arena, "nest%d", i + 1);
        rename_clashes(f, p->root, r->root, label);
        any = true;
    }
    if (!any)
        return false;
    for (int i = 0; i < f->nnests; i++)
        if (at[i] && i > f->nests[i].sched->fused_into) {
            IrNest *r = &f->nests[f->nests[i].sched->fused_into];
            if (!restrict_nest(&c, &f->nests[i], r, at[i], fused_span(f, r)))
                return false;
        }
    for (int i = f->nnests - 1; i >= 0; i--) {
        IrNest *p = &f->nests[i];
        if (!at[i] || i > p->sched->fused_into)
            continue;
        IrNest *r = &f->nests[p->sched->fused_into];
        if (!restrict_nest(&c, p, r, at[i], fused_span(f, r)))
            return false;
        remove_from_body(f, p->root);
        ir_block_insert(f, &at[i]->body, 0, p->root);
        p->root = NULL;
    }
    for (int i = 0; i < f->nnests; i++) {
        IrNest *p = &f->nests[i];
        if (!at[i] || !p->root)
            continue;
        remove_from_body(f, p->root);
        ir_block_push(f, &at[i]->body, p->root);
        p->root = NULL;
    }
    return true;
}
