/* Unit tests for the region analysis (src/lower/region.c) on hand-built IR. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "lower/region.h"

typedef struct T {
    Arena a;
    IrFunc *f;
    IrVar *M, *N;
    IrBuffer *X;   /* f32[M, N] */
} T;

static void setup(T *t)
{
    arena_init(&t->a);
    t->f = ir_func_new(&t->a, NULL, TARGET_CPU);
    t->M = ir_var_new(t->f, "M", ELEM_I64, IR_VAR_SIZE);
    t->N = ir_var_new(t->f, "N", ELEM_I64, IR_VAR_SIZE);
    t->X = ir_buffer_new(t->f, "X", ELEM_F32, IR_MEM_PARAM, 2);
    t->X->dims[0] = ir_ref(t->f, t->M);
    t->X->dims[1] = ir_ref(t->f, t->N);
}

static IrStmt *loop(T *t, const char *name, int64_t extent, IrBlock *parent, IrVar **v)
{
    *v = ir_var_new(t->f, name, ELEM_I64, IR_VAR_LOOP);
    IrStmt *s = ir_loop(t->f, *v, ir_index(t->f, 0), ir_index(t->f, extent), IR_SERIAL, (Span){0, 0});
    if (parent)
        ir_block_push(t->f, parent, s);
    return s;
}

static IrExpr *add(T *t, IrExpr *a, IrExpr *b) { return ir_binary(t->f, IR_ADD, a, b); }
static IrExpr *mul(T *t, IrExpr *a, int64_t k) { return ir_binary(t->f, IR_MUL, a, ir_index(t->f, k)); }
static IrExpr *ref(T *t, IrVar *v) { return ir_ref(t->f, v); }

static IrStmt *store(T *t, IrBlock *b, IrExpr *i0, IrExpr *i1, IrExpr *value)
{
    IrExpr *idx[2] = {i0, i1};
    IrStmt *s = ir_store(t->f, t->X, idx, 2, value, (Span){0, 0});
    ir_block_push(t->f, b, s);
    return s;
}

static IrExpr *load(T *t, IrExpr *i0, IrExpr *i1)
{
    IrExpr *idx[2] = {i0, i1};
    return ir_load(t->f, t->X, idx, 2);
}

static char *expr_text(const IrExpr *e)
{
    static char buf[256];
    FILE *m = fmemopen(buf, sizeof buf, "w");
    ir_print_expr(m, e);
    fclose(m);
    return buf;
}

/* for bo in 0..10 { for bi in 0..8 { X[bo*8 + bi, 3] = ... } }: at bo, the
 * region is [bo*8, +8) x [3, +1). */
Test(region, split_loop_gives_tile_of_constant_extent)
{
    T t;
    setup(&t);
    IrVar *bo, *bi;
    IrStmt *L = loop(&t, "bo", 10, NULL, &bo);
    IrStmt *in = loop(&t, "bi", 8, &L->body, &bi);
    store(&t, &in->body, add(&t, mul(&t, ref(&t, bo), 8), ref(&t, bi)), ir_index(t.f, 3),
          ir_float(t.f, ELEM_F32, 1.0));
    RegionLets lets;
    region_lets_init(&lets, t.f);
    Region r;
    RegionError err;
    cr_assert(region_compute(t.f, &lets, L, L, t.X, false, &r, &err));
    cr_assert(r.written && !r.read);
    cr_assert_eq(r.dims[0].extent, 8);
    cr_assert_eq(r.dims[0].stride, 1);
    cr_assert_str_eq(expr_text(r.dims[0].min), "(bo * 8)");
    cr_assert_eq(r.dims[1].extent, 1);
    cr_assert_str_eq(expr_text(r.dims[1].min), "3");
    arena_free(&t.a);
}

/* A let is looked through, and a stride is kept: i = L*128 + m*16 + ty with m
 * varying over 8 gives 8 rows of stride 16 (ty fixed: around L). */
