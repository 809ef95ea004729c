/* util/numbers.c, the Numbers section: f16 rounding against the C compiler's
 * _Float16 (gcc converts float to _Float16 with one rounding, to nearest even),
 * bf16 rounding against a bit-exact reference written another way, the
 * reference evaluator's own rounding (run/reference.c) against both, and the
 * integer rules (wrapping, saturation, x/0 = 0 and x%0 = x).
 *
 * The f32 inputs: every f16 value, the midpoints between neighbours (the ties)
 * and the floats on either side of each; every high half of an f32 with the low
 * halves where bf16 and f16 round (ties, one either side); and a strided sweep
 * over all 2^32 bit patterns. Together they hold every f16 and bf16 rounding
 * boundary, subnormals, overflow to infinity, and NaNs of many payloads. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "run/reference.h"
#include "util/numbers.h"

/* Bit casts through unions (defined in C11). */
typedef union F32Bits { float f; uint32_t u; } F32Bits;
typedef union F16Bits { _Float16 h; uint16_t u; } F16Bits;

static uint32_t bits_of(float x) { return (F32Bits){.f = x}.u; }
static float float_of(uint32_t u) { return (F32Bits){.u = u}.f; }
static uint16_t f16_bits(_Float16 h) { return (F16Bits){.h = h}.u; }
static _Float16 f16_of(uint16_t u) { return (F16Bits){.u = u}.h; }

typedef struct Check {
    void (*fn)(struct Check *c, uint32_t u);
    long count, failures;
    uint32_t first_bad;
} Check;

static void visit(Check *c, uint32_t u)
{
    c->count++;
    c->fn(c, u);
}

/* x and the floats either side of it, both signs. */
static void visit_near(Check *c, float x)
{
    float xs[3] = {x, nextafterf(x, 0), nextafterf(x, INFINITY)};
    for (int i = 0; i < 3; i++) {
        visit(c, bits_of(xs[i]));
        visit(c, bits_of(xs[i]) ^ 0x80000000u);
    }
}

/* The input set described at the top. */
static void for_each_input(Check *c)
{
    /* Every finite f16, and the midpoint to the next (65504's to 65536, where
     * rounding overflows to infinity). */
    for (uint32_t h = 0; h < 0x7C00u; h++) {
        float lo = (float)f16_of((uint16_t)h);
        float hi = h + 1 < 0x7C00u ? (float)f16_of((uint16_t)(h + 1)) : 65536.0f;
        visit_near(c, lo);
        visit_near(c, lo + (hi - lo) / 2);  /* exact: one bit more than f16 */
    }
    /* Every high half with the low halves where rounding decides: bf16 rounds
     * at bit 16 (ties 0x8000), f16 normals at bit 13 (ties 0x1000), f16
     * subnormals higher up (covered by the midpoints above). */
    static const uint16_t lows[] = {0x0000, 0x0001, 0x0FFF, 0x1000, 0x1001, 0x1FFF, 0x2000, 0x3000,
                                    0x7FFF, 0x8000, 0x8001, 0x9000, 0xF000, 0xFFFF};
    for (uint32_t hi = 0; hi < 0x10000u; hi++)
        for (size_t k = 0; k < sizeof lows / sizeof lows[0]; k++)
            visit(c, hi << 16 | lows[k]);
    /* A strided sweep of all bit patterns (the stride is prime). */
    for (uint64_t u = 0; u < (1ull << 32); u += 4093)
        visit(c, (uint32_t)u);
    /* NaNs: signalling and quiet, payloads high and low, both signs. */
    static const uint32_t nans[] = {0x7F800001u, 0x7F802000u, 0x7FA00000u, 0x7FBFFFFFu,
                                    0x7FC00000u, 0x7FC00001u, 0x7FFFFFFFu, 0x7FE12345u};
    for (size_t k = 0; k < sizeof nans / sizeof nans[0]; k++) {
        visit(c, nans[k]);
        visit(c, nans[k] | 0x80000000u);
    }
}

static void fail_at(Check *c, uint32_t u)
{
    if (c->failures++ == 0)
        c->first_bad = u;
}

static void run_check(Check *c, const char *what)
{
    for_each_input(c);
    cr_assert_gt(c->count, 2000000, "%s: only %ld inputs", what, c->count);
    cr_assert_eq(c->failures, 0, "%s: %ld of %ld inputs differ, the first 0x%08x (%a)", what, c->failures,
                 c->count, c->first_bad, (double)float_of(c->first_bad));
}

/* ---- f16 ---------------------------------------------------------------- */

static void f16_vs_compiler(Check *c, uint32_t u)
{
    float x = float_of(u);
    if (num_f32_to_f16(x) != f16_bits((_Float16)x))
        fail_at(c, u);
}

Test(numbers, f32_to_f16_matches_the_compilers_float16)
{
    Check c = {.fn = f16_vs_compiler};
    run_check(&c, "num_f32_to_f16 vs _Float16");
}

