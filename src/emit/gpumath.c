/* Our own math library for GPUs (see gpumath.h).
 *
 * Every algorithm is written once, in f64, as straight-line IR (selects, no
 * branches) except where a rare slow path would cost every lane: sin and cos
 * branch to Payne-Hanek reduction for |x| >= 2^20, erf to a continued fraction
 * for |x| >= 1.5. Polynomials are Taylor series carried far enough that their
 * truncation error is below 2^-57 relative on the reduced range; the reductions
 * are exact or double-double where the result needs it. The f32 functions
 * evaluate the f64 ones and round once, but tanh, erf (GELU), sin and cos
 * (below 2^15) have their own f32 algorithms below. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "emit/gpumath.h"

/* The builder state of one function being defined. */
typedef struct Gm {
    LLVMModuleRef m;
    LLVMContextRef c;
    LLVMBuilderRef b;
    LLVMValueRef fn;
    LLVMTypeRef f64, f32, i1, i64, i128;
    unsigned const_as;
} Gm;

/* f64 constants. */
#define GM_LOG2E 1.4426950408889634         /* 1/ln 2 */
#define GM_LN2H 6.93147180369123816490e-01  /* ln 2, high part: 32 bits, k*LN2H exact for |k| < 2^21 */
#define GM_LN2L 1.90821492927058770002e-10  /* ln 2 - LN2H */
#define GM_PIO2_1 0x1.921fb54442d18p+0      /* pi/2 = PIO2_1 + PIO2_2 + PIO2_3 + O(2^-163) */
#define GM_PIO2_2 0x1.1a62633145c07p-54
#define GM_PIO2_3 -0x1.f1976b7ed8fbcp-110
#define GM_TWO_OVER_PI 0.63661977236758134308
#define GM_SQRT2 1.41421356237309504880
#define GM_TWO_OVER_SQRTPI 1.12837916709551257390
#define GM_ONE_OVER_SQRTPI 0.56418958354775628695

/* The bits of 2/pi, 64 to a word, most significant first, after one word of
 * zeros (the integer part): bit p of this string has place value 2^(63-p). */
static const uint64_t gm_two_over_pi[] = {
    0x0000000000000000ULL, 0xa2f9836e4e441529ULL, 0xfc2757d1f534ddc0ULL, 0xdb6295993c439041ULL,
    0xfe5163abdebbc561ULL, 0xb7246e3a424dd2e0ULL, 0x06492eea09d1921cULL, 0xfe1deb1cb129a73eULL,
    0xe88235f52ebb4484ULL, 0xe99c7026b45f7e41ULL, 0x3991d639835339f4ULL, 0x9c845f8bbdf9283bULL,
    0x1ff897ffde05980fULL, 0xef2f118b5a0a6d1fULL, 0x6d367ecf27cb09b7ULL, 0x4f463f669e5fea2dULL,
    0x7527bac7ebe5f17bULL, 0x3d0739f78a5292eaULL, 0x6bfb5fb11f8d5d08ULL, 0x56033046fc7b6babULL,
    0xf0cfbc209af4361dULL, 0xa9e391615ee61b08ULL,
};
#define GM_TABLE_WORDS ((int)(sizeof gm_two_over_pi / sizeof gm_two_over_pi[0]))

/* ---- building blocks ------------------------------------------------------ */

static LLVMValueRef gm_d(Gm *g, double v) { return LLVMConstReal(g->f64, v); }
static LLVMValueRef gm_real(LLVMTypeRef t, double v) { return LLVMConstReal(t, v); }
static LLVMValueRef gm_i(Gm *g, int64_t v) { return LLVMConstInt(g->i64, (unsigned long long)v, 1); }
static LLVMValueRef gm_add(Gm *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFAdd(g->b, a, b, ""); }
static LLVMValueRef gm_sub(Gm *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFSub(g->b, a, b, ""); }
static LLVMValueRef gm_mul(Gm *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFMul(g->b, a, b, ""); }
static LLVMValueRef gm_div(Gm *g, LLVMValueRef a, LLVMValueRef b) { return LLVMBuildFDiv(g->b, a, b, ""); }
static LLVMValueRef gm_neg(Gm *g, LLVMValueRef a) { return LLVMBuildFNeg(g->b, a, ""); }
static LLVMValueRef gm_sel(Gm *g, LLVMValueRef c, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildSelect(g->b, c, a, b, "");
}
static LLVMValueRef gm_fcmp(Gm *g, LLVMRealPredicate p, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildFCmp(g->b, p, a, b, "");
}
static LLVMValueRef gm_icmp(Gm *g, LLVMIntPredicate p, LLVMValueRef a, LLVMValueRef b)
{
    return LLVMBuildICmp(g->b, p, a, b, "");
}
/* true where a is NaN */
static LLVMValueRef gm_isnan(Gm *g, LLVMValueRef a) { return gm_fcmp(g, LLVMRealUNO, a, a); }

/* An overloaded llvm.* intrinsic on type t. */
static LLVMValueRef gm_intr(Gm *g, const char *name, LLVMTypeRef t, LLVMValueRef *args, int n)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef f = LLVMGetIntrinsicDeclaration(g->m, id, &t, 1);
    return LLVMBuildCall2(g->b, LLVMIntrinsicGetType(g->c, id, &t, 1), f, args, (unsigned)n, "");
}
static LLVMValueRef gm_intr1(Gm *g, const char *name, LLVMValueRef a)
{
    return gm_intr(g, name, LLVMTypeOf(a), &a, 1);
}
static LLVMValueRef gm_fma(Gm *g, LLVMValueRef a, LLVMValueRef b, LLVMValueRef c)
{
    LLVMValueRef x[3] = {a, b, c};
    return gm_intr(g, "llvm.fma", LLVMTypeOf(a), x, 3);
}
static LLVMValueRef gm_copysign(Gm *g, LLVMValueRef mag, LLVMValueRef sign)
{
    LLVMValueRef x[2] = {mag, sign};
    return gm_intr(g, "llvm.copysign", LLVMTypeOf(mag), x, 2);
}

/* c[0] + x*(c[1] + x*(... + x*c[n-1])) with fma. */
static LLVMValueRef gm_horner(Gm *g, LLVMValueRef x, const double *c, int n)
{
    LLVMValueRef r = gm_d(g, c[n - 1]);
    for (int i = n - 2; i >= 0; i--)
        r = gm_fma(g, r, x, gm_d(g, c[i]));
    return r;
}

/* 2^n for an i64 n in [-1022, 1023], from its bits. */
static LLVMValueRef gm_pow2i(Gm *g, LLVMValueRef n)
{
    LLVMValueRef e = LLVMBuildShl(g->b, LLVMBuildAdd(g->b, n, gm_i(g, 1023), ""), gm_i(g, 52), "");
    return LLVMBuildBitCast(g->b, e, g->f64, "");
}

/* x * 2^n for n in [-2044, 2046]: two exact steps, so that a result that
 * overflows or falls into the subnormals is rounded once. */
static LLVMValueRef gm_scale(Gm *g, LLVMValueRef x, LLVMValueRef n)
{
    LLVMValueRef n1 = LLVMBuildAShr(g->b, n, gm_i(g, 1), "");
    LLVMValueRef n2 = LLVMBuildSub(g->b, n, n1, "");
    return gm_mul(g, gm_mul(g, x, gm_pow2i(g, n1)), gm_pow2i(g, n2));
}

