/* The IR interpreter: a tree walker over the loop IR in the kernel's own types.
 *
 *   values    one Val per IrVar (slot = IrVar.id): integers and bool in i
 *             (wrapped to their width, sign- or zero-extended), f32 in f
 *             (arithmetic in float), f64 in d, f16/bf16 as their stored bits in
 *             i (the IR widens them with casts before any arithmetic)
 *   buffers   one Buf per IrBuffer (slot = IrBuffer.id): params point into the
 *             caller's tensors; allocations are malloc'd once per buffer and
 *             reused, and poisoned (NaN, or 0x5A bytes) every time IR_ALLOC runs
 *   layout    that of src/lower/flatten.h, which flattened loads and stores
 *             already carry and copies compute here: row-major, the innermost
 *             dimension padded, swizzled shared rows permuting 16-byte chunks.
 *             A pipelined cache's stages follow one another in memory, but the
 *             serial meaning of the IR only ever uses the first: only it is
 *             allocated, and an access beyond it is out of bounds
 *   loops     every kind runs serially, in order (the lowering makes reductions
 *             explicit with partials, so serial order is a valid order)
 *   accesses  each one is checked against its buffer: per dimension before
 *             flattening, against the element count after it; the first
 *             violation stops the run with a message naming buffer and index
 *
 * Errors are recorded in Interp.error; expressions keep evaluating (returning
 * zeros) and every statement checks the flag after evaluating its operands. */
#include "run/interp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower/flatten.h"
#include "util/numbers.h"
#include "util/intmath.h"

enum { INTERP_MAX_DIMS = 16 };

typedef union Val {
    int64_t i;
    float f;
    double d;
} Val;

/* Storage of one buffer: its logical dims, row-major strides over the padded
 * innermost dimension, the element count including the padding, and the
 * swizzle (chunks per row and elements per chunk; 0 when plain). */
typedef struct Buf {
    const IrBuffer *b;
    char *data;
    int ndims;
    int64_t dims[INTERP_MAX_DIMS];
    int64_t strides[INTERP_MAX_DIMS];
    int64_t count;
    int64_t swz_chunks, swz_elems;
    char *owned;           /* malloc'd storage of an allocation, reused */
    int64_t owned_count;
} Buf;

struct Interp {
    const IrFunc *f;
    RunArgs *args;
    Arena *arena;
    Val *vars;
    Buf *bufs;
    const char *error;
    const InterpHooks *hooks;   /* NULL: serial execution (interp_run) */
    int64_t *steps, max_steps;  /* the loop-iteration budget, when steps is set */
    const IrStmt *at;           /* the statement being executed (for the shuffle hook) */
};

static void fail(Interp *in, const char *msg)
{
    if (!in->error)
        in->error = msg;
}

/* ---- elements in memory ---------------------------------------------- */

static Val mem_load(const char *data, int64_t i, ElemType t)
{
    Val v = {0};
    switch (t) {
    case ELEM_BOOL: v.i = ((const uint8_t *)data)[i] != 0; break;
    case ELEM_I8: v.i = ((const int8_t *)data)[i]; break;
    case ELEM_I16: v.i = ((const int16_t *)data)[i]; break;
    case ELEM_I32: v.i = ((const int32_t *)data)[i]; break;
    case ELEM_I64: v.i = ((const int64_t *)data)[i]; break;
    case ELEM_U8: v.i = ((const uint8_t *)data)[i]; break;
    case ELEM_U32: v.i = ((const uint32_t *)data)[i]; break;
    case ELEM_F16:
    case ELEM_BF16: v.i = ((const uint16_t *)data)[i]; break;
    case ELEM_F32: v.f = ((const float *)data)[i]; break;
    case ELEM_F64: v.d = ((const double *)data)[i]; break;
    default: break;
    }
    return v;
}

static void mem_store(char *data, int64_t i, ElemType t, Val v)
{
    switch (t) {
    case ELEM_BOOL: ((uint8_t *)data)[i] = v.i != 0; break;
    case ELEM_I8: ((int8_t *)data)[i] = (int8_t)v.i; break;
    case ELEM_I16: ((int16_t *)data)[i] = (int16_t)v.i; break;
    case ELEM_I32: ((int32_t *)data)[i] = (int32_t)v.i; break;
    case ELEM_I64: ((int64_t *)data)[i] = v.i; break;
    case ELEM_U8: ((uint8_t *)data)[i] = (uint8_t)v.i; break;
    case ELEM_U32: ((uint32_t *)data)[i] = (uint32_t)v.i; break;
    case ELEM_F16:
    case ELEM_BF16: ((uint16_t *)data)[i] = (uint16_t)v.i; break;
    case ELEM_F32: ((float *)data)[i] = v.f; break;
    case ELEM_F64: ((double *)data)[i] = v.d; break;
    default: break;
    }
}

/* New contents of an allocation: NaN for floats, 0x5A bytes for integers, so
 * that a read before the first write shows in the results. */
static void poison(char *data, int64_t n, ElemType t)
{
    switch (t) {
    case ELEM_F16:
    case ELEM_BF16: {
        uint16_t nan = t == ELEM_F16 ? 0x7E00 : 0x7FC0, *p = (uint16_t *)data;
        for (int64_t i = 0; i < n; i++)
            p[i] = nan;
        break;
    }
    case ELEM_F32:
        for (int64_t i = 0; i < n; i++)
            ((float *)data)[i] = NAN;
        break;
    case ELEM_F64:
        for (int64_t i = 0; i < n; i++)
            ((double *)data)[i] = NAN;
        break;
    default: memset(data, 0x5A, (size_t)(n * elem_type_bytes(t))); break;
    }
}

/* ---- values and conversions ------------------------------------------ */

