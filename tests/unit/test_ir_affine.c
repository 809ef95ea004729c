/* lower/ir_affine.h: structurally equal IR expressions are one affine term,
 * so forms over separately built copies of an expression cancel. */
#include <criterion/criterion.h>

#include "lower/ir_affine.h"
#include "parser/ast.h"

Test(ir_affine, equal_expressions_share_a_key)
{
    Arena a;
    arena_init(&a);
    Kernel k = {.name.name = "k"};
    IrFunc *f = ir_func_new(&a, &k, TARGET_CPU);
    IrVar *n = ir_var_new(f, "N", ELEM_I64, IR_VAR_SIZE), *m = ir_var_new(f, "M", ELEM_I64, IR_VAR_SIZE);
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
