/* The GPU emulator: runs a function in the GPU execution form (IrFunc.spmd,
 * see IrLaunch in src/lower/ir.h) on the CPU, one emulated GPU thread at a
 * time, and reports what a GPU would leave undefined: reads of shared memory
 * no thread wrote, races between the threads of a block, barriers not reached
 * by every thread (deadlocks), reads of async copies' destinations before
 * the barrier that waits for them. Used by `accl run --emulate`. */
#ifndef ACCL_EMULATE_H
#define ACCL_EMULATE_H

#include <stdint.h>

#include "lower/ir.h"
#include "run/runargs.h"
#include "util/arena.h"
#include "util/diag.h"

/* The budget of a whole run, all threads together, when
 * EmulateOptions.max_steps is 0: a step per loop iteration and
 * EMULATE_THREAD_STEPS per thread start (which costs about as much). */
#define EMULATE_DEFAULT_STEPS ((int64_t)200000000)
#define EMULATE_THREAD_STEPS 10

typedef struct EmulateOptions {
    uint64_t seed;          /* the order of blocks, of threads, where async copies land */
    const Source *src;      /* for file:line:col in messages; NULL: byte offsets */
    int64_t max_steps;      /* 0: EMULATE_DEFAULT_STEPS */
} EmulateOptions;

/* Runs f (in the GPU execution form) on args. Returns NULL on success or an
 * error message (in arena a). */
const char *emulate_run(const IrFunc *f, RunArgs *args, const EmulateOptions *o, Arena *a);

#endif
