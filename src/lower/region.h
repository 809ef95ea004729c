/* Region analysis: the box of a buffer's elements that the statements under
 * a loop access, for one iteration of that loop and of the loops around it.
 * Used by the cache pass (the region is the cache's shape) and by the fusing
 * pass (the part of a fused nest's domain the nest it joins needs).
 *
 * Per dimension the region is a strided box
 *
 *     { min + stride * t : 0 <= t < extent }
 *
 * with min an i64 expression of the fixed variables only (the loops around
 * and at L, sizes, scalars), and stride and extent constants. The box is a
 * bounding box: guards are ignored, loops under L vary over their full
 * ranges, lets are looked through, and floor division and remainder by
 * constants are bounded conservatively. Which loops vary: every loop under L,
 * and with per_block also every loop bound to a warp or thread wherever it
 * sits (a `shared` cache is one per block). */
#ifndef ACCL_REGION_H
#define ACCL_REGION_H

#include <stdbool.h>
#include <stdint.h>

#include "lower/ir.h"
#include "util/diag.h"

typedef struct RegionDim {
    IrExpr *min;
    int64_t stride;        /* >= 1 */
    int64_t extent;        /* >= 1 */
} RegionDim;

typedef struct Region {
    const IrBuffer *buf;
    int ndims;
    RegionDim *dims;
    bool read, written;    /* whether any statement under L loads / stores it */
} Region;

/* Why a region could not be computed: dimension `dim` (from 0) of the buffer
 * has an index that is not affine (var NULL), or an extent that depends on
 * `var` (a variable inside the symbolic part, such as N in (N + 255) fdiv 256:
 * an affine index over loops of unknown extent is such a dependence). */
typedef struct RegionError {
    int dim;
    const char *var;       /* the variable the extent depends on, or NULL */
} RegionError;

/* Lets of f, resolved through: one table per function, built once per pass. */
typedef struct RegionLets {
    const IrExpr **def;    /* by IrVar id: the let's value, or NULL */
    int n;
} RegionLets;

void region_lets_init(RegionLets *lets, IrFunc *f);

/* The loop named `name` in the tree under s (NULL when there is none). */
IrStmt *region_find_loop(IrStmt *s, const char *name);
/* Whether statement `inner` lies in the tree under `outer` (itself included). */
bool region_contains(const IrStmt *outer, const IrStmt *inner);

/* The region of buf under loop L, which lies in the tree under root. When
 * nothing under L accesses buf, returns true with read and written false and
 * every extent 1. On false, *err says why. */
bool region_compute(IrFunc *f, const RegionLets *lets, IrStmt *root, IrStmt *loop,
                    const IrBuffer *buf, bool per_block, Region *out, RegionError *err);

/* region_compute for the fusing pass (per_block false), narrowed by the
 * guards that schedule clauses left between L and the accesses: a split that
 * does not divide runs its inner loop over [0, F) through `if (value < F)`,
 * and the region holds only the values that pass (the guards of the kernel's
 * own `if`s, whose origin lies inside nest_span, stay ignored). *exact is
 * false when the box may still hold elements that no access under L reaches:
 * a bound was widened (fdiv, fmod by a constant), a clause's guard on an
 * index's loops could not narrow it (not affine in them, or a bound that is
 * not a constant), or accesses with different boxes were joined. */
bool region_compute_exact(IrFunc *f, const RegionLets *lets, IrStmt *root, IrStmt *loop,
                          const IrBuffer *buf, Span nest_span, Region *out, RegionError *err,
                          bool *exact);

/* The error for a region that failed, at the clause `at` (a cache, or the
 * loop of a fuse): dimensions count from 0, as everywhere in messages. */
void region_report(Diag *d, Span at, const char *tensor, const char *loop, const RegionError *err);

/* The position of `idx` (an index into dimension d of the region's buffer)
 * inside the region: (idx - min) / stride, as a new expression. */
IrExpr *region_offset(IrFunc *f, const Region *r, int d, IrExpr *idx);

/* Whether the store s under L writes, with `=`, every element of the region
 * of its buffer r before anything else under L accesses that buffer: s is the
 * only access to the buffer in its top-level statement of L's body, no earlier
 * statement accesses it, its value does not read it, each dimension's index is
 * fixed + c*v for a distinct loop v between L and s with |c| the stride, and
 * those loops run over exactly the region's extents. Guards around s may
 * only exclude elements outside the buffer (conditions idx >= 0, idx < dim). */
bool region_first_written(IrFunc *f, const RegionLets *lets, IrStmt *root, IrStmt *loop,
                          const Region *r);

/* Whether e, lets looked through, is  v + c  for a loop variable v (returned
 * in *var) and a constant c (in *offset). */
bool region_loop_plus_const(IrFunc *f, const RegionLets *lets, const IrExpr *e, IrVar **var,
                            int64_t *offset);

#endif
