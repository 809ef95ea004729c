/* The JIT (src/emit/jit.c): kernel sources through the front end, the pass
 * list, code generation and ORC LLJIT, called through K.packed and checked
 * against plain C; the entry's error codes (null pointer, negative size,
 * violated assume); two kernels in one module; an unknown kernel; `?:` that
 * loads only in the arm taken. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "emit/jit.h"
#include "fixture.h"
#include "lower/compile.h"
#include "runtime/accl.h"

typedef struct JitTest {
    Fixture fx;
    IrFunc *funcs[4];
    int n;
    Jit *jit;
} JitTest;

static IrFunc *jt_lower(JitTest *t, Kernel *k)
{
    IrFunc *f = compile_kernel(&t->fx.compile, k, true, NULL);   /* with the CPU steps */
    cr_assert_not_null(f, "the pass list reported an error");
    return f;
}

/* Every kernel of text, lowered for the cpu and compiled into one JIT. */
static void jt_compile(JitTest *t, const char *text)
{
    memset(t, 0, sizeof *t);
    fixture_load(&t->fx, text, TARGET_CPU);
    t->n = t->fx.prog->nkernels;
    cr_assert(t->n <= 4);
    for (int i = 0; i < t->n; i++)
        t->funcs[i] = jt_lower(t, t->fx.prog->kernels[i]);
    char *err = NULL;
    t->jit = jit_compile(t->funcs, t->n, &t->fx.diag, &err);
    cr_assert_not_null(t->jit, "jit_compile failed: %s", err ? err : "(a diagnostic)");
}

static JitPackedFn jt_fn(JitTest *t, const char *kernel)
{
    char *err = NULL;
    JitPackedFn fn = jit_lookup(t->jit, kernel, &err);
    cr_assert_not_null(fn, "lookup of %s failed: %s", kernel, err ? err : "?");
    return fn;
}

static void jt_free(JitTest *t)
{
    jit_free(t->jit);
    fixture_free(&t->fx);
}

static const char saxpy_src[] =
    "kernel saxpy(a: f32, X: f32[N], Y: inout f32[N]) {\n"
    "    for i in 0..N { Y[i] = a * X[i] + Y[i]; }\n"
    "}\n"
    "schedule saxpy for cpu {\n"
    "    split i by 16 -> io, ii;\n"
    "    parallel io;\n"
    "    vectorize ii;\n"
    "}\n";

/* A scalar, a vectorized and parallel loop with a tail (N = 37): small
 * integers, so every result is exact. */
Test(jit, saxpy_matches_c)
{
    JitTest t;
    jt_compile(&t, saxpy_src);
    JitPackedFn fn = jt_fn(&t, "saxpy");
    enum { N = 37 };
    float x[N], y[N], want[N], a = 3;
    for (int i = 0; i < N; i++) {
        x[i] = (float)(i % 7 - 3);
        y[i] = (float)(i % 5);
        want[i] = a * x[i] + y[i];
    }
    float *px = x, *py = y;
    int64_t n = N;
    void *args[] = {&a, &px, &py, &n};
    cr_assert_eq(fn(args), ACCL_OK);
    for (int i = 0; i < N; i++)
        cr_assert_eq(y[i], want[i], "Y[%d] = %g, want %g", i, y[i], want[i]);
    jt_free(&t);
}

/* The error codes of the entry: nothing is written when a check fails. */
Test(jit, null_pointer_and_negative_size)
{
    JitTest t;
    jt_compile(&t, saxpy_src);
    JitPackedFn fn = jt_fn(&t, "saxpy");
    float a = 2, y[4] = {1, 2, 3, 4};
    float *px = NULL, *py = y;
    int64_t n = 4;
    void *args[] = {&a, &px, &py, &n};
    cr_assert_eq(fn(args), ACCL_ERR_NULL);
    cr_assert_eq(y[0], 1);
    cr_assert_str_eq(accl_strerror(ACCL_ERR_NULL), "a tensor pointer is NULL");
    n = 0;  /* no elements: a NULL pointer is allowed */
    cr_assert_eq(fn(args), ACCL_OK);
    n = -1;
    float x[4] = {0};
    px = x;
    cr_assert_eq(fn(args), ACCL_ERR_BAD_SIZE);
    cr_assert_eq(y[3], 4);
    jt_free(&t);
}

