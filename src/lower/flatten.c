/* flatten: storage flattening. Every load and store of an n-dimensional
 * buffer gets one index, its element offset in the layout of flatten.h:
 *   row-major; the innermost dimension padded (row stride dims[n-1] + pad);
 *   swizzled shared buffers XOR the chunk index within a row with the row
 *   (the IR has no XOR: bit b of the chunk is ((x fdiv (K*2^b)) + (r fdiv 2^b)) fmod 2)
 * IR_COPY origins stay multi-dimensional: executors place copied elements with
 * flatten_offset. Sets f->flat. */
#include "lower/flatten.h"

#include "lower/passes.h"
#include "lower/simplify.h"
#include "util/intmath.h"

int64_t flatten_swizzles(const IrBuffer *b, const int64_t *dims)
{
    int n = b->ndims;
    int64_t e = elem_type_bytes(b->elem);
    if (!b->swizzle || b->mem != IR_MEM_SHARED || n < 1 || e > 16)
        return 0;
    int64_t k = 16 / e, w = dims[n - 1] + b->pad;
    if (w % k)
        return 0;
    int64_t c = w / k;
    return c > 1 && (c & (c - 1)) == 0 ? c : 0;
}

/* Elements per step of the outermost index (one when b has one dimension). */
static int64_t row_elems(const IrBuffer *b, const int64_t *dims)
{
    int64_t n = 1;
    for (int d = 1; d < b->ndims; d++)
        n *= dims[d] + (d == b->ndims - 1 ? b->pad : 0);
    return n;
}

int64_t flatten_stage_rows(const IrBuffer *b, const int64_t *dims)
{
    int n = b->ndims;
    if (n == 0)
        return 1;
    int64_t rows = n == 1 ? dims[0] + b->pad : dims[0];
    int64_t unit = row_elems(b, dims) * elem_type_bytes(b->elem);
    int64_t step = unit > 0 ? 16 / im_gcd(16, unit) : 1;
    int64_t c = n >= 2 ? flatten_swizzles(b, dims) : 0;
    if (c) {
        int64_t swizzle_rows = 1;   /* swizzle rows per step of the outermost index */
        for (int d = 1; d < n - 1; d++)
            swizzle_rows *= dims[d];
        int64_t need = c / im_gcd(c, swizzle_rows > 0 ? swizzle_rows : c);
        step = step / im_gcd(step, need) * need;
    }
    return rows > 0 ? im_ceil_div(rows, step) * step : 0;
}

int64_t flatten_stage_elems(const IrBuffer *b, const int64_t *dims)
{
    return flatten_stage_rows(b, dims) * row_elems(b, dims);
}

int64_t flatten_count(const IrBuffer *b, const int64_t *dims)
{
    if (b->stages > 1)
        return flatten_stage_elems(b, dims) * b->stages;
    int64_t n = 1;
    for (int d = 0; d < b->ndims; d++)
        n *= dims[d] + (d == b->ndims - 1 ? b->pad : 0);
    return n;
}

int64_t flatten_offset(const IrBuffer *b, const int64_t *dims, const int64_t *idx)
{
    int n = b->ndims;
    if (n == 0)
        return 0;
    int64_t r = 0;
    for (int d = 0; d < n - 1; d++)
        r = r * dims[d] + idx[d];
    int64_t w = dims[n - 1] + b->pad, x = idx[n - 1];
    int64_t c = flatten_swizzles(b, dims);
    if (c) {
        int64_t k = 16 / elem_type_bytes(b->elem);
        x = ((x / k) ^ (r % c)) * k + x % k;
    }
    return r * w + x;
}

/* The swizzled column of x in row r: x fmod K + sum_b K*2^b * (bit b of chunk XOR bit b of r). */
static IrExpr *swizzle_col(IrFunc *f, IrExpr *r, IrExpr *x, int64_t k, int64_t c)
{
    IrExpr *col = ir_binary(f, IR_FLOORMOD, ir_expr_copy(f, x), ir_index(f, k));
    for (int64_t bit = 1; bit < c; bit *= 2) {
        IrExpr *chunk_bit = ir_binary(f, IR_FLOORDIV, ir_expr_copy(f, x), ir_index(f, k * bit));
        IrExpr *row_bit = bit == 1 ? ir_expr_copy(f, r)
                                   : ir_binary(f, IR_FLOORDIV, ir_expr_copy(f, r), ir_index(f, bit));
        IrExpr *xor_bit = ir_binary(f, IR_FLOORMOD, ir_binary(f, IR_ADD, chunk_bit, row_bit),
                                    ir_index(f, 2));
        col = ir_binary(f, IR_ADD, col, ir_binary(f, IR_MUL, xor_bit, ir_index(f, k * bit)));
    }
    return col;
}

/* The one index of an access to b with n = b->ndims indices. */
static IrExpr *flat_index(IrFunc *f, const IrBuffer *b, IrExpr **idx)
{
    int n = b->ndims;
    if (n == 0)
        return ir_index(f, 0);
    IrExpr *x = idx[n - 1];
    if (n == 1)
        return x;
    IrExpr *r = idx[0];
    for (int d = 1; d < n - 1; d++)
        r = ir_binary(f, IR_ADD, ir_binary(f, IR_MUL, r, ir_expr_copy(f, b->dims[d])), idx[d]);
    int64_t inner;
    IrExpr *w = ir_expr_copy(f, b->dims[n - 1]);
    if (b->pad && ir_const_int(w, &inner))
        w = ir_index(f, inner + b->pad);
    else if (b->pad)
        w = ir_binary(f, IR_ADD, w, ir_index(f, b->pad));
    int64_t dims[64];
    bool constant = n <= 64;
    for (int d = 0; constant && d < n; d++)
        constant = ir_const_int(b->dims[d], &dims[d]);
    int64_t c = constant ? flatten_swizzles(b, dims) : 0;
    if (c)
        x = swizzle_col(f, r, x, 16 / elem_type_bytes(b->elem), c);
    return ir_binary(f, IR_ADD, ir_binary(f, IR_MUL, ir_expr_copy(f, r), w), x);
}

static IrExpr *flatten_expr(void *arg, IrExpr *e)
{
    IrFunc *f = arg;
    for (int i = 0; i < e->nargs; i++)
        e->args[i] = flatten_expr(f, e->args[i]);
    if (e->kind != IR_LOAD)
        return e;
    IrExpr *i0 = flat_index(f, e->buf, e->args);
    return ir_load(f, e->buf, &i0, 1);
}

static void flatten_stores(IrFunc *f, IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        IrStmt *s = b->items[i];
        if (s->kind == IR_STORE) {
            s->idx[0] = flat_index(f, s->buf, s->idx);
            s->nidx = 1;
        }
        flatten_stores(f, &s->body);
        flatten_stores(f, &s->else_body);
    }
}

bool pass_flatten(IrFunc *f, PassCtx *ctx)
{
    (void)ctx;
    if (f->flat)
        return false;
    ir_block_map_exprs(&f->body, flatten_expr, f);
    flatten_stores(f, &f->body);
    f->flat = true;
    return true;
}
