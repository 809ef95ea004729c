/* strength-reduce: index arithmetic in a form that flattening and code
 * generation handle well. Modest on purpose:
 *   affine form  every i64 index (loads, stores, copy origins) and i64 let is
 *                rewritten as a sum of terms (iv_rewrite): constants are
 *                distributed, (o*F + i)*S = o*(F*S) + i*S, and
 *                (a fdiv c)*c + (a fmod c) = a; fdiv and fmod reduce where
 *                the assumptions allow
 *   CSE          in each loop body, outermost loop first, an i64 expression
 *                of three or more nodes (no loads) that occurs twice or more
 *                and uses only what is in scope at the body's start becomes
 *                `let LOOP_cN: i64 = e` at the start of the body, and every
 *                occurrence a reference to it (largest expressions first)
 * The IR has no shifts: multiplications by powers of two stay. */
#include <stdio.h>

#include "lower/passes.h"
#include "lower/simplify.h"

enum { CSE_MAX_CANDIDATES = 512, CSE_MAX_PER_LOOP = 16 };

typedef struct Strength {
    IrFunc *f;
    IvCtx iv;
    bool changed;
} Strength;

/* ---- affine forms ---- */

static IrExpr *affine_indices(Strength *s, IrExpr *e, bool is_index);

static IrExpr *affine_one(Strength *s, IrExpr *e)
{
    IrExpr *r = iv_rewrite(&s->iv, e, false);
    if (!r || ir_expr_equal(r, e))
        return e;
    s->changed = true;
    return r;
}

static IrExpr *affine_indices(Strength *s, IrExpr *e, bool is_index)
{
    for (int i = 0; i < e->nargs; i++)
        e->args[i] = affine_indices(s, e->args[i], e->kind == IR_LOAD);
    return is_index ? affine_one(s, e) : e;
}

static void affine_block(Strength *s, IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        switch (st->kind) {
        case IR_LOOP: affine_block(s, &st->body); break;
        case IR_IF:
            st->cond = affine_indices(s, st->cond, false);
            affine_block(s, &st->body);
            affine_block(s, &st->else_body);
            break;
        case IR_STORE:
            for (int k = 0; k < st->nidx; k++)
                st->idx[k] = affine_indices(s, st->idx[k], true);
            st->value = affine_indices(s, st->value, false);
            break;
        case IR_LET: st->value = affine_indices(s, st->value, st->var->type == ELEM_I64); break;
        case IR_COPY:
            for (int k = 0; k < st->copy.ndims; k++) {
                st->copy.dst_origin[k] = affine_indices(s, st->copy.dst_origin[k], true);
                st->copy.src_origin[k] = affine_indices(s, st->copy.src_origin[k], true);
            }
            break;
        default: break;
        }
    }
}

/* ---- CSE ---- */

typedef struct Cands {
    IrExpr *items[CSE_MAX_CANDIDATES];
    int n;
    const IrBlock *body;   /* the loop body: what it declares is not in scope at its start */
} Cands;

static bool declares(const IrBlock *b, const IrVar *v)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *s = b->items[i];
        if ((s->kind == IR_LET || s->kind == IR_LOOP) && s->var == v)
            return true;
        if (s->kind == IR_COPY && s->copy.guard)
            for (int k = 0; k < s->copy.ndims; k++)
                if (s->copy.index[k] == v)
                    return true;
        if ((s->kind == IR_LOOP || s->kind == IR_IF) &&
            (declares(&s->body, v) || declares(&s->else_body, v)))
            return true;
    }
    return false;
}

/* Whether e may be computed at the start of body: no loads, nothing declared inside. */
static bool available(const IrExpr *e, const IrBlock *body)
{
    if (e->kind == IR_LOAD || (e->kind == IR_VARREF && declares(body, e->var)))
        return false;
    for (int i = 0; i < e->nargs; i++)
        if (!available(e->args[i], body))
            return false;
    return true;
}

static IrExpr *collect(void *arg, IrExpr *e)
{
    Cands *c = arg;
    for (int i = 0; i < e->nargs; i++)
        collect(c, e->args[i]);
    if (e->type == ELEM_I64 && e->kind == IR_BINARY && iv_expr_nodes(e) >= 3 &&
        c->n < CSE_MAX_CANDIDATES && available(e, c->body))
        c->items[c->n++] = e;
    return e;
}

typedef struct Replace {
    IrFunc *f;
    const IrExpr *what;
    IrVar *with;
} Replace;

static IrExpr *replace_in(void *arg, IrExpr *e)
{
    Replace *r = arg;
    if (ir_expr_equal(e, r->what))
        return ir_ref(r->f, r->with);
    for (int i = 0; i < e->nargs; i++)
        e->args[i] = replace_in(r, e->args[i]);
    return e;
}

/* The largest candidate occurring at least twice, or NULL. */
static IrExpr *best_repeated(const Cands *c)
{
    IrExpr *best = NULL;
    int best_nodes = 0;
    for (int i = 0; i < c->n; i++) {
        int nodes = iv_expr_nodes(c->items[i]);
        if (nodes <= best_nodes)
            continue;
        for (int j = i + 1; j < c->n; j++)
            if (ir_expr_equal(c->items[i], c->items[j])) {
                best = c->items[i];
                best_nodes = nodes;
                break;
            }
    }
    return best;
}

static void cse_block(Strength *s, IrBlock *b);

static void cse_loop(Strength *s, IrStmt *loop)
{
    for (int made = 0; made < CSE_MAX_PER_LOOP; made++) {
        Cands c = {.body = &loop->body};
        ir_block_map_exprs(&loop->body, collect, &c);
        IrExpr *e = best_repeated(&c);
        if (!e)
            break;
        char name[64];
        snprintf(name, sizeof name, "%s_c%d", loop->var->name, made);
        IrVar *v = ir_var_new(s->f, arena_strdup(s->f->arena, name), ELEM_I64, IR_VAR_LET);
        IrExpr *value = ir_expr_copy(s->f, e);
        Replace r = {s->f, value, v};
        ir_block_map_exprs(&loop->body, replace_in, &r);
        ir_block_insert(s->f, &loop->body, 0, ir_let(s->f, v, value, loop->origin));
        s->changed = true;
    }
    cse_block(s, &loop->body);
}

static void cse_block(Strength *s, IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        if (st->kind == IR_LOOP)
            cse_loop(s, st);
        else if (st->kind == IR_IF) {
            cse_block(s, &st->body);
            cse_block(s, &st->else_body);
        }
    }
}

bool pass_strength_reduce(IrFunc *f, PassCtx *ctx)
{
    (void)ctx;
    Strength s = {.f = f};
    iv_init(&s.iv, f);
    affine_block(&s, &f->body);
    cse_block(&s, &f->body);
    return s.changed;
}
