/* Bounds of i64 expressions of the loop IR, symbolic in the sizes.
 *
 * A context (IvCtx) holds what is known at one point of the IR: the enclosing
 * loops (v in [lo, lo+extent-1]: inside the body the extent is at least 1),
 * the lets in scope (their values are substituted exactly), facts (the
 * conditions of enclosing ifs, comparisons joined by &&, and the schedule's
 * assumes), divisibility of sizes (`N % 8 == 0`), and sizes >= 0.
 *
 * Reasoning is over affine forms c + sum k*atom. Atoms are variables (sizes,
 * scalars, loop indices) and non-affine subexpressions (fdiv, fmod, min, max,
 * loads, products of variables). A size known to be a multiple of m is
 * counted in units of m (its atom means N/m), so `(N + 7) fdiv 8` is exactly
 * N/8 when 8 divides N. To prove g >= 0, loop indices are replaced by their
 * bounds, innermost first (the lower bound where g's coefficient is positive,
 * the upper where negative), min/max by one or both arms, fmod c by 0 or c-1;
 * what remains must have a non-negative constant and non-negative
 * coefficients on atoms known to be >= 0. Each fact f >= 0 in scope is also
 * tried as g - f >= 0. i64 arithmetic is assumed not to wrap in index
 * expressions (indices, sizes and offsets are far from 2^63).
 *
 * The simplification passes (simplify, hoist, strength-reduce, assume) use
 * it; other passes may. */
#ifndef ACCL_INTERVAL_H
#define ACCL_INTERVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "lower/ir.h"

typedef enum IvTruth { IV_UNKNOWN, IV_TRUE, IV_FALSE } IvTruth;

typedef enum IvScopeKind { IV_SCOPE_LOOP, IV_SCOPE_LET, IV_SCOPE_FACT, IV_SCOPE_MULTIPLE } IvScopeKind;

/* One thing known in scope:
 *   LOOP      var in [lo, lo + extent - 1]
 *   LET       var == value
 *   FACT      rhs - lhs - off >= 0   (lhs < rhs is off 1, lhs <= rhs is off 0)
 *   MULTIPLE  var (a size) is a multiple of m */
typedef struct IvScope {
    IvScopeKind kind;
    const IrVar *var;
    const IrExpr *lo, *extent, *value;
    const IrExpr *lhs, *rhs;
    int64_t off, m;
} IvScope;

typedef struct IvCtx {
    IrFunc *f;
    IvScope *items;
    int len, cap;
} IvCtx;

/* An empty context for f with the facts of its assumes (f->assumes, params
 * replaced by their values; comparisons become facts, `X % c == 0` with X a
 * size makes X a multiple of c). */
void iv_init(IvCtx *c, IrFunc *f);
void iv_push_loop(IvCtx *c, const IrStmt *loop);
void iv_push_let(IvCtx *c, const IrVar *v, const IrExpr *value);
/* cond is known true: its i64 comparisons (through &&, and ! of one
 * comparison) become facts; anything else is ignored. */
void iv_push_fact(IvCtx *c, const IrExpr *cond);
/* cond is known false. */
void iv_push_false(IvCtx *c, const IrExpr *cond);
static inline int iv_mark(const IvCtx *c) { return c->len; }
static inline void iv_pop(IvCtx *c, int mark) { c->len = mark; }

/* Whether cond (bool) is provably true or false here. */
IvTruth iv_prove(const IvCtx *c, const IrExpr *cond);
/* Whether the i64 expression e is provably >= k (<= k) here. */
bool iv_prove_ge(const IvCtx *c, const IrExpr *e, int64_t k);
bool iv_prove_le(const IvCtx *c, const IrExpr *e, int64_t k);
/* The largest m such that the size v is known to be a multiple of m (1 if none). */
int64_t iv_multiple(const IvCtx *c, const IrVar *v);

/* e (i64) rewritten as c + sum k*atom, with fdiv and fmod by constants
 * reduced where the parts divisible by the divisor or the bounds allow:
 *   (a*c + b) fdiv c = a + (b fdiv c),  b fdiv c = 0 when 0 <= b < c
 *   (a*c + b) fmod c = b fmod c,        b fmod c = b when 0 <= b < c
 *   (a fdiv b) fdiv c = a fdiv (b*c),   (a fdiv c)*c + (a fmod c) = a
 *   N fdiv c, N fmod c with N a known multiple of c
 * Lets are not substituted. Returns NULL when e is not i64, when the result
 * equals e, or when `only_if_smaller` and the result has no fewer nodes and
 * no rule fired. */
IrExpr *iv_rewrite(const IvCtx *c, const IrExpr *e, bool only_if_smaller);
/* Number of nodes of e. */
int iv_expr_nodes(const IrExpr *e);

#endif
