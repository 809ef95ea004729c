/* The IR interpreter on small functions built by hand: arithmetic per type,
 * division by zero, f16 rounding, loops, ifs, lets, selects, copies, bounds
 * checks and assumptions. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lower/flatten.h"
#include "lower/ir.h"
#include "run/interp.h"
#include "util/numbers.h"

enum { MAXP = 8 };

/* A kernel under construction: params in order, sizes, and the arguments. */
typedef struct Fixture {
    Arena a;
    Kernel k;
    IrFunc *f;
    Param params[MAXP];
    Param *pp[MAXP];
    Ident sizes[MAXP];
    IrVar *size_vars[MAXP];
    IrVar *scalar_vars[MAXP];
    IrBuffer *tensor_bufs[MAXP];
    IrParam ir_params[MAXP];
    RunTensor tensors[MAXP];
    RunScalar scalars[MAXP];
    int64_t size_vals[MAXP];
    RunArgs args;
    Span sp;
} Fixture;

static Fixture *fixture(void)
{
    Fixture *x = calloc(1, sizeof *x);
    arena_init(&x->a);
    x->k.name.name = "k";
    x->k.params = x->pp;
    x->k.sizes = x->sizes;
    x->f = ir_func_new(&x->a, &x->k, TARGET_CPU);
    x->f->sizes = x->size_vars;
    x->f->scalars = x->scalar_vars;
    x->f->tensors = x->tensor_bufs;
    x->f->params = x->ir_params;
    x->args = (RunArgs){.kernel = &x->k, .tensors = x->tensors, .scalars = x->scalars,
                        .sizes = x->size_vals};
    return x;
}

static void fixture_free(Fixture *x)
{
    for (int i = 0; i < MAXP; i++)
        free(x->tensors[i].data);
    arena_free(&x->a);
    free(x);
}

static IrVar *size(Fixture *x, const char *name, int64_t value)
{
    int i = x->k.nsizes++;
    x->sizes[i].name = name;
    x->size_vals[i] = value;
    IrVar *v = ir_var_new(x->f, name, ELEM_I64, IR_VAR_SIZE);
    x->size_vars[x->f->nsizes++] = v;
    return v;
}

static int add_param(Fixture *x, const char *name, ElemType t, ParamMode mode, bool tensor)
{
    int p = x->k.nparams++;
    x->params[p] = (Param){.name = {.name = name}, .mode = mode};
    x->params[p].type.is_tensor = tensor;
    x->params[p].type.elem = t;
    x->pp[p] = &x->params[p];
    x->ir_params[x->f->nparams++] = (IrParam){.name = name, .elem = t, .mode = mode, .tensor = tensor};
    return p;
}

/* A tensor param with the given shape (constants), zeroed. */
static IrBuffer *tensor2(Fixture *x, const char *name, ElemType t, ParamMode mode, int ndims,
                         const int64_t *dims)
{
    int p = add_param(x, name, t, mode, true);
    IrBuffer *b = ir_buffer_new(x->f, name, t, IR_MEM_PARAM, ndims);
    int64_t n = 1;
    x->tensors[p] = (RunTensor){.elem = t, .ndims = ndims};
    for (int d = 0; d < ndims; d++) {
        b->dims[d] = ir_index(x->f, dims[d]);
        x->tensors[p].dims[d] = dims[d];
        n *= dims[d];
    }
    b->mode = mode;
    b->param_index = p;
    x->tensor_bufs[x->f->ntensors++] = b;
    x->ir_params[p].buf = b;
    x->tensors[p].count = n;
    x->tensors[p].data = calloc((size_t)n + 1, (size_t)elem_type_bytes(t));
    return b;
}

static IrBuffer *tensor(Fixture *x, const char *name, ElemType t, ParamMode mode, int64_t n)
{
    return tensor2(x, name, t, mode, 1, &n);
}

static IrVar *scalar(Fixture *x, const char *name, ElemType t, int64_t i, double f)
{
    int p = add_param(x, name, t, MODE_IN, false);
    x->scalars[p] = (RunScalar){.elem = t, .i = i, .f = f};
    IrVar *v = ir_var_new(x->f, name, t, IR_VAR_SCALAR);
    x->scalar_vars[x->f->nscalars++] = v;
    x->ir_params[p].var = v;
    return v;
}

static void *data(Fixture *x, const IrBuffer *b) { return x->tensors[b->param_index].data; }

/* Statement helpers at the top level of the body (or into a block). */
static IrStmt *store1(Fixture *x, IrBlock *blk, IrBuffer *b, IrExpr *i, IrExpr *v)
{
    IrStmt *s = ir_store(x->f, b, &i, 1, v, x->sp);
    ir_block_push(x->f, blk, s);
    return s;
}

static IrExpr *load1(Fixture *x, IrBuffer *b, IrExpr *i) { return ir_load(x->f, b, &i, 1); }
static IrExpr *idx(Fixture *x, int64_t v) { return ir_index(x->f, v); }

/* copy dst[0, 0, ...] <- src[0, 0, ...] box extent (ndims dimensions), zero-filled. */
static IrStmt *push_box_fill(Fixture *x, IrBuffer *dst, IrBuffer *src, int ndims, int64_t *extent)
{
    IrFunc *f = x->f;
    IrStmt *cp = ir_stmt_new(f, IR_COPY, x->sp);
    IrExpr **org = ARENA_ARRAY(&x->a, IrExpr *, ndims);
    for (int d = 0; d < ndims; d++)
        org[d] = idx(x, 0);
    cp->copy = (IrCopy){.dst = dst, .src = src, .ndims = ndims, .dst_origin = org,
                        .src_origin = org, .extent = extent, .zero_fill = true};
    ir_block_push(f, &f->body, cp);
    return cp;
}

static IrExpr *f32c(Fixture *x, double v) { return ir_float(x->f, ELEM_F32, v); }

static const char *run(Fixture *x)
{
    const char *verr = ir_verify(x->f);
    cr_assert_null(verr, "verifier: %s", verr);
    return interp_run(x->f, &x->args, &x->a);
}

#define RUN_OK(x)                                   \
    do {                                            \
        const char *err_ = run(x);                  \
        cr_assert_null(err_, "interp: %s", err_);   \
    } while (0)

