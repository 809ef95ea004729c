/* Our GPU math library (src/emit/gpumath.c), built for the host, optimized at
 * O3 and run through ORC LLJIT: the special cases of C99 Annex F exactly, and
 * the largest error in ulps over sweeps of random and chosen inputs against
 * the host's long-double libm (f64) or double libm (f32). The bounds asserted
 * are lang/SPEC.md's (f32 4 ulp, f64 8 ulp); the measured maxima are printed. */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>

#include "emit/emit.h"
#include "emit/gpumath.h"

typedef double (*Fn64)(double);
typedef float (*Fn32)(float);
typedef double (*Fn64b)(double, double);
typedef float (*Fn32b)(float, float);

static const Intrinsic gt_kinds[] = {INTR_EXP, INTR_LOG, INTR_SIN, INTR_COS, INTR_TANH,
                                     INTR_ERF, INTR_POW, INTR_RSQRT};
#define GT_NKINDS ((int)(sizeof gt_kinds / sizeof gt_kinds[0]))

typedef struct GmJit {
    LLVMOrcThreadSafeContextRef tsc;
    LLVMOrcLLJITRef jit;
    void *fn[GT_NKINDS][2];   /* [kind][0: f32, 1: f64] */
} GmJit;

static void gt_check(LLVMErrorRef e)
{
    if (e) {
        char *m = LLVMGetErrorMessage(e);
        cr_assert_fail("LLVM: %s", m);
    }
}

/* Every gpumath function, made external, O3 for the host, in one JIT. */
static void gt_build(GmJit *j)
{
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    EmitMachine mach;
    cr_assert(emit_machine(NULL, &mach));
    char *err = NULL;
    LLVMTargetMachineRef tm = emit_target_machine(&mach, &err);
    cr_assert_not_null(tm, "%s", err);
    j->tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMModuleRef m = LLVMModuleCreateWithNameInContext("gpumath", LLVMOrcThreadSafeContextGetContext(j->tsc));
    LLVMSetTarget(m, mach.triple);
    for (int i = 0; i < GT_NKINDS; i++)
        for (int t = 0; t < 2; t++) {
            LLVMValueRef f = gpumath_function(m, gt_kinds[i], t ? ELEM_F64 : ELEM_F32, 0);
            cr_assert_not_null(f);
            cr_assert_eq(f, gpumath_function(m, gt_kinds[i], t ? ELEM_F64 : ELEM_F32, 0), "defined once");
            LLVMSetLinkage(f, LLVMExternalLinkage);
        }
    cr_assert_null(gpumath_function(m, INTR_ABS, ELEM_F32, 0));
    cr_assert_null(gpumath_function(m, INTR_EXP, ELEM_I32, 0));
    cr_assert(!LLVMVerifyModule(m, LLVMReturnStatusAction, &err), "invalid module: %s", err);
    LLVMDisposeMessage(err);
    /* no call to anything outside the module */
    for (LLVMValueRef f = LLVMGetFirstFunction(m); f; f = LLVMGetNextFunction(f))
        if (LLVMIsDeclaration(f)) {
            size_t len;
            const char *name = LLVMGetValueName2(f, &len);
            cr_assert(strncmp(name, "llvm.", 5) == 0, "external call to %s", name);
        }
    cr_assert(emit_optimize(m, tm, &err), "%s", err);
    LLVMOrcLLJITBuilderRef b = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(b, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm));
    gt_check(LLVMOrcCreateLLJIT(&j->jit, b));
    gt_check(LLVMOrcLLJITAddLLVMIRModule(j->jit, LLVMOrcLLJITGetMainJITDylib(j->jit),
                                         LLVMOrcCreateNewThreadSafeModule(m, j->tsc)));
    for (int i = 0; i < GT_NKINDS; i++)
        for (int t = 0; t < 2; t++) {
            char name[64];
            snprintf(name, sizeof name, "accl.gpumath.%s.%s", intrinsic_name(gt_kinds[i]), t ? "f64" : "f32");
            LLVMOrcExecutorAddress a = 0;
            gt_check(LLVMOrcLLJITLookup(j->jit, &a, name));
            uintptr_t u = (uintptr_t)a;
            memcpy(&j->fn[i][t], &u, sizeof u);
        }
}