Test(numbers, f16_to_f32_matches_the_compilers_float16_for_every_value)
{
    for (uint32_t h = 0; h < 0x10000u; h++) {
        float want = (float)f16_of((uint16_t)h), got = num_f16_to_f32((uint16_t)h);
        cr_assert_eq(bits_of(got), bits_of(want), "f16 0x%04x: 0x%08x, want 0x%08x", h, bits_of(got),
                     bits_of(want));
    }
}

Test(numbers, f16_edges)
{
    cr_assert_eq(num_f32_to_f16(65504.0f), 0x7BFF);
    cr_assert_eq(num_f32_to_f16(65519.99f), 0x7BFF);
    cr_assert_eq(num_f32_to_f16(65520.0f), 0x7C00);        /* the tie rounds to even: infinity */
    cr_assert_eq(num_f32_to_f16(-1e9f), 0xFC00);
    cr_assert_eq(num_f32_to_f16(ldexpf(1, -24)), 0x0001);  /* least subnormal */
    cr_assert_eq(num_f32_to_f16(ldexpf(1, -25)), 0x0000);  /* its half: a tie, to even zero */
    cr_assert_eq(num_f32_to_f16(ldexpf(3, -26)), 0x0001);  /* above the half */
    cr_assert_eq(num_f32_to_f16(ldexpf(3, -25)), 0x0002);  /* 1.5 units: a tie, to even 2 */
    cr_assert_eq(num_f32_to_f16(-0.0f), 0x8000);
    cr_assert_eq(num_f32_to_f16(1.0f + ldexpf(1, -11)), 0x3C00);  /* tie to even 1.0 */
    cr_assert_eq(num_f32_to_f16(1.0f + ldexpf(3, -11)), 0x3C02);  /* tie to even 1 + 2^-9 */
    uint16_t n = num_f32_to_f16(NAN);
    cr_assert_eq(n & 0x7C00, 0x7C00);
    cr_assert_neq(n & 0x0200, 0, "NaN kept quiet");
    cr_assert_neq(num_f32_to_f16(float_of(0x7F800001u)) & 0x3FF, 0, "a signalling NaN stays a NaN");
}

/* ---- bf16 --------------------------------------------------------------- */

/* The usual formula, not numbers.c's comparisons: add just under half a unit,
 * plus one when the kept part is odd, and truncate; NaN keeps its high half,
 * made quiet. */
static uint16_t bf16_by_hand(uint32_t u)
{
    if ((u & 0x7FFFFFFFu) > 0x7F800000u)
        return (uint16_t)(u >> 16 | 0x0040u);
    return (uint16_t)((u + 0x7FFFu + (u >> 16 & 1u)) >> 16);
}

static void bf16_vs_hand(Check *c, uint32_t u)
{
    if (num_f32_to_bf16(float_of(u)) != bf16_by_hand(u))
        fail_at(c, u);
}

Test(numbers, f32_to_bf16_matches_a_hand_reference)
{
    Check c = {.fn = bf16_vs_hand};
    run_check(&c, "num_f32_to_bf16 vs the hand reference");
}

Test(numbers, bf16_edges)
{
    cr_assert_eq(num_f32_to_bf16(1.0f), 0x3F80);
    cr_assert_eq(num_f32_to_bf16(float_of(0x3F808000u)), 0x3F80);  /* tie, even stays */
    cr_assert_eq(num_f32_to_bf16(float_of(0x3F818000u)), 0x3F82);  /* tie, odd goes up */
    cr_assert_eq(num_f32_to_bf16(float_of(0x3F808001u)), 0x3F81);
    cr_assert_eq(num_f32_to_bf16(float_of(0x7F7FFFFFu)), 0x7F80);  /* FLT_MAX: to infinity */
    cr_assert_eq(num_f32_to_bf16(float_of(0x7F7E8001u)), 0x7F7F);  /* up to the largest finite */
    cr_assert(ref_round_float(0x1.fep127, ELEM_BF16) == 0x1.fep127);
    cr_assert(isinf(ref_round_float(0x1.ffp127, ELEM_BF16)));
    cr_assert_eq(num_f32_to_bf16(float_of(0x00008000u)), 0x0000);  /* subnormal tie to even zero */
    cr_assert_eq(num_f32_to_bf16(float_of(0x80018000u)), 0x8002);
    cr_assert_eq(num_f32_to_bf16(float_of(0x7F800001u)), 0x7FC0);  /* signalling NaN made quiet */
    cr_assert_eq(num_f32_to_bf16(float_of(0xFFC00000u)), 0xFFC0);
    cr_assert_eq(num_f32_to_bf16(INFINITY), 0x7F80);
    for (uint32_t h = 0; h < 0x10000u; h++)
        cr_assert_eq(bits_of(num_bf16_to_f32((uint16_t)h)), h << 16);
}

/* ---- the reference evaluator's own rounding ------------------------------ */

/* Equal as doubles, the sign of zero included; any NaN equals any NaN. */
static bool same(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return memcmp(&a, &b, sizeof a) == 0;
}

