/* Pass reductions: private partials for reductions whose loop runs its
 * iterations at once (Reductions in lang/SPEC.md).
 *
 * A reduction statement (x += e, x -= e, x *= e, x = max(x, e), x = min(x, e))
 * under a loop L that is vectorized, parallel or bound and does not index x:
 *
 *   alloc registers T x_partial_L[ext(L)]          (global when ext(L) is not constant)
 *   for x_partial_L_i in [0, +ext(L)) serial { x_partial_L[x_partial_L_i] = identity }
 *   for L ... { ... x_partial_L[L - lo] = x_partial_L[L - lo] op e ... }
 *   x[...] = x[...] op' combine(x_partial_L)
 *
 * identity: 0 for + and -, 1 for *, -inf for max, +inf for min (the type's
 * lowest and highest values for integers). op' is + for -= (a partial of
 * x -= e holds minus the sum of its terms). combine is the fixed tree of the
 * SPEC: partials paired at doubling strides, p[i] op p[i + s] for s = 1, 2,
 * 4, ..., i a multiple of 2s, written out as one expression; when ext(L) is
 * not constant the partials are combined in index order. The combining store
 * is itself a reduction of x: under an outer loop of the same kinds it gets
 * partials of its own. The element x[...] must be the same for the whole of
 * L's body (its indices use nothing declared inside L); otherwise lowering
 * reports that the schedule is not yet supported. */
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

/* Whether e uses a variable declared inside loop L (L's own, a let or a loop of its body). */
static bool declared_inside(const IrStmt *L, const IrExpr *e)
{
    if (e->kind == IR_VARREF)
        return e->var == L->var || find_let(&L->body, e->var) || loop_declares(&L->body, e->var);
    for (int i = 0; i < e->nargs; i++)
        if (declared_inside(L, e->args[i]))
            return true;
    return false;
}