/* ---- exp, expm1 ------------------------------------------------------------ */

/* 1/2!, 1/3!, ..., 1/14!: e^r = 1 + r + r^2 P(r), |r| <= ln2/2, truncation < 2^-60. */
static const double gm_exp_coef[] = {
    1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880,
    1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0, 1.0 / 87178291200.0,
};
#define GM_EXP_N ((int)(sizeof gm_exp_coef / sizeof gm_exp_coef[0]))

/* r = x - k ln2 (two fma steps; the first is exact) for k = rint(x / ln2). */
static LLVMValueRef gm_exp_reduce(Gm *g, LLVMValueRef x, LLVMValueRef *k)
{
    LLVMValueRef kf = gm_intr1(g, "llvm.rint", gm_mul(g, x, gm_d(g, GM_LOG2E)));
    LLVMValueRef r = gm_fma(g, gm_neg(g, kf), gm_d(g, GM_LN2H), x);
    r = gm_fma(g, gm_neg(g, kf), gm_d(g, GM_LN2L), r);
    *k = LLVMBuildFPToSI(g->b, kf, g->i64, "");
    return r;
}

/* e^(x + tail) for tail tiny against x (NULL: 0). x is clamped to [-746, 710]
 * first, where the result is 0 or inf already; NaN gives inf (callers select
 * NaN themselves). */
static LLVMValueRef gm_exp_core(Gm *g, LLVMValueRef x, LLVMValueRef tail)
{
    LLVMValueRef xc = gm_sel(g, gm_fcmp(g, LLVMRealOLT, x, gm_d(g, 710)), x, gm_d(g, 710));
    xc = gm_sel(g, gm_fcmp(g, LLVMRealOGT, xc, gm_d(g, -746)), xc, gm_d(g, -746));
    LLVMValueRef k;
    LLVMValueRef r = gm_exp_reduce(g, xc, &k);
    if (tail)
        r = gm_add(g, r, tail);
    LLVMValueRef p = gm_fma(g, gm_mul(g, r, r), gm_horner(g, r, gm_exp_coef, GM_EXP_N), r);
    return gm_scale(g, gm_add(g, gm_d(g, 1), p), k);
}

/* e^y - 1 for y in [-44, 0]: 2^k (e^r - 1) + (2^k - 1), one rounding at the end. */
static LLVMValueRef gm_expm1_neg(Gm *g, LLVMValueRef y)
{
    LLVMValueRef k;
    LLVMValueRef r = gm_exp_reduce(g, y, &k);
    LLVMValueRef p = gm_fma(g, gm_mul(g, r, r), gm_horner(g, r, gm_exp_coef, GM_EXP_N), r);
    LLVMValueRef two = gm_pow2i(g, k);
    return gm_fma(g, two, p, gm_sub(g, two, gm_d(g, 1)));
}

/* exp(x): NaN stays NaN. */
static LLVMValueRef gm_exp(Gm *g, LLVMValueRef x)
{
    return gm_sel(g, gm_isnan(g, x), x, gm_exp_core(g, x, NULL));
}

/* ---- log -------------------------------------------------------------------- */

/* 2/3, 2/5, ..., 2/33: log(1+f) = 2 atanh(s), s = f/(2+f), |s| <= 0.172:
 * R(z) = z*(2/3 + z*2/5 + ...), z = s^2 <= 0.0295, truncation < 2^-75. */
static const double gm_log_coef[] = {
    2.0 / 3,  2.0 / 5,  2.0 / 7,  2.0 / 9,  2.0 / 11, 2.0 / 13, 2.0 / 15, 2.0 / 17,
    2.0 / 19, 2.0 / 21, 2.0 / 23, 2.0 / 25, 2.0 / 27, 2.0 / 29, 2.0 / 31, 2.0 / 33,
};
#define GM_LOG_N ((int)(sizeof gm_log_coef / sizeof gm_log_coef[0]))

/* x = 2^e (1 + f) for finite x > 0 (subnormals too), 1+f in [sqrt(1/2), sqrt(2)):
 * f exact; e as f64. */
static LLVMValueRef gm_log_split(Gm *g, LLVMValueRef x, LLVMValueRef *ef)
{
    LLVMValueRef sub = gm_fcmp(g, LLVMRealOLT, x, gm_d(g, 0x1p-1022));
    LLVMValueRef xs = gm_sel(g, sub, gm_mul(g, x, gm_d(g, 0x1p54)), x);
    LLVMValueRef bits = LLVMBuildBitCast(g->b, xs, g->i64, "");
    LLVMValueRef e = LLVMBuildSub(g->b, LLVMBuildLShr(g->b, bits, gm_i(g, 52), ""),
                                  gm_sel(g, sub, gm_i(g, 1023 + 54), gm_i(g, 1023)), "");
    LLVMValueRef mb = LLVMBuildOr(g->b, LLVMBuildAnd(g->b, bits, gm_i(g, 0x000fffffffffffffLL), ""),
                                  gm_i(g, 0x3ff0000000000000LL), "");
    LLVMValueRef mant = LLVMBuildBitCast(g->b, mb, g->f64, "");
    LLVMValueRef big = gm_fcmp(g, LLVMRealOGT, mant, gm_d(g, GM_SQRT2));
    mant = gm_sel(g, big, gm_mul(g, mant, gm_d(g, 0.5)), mant);
    e = LLVMBuildAdd(g->b, e, LLVMBuildZExt(g->b, big, g->i64, ""), "");
    *ef = LLVMBuildSIToFP(g->b, e, g->f64, "");
    return gm_sub(g, mant, gm_d(g, 1));
}

/* log(x) for finite x > 0 (fdlibm's arrangement):
 * e ln2_hi - ((hfsq - (s (hfsq + R) + e ln2_lo)) - f), hfsq = f^2/2. */
static LLVMValueRef gm_log_core(Gm *g, LLVMValueRef x)
{
    LLVMValueRef ef;
    LLVMValueRef f = gm_log_split(g, x, &ef);
    LLVMValueRef hfsq = gm_mul(g, gm_d(g, 0.5), gm_mul(g, f, f));
    LLVMValueRef s = gm_div(g, f, gm_add(g, gm_d(g, 2), f));
    LLVMValueRef z = gm_mul(g, s, s);
    LLVMValueRef r = gm_mul(g, z, gm_horner(g, z, gm_log_coef, GM_LOG_N));
    LLVMValueRef t = gm_add(g, gm_mul(g, s, gm_add(g, hfsq, r)), gm_mul(g, ef, gm_d(g, GM_LN2L)));
    return gm_sub(g, gm_mul(g, ef, gm_d(g, GM_LN2H)), gm_sub(g, gm_sub(g, hfsq, t), f));
}

/* a + b = s + *err exactly (TwoSum). */
static LLVMValueRef gm_two_sum(Gm *g, LLVMValueRef a, LLVMValueRef b, LLVMValueRef *err)
{
    LLVMValueRef s = gm_add(g, a, b);
    LLVMValueRef bb = gm_sub(g, s, a);
    *err = gm_add(g, gm_sub(g, a, gm_sub(g, s, bb)), gm_sub(g, b, bb));
    return s;
}

/* log(x) as hi + lo (relative error about 2^-65) for finite x > 0, for pow:
 *   s = f/(2+f) as sh + sl, log(1+f) = 2s + (2/3) s^3 + 2 s z^2 Q(z), z = s^2;
 *   2s and (2/3) s^3 (about 1% of the result) in double-double, the rest, below
 *   2^-12 of the result, in double. */
