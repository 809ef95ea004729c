/* The runtime: accl_parallel_for (coverage, chunk boundaries, nesting,
 * concurrent callers), accl_num_threads and ACCL_NUM_THREADS, accl_strerror.
 * Criterion runs each test in its own process, so each test may set
 * ACCL_NUM_THREADS before the pool starts. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/accl.h"

enum { MAX_N = 1000, MAX_CHUNKS = 64 };

/* How often each index was visited, and the chunks handed out. */
typedef struct Cover {
    atomic_int hits[MAX_N];
    atomic_int nchunks;
    int64_t lo[MAX_CHUNKS], hi[MAX_CHUNKS];
} Cover;

static void cover_fn(void *ctx, int64_t lo, int64_t hi)
{
    Cover *c = ctx;
    int k = atomic_fetch_add(&c->nchunks, 1);
    if (k < MAX_CHUNKS)
        c->lo[k] = lo, c->hi[k] = hi;
    for (int64_t i = lo; i < hi; i++)
        atomic_fetch_add(&c->hits[i], 1);
}

static void set_threads(const char *v)
{
    cr_assert_eq(setenv("ACCL_NUM_THREADS", v, 1), 0);
}

/* Runs n through the pool and checks [0, n) is covered exactly once by
 * min(n, threads) chunks with the documented boundaries. */
static void check_cover(int64_t n)
{
    Cover *c = calloc(1, sizeof *c);
    accl_parallel_for(cover_fn, c, n);
    for (int64_t i = 0; i < n; i++)
        cr_assert_eq(atomic_load(&c->hits[i]), 1, "n=%lld: index %lld visited %d times",
                     (long long)n, (long long)i, atomic_load(&c->hits[i]));
    int64_t t = accl_num_threads();
    int64_t chunks = n <= 0 ? 0 : n < t ? n : t;
    cr_assert_eq(atomic_load(&c->nchunks), chunks, "n=%lld: %d chunks, expected %lld",
                 (long long)n, atomic_load(&c->nchunks), (long long)chunks);
    /* Chunk c is [c*q + min(c, r), ...): sort the recorded chunks by lo. */
    int64_t q = chunks ? n / chunks : 0, r = chunks ? n % chunks : 0;
    for (int64_t k = 0; k < chunks; k++) {
        int64_t lo = k * q + (k < r ? k : r), hi = lo + q + (k < r ? 1 : 0);
        bool found = false;
        for (int64_t m = 0; m < chunks; m++)
            found |= c->lo[m] == lo && c->hi[m] == hi;
        cr_assert(found, "n=%lld: chunk [%lld, %lld) missing", (long long)n, (long long)lo,
                  (long long)hi);
    }
    free(c);
}

static void check_sizes(void)
{
    const int64_t sizes[] = {0, 1, 7, 1000, -5};
    for (int i = 0; i < 5; i++)
        check_cover(sizes[i]);
}

Test(runtime, covers_once_one_thread)
{
    set_threads("1");
    cr_assert_eq(accl_num_threads(), 1);
    check_sizes();
}

Test(runtime, covers_once_two_threads)
{
    set_threads("2");
    cr_assert_eq(accl_num_threads(), 2);
    check_sizes();
}

Test(runtime, covers_once_three_threads)
{
    set_threads("3");
    cr_assert_eq(accl_num_threads(), 3);
    check_sizes();
}

Test(runtime, covers_once_eight_threads)
{
    set_threads("8");
    cr_assert_eq(accl_num_threads(), 8);
    check_sizes();
    /* Many calls in a row reuse the same workers. */
    for (int i = 0; i < 200; i++)
        check_cover(1 + i % 50);
}

Test(runtime, bad_thread_counts_mean_all_cores)
{
    const char *bad[] = {"0", "-3", "abc", "4x", "", "100000"};
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    /* Each value is tried in a child process: the pool starts once per process. */
    for (int i = 0; i < 6; i++) {
        pid_t pid = fork();
        cr_assert_neq(pid, -1);
        if (pid == 0) {
            setenv("ACCL_NUM_THREADS", bad[i], 1);
            _exit(accl_num_threads() == (cores < 1 ? 1 : cores) ? 0 : 1);
        }
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "ACCL_NUM_THREADS='%s' did not give %ld threads", bad[i], cores);
    }
}