/* ---- arithmetic per type ---- */

Test(interp, integers_wrap_at_their_width)
{
    Fixture *x = fixture();
    IrBuffer *o = tensor(x, "O", ELEM_I32, MODE_OUT, 3);
    IrBuffer *u = tensor(x, "U", ELEM_U8, MODE_OUT, 2);
    IrBuffer *l = tensor(x, "L", ELEM_I64, MODE_OUT, 1);
    IrFunc *f = x->f;
    store1(x, &f->body, o, idx(x, 0),
           ir_binary(f, IR_ADD, ir_int(f, ELEM_I32, INT32_MAX), ir_int(f, ELEM_I32, 1)));
    store1(x, &f->body, o, idx(x, 1),
           ir_binary(f, IR_MUL, ir_int(f, ELEM_I32, 65536), ir_int(f, ELEM_I32, 65537)));
    store1(x, &f->body, o, idx(x, 2), ir_unary(f, IR_NEG, ir_int(f, ELEM_I32, INT32_MIN)));
    store1(x, &f->body, u, idx(x, 0),
           ir_binary(f, IR_ADD, ir_int(f, ELEM_U8, 250), ir_int(f, ELEM_U8, 10)));
    store1(x, &f->body, u, idx(x, 1),
           ir_binary(f, IR_SUB, ir_int(f, ELEM_U8, 3), ir_int(f, ELEM_U8, 5)));
    store1(x, &f->body, l, idx(x, 0),
           ir_binary(f, IR_ADD, ir_index(f, INT64_MAX), ir_index(f, 1)));
    RUN_OK(x);
    int32_t *po = data(x, o);
    uint8_t *pu = data(x, u);
    cr_assert_eq(po[0], INT32_MIN);
    cr_assert_eq(po[1], 65536);
    cr_assert_eq(po[2], INT32_MIN);
    cr_assert_eq(pu[0], 4);
    cr_assert_eq(pu[1], 254);
    cr_assert_eq(((int64_t *)data(x, l))[0], INT64_MIN);
    fixture_free(x);
}

Test(interp, unsigned_values_compare_and_divide_as_unsigned)
{
    Fixture *x = fixture();
    IrBuffer *o = tensor(x, "O", ELEM_U32, MODE_OUT, 1);
    IrBuffer *c = tensor(x, "C", ELEM_BOOL, MODE_OUT, 1);
    IrFunc *f = x->f;
    IrExpr *big = ir_binary(f, IR_SUB, ir_int(f, ELEM_U32, 0), ir_int(f, ELEM_U32, 2));  /* 2^32-2 */
    store1(x, &f->body, o, idx(x, 0), ir_binary(f, IR_DIV, big, ir_int(f, ELEM_U32, 2)));
    store1(x, &f->body, c, idx(x, 0),
           ir_binary(f, IR_GT, ir_expr_copy(f, big), ir_int(f, ELEM_U32, 1)));
    RUN_OK(x);
    cr_assert_eq(((uint32_t *)data(x, o))[0], 0x7FFFFFFFu);
    cr_assert_eq(((uint8_t *)data(x, c))[0], 1);
    fixture_free(x);
}

Test(interp, integer_division_by_zero_and_overflow)
{
    Fixture *x = fixture();
    IrBuffer *o = tensor(x, "O", ELEM_I32, MODE_OUT, 5);
    IrFunc *f = x->f;
    IrExpr *seven = ir_int(f, ELEM_I32, 7), *mseven = ir_int(f, ELEM_I32, -7);
    store1(x, &f->body, o, idx(x, 0), ir_binary(f, IR_DIV, seven, ir_int(f, ELEM_I32, 0)));
    store1(x, &f->body, o, idx(x, 1), ir_binary(f, IR_REM, seven, ir_int(f, ELEM_I32, 0)));
    store1(x, &f->body, o, idx(x, 2),
           ir_binary(f, IR_DIV, ir_int(f, ELEM_I32, INT32_MIN), ir_int(f, ELEM_I32, -1)));
    store1(x, &f->body, o, idx(x, 3), ir_binary(f, IR_DIV, mseven, ir_int(f, ELEM_I32, 2)));
    store1(x, &f->body, o, idx(x, 4), ir_binary(f, IR_REM, mseven, ir_int(f, ELEM_I32, 2)));
    RUN_OK(x);
    int32_t *p = data(x, o);
    cr_assert_eq(p[0], 0);
    cr_assert_eq(p[1], 7);
    cr_assert_eq(p[2], INT32_MIN);
    cr_assert_eq(p[3], -3);   /* truncation */
    cr_assert_eq(p[4], -1);
    fixture_free(x);
}

Test(interp, floor_division_and_modulo_of_indices)
{
    Fixture *x = fixture();
    IrBuffer *o = tensor(x, "O", ELEM_I64, MODE_OUT, 4);
    IrFunc *f = x->f;
    store1(x, &f->body, o, idx(x, 0), ir_binary(f, IR_FLOORDIV, idx(x, -7), idx(x, 2)));
    store1(x, &f->body, o, idx(x, 1), ir_binary(f, IR_FLOORMOD, idx(x, -7), idx(x, 2)));
    store1(x, &f->body, o, idx(x, 2), ir_binary(f, IR_FLOORDIV, idx(x, 7), idx(x, 2)));
    store1(x, &f->body, o, idx(x, 3), ir_binary(f, IR_FLOORMOD, idx(x, 7), idx(x, 2)));
    RUN_OK(x);
    int64_t *p = data(x, o);
    cr_assert_eq(p[0], -4);
    cr_assert_eq(p[1], 1);
    cr_assert_eq(p[2], 3);
    cr_assert_eq(p[3], 1);
    fixture_free(x);
}