Test(region, let_is_resolved_and_stride_compresses)
{
    T t;
    setup(&t);
    IrVar *ty, *L, *m;
    IrStmt *outer = loop(&t, "ty", 16, NULL, &ty);
    IrStmt *Ls = loop(&t, "L", 4, &outer->body, &L);
    IrStmt *ms = loop(&t, "m", 8, &Ls->body, &m);
    IrVar *i = ir_var_new(t.f, "i", ELEM_I64, IR_VAR_LET);
    ir_block_push(t.f, &ms->body,
                  ir_let(t.f, i, add(&t, mul(&t, ref(&t, L), 128), add(&t, mul(&t, ref(&t, m), 16), ref(&t, ty))),
                         (Span){0, 0}));
    store(&t, &ms->body, ref(&t, i), ir_index(t.f, 0), load(&t, ref(&t, i), ir_index(t.f, 0)));
    t.f->body.len = 0;
    ir_block_push(t.f, &t.f->body, outer);
    RegionLets lets;
    region_lets_init(&lets, t.f);
    Region r;
    RegionError err;
    cr_assert(region_compute(t.f, &lets, outer, Ls, t.X, false, &r, &err));
    cr_assert(r.read && r.written);
    cr_assert_eq(r.dims[0].extent, 8);
    cr_assert_eq(r.dims[0].stride, 16);
    /* Per block: ty is a thread loop, so it varies too and fills the gaps. */
    outer->loop_kind = IR_BOUND;
    outer->hw = HW_THREAD_X;
    cr_assert(region_compute(t.f, &lets, outer, Ls, t.X, true, &r, &err));
    cr_assert_eq(r.dims[0].extent, 128);
    cr_assert_eq(r.dims[0].stride, 1);
    arena_free(&t.a);
}

/* for i in 0..M { for j in 0..i+1 { X[i, j] } } at i: the extent of
 * dimension 2 depends on i: an error naming i. */
Test(region, triangular_region_is_not_constant)
{
    T t;
    setup(&t);
    IrVar *i, *j;
    IrStmt *L = loop(&t, "i", 100, NULL, &i);
    j = ir_var_new(t.f, "j", ELEM_I64, IR_VAR_LOOP);
    IrStmt *js = ir_loop(t.f, j, ir_index(t.f, 0), add(&t, ref(&t, i), ir_index(t.f, 1)), IR_SERIAL,
                         (Span){0, 0});
    ir_block_push(t.f, &L->body, js);
    store(&t, &js->body, ref(&t, i), ref(&t, j), ir_float(t.f, ELEM_F32, 0.0));
    RegionLets lets;
    region_lets_init(&lets, t.f);
    Region r;
    RegionError err;
    cr_assert_not(region_compute(t.f, &lets, L, L, t.X, false, &r, &err));
    cr_assert_eq(err.dim, 1);
    cr_assert_str_eq(err.var, "i");
    arena_free(&t.a);
}

/* Two accesses at offsets 0 and 2 join into one box of extent 3 + 8 - 1. */
Test(region, accesses_join_into_bounding_box)
{
    T t;
    setup(&t);
    IrVar *L, *k;
    IrStmt *Ls = loop(&t, "L", 5, NULL, &L);
    IrStmt *ks = loop(&t, "k", 8, &Ls->body, &k);
    IrExpr *col = add(&t, mul(&t, ref(&t, L), 8), ref(&t, k));
    store(&t, &ks->body, ref(&t, L), ir_expr_copy(t.f, col),
          load(&t, ref(&t, L), add(&t, col, ir_index(t.f, 2))));
    RegionLets lets;
    region_lets_init(&lets, t.f);
    Region r;
    RegionError err;
    cr_assert(region_compute(t.f, &lets, Ls, Ls, t.X, false, &r, &err));
    cr_assert_eq(r.dims[1].extent, 10);
    cr_assert_str_eq(expr_text(r.dims[1].min), "(L * 8)");
    cr_assert_eq(r.dims[0].extent, 1);
    /* The offset of an index into the region: (idx - min) / stride. */
    cr_assert_str_eq(expr_text(region_offset(t.f, &r, 1, ir_index(t.f, 7))), "(7 - (L * 8))");
    arena_free(&t.a);
}

