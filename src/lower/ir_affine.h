/* The IR side of util/affine.h: terms that are IR expressions.
 *
 * Affine forms compare terms by key identity; an IR expression that stands
 * for one term (a loop variable's reference, or an opaque fixed expression
 * such as fdiv(bi, 3)) may occur as several equal nodes. An IrAtoms table
 * gives structurally equal expressions (ir_expr_equal) one key: the first such
 * expression it was asked about, so a form's term is that expression. */
#ifndef ACCL_IR_AFFINE_H
#define ACCL_IR_AFFINE_H

#include "lower/ir.h"
#include "util/affine.h"

typedef struct IrAtoms {
    Arena *arena;
    const IrExpr **atom;
    int n, cap;
} IrAtoms;

void ir_atoms_init(IrAtoms *t, Arena *a);
/* The key of e's term: equal expressions get the same key. */
intptr_t ir_atom_key(IrAtoms *t, const IrExpr *e);

/* The expression a key from ir_atom_key stands for. */
static inline const IrExpr *ir_atom(intptr_t key) { return (const IrExpr *)key; }

#endif
