/* bench/cpu_gemm.sh's timing harness: accl's matmul (the object and header
 * that `accl examples/matmul.acc -o matmul.o --header matmul.h` writes) and
 * OpenBLAS cblas_sgemm on the same data, timed the same way.
 *
 *   usage: gemm_harness N   (M = N = K = N; threads from ACCL_NUM_THREADS and
 *                            OPENBLAS_NUM_THREADS)
 *          gemm_harness --info   (OpenBLAS's build configuration and the core
 *                                 kernel it chose)
 *
 * Each: one warm-up call, then accl and OpenBLAS calls in alternation on 4
 * copies of A, B, C in turn until about 2 s have passed (at least 5 each), so
 * a noisy machine slows both alike; each median time gives GFLOP/s (2 N^3
 * flops per call). Prints one line:
 *   accl GFLOPS openblas GFLOPS maxdiff D
 * where D is the largest |accl - openblas| over C relative to the largest |C|.
 * Exits 1 if accl returns an error or D > 1e-4. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <stdbool.h>
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

static double median_gflops(const Data *d, double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp);
    return 2.0 * (double)d->n * (double)d->n * (double)d->n / t[(n - 1) / 2] * 1e-9;
}

/* GFLOP/s of the median runs of accl and OpenBLAS, timed in alternation so a
 * noisy machine slows both alike. Returns false when an accl call fails. */
static bool time_both(const Data *d, double *accl, double *blas)
{
    double ta[MAX_RUNS], tb[MAX_RUNS];
    int n = 0;
    if (run_accl(d, 0) != 0)
        return false;
    run_openblas(d, 0);
    double start = now();
    while (n < MAX_RUNS) {
        int copy = (n + 1) % COPIES;
        double t0 = now();
        if (run_accl(d, copy) != 0)
            return false;
        double t1 = now();
        run_openblas(d, (copy + 1) % COPIES);
        double t2 = now();
        ta[n] = t1 - t0;
        tb[n++] = t2 - t1;
        if (n >= 5 && t2 - start >= 2.0)
            break;
    }
    *accl = median_gflops(d, ta, n);
    *blas = median_gflops(d, tb, n);
    return true;
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
    double accl = -1, blas = -1;
    bool ok = time_both(&d, &accl, &blas);
    /* The results of one call of each on the same inputs. */
    float *ours = calloc((size_t)(d.n * d.n), sizeof(float));
    if (ok && run_accl(&d, 0) == 0)
        memcpy(ours, d.c[0], bytes);
    run_openblas(&d, 0);
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
    return !ok || !(diff <= 1e-4);
}
