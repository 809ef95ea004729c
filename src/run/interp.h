/* The IR interpreter: executes a lowered (and possibly scheduled, flattened)
 * loop IR function serially, in the kernel's own types, checking every buffer
 * access against its buffer's extent. Used by `accl run --interpret` to test
 * that the passes preserve the kernel's meaning. */
#ifndef ACCL_INTERP_H
#define ACCL_INTERP_H

#include "lower/ir.h"
#include "run/runargs.h"
#include "util/arena.h"

/* Runs f on args (tensors in memory in their C representation, see src/run/runargs.h).
 * Returns NULL on success or an error message (in arena a). */
const char *interp_run(const IrFunc *f, RunArgs *args, Arena *a);

#endif
