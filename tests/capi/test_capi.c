/* The C API: kernels compiled to objects with their generated headers,
 * linked with libaccrt.a, checked against plain C loops, with the error
 * codes of the entry checks (nothing written when one fails).
 *
 *   test_capi          every check; ends with `capi: N passed, N failed`
 *   test_capi --bits   prints a hash of the outputs of the parallel kernels on
 *                      fixed data (run.sh compares it across ACCL_NUM_THREADS) */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Several generated headers in one translation unit: the runtime's part of
 * each is guarded once. */
#include "assume.h"
#include "half.h"
#include "layernorm.h"
#include "matmul.h"
#include "outscalar.h"
#include "softmax.h"

/* The uniform entry K.packed is in the object too (for the JIT). */
int matmul_packed(void **args) __asm__("matmul.packed");

#include "check.h"

/* ---- data ---- */

static uint64_t rng_state = 1;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static float rng_float(void)
{
    return (float)((double)(rng_next() >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static float *random_floats(int64_t n)
{
    float *p = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    for (int64_t i = 0; i < n; i++)
        p[i] = rng_float();
    return p;
}

/* A buffer filled with a byte pattern, to see that nothing was written. */
static float *sentinel_floats(int64_t n)
{
    float *p = malloc(sizeof(float) * (size_t)n);
    memset(p, 0x5a, sizeof(float) * (size_t)n);
    return p;
}

static bool untouched(const float *p, int64_t n)
{
    const unsigned char *b = (const unsigned char *)p;
    for (size_t i = 0; i < sizeof(float) * (size_t)n; i++)
        if (b[i] != 0x5a)
            return false;
    return true;
}

/* ---- plain C references (double) ---- */

static void ref_matmul(const float *A, const float *B, double *C, double *mag, int64_t M, int64_t K,
                       int64_t N)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0, m = 0;
            for (int64_t k = 0; k < K; k++) {
                s += (double)A[i * K + k] * B[k * N + j];
                m += fabs((double)A[i * K + k] * B[k * N + j]);
            }
            C[i * N + j] = s, mag[i * N + j] = m;
        }
}

static void check_matmul(int64_t M, int64_t K, int64_t N)
{
    float *A = random_floats(M * K), *B = random_floats(K * N), *C = sentinel_floats(M * N + 1);
    double *ref = malloc(sizeof(double) * (size_t)(M * N + 1)), *mag = malloc(sizeof(double) * (size_t)(M * N + 1));
    int rc = matmul(A, B, C, M, K, N);
    CHECK(rc == ACCL_OK, "matmul %lldx%lldx%lld returned %d", (long long)M, (long long)K, (long long)N, rc);
    ref_matmul(A, B, ref, mag, M, K, N);
    int64_t bad = 0;
    for (int64_t i = 0; i < M * N; i++)
        bad += !(fabs(C[i] - ref[i]) <= 2.0 * (double)(K + 2) * FLT_EPSILON * mag[i] + 1e-30);
    CHECK(bad == 0, "matmul %lldx%lldx%lld: %lld elements off", (long long)M, (long long)K, (long long)N,
          (long long)bad);
    free(A), free(B), free(C), free(ref), free(mag);
}

static void ref_layernorm(const float *X, const float *g, const float *b, float eps, double *Y,
                          int64_t R, int64_t N)
{
    for (int64_t r = 0; r < R; r++) {
        double mean = 0, var = 0;
        for (int64_t c = 0; c < N; c++)
            mean += X[r * N + c];
        mean /= (double)N;
        for (int64_t c = 0; c < N; c++)
            var += (X[r * N + c] - mean) * (X[r * N + c] - mean);
        double rstd = 1.0 / sqrt(var / (double)N + eps);
        for (int64_t c = 0; c < N; c++)
            Y[r * N + c] = (X[r * N + c] - mean) * rstd * g[c] + b[c];
    }
}

static void check_layernorm(int64_t R, int64_t N)
{
    float *X = random_floats(R * N), *g = random_floats(N), *b = random_floats(N);
    float *Y = sentinel_floats(R * N);
    double *ref = malloc(sizeof(double) * (size_t)(R * N));
    int rc = layernorm(X, g, b, 1e-5f, Y, R, N);
    CHECK(rc == ACCL_OK, "layernorm returned %d", rc);
    ref_layernorm(X, g, b, 1e-5f, ref, R, N);
    int64_t bad = 0;
    for (int64_t i = 0; i < R * N; i++)
        bad += !(fabs(Y[i] - ref[i]) <= 1e-4 * (1 + fabs(ref[i])));
    CHECK(bad == 0, "layernorm %lldx%lld: %lld elements off", (long long)R, (long long)N, (long long)bad);
    free(X), free(g), free(b), free(Y), free(ref);
}

static void check_softmax(int64_t R, int64_t N)
{
    float *X = random_floats(R * N), *Y = sentinel_floats(R * N);
    for (int64_t i = 0; i < R * N; i++)
        X[i] *= 20;   /* exp of values far from 0 */
    int rc = softmax(X, Y, R, N);
    CHECK(rc == ACCL_OK, "softmax returned %d", rc);
    int64_t bad = 0;
    for (int64_t r = 0; r < R; r++) {
        double m = -INFINITY, s = 0;
        for (int64_t c = 0; c < N; c++)
            m = fmax(m, X[r * N + c]);
        for (int64_t c = 0; c < N; c++)
            s += exp(X[r * N + c] - m);
        for (int64_t c = 0; c < N; c++) {
            double want = exp(X[r * N + c] - m) / s;
            bad += !(fabs(Y[r * N + c] - want) <= 1e-5 * want + 1e-12);
        }
    }
    CHECK(bad == 0, "softmax %lldx%lld: %lld elements off", (long long)R, (long long)N, (long long)bad);
    free(X), free(Y);
}

/* ---- the entry checks ---- */

static void check_error_codes(void)
{
    float A[6] = {1, 2, 3, 4, 5, 6}, B[6] = {1, 0, 0, 1, 1, 1};
    float *C = sentinel_floats(4);
    CHECK(matmul(NULL, B, C, 2, 3, 2) == ACCL_ERR_NULL, "NULL A gives ACCL_ERR_NULL");
    CHECK(untouched(C, 4), "NULL A: C unchanged");
    CHECK(matmul(A, B, NULL, 2, 3, 2) == ACCL_ERR_NULL, "NULL C gives ACCL_ERR_NULL");
    CHECK(matmul(A, B, C, -1, 3, 2) == ACCL_ERR_BAD_SIZE, "M = -1 gives ACCL_ERR_BAD_SIZE");
    CHECK(matmul(NULL, B, C, 2, -3, 2) == ACCL_ERR_BAD_SIZE, "a bad size is checked before NULL");
    CHECK(untouched(C, 4), "bad size: C unchanged");
    /* No elements: NULL is fine, and nothing is read or written. */
    CHECK(matmul(NULL, NULL, NULL, 0, 0, 0) == ACCL_OK, "matmul of nothing with NULLs");
    CHECK(matmul(NULL, NULL, C, 2, 0, 2) == ACCL_OK, "K = 0 with NULL A and B");
    CHECK(C[0] == 0 && C[3] == 0, "K = 0 zeroes C");
    free(C);

    /* assume N % 8 == 0 */
    float X[64], *Y = sentinel_floats(64);
    for (int i = 0; i < 64; i++)
        X[i] = (float)i - 20;
    CHECK(scale(X, 1.5f, Y, 60) == ACCL_ERR_ASSUME, "N = 60 violates the assume");
    CHECK(untouched(Y, 64), "violated assume: Y unchanged");
    CHECK(scale(NULL, 1.5f, Y, 60) == ACCL_ERR_NULL, "NULL is checked before the assume");
    CHECK(scale(X, 1.5f, Y, -8) == ACCL_ERR_BAD_SIZE, "N = -8 gives ACCL_ERR_BAD_SIZE");
    CHECK(untouched(Y, 64), "Y still unchanged");
    CHECK(scale(X, 1.5f, Y, 64) == ACCL_OK, "N = 64 holds the assume");
    bool exact = true;
    for (int i = 0; i < 64; i++)
        exact &= Y[i] == 1.5f * X[i];
    CHECK(exact, "scale values");
    CHECK(scale(NULL, 1.5f, NULL, 0) == ACCL_OK, "N = 0 (a multiple of 8) with NULLs");
    free(Y);

    /* Y: f32[N - R + 1] */
    float W[3] = {0.5f, -1, 2}, *Z = sentinel_floats(10);
    CHECK(conv1d(X, W, Z, 3, 5) == ACCL_ERR_BAD_SIZE, "N - R + 1 < 0 gives ACCL_ERR_BAD_SIZE");
    CHECK(untouched(Z, 10), "bad shape entry: Y unchanged");
    CHECK(conv1d(X, W, Z, 10, 3) == ACCL_OK, "conv1d N = 10, R = 3");
    bool conv_ok = true;
    for (int i = 0; i < 8; i++)
        conv_ok &= Z[i] == X[i] * W[0] + X[i + 1] * W[1] + X[i + 2] * W[2];
    CHECK(conv_ok && untouched(Z + 8, 2), "conv1d values, and nothing past N - R + 1");
    CHECK(conv1d(X, W, NULL, 2, 3) == ACCL_OK, "N - R + 1 = 0: Y may be NULL");
    free(Z);
}

/* Scalars of every C type class reach the kernel with their values. */
static void check_scalars(void)
{
    int32_t X[4] = {10, -20, 30, -40};
    int64_t Y[4];
    int rc = mix(X, true, -3, -300, 200, 4000000000u, -5, 2.75, Y, 4);
    CHECK(rc == ACCL_OK, "mix returned %d", rc);
    bool ok = true;
    for (int i = 0; i < 4; i++)
        ok &= Y[i] == (int64_t)X[i] - 3 - 300 + 200 + 4000000000ll - 5 + 2;
    CHECK(ok, "mix with b = true: %lld", (long long)Y[0]);
    rc = mix(X, false, -3, -300, 200, 4000000000u, -5, 2.75, Y, 4);
    ok = rc == ACCL_OK;
    for (int i = 0; i < 4; i++)
        ok &= Y[i] == (int64_t)X[i] + 3;
    CHECK(ok, "mix with b = false: %lld", (long long)Y[0]);
}

static accl_f16 to_f16(float f)
{
    _Float16 h = (_Float16)f;
    accl_f16 bits;
    memcpy(&bits, &h, 2);
    return bits;
}

static float from_f16(accl_f16 bits)
{
    _Float16 h;
    memcpy(&h, &bits, 2);
    return (float)h;
}

/* f16 storage: read exactly, f32 arithmetic (a*x + b may be an fma), stores
 * round to nearest even. */
static void check_half(void)
{
    enum { N = 77 };
    accl_f16 X[N], Y[N];
    for (int i = 0; i < N; i++)
        X[i] = to_f16(rng_float() * 100);
    accl_f16 a = to_f16(0.3f);
    float b = 1.0f / 3;
    int rc = hscale(X, a, b, Y, N);
    CHECK(rc == ACCL_OK, "hscale returned %d", rc);
    int bad = 0;
    for (int i = 0; i < N; i++) {
        float x = from_f16(X[i]), av = from_f16(a);
        accl_f16 plain = to_f16(x * av + b), fused = to_f16(fmaf(x, av, b));
        bad += Y[i] != plain && Y[i] != fused;
    }
    CHECK(bad == 0, "hscale: %d elements off", bad);
}

/* Out and inout scalars: pointers, written only when the call returns ACCL_OK. */
static void check_out_scalars(void)
{
    enum { N = 37 };
    float X[N];
    for (int i = 0; i < N; i++)
        X[i] = rng_float();
    X[5] = X[23] = 2.0f;
    int32_t best = -7;
    CHECK(argmax(X, &best, N) == ACCL_OK && best == 5, "argmax: %d", (int)best);
    CHECK(argmax(X + 6, &best, N - 6) == ACCL_OK && best == 17, "argmax of a suffix: %d", (int)best);
    CHECK(argmax(NULL, NULL, 0) == ACCL_ERR_NULL, "a NULL out scalar gives ACCL_ERR_NULL");
    best = -7;
    CHECK(argmax(X, &best, 0) == ACCL_OK && best == 2147483647, "argmax of nothing: %d", (int)best);
    best = -7;
    CHECK(argmax(NULL, &best, 3) == ACCL_ERR_NULL && best == -7, "NULL X: best untouched");
    CHECK(argmax(X, &best, -1) == ACCL_ERR_BAD_SIZE && best == -7, "N = -1: best untouched");

    double total = 1.5, sum = 1.5;
    bool any = false;
    accl_f16 last = 0x1234;
    for (int i = 0; i < N; i++)
        sum += X[i];
    CHECK(stats(X, &total, &any, &last, N) == ACCL_OK, "stats");
    CHECK(fabs(total - sum) <= 1e-12 * N, "inout total: %.17g, want %.17g", total, sum);
    CHECK(any && last == to_f16(X[N - 1]), "stats: any %d, last %04x", (int)any, (unsigned)last);
    total = 1.5;
    CHECK(stats(X, &total, &any, &last, 0) == ACCL_OK && total == 1.5 && !any && last == 0,
          "stats of nothing keeps total, writes any and last");
    total = 9.0, any = true, last = 0x1234;
    CHECK(stats(NULL, &total, &any, &last, 4) == ACCL_ERR_NULL && total == 9.0 && any &&
              last == 0x1234,
          "NULL X: every scalar untouched");
}

static void check_strerror(void)
{
    CHECK(ACCL_OK == 0 && ACCL_ERR_BAD_SIZE == 1 && ACCL_ERR_ASSUME == 2 && ACCL_ERR_NULL == 3 &&
              ACCL_ERR_OUT_OF_MEMORY == 4 && ACCL_ERR_NO_DEVICE == 5 && ACCL_ERR_LAUNCH == 6,
          "the codes' values");
    CHECK(strcmp(accl_strerror(ACCL_OK), "success") == 0, "strerror(OK)");
    CHECK(strcmp(accl_strerror(ACCL_ERR_NULL), "a tensor pointer is NULL") == 0, "strerror(NULL)");
    CHECK(strcmp(accl_strerror(ACCL_ERR_ASSUME),
                 "an assumption of the schedule does not hold for these sizes") == 0,
          "strerror(ASSUME)");
    CHECK(strcmp(accl_strerror(ACCL_ERR_BAD_SIZE), "a size or a shape entry is negative") == 0,
          "strerror(BAD_SIZE)");
    CHECK(strcmp(accl_strerror(42), "unknown accl error code") == 0, "strerror(42)");
}

static void check_packed(void)
{
    float A[4] = {1, 2, 3, 4}, B[4] = {5, 6, 7, 8}, C[4];
    const float *a = A, *b = B;
    float *c = C;
    int64_t M = 2, K = 2, N = 2, minus = -2;
    void *args[] = {&a, &b, &c, &M, &K, &N};
    CHECK(matmul_packed(args) == ACCL_OK, "matmul.packed");
    CHECK(C[0] == 19 && C[1] == 22 && C[2] == 43 && C[3] == 50, "matmul.packed values");
    args[3] = &minus;
    CHECK(matmul_packed(args) == ACCL_ERR_BAD_SIZE, "matmul.packed checks too");
}

/* FNV-1a over the bytes of the outputs of the kernels with parallel loops. */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static int print_bits(void)
{
    enum { M = 200, K = 150, N = 300, R = 67, C = 129 };
    uint64_t h = 0xcbf29ce484222325ull;
    float *A = random_floats(M * K), *B = random_floats(K * N), *Cm = random_floats(M * N);
    int rc = matmul(A, B, Cm, M, K, N);
    h = hash_bytes(h, Cm, sizeof(float) * M * N);
    float *X = random_floats(R * C), *g = random_floats(C), *b = random_floats(C), *Y = random_floats(R * C);
    rc |= layernorm(X, g, b, 1e-5f, Y, R, C);
    h = hash_bytes(h, Y, sizeof(float) * R * C);
    rc |= softmax(X, Y, R, C);
    h = hash_bytes(h, Y, sizeof(float) * R * C);
    printf("rc %d hash %016llx\n", rc, (unsigned long long)h);
    free(A), free(B), free(Cm), free(X), free(g), free(b), free(Y);
    return rc != 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--bits") == 0)
        return print_bits();
    check_matmul(37, 61, 45);
    check_matmul(1, 1, 1);
    check_matmul(100, 300, 70);
    check_matmul(7, 257, 129);
    check_layernorm(13, 67);
    check_layernorm(1, 1);
    check_softmax(9, 100);
    check_softmax(3, 1);
    check_error_codes();
    check_scalars();
    check_half();
    check_out_scalars();
    check_strerror();
    check_packed();
    printf("capi: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