/* A float value of type t as a double (exact). */
static double float_of(Val v, ElemType t)
{
    switch (t) {
    case ELEM_F16: return num_f16_to_f32((uint16_t)v.i);
    case ELEM_BF16: return num_bf16_to_f32((uint16_t)v.i);
    case ELEM_F32: return v.f;
    default: return v.d;
    }
}

/* x rounded once to the float type t. */
static Val float_val(double x, ElemType t)
{
    Val v = {0};
    switch (t) {
    case ELEM_F16: v.i = num_f32_to_f16((float)num_round_float(x, ELEM_F16)); break;
    case ELEM_BF16: v.i = num_f32_to_bf16((float)num_round_float(x, ELEM_BF16)); break;
    case ELEM_F32: v.f = (float)x; break;
    default: v.d = x; break;
    }
    return v;
}

/* T(x) as the Numbers section says: integers wrap, floats round to nearest
 * even (f16/bf16 through numbers.h), float to integer truncates and saturates
 * with NaN giving 0, anything to bool is x != 0 (NaN: false, as float to int). */
static Val cast_val(Val x, ElemType from, ElemType to)
{
    Val v = {0};
    if (from == to)
        return x;
    if (!elem_is_float(from)) {
        if (!elem_is_float(to)) {
            v.i = num_wrap_int(x.i, to);
            return v;
        }
        if (to == ELEM_F32) {
            v.f = (float)x.i;  /* one rounding, straight from the integer */
            return v;
        }
        if (to == ELEM_F64) {
            v.d = (double)x.i;
            return v;
        }
        return float_val((double)x.i, to);
    }
    double d = float_of(x, from);
    if (!elem_is_float(to)) {
        v.i = num_float_to_int(d, to);
        return v;
    }
    return float_val(d, to);
}

/* ---- arithmetic -------------------------------------------------------- */

static Val bool_val(bool b)
{
    Val v = {.i = b};
    return v;
}

static Val int_binary(Interp *in, IrOp op, int64_t a, int64_t b, ElemType t)
{
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    Val v = {0};
    switch (op) {
    case IR_ADD: v.i = num_wrap_int((int64_t)(ua + ub), t); break;
    case IR_SUB: v.i = num_wrap_int((int64_t)(ua - ub), t); break;
    case IR_MUL: v.i = num_wrap_int((int64_t)(ua * ub), t); break;
    case IR_DIV: v.i = num_int_div(a, b, t); break;
    case IR_REM: v.i = num_int_rem(a, b, t); break;
    case IR_FLOORDIV:
    case IR_FLOORMOD:
        if (b <= 0) {
            fail(in, arena_printf(in->arena, "%s by %lld, which is not positive",
                                  ir_op_spelling(op), (long long)b));
            break;
        }
        v.i = op == IR_FLOORDIV ? im_floor_div(a, b) : im_floor_mod(a, b);
        break;
    case IR_MIN: v.i = a < b ? a : b; break;
    case IR_MAX: v.i = a > b ? a : b; break;
    /* Values are sign- or zero-extended to 64 bits, so i64 comparison is right
     * for every integer type. */
    case IR_EQ: v.i = a == b; break;
    case IR_NE: v.i = a != b; break;
    case IR_LT: v.i = a < b; break;
    case IR_LE: v.i = a <= b; break;
    case IR_GT: v.i = a > b; break;
    case IR_GE: v.i = a >= b; break;
    case IR_AND: v.i = (a != 0) & (b != 0); break;
    case IR_OR: v.i = (a != 0) | (b != 0); break;
    default: break;
    }
    return v;
}

/* Float min/max: NaN if either operand is NaN. */
static float min_f32(float a, float b) { return isnan(a) || isnan(b) ? NAN : a < b ? a : b; }
static float max_f32(float a, float b) { return isnan(a) || isnan(b) ? NAN : a > b ? a : b; }
static double min_f64(double a, double b) { return isnan(a) || isnan(b) ? NAN : a < b ? a : b; }
static double max_f64(double a, double b) { return isnan(a) || isnan(b) ? NAN : a > b ? a : b; }

static Val f64_binary(IrOp op, double a, double b)
{
    Val v = {0};
    switch (op) {
    case IR_ADD: v.d = a + b; break;
    case IR_SUB: v.d = a - b; break;
    case IR_MUL: v.d = a * b; break;
    case IR_DIV: v.d = a / b; break;
    case IR_REM: v.d = fmod(a, b); break;
    case IR_MIN: v.d = min_f64(a, b); break;
    case IR_MAX: v.d = max_f64(a, b); break;
    case IR_EQ: return bool_val(a == b);
    case IR_NE: return bool_val(a != b);
    case IR_LT: return bool_val(a < b);
    case IR_LE: return bool_val(a <= b);
    case IR_GT: return bool_val(a > b);
    case IR_GE: return bool_val(a >= b);
    default: break;
    }
    return v;
}

static bool is_comparison(IrOp op) { return op >= IR_EQ && op <= IR_GE; }

/* f32 through f64: a sum, difference, product or quotient of two floats is
 * exact in double before its one rounding to float (53 >= 2 * 24 + 2 bits, so
 * rounding twice gives the correctly rounded float), and fmod, min, max and
 * the comparisons are exact in either. */
static Val f32_binary(IrOp op, float a, float b)
{
    Val d = f64_binary(op, a, b);
    if (is_comparison(op))
        return d;
    Val v = {0};
    v.f = (float)d.d;
    return v;
}

/* f16/bf16 operands (the lowering widens them first, but the IR allows them):
 * computed in f32 and rounded back, as the Numbers section says. */
