/* Arguments of one kernel execution, shared by the reference evaluator, the
 * interpreter and `accl run`. Tensors hold elements in their C representation
 * (f16/bf16 as uint16_t bits), dense and row-major. */
#ifndef ACCL_RUNARGS_H
#define ACCL_RUNARGS_H

#include <stdint.h>

#include "parser/ast.h"

enum { RUN_MAX_DIMS = 8 };

typedef struct RunTensor {
    ElemType elem;
    int ndims;
    int64_t dims[RUN_MAX_DIMS];
    int64_t count;          /* product of dims */
    void *data;             /* count elements of elem */
} RunTensor;

/* A scalar parameter's value: integers (and bool) in i, floats in f. */
typedef struct RunScalar {
    ElemType elem;
    int64_t i;
    double f;
} RunScalar;

typedef struct RunArgs {
    const Kernel *kernel;
    RunTensor *tensors;     /* one per kernel param (unused slots for scalars) */
    RunScalar *scalars;     /* one per kernel param (unused slots for tensors) */
    int64_t *sizes;         /* one per Kernel.sizes entry */
} RunArgs;

#endif
