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
