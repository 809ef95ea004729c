/* The Numbers section (lang/SPEC.md), executable: f16/bf16 storage,
 * conversions, integer wrapping and division without undefined behaviour.
 * Shared by the interpreter, the constant folder (lower/simplify.c), the CPU
 * code generator's constants, the test-data generator and the run driver, so
 * they agree bit for bit.
 *
 * The reference evaluator (run/reference.c) rounds to f16/bf16 and decodes
 * them with its own arithmetic (ref_round_float), not with the bit code here,
 * so that a bug in this rounding cannot hide from it; tests/unit/test_numbers.c
 * checks this file against the C compiler's _Float16 and the two against each
 * other. */
#ifndef ACCL_NUMBERS_H
#define ACCL_NUMBERS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/lang.h"

/* Round to nearest even; NaN stays NaN and comes out quiet (a signalling NaN
 * keeps its payload above the quiet bit), overflow gives infinity. */
uint16_t num_f32_to_f16(float x);
float num_f16_to_f32(uint16_t h);
uint16_t num_f32_to_bf16(float x);
float num_bf16_to_f32(uint16_t h);
/* x rounded to the float type t (f16, bf16, f32 or f64), as a double. */
double num_round_float(double x, ElemType t);

/* Integers wrap to the width of t; the result is sign- or zero-extended to 64 bits. */
int64_t num_wrap_int(int64_t x, ElemType t);
/* Float to integer: truncates toward zero and saturates to t's range; NaN gives 0. */
int64_t num_float_to_int(double x, ElemType t);
/* Truncating division and remainder with x/0 = 0 and x%0 = x (and no overflow trap:
 * INT64_MIN / -1 wraps). Unsigned types divide as unsigned. */
int64_t num_int_div(int64_t a, int64_t b, ElemType t);
int64_t num_int_rem(int64_t a, int64_t b, ElemType t);

/* Unit roundoff of a float type (2^-11 for f16, 2^-8 for bf16, 2^-24 for f32, 2^-53
 * for f64); 0 for integers and bool. */
double num_unit_roundoff(ElemType t);

/* The spacing of a float type's subnormals (2^-149 for f32, 2^-24 for f16,
 * 2^-133 for bf16, 2^-1074 for f64): the absolute error one rounding may make
 * near zero. 0 for integers and bool. */
double num_underflow_unit(ElemType t);

/* One element of a tensor in memory, in its C representation (f16/bf16 as bits). */
double num_load(const void *data, int64_t i, ElemType t);       /* exact as a double */
int64_t num_load_int(const void *data, int64_t i, ElemType t);  /* integers and bool */
/* Stores v converted to t (rounding for floats, wrapping/saturating as the Numbers
 * section says for integers). */
void num_store(void *data, int64_t i, ElemType t, double v);
void num_store_int(void *data, int64_t i, ElemType t, int64_t v);

#endif
