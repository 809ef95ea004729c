/* version: loop versioning, one pass for the CPU and the GPUs (Halide's loop
 * partitioning; lang/SPEC.md, GPU execution form, Full tiles, and Command
 * line, the CPU step `version`). A loop U that the rule selects becomes
 *
 *   if (C) { U without guards G1, G2, ... } else { U }
 *
 * where each Gi is an `if` inside U whose condition is a conjunction of i64
 * comparisons a < b (<=, >, >=) that load nothing and, with the lets declared
 * inside U substituted, are affine in the loops of U in scope with constant
 * coefficients and use nothing else declared inside U; C is the conjunction
 * of each comparison at its worst corner (every loop of U at the end of its
 * range that makes b - a smallest). When C holds, each Gi holds at every
 * iteration, so its body runs unguarded; only the edges (tails of tiles,
 * edge tiles) take the guarded copy.
 *
 * The rules (VersionRule, passes.h):
 *   VERSION_FULL_TILES  the GPU step full-tiles, in each launch once the
 *       thread loops became lets: U is an unrolled or vectorized loop, the
 *       outermost of its kind, with no barrier, spread copy, shared alloc or
 *       shuffle inside (every thread of a block must reach those, and C uses
 *       the thread's own indices: threads may take different copies); the
 *       loops of U in scope have constant extents and bounds free of what U
 *       declares.
 *   VERSION_INNERMOST   the CPU step version, after the pass list: U is a
 *       serial loop with no serial or parallel loop inside, outside
 *       vectorized loops (vector code would run both copies under masks);
 *       the loops of U in scope have extents free of what U declares, so C
 *       is symbolic in the sizes and the enclosing loops and is tested once
 *       per entry into U. The code generator emits both copies as they are.
 *
 * The worst corner is taken innermost first: a loop's lets and the loops
 * inside it are replaced before it (a lower bound that depends on an
 * enclosing loop of U is then affine in that loop). The bounds are computed
 * in i64 like the indices themselves: no index overflows i64. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lower/passes.h"

typedef struct Guard {
    IrStmt *guard;
    IrBlock *home;            /* the block holding it */
} Guard;

typedef struct Version {
    IrFunc *f;
    VersionRule rule;
    bool *inside;             /* by var id: declared inside U */
    int nvars;
    const IrStmt **scope;     /* loops (with usable bounds) and lets of U in scope, in order */
    int nscope, capscope;
    Guard *guards;            /* guards to drop, outermost first */
    int nguards, capguards;
    IrExpr *cond;             /* the conjunction C, NULL while empty */
    bool ok;
} Version;

#define VERSION_PUSH(arr, n, cap, x)                                       \
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

static bool uses_inside(const Version *v, const IrExpr *e)
{
    return ir_expr_uses_marked(e, v->inside, v->nvars);
}

/* ir_stmt_map_exprs callback: clears *ok at a shuffle (every lane must run it). */
static IrExpr *no_shuffle(void *ok, IrExpr *e)
{
    if (ir_expr_has(e, IR_SHUFFLE))
        *(bool *)ok = false;
    return e;
}

/* Whether st is something every thread of a block must reach. */
static bool collective(const IrStmt *st)
{
    return st->kind == IR_BARRIER || (st->kind == IR_COPY && st->copy.spread_tid) ||
           (st->kind == IR_ALLOC && st->buf->mem == IR_MEM_SHARED);
}

static void mark_inside(Version *v, const IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *st = b->items[i];
        if ((st->kind == IR_LOOP || st->kind == IR_LET) && st->var->id < v->nvars)
            v->inside[st->var->id] = true;
        if (st->kind == IR_COPY && st->copy.guard)
            for (int d = 0; d < st->copy.ndims; d++)
                if (st->copy.index[d]->id < v->nvars)
                    v->inside[st->copy.index[d]->id] = true;
        if (v->rule == VERSION_FULL_TILES) {
            if (collective(st))
                v->ok = false;
            ir_stmt_map_exprs((IrStmt *)st, no_shuffle, &v->ok);
        }
        mark_inside(v, &st->body);
        mark_inside(v, &st->else_body);
    }
}

/* Whether a loop of U takes part in worst corners (else its index counts as
 * declared inside U, and guards that use it stay). */
static bool usable_loop(const Version *v, const IrStmt *l)
{
    if (v->rule == VERSION_INNERMOST)
        return !uses_inside(v, l->extent);
    int64_t e = 0;
    return ir_const_int(l->extent, &e) && e > 0 && !uses_inside(v, l->lo);
}

/* lo + extent - 1: the last index of l. */
static IrExpr *last_index(IrFunc *f, const IrStmt *l)
{
    int64_t e = 0;
    IrExpr *minus1 = ir_const_int(l->extent, &e)
                         ? ir_index(f, e - 1)
                         : ir_binary(f, IR_SUB, ir_expr_copy(f, l->extent), ir_index(f, 1));
    return ir_binary(f, IR_ADD, ir_expr_copy(f, l->lo), minus1);
}

/* g >= 0 at its worst corner of the loops in scope, or NULL. */
static IrExpr *worst(Version *v, IrExpr *g)
{
    IrFunc *f = v->f;
    for (int i = v->nscope - 1; i >= 0; i--) {
        const IrStmt *s = v->scope[i];
        if (s->kind == IR_LET) {
            if (ir_expr_uses(g, s->var))
                g = ir_substitute(f, g, s->var, s->value);
            continue;
        }
        int64_t k = 0;
        if (!ir_coef_of(g, s->var, &k))
            return NULL;
        if (k != 0)
            g = ir_substitute(f, g, s->var, k > 0 ? ir_expr_copy(f, s->lo) : last_index(f, s));
    }
    if (ir_has_load(g) || uses_inside(v, g))
        return NULL;
    return ir_binary(f, IR_GE, g, ir_index(f, 0));
}

