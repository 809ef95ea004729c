/* The simplifier's expression rewriting and the block helpers that the
 * simplification passes (simplify, assume, hoist, strength-reduce, dce,
 * flatten) share. */
#ifndef ACCL_SIMPLIFY_H
#define ACCL_SIMPLIFY_H

#include "lower/interval.h"

/* e simplified bottom-up (constant folding, identities, proven comparisons and
 * index arithmetic under c, which must not be NULL).
 * Returns e itself when nothing applies; never changes a float result. */
IrExpr *simplify_expr(const IvCtx *c, IrExpr *e);
/* Constant folding of one node whose operands are already simplified; NULL
 * when it does not fold. Follows src/util/numbers.h exactly. */
IrExpr *simplify_fold(IrFunc *f, const IrExpr *e);

/* Replaces the statement at b->items[at] with the statements of src. */
void simp_splice(IrFunc *f, IrBlock *b, int at, const IrBlock *src);
/* Replaces every reference to v in b with a copy of to. */
void simp_subst_block(IrFunc *f, IrBlock *b, const IrVar *v, const IrExpr *to);

#endif
