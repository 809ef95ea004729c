/* Keys for IR expressions as affine terms (see ir_affine.h). */
#include "lower/ir_affine.h"

#include <string.h>

void ir_atoms_init(IrAtoms *t, Arena *a)
{
    memset(t, 0, sizeof *t);
    t->arena = a;
}

intptr_t ir_atom_key(IrAtoms *t, const IrExpr *e)
{
    for (int i = 0; i < t->n; i++)
        if (t->atom[i] == e || ir_expr_equal(t->atom[i], e))
            return AFF_KEY(t->atom[i]);
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 16;
        const IrExpr **n = ARENA_ARRAY(t->arena, const IrExpr *, cap);
        if (t->n)
            memcpy(n, t->atom, sizeof *n * (size_t)t->n);
        t->atom = n;
        t->cap = cap;
    }
    t->atom[t->n++] = e;
    return AFF_KEY(e);
}

IrExpr *ir_affine_expr(IrFunc *f, const Affine *a, bool neg_lead)
{
    IrExpr *acc = NULL;
    for (int i = 0; i < a->n; i++) {
        int64_t k = a->t[i].k;
        IrExpr *atom = ir_expr_copy(f, ir_atom(a->t[i].key));
        bool neg = k < 0 && k != INT64_MIN && (acc || neg_lead);
        int64_t m = neg ? -k : k;
        IrExpr *term = m == 1 ? atom : ir_binary(f, IR_MUL, atom, ir_index(f, m));
        if (!acc)
            acc = neg ? ir_unary(f, IR_NEG, term) : term;
        else
            acc = ir_binary(f, neg ? IR_SUB : IR_ADD, acc, term);
    }
    if (!acc)
        return ir_index(f, a->c);
    if (a->c < 0 && a->c != INT64_MIN)
        return ir_binary(f, IR_SUB, acc, ir_index(f, -a->c));
    return a->c ? ir_binary(f, IR_ADD, acc, ir_index(f, a->c)) : acc;
}

/* ---- IR expressions as affine forms ---- */

static bool is_arith(const IrExpr *e)
{
    if (e->kind == IR_UNARY)
        return e->op == IR_NEG;
    return e->kind == IR_BINARY && (e->op == IR_ADD || e->op == IR_SUB || e->op == IR_MUL);
}

static bool add_whole(const IrAffineOps *ops, const IrExpr *e, int64_t scale, Affine *a)
{
    return ops->whole(ops->cx, e, scale, a);
}

/* e's own form, built from nothing; false when refused. */
static bool form_of(const IrAffineOps *ops, const IrExpr *e, Affine *r)
{
    *r = aff_const(0);
    return ir_affine_add(ops, e, 1, r);
}

/* -x, x + y, x - y or x * y: each operand's form built apart, then combined. */
static bool add_apart(const IrAffineOps *ops, const IrExpr *e, int64_t scale, Affine *a)
{
    Affine x, y = aff_const(0), r;
    bool unary = e->kind == IR_UNARY;
    bool parts = form_of(ops, e->args[0], &x) && (unary || form_of(ops, e->args[1], &y));
    /* A refused part leaves its form untouched (ok): an overflow is never lost. */
    if (!x.ok || !y.ok) {
        a->ok = false;
        return true;
    }
    if (!parts)
        return add_whole(ops, e, scale, a);
    if (unary) {
        r = aff_scale(&x, -1);
    } else if (e->op != IR_MUL) {
        r = x;
        aff_add_scaled(&r, &y, e->op == IR_ADD ? 1 : -1);
    } else if (aff_is_const(&y)) {
        r = aff_scale(&x, y.c);
    } else if (aff_is_const(&x)) {
        r = aff_scale(&y, x.c);
    } else {
        return add_whole(ops, e, scale, a);
    }
    aff_add_scaled(a, &r, scale);
    return true;
}

/* x * y, adding into a: one side a constant factor k, the other added with scale * k. */
static bool add_product(const IrAffineOps *ops, const IrExpr *e, int64_t scale, Affine *a)
{
    int64_t k, v;
    if (ops->literal_factors) {
        const IrExpr *var = ir_const_int(e->args[1], &k) ? e->args[0]
                            : ir_const_int(e->args[0], &k) ? e->args[1] : NULL;
        if (!var || __builtin_mul_overflow(k, scale, &v))
            return add_whole(ops, e, scale, a);
        return ir_affine_add(ops, var, v, a);
    }
    Affine x, y;
    if (!form_of(ops, e->args[0], &x) || !form_of(ops, e->args[1], &y))
        return false;
    if (x.ok && y.ok && (y.n == 0 || x.n == 0)) {
        const Affine *var = y.n == 0 ? &x : &y;
        k = y.n == 0 ? y.c : x.c;
        if (!__builtin_mul_overflow(k, scale, &v)) {
            aff_add_scaled(a, var, v);
            return true;
        }
    }
    return add_whole(ops, e, scale, a);
}

/* -x, x + y, x - y or x * y, adding each part into a. -scale must not
 * overflow: such a node is whole. */
static bool add_into(const IrAffineOps *ops, const IrExpr *e, int64_t scale, Affine *a)
{
    if (e->op == IR_MUL)
        return add_product(ops, e, scale, a);
    if (e->op != IR_ADD && scale == INT64_MIN)
        return add_whole(ops, e, scale, a);
    if (e->op == IR_NEG)
        return ir_affine_add(ops, e->args[0], -scale, a);
    return ir_affine_add(ops, e->args[0], scale, a) &&
           ir_affine_add(ops, e->args[1], e->op == IR_ADD ? scale : -scale, a);
}

bool ir_affine_add(const IrAffineOps *ops, const IrExpr *e, int64_t scale, Affine *a)
{
    IrAffStep step = ops->visit ? ops->visit(ops->cx, e, scale, a) : IR_AFF_OPEN;
    if (step != IR_AFF_OPEN)
        return step == IR_AFF_DONE;
    if (e->kind == IR_INT) {
        int64_t v;
        if (__builtin_mul_overflow(e->ival, scale, &v))
            a->ok = false;
        else
            aff_add_const(a, v);
        return true;
    }
    if (!is_arith(e))
        return add_whole(ops, e, scale, a);
    return ops->apart ? add_apart(ops, e, scale, a) : add_into(ops, e, scale, a);
}

bool ir_affine_refuse(void *cx, const IrExpr *e, int64_t scale, Affine *a)
{
    (void)cx, (void)e, (void)scale, (void)a;
    return false;
}

/* ir_coef_of's terms: a part free of v adds nothing; v is the one term. */
static IrAffStep coef_visit(void *cx, const IrExpr *e, int64_t scale, Affine *a)
{
    const IrVar *v = cx;
    if (!ir_expr_uses(e, v))
        return IR_AFF_DONE;
    if (e->kind != IR_VARREF)
        return IR_AFF_OPEN;
    aff_add_term(a, AFF_KEY(v), scale);
    return IR_AFF_DONE;
}

bool ir_coef_of(const IrExpr *e, const IrVar *v, int64_t *k)
{
    IrAffineOps ops = {.cx = (void *)v, .visit = coef_visit, .whole = ir_affine_refuse,
                       .literal_factors = true};
    Affine a = aff_const(0);
    if (!ir_affine_add(&ops, e, 1, &a) || !a.ok)
        return false;
    *k = aff_coeff(&a, AFF_KEY(v));
    return true;
}