static Val binary(Interp *in, IrOp op, Val a, Val b, ElemType t)
{
    switch (t) {
    case ELEM_F32: return f32_binary(op, a.f, b.f);
    case ELEM_F64: return f64_binary(op, a.d, b.d);
    case ELEM_F16:
    case ELEM_BF16: {
        Val r = f32_binary(op, (float)float_of(a, t), (float)float_of(b, t));
        return is_comparison(op) ? r : float_val(r.f, t);
    }
    default: return int_binary(in, op, a.i, b.i, t);
    }
}

static Val unary(IrOp op, Val a, ElemType t)
{
    Val v = {0};
    if (op == IR_NOT) {
        v.i = a.i == 0;
        return v;
    }
    switch (t) {
    case ELEM_F32: v.f = -a.f; break;
    case ELEM_F64: v.d = -a.d; break;
    case ELEM_F16:
    case ELEM_BF16: v.i = a.i ^ 0x8000; break;
    default: v.i = num_wrap_int((int64_t)(0 - (uint64_t)a.i), t); break;
    }
    return v;
}

/* Intrinsics in the type's precision: float functions for f32, double
 * functions for f64; rsqrt is 1/sqrt in the type. */
static float call_f32(Intrinsic k, const float *x)
{
    switch (k) {
    case INTR_EXP: return expf(x[0]);
    case INTR_LOG: return logf(x[0]);
    case INTR_SQRT: return sqrtf(x[0]);
    case INTR_RSQRT: return 1.0f / sqrtf(x[0]);
    case INTR_TANH: return tanhf(x[0]);
    case INTR_ERF: return erff(x[0]);
    case INTR_SIN: return sinf(x[0]);
    case INTR_COS: return cosf(x[0]);
    case INTR_ABS: return fabsf(x[0]);
    case INTR_MIN: return min_f32(x[0], x[1]);
    case INTR_MAX: return max_f32(x[0], x[1]);
    case INTR_POW: return powf(x[0], x[1]);
    case INTR_FMA: return fmaf(x[0], x[1], x[2]);
    default: return NAN;
    }
}

static double call_f64(Intrinsic k, const double *x)
{
    switch (k) {
    case INTR_EXP: return exp(x[0]);
    case INTR_LOG: return log(x[0]);
    case INTR_SQRT: return sqrt(x[0]);
    case INTR_RSQRT: return 1.0 / sqrt(x[0]);
    case INTR_TANH: return tanh(x[0]);
    case INTR_ERF: return erf(x[0]);
    case INTR_SIN: return sin(x[0]);
    case INTR_COS: return cos(x[0]);
    case INTR_ABS: return fabs(x[0]);
    case INTR_MIN: return min_f64(x[0], x[1]);
    case INTR_MAX: return max_f64(x[0], x[1]);
    case INTR_POW: return pow(x[0], x[1]);
    case INTR_FMA: return fma(x[0], x[1], x[2]);
    default: return NAN;
    }
}

/* Integer abs (wrapping: abs of the most negative value is itself), min, max. */
static int64_t call_int(Intrinsic k, const int64_t *x, ElemType t)
{
    switch (k) {
    case INTR_ABS: return x[0] < 0 ? num_wrap_int((int64_t)(0 - (uint64_t)x[0]), t) : x[0];
    case INTR_MIN: return x[0] < x[1] ? x[0] : x[1];
    case INTR_MAX: return x[0] > x[1] ? x[0] : x[1];
    default: return 0;
    }
}

/* ---- buffer access ----------------------------------------------------- */

/* The element offset of coordinates c (in bounds) in b's layout: row r (the
 * row-major index of the outer dimensions) starts at r * W with W the padded
 * row; in a swizzled row, element x lives at ((x / K) XOR (r mod C)) * K + x mod K. */
static int64_t box_offset(const Buf *b, const int64_t *c)
{
    int n = b->ndims;
    if (n == 0)
        return 0;
    int64_t row = 0;  /* r * W */
    for (int d = 0; d < n - 1; d++)
        row += c[d] * b->strides[d];
    int64_t x = c[n - 1];
    if (b->swz_chunks) {
        int64_t k = b->swz_elems, r = n >= 2 ? row / b->strides[n - 2] : 0;
        x = ((x / k) ^ (r % b->swz_chunks)) * k + x % k;
    }
    return row + x;
}

static const char *shape_str(Interp *in, const Buf *b)
{
    char text[INTERP_MAX_DIMS * 24 + 4];
    size_t n = 0;
    text[n++] = '[';
    for (int d = 0; d < b->ndims; d++)
        n += (size_t)snprintf(text + n, sizeof text - n, "%s%lld", d ? ", " : "",
                              (long long)b->dims[d]);
    snprintf(text + n, sizeof text - n, "]");
    return arena_strdup(in->arena, text);
}

static void fail_bounds(Interp *in, const char *what, const Buf *b, const int64_t *idx, int n)
{
    char text[INTERP_MAX_DIMS * 24 + 4];
    size_t len = 0;
    text[0] = '\0';
    for (int d = 0; d < n && d < INTERP_MAX_DIMS; d++)
        len += (size_t)snprintf(text + len, sizeof text - len, "%s%lld", d ? ", " : "",
                                (long long)idx[d]);
    if (n == 1 && (in->f->flat || b->ndims == 1))
        fail(in, arena_printf(in->arena, "out-of-bounds %s %s[%s] (%s has %lld elements)", what,
                              b->b->name, text, b->b->name, (long long)b->count));
    else
        fail(in, arena_printf(in->arena, "out-of-bounds %s %s[%s] (%s has shape %s)", what,
                              b->b->name, text, b->b->name, shape_str(in, b)));
}

/* The element offset of an access with n indices: one per dimension before
 * flattening (each within its dimension), a single one after it (within the
 * element count). -1 after reporting an out-of-bounds access. */
