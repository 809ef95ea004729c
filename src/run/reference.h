/* The reference evaluator: runs a checked kernel straight from its AST (never
 * the loop IR), nest by nest and loops in written order, in f64 (integers in
 * i64, wrapped to their type's width), with the storage rules of the Numbers
 * section. Every value carries a first-order error bound, so that an executor's
 * result can be checked element by element (lang/SPEC.md, Checking results). */
#ifndef ACCL_REFERENCE_H
#define ACCL_REFERENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "run/runargs.h"
#include "util/arena.h"

/* One value. An executor that rounds like the kernel's types stays within
 * n * u * a of f, to first order (f64 values: of the exact result). */
typedef struct RefVal {
    double f;       /* floats */
    int64_t i;      /* integers and bool (0 or 1) */
    double a;       /* A: the magnitude the rounding errors scale with (>= |f|) */
    double u;       /* the largest unit roundoff along the computation */
    int64_t n;      /* roundings along the longest chain; 0: exact, bit for bit */
} RefVal;

/* The reference's copy of a tensor the kernel writes (out, inout) or a var. */
typedef struct RefTensor {
    ElemType elem;
    int ndims;
    int64_t dims[RUN_MAX_DIMS];
    int64_t count;
    RefVal *vals;
    bool *written;  /* false: the kernel never wrote the element (out, var) */
} RefTensor;

/* Runs args->kernel on args (which it only reads). out gets one entry per
 * kernel param; the entries of out and inout tensors are filled, the others
 * have count 0. Returns NULL, or an error message in a. */
const char *ref_run(const RunArgs *args, RefTensor *out, Arena *a);

/* An integer expression of sizes (a shape entry) under the sizes of k. False
 * if it cannot be evaluated (it names something other than sizes). */
bool ref_eval_size_expr(const Expr *e, const Kernel *k, const int64_t *sizes, int64_t *out,
                        Arena *a);

/* The tolerance of one element stored into type t:
 *   (n + 4) * u * A + 2 * u_out * |ref|, 0 when the value is exact (n = 0)
 * or t is an integer type (u doubled when it is f64's: the reference rounds too). */
double ref_bound(const RefVal *ref, ElemType t);

/* Whether an executor's element (got_f for floats, got_i for integers and
 * bool) passes against ref; *bound gets the tolerance. NaN must match NaN and
 * infinities must match exactly. */
bool ref_element_ok(const RefVal *ref, ElemType t, double got_f, int64_t got_i, double *bound);

#endif
