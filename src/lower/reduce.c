/* Pass reductions: private partials for reductions whose loop runs its
 * iterations at once (Reductions in lang/SPEC.md).
 *
 * A reduction statement (x += e, x -= e, x *= e, x = max(x, e), x = min(x, e))
 * under a loop L that is vectorized, parallel or bound and does not index x:
 *
 *   alloc registers T x_partial_L[ext(L), ext(E1), ...]   (global when an extent is not constant)
 *   for ... serial { x_partial_L[...] = identity }        (every partial)
 *   for L ... { ... x_partial_L[L - lo, E1 - lo1, ...] = x_partial_L[...] op e ... }
 *   for x_partial_L_E1 ... serial {                       (each element, in E's order)
 *     if (the guards that select the element) {
 *       x[...] = x[...] op' combine(x_partial_L[*, E1 - lo1, ...])
 *   } }
 *
 * E1, ... are the loops between L and the store that the element depends on
 * (the element changes inside L); without them the partials are one per
 * iteration of L and the combine is one store after L. identity: 0 for + and
 * -, 1 for *, -inf for max, +inf for min (the type's lowest and highest
 * values for integers). op' is + for -= (a partial of x -= e holds minus the
 * sum of its terms). combine is the fixed tree of the SPEC: partials paired at
 * doubling strides, p[i] op p[i + s] for s = 1, 2, 4, ..., i a multiple of
 * 2s, written out as one expression; when ext(L) is not constant the partials
 * are combined in index order. The combining store is itself a reduction of
 * x: under an outer loop of the same kinds it gets partials of its own. The
 * guards between L and the store that use nothing declared inside L but E
 * select the element and are kept in the combine; those that use L or other
 * loops inside it (and not E) select terms and are dropped. E's bounds and the
 * kept guards must not change with L's iteration; otherwise lowering reports
 * that the schedule is not yet supported. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lower/lower_internal.h"
#include "lower/passes.h"

/* A store and the statements that hold it, outermost first. */
typedef struct Chain {
    IrStmt **stmts;        /* stmts[0] is a top-level statement; stmts[n - 1] the store */
    IrBlock **blocks;      /* blocks[k] holds stmts[k] */
    int n;
} Chain;

typedef struct RedCtx {
    IrFunc *f;
    PassCtx *pass;
    Chain *work;
    int nwork, cap;
    IrStmt **combines;     /* the statements placed after loops, in order */
    int ncombines, ccap;
} RedCtx;

/* ---- finding the reduction stores ---- */

static void push_work(RedCtx *c, IrStmt **stmts, IrBlock **blocks, int n)
{
    if (c->nwork == c->cap) {
        int cap = c->cap ? c->cap * 2 : 8;
        Chain *w = ARENA_ARRAY(c->f->arena, Chain, cap);
        if (c->nwork)
            memcpy(w, c->work, sizeof *w * (size_t)c->nwork);
        c->work = w;
        c->cap = cap;
    }
    Chain *ch = &c->work[c->nwork++];
    ch->stmts = ARENA_ARRAY(c->f->arena, IrStmt *, n);
    ch->blocks = ARENA_ARRAY(c->f->arena, IrBlock *, n);
    memcpy(ch->stmts, stmts, sizeof *stmts * (size_t)n);
    memcpy(ch->blocks, blocks, sizeof *blocks * (size_t)n);
    ch->n = n;
}

enum { MAX_NESTING = 4096 };

static void find_in_block(RedCtx *c, IrBlock *b, IrStmt **stmts, IrBlock **blocks, int depth)
{
    if (depth >= MAX_NESTING)
        return;
    for (int i = 0; i < b->len; i++) {
        IrStmt *s = b->items[i];
        stmts[depth] = s;
        blocks[depth] = b;
        if (s->kind == IR_STORE && s->source && s->source->is_reduction)
            push_work(c, stmts, blocks, depth + 1);
        if (s->kind == IR_LOOP || s->kind == IR_IF)
            find_in_block(c, &s->body, stmts, blocks, depth + 1);
        if (s->kind == IR_IF)
            find_in_block(c, &s->else_body, stmts, blocks, depth + 1);
    }
}

/* ---- dependence of the element on a loop ---- */