static int64_t access_offset(Interp *in, const Buf *b, const int64_t *idx, int n, const char *what)
{
    if (!b->data) {
        fail(in, arena_printf(in->arena, "%s of '%s', which is not allocated", what, b->b->name));
        return -1;
    }
    if (in->f->flat) {
        if (n != 1 || idx[0] < 0 || idx[0] >= b->count) {
            fail_bounds(in, what, b, idx, n);
            return -1;
        }
        return idx[0];
    }
    for (int d = 0; d < n; d++) {
        if (idx[d] < 0 || idx[d] >= b->dims[d] || n != b->ndims) {
            fail_bounds(in, what, b, idx, n);
            return -1;
        }
    }
    return box_offset(b, idx);
}

/* Under the emulator's hooks: every access to memory other than a thread's
 * registers is reported before it happens. */
static bool hooked_access(Interp *in, const Buf *b, int64_t off, bool write)
{
    if (b->b->mem == IR_MEM_REGISTERS || !in->hooks->access)
        return true;
    return in->hooks->access(in->hooks->ctx, in, b->b, off, write);
}

/* ---- expressions ------------------------------------------------------- */

/* i64 (index) arithmetic, the bulk of the work: the common operators inline. */
static inline Val i64_binary(Interp *in, IrOp op, int64_t a, int64_t b)
{
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    switch (op) {
    case IR_ADD: return (Val){.i = (int64_t)(ua + ub)};
    case IR_SUB: return (Val){.i = (int64_t)(ua - ub)};
    case IR_MUL: return (Val){.i = (int64_t)(ua * ub)};
    case IR_LT: return (Val){.i = a < b};
    case IR_GE: return (Val){.i = a >= b};
    case IR_FLOORDIV:
        if (b > 0)
            return (Val){.i = im_floor_div(a, b)};
        break;
    case IR_FLOORMOD:
        if (b > 0)
            return (Val){.i = im_floor_mod(a, b)};
        break;
    default: break;
    }
    return int_binary(in, op, a, b, ELEM_I64);
}

static Val eval(Interp *in, const IrExpr *e);

static Val eval_const(const IrExpr *e)
{
    Val v = {0};
    if (e->kind == IR_FLOAT)
        return elem_is_float(e->type) ? float_val(e->fval, e->type)
                                      : (v.i = num_float_to_int(e->fval, e->type), v);
    if (elem_is_float(e->type))
        return float_val((double)e->ival, e->type);
    v.i = num_wrap_int(e->ival, e->type);
    return v;
}

static Val eval_load(Interp *in, const IrExpr *e)
{
    int64_t idx[INTERP_MAX_DIMS];
    Val zero = {0};
    if (e->nargs > INTERP_MAX_DIMS) {
        fail(in, "load with too many indices");
        return zero;
    }
    for (int d = 0; d < e->nargs; d++)
        idx[d] = eval(in, e->args[d]).i;
    const Buf *b = &in->bufs[e->buf->id];
    int64_t off = access_offset(in, b, idx, e->nargs, "load");
    if (off < 0 || (in->hooks && !hooked_access(in, b, off, false)))
        return zero;
    return mem_load(b->data, off, b->b->elem);
}

static Val eval_call(Interp *in, const IrExpr *e)
{
    Val v = {0};
    int n = e->nargs < 3 ? e->nargs : 3;
    ElemType t = e->type;
    if (t == ELEM_F64) {
        double x[3] = {0, 0, 0};
        for (int i = 0; i < n; i++)
            x[i] = eval(in, e->args[i]).d;
        v.d = call_f64(e->intrinsic, x);
    } else if (elem_is_float(t)) {
        float x[3] = {0, 0, 0};
        for (int i = 0; i < n; i++)
            x[i] = (float)float_of(eval(in, e->args[i]), t);
        float r = call_f32(e->intrinsic, x);
        return t == ELEM_F32 ? (v.f = r, v) : float_val(r, t);
    } else {
        int64_t x[3] = {0, 0, 0};
        for (int i = 0; i < n; i++)
            x[i] = eval(in, e->args[i]).i;
        v.i = call_int(e->intrinsic, x, t);
    }
    return v;
}

/* IR_SHUFFLE: the partner lane's value, through the emulator's hook (the
 * value's 8 bytes as they are held). */
static Val eval_shuffle(Interp *in, const IrExpr *e)
{
    Val x = eval(in, e->args[0]), r = x;
    if (!in->hooks || !in->hooks->shuffle) {
        fail(in, "a shuffle outside the GPU emulator");
        return x;
    }
    uint64_t bits, got = 0;
    memcpy(&bits, &x, sizeof bits);
    if (in->hooks->shuffle(in->hooks->ctx, in, e, in->at, bits, &got))
        memcpy(&r, &got, sizeof r);
    return r;
}

static Val eval(Interp *in, const IrExpr *e)
{
    switch (e->kind) {
    case IR_VARREF: return in->vars[e->var->id];
    case IR_INT:
        if (e->type == ELEM_I64)
            return (Val){.i = e->ival};
        return eval_const(e);
    case IR_FLOAT: return eval_const(e);
    case IR_LOAD: return eval_load(in, e);
    case IR_BINARY: {
        Val a = eval(in, e->args[0]);
        Val b = eval(in, e->args[1]);
        ElemType t = e->args[0]->type;
        if (t == ELEM_I64)
            return i64_binary(in, e->op, a.i, b.i);
        if (t == ELEM_F32)
            return f32_binary(e->op, a.f, b.f);
        return binary(in, e->op, a, b, t);
    }
    case IR_UNARY: return unary(e->op, eval(in, e->args[0]), e->type);
    case IR_SELECT:
        /* Only the arm taken, as the IR defines: the other may load out of
         * bounds (a guarded read, `i >= 1 ? X[i - 1] : 0.0`). */
        return eval(in, e->args[eval(in, e->args[0]).i ? 1 : 2]);
    case IR_CAST: return cast_val(eval(in, e->args[0]), e->args[0]->type, e->type);
    case IR_CALL: return eval_call(in, e);
    case IR_SHUFFLE: return eval_shuffle(in, e);
    }
    return (Val){0};
}