/* fdiv and fmod by constants are bounded: fdiv(k, 4) over k in [0, 8) gives 2
 * values (exact: low end and stride divisible); fmod(k + L, 3) gives [0, 3). */
Test(region, floordiv_and_floormod_are_bounded)
{
    T t;
    setup(&t);
    IrVar *L, *k;
    IrStmt *Ls = loop(&t, "L", 5, NULL, &L);
    IrStmt *ks = loop(&t, "k", 8, &Ls->body, &k);
    IrExpr *d = ir_binary(t.f, IR_FLOORDIV, ref(&t, k), ir_index(t.f, 4));
    IrExpr *m = ir_binary(t.f, IR_FLOORMOD, add(&t, ref(&t, k), ref(&t, L)), ir_index(t.f, 3));
    store(&t, &ks->body, d, m, ir_float(t.f, ELEM_F32, 0.0));
    RegionLets lets;
    region_lets_init(&lets, t.f);
    Region r;
    RegionError err;
    cr_assert(region_compute(t.f, &lets, Ls, Ls, t.X, false, &r, &err));
    cr_assert_eq(r.dims[0].extent, 3);   /* fdiv(k, 4) for k in [0, 7]: [0, 1], widened by one: conservative */
    cr_assert_eq(r.dims[1].extent, 3);
    cr_assert_str_eq(expr_text(r.dims[1].min), "0");
    arena_free(&t.a);
}

/* A store X[i, k] = 0 over the whole box, first under L, guarded only by
 * bounds: first written with =. Reading before writing is not. */
Test(region, first_written_with_assign)
{
    T t;
    setup(&t);
    IrVar *L, *k;
    IrStmt *Ls = loop(&t, "L", 5, NULL, &L);
    IrStmt *ks = loop(&t, "k", 8, &Ls->body, &k);
    IrExpr *col = add(&t, mul(&t, ref(&t, L), 8), ref(&t, k));
    IrStmt *g = ir_if(t.f, ir_binary(t.f, IR_LT, ir_expr_copy(t.f, col), ref(&t, t.N)), (Span){0, 0});
    ir_block_push(t.f, &ks->body, g);
    store(&t, &g->body, ref(&t, L), ir_expr_copy(t.f, col), ir_float(t.f, ELEM_F32, 0.0));
    RegionLets lets;
    region_lets_init(&lets, t.f);
    Region r;
    RegionError err;
    cr_assert(region_compute(t.f, &lets, Ls, Ls, t.X, false, &r, &err));
    cr_assert(region_first_written(t.f, &lets, Ls, Ls, &r));
    /* A guard that is not a bound of X (k < 4) leaves elements unwritten. */
    g->cond = ir_binary(t.f, IR_LT, ref(&t, k), ir_index(t.f, 4));
    cr_assert_not(region_first_written(t.f, &lets, Ls, Ls, &r));
    /* A += reads the element first. */
    g->cond = ir_binary(t.f, IR_LT, ir_expr_copy(t.f, col), ref(&t, t.N));
    g->body.items[0]->value = load(&t, ref(&t, L), ir_expr_copy(t.f, col));
    cr_assert_not(region_first_written(t.f, &lets, Ls, Ls, &r));
    arena_free(&t.a);
}

/* v + c resolves to the loop v and the constant c; 2*v does not. */
Test(region, loop_plus_const)
{
    T t;
    setup(&t);
    IrVar *L;
    loop(&t, "L", 5, NULL, &L);
    RegionLets lets;
    region_lets_init(&lets, t.f);
    IrVar *v = NULL;
    int64_t off = 0;
    cr_assert(region_loop_plus_const(t.f, &lets, add(&t, ref(&t, L), ir_index(t.f, 3)), &v, &off));
    cr_assert_eq(v, L);
    cr_assert_eq(off, 3);
    cr_assert_not(region_loop_plus_const(t.f, &lets, mul(&t, ref(&t, L), 2), &v, &off));
    cr_assert_not(region_loop_plus_const(t.f, &lets, ref(&t, t.M), &v, &off));
    arena_free(&t.a);
}