static void gm_log_dd(Gm *g, LLVMValueRef x, LLVMValueRef *hi, LLVMValueRef *lo)
{
    LLVMValueRef ef;
    LLVMValueRef f = gm_log_split(g, x, &ef);
    LLVMValueRef two = gm_d(g, 2);
    LLVMValueRef dh = gm_add(g, two, f);
    LLVMValueRef dl = gm_sub(g, f, gm_sub(g, dh, two));  /* exact: Fast2Sum(2, f) */
    LLVMValueRef sh = gm_div(g, f, dh);
    LLVMValueRef rem = gm_sub(g, gm_fma(g, gm_neg(g, sh), dh, f), gm_mul(g, sh, dl));
    LLVMValueRef sl = gm_div(g, rem, dh);
    /* s^3 = s3h + s3l */
    LLVMValueRef z = gm_mul(g, sh, sh);
    LLVMValueRef zl = gm_add(g, gm_fma(g, sh, sh, gm_neg(g, z)), gm_mul(g, gm_mul(g, two, sh), sl));
    LLVMValueRef s3h = gm_mul(g, z, sh);
    LLVMValueRef s3l = gm_add(g, gm_fma(g, z, sh, gm_neg(g, s3h)), gm_add(g, gm_mul(g, zl, sh), gm_mul(g, z, sl)));
    /* (2/3) s^3 = t1h + t1l, 2/3 = C23H + C23L */
    const double c23h = 2.0 / 3, c23l = 3.700743415417188e-17;
    LLVMValueRef t1h = gm_mul(g, gm_d(g, c23h), s3h);
    LLVMValueRef t1l = gm_add(g, gm_fma(g, gm_d(g, c23h), s3h, gm_neg(g, t1h)),
                              gm_add(g, gm_mul(g, gm_d(g, c23h), s3l), gm_mul(g, gm_d(g, c23l), s3h)));
    /* 2 s z^2 Q(z), Q = 2/5 / 2 + ... : the rest of gm_log_coef, halved */
    double c[GM_LOG_N - 1];
    for (int i = 0; i < GM_LOG_N - 1; i++)
        c[i] = gm_log_coef[i + 1] / 2;
    LLVMValueRef t2 = gm_mul(g, gm_mul(g, gm_mul(g, two, sh), gm_mul(g, z, z)), gm_horner(g, z, c, GM_LOG_N - 1));
    /* e ln2_hi (exact) + 2 sh + t1h by TwoSums, then the small terms */
    LLVMValueRef e1, e2;
    LLVMValueRef s = gm_two_sum(g, gm_mul(g, ef, gm_d(g, GM_LN2H)), gm_mul(g, two, sh), &e1);
    s = gm_two_sum(g, s, t1h, &e2);
    LLVMValueRef small = gm_add(g, gm_add(g, gm_mul(g, two, sl), t1l), gm_add(g, t2, gm_mul(g, ef, gm_d(g, GM_LN2L))));
    LLVMValueRef low = gm_add(g, gm_add(g, e1, e2), small);
    *hi = gm_add(g, s, low);
    *lo = gm_sub(g, low, gm_sub(g, *hi, s));
}

/* log(x): log(inf) = inf, log(+-0) = -inf, log(x < 0) = NaN, NaN stays. */
static LLVMValueRef gm_log(Gm *g, LLVMValueRef x)
{
    LLVMValueRef inf = gm_d(g, INFINITY);
    LLVMValueRef ok = LLVMBuildAnd(g->b, gm_fcmp(g, LLVMRealOGT, x, gm_d(g, 0)),
                                   gm_fcmp(g, LLVMRealOLT, x, inf), "");
    LLVMValueRef r = gm_log_core(g, gm_sel(g, ok, x, gm_d(g, 1)));
    r = gm_sel(g, gm_fcmp(g, LLVMRealOEQ, x, inf), inf, r);
    r = gm_sel(g, gm_fcmp(g, LLVMRealOEQ, x, gm_d(g, 0)), gm_neg(g, inf), r);
    r = gm_sel(g, gm_fcmp(g, LLVMRealOLT, x, gm_d(g, 0)), gm_d(g, NAN), r);
    return gm_sel(g, gm_isnan(g, x), x, r);
}

/* ---- sin, cos ----------------------------------------------------------------- */

/* (-1)^n/(2n+1)! for n = 1..8 (sin) and (-1)^n/(2n)! for n = 1..8 (cos):
 * |r| <= pi/4 (a little more where q rounds), truncation < 2^-58. */
static const double gm_sin_coef[] = {
    -1.0 / 6, 1.0 / 120, -1.0 / 5040, 1.0 / 362880, -1.0 / 39916800, 1.0 / 6227020800.0,
    -1.0 / 1307674368000.0, 1.0 / 355687428096000.0,
};
static const double gm_cos_coef[] = {
    -1.0 / 2, 1.0 / 24, -1.0 / 720, 1.0 / 40320, -1.0 / 3628800, 1.0 / 479001600,
    -1.0 / 87178291200.0, 1.0 / 20922789888000.0,
};

/* The 2/pi table in the module, defined once. */
static LLVMValueRef gm_table(Gm *g, LLVMTypeRef *arr)
{
    static const char name[] = "accl.gpumath.2_over_pi";
    *arr = LLVMArrayType2(g->i64, GM_TABLE_WORDS);
    LLVMValueRef t = LLVMGetNamedGlobal(g->m, name);
    if (t)
        return t;
    LLVMValueRef w[GM_TABLE_WORDS];
    for (int i = 0; i < GM_TABLE_WORDS; i++)
        w[i] = LLVMConstInt(g->i64, gm_two_over_pi[i], 0);
    t = LLVMAddGlobalInAddressSpace(g->m, *arr, name, g->const_as);
    LLVMSetInitializer(t, LLVMConstArray2(g->i64, w, GM_TABLE_WORDS));
    LLVMSetGlobalConstant(t, 1);
    LLVMSetLinkage(t, LLVMInternalLinkage);
    LLVMSetUnnamedAddress(t, LLVMGlobalUnnamedAddr);
    LLVMSetAlignment(t, 8);
    return t;
}

/* The 64 bits of the table starting at bit p = 64 w + sh (sh in [0, 63]). */
static LLVMValueRef gm_table_bits(Gm *g, LLVMValueRef tab, LLVMTypeRef arr, LLVMValueRef w, LLVMValueRef sh, int i)
{
    LLVMValueRef word[2];
    for (int j = 0; j < 2; j++) {
        LLVMValueRef idx[2] = {gm_i(g, 0), LLVMBuildAdd(g->b, w, gm_i(g, i + j), "")};
        LLVMValueRef p = LLVMBuildInBoundsGEP2(g->b, arr, tab, idx, 2, "");
        word[j] = LLVMBuildLoad2(g->b, g->i64, p, "");
    }
    /* (w0 << sh) | (w1 >> (64 - sh)), with no shift by 64 */
    LLVMValueRef lo = LLVMBuildLShr(g->b, LLVMBuildLShr(g->b, word[1], gm_i(g, 1), ""),
                                    LLVMBuildSub(g->b, gm_i(g, 63), sh, ""), "");
    return LLVMBuildOr(g->b, LLVMBuildShl(g->b, word[0], sh, ""), lo, "");
}