Test(interp, f32_arithmetic_is_done_in_float)
{
    Fixture *x = fixture();
    IrBuffer *o = tensor(x, "O", ELEM_F32, MODE_OUT, 2);
    IrBuffer *d = tensor(x, "D", ELEM_F64, MODE_OUT, 1);
    IrFunc *f = x->f;
    /* (1e8 + 1) - 1e8: 0 in float, 1 in double. */
    store1(x, &f->body, o, idx(x, 0),
           ir_binary(f, IR_SUB, ir_binary(f, IR_ADD, f32c(x, 1e8), f32c(x, 1)), f32c(x, 1e8)));
    store1(x, &f->body, o, idx(x, 1), ir_binary(f, IR_DIV, f32c(x, 1), f32c(x, 0)));
    IrExpr *big = ir_float(f, ELEM_F64, 1e8);
    store1(x, &f->body, d, idx(x, 0),
           ir_binary(f, IR_SUB, ir_binary(f, IR_ADD, big, ir_float(f, ELEM_F64, 1)),
                     ir_expr_copy(f, big)));
    RUN_OK(x);
    float *p = data(x, o);
    cr_assert_eq(p[0], 0.0f);
    cr_assert(isinf(p[1]) && p[1] > 0);
    cr_assert_eq(((double *)data(x, d))[0], 1.0);
    fixture_free(x);
}

Test(interp, intrinsics_in_the_types_precision_and_nan_min_max)
{
    Fixture *x = fixture();
    IrBuffer *in = tensor(x, "X", ELEM_F32, MODE_IN, 2);
    IrBuffer *o = tensor(x, "O", ELEM_F32, MODE_OUT, 5);
    IrBuffer *oi = tensor(x, "I", ELEM_I32, MODE_OUT, 1);
    IrFunc *f = x->f;
    float *px = data(x, in);
    px[0] = 0.3f;
    px[1] = NAN;
    IrExpr *a = load1(x, in, idx(x, 0));
    store1(x, &f->body, o, idx(x, 0), ir_call(f, INTR_EXP, ELEM_F32, &a, 1));
    a = load1(x, in, idx(x, 0));
    store1(x, &f->body, o, idx(x, 1), ir_call(f, INTR_RSQRT, ELEM_F32, &a, 1));
    IrExpr *mm[2] = {load1(x, in, idx(x, 0)), load1(x, in, idx(x, 1))};
    store1(x, &f->body, o, idx(x, 2), ir_call(f, INTR_MAX, ELEM_F32, mm, 2));
    store1(x, &f->body, o, idx(x, 3),
           ir_binary(f, IR_MIN, load1(x, in, idx(x, 1)), load1(x, in, idx(x, 0))));
    IrExpr *fm[3] = {f32c(x, 2), f32c(x, 3), f32c(x, 1)};
    store1(x, &f->body, o, idx(x, 4), ir_call(f, INTR_FMA, ELEM_F32, fm, 3));
    IrExpr *ab = ir_int(f, ELEM_I32, -5);
    store1(x, &f->body, oi, idx(x, 0), ir_call(f, INTR_ABS, ELEM_I32, &ab, 1));
    RUN_OK(x);
    float *p = data(x, o);
    cr_assert_eq(p[0], expf(0.3f));
    cr_assert_eq(p[1], 1.0f / sqrtf(0.3f));
    cr_assert(isnan(p[2]));
    cr_assert(isnan(p[3]));
    cr_assert_eq(p[4], 7.0f);
    cr_assert_eq(((int32_t *)data(x, oi))[0], 5);
    fixture_free(x);
}

Test(interp, f16_loads_give_bits_and_casts_round_to_nearest_even)
{
    Fixture *x = fixture();
    IrBuffer *h = tensor(x, "H", ELEM_F16, MODE_INOUT, 3);
    IrBuffer *o = tensor(x, "O", ELEM_F32, MODE_OUT, 1);
    IrBuffer *bf = tensor(x, "B", ELEM_BF16, MODE_OUT, 1);
    IrFunc *f = x->f;
    uint16_t *ph = data(x, h);
    ph[0] = num_f32_to_f16(1.5f);
    /* 1 + 2^-11 is halfway between 1 and 1 + 2^-10: rounds to even (1). */
    store1(x, &f->body, h, idx(x, 1), ir_cast(f, ELEM_F16, f32c(x, 1.0 + ldexp(1, -11))));
    /* 1 + 3*2^-11 is halfway between 1 + 2^-10 and 1 + 2^-9: rounds to 1 + 2^-9. */
    store1(x, &f->body, h, idx(x, 2), ir_cast(f, ELEM_F16, f32c(x, 1.0 + 3 * ldexp(1, -11))));
    store1(x, &f->body, o, idx(x, 0),
           ir_binary(f, IR_MUL, ir_cast(f, ELEM_F32, load1(x, h, idx(x, 0))), f32c(x, 2)));
    store1(x, &f->body, bf, idx(x, 0), ir_cast(f, ELEM_BF16, f32c(x, 1.0 + ldexp(1, -8))));
    RUN_OK(x);
    cr_assert_eq(ph[1], 0x3C00);  /* 1.0 */
    cr_assert_eq(ph[2], 0x3C02);  /* 1 + 2^-9 */
    cr_assert_eq(((float *)data(x, o))[0], 3.0f);
    cr_assert_eq(((uint16_t *)data(x, bf))[0], 0x3F80);  /* tie to even: 1.0 */
    fixture_free(x);
}

Test(interp, float_to_int_saturates_and_nan_gives_zero)
{
    Fixture *x = fixture();
    IrBuffer *o = tensor(x, "O", ELEM_I8, MODE_OUT, 3);
    IrFunc *f = x->f;
    store1(x, &f->body, o, idx(x, 0), ir_cast(f, ELEM_I8, f32c(x, 1000)));
    store1(x, &f->body, o, idx(x, 1), ir_cast(f, ELEM_I8, f32c(x, -2.9)));
    store1(x, &f->body, o, idx(x, 2),
           ir_cast(f, ELEM_I8, ir_binary(f, IR_DIV, f32c(x, 0), f32c(x, 0))));
    RUN_OK(x);
    int8_t *p = data(x, o);
    cr_assert_eq(p[0], 127);
    cr_assert_eq(p[1], -2);
    cr_assert_eq(p[2], 0);
    fixture_free(x);
}

/* ---- statements ---- */

