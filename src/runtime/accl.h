/* accl's runtime: what generated code and its callers link against
 * (build/libaccrt.a). Generated headers include this file. */
#ifndef ACCL_RUNTIME_H
#define ACCL_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* f16 and bf16 tensors hold the bits of each element. */
typedef uint16_t accl_f16;
typedef uint16_t accl_bf16;

/* What a compiled kernel returns. Nothing is written when a check on entry fails. */
#define ACCL_OK 0
#define ACCL_ERR_BAD_SIZE 1       /* a size < 0, or a shape entry that is < 0 */
#define ACCL_ERR_ASSUME 2         /* a schedule's `assume` does not hold */
#define ACCL_ERR_NULL 3           /* a tensor pointer is NULL (with a nonzero element count) */
#define ACCL_ERR_OUT_OF_MEMORY 4  /* a `var` or a per-thread buffer could not be allocated */
#define ACCL_ERR_NO_DEVICE 5      /* GPU targets: no driver or no device */
#define ACCL_ERR_LAUNCH 6         /* GPU targets: a launch limit or a launch failure */

const char *accl_strerror(int code);

/* Runs fn(ctx, lo, hi) over [0, n) split into contiguous chunks on the
 * process-wide thread pool (started lazily; ACCL_NUM_THREADS threads, default
 * all cores). Safe to call from several threads at once; a call made from
 * inside a pool task runs serially in the caller. Returns when every chunk is
 * done. */
void accl_parallel_for(void (*fn)(void *ctx, int64_t lo, int64_t hi), void *ctx, int64_t n);

/* The number of threads accl_parallel_for uses. */
int accl_num_threads(void);

#ifdef __cplusplus
}
#endif

#endif
