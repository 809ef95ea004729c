/* hoist: loop-invariant code motion, innermost loops first, so a let can
 * climb several levels.
 *   let x = e    at the top level of a loop's body moves just before the loop
 *                when e uses neither the loop's index nor anything declared in
 *                the body before it, and loads no buffer that the body stores
 *                or copies into (or allocates). A let that loads moves only
 *                when the loop provably runs at least once (a load may be out
 *                of bounds when it would not have run).
 *   guard        a loop whose body is one `if` without else, with an invariant
 *                condition that loads nothing, becomes the `if` around the loop.
 *                Not for bound or parallel loops: those shape the launch.
 * Lets keep their meaning wherever they are computed, so they also leave bound
 * and parallel loops (every thread computes the same value). */
#include "lower/passes.h"
#include "lower/simplify.h"

typedef struct Hoist {
    IrFunc *f;
    IvCtx iv;
    bool changed;
} Hoist;

/* Whether b (at any depth) writes, copies into or allocates buf. */
static bool block_writes(const IrBlock *b, const IrBuffer *buf)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *s = b->items[i];
        if ((s->kind == IR_STORE || s->kind == IR_ALLOC) && s->buf == buf)
            return true;
        if (s->kind == IR_COPY && s->copy.dst == buf)
            return true;
        if ((s->kind == IR_LOOP || s->kind == IR_IF) &&
            (block_writes(&s->body, buf) || block_writes(&s->else_body, buf)))
            return true;
    }
    return false;
}

static bool loads_written(const IrExpr *e, const IrBlock *body)
{
    if (e->kind == IR_LOAD && block_writes(body, e->buf))
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (loads_written(e->args[i], body))
            return true;
    return false;
}

/* e is invariant in loop when it uses neither its index nor a let of its body
 * before position `upto`, and loads nothing the body writes. */
static bool invariant(const IrStmt *loop, int upto, const IrExpr *e)
{
    if (ir_expr_uses(e, loop->var) || loads_written(e, &loop->body))
        return false;
    for (int i = 0; i < upto; i++) {
        const IrStmt *s = loop->body.items[i];
        if (s->kind == IR_LET && ir_expr_uses(e, s->var))
            return false;
    }
    return true;
}

static void hoist_block(Hoist *h, IrBlock *b);

/* Moves invariant lets of loop (at b->items[*at]) before it. */
static void hoist_lets(Hoist *h, IrBlock *b, int *at)
{
    IrStmt *loop = b->items[*at];
    int runs = -1;  /* unknown until a let that loads asks */
    for (int i = 0; i < loop->body.len; i++) {
        IrStmt *s = loop->body.items[i];
        if (s->kind != IR_LET || !invariant(loop, i, s->value))
            continue;
        if (ir_has_load(s->value)) {
            if (runs < 0)
                runs = iv_prove_ge(&h->iv, loop->extent, 1);
            if (!runs)
                continue;
        }
        simp_splice(h->f, &loop->body, i, &(IrBlock){0});
        ir_block_insert(h->f, b, (*at)++, s);
        iv_push_let(&h->iv, s->var, s->value);
        h->changed = true;
        i--;
    }
}

/* for v { if c { B } } -> if c { for v { B } } */
static void hoist_guard(Hoist *h, IrBlock *b, int at)
{
    IrStmt *loop = b->items[at];
    if (loop->loop_kind == IR_BOUND || loop->loop_kind == IR_PARALLEL || loop->body.len != 1)
        return;
    IrStmt *g = loop->body.items[0];
    if (g->kind != IR_IF || g->else_body.len || ir_has_load(g->cond) || !invariant(loop, 0, g->cond))
        return;
    loop->body = g->body;
    g->body = (IrBlock){0};
    ir_block_push(h->f, &g->body, loop);
    b->items[at] = g;
    h->changed = true;
}

static void hoist_block(Hoist *h, IrBlock *b)
{
    int mark = iv_mark(&h->iv);
    for (int i = 0; i < b->len; i++) {
        IrStmt *s = b->items[i];
        int inner = iv_mark(&h->iv);
        switch (s->kind) {
        case IR_LOOP:
            iv_push_loop(&h->iv, s);
            hoist_block(h, &s->body);
            iv_pop(&h->iv, inner);
            hoist_lets(h, b, &i);
            hoist_guard(h, b, i);
            break;
        case IR_IF:
            iv_push_fact(&h->iv, s->cond);
            hoist_block(h, &s->body);
            iv_pop(&h->iv, inner);
            iv_push_false(&h->iv, s->cond);
            hoist_block(h, &s->else_body);
            iv_pop(&h->iv, inner);
            break;
        case IR_LET: iv_push_let(&h->iv, s->var, s->value); break;
        default: break;
        }
    }
    iv_pop(&h->iv, mark);
}

bool pass_hoist(IrFunc *f, PassCtx *ctx)
{
    (void)ctx;
    Hoist h = {.f = f};
    iv_init(&h.iv, f);
    hoist_block(&h, &f->body);
    return h.changed;
}