/* for i in [0, N): S[0] = S[0] + A[i]; with a let and sizes and scalars. */
Test(interp, loops_lets_sizes_and_scalars)
{
    Fixture *x = fixture();
    IrVar *n = size(x, "N", 5);
    IrBuffer *a = tensor(x, "A", ELEM_F32, MODE_IN, 5);
    IrVar *alpha = scalar(x, "alpha", ELEM_F32, 0, 0.5);
    IrBuffer *s = tensor(x, "S", ELEM_F32, MODE_INOUT, 1);
    IrFunc *f = x->f;
    float *pa = data(x, a);
    for (int i = 0; i < 5; i++)
        pa[i] = (float)(i + 1);
    IrVar *i = ir_var_new(f, "i", ELEM_I64, IR_VAR_LOOP);
    IrStmt *loop = ir_loop(f, i, idx(x, 0), ir_ref(f, n), IR_SERIAL, x->sp);
    ir_block_push(f, &f->body, loop);
    IrVar *t = ir_var_new(f, "t", ELEM_F32, IR_VAR_LET);
    ir_block_push(f, &loop->body,
                  ir_let(f, t, ir_binary(f, IR_MUL, load1(x, a, ir_ref(f, i)), ir_ref(f, alpha)),
                         x->sp));
    store1(x, &loop->body, s, idx(x, 0),
           ir_binary(f, IR_ADD, load1(x, s, idx(x, 0)), ir_ref(f, t)));
    RUN_OK(x);
    cr_assert_eq(((float *)data(x, s))[0], 7.5f);
    fixture_free(x);
}

/* Unrolled and parallel loops with a nonzero start run serially in order. */
Test(interp, every_loop_kind_runs_serially_in_order)
{
    Fixture *x = fixture();
    IrBuffer *o = tensor(x, "O", ELEM_I64, MODE_OUT, 4);
    IrFunc *f = x->f;
    IrVar *i = ir_var_new(f, "i", ELEM_I64, IR_VAR_LOOP);
    IrVar *j = ir_var_new(f, "j", ELEM_I64, IR_VAR_LOOP);
    IrStmt *outer = ir_loop(f, i, idx(x, 1), idx(x, 2), IR_PARALLEL, x->sp);
    IrStmt *inner = ir_loop(f, j, idx(x, 0), idx(x, 4), IR_UNROLLED, x->sp);
    ir_block_push(f, &f->body, outer);
    ir_block_push(f, &outer->body, inner);
    /* O[j] = O[j] * 10 + i: order-sensitive. */
    store1(x, &inner->body, o, ir_ref(f, j),
           ir_binary(f, IR_ADD, ir_binary(f, IR_MUL, load1(x, o, ir_ref(f, j)), idx(x, 10)),
                     ir_ref(f, i)));
    RUN_OK(x);
    int64_t *p = data(x, o);
    for (int k = 0; k < 4; k++)
        cr_assert_eq(p[k], 12);
    fixture_free(x);
}

Test(interp, ifs_and_selects)
{
    Fixture *x = fixture();
    IrBuffer *o = tensor(x, "O", ELEM_I32, MODE_OUT, 6);
    IrFunc *f = x->f;
    IrVar *i = ir_var_new(f, "i", ELEM_I64, IR_VAR_LOOP);
    IrStmt *loop = ir_loop(f, i, idx(x, 0), idx(x, 6), IR_SERIAL, x->sp);
    ir_block_push(f, &f->body, loop);
    /* if i < 3 && i != 1 { O[i] = select(i == 0, 10, 20) } else { O[i] = -1 } */
    IrExpr *c = ir_binary(f, IR_AND, ir_binary(f, IR_LT, ir_ref(f, i), idx(x, 3)),
                          ir_binary(f, IR_NE, ir_ref(f, i), idx(x, 1)));
    IrStmt *s = ir_if(f, c, x->sp);
    ir_block_push(f, &loop->body, s);
    store1(x, &s->body, o, ir_ref(f, i),
           ir_select(f, ir_binary(f, IR_EQ, ir_ref(f, i), idx(x, 0)), ir_int(f, ELEM_I32, 10),
                     ir_int(f, ELEM_I32, 20)));
    store1(x, &s->else_body, o, ir_ref(f, i), ir_int(f, ELEM_I32, -1));
    RUN_OK(x);
    int32_t *p = data(x, o);
    int32_t want[6] = {10, -1, 20, -1, -1, -1};
    for (int k = 0; k < 6; k++)
        cr_assert_eq(p[k], want[k], "O[%d] = %d", k, p[k]);
    fixture_free(x);
}

/* alloc registers R[4]; copy R <- A[3..7) zero-fill (A has 5 elements);
 * O[k] = R[k]. Then a write-back of R into W with a guard t < 2, and one
 * without a guard at origin 3 that runs off W's end (skipped, in bounds only). */