/* The element is the same for the whole of L's body. */
static bool element_invariant(const IrStmt *L, const IrStmt *store)
{
    for (int i = 0; i < store->nidx; i++)
        if (declared_inside(L, store->idx[i]))
            return false;
    return true;
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

/* ---- the transformation ---- */

static IrExpr *partial_at(IrFunc *f, IrBuffer *p, IrExpr *i)
{
    IrExpr *idx[1] = {i};
    return ir_load(f, p, idx, 1);
}

/* The SPEC's fixed tree over p[lo .. lo + size) within [0, n): halves of a
 * power-of-two block, the right half dropped where it starts at or after n. */
static IrExpr *tree(IrFunc *f, IrBuffer *p, IrOp op, int64_t lo, int64_t size, int64_t n)
{
    if (size == 1)
        return partial_at(f, p, ir_index(f, lo));
    int64_t half = size / 2;
    IrExpr *left = tree(f, p, op, lo, half, n);
    if (lo + half >= n)
        return left;
    return ir_binary(f, op, left, tree(f, p, op, lo + half, half, n));
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

static IrStmt *element_store(IrFunc *f, const IrStmt *s, IrOp op, IrExpr *value)
{
    IrExpr **idx = ARENA_ARRAY(f->arena, IrExpr *, s->nidx + 1);
    IrExpr **again = ARENA_ARRAY(f->arena, IrExpr *, s->nidx + 1);
    for (int i = 0; i < s->nidx; i++) {
        idx[i] = ir_expr_copy(f, s->idx[i]);
        again[i] = ir_expr_copy(f, s->idx[i]);
    }
    IrExpr *x = lower_widen(f, ir_load(f, s->buf, again, s->nidx));
    IrExpr *v = ir_binary(f, op, x, value);
    if (v->type != s->buf->elem)
        v = ir_cast(f, s->buf->elem, v);
    IrStmt *st = ir_store(f, s->buf, idx, s->nidx, v, s->origin);
    st->source = s->source;
    return st;
}

/* Gives store s (held by block sb) a partial per iteration of loop L (held
 * by block lb); returns the combining store after L (NULL when L is empty),
 * and in *outb the block that holds it. */
static IrStmt *privatize(RedCtx *c, IrStmt *L, IrBlock *lb, IrStmt *s, IrBlock *sb,
                         const RedForm *rf, IrBlock **outb)
{
    IrFunc *f = c->f;
    int64_t n;
    bool cst = ir_const_int(L->extent, &n);
    IrBuffer *p = ir_buffer_new(f, arena_printf(f->arena, "%s_partial_%s", s->buf->name, L->var->name),
                                rf->type, cst ? IR_MEM_REGISTERS : IR_MEM_GLOBAL, 1);
    p->dims[0] = cst ? ir_index(f, n > 0 ? n : 0)
                     : ir_binary(f, IR_MAX, ir_expr_copy(f, L->extent), ir_index(f, 0));
    /* before L: the partials, set to the identity */
    IrVar *iv = ir_var_new(f, arena_printf(f->arena, "%s_i", p->name), ELEM_I64, IR_VAR_LOOP);
    IrStmt *init = ir_loop(f, iv, ir_index(f, 0), ir_expr_copy(f, p->dims[0]), IR_SERIAL, L->origin);
    IrExpr *ii[1] = {ir_ref(f, iv)};
    ir_block_push(f, &init->body, ir_store(f, p, ii, 1, identity(f, rf->op, rf->type), L->origin));
    int at = find_index(lb, L);
    ir_block_insert(f, lb, at, ir_alloc(f, p, L->origin));
    ir_block_insert(f, lb, at + 1, init);
    /* in L: the partial of this iteration takes the term */
    int64_t lo;
    IrExpr *r = ir_ref(f, L->var);
    if (!(ir_const_int(L->lo, &lo) && lo == 0))
        r = ir_binary(f, IR_SUB, r, ir_expr_copy(f, L->lo));
    IrExpr *pi[1] = {r};
    IrExpr *upd = ir_binary(f, rf->op, partial_at(f, p, ir_expr_copy(f, r)), rf->term);
    IrStmt *u = ir_store(f, p, pi, 1, upd, s->origin);
    sb->items[find_index(sb, s)] = u;
    for (int i = 0; i < c->ncombines; i++)
        if (c->combines[i] == s)
            c->combines[i] = u;   /* a combining store that now feeds an outer partial */
    /* after L: the element takes the partials, in the fixed order */
    IrOp comb = rf->op == IR_SUB ? IR_ADD : rf->op;
    IrStmt *out;
    if (cst) {
        int64_t size = 1;
        while (size < n)
            size *= 2;
        out = n > 0 ? element_store(f, s, comb, tree(f, p, comb, 0, size, n)) : NULL;
        if (!out)
            return NULL;
        insert_after(c, lb, L, out);
        *outb = lb;
        return out;
    }
    IrVar *tv = ir_var_new(f, arena_printf(f->arena, "%s_t", p->name), ELEM_I64, IR_VAR_LOOP);
    IrStmt *seq = ir_loop(f, tv, ir_index(f, 0), ir_expr_copy(f, p->dims[0]), IR_SERIAL, L->origin);
    out = element_store(f, s, comb, partial_at(f, p, ir_ref(f, tv)));
    ir_block_push(f, &seq->body, out);
    insert_after(c, lb, L, seq);
    *outb = &seq->body;
    return out;
}

static bool concurrent(const IrStmt *s)
{
    return s->kind == IR_LOOP &&
           (s->loop_kind == IR_VECTORIZED || s->loop_kind == IR_PARALLEL || s->loop_kind == IR_BOUND);
}

/* One reduction store: partials at each concurrent loop that does not index
 * its element, innermost first. */
static bool handle(RedCtx *c, Chain *ch)
{
    IrStmt *s = ch->stmts[ch->n - 1];
    IrBlock *sb = ch->blocks[ch->n - 1];
    const IrStmt *root = ch->stmts[0];
    bool changed = false;
    for (int k = ch->n - 2; k >= 0; k--) {
        IrStmt *L = ch->stmts[k];
        if (!concurrent(L))
            continue;
        bool indexes = false;
        for (int i = 0; i < s->nidx; i++)
            indexes |= depends_on(root, s->idx[i], L->var);
        RedForm rf;
        if (indexes || !reduction_form(s, &rf))
            continue;
        if (!element_invariant(L, s)) {
            diag_error(c->pass->diag, L->origin,
                       "not yet supported: the element that '%s' reduces into changes inside "
                       "loop '%s'", s->buf->name, L->var->name);
            return changed;
        }
        IrBlock *outb = NULL;
        IrStmt *out = privatize(c, L, ch->blocks[k], s, sb, &rf, &outb);
        changed = true;
        if (!out)
            return changed;
        s = out;
        sb = outb;
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
