/* spmd, full tiles: the guards of an unrolled nest that hold at its worst
 * corner are tested once, and the nest runs without them where the test
 * passes (lang/SPEC.md, GPU execution form, Full tiles). spmd.c calls it
 * once the thread loops became lets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lower/spmd.h"

/* After the thread loops became lets: an unrolled or vectorized loop U (the
 * outermost of its kind) with no barrier, spread copy, shared alloc or shuffle inside
 * becomes
 *
 *   if (C) { U without guards G1, G2, ... } else { U }
 *
 * where each Gi is an `if` inside U whose condition is a conjunction of i64
 * comparisons a < b (<=, >, >=) that load nothing and, with the lets declared
 * inside U substituted, are affine in the loops of U in scope (constant
 * extents, bounds free of what U declares) with constant coefficients and use
 * nothing else declared inside U; C is the conjunction of each comparison at
 * its worst corner (every loop of U at the end of its range that makes
 * b - a smallest). When C holds, each Gi holds at every iteration, so its
 * body runs unguarded: the steady state of a tiled kernel (all of a thread's
 * tile in range) computes without bounds checks, and only edge tiles take the
 * guarded copy (Halide's loop partitioning). C uses the thread's own indices:
 * threads of one block may take different copies (nothing inside U needs
 * all of them). */

typedef struct TileGuard {
    IrStmt *guard;
    IrBlock *home;            /* the block holding it */
} TileGuard;

typedef struct Tile {
    IrFunc *f;
    bool *inside;             /* by var id: declared inside U */
    int nvars;
    const IrStmt **loops;     /* rectangular loops of U in scope */
    int nloops, caploops;
    const IrStmt **lets;      /* lets of U in scope, in order */
    int nlets, caplets;
    TileGuard *guards;        /* guards to drop, outermost first */
    int nguards, capguards;
    IrExpr *cond;             /* the conjunction C, NULL while empty */
    bool ok;
} Tile;

#define TILE_PUSH(arr, n, cap, x)                                          \
    do {                                                                   \
        if ((n) == (cap)) {                                                \
            (cap) = (cap) ? 2 * (cap) : 16;                                \
            void *grown = realloc((void *)(arr), (size_t)(cap) * sizeof *(arr)); \
            if (!grown)                                                    \
                abort();                                                   \
            (arr) = grown;                                                 \
        }                                                                  \
        (arr)[(n)++] = (x);                                                \
    } while (0)

static bool tile_uses_inside(const Tile *t, const IrExpr *e)
{
    if (e->kind == IR_VARREF && e->var->id < t->nvars && t->inside[e->var->id])
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (tile_uses_inside(t, e->args[i]))
            return true;
    return false;
}

/* ir_stmt_map_exprs callback: clears *ok at a shuffle (every lane must run it). */
static IrExpr *tile_no_shuffle(void *ok, IrExpr *e)
{
    if (ir_expr_has(e, IR_SHUFFLE))
        *(bool *)ok = false;
    return e;
}

static void tile_mark_inside(Tile *t, const IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *st = b->items[i];
        if ((st->kind == IR_LOOP || st->kind == IR_LET) && st->var->id < t->nvars)
            t->inside[st->var->id] = true;
        if (st->kind == IR_COPY && st->copy.guard)
            for (int d = 0; d < st->copy.ndims; d++)
                if (st->copy.index[d]->id < t->nvars)
                    t->inside[st->copy.index[d]->id] = true;
        if (st->kind == IR_BARRIER || (st->kind == IR_COPY && st->copy.spread_tid) ||
            (st->kind == IR_ALLOC && st->buf->mem == IR_MEM_SHARED))
            t->ok = false;
        ir_stmt_map_exprs((IrStmt *)st, tile_no_shuffle, &t->ok);
        tile_mark_inside(t, &st->body);
        tile_mark_inside(t, &st->else_body);
    }
}

/* g >= 0 at its worst corner of the loops in scope, or NULL. */
static IrExpr *tile_worst(Tile *t, IrExpr *g)
{
    IrFunc *f = t->f;
    for (int i = t->nlets - 1; i >= 0; i--)
        if (ir_expr_uses(g, t->lets[i]->var))
            g = ir_substitute(f, g, t->lets[i]->var, t->lets[i]->value);
    for (int i = t->nloops - 1; i >= 0; i--) {
        const IrStmt *l = t->loops[i];
        int64_t k = 0, e = 0;
        if (!ir_coef_of(g, l->var, &k) || !ir_const_int(l->extent, &e))
            return NULL;
        if (k == 0)
            continue;
        IrExpr *at = k > 0 ? ir_expr_copy(f, l->lo)
                           : ir_binary(f, IR_ADD, ir_expr_copy(f, l->lo), ir_index(f, e - 1));
        g = ir_substitute(f, g, l->var, at);
    }
    if (ir_has_load(g) || tile_uses_inside(t, g))
        return NULL;
    return ir_binary(f, IR_GE, g, ir_index(f, 0));
}