Test(interp, copies_zero_fill_guard_and_in_bounds_write_back)
{
    Fixture *x = fixture();
    IrBuffer *a = tensor(x, "A", ELEM_F32, MODE_IN, 5);
    IrBuffer *o = tensor(x, "O", ELEM_F32, MODE_OUT, 4);
    IrBuffer *w = tensor(x, "W", ELEM_F32, MODE_OUT, 5);
    IrFunc *f = x->f;
    float *pa = data(x, a);
    for (int k = 0; k < 5; k++)
        pa[k] = (float)(k + 1);
    IrBuffer *r = ir_buffer_new(f, "R", ELEM_F32, IR_MEM_REGISTERS, 1);
    r->dims[0] = idx(x, 4);
    ir_block_push(f, &f->body, ir_alloc(f, r, x->sp));
    int64_t ext4 = 4;
    IrStmt *fill = ir_stmt_new(f, IR_COPY, x->sp);
    IrExpr *zero = idx(x, 0), *three = idx(x, 3);
    fill->copy = (IrCopy){.dst = r, .src = a, .ndims = 1, .dst_origin = &zero,
                          .src_origin = &three, .extent = &ext4, .zero_fill = true};
    ir_block_push(f, &f->body, fill);
    IrVar *k = ir_var_new(f, "k", ELEM_I64, IR_VAR_LOOP);
    IrStmt *loop = ir_loop(f, k, idx(x, 0), idx(x, 4), IR_SERIAL, x->sp);
    ir_block_push(f, &f->body, loop);
    store1(x, &loop->body, o, ir_ref(f, k), load1(x, r, ir_ref(f, k)));

    IrStmt *init = ir_loop(f, ir_var_new(f, "z", ELEM_I64, IR_VAR_LOOP), idx(x, 0), idx(x, 5),
                           IR_SERIAL, x->sp);
    ir_block_push(f, &f->body, init);
    store1(x, &init->body, w, ir_ref(f, init->var), f32c(x, -1));
    IrVar *t = ir_var_new(f, "t", ELEM_I64, IR_VAR_LOOP);
    IrVar **tv = ARENA_ARRAY(&x->a, IrVar *, 1);
    tv[0] = t;
    IrStmt *wb = ir_stmt_new(f, IR_COPY, x->sp);
    IrExpr *z2 = idx(x, 0), *z3 = idx(x, 0);
    wb->copy = (IrCopy){.dst = w, .src = r, .ndims = 1, .dst_origin = &z2, .src_origin = &z3,
                        .extent = &ext4, .index = tv,
                        .guard = ir_binary(f, IR_LT, ir_ref(f, t), idx(x, 2))};
    ir_block_push(f, &f->body, wb);
    IrStmt *tail = ir_stmt_new(f, IR_COPY, x->sp);
    IrExpr *o3 = idx(x, 3), *o0 = idx(x, 0);
    tail->copy = (IrCopy){.dst = w, .src = r, .ndims = 1, .dst_origin = &o3, .src_origin = &o0,
                          .extent = &ext4};
    ir_block_push(f, &f->body, tail);
    RUN_OK(x);
    float *po = data(x, o), *pw = data(x, w);
    float want_o[4] = {4, 5, 0, 0};
    float want_w[5] = {4, 5, -1, 4, 5};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(po[i], want_o[i], "O[%d] = %g", i, po[i]);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(pw[i], want_w[i], "W[%d] = %g", i, pw[i]);
    fixture_free(x);
}

/* A flattened function: the cache C[2, 3] pad 1 has rows of 4 elements, so
 * the copy puts A[r, c] at 4 r + c, where flat loads find it. */
Test(interp, flattened_copy_uses_the_padded_layout)
{
    Fixture *x = fixture();
    int64_t shape[2] = {2, 3};
    IrBuffer *a = tensor2(x, "A", ELEM_F32, MODE_IN, 2, shape);
    IrBuffer *o = tensor(x, "O", ELEM_F32, MODE_OUT, 8);
    IrFunc *f = x->f;
    f->flat = true;
    float *pa = data(x, a);
    for (int k = 0; k < 6; k++)
        pa[k] = (float)(k + 1);
    IrBuffer *c = ir_buffer_new(f, "C", ELEM_F32, IR_MEM_SHARED, 2);
    c->dims[0] = idx(x, 2);
    c->dims[1] = idx(x, 3);
    c->pad = 1;
    ir_block_push(f, &f->body, ir_alloc(f, c, x->sp));
    int64_t *ext = ARENA_ARRAY(&x->a, int64_t, 2);
    ext[0] = 2;
    ext[1] = 3;
    push_box_fill(x, c, a, 2, ext);
    IrVar *k = ir_var_new(f, "k", ELEM_I64, IR_VAR_LOOP);
    IrStmt *loop = ir_loop(f, k, idx(x, 0), idx(x, 8), IR_SERIAL, x->sp);
    ir_block_push(f, &f->body, loop);
    store1(x, &loop->body, o, ir_ref(f, k), load1(x, c, ir_ref(f, k)));
    RUN_OK(x);
    float *po = data(x, o);
    float want[8] = {1, 2, 3, NAN, 4, 5, 6, NAN};  /* padding is never written: poison */
    for (int i = 0; i < 8; i++)
        cr_assert(isnan(want[i]) ? isnan(po[i]) : po[i] == want[i], "O[%d] = %g", i, po[i]);
    fixture_free(x);
}

/* A swizzled shared f16 buffer S[2, 16]: K = 8 elements per 16-byte chunk,
 * C = 2 chunks per row, so element x of row r lives at
 * 16 r + ((x / 8) XOR (r mod 2)) * 8 + x mod 8 (src/lower/flatten.h). */
Test(interp, flattened_copy_into_a_swizzled_buffer)
{
    Fixture *x = fixture();
    int64_t shape[2] = {2, 16};
    IrBuffer *a = tensor2(x, "A", ELEM_F16, MODE_IN, 2, shape);
    IrBuffer *o = tensor(x, "O", ELEM_F16, MODE_OUT, 32);
    IrFunc *f = x->f;
    f->flat = true;
    uint16_t *pa = data(x, a);
    for (int k = 0; k < 32; k++)
        pa[k] = num_f32_to_f16((float)k);
    IrBuffer *sb = ir_buffer_new(f, "S", ELEM_F16, IR_MEM_SHARED, 2);
    sb->dims[0] = idx(x, 2);
    sb->dims[1] = idx(x, 16);
    sb->swizzle = true;
    ir_block_push(f, &f->body, ir_alloc(f, sb, x->sp));
    int64_t *ext = ARENA_ARRAY(&x->a, int64_t, 2);
    ext[0] = 2;
    ext[1] = 16;
    push_box_fill(x, sb, a, 2, ext);
    IrVar *k = ir_var_new(f, "k", ELEM_I64, IR_VAR_LOOP);
    IrStmt *loop = ir_loop(f, k, idx(x, 0), idx(x, 32), IR_SERIAL, x->sp);
    ir_block_push(f, &f->body, loop);
    store1(x, &loop->body, o, ir_ref(f, k), load1(x, sb, ir_ref(f, k)));
    RUN_OK(x);
    uint16_t *po = data(x, o);
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 16; c++) {
            int at = 16 * r + ((c / 8) ^ (r % 2)) * 8 + c % 8;
            cr_assert_eq(po[at], pa[16 * r + c], "A[%d, %d] at %d", r, c, at);
        }
    fixture_free(x);
}

/* R[2, 3] <- A[2.., 2..] with A of shape [3, 4]: row 0 is A[2, 2], A[2, 3], 0
 * and row 1 (A's row 3 does not exist) is all 0. With a guard t1 < 2 (which
 * takes the element-by-element path) R[0, 2] keeps its poison. */