/* Payne-Hanek: for finite |x| >= 2^20, x = (q + t) pi/2 with |t| <= 1/2; sets
 * *q (i64, mod 4 is what counts) and returns t pi/2.
 *   |x| = M 2^E (M: 53 bits). The bits of 2/pi with place value above 2^(1-E)
 *   only add multiples of 4 to |x| 2/pi, so a window W of 192 bits starting at
 *   place 2^(1-E) gives |x| 2/pi mod 4 = (M W mod 2^192) 2^-190: the top 2 bits
 *   are the quadrant, the next 126 the fraction, normalised before it becomes a
 *   double-double and is multiplied by pi/2. */
static LLVMValueRef gm_payne_hanek(Gm *g, LLVMValueRef x, LLVMValueRef *q)
{
    LLVMBuilderRef b = g->b;
    LLVMValueRef bits = LLVMBuildBitCast(b, x, g->i64, "");
    LLVMValueRef ex = LLVMBuildAnd(b, LLVMBuildLShr(b, bits, gm_i(g, 52), ""), gm_i(g, 0x7ff), "");
    LLVMValueRef mant = LLVMBuildOr(b, LLVMBuildAnd(b, bits, gm_i(g, 0x000fffffffffffffLL), ""),
                                    gm_i(g, 1LL << 52), "");
    /* window start: place 2^(1-E), E = ex - 1075, is table bit p0 = E + 62 */
    LLVMValueRef p0 = LLVMBuildSub(b, ex, gm_i(g, 1013), "");
    LLVMValueRef w = LLVMBuildLShr(b, p0, gm_i(g, 6), "");
    LLVMValueRef sh = LLVMBuildAnd(b, p0, gm_i(g, 63), "");
    LLVMTypeRef arr;
    LLVMValueRef tab = gm_table(g, &arr);
    LLVMValueRef w0 = gm_table_bits(g, tab, arr, w, sh, 0);
    LLVMValueRef w1 = gm_table_bits(g, tab, arr, w, sh, 1);
    LLVMValueRef w2 = gm_table_bits(g, tab, arr, w, sh, 2);
    /* M W mod 2^192 as r0:r1:r2 */
    LLVMValueRef m128 = LLVMBuildZExt(b, mant, g->i128, "");
    LLVMValueRef c64 = LLVMConstInt(g->i128, 64, 0);
    LLVMValueRef p2 = LLVMBuildMul(b, m128, LLVMBuildZExt(b, w2, g->i128, ""), "");
    LLVMValueRef r2 = LLVMBuildTrunc(b, p2, g->i64, "");
    LLVMValueRef p1 = LLVMBuildAdd(b, LLVMBuildMul(b, m128, LLVMBuildZExt(b, w1, g->i128, ""), ""),
                                   LLVMBuildLShr(b, p2, c64, ""), "");
    LLVMValueRef r1 = LLVMBuildTrunc(b, p1, g->i64, "");
    LLVMValueRef r0 = LLVMBuildAdd(b, LLVMBuildMul(b, mant, w0, ""),
                                   LLVMBuildTrunc(b, LLVMBuildLShr(b, p1, c64, ""), g->i64, ""), "");
    /* the fraction F (128 bits) and the quadrant; F >= 1/2 becomes F - 1 */
    LLVMValueRef fr = LLVMBuildOr(
        b, LLVMBuildShl(b, LLVMBuildZExt(b, r0, g->i128, ""), LLVMConstInt(g->i128, 66, 0), ""),
        LLVMBuildOr(b, LLVMBuildShl(b, LLVMBuildZExt(b, r1, g->i128, ""), LLVMConstInt(g->i128, 2, 0), ""),
                    LLVMBuildZExt(b, LLVMBuildLShr(b, r2, gm_i(g, 62), ""), g->i128, ""), ""),
        "");
    LLVMValueRef neg = gm_icmp(g, LLVMIntSLT, fr, LLVMConstInt(g->i128, 0, 0));
    LLVMValueRef fm = gm_sel(g, neg, LLVMBuildNeg(b, fr, ""), fr);
    LLVMValueRef quad = LLVMBuildAdd(b, LLVMBuildLShr(b, r0, gm_i(g, 62), ""), LLVMBuildZExt(b, neg, g->i64, ""), "");
    /* normalise: fm = N 2^-lz, N's top bit set; N's top 106 bits as dh + dl */
    LLVMValueRef ctlz_args[2] = {fm, LLVMConstInt(g->i1, 0, 0)};
    LLVMValueRef lz = gm_intr(g, "llvm.ctlz", g->i128, ctlz_args, 2);
    LLVMValueRef c127 = LLVMConstInt(g->i128, 127, 0);
    lz = gm_sel(g, gm_icmp(g, LLVMIntUGT, lz, c127), c127, lz);
    LLVMValueRef n = LLVMBuildShl(b, fm, lz, "");
    LLVMValueRef hi53 = LLVMBuildTrunc(b, LLVMBuildLShr(b, n, LLVMConstInt(g->i128, 75, 0), ""), g->i64, "");
    LLVMValueRef lo53 = LLVMBuildAnd(
        b, LLVMBuildTrunc(b, LLVMBuildLShr(b, n, LLVMConstInt(g->i128, 22, 0), ""), g->i64, ""),
        gm_i(g, (1LL << 53) - 1), "");
    LLVMValueRef dh = gm_mul(g, LLVMBuildUIToFP(b, hi53, g->f64, ""), gm_d(g, 0x1p-53));
    LLVMValueRef dl = gm_mul(g, LLVMBuildUIToFP(b, lo53, g->f64, ""), gm_d(g, 0x1p-106));
    /* (dh + dl) pi/2 */
    LLVMValueRef rh = gm_mul(g, dh, gm_d(g, GM_PIO2_1));
    LLVMValueRef re = gm_add(g, gm_fma(g, dh, gm_d(g, GM_PIO2_1), gm_neg(g, rh)),
                             gm_add(g, gm_mul(g, dh, gm_d(g, GM_PIO2_2)), gm_mul(g, dl, gm_d(g, GM_PIO2_1))));
    LLVMValueRef lz64 = LLVMBuildTrunc(b, lz, g->i64, "");
    LLVMValueRef r = gm_mul(g, gm_add(g, rh, re), gm_pow2i(g, LLVMBuildNeg(b, lz64, "")));
    r = gm_sel(g, neg, gm_neg(g, r), r);
    /* the sign of x */
    LLVMValueRef xneg = gm_icmp(g, LLVMIntSLT, bits, gm_i(g, 0));
    *q = gm_sel(g, xneg, LLVMBuildNeg(b, quad, ""), quad);
    return gm_sel(g, xneg, gm_neg(g, r), r);
}

/* sin(x) (cos: quadrant + 1). x = q pi/2 + r: Cody-Waite with three parts of
 * pi/2 for |x| < 2^20 (the first step exact), else Payne-Hanek; then
 * sin r or cos r by q mod 4. sin(+-inf) and NaN: NaN. */
