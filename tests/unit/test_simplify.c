/* The simplification passes on hand-built IR: folding per type (wrap,
 * division by zero, f32 and f16 rounding), interval proofs, the simplifier on
 * guards and loops, hoisting, dead code, flattening with pad and swizzle, and
 * index rewriting. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

#include "lower/flatten.h"
#include "lower/passes.h"
#include "lower/simplify.h"

typedef struct Fx {
    Arena a;
    Kernel k;
    IrExpr *assume;
    IrFunc *f;
    IrVar *sizes[4];
    IrBuffer *tensors[4];
    IvCtx iv;
    Span sp;
} Fx;

static Fx *fx(void)
{
    Fx *x = calloc(1, sizeof *x);
    arena_init(&x->a);
    x->k.name.name = "k";
    x->f = ir_func_new(&x->a, &x->k, TARGET_CPU);
    x->f->sizes = x->sizes;
    x->f->tensors = x->tensors;
    iv_init(&x->iv, x->f);
    return x;
}

static void fx_free(Fx *x)
{
    arena_free(&x->a);
    free(x);
}

static IrVar *size(Fx *x, const char *name)
{
    IrVar *v = ir_var_new(x->f, name, ELEM_I64, IR_VAR_SIZE);
    x->f->sizes[x->f->nsizes++] = v;
    return v;
}

static IrExpr *bin(Fx *x, IrOp op, IrExpr *a, IrExpr *b) { return ir_binary(x->f, op, a, b); }
static IrExpr *ix(Fx *x, int64_t v) { return ir_index(x->f, v); }
static IrExpr *ref(Fx *x, IrVar *v) { return ir_ref(x->f, v); }
static IrExpr *simp(Fx *x, IrExpr *e) { return simplify_expr(&x->iv, e); }

static IrStmt *loop(Fx *x, IrVar *v, IrExpr *lo, IrExpr *ext)
{
    return ir_loop(x->f, v, lo, ext, IR_SERIAL, x->sp);
}

static IrVar *var(Fx *x, const char *name, IrVarKind k) { return ir_var_new(x->f, name, ELEM_I64, k); }

Test(simplify, integers_wrap_at_their_width)
{
    Fx *x = fx();
    IrExpr *e = simp(x, bin(x, IR_ADD, ir_int(x->f, ELEM_I32, INT32_MAX), ir_int(x->f, ELEM_I32, 1)));
    cr_assert_eq(e->kind, IR_INT);
    cr_assert_eq(e->ival, INT32_MIN);
    e = simp(x, bin(x, IR_ADD, ir_int(x->f, ELEM_U8, 200), ir_int(x->f, ELEM_U8, 100)));
    cr_assert_eq(e->ival, 44);
    e = simp(x, bin(x, IR_MUL, ir_int(x->f, ELEM_I8, 16), ir_int(x->f, ELEM_I8, 16)));
    cr_assert_eq(e->ival, 0);
    e = simp(x, ir_unary(x->f, IR_NEG, ir_int(x->f, ELEM_I64, INT64_MIN)));
    cr_assert_eq(e->ival, INT64_MIN);
    fx_free(x);
}

Test(simplify, division_by_zero_follows_numbers)
{
    Fx *x = fx();
    IrExpr *e = simp(x, bin(x, IR_DIV, ir_int(x->f, ELEM_I32, 7), ir_int(x->f, ELEM_I32, 0)));
    cr_assert_eq(e->kind, IR_INT);
    cr_assert_eq(e->ival, 0);
    e = simp(x, bin(x, IR_REM, ir_int(x->f, ELEM_I32, 7), ir_int(x->f, ELEM_I32, 0)));
    cr_assert_eq(e->ival, 7);
    e = simp(x, bin(x, IR_DIV, ix(x, INT64_MIN), ix(x, -1)));
    cr_assert_eq(e->ival, INT64_MIN);
    e = simp(x, bin(x, IR_DIV, ir_int(x->f, ELEM_I32, -7), ir_int(x->f, ELEM_I32, 2)));
    cr_assert_eq(e->ival, -3);  /* truncation */
    e = simp(x, bin(x, IR_FLOORDIV, ix(x, -7), ix(x, 2)));
    cr_assert_eq(e->ival, -4);
    e = simp(x, bin(x, IR_FLOORMOD, ix(x, -7), ix(x, 2)));
    cr_assert_eq(e->ival, 1);
    fx_free(x);
}

