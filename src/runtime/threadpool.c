/* The runtime's thread pool: what `parallel` loops of generated code run on.
 *
 * One pool per process, started on first use (pthread_once), with
 * ACCL_NUM_THREADS threads in all (the caller counts as one; default: every
 * online core). This is the one piece of process-wide mutable state in accl:
 * the language promises a process-wide pool, and generated code calls
 * accl_parallel_for with no context argument.
 *
 *   accl_parallel_for(fn, ctx, n):
 *     chunks   min(n, threads) contiguous ranges of [0, n); chunk c is
 *              [c*q + min(c, r), (c+1)*q + min(c+1, r)) with q = n / chunks,
 *              r = n % chunks: boundaries depend on n and the thread count only
 *     who      the caller and the workers take chunks from one counter until
 *              none are left; the call returns when every chunk is done
 *     one job  at a time: calls from several user threads queue on a mutex
 *     nested   a call made while running a chunk (a thread-local flag) runs
 *              fn(ctx, 0, n) serially in the calling thread
 *
 * Workers are detached and wait on a condition variable between jobs; they
 * hold no memory of their own, so the process may exit at any time. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/accl.h"

enum { POOL_MAX_THREADS = 1024 };

typedef void (*PoolFn)(void *ctx, int64_t lo, int64_t hi);

/* One call of accl_parallel_for: lives on the caller's stack. */
typedef struct PoolJob {
    PoolFn fn;
    void *ctx;
    int64_t n;
    int64_t nchunks;
    atomic_llong next;     /* the next chunk to take */
    int active;            /* workers holding this job (under Pool.lock) */
} PoolJob;

typedef struct Pool {
    pthread_once_t once;
    int nthreads;                /* the caller included */
    pthread_mutex_t call_lock;   /* one job at a time */
    pthread_mutex_t lock;        /* job, generation, PoolJob.active */
    pthread_cond_t work;         /* a new job was posted */
    pthread_cond_t idle;         /* a job's last worker let go of it */
    PoolJob *job;                /* the job workers may join, or NULL */
    unsigned long generation;    /* bumped for every job posted */
} Pool;

static Pool pool = {
    .once = PTHREAD_ONCE_INIT,
    .call_lock = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .work = PTHREAD_COND_INITIALIZER,
    .idle = PTHREAD_COND_INITIALIZER,
};

/* Set while this thread runs a chunk: a nested call runs serially. */
static _Thread_local bool pool_in_task;

/* ACCL_NUM_THREADS: a whole number in [1, POOL_MAX_THREADS]; anything else
 * (unset, empty, junk, 0, negative, too large) gives the number of online cores. */
static int pool_thread_count(void)
{
    const char *s = getenv("ACCL_NUM_THREADS");
    if (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end == '\0' && v >= 1 && v <= POOL_MAX_THREADS)
            return (int)v;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        return 1;
    return cores > POOL_MAX_THREADS ? POOL_MAX_THREADS : (int)cores;
}

/* Chunk c of job j. */
static void pool_chunk(const PoolJob *j, int64_t c, int64_t *lo, int64_t *hi)
{
    int64_t q = j->n / j->nchunks, r = j->n % j->nchunks;
    *lo = c * q + (c < r ? c : r);
    *hi = *lo + q + (c < r ? 1 : 0);
}

/* Takes chunks of j until none are left. */
static void pool_run_chunks(PoolJob *j)
{
    pool_in_task = true;
    for (;;) {
        int64_t c = atomic_fetch_add(&j->next, 1);
        if (c >= j->nchunks)
            break;
        int64_t lo, hi;
        pool_chunk(j, c, &lo, &hi);
        j->fn(j->ctx, lo, hi);
    }
    pool_in_task = false;
}

static void *pool_worker(void *arg)
{
    (void)arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&pool.lock);
    for (;;) {
        while (pool.generation == seen)
            pthread_cond_wait(&pool.work, &pool.lock);
        seen = pool.generation;
        PoolJob *j = pool.job;
        if (!j)            /* that job has already finished */
            continue;
        j->active++;
        pthread_mutex_unlock(&pool.lock);
        pool_run_chunks(j);
        pthread_mutex_lock(&pool.lock);
        if (--j->active == 0)
            pthread_cond_broadcast(&pool.idle);
    }
    return NULL;
}

/* Starts nthreads - 1 detached workers; fewer if the system refuses some. */
static void pool_start(void)
{
    int want = pool_thread_count();
    pool.nthreads = 1;
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    for (int i = 1; i < want; i++) {
        pthread_t t;
        if (pthread_create(&t, &attr, pool_worker, NULL) != 0)
            break;
        pool.nthreads++;
    }
    pthread_attr_destroy(&attr);
}

int accl_num_threads(void)
{
    pthread_once(&pool.once, pool_start);
    return pool.nthreads;
}

void accl_parallel_for(void (*fn)(void *ctx, int64_t lo, int64_t hi), void *ctx, int64_t n)
{
    if (n <= 0)
        return;
    int threads = accl_num_threads();
    if (pool_in_task || threads == 1 || n == 1) {
        bool outer = pool_in_task;
        pool_in_task = true;
        fn(ctx, 0, n);
        pool_in_task = outer;
        return;
    }
    PoolJob j = {.fn = fn, .ctx = ctx, .n = n, .nchunks = n < threads ? n : threads};
    atomic_init(&j.next, 0);

    pthread_mutex_lock(&pool.call_lock);
    pthread_mutex_lock(&pool.lock);
    pool.job = &j;
    pool.generation++;
    pthread_cond_broadcast(&pool.work);
    pthread_mutex_unlock(&pool.lock);

    pool_run_chunks(&j);

    /* Every chunk is taken; those taken by workers are done once no worker
     * holds the job. Late workers find no job. */
    pthread_mutex_lock(&pool.lock);
    pool.job = NULL;
    while (j.active > 0)
        pthread_cond_wait(&pool.idle, &pool.lock);
    pthread_mutex_unlock(&pool.lock);
    pthread_mutex_unlock(&pool.call_lock);
}
