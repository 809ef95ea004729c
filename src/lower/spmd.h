/* Steps of the spmd lowering (src/lower/spmd.c: the GPU execution form) that
 * live in files of their own. Each rewrites one launch's body in place. */
#ifndef ACCL_SPMD_H
#define ACCL_SPMD_H

#include "lower/ir.h"

/* `pipeline L stages S`: the caches at L filled S-1 iterations ahead
 * (spmd_pipe.c). After the barriers are placed, before the thread loops
 * become lets. */
void spmd_pipeline(IrFunc *f, IrBlock *body);

#endif