/* ---- statements -------------------------------------------------------- */

static bool exec_block(Interp *in, const IrBlock *b);

/* Sets a buffer's dims (and pad on the innermost one), strides and count. */
static bool layout_buf(Interp *in, Buf *b, const IrBuffer *ib, const int64_t *dims)
{
    if (ib->ndims > INTERP_MAX_DIMS) {
        fail(in, arena_printf(in->arena, "buffer '%s' has too many dimensions", ib->name));
        return false;
    }
    b->b = ib;
    b->ndims = ib->ndims;
    int64_t count = 1;
    for (int d = ib->ndims - 1; d >= 0; d--) {
        int64_t ext = dims[d] + (d == ib->ndims - 1 ? ib->pad : 0);
        if (dims[d] < 0 || ext < 0) {
            fail(in, arena_printf(in->arena, "buffer '%s' has a negative extent %lld", ib->name,
                                  (long long)dims[d]));
            return false;
        }
        b->dims[d] = dims[d];
        b->strides[d] = count;
        if (ext && count > INT64_MAX / ext) {
            fail(in, arena_printf(in->arena, "buffer '%s' is too large", ib->name));
            return false;
        }
        count *= ext;
    }
    b->count = count;
    b->swz_chunks = b->swz_elems = 0;
    int64_t e = elem_type_bytes(ib->elem), n = ib->ndims;
    /* Swizzled when shared, K = 16/E elements divide the row W and C = W/K
     * is a power of two above 1 (flatten_swizzles in src/lower/flatten.h). */
    if (ib->swizzle && ib->mem == IR_MEM_SHARED && n >= 1 && e <= 16) {
        int64_t k = 16 / e, w = dims[n - 1] + ib->pad;
        int64_t c = w % k ? 0 : w / k;
        if (c > 1 && (c & (c - 1)) == 0) {
            b->swz_chunks = c;
            b->swz_elems = k;
        }
    }
    return true;
}

/* alloc: evaluates the shape, (re)uses the buffer's storage, poisons it. */
static bool exec_alloc(Interp *in, const IrStmt *s)
{
    const IrBuffer *ib = s->buf;
    Buf *b = &in->bufs[ib->id];
    int64_t dims[INTERP_MAX_DIMS];
    for (int d = 0; d < ib->ndims && d < INTERP_MAX_DIMS; d++)
        dims[d] = eval(in, ib->dims[d]).i;
    /* On the GPU (emulator), a pipelined shared cache holds all its stages,
     * one after another along its outermost dimension (flatten_stage_rows). */
    bool shared = in->hooks && in->hooks->alloc_shared && ib->mem == IR_MEM_SHARED;
    if (shared && ib->stages > 1 && ib->ndims >= 1 && ib->ndims <= INTERP_MAX_DIMS)
        dims[0] = flatten_stage_rows(ib, dims) * ib->stages - (ib->ndims == 1 ? ib->pad : 0);
    if (in->error || !layout_buf(in, b, ib, dims))
        return false;
    if (shared) {
        b->data = in->hooks->alloc_shared(in->hooks->ctx, in, ib, b->count * elem_type_bytes(ib->elem));
        return b->data != NULL;
    }
    if (b->count > b->owned_count || !b->owned) {
        int64_t bytes = b->count * elem_type_bytes(ib->elem);
        char *p = bytes > (int64_t)1 << 40 ? NULL : realloc(b->owned, (size_t)(bytes ? bytes : 1));
        if (!p) {
            fail(in, arena_printf(in->arena, "out of memory allocating '%s' (%lld elements)",
                                  ib->name, (long long)b->count));
            return false;
        }
        b->owned = p;
        b->owned_count = b->count;
    }
    b->data = b->owned;
    poison(b->data, b->count, ib->elem);
    return true;
}

static bool exec_store(Interp *in, const IrStmt *s)
{
    int64_t idx[INTERP_MAX_DIMS];
    if (s->nidx > INTERP_MAX_DIMS) {
        fail(in, "store with too many indices");
        return false;
    }
    for (int d = 0; d < s->nidx; d++)
        idx[d] = eval(in, s->idx[d]).i;
    Val v = eval(in, s->value);
    if (in->error)
        return false;
    const Buf *b = &in->bufs[s->buf->id];
    int64_t off = access_offset(in, b, idx, s->nidx, "store");
    if (off < 0 || (in->hooks && !hooked_access(in, b, off, true)))
        return false;
    mem_store(b->data, off, s->buf->elem, cast_val(v, s->value->type, s->buf->elem));
    return true;
}

/* A loop runs its iterations in order; under the emulator, a loop bound to
 * hardware runs only the iteration of the executing block or thread. */
static bool exec_loop(Interp *in, const IrStmt *s)
{
    int64_t lo = eval(in, s->lo).i, extent = eval(in, s->extent).i;
    if (in->error)
        return false;
    Val *slot = &in->vars[s->var->id];
    if (s->loop_kind == IR_BOUND && in->hooks && in->hooks->bound_loop) {
        int64_t k;
        if (!in->hooks->bound_loop(in->hooks->ctx, in, s, extent, &k))
            return false;
        if (k < 0)
            return true;
        slot->i = (int64_t)((uint64_t)lo + (uint64_t)k);
        return exec_block(in, &s->body);
    }
    for (int64_t k = 0; k < extent; k++) {
        if (in->steps && ++*in->steps > in->max_steps) {
            fail(in, arena_printf(in->arena, "the emulation exceeded its budget of %lld steps",
                                  (long long)in->max_steps));
            return false;
        }
        slot->i = (int64_t)((uint64_t)lo + (uint64_t)k);
        if (!exec_block(in, &s->body))
            return false;
    }
    return true;
}