/* A nested call runs serially, as one chunk, in the thread that made it. */
typedef struct Nested {
    atomic_int outer_calls;
    atomic_int inner_calls;
    atomic_int inner_wrong;   /* inner chunks not [0, 5) or on another thread */
    atomic_int hits;
} Nested;

typedef struct InnerCtx {
    Nested *nested;
    pthread_t self;
} InnerCtx;

static void inner_fn(void *ctx, int64_t lo, int64_t hi)
{
    InnerCtx *ic = ctx;
    atomic_fetch_add(&ic->nested->inner_calls, 1);
    if (lo != 0 || hi != 5 || !pthread_equal(ic->self, pthread_self()))
        atomic_fetch_add(&ic->nested->inner_wrong, 1);
    atomic_fetch_add(&ic->nested->hits, (int)(hi - lo));
}

static void outer_fn(void *ctx, int64_t lo, int64_t hi)
{
    Nested *n = ctx;
    atomic_fetch_add(&n->outer_calls, 1);
    for (int64_t i = lo; i < hi; i++) {
        InnerCtx ic = {.nested = n, .self = pthread_self()};
        accl_parallel_for(inner_fn, &ic, 5);
    }
}

Test(runtime, nested_calls_run_serially)
{
    set_threads("4");
    Nested n = {0};
    accl_parallel_for(outer_fn, &n, 8);
    cr_assert_eq(atomic_load(&n.outer_calls), 4);
    cr_assert_eq(atomic_load(&n.inner_calls), 8, "each inner call is one serial chunk");
    cr_assert_eq(atomic_load(&n.inner_wrong), 0);
    cr_assert_eq(atomic_load(&n.hits), 40);
}

/* Two user threads call the pool at once, many times. */
typedef struct Caller {
    int rounds;
    int errors;
} Caller;

static void *caller_main(void *arg)
{
    Caller *c = arg;
    for (int r = 0; r < c->rounds; r++) {
        int64_t n = 1 + (r * 37) % MAX_N;
        Cover *cv = calloc(1, sizeof *cv);
        accl_parallel_for(cover_fn, cv, n);
        for (int64_t i = 0; i < n; i++)
            c->errors += atomic_load(&cv->hits[i]) != 1;
        free(cv);
    }
    return NULL;
}

Test(runtime, concurrent_callers)
{
    set_threads("3");
    Caller a = {.rounds = 300}, b = {.rounds = 300};
    pthread_t ta, tb;
    cr_assert_eq(pthread_create(&ta, NULL, caller_main, &a), 0);
    cr_assert_eq(pthread_create(&tb, NULL, caller_main, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    cr_assert_eq(a.errors, 0);
    cr_assert_eq(b.errors, 0);
}

Test(runtime, strerror_every_code)
{
    const int codes[] = {ACCL_OK,       ACCL_ERR_BAD_SIZE,      ACCL_ERR_ASSUME, ACCL_ERR_NULL,
                         ACCL_ERR_OUT_OF_MEMORY, ACCL_ERR_NO_DEVICE, ACCL_ERR_LAUNCH};
    const char *unknown = accl_strerror(99);
    cr_assert_str_eq(unknown, "unknown accl error code");
    cr_assert_str_eq(accl_strerror(-1), unknown);
    for (int i = 0; i < 7; i++) {
        cr_assert_eq(codes[i], i, "codes are 0..6 in order");
        const char *s = accl_strerror(codes[i]);
        cr_assert(s && *s);
        cr_assert_str_neq(s, unknown);
        for (int j = 0; j < i; j++)
            cr_assert_str_neq(s, accl_strerror(codes[j]));
    }
    cr_assert_str_eq(accl_strerror(ACCL_ERR_NULL), "a tensor pointer is NULL");
}