static LLVMValueRef gm_sincos(Gm *g, LLVMValueRef x, bool is_cos)
{
    LLVMBuilderRef b = g->b;
    LLVMValueRef ax = gm_intr1(g, "llvm.fabs", x);
    LLVMBasicBlockRef fast = LLVMAppendBasicBlockInContext(g->c, g->fn, "fast");
    LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(g->c, g->fn, "slow");
    LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(g->c, g->fn, "join");
    LLVMBuildCondBr(b, gm_fcmp(g, LLVMRealOLT, ax, gm_d(g, 0x1p20)), fast, slow);

    LLVMPositionBuilderAtEnd(b, fast);
    LLVMValueRef qf = gm_intr1(g, "llvm.rint", gm_mul(g, x, gm_d(g, GM_TWO_OVER_PI)));
    LLVMValueRef nq = gm_neg(g, qf);
    LLVMValueRef rf = gm_fma(g, nq, gm_d(g, GM_PIO2_1), x);
    rf = gm_fma(g, nq, gm_d(g, GM_PIO2_2), rf);
    rf = gm_fma(g, nq, gm_d(g, GM_PIO2_3), rf);
    LLVMValueRef qfast = LLVMBuildFPToSI(b, qf, g->i64, "");
    LLVMBuildBr(b, join);

    LLVMPositionBuilderAtEnd(b, slow);
    LLVMValueRef qslow;
    LLVMValueRef rs = gm_payne_hanek(g, x, &qslow);
    LLVMBasicBlockRef slow_end = LLVMGetInsertBlock(b);
    LLVMBuildBr(b, join);

    LLVMPositionBuilderAtEnd(b, join);
    LLVMValueRef r = LLVMBuildPhi(b, g->f64, "r");
    LLVMValueRef q = LLVMBuildPhi(b, g->i64, "q");
    LLVMValueRef rin[2] = {rf, rs}, qin[2] = {qfast, qslow};
    LLVMBasicBlockRef from[2] = {fast, slow_end};
    LLVMAddIncoming(r, rin, from, 2);
    LLVMAddIncoming(q, qin, from, 2);

    LLVMValueRef z = gm_mul(g, r, r);
    LLVMValueRef s = gm_fma(g, gm_mul(g, r, z), gm_horner(g, z, gm_sin_coef, 8), r);
    LLVMValueRef c = gm_fma(g, z, gm_horner(g, z, gm_cos_coef, 8), gm_d(g, 1));
    if (is_cos)
        q = LLVMBuildAdd(b, q, gm_i(g, 1), "");
    LLVMValueRef use_c = gm_icmp(g, LLVMIntNE, LLVMBuildAnd(b, q, gm_i(g, 1), ""), gm_i(g, 0));
    LLVMValueRef neg = gm_icmp(g, LLVMIntNE, LLVMBuildAnd(b, q, gm_i(g, 2), ""), gm_i(g, 0));
    LLVMValueRef v = gm_sel(g, use_c, c, s);
    v = gm_sel(g, neg, gm_neg(g, v), v);
    if (!is_cos) /* sin(-0) = -0 */
        v = gm_sel(g, gm_fcmp(g, LLVMRealOEQ, x, gm_d(g, 0)), x, v);
    return gm_sel(g, gm_fcmp(g, LLVMRealOLT, ax, gm_d(g, INFINITY)), v, gm_sub(g, x, x));
}

/* ---- tanh, erf ------------------------------------------------------------------ */

/* tanh(x) = -m / (2 + m), m = expm1(-2|x|), with the sign of x; |x| >= 22
 * gives +-1. NaN stays NaN. */
static LLVMValueRef gm_tanh(Gm *g, LLVMValueRef x)
{
    LLVMValueRef ax = gm_intr1(g, "llvm.fabs", x);
    ax = gm_sel(g, gm_fcmp(g, LLVMRealOLT, ax, gm_d(g, 22)), ax, gm_d(g, 22));
    LLVMValueRef m = gm_expm1_neg(g, gm_mul(g, ax, gm_d(g, -2)));
    LLVMValueRef t = gm_div(g, gm_neg(g, m), gm_add(g, m, gm_d(g, 2)));
    return gm_sel(g, gm_isnan(g, x), x, gm_copysign(g, t, x));
}

/* erf(x), odd; NaN stays NaN.
 *   |x| < 1.5:  erf = 2/sqrt(pi) e^(-u) x sum_n (2u)^n / (2n+1)!!  (positive terms,
 *               26 of them), u = x*x rounded: the same u in both factors makes
 *               their product insensitive to u's rounding
 *   |x| >= 1.5: erf = 1 - e^(-u)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
 *               (90 levels, as one quotient of convergents by the forward
 *               recurrence: positive terms, below 1e100; x clamped to 6, where
 *               erf is 1 in f64) */
#define GM_ERF_SPLIT 1.5
#define GM_ERF_SERIES 26
#define GM_ERF_CF 90
static LLVMValueRef gm_erf(Gm *g, LLVMValueRef x)
{
    LLVMBuilderRef b = g->b;
    LLVMValueRef ax = gm_intr1(g, "llvm.fabs", x);
    LLVMBasicBlockRef ser = LLVMAppendBasicBlockInContext(g->c, g->fn, "series");
    LLVMBasicBlockRef cf = LLVMAppendBasicBlockInContext(g->c, g->fn, "fraction");
    LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(g->c, g->fn, "join");
    LLVMBuildCondBr(b, gm_fcmp(g, LLVMRealOLT, ax, gm_d(g, GM_ERF_SPLIT)), ser, cf);

    LLVMPositionBuilderAtEnd(b, ser);
    double c[GM_ERF_SERIES];
    c[0] = 1;
    for (int n = 1; n < GM_ERF_SERIES; n++)
        c[n] = c[n - 1] * 2 / (2 * n + 1);
    LLVMValueRef u = gm_mul(g, ax, ax);
    LLVMValueRef sum = gm_mul(g, gm_horner(g, u, c, GM_ERF_SERIES), ax);
    LLVMValueRef e = gm_exp_core(g, gm_neg(g, u), NULL);
    LLVMValueRef rser = gm_mul(g, gm_mul(g, gm_d(g, GM_TWO_OVER_SQRTPI), sum), e);
    LLVMBuildBr(b, join);

    LLVMPositionBuilderAtEnd(b, cf);
    LLVMValueRef xc = gm_sel(g, gm_fcmp(g, LLVMRealOLT, ax, gm_d(g, 6)), ax, gm_d(g, 6));
    /* the fraction's convergent P/Q by the forward recurrence (positive terms) */
    LLVMValueRef p0 = gm_d(g, 1), p1 = xc, q0 = gm_d(g, 0), q1 = gm_d(g, 1);
    for (int k = 1; k <= GM_ERF_CF; k++) {
        LLVMValueRef a = gm_d(g, k * 0.5);
        LLVMValueRef p2 = gm_fma(g, xc, p1, gm_mul(g, a, p0)), q2 = gm_fma(g, xc, q1, gm_mul(g, a, q0));
        p0 = p1, p1 = p2, q0 = q1, q1 = q2;
    }
    LLVMValueRef t = gm_div(g, p1, q1);
    LLVMValueRef ec = gm_exp_core(g, gm_neg(g, gm_mul(g, xc, xc)), NULL);
    LLVMValueRef erfc = gm_div(g, gm_mul(g, ec, gm_d(g, GM_ONE_OVER_SQRTPI)), t);
    LLVMValueRef rcf = gm_sub(g, gm_d(g, 1), erfc);
    LLVMBuildBr(b, join);

    LLVMPositionBuilderAtEnd(b, join);
    LLVMValueRef r = LLVMBuildPhi(b, g->f64, "erf");
    LLVMValueRef rin[2] = {rser, rcf};
    LLVMBasicBlockRef from[2] = {ser, cf};
    LLVMAddIncoming(r, rin, from, 2);
    return gm_sel(g, gm_isnan(g, x), x, gm_copysign(g, r, x));
}