/* The let that declares v inside block b (searched through nested blocks), or NULL. */
static const IrStmt *find_let(const IrBlock *b, const IrVar *v)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *s = b->items[i];
        if (s->kind == IR_LET && s->var == v)
            return s;
        if (s->kind == IR_LOOP || s->kind == IR_IF) {
            const IrStmt *t = find_let(&s->body, v);
            if (!t && s->kind == IR_IF)
                t = find_let(&s->else_body, v);
            if (t)
                return t;
        }
    }
    return NULL;
}

/* Whether e's value depends on loop variable lv, through lets of root. */
static bool depends_on(const IrStmt *root, const IrExpr *e, const IrVar *lv)
{
    if (e->kind == IR_VARREF) {
        if (e->var == lv)
            return true;
        if (e->var->kind != IR_VAR_LET)
            return false;
        const IrStmt *let = find_let(&root->body, e->var);
        return let && depends_on(root, let->value, lv);
    }
    for (int i = 0; i < e->nargs; i++)
        if (depends_on(root, e->args[i], lv))
            return true;
    return false;
}

static bool loop_declares(const IrBlock *b, const IrVar *v)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *s = b->items[i];
        if ((s->kind == IR_LOOP && s->var == v) ||
            ((s->kind == IR_LOOP || s->kind == IR_IF) && loop_declares(&s->body, v)) ||
            (s->kind == IR_IF && loop_declares(&s->else_body, v)))
            return true;
    }
    return false;
}

/* ---- the statement's form ---- */

typedef struct RedForm {
    IrOp op;               /* IR_ADD, IR_SUB, IR_MUL, IR_MAX, IR_MIN */
    IrExpr *term;          /* e */
    ElemType type;         /* the arithmetic type of op */
} RedForm;

static const IrExpr *strip_cast(const IrExpr *e) { return e->kind == IR_CAST ? e->args[0] : e; }

/* x = round(widen(x) op e): the form lower_kernel gives every reduction. */
static bool reduction_form(const IrStmt *s, RedForm *out)
{
    const IrExpr *v = s->value->type == s->buf->elem && s->value->kind == IR_CAST &&
                              lower_is_storage_type(s->buf->elem)
                          ? s->value->args[0] : s->value;
    if (v->kind != IR_BINARY)
        return false;
    const IrExpr *x = strip_cast(v->args[0]);
    if (x->kind != IR_LOAD || x->buf != s->buf || x->nargs != s->nidx)
        return false;
    for (int i = 0; i < s->nidx; i++)
        if (!ir_expr_equal(x->args[i], s->idx[i]))
            return false;
    if (v->op != IR_ADD && v->op != IR_SUB && v->op != IR_MUL && v->op != IR_MAX && v->op != IR_MIN)
        return false;
    *out = (RedForm){.op = v->op, .term = v->args[1], .type = v->type};
    return true;
}

static IrExpr *identity(IrFunc *f, IrOp op, ElemType t)
{
    bool fl = elem_is_float(t);
    if (op == IR_ADD || op == IR_SUB)
        return fl ? ir_float(f, t, 0.0) : ir_int(f, t, 0);
    if (op == IR_MUL)
        return fl ? ir_float(f, t, 1.0) : ir_int(f, t, 1);
    if (fl)
        return ir_float(f, t, op == IR_MAX ? -INFINITY : INFINITY);
    static const struct { ElemType t; int64_t lo, hi; } lim[] = {
        {ELEM_I8, INT8_MIN, INT8_MAX},    {ELEM_I16, INT16_MIN, INT16_MAX},
        {ELEM_I32, INT32_MIN, INT32_MAX}, {ELEM_I64, INT64_MIN, INT64_MAX},
        {ELEM_U8, 0, UINT8_MAX},          {ELEM_U32, 0, UINT32_MAX},
    };
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++)
        if (lim[i].t == t)
            return ir_int(f, t, op == IR_MAX ? lim[i].lo : lim[i].hi);
    return ir_int(f, t, 0);
}

/* ---- the element inside L ---- */

/* The loops between L and the store that the element depends on (E), and
 * the element and the guards that select it as they read after L, where
 * E's variables are replaced by fresh ones. */
typedef struct Elem {
    IrStmt **loops;        /* E, outermost first */
    IrVar **fresh;
    IrExpr **lo, **ext;    /* E's bounds, with lets declared inside L substituted */
    int n;
    IrExpr **idx;          /* the element's indices over the fresh variables */
    IrExpr *cond;          /* the guards over the element, or NULL */
} Elem;

