/* Storage layout of the loop IR's buffers (lang/SPEC.md, Caches: Layout).
 * The flatten pass writes it into every load and store; IR_COPY keeps its
 * multi-dimensional origins, and whoever executes a copy (the interpreter,
 * code generation) places its elements with flatten_offset. */
#ifndef ACCL_FLATTEN_H
#define ACCL_FLATTEN_H

#include "lower/ir.h"

/* The element offset of idx (one per dimension) in buffer b of shape dims:
 * row-major, the innermost dimension padded to dims[n-1] + pad, and for a
 * swizzled shared buffer the 16-byte chunk within its row permuted (see
 * flatten_swizzles). Stage buffers of pipelined caches follow one another;
 * this is the offset within the first. */
int64_t flatten_offset(const IrBuffer *b, const int64_t *dims, const int64_t *idx);

/* The swizzle: with W = dims[n-1] + pad elements per row, E bytes per element,
 * K = 16/E elements per chunk and C = W/K chunks per row, element x of row r
 * (r the row-major index of the outer dimensions) lives at
 *     r*W + ((x / K) XOR (r mod C))*K + x mod K.
 * It applies when b is shared, swizzled, E <= 16, K divides W and C is a power
 * of two greater than 1; otherwise the layout is plain. Returns C, or 0. */
int64_t flatten_swizzles(const IrBuffer *b, const int64_t *dims);

#endif
