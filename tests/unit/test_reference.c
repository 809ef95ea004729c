/* The reference evaluator and the check (lang/SPEC.md, Checking results):
 * values, error bounds, the tolerance rule, and that the check passes correct
 * f32 results and catches wrong ones (perturbed elements, a swapped index, a
 * missing tail), on kernels parsed and checked from source. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "parser/parse.h"
#include "run/data.h"
#include "util/numbers.h"
#include "run/reference.h"
#include "sema/sema.h"

typedef struct Run {
    Fixture fx;
    RunArgs args;
    RefTensor *ref;
} Run;

/* Parses and checks text, shapes every tensor under sizes (in the kernel's
 * order of size names), fills random data from seed 7, runs the reference. */
static void run(Run *r, const char *text, const int64_t *sizes)
{
    memset(r, 0, sizeof *r);
    fixture_load(&r->fx, text, TARGET_NONE);
    const Kernel *k = r->fx.prog->kernels[0];
    r->args.kernel = k;
    r->args.sizes = ARENA_ARRAY(&r->fx.arena, int64_t, k->nsizes + 1);
    memcpy(r->args.sizes, sizes, sizeof *sizes * (size_t)k->nsizes);
    r->args.tensors = ARENA_ARRAY(&r->fx.arena, RunTensor, k->nparams);
    r->args.scalars = ARENA_ARRAY(&r->fx.arena, RunScalar, k->nparams);
    for (int i = 0; i < k->nparams; i++) {
        int dim;
        int64_t v;
        if (ast_param_is_buffer(k->params[i]))
            cr_assert_eq(data_shape(&k->params[i]->type, k, r->args.sizes, &r->args.tensors[i],
                                    &dim, &v),
                         DATA_OK);
    }
    data_alloc(&r->args, &r->fx.arena);
    data_fill(&r->args, 7);
    r->ref = ARENA_ARRAY(&r->fx.arena, RefTensor, k->nparams);
    const char *err = ref_run(&r->args, r->ref, &r->fx.arena);
    cr_assert_null(err, "reference failed: %s", err ? err : "");
}

static void done(Run *r)
{
    fixture_free(&r->fx);
}

static float *f32_data(Run *r, int param) { return (float *)r->args.tensors[param].data; }

/* The reference's results, rounded to f32: what a correct f32 executor could give. */
static void ref_as_f32(const RefTensor *ref, float *out)
{
    for (int64_t i = 0; i < ref->count; i++)
        out[i] = (float)ref->vals[i].f;
}

static int64_t compare_f32(const RefTensor *ref, float *got, int64_t n, DataReport *rep)
{
    RunTensor t = {.elem = ELEM_F32, .ndims = 1, .dims = {n}, .count = n, .data = got};
    data_compare(ref, &t, rep);
    return rep->failed;
}

static const char matmul[] =
    "kernel matmul(A: f32[M, K], B: f32[K, N], C: out f32[M, N]) {\n"
    "    init: for i in 0..M, j in 0..N { C[i, j] = 0.0; }\n"
    "    update: for i in 0..M, j in 0..N, k in 0..K { C[i, j] += A[i, k] * B[k, j]; }\n"
    "}\n";

Test(reference, matmul_values_and_bounds)
{
    Run r;
    int64_t sizes[] = {2, 2, 2};  /* M, K, N */
    run(&r, matmul, sizes);
    float a[] = {1, 2, 3, 4}, b[] = {5, 6, 7, 8};
    memcpy(f32_data(&r, 0), a, sizeof a);
    memcpy(f32_data(&r, 1), b, sizeof b);
    cr_assert_null(ref_run(&r.args, r.ref, &r.fx.arena));
    const RefVal *c = r.ref[2].vals;
    cr_assert_eq(c[0].f, 19);
    cr_assert_eq(c[3].f, 50);
    /* A = sum of |terms|: 1*5 + 2*7; 0 then two adds of rounded products: n = 3. */
    cr_assert_eq(c[0].a, 19);
    cr_assert_eq(c[0].n, 3);
    cr_assert_eq(c[0].u, ldexp(1, -24));
    cr_assert(r.ref[2].written[3]);
    done(&r);
}