static bool cache_mem(const Buf *b) { return b->b->mem == IR_MEM_SHARED || b->b->mem == IR_MEM_REGISTERS; }

static bool in_box(const Buf *b, const int64_t *c)
{
    for (int d = 0; d < b->ndims; d++)
        if (c[d] < 0 || c[d] >= b->dims[d])
            return false;
    return true;
}

/* One element t of a copy's box. A coordinate outside a tensor or var (the
 * tail of a region at the edge of X) reads as 0 with zero_fill and is skipped
 * otherwise ("in bounds only"); a coordinate outside a cache (shared or
 * registers) is a miscompile and an error. */
static bool copy_element(Interp *in, const IrCopy *c, const int64_t *t, const int64_t *dorg,
                         const int64_t *sorg)
{
    const Buf *dst = &in->bufs[c->dst->id], *src = &in->bufs[c->src->id];
    int64_t s[INTERP_MAX_DIMS], d[INTERP_MAX_DIMS];
    /* A spread copy (GPU execution form): element e of the box, row-major
     * over the extent, is the executing thread's when e % spread_threads is
     * its spread_tid. */
    if (c->spread_tid) {
        int64_t e = 0;
        for (int k = 0; k < c->ndims; k++)
            e = e * c->extent[k] + t[k];
        if (c->spread_threads <= 0 || e % c->spread_threads != in->vars[c->spread_tid->id].i)
            return true;
    }
    for (int k = 0; k < c->ndims; k++) {
        s[k] = sorg[k] + t[k];
        d[k] = dorg[k] + t[k];
    }
    if (c->guard) {
        for (int k = 0; k < c->ndims; k++)
            in->vars[c->index[k]->id].i = t[k];
        Val g = eval(in, c->guard);
        if (in->error)
            return false;
        if (!g.i)
            return true;
    }
    bool s_ok = in_box(src, s), d_ok = in_box(dst, d);
    if ((!s_ok && cache_mem(src)) || (!d_ok && cache_mem(dst)) || (!d_ok && c->zero_fill)) {
        const Buf *bad = !s_ok && cache_mem(src) ? src : dst;
        fail_bounds(in, bad == src ? "copy from" : "copy into", bad, bad == src ? s : d, c->ndims);
        return false;
    }
    if (!d_ok)
        return true;
    Val v = {0};
    if (s_ok) {
        int64_t off = box_offset(src, s);
        if (in->hooks && !hooked_access(in, src, off, false))
            return false;
        v = mem_load(src->data, off, src->b->elem);
    } else if (!c->zero_fill) {
        return true;
    }
    Val x = cast_val(v, src->b->elem, dst->b->elem);
    int64_t off = box_offset(dst, d);
    if (in->hooks && in->hooks->copy_store && dst->b->mem != IR_MEM_REGISTERS) {
        char elem[16];
        mem_store(elem, 0, dst->b->elem, x);
        return in->hooks->copy_store(in->hooks->ctx, in, c, dst->data, off, elem);
    }
    mem_store(dst->data, off, dst->b->elem, x);
    return true;
}

/* The part [*lo, *hi) of a row of extent e starting at coordinate o that lies
 * in [0, dim). */
static void row_range(int64_t o, int64_t e, int64_t dim, int64_t *lo, int64_t *hi)
{
    *lo = o < 0 ? -o : 0;
    *hi = dim - o < e ? dim - o : e;
    if (*hi < *lo)
        *hi = *lo;
}

static bool outer_in_box(const Buf *b, const int64_t *org, const int64_t *t, int n)
{
    for (int d = 0; d < n - 1; d++)
        if (org[d] + t[d] < 0 || org[d] + t[d] >= b->dims[d])
            return false;
    return true;
}

/* The row of t (t[n-1] = 0) of an unguarded copy between plain layouts of one
 * element type, by memcpy and memset (0 bits are 0 in every type). Returns
 * false, having written nothing, when an element would leave a cache (or the
 * destination of a fill): copy_element then reports it. */
static bool copy_row_fast(const IrCopy *c, const Buf *dst, const Buf *src, int64_t *t,
                          const int64_t *dorg, const int64_t *sorg)
{
    int n = c->ndims;
    int64_t e = c->extent[n - 1], slo, shi, dlo, dhi;
    bool s_outer = outer_in_box(src, sorg, t, n), d_outer = outer_in_box(dst, dorg, t, n);
    row_range(sorg[n - 1], e, src->dims[n - 1], &slo, &shi);
    row_range(dorg[n - 1], e, dst->dims[n - 1], &dlo, &dhi);
    if (!s_outer)
        slo = shi = 0;
    if (!d_outer)
        dlo = dhi = 0;
    bool s_full = slo == 0 && shi == e, d_full = dlo == 0 && dhi == e;
    if ((cache_mem(src) && !s_full) || (cache_mem(dst) && !d_full) || (c->zero_fill && !d_full))
        return false;
    size_t size = (size_t)elem_type_bytes(c->dst->elem);
    int64_t sc[INTERP_MAX_DIMS], dc[INTERP_MAX_DIMS];
    for (int d = 0; d < n; d++) {
        sc[d] = sorg[d] + t[d];
        dc[d] = dorg[d] + t[d];
    }
    int64_t lo = slo > dlo ? slo : dlo, hi = shi < dhi ? shi : dhi;
    if (c->zero_fill) {
        char *row = dst->data + (size_t)box_offset(dst, dc) * size;  /* dc[n-1] = origin: t = 0 */
        if (hi <= lo)
            lo = hi = 0;
        memset(row, 0, (size_t)lo * size);
        memset(row + (size_t)hi * size, 0, (size_t)(e - hi) * size);
    }
    if (hi > lo) {
        sc[n - 1] += lo;
        dc[n - 1] += lo;
        memcpy(dst->data + (size_t)box_offset(dst, dc) * size,
               src->data + (size_t)box_offset(src, sc) * size, (size_t)(hi - lo) * size);
    }
    return true;
}

