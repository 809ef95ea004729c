/* bench/cpu_gemm.sh's timing harness: accl's matmul (the object and header
 * that `accl examples/matmul.acc -o matmul.o --header matmul.h` writes) and
 * OpenBLAS cblas_sgemm on the same data, timed the same way.
 *
 *   usage: gemm_harness N   (M = N = K = N; threads from ACCL_NUM_THREADS and
 *                            OPENBLAS_NUM_THREADS)
 *          gemm_harness --info   (OpenBLAS's build configuration and the core
 *                                 kernel it chose)
 *
 * Each: one warm-up call, then calls on 4 copies of A, B, C in turn until
 * about 1 s has passed (at least 3); the median time gives GFLOP/s (2 N^3
 * flops per call). Prints one line:
 *   accl GFLOPS openblas GFLOPS maxdiff D
 * where D is the largest |accl - openblas| over C relative to the largest |C|.
 * Exits 1 if accl returns an error or D > 1e-4. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "matmul.h"

enum { COPIES = 4, MAX_RUNS = 200 };

typedef struct Data {
    int64_t n;
    float *a[COPIES], *b[COPIES], *c[COPIES];
} Data;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static float *matrix(int64_t n, uint64_t seed)
{
    float *m = aligned_alloc(64, (size_t)(n * n) * sizeof *m);
    uint64_t s = seed;
    for (int64_t i = 0; i < n * n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        m[i] = (float)((int)(s >> 40) % 2001 - 1000) / 1000.0f;
    }
    return m;
}

static int run_accl(const Data *d, int i)
{
    return matmul(d->a[i], d->b[i], d->c[i], d->n, d->n, d->n);
}

static int run_openblas(const Data *d, int i)
{
    int n = (int)d->n;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, d->a[i], n, d->b[i], n,
                0.0f, d->c[i], n);
    return 0;
}

/* GFLOP/s of the median run, or -1 when a call fails. */
static double time_gemm(const Data *d, int (*fn)(const Data *, int))
{
    double t[MAX_RUNS];
    int n = 0;
    if (fn(d, 0) != 0)
        return -1;
    double start = now();
    while (n < MAX_RUNS) {
        double t0 = now();
        if (fn(d, (n + 1) % COPIES) != 0)
            return -1;
        double t1 = now();
        t[n++] = t1 - t0;
        if (n >= 3 && t1 - start >= 1.0)
            break;
    }
    qsort(t, (size_t)n, sizeof *t, cmp);
    return 2.0 * (double)d->n * (double)d->n * (double)d->n / t[(n - 1) / 2] * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--info") == 0) {
        printf("%s; core %s\n", openblas_get_config(), openblas_get_corename());
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: %s N\n", argv[0]);
        return 2;
    }
    Data d = {.n = atoll(argv[1])};
    size_t bytes = (size_t)(d.n * d.n) * sizeof(float);
    for (int i = 0; i < COPIES; i++) {
        d.a[i] = matrix(d.n, 1);
        d.b[i] = matrix(d.n, 2);
        d.c[i] = aligned_alloc(64, bytes);
        memset(d.c[i], 0, bytes);
    }
    double accl = time_gemm(&d, run_accl);
    float *ours = malloc(bytes);
    memcpy(ours, d.c[0], bytes);
    double blas = time_gemm(&d, run_openblas);
    double diff = 0, big = 0;
    for (int64_t i = 0; i < d.n * d.n; i++) {
        diff = fmax(diff, fabs((double)ours[i] - (double)d.c[0][i]));
        big = fmax(big, fabs((double)d.c[0][i]));
    }
    diff = big > 0 ? diff / big : diff;
    printf("accl %.2f openblas %.2f maxdiff %.3g\n", accl, blas, diff);
    for (int i = 0; i < COPIES; i++)
        free(d.a[i]), free(d.b[i]), free(d.c[i]);
    free(ours);
    return accl < 0 || !(diff <= 1e-4);
}