Test(simplify, floats_round_to_their_type)
{
    Fx *x = fx();
    double tiny = ldexp(1, -30);
    IrExpr *e = simp(x, bin(x, IR_ADD, ir_float(x->f, ELEM_F32, 1.0), ir_float(x->f, ELEM_F32, tiny)));
    cr_assert_eq(e->kind, IR_FLOAT);
    cr_assert_eq(e->fval, 1.0);
    e = simp(x, bin(x, IR_ADD, ir_float(x->f, ELEM_F64, 1.0), ir_float(x->f, ELEM_F64, tiny)));
    cr_assert_eq(e->fval, 1.0 + tiny);
    /* 0.1 is not an f32: its rounding is the executor's, so nothing folds */
    e = simp(x, bin(x, IR_ADD, ir_float(x->f, ELEM_F32, 0.1), ir_float(x->f, ELEM_F32, 0.2)));
    cr_assert_eq(e->kind, IR_BINARY);
    /* x * 1.0 and x + 0.0 stay: floats are never rewritten by algebra */
    IrVar *s = ir_var_new(x->f, "s", ELEM_F32, IR_VAR_SCALAR);
    e = simp(x, bin(x, IR_ADD, ref(x, s), ir_float(x->f, ELEM_F32, 0.0)));
    cr_assert_eq(e->kind, IR_BINARY);
    e = simp(x, bin(x, IR_MAX, ir_float(x->f, ELEM_F32, NAN), ir_float(x->f, ELEM_F32, 1.0)));
    cr_assert(isnan(e->fval));
    fx_free(x);
}

Test(simplify, casts_round_through_numbers)
{
    Fx *x = fx();
    /* 1 + 2^-11 is a tie in f16: to even, 1.0 */
    IrExpr *e = simp(x, ir_cast(x->f, ELEM_F16, ir_float(x->f, ELEM_F32, 1.0 + ldexp(1, -11))));
    cr_assert_eq(e->kind, IR_FLOAT);
    cr_assert_eq(e->fval, 1.0);
    e = simp(x, ir_cast(x->f, ELEM_F32, ix(x, 16777217)));
    cr_assert_eq(e->fval, 16777216.0);
    e = simp(x, ir_cast(x->f, ELEM_I8, ir_float(x->f, ELEM_F32, 1000.0)));
    cr_assert_eq(e->ival, 127);  /* saturates */
    e = simp(x, ir_cast(x->f, ELEM_I32, ir_float(x->f, ELEM_F32, NAN)));
    cr_assert_eq(e->ival, 0);
    e = simp(x, ir_cast(x->f, ELEM_U8, ix(x, 300)));
    cr_assert_eq(e->ival, 44);  /* integers wrap */
    fx_free(x);
}

Test(simplify, integer_identities)
{
    Fx *x = fx();
    IrVar *n = size(x, "N");
    IrExpr *e = simp(x, bin(x, IR_ADD, bin(x, IR_MUL, ref(x, n), ix(x, 1)), ix(x, 0)));
    cr_assert_eq(e->kind, IR_VARREF);
    e = simp(x, bin(x, IR_MUL, ref(x, n), ix(x, 0)));
    cr_assert_eq(e->kind, IR_INT);
    cr_assert_eq(e->ival, 0);
    e = simp(x, bin(x, IR_FLOORDIV, bin(x, IR_MUL, ref(x, n), ix(x, 8)), ix(x, 8)));
    cr_assert_eq(e->kind, IR_VARREF);
    /* (N fdiv 4) fdiv 2 = N fdiv 8 */
    e = simp(x, bin(x, IR_FLOORDIV, bin(x, IR_FLOORDIV, ref(x, n), ix(x, 4)), ix(x, 2)));
    cr_assert_eq(e->op, IR_FLOORDIV);
    cr_assert_eq(e->args[1]->ival, 8);
    IrVar *b = ir_var_new(x->f, "b", ELEM_BOOL, IR_VAR_SCALAR);
    e = simp(x, bin(x, IR_AND, ir_int(x->f, ELEM_BOOL, 1), ref(x, b)));
    cr_assert_eq(e->kind, IR_VARREF);
    fx_free(x);
}