/* A violated assume returns ACCL_ERR_ASSUME before any work. */
Test(jit, violated_assume)
{
    JitTest t;
    jt_compile(&t,
               "kernel scale(X: f32[N], Y: out f32[N]) {\n"
               "    for i in 0..N { Y[i] = X[i] * 2.0; }\n"
               "}\n"
               "schedule scale for cpu {\n"
               "    assume N % 8 == 0;\n"
               "    split i by 8 -> io, ii;\n"
               "    vectorize ii;\n"
               "}\n");
    JitPackedFn fn = jt_fn(&t, "scale");
    float x[16], y[16];
    for (int i = 0; i < 16; i++)
        x[i] = (float)i, y[i] = -1;
    float *px = x, *py = y;
    int64_t n = 12;
    void *args[] = {&px, &py, &n};
    cr_assert_eq(fn(args), ACCL_ERR_ASSUME);
    cr_assert_eq(y[0], -1);
    n = 16;
    cr_assert_eq(fn(args), ACCL_OK);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(y[i], 2.0f * (float)i);
    jt_free(&t);
}

/* matmul with a tiled, cached, vectorized CPU schedule at sizes that are not
 * multiples of the tiles, against a plain C triple loop (integer data: exact). */
Test(jit, tiled_matmul_matches_c)
{
    JitTest t;
    jt_compile(&t,
               "kernel mm(A: f32[M, K], B: f32[K, N], C: out f32[M, N]) {\n"
               "    init: for i in 0..M, j in 0..N { C[i, j] = 0.0; }\n"
               "    update: for i in 0..M, j in 0..N, k in 0..K { C[i, j] += A[i, k] * B[k, j]; }\n"
               "}\n"
               "schedule mm for cpu {\n"
               "    in update {\n"
               "        tile i, j, k by 8, 32, 16 -> io, jo, ko, ii, ji, ki;\n"
               "        split ji by 16 -> jv, jl;\n"
               "        reorder ki, ii, jv, jl;\n"
               "        parallel io;\n"
               "        cache B at ko in shared;\n"
               "        unroll jv; vectorize jl;\n"
               "    }\n"
               "}\n");
    JitPackedFn fn = jt_fn(&t, "mm");
    enum { M = 19, N = 45, K = 23 };
    float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
    float *C = malloc(sizeof(float) * M * N);
    for (int i = 0; i < M * K; i++)
        A[i] = (float)(i % 9 - 4);
    for (int i = 0; i < K * N; i++)
        B[i] = (float)(i % 5 - 2);
    for (int i = 0; i < M * N; i++)
        C[i] = NAN;
    int64_t m = M, n = N, k = K;
    void *args[] = {&A, &B, &C, &m, &k, &n};  /* sizes in order of first appearance */
    cr_assert_eq(fn(args), ACCL_OK);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float want = 0;
            for (int p = 0; p < K; p++)
                want += A[i * K + p] * B[p * N + j];
            cr_assert_eq(C[i * N + j], want, "C[%d, %d] = %g, want %g", i, j, C[i * N + j], want);
        }
    free(A), free(B), free(C);
    jt_free(&t);
}

/* Two kernels in one module, integer and f64 scalars; a kernel that is not
 * there is not found. */