/* e with the lets declared inside L replaced by their values. */
static IrExpr *expand_inside(IrFunc *f, const IrStmt *L, const IrExpr *e)
{
    if (e->kind == IR_VARREF && e->var->kind == IR_VAR_LET) {
        const IrStmt *let = find_let(&L->body, e->var);
        if (let)
            return expand_inside(f, L, let->value);
    }
    IrExpr *r = ir_expr_copy(f, e);
    for (int i = 0; i < e->nargs; i++)
        r->args[i] = expand_inside(f, L, e->args[i]);
    return r;
}

static bool is_elem_var(const Elem *el, const IrVar *v)
{
    for (int i = 0; i < el->n; i++)
        if (el->loops[i]->var == v)
            return true;
    return false;
}

/* Whether the expanded e uses a variable declared inside L (E's left out
 * when skip_elem). */
static bool uses_inside(const IrStmt *L, const IrExpr *e, const Elem *el, bool skip_elem)
{
    if (e->kind == IR_VARREF)
        return (e->var == L->var || loop_declares(&L->body, e->var)) &&
               !(skip_elem && is_elem_var(el, e->var));
    for (int i = 0; i < e->nargs; i++)
        if (uses_inside(L, e->args[i], el, skip_elem))
            return true;
    return false;
}

/* The expanded e over the fresh variables. */
static IrExpr *after_L(IrFunc *f, const IrStmt *L, const Elem *el, const IrExpr *e)
{
    IrExpr *r = expand_inside(f, L, e);
    for (int i = 0; i < el->n; i++)
        r = ir_substitute(f, r, el->loops[i]->var, ir_ref(f, el->fresh[i]));
    return r;
}

static const char *partial_name(IrFunc *f, const IrStmt *s, const IrStmt *L)
{
    return arena_printf(f->arena, "%s_partial_%s", s->buf->name, L->var->name);
}

/* Fills el for store s under L = ch->stmts[k]. Guards between L and s that
 * use nothing declared inside L but E stay (they select the element); those
 * that use L or loops other than E, and not E, are dropped (they select
 * terms). False (with an error) when E's bounds or a guard mix E with the
 * rest of L. */
static bool element_of(RedCtx *c, const Chain *ch, int k, const IrStmt *s, Elem *el)
{
    IrFunc *f = c->f;
    const IrStmt *L = ch->stmts[k], *root = ch->stmts[0];
    int cap = ch->n;
    *el = (Elem){.loops = ARENA_ARRAY(f->arena, IrStmt *, cap), .fresh = ARENA_ARRAY(f->arena, IrVar *, cap),
                 .lo = ARENA_ARRAY(f->arena, IrExpr *, cap), .ext = ARENA_ARRAY(f->arena, IrExpr *, cap)};
    for (int j = k + 1; j < ch->n - 1; j++) {
        IrStmt *E = ch->stmts[j];
        bool dep = false;
        for (int i = 0; E->kind == IR_LOOP && i < s->nidx; i++)
            dep |= depends_on(root, s->idx[i], E->var);
        if (dep)
            el->loops[el->n++] = E;
    }
    const char *pname = partial_name(f, s, L);
    for (int i = 0; i < el->n; i++) {
        const IrStmt *E = el->loops[i];
        el->lo[i] = expand_inside(f, L, E->lo);
        el->ext[i] = expand_inside(f, L, E->extent);
        if (uses_inside(L, el->lo[i], el, false) || uses_inside(L, el->ext[i], el, false))
            goto unsupported;
        el->fresh[i] = ir_var_new(f, arena_printf(f->arena, "%s_%s", pname, E->var->name), ELEM_I64,
                                  IR_VAR_LOOP);
    }
    el->idx = ARENA_ARRAY(f->arena, IrExpr *, s->nidx + 1);
    for (int i = 0; i < s->nidx; i++) {
        if (uses_inside(L, expand_inside(f, L, s->idx[i]), el, true))
            goto unsupported;   /* cannot happen for a reduction over L; kept safe */
        el->idx[i] = after_L(f, L, el, s->idx[i]);
    }
    el->cond = NULL;
    for (int j = k + 1; j < ch->n - 1; j++) {
        const IrStmt *g = ch->stmts[j];
        if (g->kind != IR_IF)
            continue;
        IrExpr *cond = expand_inside(f, L, g->cond);
        bool uses_e = false;
        for (int i = 0; i < el->n; i++)
            uses_e |= ir_expr_uses(cond, el->loops[i]->var);
        if (uses_inside(L, cond, el, true)) {
            if (uses_e)
                goto unsupported;
            continue;   /* it changes with L or a loop that does not select the element */
        }
        cond = after_L(f, L, el, g->cond);
        if (ch->blocks[j + 1] == &g->else_body)
            cond = ir_unary(f, IR_NOT, cond);
        el->cond = el->cond ? ir_binary(f, IR_AND, el->cond, cond) : cond;
    }
    return true;
unsupported:
    diag_error(c->pass->diag, L->origin,
               "not yet supported: the element that '%s' reduces into changes inside loop '%s' "
               "over a range that depends on the iteration of '%s'",
               s->buf->name, L->var->name, L->var->name);
    return false;
}