/* copy: every t of the box in row-major order (see IrCopy in ir.h). */
static bool exec_copy(Interp *in, const IrStmt *s)
{
    const IrCopy *c = &s->copy;
    int n = c->ndims;
    if (n > INTERP_MAX_DIMS || n != in->bufs[c->dst->id].ndims || n != in->bufs[c->src->id].ndims) {
        fail(in, arena_printf(in->arena, "copy into '%s' has the wrong number of dimensions",
                              c->dst->name));
        return false;
    }
    if (!in->bufs[c->dst->id].data || !in->bufs[c->src->id].data) {
        fail(in, arena_printf(in->arena, "copy between '%s' and '%s', one not allocated",
                              c->dst->name, c->src->name));
        return false;
    }
    int64_t dorg[INTERP_MAX_DIMS], sorg[INTERP_MAX_DIMS], t[INTERP_MAX_DIMS];
    for (int k = 0; k < n; k++) {
        dorg[k] = eval(in, c->dst_origin[k]).i;
        sorg[k] = eval(in, c->src_origin[k]).i;
        t[k] = 0;
        if (c->extent[k] <= 0)
            return !in->error;
    }
    if (in->error)
        return false;
    const Buf *dst = &in->bufs[c->dst->id], *src = &in->bufs[c->src->id];
    bool fast = n > 0 && !c->guard && !dst->swz_chunks && !src->swz_chunks &&
                c->dst->elem == c->src->elem && !c->spread_tid && !in->hooks;
    for (;;) {
        /* One row (the innermost dimension) at a time, element by element
         * where the fast path does not apply or finds something to report. */
        if (!fast || !copy_row_fast(c, dst, src, t, dorg, sorg)) {
            for (t[n - 1 > 0 ? n - 1 : 0] = 0;;) {
                if (!copy_element(in, c, t, dorg, sorg))
                    return false;
                if (n == 0 || ++t[n - 1] == c->extent[n - 1])
                    break;
            }
        }
        int k = n - 2;
        if (n > 0)
            t[n - 1] = 0;
        while (k >= 0 && ++t[k] == c->extent[k])
            t[k--] = 0;
        if (k < 0)
            return true;
    }
}

static bool exec_stmt(Interp *in, const IrStmt *s)
{
    in->at = s;
    switch (s->kind) {
    case IR_LOOP: return exec_loop(in, s);
    case IR_STORE: return exec_store(in, s);
    case IR_LET:
        in->vars[s->var->id] = eval(in, s->value);
        return !in->error;
    case IR_IF: {
        Val c = eval(in, s->cond);
        if (in->error)
            return false;
        return exec_block(in, c.i ? &s->body : &s->else_body);
    }
    case IR_ALLOC: return exec_alloc(in, s);
    case IR_COPY: return exec_copy(in, s);
    case IR_BARRIER:
        /* Serial execution: every "thread" is already here. */
        if (in->hooks && in->hooks->barrier)
            return in->hooks->barrier(in->hooks->ctx, in, s);
        return true;
    }
    return true;
}

static bool exec_block(Interp *in, const IrBlock *b)
{
    for (int i = 0; i < b->len; i++)
        if (!exec_stmt(in, b->items[i]))
            return false;
    return true;
}

/* ---- arguments and assumptions ------------------------------------------ */

/* Sizes by position, scalars by their position among the kernel's params,
 * converted to the scalar's type. */
static bool bind_scalars(Interp *in)
{
    const IrFunc *f = in->f;
    for (int i = 0; i < f->nsizes; i++) {
        in->vars[f->sizes[i]->id].i = in->args->sizes[i];
        if (in->args->sizes[i] < 0) {
            fail(in, arena_printf(in->arena, "size %s = %lld is negative", f->sizes[i]->name,
                                  (long long)in->args->sizes[i]));
            return false;
        }
    }
    for (int p = 0; p < f->nparams; p++) {
        const IrVar *v = f->params[p].var;
        if (!v)
            continue;
        const RunScalar *rs = &in->args->scalars[p];
        Val x = {0};
        if (elem_is_float(v->type))
            x = float_val(rs->f, v->type);
        else
            x.i = num_wrap_int(rs->i, v->type);
        in->vars[v->id] = x;
    }
    return true;
}

/* Tensors point at the caller's memory; their shapes must match. */
static bool bind_tensors(Interp *in)
{
    const IrFunc *f = in->f;
    for (int i = 0; i < f->ntensors; i++) {
        const IrBuffer *ib = f->tensors[i];
        const RunTensor *t = &in->args->tensors[ib->param_index];
        int64_t dims[INTERP_MAX_DIMS];
        for (int d = 0; d < ib->ndims && d < INTERP_MAX_DIMS; d++)
            dims[d] = eval(in, ib->dims[d]).i;
        Buf *b = &in->bufs[ib->id];
        if (in->error || !layout_buf(in, b, ib, dims))
            return false;
        bool same = t->elem == ib->elem && t->ndims == ib->ndims && t->count == b->count;
        for (int d = 0; same && d < ib->ndims; d++)
            same = t->dims[d] == dims[d];
        if (!same) {
            fail(in, arena_printf(in->arena, "tensor '%s' is given as %s with %lld elements; "
                                  "the kernel expects %s%s", ib->name, elem_type_name(t->elem),
                                  (long long)t->count, elem_type_name(ib->elem), shape_str(in, b)));
            return false;
        }
        b->data = t->data;
    }
    return true;
}

