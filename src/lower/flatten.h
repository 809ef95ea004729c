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

/* Stages: a pipelined cache (stages S > 1) holds S stages one after another
 * along its outermost dimension. Stage s's element (i0, i1, ...) is element
 * (s*R + i0, i1, ...) of a buffer whose outermost extent is S*R, where R =
 * flatten_stage_rows(b, dims) is dims[0] rounded up so that each stage starts
 * on a 16-byte boundary and, when swizzled, at a row r with r mod C == 0 (so
 * that every stage is swizzled as the first). With one dimension R counts
 * elements of the padded row. A flattened index i of stage 0 is i +
 * s*flatten_stage_elems(b, dims) in stage s. */
int64_t flatten_stage_rows(const IrBuffer *b, const int64_t *dims);
int64_t flatten_stage_elems(const IrBuffer *b, const int64_t *dims);

/* Elements of b's storage: the dims, the innermost padded, all stages. */
int64_t flatten_count(const IrBuffer *b, const int64_t *dims);

#endif
