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

/* One value and a first-order bound on how far an executor that rounds like
 * the kernel's types may be from it (f64 values: from the exact result):
 *
 *   e + (n + 4) * (u * A + eta_u)      (the second term 0 when n = 0)
 *
 * Each rounding counts in the precision it happens in. (A, n, u) describe the
 * roundings of the current chain, all in one arithmetic type: u is that type's
 * unit roundoff (the chain of an f32 sum has u = 2^-24 and n up to K + 1).
 * When a value enters an operation of another type, or is converted to a
 * narrower one, its chain's bound is folded into e, an absolute error that
 * later operations carry by their derivatives; a conversion to f16/bf16 adds
 * its own rounding to e. A value is exact (bit for bit) when n = 0 and e = 0. */
typedef struct RefVal {
    double f;       /* floats */
    int64_t i;      /* integers and bool (0 or 1) */
    double a;       /* A: the magnitude the chain's rounding errors scale with (>= |f|) */
    double u;       /* the unit roundoff of the chain's type */
    int64_t n;      /* roundings along the chain's longest path; 0: none */
    double e;       /* errors folded in from other precisions, absolute */
    double stored_u; /* the unit roundoff of the storage type (f16, bf16) f was last
                      * rounded to, that rounding counted in e; 0: none */
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
 *   e + (n + 4) * (u * A + eta_u) + 2 * (u_t * |ref| + eta_t)
 * 0 when the value is exact or t is an integer type (u doubled when it is
 * f64's: the reference rounds too). The last term, the output's rounding, is
 * left out where the value's rounding to t is already in e (f16/bf16). */
double ref_bound(const RefVal *ref, ElemType t);

/* Whether an executor's element (got_f for floats, got_i for integers and
 * bool) passes against ref; *bound gets the tolerance. NaN must match NaN and
 * infinities must match exactly. */
bool ref_element_ok(const RefVal *ref, ElemType t, double got_f, int64_t got_i, double *bound);

/* The reference's own rounding and decoding of the float types, written with
 * frexp/ldexp arithmetic and independent of util/numbers.c's bit code, so that
 * a bug in the rounding every executor shares cannot hide from the reference.
 * They must agree with num_round_float and num_load bit for bit (checked by
 * tests/unit/test_numbers.c).
 *
 * x rounded to the float type t, to nearest even: f16 and bf16 from x first
 * rounded to f32 (as the executors convert), with infinity beyond the largest
 * finite value and the subnormals' fixed spacing below the least normal; f32
 * as C rounds; f64 and other types unchanged. NaN stays NaN. */
double ref_round_float(double x, ElemType t);
/* The value of an f16 or bf16 element from its bits (t is ELEM_F16 or ELEM_BF16). */
double ref_decode_half(uint16_t bits, ElemType t);

#endif