Test(interval, split_guards_need_divisibility)
{
    Fx *x = fx();
    IrVar *n = size(x, "N"), *jo = var(x, "jo", IR_VAR_LOOP), *ji = var(x, "ji", IR_VAR_LOOP);
    IrExpr *ceil = bin(x, IR_FLOORDIV, bin(x, IR_ADD, ref(x, n), ix(x, 7)), ix(x, 8));
    iv_push_loop(&x->iv, loop(x, jo, ix(x, 0), ceil));
    iv_push_loop(&x->iv, loop(x, ji, ix(x, 0), ix(x, 8)));
    IrExpr *j = bin(x, IR_ADD, bin(x, IR_MUL, ref(x, jo), ix(x, 8)), ref(x, ji));
    cr_assert_eq(iv_prove(&x->iv, bin(x, IR_LT, ref(x, ji), ix(x, 8))), IV_TRUE);
    cr_assert_eq(iv_prove(&x->iv, bin(x, IR_GE, ref(x, ji), ix(x, 8))), IV_FALSE);
    cr_assert_eq(iv_prove(&x->iv, bin(x, IR_LT, j, ref(x, n))), IV_UNKNOWN);
    cr_assert(iv_prove_ge(&x->iv, j, 0));
    /* assume N % 8 == 0 */
    iv_push_fact(&x->iv, bin(x, IR_EQ, bin(x, IR_REM, ref(x, n), ix(x, 8)), ix(x, 0)));
    cr_assert_eq(iv_multiple(&x->iv, n), 8);
    cr_assert_eq(iv_prove(&x->iv, bin(x, IR_LT, j, ref(x, n))), IV_TRUE);
    fx_free(x);
}

Test(interval, facts_of_enclosing_ifs_and_lets)
{
    Fx *x = fx();
    IrVar *n = size(x, "N"), *i = var(x, "i", IR_VAR_LOOP), *t = var(x, "t", IR_VAR_LET);
    iv_push_loop(&x->iv, loop(x, i, ix(x, 0), ref(x, n)));
    iv_push_let(&x->iv, t, bin(x, IR_ADD, ref(x, i), ix(x, 4)));
    cr_assert_eq(iv_prove(&x->iv, bin(x, IR_LT, ref(x, t), ref(x, n))), IV_UNKNOWN);
    cr_assert_eq(iv_prove(&x->iv, bin(x, IR_LT, ref(x, t), bin(x, IR_ADD, ref(x, n), ix(x, 4)))),
                 IV_TRUE);
    iv_push_fact(&x->iv, bin(x, IR_LT, ref(x, t), ref(x, n)));
    cr_assert_eq(iv_prove(&x->iv, bin(x, IR_LE, ref(x, t), bin(x, IR_SUB, ref(x, n), ix(x, 1)))),
                 IV_TRUE);
    /* min(8, N - i) <= 8 */
    IrExpr *m = bin(x, IR_MIN, ix(x, 8), bin(x, IR_SUB, ref(x, n), ref(x, i)));
    cr_assert(iv_prove_le(&x->iv, m, 8));
    cr_assert(!iv_prove_le(&x->iv, m, 7));
    fx_free(x);
}

/* The assume `N % M == 0` as lowering writes it (IrFunc.assumes), with M a
 * schedule param of value m. */
static void assume_multiple(Fx *x, IrVar *n, int64_t m)
{
    IrVar *p = ir_var_new(x->f, "M", ELEM_I64, IR_VAR_PARAM);
    p->value = m;
    x->assume = bin(x, IR_EQ, bin(x, IR_REM, ref(x, n), ref(x, p)), ix(x, 0));
    x->f->assumes = &x->assume;
    x->f->nassumes = 1;
}

/* for jo in [0, ceil(N/8)) { for ji in [0, 8) { if jo*8+ji < N { B[jo*8+ji] = 1 } } } */
static IrStmt *split_nest(Fx *x, IrVar *n, IrBuffer *b)
{
    IrVar *jo = var(x, "jo", IR_VAR_LOOP), *ji = var(x, "ji", IR_VAR_LOOP);
    IrExpr *ceil = bin(x, IR_FLOORDIV, bin(x, IR_ADD, ref(x, n), ix(x, 7)), ix(x, 8));
    IrStmt *outer = loop(x, jo, ix(x, 0), ceil), *inner = loop(x, ji, ix(x, 0), ix(x, 8));
    IrExpr *j = bin(x, IR_ADD, bin(x, IR_MUL, ref(x, jo), ix(x, 8)), ref(x, ji));
    IrStmt *guard = ir_if(x->f, bin(x, IR_LT, j, ref(x, n)), x->sp);
    IrExpr *idx = ir_expr_copy(x->f, j);
    ir_block_push(x->f, &guard->body, ir_store(x->f, b, &idx, 1, ir_float(x->f, ELEM_F32, 1.0), x->sp));
    ir_block_push(x->f, &inner->body, guard);
    ir_block_push(x->f, &outer->body, inner);
    ir_block_push(x->f, &x->f->body, outer);
    return outer;
}

