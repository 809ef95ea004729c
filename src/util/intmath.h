/* Integer helpers the compiler's provers, folders and executors share:
 * gcd, floor division and its remainder, ceiling division. Defined once here
 * (STYLE.md: each idea lives in one place); every function is total over
 * int64_t, with no undefined behaviour for any pair of operands.
 *
 * Division by zero follows the language (lang/SPEC.md, Numbers): x/0 = 0 and
 * x%0 = x, so im_floor_div(x, 0) = 0, im_floor_mod(x, 0) = x and
 * im_ceil_div(x, 0) = 0. The one overflowing quotient, INT64_MIN / -1, wraps to
 * INT64_MIN as the language's `/` does (its remainder is 0).
 *
 * Callers that need a checked (overflow-reporting) or saturating variant keep
 * their own and say why next to it. */
#ifndef ACCL_INTMATH_H
#define ACCL_INTMATH_H

#include <stdint.h>

/* The greatest common divisor of |a| and |b|, never negative except as below:
 * im_gcd(0, 0) = 0, im_gcd(a, 0) = |a|. The magnitudes are taken as unsigned,
 * so INT64_MIN is allowed; the one result that does not fit, 2^63 (from
 * im_gcd(INT64_MIN, 0) and im_gcd(INT64_MIN, INT64_MIN)), wraps to INT64_MIN,
 * which a caller's `g <= 1` test treats as "nothing to divide by". */
static inline int64_t im_gcd(int64_t a, int64_t b)
{
    uint64_t x = a < 0 ? 0 - (uint64_t)a : (uint64_t)a;
    uint64_t y = b < 0 ? 0 - (uint64_t)b : (uint64_t)b;
    while (y) {
        uint64_t t = x % y;
        x = y;
        y = t;
    }
    return (int64_t)x;
}

/* floor(a / b) for either sign of b (rounds toward negative infinity).
 * b = 0 gives 0; INT64_MIN / -1 gives INT64_MIN (wraps). */
static inline int64_t im_floor_div(int64_t a, int64_t b)
{
    if (b == 0)
        return 0;
    if (b == -1)
        return (int64_t)(0 - (uint64_t)a);
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* a - b * floor(a / b): has the sign of b (0 <= r < b for b > 0, b < r <= 0 for
 * b < 0). b = 0 gives a; b = -1 gives 0. Never overflows: the product is
 * computed wrapping, and the true result always fits. */
static inline int64_t im_floor_mod(int64_t a, int64_t b)
{
    if (b == 0)
        return a;
    return (int64_t)((uint64_t)a - (uint64_t)im_floor_div(a, b) * (uint64_t)b);
}

/* ceil(a / b) for either sign of b (rounds toward positive infinity): the
 * number of b-sized pieces that cover a when a >= 0 and b > 0, with no overflow
 * where (a + b - 1) / b would have one. b = 0 gives 0; INT64_MIN / -1 wraps to
 * INT64_MIN. */
static inline int64_t im_ceil_div(int64_t a, int64_t b)
{
    /* The floor plus one when inexact: cannot overflow, since a floor of
     * INT64_MAX (a = INT64_MAX, b = 1) is exact. */
    return b == 0 ? 0 : im_floor_div(a, b) + (im_floor_mod(a, b) != 0);
}

#endif