/* ---- pow ---------------------------------------------------------------------------- */

/* The special cases of pow (C99 F.9.4.4) over mag = |x|^y computed for finite
 * nonzero |x|, in x's type:
 *   pow(x, +-0) = 1 and pow(+1, y) = 1, even for NaN; else NaN in, NaN out
 *   pow(x < 0 finite, y finite and not an integer) = NaN
 *   pow(+-0, y) = +inf for y < 0, +0 for y > 0; pow(+-inf, y) = +0 for y < 0, +inf for y > 0
 *   pow(x, +-inf) = 1 for |x| = 1; +inf where |x| < 1 and y < 0 or |x| > 1 and y > 0; else +0
 *   and a negative x (-0 and -inf too) with an odd integer y gives -pow(|x|, y). */
static LLVMValueRef gm_pow_special(Gm *g, LLVMValueRef x, LLVMValueRef y, LLVMValueRef mag)
{
    LLVMBuilderRef b = g->b;
    LLVMTypeRef t = LLVMTypeOf(x);
    bool is64 = t == g->f64;
    LLVMTypeRef it = is64 ? g->i64 : LLVMInt32TypeInContext(g->c);
    LLVMValueRef zero = gm_real(t, 0), one = gm_real(t, 1), inf = gm_real(t, INFINITY);
    LLVMValueRef ax = gm_intr1(g, "llvm.fabs", x), ay = gm_intr1(g, "llvm.fabs", y);
    /* y an integer; odd when below 2^53 (2^24) and its low bit is set */
    LLVMValueRef yint = gm_fcmp(g, LLVMRealOEQ, gm_intr1(g, "llvm.floor", y), y);
    LLVMValueRef ysmall = gm_fcmp(g, LLVMRealOLT, ay, gm_real(t, is64 ? 0x1p53 : 0x1p24));
    LLVMValueRef yi = LLVMBuildFPToSI(b, gm_sel(g, ysmall, y, zero), it, "");
    LLVMValueRef ylow = LLVMBuildTrunc(b, yi, g->i1, "");
    LLVMValueRef yodd = LLVMBuildAnd(b, LLVMBuildAnd(b, yint, ysmall, ""), ylow, "");
    LLVMValueRef yneg = gm_fcmp(g, LLVMRealOLT, y, zero);
    LLVMValueRef r = mag;
    r = gm_sel(g, gm_fcmp(g, LLVMRealOEQ, ax, zero), gm_sel(g, yneg, inf, zero), r);
    r = gm_sel(g, gm_fcmp(g, LLVMRealOEQ, ax, inf), gm_sel(g, yneg, zero, inf), r);
    LLVMValueRef xsign = gm_icmp(g, LLVMIntSLT, LLVMBuildBitCast(b, x, it, ""), LLVMConstInt(it, 0, 0));
    r = gm_sel(g, LLVMBuildAnd(b, xsign, yodd, ""), gm_neg(g, r), r);
    LLVMValueRef xnegfin = LLVMBuildAnd(b, gm_fcmp(g, LLVMRealOLT, x, zero),
                                        gm_fcmp(g, LLVMRealOGT, x, gm_neg(g, inf)), "");
    r = gm_sel(g, LLVMBuildAnd(b, xnegfin, LLVMBuildNot(b, yint, ""), ""), gm_real(t, NAN), r);
    LLVMValueRef big = gm_icmp(g, LLVMIntEQ, gm_fcmp(g, LLVMRealOLT, ax, one), yneg);
    LLVMValueRef atinf = gm_sel(g, gm_fcmp(g, LLVMRealOEQ, ax, one), one, gm_sel(g, big, inf, zero));
    r = gm_sel(g, gm_fcmp(g, LLVMRealOEQ, ay, inf), atinf, r);
    r = gm_sel(g, LLVMBuildOr(b, gm_isnan(g, x), gm_isnan(g, y), ""), gm_add(g, x, y), r);
    LLVMValueRef unit = LLVMBuildOr(b, gm_fcmp(g, LLVMRealOEQ, x, one), gm_fcmp(g, LLVMRealOEQ, y, zero), "");
    return gm_sel(g, unit, one, r);
}

/* |x| for the general case: finite and nonzero, else 1 (special cases decide). */
static LLVMValueRef gm_pow_base(Gm *g, LLVMValueRef x)
{
    LLVMValueRef ax = gm_intr1(g, "llvm.fabs", x);
    LLVMValueRef ok = LLVMBuildAnd(g->b, gm_fcmp(g, LLVMRealOGT, ax, gm_real(LLVMTypeOf(x), 0)),
                                   gm_fcmp(g, LLVMRealOLT, ax, gm_real(LLVMTypeOf(x), INFINITY)), "");
    return gm_sel(g, ok, ax, gm_real(LLVMTypeOf(x), 1));
}

/* pow in f64: e^(y log|x|) with log|x| and the product in double-double. */
static LLVMValueRef gm_pow64(Gm *g, LLVMValueRef x, LLVMValueRef y)
{
    LLVMValueRef lh, ll;
    gm_log_dd(g, gm_pow_base(g, x), &lh, &ll);
    LLVMValueRef th = gm_mul(g, y, lh);
    LLVMValueRef tl = gm_add(g, gm_fma(g, y, lh, gm_neg(g, th)), gm_mul(g, y, ll));
    /* outside (-746, 710) the result is 0 or inf: drop the tail (it may be NaN) */
    LLVMValueRef in = LLVMBuildAnd(g->b, gm_fcmp(g, LLVMRealOLT, th, gm_d(g, 710)),
                                   gm_fcmp(g, LLVMRealOGT, th, gm_d(g, -746)), "");
    LLVMValueRef mag = gm_exp_core(g, th, gm_sel(g, in, tl, gm_d(g, 0)));
    return gm_pow_special(g, x, y, mag);
}

/* pow in f32: e^(y log|x|) in f64 (its error, 2^-52 |y log x| <= 2^-44, is far
 * below an f32 ulp), rounded once. */
static LLVMValueRef gm_pow32(Gm *g, LLVMValueRef x, LLVMValueRef y)
{
    LLVMValueRef base = LLVMBuildFPExt(g->b, gm_pow_base(g, x), g->f64, "");
    LLVMValueRef yd = LLVMBuildFPExt(g->b, y, g->f64, "");
    LLVMValueRef mag = gm_exp_core(g, gm_mul(g, yd, gm_log_core(g, base)), NULL);
    return gm_pow_special(g, x, y, LLVMBuildFPTrunc(g->b, mag, g->f32, ""));
}

/* ---- f32 natively: tanh, erf, sin, cos ------------------------------------------------------ */
/* In f32 arithmetic (f64 is 1/32 of the f32 rate on gfx1100); the
 * polynomials are Chebyshev fits (mpmath's chebyfit) whose error is far below
 * an f32 ulp, so what is left is the rounding of the evaluation. */

static LLVMValueRef gm_c(LLVMValueRef like, double v) { return LLVMConstReal(LLVMTypeOf(like), v); }

/* gm_horner in x's type. */
static LLVMValueRef gm_horner_t(Gm *g, LLVMValueRef x, const double *c, int n)
{
    LLVMValueRef r = gm_c(x, c[n - 1]);
    for (int i = n - 2; i >= 0; i--)
        r = gm_fma(g, r, x, gm_c(x, c[i]));
    return r;
}

