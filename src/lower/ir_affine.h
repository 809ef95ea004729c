/* The IR side of util/affine.h: terms that are IR expressions, the one walk
 * from an IR expression to a form (ir_affine_add) and back (ir_affine_expr).
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

/* ---- IR expressions as affine forms ----
 *
 * ir_affine_add is the one walk from an i64 IR expression to a form: it takes
 * apart integer literals, -x, x + y, x - y and x * y with one side constant;
 * what a term is (a variable, an opaque expression, a let's value) is the
 * user's, through two callbacks. */

typedef enum IrAffStep {
    IR_AFF_OPEN,       /* take the node apart (or hand it to `whole`) */
    IR_AFF_DONE,       /* the callback added scale*e to a (or nothing) */
    IR_AFF_REFUSED,    /* e is not affine for the user */
} IrAffStep;

typedef struct IrAffineOps {
    void *cx;
    /* Called first on every node. NULL: every node is OPEN. */
    IrAffStep (*visit)(void *cx, const IrExpr *e, int64_t scale, Affine *a);
    /* For a node the walk does not take apart (not arithmetic, a product of
     * two non-constant forms, a part refused in `apart` mode, a negation of
     * INT64_MIN * e): adds scale*e to a, or returns false. */
    bool (*whole)(void *cx, const IrExpr *e, int64_t scale, Affine *a);
    /* Build each operand's form apart, then combine them (with the term order
     * that gives: removing a cancelled term moves the last one into its place,
     * so the order differs from adding every part into one form). A part
     * whose form is not ok makes a not ok; a part refused sends the node to
     * `whole`. Otherwise parts are added into a as they are met, a part
     * refused refuses the node, and a product with a part not ok goes to
     * `whole`. */
    bool apart;
    /* Adding into one form: x * k only where k is an integer literal
     * (ir_const_int); otherwise either side's form may be the constant. The
     * right side is tried first. */
    bool literal_factors;
} IrAffineOps;

/* An i64 expression computing a: its terms in order (atoms copied), then the
 * constant; a negative coefficient after the first term is subtracted. A
 * negative first term is -(x * |k|) when `neg_lead`, else x * k. INT64_MIN,
 * which has no |k|, is always added. */
IrExpr *ir_affine_expr(IrFunc *f, const Affine *a, bool neg_lead);

/* A `whole` for users whose only terms are variables: anything else is refused. */
bool ir_affine_refuse(void *cx, const IrExpr *e, int64_t scale, Affine *a);

/* Adds scale*e to a; false when e is not affine for ops. An overflow or too
 * many terms clears a->ok (see util/affine.h). */
bool ir_affine_add(const IrAffineOps *ops, const IrExpr *e, int64_t scale, Affine *a);

#endif