/* ---- the transformation ---- */

/* p[r, e...]: r the partial of L's iteration, e the element's position in E. */
static IrExpr *partial_at(IrFunc *f, IrBuffer *p, IrExpr *r, IrExpr **e, int ne)
{
    IrExpr **idx = ARENA_ARRAY(f->arena, IrExpr *, ne + 1);
    idx[0] = r;
    for (int i = 0; i < ne; i++)
        idx[i + 1] = ir_expr_copy(f, e[i]);
    return ir_load(f, p, idx, ne + 1);
}

/* The SPEC's fixed tree over p[lo .. lo + size) within [0, n): halves of a
 * power-of-two block, the right half dropped where it starts at or after n. */
static IrExpr *tree(IrFunc *f, IrBuffer *p, IrExpr **e, int ne, IrOp op, int64_t lo, int64_t size,
                    int64_t n)
{
    if (size == 1)
        return partial_at(f, p, ir_index(f, lo), e, ne);
    int64_t half = size / 2;
    IrExpr *left = tree(f, p, e, ne, op, lo, half, n);
    if (lo + half >= n)
        return left;
    return ir_binary(f, op, left, tree(f, p, e, ne, op, lo + half, half, n));
}

static int find_index(const IrBlock *b, const IrStmt *s)
{
    for (int i = 0; i < b->len; i++)
        if (b->items[i] == s)
            return i;
    return -1;
}

/* After L and after the combining statements already placed there: the
 * elements take their partials in the order of the statements. */
static void insert_after(RedCtx *c, IrBlock *lb, const IrStmt *L, IrStmt *st)
{
    int at = find_index(lb, L) + 1;
    for (bool more = true; more && at < lb->len;) {
        more = false;
        for (int i = 0; i < c->ncombines && !more; i++)
            more = c->combines[i] == lb->items[at];
        at += more;
    }
    ir_block_insert(c->f, lb, at, st);
    if (c->ncombines == c->ccap) {
        int cap = c->ccap ? c->ccap * 2 : 8;
        IrStmt **v = ARENA_ARRAY(c->f->arena, IrStmt *, cap);
        if (c->ncombines)
            memcpy(v, c->combines, sizeof *v * (size_t)c->ncombines);
        c->combines = v;
        c->ccap = cap;
    }
    c->combines[c->ncombines++] = st;
}

static IrStmt *element_store(IrFunc *f, const IrStmt *s, IrExpr **at, IrOp op, IrExpr *value)
{
    IrExpr **idx = ARENA_ARRAY(f->arena, IrExpr *, s->nidx + 1);
    IrExpr **again = ARENA_ARRAY(f->arena, IrExpr *, s->nidx + 1);
    for (int i = 0; i < s->nidx; i++) {
        idx[i] = ir_expr_copy(f, at[i]);
        again[i] = ir_expr_copy(f, at[i]);
    }
    IrExpr *x = lower_widen(f, ir_load(f, s->buf, again, s->nidx));
    IrExpr *v = ir_binary(f, op, x, value);
    if (v->type != s->buf->elem)
        v = ir_cast(f, s->buf->elem, v);
    IrStmt *st = ir_store(f, s->buf, idx, s->nidx, v, s->origin);
    st->source = s->source;
    return st;
}