/* 2^n in f32 for an i32 n in [-126, 127]. */
static LLVMValueRef gm_pow2i32(Gm *g, LLVMValueRef n)
{
    LLVMTypeRef i32 = LLVMTypeOf(n);
    LLVMValueRef e = LLVMBuildShl(g->b, LLVMBuildAdd(g->b, n, LLVMConstInt(i32, 127, 0), ""),
                                  LLVMConstInt(i32, 23, 0), "");
    return LLVMBuildBitCast(g->b, e, g->f32, "");
}

/* 1/2!, ..., 1/7!: e^r = 1 + r + r^2 P(r), |r| <= ln2/2, truncation < 2^-27. */
static const double gm_exp32_coef[] = {1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040};

/* e^x in f32 for x in [-104, 89] (clamped; NaN gives inf): as gm_exp_core, with
 * ln 2 = 0x1.62e4p-1 (k ln2_hi exact for |k| < 2^8) + its rest. */
static LLVMValueRef gm_exp32(Gm *g, LLVMValueRef x)
{
    LLVMTypeRef i32 = LLVMInt32TypeInContext(g->c);
    LLVMValueRef xc = gm_sel(g, gm_fcmp(g, LLVMRealOLT, x, gm_c(x, 89)), x, gm_c(x, 89));
    xc = gm_sel(g, gm_fcmp(g, LLVMRealOGT, xc, gm_c(x, -104)), xc, gm_c(x, -104));
    LLVMValueRef kf = gm_intr1(g, "llvm.rint", gm_mul(g, xc, gm_c(x, GM_LOG2E)));
    LLVMValueRef r = gm_fma(g, gm_neg(g, kf), gm_c(x, 0x1.62e4p-1), xc);
    r = gm_fma(g, gm_neg(g, kf), gm_c(x, 1.4286068203094173e-06), r);
    LLVMValueRef p = gm_fma(g, gm_mul(g, r, r), gm_horner_t(g, r, gm_exp32_coef, 6), r);
    p = gm_add(g, gm_c(x, 1), p);
    LLVMValueRef k = LLVMBuildFPToSI(g->b, kf, i32, "");
    LLVMValueRef k1 = LLVMBuildAShr(g->b, k, LLVMConstInt(i32, 1, 0), "");
    LLVMValueRef k2 = LLVMBuildSub(g->b, k, k1, "");
    return gm_mul(g, gm_mul(g, p, gm_pow2i32(g, k1)), gm_pow2i32(g, k2));
}

/* tanh(t) = t + t u Q(u), u = t^2, on |t| < 0.55 */
static const double gm_tanh32_coef[] = {
    -0.33333333332226117, 0.13333332974182369,  -0.053968062785873377, 0.021865647876724795,
    -0.0088261353930683597, 0.0034047594268392586, -0.00096557370708411766,
};

/* tanh in f32: the polynomial below 0.55, else 1 - 2/(e^(2|x|) + 1) (|x| clamped
 * to 10, where tanh is 1 in f32); the sign of x; NaN stays NaN. */
static LLVMValueRef gm_tanh32(Gm *g, LLVMValueRef x)
{
    LLVMValueRef ax = gm_intr1(g, "llvm.fabs", x);
    LLVMValueRef u = gm_mul(g, x, x);
    LLVMValueRef small = gm_fma(g, gm_mul(g, x, u), gm_horner_t(g, u, gm_tanh32_coef, 7), x);
    ax = gm_sel(g, gm_fcmp(g, LLVMRealOLT, ax, gm_c(x, 10)), ax, gm_c(x, 10));
    LLVMValueRef e = gm_exp32(g, gm_mul(g, ax, gm_c(x, 2)));
    LLVMValueRef big = gm_sub(g, gm_c(x, 1), gm_div(g, gm_c(x, 2), gm_add(g, e, gm_c(x, 1))));
    LLVMValueRef r = gm_copysign(g, gm_sel(g, gm_fcmp(g, LLVMRealOLT, gm_intr1(g, "llvm.fabs", x), gm_c(x, 0.55)),
                                           small, big), x);
    return gm_sel(g, gm_isnan(g, x), x, r);
}

/* erf(t) = t P(u), u = t^2, on |t| < 1 */
static const double gm_erf32_coef[] = {
    1.1283791670946768,  -0.37612638889635308,  0.11283791308604582,   -0.026866133235095593,
    0.0052237834771892483, -0.00085426379970872292, 0.0001195656256820733, -1.3909340021874599e-05,
    1.058938064107502e-06,
};
/* erfc(x) e^(x^2) on [1, 4] in s = (x - 2.5) / 1.5 */
static const double gm_erfc32_coef[] = {
    0.21080636406114359,    -0.11152102073476088,  0.05611049362976063,    -0.027005276189744354,
    0.01248936700079338,    -0.0055709256936074614, 0.0024037214510805008,  -0.0010047997001988746,
    0.00040873798595246475, -0.00016447866403796163, 6.340933229062602e-05,  -2.0504708403019309e-05,
    7.6653008175495304e-06, -5.0535334089026873e-06, 1.7581148051902643e-06,
};

/* erf in f32: x P(x^2) below 1; else 1 - e^(-x^2) R(x) with x^2 = h + l exact
 * (e^(-x^2) = e^(-h) (1 - l)) and |x| clamped to 4, where erf is 1 in f32; the
 * sign of x; NaN stays NaN. */
static LLVMValueRef gm_erf32(Gm *g, LLVMValueRef x)
{
    LLVMValueRef ax = gm_intr1(g, "llvm.fabs", x);
    LLVMValueRef u = gm_mul(g, x, x);
    LLVMValueRef small = gm_mul(g, x, gm_horner_t(g, u, gm_erf32_coef, 9));
    LLVMValueRef xc = gm_sel(g, gm_fcmp(g, LLVMRealOLT, ax, gm_c(x, 4)), ax, gm_c(x, 4));
    xc = gm_sel(g, gm_fcmp(g, LLVMRealOGT, xc, gm_c(x, 1)), xc, gm_c(x, 1));
    LLVMValueRef s = gm_fma(g, xc, gm_c(x, 1.0 / 1.5), gm_c(x, -2.5 / 1.5));
    LLVMValueRef r = gm_horner_t(g, s, gm_erfc32_coef, 15);
    LLVMValueRef h = gm_mul(g, xc, xc), l = gm_fma(g, xc, xc, gm_neg(g, h));
    LLVMValueRef e = gm_mul(g, gm_exp32(g, gm_neg(g, h)), gm_sub(g, gm_c(x, 1), l));
    LLVMValueRef big = gm_copysign(g, gm_fma(g, gm_neg(g, e), r, gm_c(x, 1)), x);
    LLVMValueRef res = gm_sel(g, gm_fcmp(g, LLVMRealOLT, ax, gm_c(x, 1)), small, big);
    return gm_sel(g, gm_isnan(g, x), x, res);
}

/* sin r and cos r in f32 for |r| <= pi/4 (a little more): Taylor, truncation < 2^-28. */
static const double gm_sin32_coef[] = {-1.0 / 6, 1.0 / 120, -1.0 / 5040, 1.0 / 362880};
static const double gm_cos32_coef[] = {-1.0 / 2, 1.0 / 24, -1.0 / 720, 1.0 / 40320, -1.0 / 3628800};

/* sin (cos: quadrant + 1) in f32: below 2^15, x = q pi/2 + r by three fma steps
 * with pi/2 in three f32 parts (the first step exact), polynomials in f32;
 * above (and for inf and NaN), the f64 function, rounded. */