static IrBuffer *tensor(Fx *x, const char *name, IrVar *n)
{
    IrBuffer *b = ir_buffer_new(x->f, name, ELEM_F32, IR_MEM_PARAM, 1);
    b->mode = MODE_OUT;
    b->dims[0] = ref(x, n);
    x->f->tensors[x->f->ntensors++] = b;
    return b;
}

Test(passes, assume_removes_split_guards)
{
    Fx *x = fx();
    IrVar *n = size(x, "N");
    IrStmt *outer = split_nest(x, n, tensor(x, "B", n));
    PassCtx ctx = {0};
    cr_assert(!pass_assume(x->f, &ctx));  /* no assumes: nothing to do */
    cr_assert(!pass_simplify(x->f, &ctx)); /* the guard is needed */
    assume_multiple(x, n, 8);
    cr_assert(pass_assume(x->f, &ctx));
    IrStmt *inner = outer->body.items[0];
    cr_assert_eq(inner->body.items[0]->kind, IR_STORE);
    cr_assert(pass_simplify(x->f, &ctx));  /* ceil(N/8) is N fdiv 8 */
    cr_assert_eq(outer->extent->kind, IR_BINARY);
    cr_assert_eq(outer->extent->args[0]->kind, IR_VARREF);
    fx_free(x);
}

Test(passes, simplify_loops_of_extent_one_and_zero)
{
    Fx *x = fx();
    IrVar *n = size(x, "N"), *i = var(x, "i", IR_VAR_LOOP), *j = var(x, "j", IR_VAR_LOOP);
    IrBuffer *b = tensor(x, "B", n);
    IrStmt *one = loop(x, i, ix(x, 3), ix(x, 1)), *none = loop(x, j, ix(x, 0), ix(x, 0));
    IrExpr *idx = ref(x, i), *jdx = ref(x, j);
    ir_block_push(x->f, &one->body, ir_store(x->f, b, &idx, 1, ir_float(x->f, ELEM_F32, 1.0), x->sp));
    ir_block_push(x->f, &none->body, ir_store(x->f, b, &jdx, 1, ir_float(x->f, ELEM_F32, 2.0), x->sp));
    ir_block_push(x->f, &x->f->body, one);
    ir_block_push(x->f, &x->f->body, none);
    PassCtx ctx = {0};
    cr_assert(pass_simplify(x->f, &ctx));
    cr_assert_eq(x->f->body.len, 1);
    IrStmt *s = x->f->body.items[0];
    cr_assert_eq(s->kind, IR_STORE);
    cr_assert_eq(s->idx[0]->kind, IR_INT);
    cr_assert_eq(s->idx[0]->ival, 3);
    cr_assert_null(ir_verify(x->f));
    fx_free(x);
}

Test(passes, hoist_moves_invariant_lets_only)
{
    Fx *x = fx();
    IrVar *n = size(x, "N"), *i = var(x, "i", IR_VAR_LOOP);
    IrVar *inv = var(x, "inv", IR_VAR_LET), *dep = var(x, "dep", IR_VAR_LET);
    IrBuffer *b = ir_buffer_new(x->f, "B", ELEM_I64, IR_MEM_PARAM, 1);
    b->mode = MODE_INOUT;
    b->dims[0] = ref(x, n);
    x->f->tensors[x->f->ntensors++] = b;
    IrStmt *l = loop(x, i, ix(x, 0), ref(x, n));
    IrExpr *zero = ix(x, 0);
    /* let inv = N * 2 (invariant), let dep = B[0] (B is written in the loop) */
    ir_block_push(x->f, &l->body, ir_let(x->f, inv, bin(x, IR_MUL, ref(x, n), ix(x, 2)), x->sp));
    ir_block_push(x->f, &l->body, ir_let(x->f, dep, ir_load(x->f, b, &zero, 1), x->sp));
    IrExpr *idx = ref(x, i);
    ir_block_push(x->f, &l->body,
                  ir_store(x->f, b, &idx, 1, bin(x, IR_ADD, ref(x, inv), ref(x, dep)), x->sp));
    ir_block_push(x->f, &x->f->body, l);
    PassCtx ctx = {0};
    cr_assert(pass_hoist(x->f, &ctx));
    cr_assert_eq(x->f->body.len, 2);
    cr_assert_eq(x->f->body.items[0]->var, inv);
    cr_assert_eq(l->body.len, 2);
    cr_assert_eq(l->body.items[0]->var, dep);
    cr_assert_null(ir_verify(x->f));
    fx_free(x);
}

