/* Helpers shared by the lowering files of src/lower (lower.c, loops.c,
 * reduce.c); other passes may include it. Nothing here is used outside
 * src/lower and tests/unit. */
#ifndef ACCL_LOWER_INTERNAL_H
#define ACCL_LOWER_INTERNAL_H

#include <stdbool.h>

#include "lower/ir.h"

/* f16 and bf16: storage types, read as f32. */
bool lower_is_storage_type(ElemType t);
/* e widened to f32 when its type is a storage type, else e. */
IrExpr *lower_widen(IrFunc *f, IrExpr *e);
/* hi - lo as an i64 expression: hi when lo is 0, folded when both are constants.
 * Copies its operands. */
IrExpr *lower_extent(IrFunc *f, IrExpr *lo, IrExpr *hi);

#endif