Test(reference, tolerance_rule)
{
    RefVal v = {.f = 2.0, .a = 8.0, .n = 6, .u = ldexp(1, -24)};
    /* (n + 4)(u A + eta_u) + 2 (u_out |ref| + eta_out) */
    double eta32 = ldexp(1, -149);
    double want = 10 * (ldexp(1, -24) * 8.0 + eta32) + 2 * (ldexp(1, -24) * 2.0 + eta32);
    cr_assert_eq(ref_bound(&v, ELEM_F32), want);
    /* An f16 output adds its own rounding: 2 (2^-11 |ref| + 2^-24). */
    cr_assert_eq(ref_bound(&v, ELEM_F16), 10 * (ldexp(1, -24) * 8.0 + eta32) +
                                              2 * (ldexp(1, -11) * 2.0 + ldexp(1, -24)));
    /* f64 arithmetic: the reference rounds as well, so u counts twice. */
    RefVal d = {.f = 1.0, .a = 1.0, .n = 1, .u = ldexp(1, -53)};
    double eta64 = ldexp(1, -1074);
    cr_assert_eq(ref_bound(&d, ELEM_F64),
                 5 * (2 * ldexp(1, -53) + eta64) + 2 * (ldexp(1, -53) + eta64));
    /* A product that underflows to 0 in f32 while the reference keeps 1e-62 passes. */
    RefVal tiny = {.f = 1e-62, .a = 1e-62, .n = 130, .u = ldexp(1, -24)};
    double b;
    cr_assert(ref_element_ok(&tiny, ELEM_F32, 0.0, 0, &b));
    cr_assert_not(ref_element_ok(&tiny, ELEM_F32, 1e-40, 0, &b), "a normal f32 is no underflow");
    /* Exact values and integers have no tolerance. */
    RefVal e = {.f = 3.0, .a = 3.0};
    cr_assert_eq(ref_bound(&e, ELEM_F32), 0);
    cr_assert_eq(ref_bound(&v, ELEM_I32), 0);
}

Test(reference, nan_inf_and_integers_by_kind)
{
    double b;
    RefVal nan = {.f = NAN}, inf = {.f = INFINITY}, one = {.f = 1, .a = 1e30, .n = 5, .u = 1};
    cr_assert(ref_element_ok(&nan, ELEM_F32, NAN, 0, &b));
    cr_assert_not(ref_element_ok(&nan, ELEM_F32, 1.0, 0, &b));
    cr_assert_not(ref_element_ok(&one, ELEM_F32, NAN, 0, &b), "NaN fails any bound");
    cr_assert(ref_element_ok(&inf, ELEM_F32, INFINITY, 0, &b));
    cr_assert_not(ref_element_ok(&inf, ELEM_F32, -INFINITY, 0, &b));
    cr_assert_not(ref_element_ok(&one, ELEM_F32, INFINITY, 0, &b), "inf fails any bound");
    RefVal i = {.i = 42};
    cr_assert(ref_element_ok(&i, ELEM_I32, 0, 42, &b));
    cr_assert_not(ref_element_ok(&i, ELEM_I32, 0, 43, &b));
}

/* Perturbing one element of a correct f32 result: within half an ulp of A it
 * passes; by twice its bound it fails. */
Test(reference, perturbed_matmul_element)
{
    Run r;
    int64_t sizes[] = {5, 64, 3};
    run(&r, matmul, sizes);
    float got[15];
    DataReport rep;
    ref_as_f32(&r.ref[2], got);
    cr_assert_eq(compare_f32(&r.ref[2], got, 15, &rep), 0);
    cr_assert_eq(rep.compared, 15);
    const RefVal *v = &r.ref[2].vals[7];
    cr_assert_eq(v->n, 65);
    double u = ldexp(1, -24);
    got[7] = (float)(v->f + 0.5 * u * v->a);
    cr_assert_eq(compare_f32(&r.ref[2], got, 15, &rep), 0);
    got[7] = (float)(v->f + 2 * ref_bound(v, ELEM_F32));
    cr_assert_eq(compare_f32(&r.ref[2], got, 15, &rep), 1);
    cr_assert_eq(rep.worst, 7);
    cr_assert_gt(rep.ratio, 1.5);
    done(&r);
}