static void reference_vs_numbers(Check *c, uint32_t u)
{
    double x = float_of(u);
    static const ElemType ts[] = {ELEM_F16, ELEM_BF16, ELEM_F32};
    for (int i = 0; i < 3; i++)
        if (!same(ref_round_float(x, ts[i]), num_round_float(x, ts[i]))) {
            fail_at(c, u);
            return;
        }
}

Test(numbers, reference_rounding_agrees_with_numbers_on_f32_inputs)
{
    Check c = {.fn = reference_vs_numbers};
    run_check(&c, "ref_round_float vs num_round_float");
}

Test(numbers, reference_rounding_agrees_with_numbers_on_f64_inputs)
{
    /* Doubles between the f32 values: both round through f32 first. */
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 300000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        int e = (int)(s >> 58) - 32 + (i % 3 == 0 ? -100 : 0);  /* 2^-132 .. 2^31 */
        double x = ldexp((double)(s >> 11) / 9007199254740992.0 + 0.5, e);
        if (s & 1)
            x = -x;
        static const ElemType ts[] = {ELEM_F16, ELEM_BF16, ELEM_F32, ELEM_F64};
        for (int k = 0; k < 4; k++)
            cr_assert(same(ref_round_float(x, ts[k]), num_round_float(x, ts[k])), "%a as %s: %a vs %a", x,
                      elem_type_name(ts[k]), ref_round_float(x, ts[k]), num_round_float(x, ts[k]));
    }
    cr_assert(same(ref_round_float(1e300, ELEM_F16), INFINITY));
    cr_assert(same(ref_round_float(-1e300, ELEM_BF16), -INFINITY));
    cr_assert(same(ref_round_float(-1e-300, ELEM_F16), -0.0));
}

Test(numbers, reference_decoding_agrees_with_numbers_for_every_value)
{
    for (uint32_t h = 0; h < 0x10000u; h++) {
        uint16_t b = (uint16_t)h;
        cr_assert(same(ref_decode_half(b, ELEM_F16), num_load(&b, 0, ELEM_F16)), "f16 0x%04x", h);
        cr_assert(same(ref_decode_half(b, ELEM_BF16), num_load(&b, 0, ELEM_BF16)), "bf16 0x%04x", h);
    }
}

/* ---- integers ----------------------------------------------------------- */

Test(numbers, integers_wrap_to_their_width)
{
    cr_assert_eq(num_wrap_int(128, ELEM_I8), -128);
    cr_assert_eq(num_wrap_int(-129, ELEM_I8), 127);
    cr_assert_eq(num_wrap_int(-1, ELEM_U8), 255);
    cr_assert_eq(num_wrap_int(65536 + 5, ELEM_I16), 5);
    cr_assert_eq(num_wrap_int(INT64_C(0x80000000), ELEM_I32), INT32_MIN);
    cr_assert_eq(num_wrap_int(-1, ELEM_U32), UINT32_MAX);
    cr_assert_eq(num_wrap_int(INT64_MIN, ELEM_I64), INT64_MIN);
    cr_assert_eq(num_wrap_int(7, ELEM_BOOL), 1);
}

Test(numbers, float_to_int_truncates_and_saturates)
{
    cr_assert_eq(num_float_to_int(-2.9, ELEM_I32), -2);
    cr_assert_eq(num_float_to_int(2.9, ELEM_I32), 2);
    cr_assert_eq(num_float_to_int(1e10, ELEM_I32), INT32_MAX);
    cr_assert_eq(num_float_to_int(-1e10, ELEM_I32), INT32_MIN);
    cr_assert_eq(num_float_to_int(-5, ELEM_U8), 0);
    cr_assert_eq(num_float_to_int(300, ELEM_U8), 255);
    cr_assert_eq(num_float_to_int(1e30, ELEM_I64), INT64_MAX);
    cr_assert_eq(num_float_to_int(-1e30, ELEM_I64), INT64_MIN);
    cr_assert_eq(num_float_to_int(INFINITY, ELEM_I8), INT8_MAX);
    cr_assert_eq(num_float_to_int(NAN, ELEM_I32), 0);
    cr_assert_eq(num_float_to_int(NAN, ELEM_I64), 0);
    cr_assert_eq(num_float_to_int(0.5, ELEM_BOOL), 1);
}

Test(numbers, division_by_zero_and_int_min_by_minus_one)
{
    cr_assert_eq(num_int_div(7, 0, ELEM_I32), 0);
    cr_assert_eq(num_int_rem(7, 0, ELEM_I32), 7);
    cr_assert_eq(num_int_div(-7, 2, ELEM_I32), -3);  /* truncating */
    cr_assert_eq(num_int_rem(-7, 2, ELEM_I32), -1);
    cr_assert_eq(num_int_div(INT64_MIN, -1, ELEM_I64), INT64_MIN);
    cr_assert_eq(num_int_rem(INT64_MIN, -1, ELEM_I64), 0);
    cr_assert_eq(num_int_div(INT32_MIN, -1, ELEM_I32), INT32_MIN);
    cr_assert_eq(num_int_div(255, 2, ELEM_U8), 127);
    cr_assert_eq(num_int_div(UINT32_MAX, 2, ELEM_U32), UINT32_MAX / 2);
}