Test(passes, hoist_moves_invariant_guards_out)
{
    Fx *x = fx();
    IrVar *n = size(x, "N"), *m = size(x, "M"), *i = var(x, "i", IR_VAR_LOOP);
    IrBuffer *b = tensor(x, "B", n);
    IrStmt *l = loop(x, i, ix(x, 0), ref(x, n));
    IrStmt *g = ir_if(x->f, bin(x, IR_LT, ref(x, m), ix(x, 4)), x->sp);
    IrExpr *idx = ref(x, i);
    ir_block_push(x->f, &g->body, ir_store(x->f, b, &idx, 1, ir_float(x->f, ELEM_F32, 1.0), x->sp));
    ir_block_push(x->f, &l->body, g);
    ir_block_push(x->f, &x->f->body, l);
    PassCtx ctx = {0};
    cr_assert(pass_hoist(x->f, &ctx));
    cr_assert_eq(x->f->body.items[0], g);
    cr_assert_eq(g->body.items[0], l);
    cr_assert_eq(l->body.items[0]->kind, IR_STORE);
    fx_free(x);
}

Test(passes, dce_removes_unread_buffers_and_dead_lets)
{
    Fx *x = fx();
    IrVar *n = size(x, "N"), *i = var(x, "i", IR_VAR_LOOP), *t = var(x, "t", IR_VAR_LET);
    IrBuffer *out = tensor(x, "B", n);
    IrBuffer *tmp = ir_buffer_new(x->f, "T", ELEM_F32, IR_MEM_GLOBAL, 1);
    tmp->dims[0] = ref(x, n);
    ir_block_push(x->f, &x->f->body, ir_alloc(x->f, tmp, x->sp));
    IrStmt *l = loop(x, i, ix(x, 0), ref(x, n));
    IrExpr *idx = ref(x, i), *idx2 = ref(x, i);
    ir_block_push(x->f, &l->body, ir_let(x->f, t, bin(x, IR_ADD, ref(x, i), ix(x, 1)), x->sp));
    ir_block_push(x->f, &l->body, ir_store(x->f, tmp, &idx, 1, ir_float(x->f, ELEM_F32, 1.0), x->sp));
    ir_block_push(x->f, &l->body, ir_store(x->f, out, &idx2, 1, ir_float(x->f, ELEM_F32, 2.0), x->sp));
    ir_block_push(x->f, &x->f->body, l);
    PassCtx ctx = {0};
    cr_assert(pass_dce(x->f, &ctx));
    cr_assert_eq(x->f->body.len, 1);      /* the alloc went */
    cr_assert_eq(l->body.len, 1);         /* the let and the store into T went */
    cr_assert_eq(l->body.items[0]->buf, out);
    cr_assert(!pass_dce(x->f, &ctx));
    fx_free(x);
}

/* The value of an i64 expression with v1 = a and v2 = b. */
static int64_t eval2(Fx *x, const IrExpr *e, IrVar *v1, int64_t a, IrVar *v2, int64_t b)
{
    IrExpr *r = ir_substitute(x->f, e, v1, ix(x, a));
    r = ir_substitute(x->f, r, v2, ix(x, b));
    r = simp(x, r);
    cr_assert_eq(r->kind, IR_INT);
    return r->ival;
}

/* for i, j: S[i, j] = 1 with S shared of shape dims; returns the flat index. */
static IrExpr *flatten_store(Fx *x, ElemType t, int64_t d0, int64_t d1, int64_t pad, bool swz,
                             IrVar *i, IrVar *j, IrBuffer **out)
{
    IrBuffer *s = ir_buffer_new(x->f, "S", t, IR_MEM_SHARED, 2);
    s->dims[0] = ix(x, d0);
    s->dims[1] = ix(x, d1);
    s->pad = pad;
    s->swizzle = swz;
    IrStmt *li = loop(x, i, ix(x, 0), ix(x, d0)), *lj = loop(x, j, ix(x, 0), ix(x, d1));
    IrExpr *idx[2] = {ref(x, i), ref(x, j)};
    IrExpr *one = elem_is_float(t) ? ir_float(x->f, t, 1.0) : ir_int(x->f, t, 1);
    IrStmt *st = ir_store(x->f, s, idx, 2, one, x->sp);
    ir_block_push(x->f, &lj->body, st);
    ir_block_push(x->f, &li->body, lj);
    ir_block_push(x->f, &x->f->body, ir_alloc(x->f, s, x->sp));
    ir_block_push(x->f, &x->f->body, li);
    PassCtx ctx = {0};
    cr_assert(pass_flatten(x->f, &ctx));
    cr_assert(x->f->flat);
    cr_assert_eq(st->nidx, 1);
    cr_assert_null(ir_verify(x->f));
    *out = s;
    return st->idx[0];
}