/* The worst-corner form of cond, a conjunction of i64 comparisons, or NULL. */
static IrExpr *worst_cond(Version *v, const IrExpr *cond)
{
    IrFunc *f = v->f;
    if (cond->kind == IR_BINARY && cond->op == IR_AND) {
        IrExpr *a = worst_cond(v, cond->args[0]);
        IrExpr *b = a ? worst_cond(v, cond->args[1]) : NULL;
        return b ? ir_binary(f, IR_AND, a, b) : NULL;
    }
    if (cond->kind != IR_BINARY || cond->args[0]->type != ELEM_I64 || cond->args[1]->type != ELEM_I64)
        return NULL;
    IrExpr *a = ir_expr_copy(f, cond->args[0]), *b = ir_expr_copy(f, cond->args[1]);
    switch (cond->op) {   /* as g >= 0 */
    case IR_LT: return worst(v, ir_binary(f, IR_SUB, ir_binary(f, IR_SUB, b, a), ir_index(f, 1)));
    case IR_LE: return worst(v, ir_binary(f, IR_SUB, b, a));
    case IR_GT: return worst(v, ir_binary(f, IR_SUB, ir_binary(f, IR_SUB, a, b), ir_index(f, 1)));
    case IR_GE: return worst(v, ir_binary(f, IR_SUB, a, b));
    default: return NULL;
    }
}

/* Collects the guards of b whose worst corner is known, and C. */
static void scan(Version *v, IrBlock *b)
{
    int scope = v->nscope;
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        if (st->kind == IR_LET) {
            VERSION_PUSH(v->scope, v->nscope, v->capscope, st);
        } else if (st->kind == IR_LOOP) {
            int mark = v->nscope;
            if (usable_loop(v, st))
                VERSION_PUSH(v->scope, v->nscope, v->capscope, st);
            scan(v, &st->body);
            v->nscope = mark;
        } else if (st->kind == IR_IF) {
            IrExpr *c = ir_has_load(st->cond) ? NULL : worst_cond(v, st->cond);
            if (c) {
                v->cond = v->cond ? ir_binary(v->f, IR_AND, v->cond, c) : c;
                VERSION_PUSH(v->guards, v->nguards, v->capguards, ((Guard){st, b}));
            }
            scan(v, &st->body);
            scan(v, &st->else_body);
        }
    }
    v->nscope = scope;
}

/* Replaces a guard in its block by its body (its condition holds). */
static void drop_guard(IrFunc *f, Guard g)
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

/* Versions the loop b->items[at]; whether it had guards to drop. */
static bool version_loop(IrFunc *f, IrBlock *b, int at, VersionRule rule)
{
    IrStmt *u = b->items[at];
    Version v = {.f = f, .rule = rule, .nvars = f->nvars, .ok = true};
    v.inside = calloc((size_t)v.nvars + 1, 1);
    if (!v.inside)
        abort();
    v.inside[u->var->id] = true;
    mark_inside(&v, &u->body);
    if (v.ok) {
        IrBlock top = {.items = &b->items[at], .len = 1, .cap = 1};
        scan(&v, &top);
    }
    bool changed = v.ok && v.nguards > 0;
    if (changed) {
        IrStmt *slow = ir_stmt_clone(f, u);
        for (int i = v.nguards - 1; i >= 0; i--)   /* innermost first */
            drop_guard(f, v.guards[i]);
        IrStmt *sw = ir_if(f, v.cond, u->origin);
        ir_block_push(f, &sw->body, u);
        ir_block_push(f, &sw->else_body, slow);
        b->items[at] = sw;
    }
    free(v.inside);
    free(v.scope);
    free(v.guards);
    return changed;
}

/* Whether b holds a serial or parallel loop (at any depth). */
static bool has_serial_loop(const IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *s = b->items[i];
        if (s->kind == IR_LOOP && (s->loop_kind == IR_SERIAL || s->loop_kind == IR_PARALLEL))
            return true;
        if (has_serial_loop(&s->body) || has_serial_loop(&s->else_body))
            return true;
    }
    return false;
}

/* Whether the rule versions st (and does not look inside it for more). */
static bool selects(VersionRule rule, const IrStmt *st)
{
    if (st->kind != IR_LOOP)
        return false;
    if (rule == VERSION_FULL_TILES)
        return st->loop_kind == IR_UNROLLED || st->loop_kind == IR_VECTORIZED;
    return st->loop_kind == IR_SERIAL && !has_serial_loop(&st->body);
}

/* Whether loops to version are looked for inside st: not inside a vectorized
 * loop on the CPU, where vector code would run both copies under masks. */
static bool searched(VersionRule rule, const IrStmt *st)
{
    return !(rule == VERSION_INNERMOST && st->kind == IR_LOOP && st->loop_kind == IR_VECTORIZED);
}

bool version_loops(IrFunc *f, IrBlock *b, VersionRule rule)
{
    bool changed = false;
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        if (selects(rule, st)) {
            changed |= version_loop(f, b, i, rule);
            continue;
        }
        if (searched(rule, st)) {
            changed |= version_loops(f, &st->body, rule);
            changed |= version_loops(f, &st->else_body, rule);
        }
    }
    return changed;
}

bool pass_version(IrFunc *f, PassCtx *ctx)
{
    (void)ctx;
    return version_loops(f, &f->body, VERSION_INNERMOST);
}