/* The worst-corner form of cond, a conjunction of i64 comparisons, or NULL. */
static IrExpr *tile_cond(Tile *t, const IrExpr *cond)
{
    IrFunc *f = t->f;
    if (cond->kind == IR_BINARY && cond->op == IR_AND) {
        IrExpr *a = tile_cond(t, cond->args[0]);
        IrExpr *b = a ? tile_cond(t, cond->args[1]) : NULL;
        return b ? ir_binary(f, IR_AND, a, b) : NULL;
    }
    if (cond->kind != IR_BINARY || cond->args[0]->type != ELEM_I64 || cond->args[1]->type != ELEM_I64)
        return NULL;
    IrExpr *a = ir_expr_copy(f, cond->args[0]), *b = ir_expr_copy(f, cond->args[1]);
    switch (cond->op) {   /* as g >= 0 */
    case IR_LT: return tile_worst(t, ir_binary(f, IR_SUB, ir_binary(f, IR_SUB, b, a), ir_index(f, 1)));
    case IR_LE: return tile_worst(t, ir_binary(f, IR_SUB, b, a));
    case IR_GT: return tile_worst(t, ir_binary(f, IR_SUB, ir_binary(f, IR_SUB, a, b), ir_index(f, 1)));
    case IR_GE: return tile_worst(t, ir_binary(f, IR_SUB, a, b));
    default: return NULL;
    }
}

static void tile_scan(Tile *t, IrBlock *b)
{
    int lets = t->nlets;
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        if (st->kind == IR_LET) {
            TILE_PUSH(t->lets, t->nlets, t->caplets, st);
        } else if (st->kind == IR_LOOP) {
            int64_t e = 0;
            bool rect = ir_const_int(st->extent, &e) && e > 0 && !tile_uses_inside(t, st->lo);
            if (rect)
                TILE_PUSH(t->loops, t->nloops, t->caploops, st);
            tile_scan(t, &st->body);
            if (rect)
                t->nloops--;
        } else if (st->kind == IR_IF) {
            IrExpr *c = ir_has_load(st->cond) ? NULL : tile_cond(t, st->cond);
            if (c) {
                t->cond = t->cond ? ir_binary(t->f, IR_AND, t->cond, c) : c;
                TILE_PUSH(t->guards, t->nguards, t->capguards, ((TileGuard){st, b}));
            }
            tile_scan(t, &st->body);
            tile_scan(t, &st->else_body);
        }
    }
    t->nlets = lets;
}

/* Replaces a guard in its block by its body (its condition holds). */
static void tile_drop_guard(IrFunc *f, TileGuard g)
{
    IrBlock *home = g.home;
    for (int i = 0; i < home->len; i++) {
        if (home->items[i] != g.guard)
            continue;
        memmove(&home->items[i], &home->items[i + 1], sizeof *home->items * (size_t)(home->len - i - 1));
        home->len--;
        for (int k = 0; k < g.guard->body.len; k++)
            ir_block_insert(f, home, i + k, g.guard->body.items[k]);
        return;
    }
}

static bool tile_loop(const IrStmt *st)
{
    return st->kind == IR_LOOP && (st->loop_kind == IR_UNROLLED || st->loop_kind == IR_VECTORIZED);
}

static void tile_unswitch(IrFunc *f, IrBlock *b, int at)
{
    IrStmt *u = b->items[at];
    Tile t = {.f = f, .nvars = f->nvars, .ok = true};
    t.inside = calloc((size_t)t.nvars + 1, 1);
    if (!t.inside)
        abort();
    t.inside[u->var->id] = true;
    tile_mark_inside(&t, &u->body);
    if (t.ok) {
        IrBlock top = {.items = &b->items[at], .len = 1, .cap = 1};
        tile_scan(&t, &top);
    }
    if (t.ok && t.nguards > 0) {
        IrStmt *slow = ir_stmt_clone(f, u);
        for (int i = t.nguards - 1; i >= 0; i--)   /* innermost first */
            tile_drop_guard(f, t.guards[i]);
        IrStmt *sw = ir_if(f, t.cond, u->origin);
        ir_block_push(f, &sw->body, u);
        ir_block_push(f, &sw->else_body, slow);
        b->items[at] = sw;
    }
    free(t.inside);
    free(t.loops);
    free(t.lets);
    free(t.guards);
}

void spmd_full_tiles(IrFunc *f, IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        if (tile_loop(st)) {
            tile_unswitch(f, b, i);
            continue;
        }
        spmd_full_tiles(f, &st->body);
        spmd_full_tiles(f, &st->else_body);
    }
}