/* Elementwise, n is small: 10 ulps of A is beyond the bound. */
Test(reference, perturbed_elementwise_element)
{
    Run r;
    int64_t sizes[] = {8};
    run(&r,
        "kernel poly(X: f32[N], Y: out f32[N]) {\n"
        "    for i in 0..N { Y[i] = X[i] * X[i] + X[i]; }\n"
        "}\n",
        sizes);
    float got[8];
    DataReport rep;
    ref_as_f32(&r.ref[1], got);
    cr_assert_eq(compare_f32(&r.ref[1], got, 8, &rep), 0);
    int w = 0;
    for (int i = 1; i < 8; i++)
        if (r.ref[1].vals[i].a > r.ref[1].vals[w].a)
            w = i;
    const RefVal *v = &r.ref[1].vals[w];
    cr_assert_eq(v->n, 2);
    got[w] = (float)(v->f + 10 * ldexp(1, -24) * v->a);
    cr_assert_eq(compare_f32(&r.ref[1], got, 8, &rep), 1);
    done(&r);
}

/* A swapped index (A[k, i] for A[i, k] on a square problem) fails. */
Test(reference, swapped_index_fails)
{
    Run r;
    int64_t sizes[] = {9, 9, 9};
    run(&r, matmul, sizes);
    const float *a = f32_data(&r, 0), *b = f32_data(&r, 1);
    float good[81], bad[81];
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < 9; j++) {
            float s = 0, t = 0;
            for (int k = 0; k < 9; k++) {
                s += a[i * 9 + k] * b[k * 9 + j];
                t += a[k * 9 + i] * b[k * 9 + j];
            }
            good[i * 9 + j] = s, bad[i * 9 + j] = t;
        }
    DataReport rep;
    cr_assert_eq(compare_f32(&r.ref[2], good, 81, &rep), 0);
    cr_assert_gt(compare_f32(&r.ref[2], bad, 81, &rep), 40);
    done(&r);
}

static const char softmax[] =
    "kernel softmax(X: f32[R, N], Y: out f32[R, N]) {\n"
    "    var m: f32[R];\n"
    "    var s: f32[R];\n"
    "    init:   for r in 0..R { m[r] = -inf; s[r] = 0.0; }\n"
    "    rowmax: for r in 0..R, c in 0..N { m[r] = max(m[r], X[r, c]); }\n"
    "    rowsum: for r in 0..R, c in 0..N { s[r] += exp(X[r, c] - m[r]); }\n"
    "    scale:  for r in 0..R, c in 0..N { Y[r, c] = exp(X[r, c] - m[r]) / s[r]; }\n"
    "}\n";

/* Chained nests: a float softmax passes; one that drops the last term of
 * each row's sum (a missing tail) fails. */
Test(reference, softmax_chain_catches_missing_tail)
{
    Run r;
    enum { R = 3, N = 33 };
    int64_t sizes[] = {R, N};
    run(&r, softmax, sizes);
    const float *x = f32_data(&r, 0);
    float good[R * N], bad[R * N];
    for (int i = 0; i < R; i++) {
        float m = -INFINITY, s = 0, t = 0;
        for (int c = 0; c < N; c++)
            m = fmaxf(m, x[i * N + c]);
        for (int c = 0; c < N; c++) {
            s += expf(x[i * N + c] - m);
            if (c < N - 1)
                t += expf(x[i * N + c] - m);
        }
        for (int c = 0; c < N; c++) {
            good[i * N + c] = expf(x[i * N + c] - m) / s;
            bad[i * N + c] = expf(x[i * N + c] - m) / t;
        }
    }
    DataReport rep;
    cr_assert_eq(compare_f32(&r.ref[1], good, R * N, &rep), 0, "worst ratio %g", rep.ratio);
    cr_assert_lt(rep.ratio, 0.5);
    cr_assert_eq(compare_f32(&r.ref[1], bad, R * N, &rep), R * N);
    done(&r);
}

