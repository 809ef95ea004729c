/* Test data for `accl run`: tensors shaped from the sizes, deterministic
 * random inputs from a seed, poison in out tensors, and the element-by-element
 * comparison of an executor's outputs with the reference's. */
#ifndef ACCL_DATA_H
#define ACCL_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "run/reference.h"
#include "run/runargs.h"
#include "util/arena.h"

/* The most elements one tensor may have in `accl run` (2^28). */
enum { DATA_MAX_ELEMS = 1 << 28 };

/* splitmix64: a small generator of our own, so runs agree on every platform. */
typedef struct DataRng {
    uint64_t state;
} DataRng;

uint64_t data_rng_next(DataRng *r);

/* A shape entry (a literal, a size or an affine expression of sizes) under
 * the sizes of k (one per k->sizes entry). False if e is not of that form. */
bool data_eval_dim(const Expr *e, const Kernel *k, const int64_t *sizes, int64_t *out);

/* Why data_shape failed. */
typedef enum DataShapeErr { DATA_OK, DATA_NEGATIVE, DATA_TOO_LARGE, DATA_BAD_DIM } DataShapeErr;

/* Fills t's elem, ndims, dims and count from a declared type under the sizes.
 * On failure *dim is the offending dimension and *value its value. */
DataShapeErr data_shape(const TypeExpr *ty, const Kernel *k, const int64_t *sizes, RunTensor *t,
                        int *dim, int64_t *value);

/* Allocates args->tensors' data (shapes already set) and zeroes it. */
void data_alloc(RunArgs *args, Arena *a);

/* Random inputs: `in` and `inout` tensors get values from the seed (floats
 * uniform in [-1, 1] on a grid exactly representable in the type, signed
 * integers in [-8, 8], unsigned in [0, 8], bool either); `out` tensors get
 * poison (NaN, or 0x5A bytes for integers and bool). Each tensor draws from
 * its own stream, so adding a parameter does not change the others' data. */
void data_fill(RunArgs *args, uint64_t seed);

/* A deep copy of src's tensors (scalars and sizes are shared). */
RunArgs data_copy(const RunArgs *src, Arena *a);

/* The comparison of one output tensor. */
typedef struct DataReport {
    int64_t compared, failed, unwritten;  /* unwritten: not written by the reference */
    int64_t worst;                        /* element index; -1 when none was compared */
    double got, ref, bound, ratio;        /* of the worst element (ratio |got-ref|/bound) */
    int64_t got_i, ref_i;                 /* the same, for integers and bool */
} DataReport;

/* Compares every element the reference wrote. The worst element is the first
 * failing one with the largest ratio, or the largest ratio when all pass. */
void data_compare(const RefTensor *ref, const RunTensor *got, DataReport *r);

/* Element i of t, named name, as "name[i0, i1, ...]" into buf; a scalar
 * (no dimensions: an out or inout scalar) is just "name". */
void data_element_text(const RunTensor *t, const char *name, int64_t i, char *buf, int n);

#endif
