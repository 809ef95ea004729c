/* Internal to legality.c, exposed for its unit tests: the per-dimension
 * distance test between two accesses of one nest. */
#ifndef ACCL_LEGALITY_H
#define ACCL_LEGALITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parser/ast.h"
#include "util/arena.h"

/* The distance vector of two accesses a and b to one tensor, over the nest's
 * loops as written (outermost first). For a loop i, value[i] is exact when
 * star[i] is false: b's iteration minus a's iteration when both touch one
 * element. star[i]: any distance (the loop indexes neither access, or not as
 * `index + constant` of the same index in one dimension, or some subscript is
 * not affine). dependent is false when the test proves that a and b never
 * touch the same element (two different constants in one dimension, or two
 * different exact distances for one loop). */
typedef struct LgDistance {
    bool dependent;
    int n;
    int64_t *value;
    bool *star;
} LgDistance;

/* a and b are EXPR_INDEX (or EXPR_NAME for a tensor with no dimensions)
 * accesses to the same tensor inside nest n of kernel k (whose sizes the
 * subscripts may use). */
LgDistance lg_distance(const Kernel *k, const Nest *n, const Expr *a, const Expr *b, Arena *ar);

/* "(1, -1)", "(0, *)"; negate prints the vector of b to a. */
void lg_distance_print(char *buf, size_t size, const LgDistance *d, bool negate);

#endif