/* A max reduction of inputs is exact: one ulp off fails. */
Test(reference, max_of_inputs_is_exact)
{
    Run r;
    int64_t sizes[] = {2, 5};
    run(&r,
        "kernel rmax(X: f32[R, N], Y: out f32[R]) {\n"
        "    init: for r in 0..R { Y[r] = -inf; }\n"
        "    red:  for r in 0..R, c in 0..N { Y[r] = max(Y[r], X[r, c]); }\n"
        "}\n",
        sizes);
    cr_assert_eq(r.ref[1].vals[0].n, 0);
    float got[2];
    DataReport rep;
    ref_as_f32(&r.ref[1], got);
    cr_assert_eq(compare_f32(&r.ref[1], got, 2, &rep), 0);
    got[1] = nextafterf(got[1], 2.0f);
    cr_assert_eq(compare_f32(&r.ref[1], got, 2, &rep), 1);
    done(&r);
}

/* Storage rules: f16 stores round to nearest even, integer stores wrap, f32
 * results beyond range are infinite, x / 0 = 0 for integers. */
Test(reference, storage_rules)
{
    Run r;
    int64_t sizes[] = {1};
    run(&r,
        "kernel st(X: f32[N], H: out f16[N], W: out i8[N], O: out f32[N], D: out i32[N]) {\n"
        "    for i in 0..N {\n"
        "        H[i] = 1.00048828125;\n"
        "        W[i] = i8(100) + i8(100);\n"
        "        O[i] = exp(100.0 + X[i]);\n"
        "        D[i] = 7 / (i32(i) * 0);\n"
        "    }\n"
        "}\n",
        sizes);
    cr_assert_eq(r.ref[1].vals[0].f, 1.0);
    cr_assert_eq(r.ref[1].vals[0].n, 0);
    cr_assert_eq(r.ref[2].vals[0].i, -56);
    cr_assert(isinf(r.ref[3].vals[0].f));
    cr_assert_eq(r.ref[4].vals[0].i, 0);
    done(&r);
}

/* An f16 var holding an inexact value: its f32 product folds into e, the
 * store adds one f16 rounding (both sides round: 2 u16 |t|), the read adds
 * nothing more, and the sum after it is a new f32 chain. */
Test(reference, f16_intermediate_rounding_is_counted)
{
    Run r;
    int64_t sizes[] = {4};
    run(&r,
        "kernel h(X: f32[N], Y: out f32[N]) {\n"
        "    var t: f16[N];\n"
        "    a: for i in 0..N { t[i] = X[i] * 3.0; }\n"
        "    b: for i in 0..N { Y[i] = f32(t[i]) + 1.0; }\n"
        "}\n",
        sizes);
    double u16 = ldexp(1, -11), u32 = ldexp(1, -24), eta16 = ldexp(1, -24);
    for (int i = 0; i < 4; i++) {
        const RefVal *y = &r.ref[1].vals[i];
        double x = 3.0 * f32_data(&r, 0)[i], t = num_round_float(x, ELEM_F16);
        cr_assert_eq(y->u, u32);
        cr_assert_eq(y->n, 1, "n = %lld", (long long)y->n);  /* the sum */
        double want = 5 * (u32 * fabs(x) + ldexp(1, -149)) + 2 * (u16 * fmax(fabs(x), fabs(t)) + eta16);
        cr_assert_float_eq(y->e, want, 1e-18, "e = %g, want %g", y->e, want);
    }
    done(&r);
}

/* The issue-13 case: an f16 output converted from an f32 sum of K = 131
 * products. The bound is the f32 sum's error plus one f16 rounding, not K
 * roundings of f16: below 0.01 * max(1, |ref|) everywhere (before, about 2.1). */
static const char hmm_f16[] =
    "kernel mmh(A: f16[M, K], B: f16[K, N], D: out f16[M, N]) {\n"
    "    var C: f32[M, N];\n"
    "    init:   for i in 0..M, j in 0..N { C[i, j] = 0.0; }\n"
    "    update: for i in 0..M, j in 0..N, k in 0..K { C[i, j] += f32(A[i, k]) * f32(B[k, j]); }\n"
    "    epi:    for i in 0..M, j in 0..N { D[i, j] = f16(C[i, j]); }\n"
    "}\n";