Test(flatten, row_major_with_pad)
{
    Fx *x = fx();
    IrVar *i = var(x, "i", IR_VAR_LOOP), *j = var(x, "j", IR_VAR_LOOP);
    IrBuffer *s;
    IrExpr *flat = flatten_store(x, ELEM_F32, 4, 6, 2, false, i, j, &s);
    cr_assert_eq(eval2(x, flat, i, 0, j, 5), 5);
    cr_assert_eq(eval2(x, flat, i, 1, j, 0), 8);  /* row stride 6 + 2 */
    cr_assert_eq(eval2(x, flat, i, 3, j, 2), 26);
    int64_t dims[2] = {4, 6}, idx[2] = {3, 2};
    cr_assert_eq(flatten_offset(s, dims, idx), 26);
    fx_free(x);
}

Test(flatten, swizzle_is_a_permutation_matching_flatten_offset)
{
    Fx *x = fx();
    IrVar *i = var(x, "i", IR_VAR_LOOP), *j = var(x, "j", IR_VAR_LOOP);
    IrBuffer *s;
    IrExpr *flat = flatten_store(x, ELEM_F16, 8, 64, 0, true, i, j, &s);
    int64_t dims[2] = {8, 64};
    cr_assert_eq(flatten_swizzles(s, dims), 8);  /* 64 f16 = 8 chunks of 8 */
    int64_t idx[2] = {3, 10};
    cr_assert_eq(flatten_offset(s, dims, idx), 3 * 64 + (1 ^ 3) * 8 + 2);
    bool seen[8 * 64] = {0};
    for (int64_t r = 0; r < 8; r++)
        for (int64_t c = 0; c < 64; c += 3) {
            int64_t at[2] = {r, c}, off = eval2(x, flat, i, r, j, c);
            cr_assert_eq(off, flatten_offset(s, dims, at), "S[%lld, %lld]", (long long)r, (long long)c);
            cr_assert(off / 64 == r && !seen[off]);
            seen[off] = true;
        }
    fx_free(x);
}

Test(strength, index_arithmetic_becomes_affine)
{
    Fx *x = fx();
    IrVar *a = var(x, "a", IR_VAR_LOOP), *o = var(x, "o", IR_VAR_LOOP), *i = var(x, "i", IR_VAR_LOOP);
    /* (a fdiv 8)*8 + a fmod 8 = a */
    IrExpr *e = bin(x, IR_ADD, bin(x, IR_MUL, bin(x, IR_FLOORDIV, ref(x, a), ix(x, 8)), ix(x, 8)),
                    bin(x, IR_FLOORMOD, ref(x, a), ix(x, 8)));
    IrExpr *r = iv_rewrite(&x->iv, e, false);
    cr_assert_eq(r->kind, IR_VARREF);
    cr_assert_eq(r->var, a);
    /* (o*4 + i)*16 = o*64 + i*16 */
    e = bin(x, IR_MUL, bin(x, IR_ADD, bin(x, IR_MUL, ref(x, o), ix(x, 4)), ref(x, i)), ix(x, 16));
    r = iv_rewrite(&x->iv, e, false);
    cr_assert_eq(r->op, IR_ADD);
    cr_assert_eq(r->args[0]->op, IR_MUL);
    cr_assert_eq(r->args[0]->args[1]->ival, 64);
    cr_assert_eq(r->args[1]->args[1]->ival, 16);
    /* (o*8 + i) fdiv 8 = o when 0 <= i < 8 */
    iv_push_loop(&x->iv, loop(x, i, ix(x, 0), ix(x, 8)));
    e = bin(x, IR_FLOORDIV, bin(x, IR_ADD, bin(x, IR_MUL, ref(x, o), ix(x, 8)), ref(x, i)), ix(x, 8));
    r = iv_rewrite(&x->iv, e, true);
    cr_assert_not_null(r);
    cr_assert_eq(r->var, o);
    fx_free(x);
}
