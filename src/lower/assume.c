/* assume: the schedule's `assume` clauses (f->schedule->assumes, params
 * replaced by their values) are facts for the interval analysis (iv_init
 * builds them; every pass that proves things starts from them). This pass
 * removes the guards they make true: an `if` whose condition is provably true
 * becomes its body, one provably false its else branch. Nothing else is
 * rewritten here; the simplifier folds what remains.
 *
 * The assumptions are checked when the function is called, before any work
 * (the interpreter does it before running; code generation emits the check):
 * the IR may rely on them everywhere. */
#include "lower/passes.h"
#include "lower/simplify.h"

typedef struct Assume {
    IrFunc *f;
    IvCtx iv;
    bool changed;
} Assume;

static void assume_block(Assume *a, IrBlock *b);

/* Returns whether b->items[i] was replaced by the branch it takes. */
static bool assume_stmt(Assume *a, IrBlock *b, int i)
{
    IrStmt *s = b->items[i];
    int mark = iv_mark(&a->iv);
    switch (s->kind) {
    case IR_LOOP:
        iv_push_loop(&a->iv, s);
        assume_block(a, &s->body);
        break;
    case IR_IF: {
        IvTruth t = iv_prove(&a->iv, s->cond);
        if (t != IV_UNKNOWN) {
            simp_splice(a->f, b, i, t == IV_TRUE ? &s->body : &s->else_body);
            return a->changed = true;
        }
        iv_push_fact(&a->iv, s->cond);
        assume_block(a, &s->body);
        iv_pop(&a->iv, mark);
        iv_push_false(&a->iv, s->cond);
        assume_block(a, &s->else_body);
        break;
    }
    default: break;
    }
    iv_pop(&a->iv, mark);
    if (s->kind == IR_LET)
        iv_push_let(&a->iv, s->var, s->value);
    return false;
}

static void assume_block(Assume *a, IrBlock *b)
{
    int mark = iv_mark(&a->iv);
    for (int i = 0; i < b->len;)
        if (!assume_stmt(a, b, i))
            i++;
    iv_pop(&a->iv, mark);
}

bool pass_assume(IrFunc *f, PassCtx *ctx)
{
    (void)ctx;
    Assume a = {.f = f};
    iv_init(&a.iv, f);
    if (a.iv.len == 0)
        return false;
    assume_block(&a, &f->body);
    return a.changed;
}