static IrExpr *from_zero(IrFunc *f, IrExpr *v, const IrExpr *lo)
{
    int64_t c;
    if (ir_const_int(lo, &c) && c == 0)
        return v;
    return ir_binary(f, IR_SUB, v, ir_expr_copy(f, lo));
}

static IrExpr *dim_of(IrFunc *f, const IrExpr *ext, bool *cst)
{
    int64_t n;
    if (ir_const_int(ext, &n))
        return ir_index(f, n > 0 ? n : 0);
    *cst = false;
    return ir_binary(f, IR_MAX, ir_expr_copy(f, ext), ir_index(f, 0));
}

/* A statement and the block that holds it: a piece of a chain. */
typedef struct Link {
    IrStmt *stmt;
    IrBlock *block;
} Link;

/* Pushes s into *cur (or makes it the first link) and records the link. */
static void link_push(IrFunc *f, Link *tail, int *n, IrBlock **cur, IrStmt *s)
{
    if (*cur)
        ir_block_push(f, *cur, s);
    tail[(*n)++] = (Link){s, *cur};
    *cur = s->kind == IR_LOOP || s->kind == IR_IF ? &s->body : NULL;
}

/* Gives store s under L = ch->stmts[k] a partial per iteration of L and per
 * element (el); the combine after L is written into tail (its statements
 * from the one in L's block down to the combining store) and its length
 * returned; 0 when L is constant and empty (no combine). */
static int privatize(RedCtx *c, const Chain *ch, int k, const Elem *el, IrStmt *s, IrBlock *sb,
                     const RedForm *rf, Link *tail)
{
    IrFunc *f = c->f;
    IrStmt *L = ch->stmts[k];
    IrBlock *lb = ch->blocks[k];
    int64_t n;
    bool lcst = ir_const_int(L->extent, &n), cst = true;
    IrBuffer *p = ir_buffer_new(f, partial_name(f, s, L), rf->type, IR_MEM_REGISTERS, el->n + 1);
    p->dims[0] = dim_of(f, L->extent, &cst);
    for (int i = 0; i < el->n; i++)
        p->dims[i + 1] = dim_of(f, el->ext[i], &cst);
    p->mem = cst ? IR_MEM_REGISTERS : IR_MEM_GLOBAL;
    /* before L: the partials, set to the identity */
    int at = find_index(lb, L);
    ir_block_insert(f, lb, at, ir_alloc(f, p, L->origin));
    IrExpr **ii = ARENA_ARRAY(f->arena, IrExpr *, el->n + 1);
    IrStmt *init = NULL;
    IrBlock *ib = NULL;
    for (int d = 0; d <= el->n; d++) {
        const char *name = d == 0 ? arena_printf(f->arena, "%s_i", p->name)
                                  : arena_printf(f->arena, "%s_i%d", p->name, d);
        IrVar *iv = ir_var_new(f, name, ELEM_I64, IR_VAR_LOOP);
        IrStmt *loop = ir_loop(f, iv, ir_index(f, 0), ir_expr_copy(f, p->dims[d]), IR_SERIAL, L->origin);
        ii[d] = ir_ref(f, iv);
        if (ib)
            ir_block_push(f, ib, loop);
        else
            init = loop;
        ib = &loop->body;
    }
    ir_block_push(f, ib, ir_store(f, p, ii, el->n + 1, identity(f, rf->op, rf->type), L->origin));
    ir_block_insert(f, lb, at + 1, init);
    /* in L: the partial of this iteration and element takes the term */
    IrExpr **in = ARENA_ARRAY(f->arena, IrExpr *, el->n + 1);
    for (int i = 0; i < el->n; i++)
        in[i] = from_zero(f, ir_ref(f, el->loops[i]->var), el->loops[i]->lo);
    IrExpr *r = from_zero(f, ir_ref(f, L->var), L->lo);
    IrExpr *upd = ir_binary(f, rf->op, partial_at(f, p, ir_expr_copy(f, r), in, el->n), rf->term);
    IrStmt *u = ir_store(f, p, partial_at(f, p, r, in, el->n)->args, el->n + 1, upd, s->origin);
    sb->items[find_index(sb, s)] = u;
    for (int i = 0; i < c->ncombines; i++)
        if (c->combines[i] == s)
            c->combines[i] = u;   /* a combining store that now feeds an outer partial */
    if (lcst && n <= 0)
        return 0;
    /* after L: for each element, in E's order, the partials in the fixed order */
    int nt = 0;
    IrBlock *cur = NULL;
    IrExpr **out = ARENA_ARRAY(f->arena, IrExpr *, el->n + 1);
    for (int i = 0; i < el->n; i++) {
        link_push(f, tail, &nt, &cur,
                  ir_loop(f, el->fresh[i], ir_expr_copy(f, el->lo[i]), ir_expr_copy(f, el->ext[i]),
                          IR_SERIAL, L->origin));
        out[i] = from_zero(f, ir_ref(f, el->fresh[i]), el->lo[i]);
    }
    if (el->cond) {
        IrStmt *g = ir_if(f, el->cond, L->origin);
        link_push(f, tail, &nt, &cur, g);
    }
    IrOp comb = rf->op == IR_SUB ? IR_ADD : rf->op;
    if (lcst) {
        int64_t size = 1;
        while (size < n)
            size *= 2;
        link_push(f, tail, &nt, &cur, element_store(f, s, el->idx, comb, tree(f, p, out, el->n, comb, 0, size, n)));
    } else {
        IrVar *tv = ir_var_new(f, arena_printf(f->arena, "%s_t", p->name), ELEM_I64, IR_VAR_LOOP);
        link_push(f, tail, &nt, &cur,
                  ir_loop(f, tv, ir_index(f, 0), ir_expr_copy(f, p->dims[0]), IR_SERIAL, L->origin));
        link_push(f, tail, &nt, &cur,
                  element_store(f, s, el->idx, comb, partial_at(f, p, ir_ref(f, tv), out, el->n)));
    }
    tail[0].block = lb;
    insert_after(c, lb, L, tail[0].stmt);
    return nt;
}