/* The named constants (schedule params) an assume refers to take their values. */
static void bind_assume_params(Interp *in, const IrExpr *e)
{
    if (e->kind == IR_VARREF && e->var->kind == IR_VAR_PARAM)
        in->vars[e->var->id].i = e->var->value;
    for (int i = 0; i < e->nargs; i++)
        bind_assume_params(in, e->args[i]);
}

/* e as --emit=ir prints it, without its outermost parentheses. */
static const char *expr_text(Interp *in, const IrExpr *e)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return "?";
    ir_print_expr(m, e);
    fclose(m);
    const char *s = arena_strdup(in->arena, buf ? buf : "?");
    free(buf);
    size_t n = strlen(s);
    int depth = 0;
    for (size_t i = 0; n >= 2 && s[0] == '(' && s[n - 1] == ')' && i < n; i++) {
        depth += s[i] == '(' ? 1 : s[i] == ')' ? -1 : 0;
        if (depth == 0)
            return i == n - 1 ? arena_strndup(in->arena, s + 1, n - 2) : s;
    }
    return s;
}

/* The schedule's assumptions, checked on entry before any work, with the
 * sizes' values in the message. */
static bool check_assumes(Interp *in)
{
    const IrFunc *f = in->f;
    for (int i = 0; i < f->nassumes; i++) {
        bind_assume_params(in, f->assumes[i]);
        if (eval(in, f->assumes[i]).i)
            continue;
        char *sizes = arena_strdup(in->arena, "");
        for (int j = 0; j < f->nsizes; j++)
            sizes = arena_printf(in->arena, "%s%s%s = %lld", sizes, j ? ", " : "", f->sizes[j]->name,
                                 (long long)in->args->sizes[j]);
        fail(in, arena_printf(in->arena, "violated assume %s (%s)", expr_text(in, f->assumes[i]), sizes));
        return false;
    }
    return true;
}

const char *interp_run(const IrFunc *f, RunArgs *args, Arena *a)
{
    Interp *in = interp_host_new(f, args, a, NULL);
    if (!in)
        return "out of memory";
    if (!in->error)
        exec_block(in, &f->body);
    const char *err = in->error;
    interp_free(in);
    return err;
}

/* ---- for the GPU emulator ---------------------------------------------- */

static Interp *interp_alloc(const IrFunc *f, RunArgs *args, Arena *a, const InterpHooks *hooks)
{
    Interp *in = calloc(1, sizeof *in);
    if (!in)
        return NULL;
    *in = (Interp){.f = f, .args = args, .arena = a, .hooks = hooks};
    in->vars = calloc((size_t)f->nvars + 1, sizeof *in->vars);
    in->bufs = calloc((size_t)f->nbuffers + 1, sizeof *in->bufs);
    if (!in->vars || !in->bufs) {
        interp_free(in);
        return NULL;
    }
    return in;
}

Interp *interp_host_new(const IrFunc *f, RunArgs *args, Arena *a, const InterpHooks *hooks)
{
    Interp *in = interp_alloc(f, args, a, hooks);
    if (in)
        (void)(bind_scalars(in) && check_assumes(in) && bind_tensors(in));
    return in;
}

Interp *interp_thread_new(const Interp *host)
{
    Interp *t = interp_alloc(host->f, host->args, host->arena, host->hooks);
    if (t)
        interp_thread_reset(t, host);
    return t;
}

void interp_thread_reset(Interp *t, const Interp *host)
{
    const IrFunc *f = host->f;
    memcpy(t->vars, host->vars, ((size_t)f->nvars + 1) * sizeof *t->vars);
    for (int i = 0; i < f->nbuffers; i++) {
        char *owned = t->bufs[i].owned;
        int64_t n = t->bufs[i].owned_count;
        t->bufs[i] = host->bufs[i];
        t->bufs[i].owned = owned;
        t->bufs[i].owned_count = n;
        IrMem m = t->bufs[i].b ? t->bufs[i].b->mem : IR_MEM_PARAM;
        if (m == IR_MEM_REGISTERS || m == IR_MEM_SHARED)
            t->bufs[i].data = NULL;  /* allocated by the thread's own alloc */
    }
    t->steps = host->steps;
    t->max_steps = host->max_steps;
    t->error = NULL;
}

void interp_free(Interp *in)
{
    if (!in)
        return;
    for (int i = 0; in->bufs && i < in->f->nbuffers; i++)
        free(in->bufs[i].owned);
    free(in->vars);
    free(in->bufs);
    free(in);
}

bool interp_exec(Interp *in, const IrStmt *s) { return !in->error && exec_stmt(in, s); }
const char *interp_error(const Interp *in) { return in->error; }
void interp_fail(Interp *in, const char *msg) { fail(in, msg); }
void interp_clear_error(Interp *in) { in->error = NULL; }
Arena *interp_arena(const Interp *in) { return in->arena; }
int64_t interp_var(const Interp *in, const IrVar *v) { return in->vars[v->id].i; }
int64_t interp_eval_int(Interp *in, const IrExpr *e) { return eval(in, e).i; }
int64_t interp_buffer_count(const Interp *in, const IrBuffer *b) { return in->bufs[b->id].count; }

void interp_set_budget(Interp *in, int64_t *counter, int64_t limit)
{
    in->steps = counter;
    in->max_steps = limit;
}