Test(reference, f16_output_of_f32_sum_bound_is_tight)
{
    Run r;
    int64_t sizes[] = {6, 131, 5};  /* M, K, N */
    run(&r, hmm_f16, sizes);
    const RefTensor *d = &r.ref[2];
    double u16 = ldexp(1, -11), u32 = ldexp(1, -24);
    for (int64_t i = 0; i < d->count; i++) {
        const RefVal *v = &d->vals[i];
        double b = ref_bound(v, ELEM_F16);
        cr_assert_lt(b, 0.01 * fmax(1, fabs(v->f)), "D[%lld]: bound %g for ref %g", (long long)i,
                     b, v->f);
        /* at least the f16 rounding of both sides, at most that plus the f32 sum's bound
         * with A = sum |a b| <= 131 */
        cr_assert_geq(b, 2 * u16 * fabs(v->f));
        cr_assert_leq(b, 2 * u16 * fabs(v->f) + 140 * u32 * 131 + 1e-6);
        cr_assert_eq(v->stored_u, u16);
    }
    done(&r);
}

/* What a correct f16/bf16 executor gives: the reference's f32 sum recomputed
 * in f32 (k in order), rounded to the output type. */
static void mm_rounded(Run *r, ElemType in, ElemType out, int M, int K, int N, double *got)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float s = 0;
            for (int k = 0; k < K; k++)
                s += (float)num_load(r->args.tensors[0].data, i * K + k, in) *
                     (float)num_load(r->args.tensors[1].data, k * N + j, in);
            got[i * N + j] = num_round_float(s, out);
        }
}

static int64_t compare_as(const RefTensor *ref, ElemType t, const double *vals, int64_t n,
                          DataReport *rep)
{
    uint16_t bits[64];
    cr_assert_leq(n, 64);
    for (int64_t i = 0; i < n; i++)
        num_store(bits, i, t, vals[i]);
    RunTensor got = {.elem = t, .ndims = 1, .dims = {n}, .count = n, .data = bits};
    data_compare(ref, &got, rep);
    return rep->failed;
}

/* Mutations of a correct f16 or bf16 result fail: two elements swapped, an
 * element 4 ulps of its type off (the largest, where the f16 rounding
 * dominates), a transposed 2 x 2 tile. */
static void mutations_fail(const char *text, ElemType t)
{
    Run r;
    enum { M = 6, K = 131, N = 5 };
    int64_t sizes[] = {M, K, N};
    run(&r, text, sizes);
    const RefTensor *d = &r.ref[2];
    double good[M * N], bad[M * N];
    mm_rounded(&r, t, t, M, K, N, good);
    DataReport rep;
    cr_assert_eq(compare_as(d, t, good, M * N, &rep), 0, "correct: worst ratio %g", rep.ratio);
    cr_assert_lt(rep.ratio, 0.5);

    memcpy(bad, good, sizeof bad);
    bad[7] = good[8], bad[8] = good[7];
    cr_assert_eq(compare_as(d, t, bad, M * N, &rep), 2, "swap: worst ratio %g", rep.ratio);

    int w = 0;
    for (int i = 1; i < M * N; i++)
        if (fabs(good[i]) > fabs(good[w]))
            w = i;
    memcpy(bad, good, sizeof bad);
    double ulp = 2 * num_unit_roundoff(t) * ldexp(1, ilogb(good[w]));
    bad[w] = good[w] + copysign(4 * ulp, good[w]);
    cr_assert_eq(compare_as(d, t, bad, M * N, &rep), 1, "4 ulps: bound %g", rep.bound);
    cr_assert_eq(rep.worst, w);

    memcpy(bad, good, sizeof bad);  /* the tile at rows 2-3, columns 1-2, transposed */
    bad[2 * N + 2] = good[3 * N + 1], bad[3 * N + 1] = good[2 * N + 2];
    cr_assert_eq(compare_as(d, t, bad, M * N, &rep), 2, "tile: worst ratio %g", rep.ratio);
    done(&r);
}

Test(reference, f16_output_mutations_fail) { mutations_fail(hmm_f16, ELEM_F16); }

Test(reference, bf16_output_mutations_fail)
{
    mutations_fail("kernel mmb(A: bf16[M, K], B: bf16[K, N], D: out bf16[M, N]) {\n"
                   "    var C: f32[M, N];\n"
                   "    init:   for i in 0..M, j in 0..N { C[i, j] = 0.0; }\n"
                   "    update: for i in 0..M, j in 0..N, k in 0..K {\n"
                   "        C[i, j] += f32(A[i, k]) * f32(B[k, j]);\n"
                   "    }\n"
                   "    epi:    for i in 0..M, j in 0..N { D[i, j] = C[i, j]; }\n"
                   "}\n",
                   ELEM_BF16);
}

