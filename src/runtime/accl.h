/* accl's runtime: what generated code and its callers link against
 * (build/libaccrt.a). Generated headers stand alone: they define the same
 * types and codes (from accl_codes.h) under the same guard. */
#ifndef ACCL_RUNTIME_H
#define ACCL_RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "accl_codes.h"

/* The types and codes generated headers also define (guarded the same way).
 * f16 and bf16 tensors hold the bits of each element. What a compiled kernel
 * returns: ACCL_OK or an ACCL_ERR_* code; nothing is written when a check on
 * entry fails. The list and each code's meaning: accl_codes.h. */
#ifndef ACCL_RUNTIME_TYPES_H
#define ACCL_RUNTIME_TYPES_H
#define ACCL_TYPEDEF_(name, ctype, doc) typedef ctype name;
ACCL_TYPEDEFS(ACCL_TYPEDEF_)
#undef ACCL_TYPEDEF_
enum accl_code {
#define ACCL_CODE_(name, value, doc) ACCL_##name = value,
    ACCL_CODES(ACCL_CODE_)
#undef ACCL_CODE_
};
const char *accl_strerror(int code);
#endif

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