static void gt_free(GmJit *j)
{
    LLVMConsumeError(LLVMOrcDisposeLLJIT(j->jit));
    LLVMOrcDisposeThreadSafeContext(j->tsc);
}

static void *gt_fn(GmJit *j, Intrinsic k, int is64)
{
    for (int i = 0; i < GT_NKINDS; i++)
        if (gt_kinds[i] == k)
            return j->fn[i][is64];
    return NULL;
}

/* ---- references and errors ------------------------------------------------ */

static long double gt_ref64(Intrinsic k, double x, double y)
{
    long double l = x;
    switch (k) {
    case INTR_EXP: return expl(l);
    case INTR_LOG: return logl(l);
    case INTR_SIN: return sinl(l);
    case INTR_COS: return cosl(l);
    case INTR_TANH: return tanhl(l);
    case INTR_ERF: return erfl(l);
    case INTR_POW: return powl(l, (long double)y);
    default: return 1.0L / sqrtl(l);
    }
}

static double gt_ref32(Intrinsic k, float x, float y)
{
    switch (k) {
    case INTR_EXP: return exp(x);
    case INTR_LOG: return log(x);
    case INTR_SIN: return sin(x);
    case INTR_COS: return cos(x);
    case INTR_TANH: return tanh(x);
    case INTR_ERF: return erf(x);
    case INTR_POW: return pow(x, y);
    default: return 1.0 / sqrt((double)x);
    }
}

/* |got - ref| in units of the last place of ref rounded to the format with
 * mant_bits (53 or 24) and least exponent emin; 0 when both are the same
 * infinity or both NaN, huge when only one is. */
static double gt_ulps(double got, long double ref, int mant_bits, int emin, double maxv)
{
    if (isnan(got) && isnan(ref))
        return 0;
    if (isnan(got) || isnan(ref))
        return 1e300;
    long double r = ref;
    if (fabsl(r) > maxv) /* rounds to inf when above the largest finite value by half an ulp */
        r = copysignl(fabsl(r) >= (long double)maxv * (1 + ldexpl(1, -mant_bits)) ? INFINITY : maxv, r);
    if (isinf(got) || isinf(r))
        return (double)got == (double)r ? 0 : 1e300;
    int e;
    frexpl(r, &e);
    if (e - 1 < emin)
        e = emin + 1;
    long double ulp = ldexpl(1, e - mant_bits);
    return (double)(fabsl((long double)got - r) / ulp);
}

/* A deterministic random stream (xorshift64*). */
static uint64_t gt_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}
static double gt_uniform(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * ((double)(gt_next(s) >> 11) * 0x1p-53);
}
static double gt_bits64(uint64_t *s)
{
    uint64_t u = gt_next(s);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}
