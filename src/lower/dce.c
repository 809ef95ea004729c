/* dce: dead code removal, repeated until nothing changes.
 *   let x = e           removed when x is never referenced (values have no side effects)
 *   store B[...] = e    removed when B is not a parameter and nothing loads or
 *   copy B <- ...       copies from B anywhere in the function
 *   alloc B             removed when B is no longer used at all
 *   loop, if            removed when their bodies (both, for an if) are empty
 * Parameters are the caller's memory: stores into them always stay. */
#include <stdlib.h>

#include "lower/passes.h"
#include "lower/simplify.h"

typedef struct Dce {
    IrFunc *f;
    bool *var_used;     /* by IrVar.id */
    bool *buf_read;     /* loaded or copied from, by IrBuffer.id */
    bool *buf_used;     /* any access or copy */
} Dce;

static void mark_expr(Dce *d, const IrExpr *e)
{
    if (e->kind == IR_VARREF)
        d->var_used[e->var->id] = true;
    if (e->kind == IR_LOAD)
        d->buf_read[e->buf->id] = d->buf_used[e->buf->id] = true;
    for (int i = 0; i < e->nargs; i++)
        mark_expr(d, e->args[i]);
}

static IrExpr *mark_one(void *arg, IrExpr *e)
{
    mark_expr(arg, e);
    return e;
}

static void mark_buffers(Dce *d, const IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *s = b->items[i];
        if (s->kind == IR_STORE)
            d->buf_used[s->buf->id] = true;
        if (s->kind == IR_COPY) {
            d->buf_read[s->copy.src->id] = d->buf_used[s->copy.src->id] = true;
            d->buf_used[s->copy.dst->id] = true;
        }
        if (s->kind == IR_LOOP || s->kind == IR_IF) {
            mark_buffers(d, &s->body);
            mark_buffers(d, &s->else_body);
        }
    }
}

static bool dead(const Dce *d, const IrStmt *s)
{
    switch (s->kind) {
    case IR_LET: return !d->var_used[s->var->id];
    case IR_STORE: return s->buf->mem != IR_MEM_PARAM && !d->buf_read[s->buf->id];
    case IR_COPY: return s->copy.dst->mem != IR_MEM_PARAM && !d->buf_read[s->copy.dst->id];
    case IR_ALLOC: return !d->buf_used[s->buf->id];
    case IR_LOOP: return s->body.len == 0;
    case IR_IF: return s->body.len == 0 && s->else_body.len == 0;
    case IR_BARRIER: return false;
    }
    return false;
}

static bool sweep(Dce *d, IrBlock *b)
{
    bool changed = false;
    int n = 0;
    for (int i = 0; i < b->len; i++) {
        IrStmt *s = b->items[i];
        if (s->kind == IR_LOOP || s->kind == IR_IF) {
            changed |= sweep(d, &s->body);
            changed |= sweep(d, &s->else_body);
        }
        if (dead(d, s))
            changed = true;
        else
            b->items[n++] = s;
    }
    b->len = n;
    return changed;
}

bool pass_dce(IrFunc *f, PassCtx *ctx)
{
    (void)ctx;
    Dce d = {.f = f};
    size_t nv = (size_t)f->nvars + 1, nb = (size_t)f->nbuffers + 1;
    d.var_used = malloc(nv);
    d.buf_read = malloc(nb);
    d.buf_used = malloc(nb);
    bool changed = false, again = d.var_used && d.buf_read && d.buf_used;
    while (again) {
        for (size_t i = 0; i < nv; i++)
            d.var_used[i] = false;
        for (size_t i = 0; i < nb; i++)
            d.buf_read[i] = d.buf_used[i] = false;
        ir_block_map_exprs(&f->body, mark_one, &d);
        mark_buffers(&d, &f->body);
        again = sweep(&d, &f->body);
        changed |= again;
    }
    free(d.var_used);
    free(d.buf_read);
    free(d.buf_used);
    return changed;
}
