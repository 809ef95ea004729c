/* lower/ir_affine.h: structurally equal IR expressions are one affine term,
 * so forms over separately built copies of an expression cancel. */
#include <criterion/criterion.h>

#include "lower/ir_affine.h"
#include "parser/ast.h"

static IrVar *size(IrFunc *f, const char *name) { return ir_var_new(f, name, ELEM_I64, IR_VAR_SIZE); }

Test(ir_affine, equal_expressions_share_a_key)
{
    Arena a;
    arena_init(&a);
    Kernel k = {.name.name = "k"};
    IrFunc *f = ir_func_new(&a, &k, TARGET_CPU);
    IrVar *n = size(f, "N"), *m = size(f, "M");
    IrAtoms t;
    ir_atoms_init(&t, &a);
    IrExpr *d1 = ir_binary(f, IR_FLOORDIV, ir_ref(f, n), ir_index(f, 3));
    IrExpr *d2 = ir_binary(f, IR_FLOORDIV, ir_ref(f, n), ir_index(f, 3));
    IrExpr *d3 = ir_binary(f, IR_FLOORDIV, ir_ref(f, m), ir_index(f, 3));
    intptr_t k1 = ir_atom_key(&t, d1);
    cr_assert_eq(ir_atom(k1), d1, "the first expression asked about is the term");
    cr_assert_eq(ir_atom_key(&t, d2), k1);
    cr_assert_neq(ir_atom_key(&t, d3), k1);
    cr_assert_eq(ir_atom_key(&t, ir_ref(f, n)), ir_atom_key(&t, ir_ref(f, n)));
    for (int i = 0; i < 40; i++)   /* the table grows */
        ir_atom_key(&t, ir_index(f, i));
    cr_assert_eq(ir_atom_key(&t, d2), k1);
    Affine x = aff_term(k1);
    aff_add_term(&x, ir_atom_key(&t, d2), -1);
    cr_assert(aff_is_const(&x) && x.c == 0);
    arena_free(&a);
}

/* Terms are variables' references keyed by their IrVar; anything else is refused. */
static bool var_whole(void *cx, const IrExpr *e, int64_t scale, Affine *a)
{
    (void)cx;
    if (e->kind != IR_VARREF)
        return false;
    aff_add_term(a, AFF_KEY(e->var), scale);
    return true;
}

Test(ir_affine, one_walk_for_every_form)
{
    Arena ar;
    arena_init(&ar);
    Kernel k = {.name.name = "k"};
    IrFunc *f = ir_func_new(&ar, &k, TARGET_CPU);
    IrVar *p = size(f, "p"), *q = size(f, "q"), *r = size(f, "r");
    /* -p - ((q + r) - (p - p)) + 3: the same form either way, with its terms
     * in the order its building leaves them (a cancelled term's place is
     * closed up; it comes back last) */
    IrExpr *pp = ir_binary(f, IR_SUB, ir_ref(f, p), ir_ref(f, p));
    IrExpr *qr = ir_binary(f, IR_SUB, ir_binary(f, IR_ADD, ir_ref(f, q), ir_ref(f, r)), pp);
    IrExpr *e = ir_binary(f, IR_ADD, ir_binary(f, IR_SUB, ir_unary(f, IR_NEG, ir_ref(f, p)), qr),
                          ir_index(f, 3));
    IrAffineOps into = {.whole = var_whole}, apart = {.whole = var_whole, .apart = true};
    Affine a = aff_const(0), b = aff_const(0);
    cr_assert(ir_affine_add(&into, e, 1, &a) && ir_affine_add(&apart, e, 1, &b));
    cr_assert(aff_equal(&a, &b));
    cr_assert(a.c == 3 && a.n == 3);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(a.t[i].k, -1);
    cr_assert(a.t[0].key == AFF_KEY(q) && a.t[1].key == AFF_KEY(r) && a.t[2].key == AFF_KEY(p));
    cr_assert(b.t[0].key == AFF_KEY(p) && b.t[2].key == AFF_KEY(r));
    /* scale 5 into a form that holds 7 */
    Affine c = aff_const(7);
    cr_assert(ir_affine_add(&into, ir_unary(f, IR_NEG, ir_ref(f, p)), 5, &c));
    cr_assert(c.c == 7 && aff_coeff(&c, AFF_KEY(p)) == -5);
    /* p * q is refused (no constant side); p * (2 + 1) needs a literal factor */
    IrExpr *pq = ir_binary(f, IR_MUL, ir_ref(f, p), ir_ref(f, q));
    IrExpr *p3 = ir_binary(f, IR_MUL, ir_ref(f, p), ir_binary(f, IR_ADD, ir_index(f, 2), ir_index(f, 1)));
    Affine d = aff_const(0);
    cr_assert(!ir_affine_add(&into, pq, 1, &d));
    d = aff_const(0);
    cr_assert(ir_affine_add(&into, p3, 1, &d) && aff_coeff(&d, AFF_KEY(p)) == 3);
    IrAffineOps literal = {.whole = var_whole, .literal_factors = true};
    d = aff_const(0);
    cr_assert(!ir_affine_add(&literal, p3, 1, &d));
    /* overflow clears ok */
    d = aff_const(0);
    IrExpr *big = ir_binary(f, IR_MUL, ir_ref(f, p), ir_index(f, INT64_MAX));
    cr_assert(ir_affine_add(&apart, ir_binary(f, IR_ADD, big, big), 1, &d) && !d.ok);
    arena_free(&ar);
}