Test(jit, two_kernels_and_an_unknown_one)
{
    JitTest t;
    jt_compile(&t,
               "kernel addc(X: i32[N], Y: out i32[N], c: i32) {\n"
               "    for i in 0..N { Y[i] = X[i] + c; }\n"
               "}\n"
               "kernel scaled(X: f64[N], Y: out f64[N], s: f64) {\n"
               "    for i in 0..N { Y[i] = X[i] * s; }\n"
               "}\n");
    JitPackedFn addc = jt_fn(&t, "addc"), scaled = jt_fn(&t, "scaled");
    int32_t xi[5] = {-2, -1, 0, 1, 2147483647}, yi[5], c = 1;
    int32_t *pxi = xi, *pyi = yi;
    int64_t n = 5;
    void *a1[] = {&pxi, &pyi, &c, &n};
    cr_assert_eq(addc(a1), ACCL_OK);
    cr_assert_eq(yi[0], -1);
    cr_assert_eq(yi[3], 2);
    cr_assert_eq(yi[4], INT32_MIN, "i32 wraps");
    double xd[5] = {1, 2, 3, 4, 0.5}, yd[5], s = 0.25;
    double *pxd = xd, *pyd = yd;
    void *a2[] = {&pxd, &pyd, &s, &n};
    cr_assert_eq(scaled(a2), ACCL_OK);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(yd[i], xd[i] * 0.25);
    char *err = NULL;
    cr_assert_null(jit_lookup(t.jit, "nosuch", &err));
    cr_assert_not_null(err);
    cr_assert_not_null(strstr(err, "nosuch.packed"), "%s", err);
    free(err);
    jt_free(&t);
}

/* `?:` evaluates only the arm taken (SPEC, Kernels): a guarded read of X[i - 1]
 * or X[i + 1] at the edges must not happen, in scalar and in vector code. X is
 * placed against an inaccessible page, first at its start and then at its end,
 * so a speculated load faults. */
Test(jit, select_loads_only_the_arm_taken)
{
    JitTest t;
    jt_compile(&t,
               "kernel around(X: f32[N], Y: out f32[N]) {\n"
               "    for i in 0..N { Y[i] = (i >= 1 ? X[i - 1] : 0.0) + (i + 1 < N ? X[i + 1] : 0.0); }\n"
               "}\n"
               "kernel around_v(X: f32[N], Y: out f32[N]) {\n"
               "    for i in 0..N {\n"
               "        Y[i] = i >= 1 ? (i + 1 < N ? X[i - 1] + X[i + 1] : X[i - 1]) : (N > 1 ? X[i + 1] : 0.0);\n"
               "    }\n"
               "}\n"
               "schedule around_v for cpu {\n"
               "    split i by 8 -> io, ii;\n"
               "    vectorize ii;\n"
               "}\n");
    JitPackedFn fns[2] = {jt_fn(&t, "around"), jt_fn(&t, "around_v")};
    long page = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, (size_t)page * 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(m, MAP_FAILED);
    cr_assert_eq(mprotect(m, (size_t)page, PROT_NONE), 0);
    cr_assert_eq(mprotect(m + 2 * page, (size_t)page, PROT_NONE), 0);
    enum { N = 37 };
    float *at[2] = {(float *)(m + page), (float *)(m + 2 * page) - N};
    for (int f = 0; f < 2; f++)
        for (int w = 0; w < 2; w++) {
            float *x = at[w], y[N];
            for (int i = 0; i < N; i++)
                x[i] = (float)(i % 7 + 1);
            float *py = y;
            int64_t n = N;
            void *args[] = {&x, &py, &n};
            cr_assert_eq(fns[f](args), ACCL_OK);
            for (int i = 0; i < N; i++) {
                float want = (i >= 1 ? x[i - 1] : 0.0f) + (i + 1 < N ? x[i + 1] : 0.0f);
                cr_assert_eq(y[i], want, "kernel %d, X at %s: Y[%d] = %g, want %g", f,
                             w ? "the end" : "the start", i, y[i], want);
            }
        }
    munmap(m, (size_t)page * 3);
    jt_free(&t);
}