static void partial_fill(bool guarded)
{
    Fixture *x = fixture();
    int64_t shape[2] = {3, 4};
    IrBuffer *a = tensor2(x, "A", ELEM_F32, MODE_IN, 2, shape);
    IrBuffer *o = tensor(x, "O", ELEM_F32, MODE_OUT, 6);
    IrFunc *f = x->f;
    float *pa = data(x, a);
    for (int k = 0; k < 12; k++)
        pa[k] = (float)(k + 1);
    IrBuffer *r = ir_buffer_new(f, "R", ELEM_F32, IR_MEM_REGISTERS, 2);
    r->dims[0] = idx(x, 2);
    r->dims[1] = idx(x, 3);
    ir_block_push(f, &f->body, ir_alloc(f, r, x->sp));
    IrStmt *cp = ir_stmt_new(f, IR_COPY, x->sp);
    IrExpr **dorg = ARENA_ARRAY(&x->a, IrExpr *, 2), **sorg = ARENA_ARRAY(&x->a, IrExpr *, 2);
    dorg[0] = idx(x, 0);
    dorg[1] = idx(x, 0);
    sorg[0] = idx(x, 2);
    sorg[1] = idx(x, 2);
    int64_t *ext = ARENA_ARRAY(&x->a, int64_t, 2);
    ext[0] = 2;
    ext[1] = 3;
    cp->copy = (IrCopy){.dst = r, .src = a, .ndims = 2, .dst_origin = dorg, .src_origin = sorg,
                        .extent = ext, .zero_fill = true};
    if (guarded) {
        IrVar **tv = ARENA_ARRAY(&x->a, IrVar *, 2);
        tv[0] = ir_var_new(f, "t0", ELEM_I64, IR_VAR_LOOP);
        tv[1] = ir_var_new(f, "t1", ELEM_I64, IR_VAR_LOOP);
        cp->copy.index = tv;
        cp->copy.guard = ir_binary(f, IR_LT, ir_ref(f, tv[1]), idx(x, 2));
    }
    ir_block_push(f, &f->body, cp);
    IrVar *i = ir_var_new(f, "i", ELEM_I64, IR_VAR_LOOP), *j = ir_var_new(f, "j", ELEM_I64, IR_VAR_LOOP);
    IrStmt *li = ir_loop(f, i, idx(x, 0), idx(x, 2), IR_SERIAL, x->sp);
    IrStmt *lj = ir_loop(f, j, idx(x, 0), idx(x, 3), IR_SERIAL, x->sp);
    ir_block_push(f, &f->body, li);
    ir_block_push(f, &li->body, lj);
    IrExpr *rij[2] = {ir_ref(f, i), ir_ref(f, j)};
    store1(x, &lj->body, o,
           ir_binary(f, IR_ADD, ir_binary(f, IR_MUL, ir_ref(f, i), idx(x, 3)), ir_ref(f, j)),
           ir_load(f, r, rij, 2));
    RUN_OK(x);
    float *po = data(x, o);
    float want[6] = {11, 12, guarded ? NAN : 0, 0, 0, guarded ? NAN : 0};
    for (int k = 0; k < 6; k++)
        cr_assert(isnan(want[k]) ? isnan(po[k]) : po[k] == want[k], "O[%d] = %g", k, po[k]);
    fixture_free(x);
}

Test(interp, partial_fill_zeroes_outside_the_source) { partial_fill(false); }
Test(interp, partial_fill_with_a_guard_skips_elements) { partial_fill(true); }

/* Copies place elements where the flatten pass's loads look for them: for
 * each layout, A[r, c] copied into S must be at flatten_offset(S, r, c). */
static void layout_agrees(ElemType t, int64_t rows, int64_t cols, int64_t pad, bool swizzle)
{
    Fixture *x = fixture();
    int64_t shape[2] = {rows, cols};
    IrBuffer *a = tensor2(x, "A", t, MODE_IN, 2, shape);
    int64_t total = rows * (cols + pad);
    IrBuffer *o = tensor(x, "O", t, MODE_OUT, total);
    IrFunc *f = x->f;
    f->flat = true;
    for (int64_t k = 0; k < rows * cols; k++)
        num_store(data(x, a), k, t, (double)(k + 1));
    IrBuffer *sb = ir_buffer_new(f, "S", t, IR_MEM_SHARED, 2);
    sb->dims[0] = idx(x, rows);
    sb->dims[1] = idx(x, cols);
    sb->pad = pad;
    sb->swizzle = swizzle;
    ir_block_push(f, &f->body, ir_alloc(f, sb, x->sp));
    push_box_fill(x, sb, a, 2, shape);
    IrVar *k = ir_var_new(f, "k", ELEM_I64, IR_VAR_LOOP);
    IrStmt *loop = ir_loop(f, k, idx(x, 0), idx(x, total), IR_SERIAL, x->sp);
    ir_block_push(f, &f->body, loop);
    store1(x, &loop->body, o, ir_ref(f, k), load1(x, sb, ir_ref(f, k)));
    RUN_OK(x);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) {
            int64_t at[2] = {r, c};
            int64_t off = flatten_offset(sb, shape, at);
            cr_assert_eq(num_load(data(x, o), off, t), (double)(r * cols + c + 1),
                         "%s [%lld, %lld] pad %lld swizzle %d: S[%lld, %lld] at %lld",
                         elem_type_name(t), (long long)rows, (long long)cols, (long long)pad,
                         swizzle, (long long)r, (long long)c, (long long)off);
        }
    fixture_free(x);
}

Test(interp, copies_agree_with_the_flatten_layout)
{
    layout_agrees(ELEM_F16, 8, 32, 0, true);    /* 4 chunks per row */
    layout_agrees(ELEM_F16, 4, 64, 0, true);    /* 8 chunks per row */
    layout_agrees(ELEM_F32, 6, 16, 0, true);    /* 4-element chunks */
    layout_agrees(ELEM_F32, 3, 5, 3, false);    /* padded rows */
    layout_agrees(ELEM_F16, 3, 24, 0, true);    /* 3 chunks: not a power of two, plain */
    layout_agrees(ELEM_F64, 5, 7, 1, false);
}