static LLVMValueRef gm_sincos32(Gm *g, LLVMValueRef x, bool is_cos)
{
    LLVMBuilderRef b = g->b;
    LLVMTypeRef i32 = LLVMInt32TypeInContext(g->c);
    LLVMValueRef ax = gm_intr1(g, "llvm.fabs", x);
    LLVMBasicBlockRef fast = LLVMAppendBasicBlockInContext(g->c, g->fn, "fast");
    LLVMBasicBlockRef slow = LLVMAppendBasicBlockInContext(g->c, g->fn, "slow");
    LLVMBasicBlockRef join = LLVMAppendBasicBlockInContext(g->c, g->fn, "join");
    LLVMBuildCondBr(b, gm_fcmp(g, LLVMRealOLT, ax, gm_c(x, 0x1p15)), fast, slow);

    LLVMPositionBuilderAtEnd(b, fast);
    LLVMValueRef qf = gm_intr1(g, "llvm.rint", gm_mul(g, x, gm_c(x, GM_TWO_OVER_PI)));
    LLVMValueRef nq = gm_neg(g, qf);
    LLVMValueRef r = gm_fma(g, nq, gm_c(x, 0x1.921fb6p+0), x);
    r = gm_fma(g, nq, gm_c(x, -0x1.777a5cp-25), r);
    r = gm_fma(g, nq, gm_c(x, -0x1.ee59dap-50), r);
    LLVMValueRef q = LLVMBuildFPToSI(b, qf, i32, "");
    LLVMValueRef z = gm_mul(g, r, r);
    LLVMValueRef sv = gm_fma(g, gm_mul(g, r, z), gm_horner_t(g, z, gm_sin32_coef, 4), r);
    LLVMValueRef cv = gm_fma(g, z, gm_horner_t(g, z, gm_cos32_coef, 5), gm_c(x, 1));
    if (is_cos)
        q = LLVMBuildAdd(b, q, LLVMConstInt(i32, 1, 0), "");
    LLVMValueRef use_c = gm_icmp(g, LLVMIntNE, LLVMBuildAnd(b, q, LLVMConstInt(i32, 1, 0), ""), LLVMConstInt(i32, 0, 0));
    LLVMValueRef neg = gm_icmp(g, LLVMIntNE, LLVMBuildAnd(b, q, LLVMConstInt(i32, 2, 0), ""), LLVMConstInt(i32, 0, 0));
    LLVMValueRef v = gm_sel(g, use_c, cv, sv);
    v = gm_sel(g, neg, gm_neg(g, v), v);
    if (!is_cos) /* sin(-0) = -0 */
        v = gm_sel(g, gm_fcmp(g, LLVMRealOEQ, x, gm_c(x, 0)), x, v);
    LLVMBuildBr(b, join);

    LLVMPositionBuilderAtEnd(b, slow);
    LLVMValueRef f64fn = gpumath_function(g->m, is_cos ? INTR_COS : INTR_SIN, ELEM_F64, g->const_as);
    LLVMValueRef xd = LLVMBuildFPExt(b, x, g->f64, "");
    LLVMValueRef vs = LLVMBuildFPTrunc(b, LLVMBuildCall2(b, LLVMGlobalGetValueType(f64fn), f64fn, &xd, 1, ""),
                                       g->f32, "");
    LLVMBuildBr(b, join);

    LLVMPositionBuilderAtEnd(b, join);
    LLVMValueRef res = LLVMBuildPhi(b, g->f32, "");
    LLVMValueRef in[2] = {v, vs};
    LLVMBasicBlockRef from[2] = {fast, slow};
    LLVMAddIncoming(res, in, from, 2);
    return res;
}

/* ---- the functions ---------------------------------------------------------------------- */

bool gpumath_has(Intrinsic k)
{
    switch (k) {
    case INTR_EXP: case INTR_LOG: case INTR_SIN: case INTR_COS: case INTR_TANH: case INTR_ERF:
    case INTR_POW: case INTR_RSQRT:
        return true;
    default:
        return false;
    }
}

/* The f64 algorithm of a one-argument intrinsic. */
static LLVMValueRef gm_body64(Gm *g, Intrinsic k, LLVMValueRef x)
{
    switch (k) {
    case INTR_EXP: return gm_exp(g, x);
    case INTR_LOG: return gm_log(g, x);
    case INTR_SIN: return gm_sincos(g, x, false);
    case INTR_COS: return gm_sincos(g, x, true);
    case INTR_TANH: return gm_tanh(g, x);
    default: return gm_erf(g, x);
    }
}

/* The body of accl.gpumath.<k>.<t>: g->fn has just been created. */
static void gm_define(Gm *g, Intrinsic k, ElemType t)
{
    LLVMValueRef x = LLVMGetParam(g->fn, 0);
    LLVMValueRef r;
    if (k == INTR_RSQRT) {
        LLVMTypeRef ft = LLVMTypeOf(x);
        r = gm_div(g, gm_real(ft, 1), gm_intr1(g, "llvm.sqrt", x));
    } else if (k == INTR_POW) {
        LLVMValueRef y = LLVMGetParam(g->fn, 1);
        r = t == ELEM_F64 ? gm_pow64(g, x, y) : gm_pow32(g, x, y);
    } else if (t == ELEM_F64) {
        r = gm_body64(g, k, x);
    } else if (k == INTR_TANH) {
        r = gm_tanh32(g, x);
    } else if (k == INTR_SIN || k == INTR_COS) {
        r = gm_sincos32(g, x, k == INTR_COS);
    } else if (k == INTR_ERF) {
        r = gm_erf32(g, x);
    } else {
        LLVMValueRef xd = LLVMBuildFPExt(g->b, x, g->f64, "");
        r = LLVMBuildFPTrunc(g->b, gm_body64(g, k, xd), g->f32, "");
    }
    LLVMBuildRet(g->b, r);
}

LLVMValueRef gpumath_function(LLVMModuleRef m, Intrinsic k, ElemType t, unsigned const_as)
{
    if (!gpumath_has(k) || (t != ELEM_F32 && t != ELEM_F64))
        return NULL;
    char name[64];
    snprintf(name, sizeof name, "accl.gpumath.%s.%s", intrinsic_name(k), t == ELEM_F64 ? "f64" : "f32");
    LLVMValueRef fn = LLVMGetNamedFunction(m, name);
    if (fn)
        return fn;
    Gm g = {.m = m, .c = LLVMGetModuleContext(m), .const_as = const_as};
    g.f64 = LLVMDoubleTypeInContext(g.c);
    g.f32 = LLVMFloatTypeInContext(g.c);
    g.i1 = LLVMInt1TypeInContext(g.c);
    g.i64 = LLVMInt64TypeInContext(g.c);
    g.i128 = LLVMIntTypeInContext(g.c, 128);
    LLVMTypeRef ft = t == ELEM_F64 ? g.f64 : g.f32;
    LLVMTypeRef params[2] = {ft, ft};
    fn = LLVMAddFunction(m, name, LLVMFunctionType(ft, params, (unsigned)intrinsic_arity(k), 0));
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(g.c, nounwind, 0));
    g.fn = fn;
    g.b = LLVMCreateBuilderInContext(g.c);
    LLVMPositionBuilderAtEnd(g.b, LLVMAppendBasicBlockInContext(g.c, fn, "entry"));
    gm_define(&g, k, t);
    LLVMDisposeBuilder(g.b);
    return fn;
}