/* Each rounding counts in its own precision: f32 values widened into an f64
 * sum keep their f32 errors (folded into e), and the f64 chain has u = 2^-53;
 * a copy through f16 of an input stays exact, and f32 exp keeps its ulp
 * allowance ((1 + 4) u32 |y|). */
Test(reference, chains_count_in_their_own_precision)
{
    Run r;
    int64_t sizes[] = {8};
    run(&r,
        "kernel mix(X: f32[N], S: out f64[1], H: out f16[N], E: out f32[N]) {\n"
        "    init: for z in 0..1 { S[z] = 0.0; }\n"
        "    sum:  for z in 0..1, i in 0..N { S[z] += f64(X[i] * X[i]); }\n"
        "    cp:   for i in 0..N { H[i] = X[i]; E[i] = exp(X[i]); }\n"
        "}\n",
        sizes);
    const RefVal *s = &r.ref[1].vals[0];
    cr_assert_eq(s->u, ldexp(1, -53));
    cr_assert_eq(s->n, 8);  /* the adds; the f32 products are in e */
    cr_assert_gt(s->e, 0);
    double a = 0;
    for (int i = 0; i < 8; i++)
        a += (double)f32_data(&r, 0)[i] * f32_data(&r, 0)[i];
    cr_assert_leq(s->e, 5.0001 * ldexp(1, -24) * a + 1e-40, "e = %g", s->e);
    for (int i = 0; i < 8; i++) {
        const RefVal *h = &r.ref[2].vals[i], *e = &r.ref[3].vals[i];
        cr_assert_eq(ref_bound(h, ELEM_F16), 0, "an f16 copy of an input is exact");
        cr_assert_eq(e->n, 1);
        cr_assert_eq(e->e, 0);
        double u = ldexp(1, -24), eta = ldexp(1, -149);
        cr_assert_eq(ref_bound(e, ELEM_F32), 5 * (u * fabs(e->f) + eta) + 2 * (u * fabs(e->f) + eta));
    }
    done(&r);
}

Test(data, fill_is_deterministic_and_representable)
{
    Run a, b;
    int64_t sizes[] = {4, 16, 4};
    run(&a, matmul, sizes);
    run(&b, matmul, sizes);
    cr_assert_eq(memcmp(f32_data(&a, 0), f32_data(&b, 0), 64 * sizeof(float)), 0);
    data_fill(&b.args, 8);
    cr_assert_neq(memcmp(f32_data(&a, 0), f32_data(&b, 0), 64 * sizeof(float)), 0);
    for (int i = 0; i < 64; i++) {
        float v = f32_data(&a, 0)[i];
        cr_assert(v >= -1 && v <= 1);
    }
    /* out tensors hold poison until written. */
    cr_assert(isnan(f32_data(&a, 2)[0]));
    done(&a);
    done(&b);
}

Test(data, random_f16_and_integers_in_range)
{
    Run r;
    int64_t sizes[] = {64};
    run(&r,
        "kernel k(H: f16[N], S: i8[N], U: u8[N], Y: out i32[N]) {\n"
        "    for i in 0..N { Y[i] = i32(S[i]) + i32(U[i]) + i32(H[i]); }\n"
        "}\n",
        sizes);
    bool neg = false;
    for (int i = 0; i < 64; i++) {
        double h = num_load(r.args.tensors[0].data, i, ELEM_F16);
        int64_t s = num_load_int(r.args.tensors[1].data, i, ELEM_I8);
        int64_t u = num_load_int(r.args.tensors[2].data, i, ELEM_U8);
        cr_assert(h >= -1 && h <= 1 && h * 1024 == floor(h * 1024));
        cr_assert(s >= -8 && s <= 8);
        cr_assert(u >= 0 && u <= 8);
        neg |= s < 0;
    }
    cr_assert(neg);
    const uint8_t *poison = r.args.tensors[3].data;
    cr_assert_eq(poison[0], 0x5A);
    done(&r);
}