Test(interp, shared_allocations_are_poisoned)
{
    Fixture *x = fixture();
    IrBuffer *o = tensor(x, "O", ELEM_F32, MODE_OUT, 1);
    IrBuffer *oi = tensor(x, "I", ELEM_I32, MODE_OUT, 1);
    IrFunc *f = x->f;
    IrBuffer *s = ir_buffer_new(f, "S", ELEM_F32, IR_MEM_SHARED, 1);
    s->dims[0] = idx(x, 4);
    IrBuffer *si = ir_buffer_new(f, "SI", ELEM_I32, IR_MEM_REGISTERS, 1);
    si->dims[0] = idx(x, 4);
    ir_block_push(f, &f->body, ir_alloc(f, s, x->sp));
    ir_block_push(f, &f->body, ir_alloc(f, si, x->sp));
    store1(x, &f->body, o, idx(x, 0), load1(x, s, idx(x, 2)));
    store1(x, &f->body, oi, idx(x, 0), load1(x, si, idx(x, 1)));
    RUN_OK(x);
    cr_assert(isnan(((float *)data(x, o))[0]));
    cr_assert_eq(((int32_t *)data(x, oi))[0], 0x5A5A5A5A);
    fixture_free(x);
}

/* ---- errors ---- */

Test(interp, out_of_bounds_loads_and_stores_are_reported)
{
    Fixture *x = fixture();
    IrBuffer *a = tensor(x, "A", ELEM_F32, MODE_IN, 128);
    IrBuffer *o = tensor(x, "O", ELEM_F32, MODE_OUT, 1);
    x->f->flat = true;
    store1(x, &x->f->body, o, idx(x, 0), load1(x, a, idx(x, 130)));
    const char *err = run(x);
    cr_assert_str_eq(err, "out-of-bounds load A[130] (A has 128 elements)");
    fixture_free(x);

    x = fixture();
    int64_t shape[2] = {4, 8};
    IrBuffer *b = tensor2(x, "B", ELEM_F32, MODE_OUT, 2, shape);
    IrExpr *ix[2] = {idx(x, 1), idx(x, 8)};  /* offset 16 is inside, but column 8 is not */
    ir_block_push(x->f, &x->f->body, ir_store(x->f, b, ix, 2, f32c(x, 1), x->sp));
    err = run(x);
    cr_assert_str_eq(err, "out-of-bounds store B[1, 8] (B has shape [4, 8])");
    fixture_free(x);

    x = fixture();
    IrBuffer *c = tensor(x, "C", ELEM_I32, MODE_OUT, 3);
    store1(x, &x->f->body, c, idx(x, -1), ir_int(x->f, ELEM_I32, 0));
    err = run(x);
    cr_assert_str_eq(err, "out-of-bounds store C[-1] (C has 3 elements)");
    fixture_free(x);
}

/* A copy whose box leaves the cache it fills is a miscompile. */
Test(interp, copy_outside_a_cache_is_reported)
{
    Fixture *x = fixture();
    IrBuffer *a = tensor(x, "A", ELEM_F32, MODE_IN, 8);
    IrFunc *f = x->f;
    IrBuffer *r = ir_buffer_new(f, "R", ELEM_F32, IR_MEM_REGISTERS, 1);
    r->dims[0] = idx(x, 4);
    ir_block_push(f, &f->body, ir_alloc(f, r, x->sp));
    int64_t ext = 4;
    IrExpr *one = idx(x, 1), *zero = idx(x, 0);
    IrStmt *cp = ir_stmt_new(f, IR_COPY, x->sp);
    cp->copy = (IrCopy){.dst = r, .src = a, .ndims = 1, .dst_origin = &one, .src_origin = &zero,
                        .extent = &ext, .zero_fill = true};
    ir_block_push(f, &f->body, cp);
    cr_assert_str_eq(run(x), "out-of-bounds copy into R[4] (R has 4 elements)");
    fixture_free(x);
}

Test(interp, tensor_shape_must_match_the_sizes)
{
    Fixture *x = fixture();
    IrVar *n = size(x, "N", 6);
    IrBuffer *a = tensor(x, "A", ELEM_F32, MODE_IN, 5);
    a->dims[0] = ir_ref(x->f, n);
    const char *err = run(x);
    cr_assert_not_null(err);
    cr_assert(strstr(err, "tensor 'A'") != NULL, "%s", err);
    fixture_free(x);
}

/* assume M % 4 == 0 && M >= P, with param P = 8. */
Test(interp, assumptions_are_checked_on_entry)
{
    Fixture *x = fixture();
    IrVar *m = size(x, "M", 12);
    IrBuffer *o = tensor(x, "O", ELEM_I64, MODE_OUT, 1);
    store1(x, &x->f->body, o, idx(x, 0), ir_ref(x->f, m));
    IrFunc *f = x->f;
    IrVar *p = ir_var_new(f, "P", ELEM_I64, IR_VAR_PARAM);
    p->value = 8;
    IrExpr *assumes[2] = {
        ir_binary(f, IR_EQ, ir_binary(f, IR_REM, ir_ref(f, m), idx(x, 4)), idx(x, 0)),
        ir_binary(f, IR_GE, ir_ref(f, m), ir_ref(f, p)),
    };
    f->assumes = assumes;
    f->nassumes = 2;
    RUN_OK(x);
    cr_assert_eq(((int64_t *)data(x, o))[0], 12);
    x->size_vals[0] = 10;  /* 10 % 4 != 0 */
    const char *err = run(x);
    cr_assert_not_null(err);
    cr_assert(strncmp(err, "violated assume", 15) == 0 && strstr(err, "M = 10"), "%s", err);
    x->size_vals[0] = 4;   /* 4 < P */
    err = run(x);
    cr_assert_not_null(err);
    cr_assert(strstr(err, "violated assume") && strstr(err, "P"), "%s", err);
    fixture_free(x);
}

/* A 129^3 matmul (2.1M inner iterations) through the interpreter, checked
 * against a direct C loop in the same float arithmetic and order. */
