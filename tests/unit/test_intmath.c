/* util/intmath.h: gcd, floor division and remainder, ceiling division, against
 * exact 128-bit arithmetic over a grid of operands with both signs, zero, and
 * the ends of int64_t; division by zero and INT64_MIN / -1 as documented. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "util/intmath.h"

static const int64_t operands[] = {
    0, 1, -1, 2, -2, 3, -3, 4, -4, 5, -5, 6, -6, 7, -7, 8, -8, 12, -12, 16, -16, 17, -17,
    100, -100, 255, -256, 1024, -1024, 1LL << 32, -(1LL << 32), (1LL << 62) + 3, -(1LL << 62) - 3,
    INT64_MAX, INT64_MAX - 1, INT64_MIN, INT64_MIN + 1, INT64_MIN + 2, INT64_MAX / 3, INT64_MIN / 3,
};
enum { N_OPERANDS = sizeof operands / sizeof operands[0] };

/* The exact result, wrapped to 64 bits as the helpers document. */
static int64_t wrap(__int128 x) { return (int64_t)(uint64_t)(unsigned __int128)x; }

static __int128 exact_floor_div(__int128 a, __int128 b)
{
    __int128 q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static __int128 exact_ceil_div(__int128 a, __int128 b)
{
    __int128 q = a / b;
    return (a % b != 0 && (a < 0) == (b < 0)) ? q + 1 : q;
}

static __int128 exact_gcd(__int128 a, __int128 b)
{
    a = a < 0 ? -a : a;
    b = b < 0 ? -b : b;
    while (b) {
        __int128 t = a % b;
        a = b;
        b = t;
    }
    return a;
}

Test(intmath, floor_div_mod_and_ceil_div_match_exact_arithmetic)
{
    for (int i = 0; i < N_OPERANDS; i++)
        for (int j = 0; j < N_OPERANDS; j++) {
            int64_t a = operands[i], b = operands[j];
            if (b == 0)
                continue;
            __int128 q = exact_floor_div(a, b);
            cr_assert_eq(im_floor_div(a, b), wrap(q), "floor_div(%lld, %lld)", (long long)a, (long long)b);
            __int128 r = (__int128)a - q * b;
            cr_assert_eq(im_floor_mod(a, b), (int64_t)r, "floor_mod(%lld, %lld)", (long long)a, (long long)b);
            /* The remainder has the sign of the divisor and is smaller than it. */
            if (b > 0)
                cr_assert(r >= 0 && r < b);
            else
                cr_assert(r <= 0 && r > b);
            cr_assert_eq(im_ceil_div(a, b), wrap(exact_ceil_div(a, b)), "ceil_div(%lld, %lld)",
                         (long long)a, (long long)b);
        }
}

Test(intmath, negative_operands_round_toward_negative_infinity)
{
    cr_assert_eq(im_floor_div(-7, 2), -4);
    cr_assert_eq(im_floor_mod(-7, 2), 1);
    cr_assert_eq(im_floor_div(7, -2), -4);
    cr_assert_eq(im_floor_mod(7, -2), -1);
    cr_assert_eq(im_floor_div(-7, -2), 3);
    cr_assert_eq(im_floor_mod(-7, -2), -1);
    cr_assert_eq(im_floor_div(-8, 2), -4);
    cr_assert_eq(im_floor_mod(-8, 2), 0);
    cr_assert_eq(im_ceil_div(-7, 2), -3);
    cr_assert_eq(im_ceil_div(7, 2), 4);
    cr_assert_eq(im_ceil_div(7, -2), -3);
    cr_assert_eq(im_ceil_div(0, 5), 0);
}

Test(intmath, division_by_zero_follows_the_language)
{
    /* lang/SPEC.md, Numbers: x/0 = 0 and x%0 = x. */
    for (int i = 0; i < N_OPERANDS; i++) {
        int64_t a = operands[i];
        cr_assert_eq(im_floor_div(a, 0), 0);
        cr_assert_eq(im_ceil_div(a, 0), 0);
        cr_assert_eq(im_floor_mod(a, 0), a);
    }
}

Test(intmath, int64_min_by_minus_one_wraps)
{
    cr_assert_eq(im_floor_div(INT64_MIN, -1), INT64_MIN);
    cr_assert_eq(im_ceil_div(INT64_MIN, -1), INT64_MIN);
    cr_assert_eq(im_floor_mod(INT64_MIN, -1), 0);
    cr_assert_eq(im_floor_div(INT64_MIN, 1), INT64_MIN);
    cr_assert_eq(im_floor_div(INT64_MAX, -1), -INT64_MAX);
    cr_assert_eq(im_floor_mod(INT64_MIN, INT64_MAX), INT64_MAX - 1);
    cr_assert_eq(im_floor_div(INT64_MIN, INT64_MAX), -2);
    cr_assert_eq(im_floor_mod(INT64_MAX, INT64_MIN), -1);
}

Test(intmath, gcd_of_magnitudes)
{
    for (int i = 0; i < N_OPERANDS; i++)
        for (int j = 0; j < N_OPERANDS; j++) {
            int64_t a = operands[i], b = operands[j];
            cr_assert_eq(im_gcd(a, b), wrap(exact_gcd(a, b)), "gcd(%lld, %lld)", (long long)a, (long long)b);
            cr_assert_eq(im_gcd(a, b), im_gcd(b, a));
        }
    cr_assert_eq(im_gcd(0, 0), 0);
    cr_assert_eq(im_gcd(-12, 0), 12);
    cr_assert_eq(im_gcd(-12, 18), 6);
    cr_assert_eq(im_gcd(12, -18), 6);
    cr_assert_eq(im_gcd(16, 24), 8);
    cr_assert_eq(im_gcd(INT64_MIN, 6), 2);
    cr_assert_eq(im_gcd(INT64_MIN, INT64_MIN + 1), 1);
    /* 2^63 does not fit: it wraps to INT64_MIN, which `g <= 1` treats as nothing to do. */
    cr_assert_eq(im_gcd(INT64_MIN, 0), INT64_MIN);
    cr_assert_eq(im_gcd(INT64_MIN, INT64_MIN), INT64_MIN);
}