static bool concurrent(const IrStmt *s)
{
    return s->kind == IR_LOOP &&
           (s->loop_kind == IR_VECTORIZED || s->loop_kind == IR_PARALLEL || s->loop_kind == IR_BOUND);
}

/* One reduction store: partials at each concurrent loop that does not index
 * its element, innermost first; after each, the chain continues from the
 * combining store. */
static bool handle(RedCtx *c, Chain *ch)
{
    IrFunc *f = c->f;
    bool changed = false;
    for (int k = ch->n - 2; k >= 0; k--) {
        IrStmt *s = ch->stmts[ch->n - 1], *L = ch->stmts[k];
        if (!concurrent(L))
            continue;
        bool indexes = false;
        for (int i = 0; i < s->nidx; i++)
            indexes |= depends_on(ch->stmts[0], s->idx[i], L->var);
        RedForm rf;
        Elem el;
        if (indexes || !reduction_form(s, &rf))
            continue;
        if (!element_of(c, ch, k, s, &el))
            return changed;
        Link *tail = ARENA_ARRAY(f->arena, Link, el.n + 4);
        int nt = privatize(c, ch, k, &el, s, ch->blocks[ch->n - 1], &rf, tail);
        changed = true;
        if (nt == 0)
            return changed;
        /* the chain of the combining store: stmts[0 .. k) and the tail */
        Chain next = {.stmts = ARENA_ARRAY(f->arena, IrStmt *, k + nt),
                      .blocks = ARENA_ARRAY(f->arena, IrBlock *, k + nt), .n = k + nt};
        memcpy(next.stmts, ch->stmts, sizeof *next.stmts * (size_t)k);
        memcpy(next.blocks, ch->blocks, sizeof *next.blocks * (size_t)k);
        for (int t = 0; t < nt; t++) {
            next.stmts[k + t] = tail[t].stmt;
            next.blocks[k + t] = tail[t].block;
        }
        *ch = next;
    }
    return changed;
}

bool pass_reductions(IrFunc *f, PassCtx *ctx)
{
    RedCtx c = {.f = f, .pass = ctx};
    IrStmt *stmts[MAX_NESTING];
    IrBlock *blocks[MAX_NESTING];
    find_in_block(&c, &f->body, stmts, blocks, 0);
    bool changed = false;
    for (int i = 0; i < c.nwork; i++)
        changed |= handle(&c, &c.work[i]);
    return changed;
}