Test(interp, matmul_129_is_fast_and_exact, .timeout = 20)
{
    enum { N = 129 };
    Fixture *x = fixture();
    IrVar *m = size(x, "M", N), *k = size(x, "K", N), *n = size(x, "N", N);
    int64_t shape[2] = {N, N};
    IrBuffer *a = tensor2(x, "A", ELEM_F32, MODE_IN, 2, shape);
    IrBuffer *b = tensor2(x, "B", ELEM_F32, MODE_IN, 2, shape);
    IrBuffer *c = tensor2(x, "C", ELEM_F32, MODE_OUT, 2, shape);
    IrFunc *f = x->f;
    float *pa = data(x, a), *pb = data(x, b), *pc = data(x, c);
    for (int i = 0; i < N * N; i++) {
        pa[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
        pb[i] = (float)((i * 53) % 97) / 40.0f - 1.2f;
    }
    IrVar *i = ir_var_new(f, "i", ELEM_I64, IR_VAR_LOOP);
    IrVar *j = ir_var_new(f, "j", ELEM_I64, IR_VAR_LOOP);
    IrVar *kk = ir_var_new(f, "k", ELEM_I64, IR_VAR_LOOP);
    IrStmt *li = ir_loop(f, i, idx(x, 0), ir_ref(f, m), IR_SERIAL, x->sp);
    IrStmt *lj = ir_loop(f, j, idx(x, 0), ir_ref(f, n), IR_SERIAL, x->sp);
    IrStmt *lk = ir_loop(f, kk, idx(x, 0), ir_ref(f, k), IR_SERIAL, x->sp);
    ir_block_push(f, &f->body, li);
    ir_block_push(f, &li->body, lj);
    IrExpr *cij[2] = {ir_ref(f, i), ir_ref(f, j)};
    ir_block_push(f, &lj->body, ir_store(f, c, cij, 2, f32c(x, 0), x->sp));
    ir_block_push(f, &lj->body, lk);
    IrExpr *aik[2] = {ir_ref(f, i), ir_ref(f, kk)}, *bkj[2] = {ir_ref(f, kk), ir_ref(f, j)};
    IrExpr *cij2[2] = {ir_ref(f, i), ir_ref(f, j)}, *cij3[2] = {ir_ref(f, i), ir_ref(f, j)};
    IrExpr *sum = ir_binary(f, IR_ADD, ir_load(f, c, cij2, 2),
                            ir_binary(f, IR_MUL, ir_load(f, a, aik, 2), ir_load(f, b, bkj, 2)));
    ir_block_push(f, &lk->body, ir_store(f, c, cij3, 2, sum, x->sp));
    /* CPU time, not wall time: the limit must not trip on a loaded machine.
     * Sanitizers make every access several times slower. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
    const double limit = 10.0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
    const double limit = 10.0;
#else
    const double limit = 2.0;
#endif
#else
    const double limit = 2.0;
#endif
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    RUN_OK(x);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    cr_assert_lt(secs, limit, "took %.2f s of CPU time", secs);
    for (int ii = 0; ii < N; ii++)
        for (int jj = 0; jj < N; jj++) {
            float acc = 0.0f;
            for (int q = 0; q < N; q++)
                acc = acc + pa[ii * N + q] * pb[q * N + jj];
            cr_assert_eq(pc[ii * N + jj], acc, "C[%d, %d]", ii, jj);
        }
    fixture_free(x);
}

/* Stages of a pipelined cache (flatten_stage_rows): dims[0] rounded up so
 * that each stage starts on a 16-byte boundary and, when swizzled, at a row
 * that is a multiple of the chunks per row; the storage holds every stage. */
Test(interp, pipelined_stages_are_aligned_and_swizzled_like_the_first)
{
    IrBuffer b = {.name = "S", .elem = ELEM_F32, .mem = IR_MEM_SHARED, .ndims = 2, .stages = 3};
    int64_t odd[] = {3, 5};                        /* rows of 20 bytes: 4 rows make 80 */
    cr_assert_eq(flatten_stage_rows(&b, odd), 4);
    cr_assert_eq(flatten_stage_elems(&b, odd), 20);
    cr_assert_eq(flatten_count(&b, odd), 60);
    int64_t even[] = {128, 8};                     /* already aligned: unchanged */
    cr_assert_eq(flatten_stage_rows(&b, even), 128);
    IrBuffer v = {.name = "V", .elem = ELEM_F32, .mem = IR_MEM_SHARED, .ndims = 1, .stages = 3};
    int64_t five[] = {5};                          /* one dimension: elements */
    cr_assert_eq(flatten_stage_rows(&v, five), 8);
    cr_assert_eq(flatten_count(&v, five), 24);
    IrBuffer h = {.name = "H", .elem = ELEM_F16, .mem = IR_MEM_SHARED, .ndims = 2, .stages = 4,
                  .swizzle = true};
    int64_t rows3[] = {3, 32};                     /* 4 chunks per row: stages 4 rows apart */
    cr_assert_eq(flatten_swizzles(&h, rows3), 4);
    cr_assert_eq(flatten_stage_rows(&h, rows3), 4);
    /* element (r, x) of stage s lands where the swizzle of row r puts it */
    for (int64_t s = 0; s < 4; s++)
        for (int64_t r = 0; r < 3; r++)
            for (int64_t x = 0; x < 32; x++) {
                int64_t at[] = {s * 4 + r, x}, first[] = {r, x};
                cr_assert_eq(flatten_offset(&h, rows3, at), s * 4 * 32 + flatten_offset(&h, rows3, first));
            }
    IrBuffer d = {.name = "D", .elem = ELEM_F64, .mem = IR_MEM_SHARED, .ndims = 1, .stages = 2, .pad = 1};
    int64_t seventeen[] = {17};                    /* 18 padded f64 = 144 bytes */
    cr_assert_eq(flatten_stage_rows(&d, seventeen), 18);
    IrBuffer plain = {.name = "P", .elem = ELEM_F32, .mem = IR_MEM_SHARED, .ndims = 2, .pad = 1};
    int64_t p2[] = {3, 5};                         /* no stages: the padded dims */
    cr_assert_eq(flatten_count(&plain, p2), 18);
}