static float gt_bits32(uint64_t *s)
{
    uint32_t u = (uint32_t)(gt_next(s) >> 32);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* The range most inputs of k are drawn from. */
static void gt_range(Intrinsic k, double *lo, double *hi)
{
    switch (k) {
    case INTR_EXP: *lo = -760, *hi = 720; break;
    case INTR_LOG: *lo = 0, *hi = 4; break;
    case INTR_SIN: case INTR_COS: *lo = -1e6, *hi = 1e6; break;
    case INTR_TANH: *lo = -25, *hi = 25; break;
    case INTR_ERF: *lo = -7, *hi = 7; break;
    default: *lo = 0, *hi = 100; break;
    }
}

#define GT_N 300000

/* Max ulp error of the f64 function of k (one argument) over GT_N inputs:
 * a third uniform in its range, a third in [-2, 2], a third random bits. */
static double gt_sweep64(Fn64 f, Intrinsic k, double *worst)
{
    uint64_t s = 0x9e3779b97f4a7c15ULL ^ (uint64_t)k;
    double lo, hi, max = 0;
    gt_range(k, &lo, &hi);
    for (int i = 0; i < GT_N; i++) {
        double x = i % 3 == 0 ? gt_uniform(&s, lo, hi) : i % 3 == 1 ? gt_uniform(&s, -2, 2) : gt_bits64(&s);
        double e = gt_ulps(f(x), gt_ref64(k, x, 0), 53, -1022, DBL_MAX);
        if (e > max)
            max = e, *worst = x;
    }
    return max;
}

static double gt_sweep32(Fn32 f, Intrinsic k, float *worst)
{
    uint64_t s = 0x243f6a8885a308d3ULL ^ (uint64_t)k;
    double lo, hi, max = 0;
    gt_range(k, &lo, &hi);
    if (k == INTR_EXP)
        lo = -110, hi = 95;
    if (k == INTR_SIN || k == INTR_COS) /* mostly the f32 reduction (below 2^15), some above */
        lo = -4e4, hi = 4e4;
    for (int i = 0; i < GT_N; i++) {
        float x = i % 3 == 0 ? (float)gt_uniform(&s, lo, hi) : i % 3 == 1 ? (float)gt_uniform(&s, -2, 2)
                                                                          : gt_bits32(&s);
        double e = gt_ulps(f(x), gt_ref32(k, x, 0), 24, -126, FLT_MAX);
        if (e > max)
            max = e, *worst = x;
    }
    return max;
}

/* pow: x log-uniform over every positive float, y chosen so that x^y spans
 * the whole range; negative x with integer y; small bases and exponents. */
static void gt_pow_args(uint64_t *s, int i, int is64, double *x, double *y)
{
    double maxlog = is64 ? 709.7 : 88.7, minlog = is64 ? -744 : -103;
    double l2 = gt_uniform(s, is64 ? -1074 : -149, is64 ? 1023.9 : 127.9);
    switch (i % 4) {
    case 0:
        *x = ldexp(1 + gt_uniform(s, 0, 1), (int)floor(l2));
        *y = gt_uniform(s, minlog, maxlog) / log(*x);
        break;
    case 1:
        *x = -gt_uniform(s, 0, 30);
        *y = floor(gt_uniform(s, -40, 40));
        break;
    case 2:
        *x = gt_uniform(s, 0, 10);
        *y = gt_uniform(s, -30, 30);
        break;
    default:
        *x = gt_uniform(s, 0.5, 2);
        *y = gt_uniform(s, -1e4, 1e4);
        break;
    }
    if (!is64)
        *x = (float)*x, *y = (float)*y;
}

static double gt_pow_sweep(void *fn, int is64, double *wx, double *wy)
{
    uint64_t s = 0xb7e151628aed2a6bULL;
    double max = 0;
    for (int i = 0; i < GT_N; i++) {
        double x, y, e;
        gt_pow_args(&s, i, is64, &x, &y);
        if (is64)
            e = gt_ulps(((Fn64b)fn)(x, y), powl(x, y), 53, -1022, DBL_MAX);
        else
            e = gt_ulps(((Fn32b)fn)((float)x, (float)y), pow((float)x, (float)y), 24, -126, FLT_MAX);
        if (e > max)
            max = e, *wx = x, *wy = y;
    }
    return max;
}

/* ---- the tests ---------------------------------------------------------------- */

static const double gt_special[] = {
    0.0, -0.0, INFINITY, -INFINITY, NAN, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0,
    0x1p-1074, -0x1p-1074, 0x1p-1022, 0x1p-149, 0x1p-126, 1e-300, DBL_MAX, -DBL_MAX, FLT_MAX,
    1e22, 1e300, 0x1p20, 0x1.921fb54442d18p+0, 3.141592653589793, 6381956970095103.0 * 0x1p797,
    709.78, 710, -745.1, -746, 88.7, -103.9, 2.5, 6, 22, 0.3, 1e-8,
};
#define GT_NSPECIAL ((int)(sizeof gt_special / sizeof gt_special[0]))

/* Results that C99 Annex F fixes exactly (and libm returns): compared bit for
 * bit, signs of zero included, NaN as NaN. */
static bool gt_exact(Intrinsic k, double x)
{
    if (isnan(x) || isinf(x) || x == 0)
        return true;
    return (k == INTR_EXP && (x >= 710 || x <= -746)) || (k == INTR_LOG && (x == 1 || x < 0)) ||
           (k == INTR_TANH && fabs(x) >= 22) || (k == INTR_ERF && fabs(x) >= 6);
}

static bool gt_same(double a, double b)
{
    return (isnan(a) && isnan(b)) || (a == b && signbit(a) == signbit(b));
}

Test(gpumath, special_cases_one_argument)
{
    GmJit j;
    gt_build(&j);
    for (int i = 0; i < GT_NKINDS; i++) {
        Intrinsic k = gt_kinds[i];
        if (k == INTR_POW)
            continue;
        for (int n = 0; n < GT_NSPECIAL; n++) {
            double x = gt_special[n];
            for (int sgn = 0; sgn < 2; sgn++, x = -x) {
                double got = ((Fn64)gt_fn(&j, k, 1))(x);
                double want = k == INTR_RSQRT ? 1 / sqrt(x) : (double)gt_ref64(k, x, 0);
                if (gt_exact(k, x))
                    cr_expect(gt_same(got, want), "%s(%a) = %a, want %a", intrinsic_name(k), x, got, want);
                else
                    cr_expect(gt_ulps(got, gt_ref64(k, x, 0), 53, -1022, DBL_MAX) <= 8, "%s(%a) = %a, want %a",
                              intrinsic_name(k), x, got, want);
                float xf = (float)x;
                float gotf = ((Fn32)gt_fn(&j, k, 0))(xf);
                float wantf = (float)gt_ref32(k, xf, 0);
                if (gt_exact(k, xf) || (k == INTR_EXP && (xf > 89 || xf < -104)))
                    cr_expect(gt_same(gotf, wantf), "%s(%a f32) = %a, want %a", intrinsic_name(k), xf, gotf, wantf);
                else
                    cr_expect(gt_ulps(gotf, gt_ref32(k, xf, 0), 24, -126, FLT_MAX) <= 4, "%s(%a f32) = %a, want %a",
                              intrinsic_name(k), xf, gotf, wantf);
            }
        }
    }
    gt_free(&j);
}

/* pow over every pair of special values: exactly libm's (Annex F) result where
 * either operand is 0, inf, NaN or 1, or x < 0; else within the bound. */
Test(gpumath, special_cases_pow)
{
    static const double v[] = {0.0, -0.0, INFINITY, -INFINITY, NAN, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0,
                               -3.0, 0.25, 1.5, -1.5, 1e300, -1e300, 0x1p-1074, 0x1p53, 0x1p53 + 2,
                               0x1p24 + 2, 9007199254740993.0, 1e-300};
    const int nv = (int)(sizeof v / sizeof v[0]);
    GmJit j;
    gt_build(&j);
    Fn64b p64 = (Fn64b)gt_fn(&j, INTR_POW, 1);
    Fn32b p32 = (Fn32b)gt_fn(&j, INTR_POW, 0);
    for (int a = 0; a < nv; a++)
        for (int b = 0; b < nv; b++) {
            double x = v[a], y = v[b];
            double got = p64(x, y), want = pow(x, y);
            if (isnan(want) || isinf(want) || want == 0 || want == 1 || want == -1 || isinf(x) || isinf(y))
                cr_expect(gt_same(got, want), "pow(%a, %a) = %a, want %a", x, y, got, want);
            else
                cr_expect(gt_ulps(got, powl(x, y), 53, -1022, DBL_MAX) <= 8, "pow(%a, %a) = %a, want %a", x, y,
                          got, want);
            float xf = (float)x, yf = (float)y;
            float gotf = p32(xf, yf), wantf = powf(xf, yf);
            if (isnan(wantf) || isinf(wantf) || wantf == 0 || wantf == 1 || wantf == -1 || isinf(xf) || isinf(yf))
                cr_expect(gt_same(gotf, wantf), "powf(%a, %a) = %a, want %a", xf, yf, gotf, wantf);
            else
                cr_expect(gt_ulps(gotf, pow(xf, yf), 24, -126, FLT_MAX) <= 4, "powf(%a, %a) = %a, want %a", xf,
                          yf, gotf, wantf);
        }
    gt_free(&j);
}

/* The sweeps: the largest error of each function, printed, within the bound. */
Test(gpumath, accuracy, .timeout = 120)
{
    GmJit j;
    gt_build(&j);
    for (int i = 0; i < GT_NKINDS; i++) {
        Intrinsic k = gt_kinds[i];
        double e64, e32;
        char where64[96], where32[96];
        if (k == INTR_POW) {
            double x = 0, y = 0;
            e64 = gt_pow_sweep(gt_fn(&j, k, 1), 1, &x, &y);
            snprintf(where64, sizeof where64, "pow(%a, %a)", x, y);
            e32 = gt_pow_sweep(gt_fn(&j, k, 0), 0, &x, &y);
            snprintf(where32, sizeof where32, "pow(%a, %a)", x, y);
        } else {
            double x = 0;
            float xf = 0;
            e64 = gt_sweep64((Fn64)gt_fn(&j, k, 1), k, &x);
            snprintf(where64, sizeof where64, "%s(%a)", intrinsic_name(k), x);
            e32 = gt_sweep32((Fn32)gt_fn(&j, k, 0), k, &xf);
            snprintf(where32, sizeof where32, "%s(%a)", intrinsic_name(k), (double)xf);
        }
        fprintf(stderr, "gpumath %-5s f64 %.3f ulp at %s; f32 %.3f ulp at %s\n", intrinsic_name(k), e64, where64,
                e32, where32);
        cr_expect(e64 <= 8, "%s f64: %.3f ulp at %s", intrinsic_name(k), e64, where64);
        cr_expect(e32 <= 4, "%s f32: %.3f ulp at %s", intrinsic_name(k), e32, where32);
    }
    gt_free(&j);
}

/* Near multiples of pi/2 (where reduction loses most) and at huge arguments, f64 and f32. */
Test(gpumath, trig_reduction)
{
    GmJit j;
    gt_build(&j);
    Fn64 s = (Fn64)gt_fn(&j, INTR_SIN, 1), c = (Fn64)gt_fn(&j, INTR_COS, 1);
    double max = 0, at = 0;
    for (int n = 1; n < 200000; n += 7) {
        double base = n * 1.5707963267948966;
        for (int d = -3; d <= 3; d++) {
            double x = nextafter(base, d < 0 ? 0 : INFINITY);
            for (int t = 0; t < abs(d); t++)
                x = nextafter(x, d < 0 ? 0 : INFINITY);
            double e = fmax(gt_ulps(s(x), sinl(x), 53, -1022, DBL_MAX), gt_ulps(c(x), cosl(x), 53, -1022, DBL_MAX));
            if (e > max)
                max = e, at = x;
        }
    }
    for (int e2 = 20; e2 <= 1023; e2++) {
        double x = ldexp(1.2345678901234567, e2);
        double e = fmax(gt_ulps(s(x), sinl(x), 53, -1022, DBL_MAX), gt_ulps(c(x), cosl(x), 53, -1022, DBL_MAX));
        if (e > max)
            max = e, at = x;
    }
    double worst = 6381956970095103.0 * 0x1p797; /* |x mod pi/2| about 2^-61 */
    double ew = gt_ulps(s(worst), sinl(worst), 53, -1022, DBL_MAX);
    if (ew > max)
        max = ew, at = worst;
    fprintf(stderr, "gpumath sin/cos near multiples of pi/2 and huge: %.3f ulp at %a\n", max, at);
    cr_expect(max <= 8, "%.3f ulp at %a", max, at);
    /* f32: every multiple of pi/2 below 2^15 and 2^15 ... 2^127 */
    Fn32 s32 = (Fn32)gt_fn(&j, INTR_SIN, 0), c32 = (Fn32)gt_fn(&j, INTR_COS, 0);
    double max32 = 0;
    float at32 = 0;
    for (int n = 1; n < 20861; n++) {
        float x = (float)(n * 1.5707963267948966);
        for (int d = -2; d <= 2; d++) {
            float y = x;
            for (int t = 0; t < abs(d); t++)
                y = nextafterf(y, d < 0 ? 0 : INFINITY);
            double e = fmax(gt_ulps(s32(y), sin(y), 24, -126, FLT_MAX), gt_ulps(c32(y), cos(y), 24, -126, FLT_MAX));
            if (e > max32)
                max32 = e, at32 = y;
        }
    }
    for (int e2 = 15; e2 <= 127; e2++) {
        float x = ldexpf(1.2345678f, e2);
        double e = fmax(gt_ulps(s32(x), sin(x), 24, -126, FLT_MAX), gt_ulps(c32(x), cos(x), 24, -126, FLT_MAX));
        if (e > max32)
            max32 = e, at32 = x;
    }
    fprintf(stderr, "gpumath sin/cos f32 near multiples of pi/2 and huge: %.3f ulp at %a\n", max32, (double)at32);
    cr_expect(max32 <= 4, "%.3f ulp at %a", max32, (double)at32);
    gt_free(&j);
}
