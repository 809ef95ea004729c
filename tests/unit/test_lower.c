/* Lowering and schedule-loops through the real front end: a source string is
 * parsed and checked, its first kernel lowered, and the IR's shape asserted. */
#include <criterion/criterion.h>
#include <string.h>

#include "fixture.h"
#include "lower/passes.h"
#include "parser/parse.h"
#include "sema/sema.h"

typedef struct Lowered {
    Fixture fx;
    IrFunc *f;
} Lowered;

/* Lowers the first kernel of text for target t with the schedule sema selects. */
static IrFunc *lower_text(Lowered *l, const char *text, Target t)
{
    fixture_load(&l->fx, text, t);
    Kernel *k = l->fx.prog->kernels[0];
    Schedule *s = sema_select_schedule(l->fx.prog, k, t);
    l->f = lower_kernel(&l->fx.checked, k, t, s, &l->fx.arena);
    cr_assert_null(ir_verify(l->f));
    return l->f;
}

static bool schedule_loops(Lowered *l)
{
    PassCtx ctx = {.diag = &l->fx.diag, .checked = &l->fx.checked, .arena = &l->fx.arena};
    bool changed = pass_schedule_loops(l->f, &ctx);
    cr_assert_null(ir_verify(l->f));
    return changed;
}

static const IrStmt *only_child(const IrStmt *s)
{
    cr_assert_eq(s->body.len, 1);
    return s->body.items[0];
}

static const char *matmul =
    "kernel mm(A: f16[M, K], B: f32[K, N], C: out f32[M, N], x: f32) {\n"
    "    var t: f32[M];\n"
    "    init: for i in 0..M, j in 0..N { C[i, j] = x; }\n"
    "    update: for i in 0..M, j in 0..N, k in 0..K { C[i, j] -= f32(A[i, k]) * B[k, j]; }\n"
    "}\n";

Test(lower, params_sizes_and_vars)
{
    Lowered l;
    IrFunc *f = lower_text(&l, matmul, TARGET_CPU);
    cr_assert_eq(f->ntensors, 3);
    cr_assert_str_eq(f->tensors[2]->name, "C");
    cr_assert_eq(f->tensors[2]->mode, MODE_OUT);
    cr_assert_eq(f->tensors[2]->param_index, 2);
    cr_assert_eq(f->tensors[0]->elem, ELEM_F16);
    cr_assert_eq(f->tensors[0]->dims[1]->kind, IR_VARREF);
    cr_assert_str_eq(f->tensors[0]->dims[1]->var->name, "K");
    cr_assert_eq(f->nscalars, 1);
    cr_assert_eq(f->nsizes, 3);
    cr_assert_str_eq(f->sizes[2]->name, "N");
    /* the var first, then one statement per nest */
    cr_assert_eq(f->body.len, 3);
    cr_assert_eq(f->body.items[0]->kind, IR_ALLOC);
    cr_assert_eq(f->body.items[0]->buf->mem, IR_MEM_GLOBAL);
    cr_assert_eq(f->nnests, 2);
    cr_assert_eq(f->nests[1].root, f->body.items[2]);
    cr_assert_null(f->nests[1].sched);
    fixture_free(&l.fx);
}

Test(lower, one_serial_loop_per_index)
{
    Lowered l;
    IrFunc *f = lower_text(&l, matmul, TARGET_CPU);
    const IrStmt *s = f->nests[1].root;
    const char *names[] = {"i", "j", "k"};
    for (int p = 0; p < 3; p++) {
        cr_assert_eq(s->kind, IR_LOOP);
        cr_assert_str_eq(s->var->name, names[p]);
        cr_assert_eq(s->loop_kind, IR_SERIAL);
        cr_assert_eq(s->var->kind, IR_VAR_LOOP);
        if (p < 2)
            s = only_child(s);
    }
    cr_assert_eq(s->body.len, 1);
    cr_assert_eq(s->body.items[0]->kind, IR_STORE);
    fixture_free(&l.fx);
}

Test(lower, compound_assignment_reads_the_element_and_widens_f16)
{
    Lowered l;
    IrFunc *f = lower_text(&l, matmul, TARGET_CPU);
    const IrStmt *st = only_child(only_child(only_child(f->nests[1].root)));
    cr_assert_eq(st->kind, IR_STORE);
    cr_assert_not_null(st->source);
    cr_assert(st->source->is_reduction);
    /* C[i, j] = C[i, j] - f32(A[i, k]) * B[k, j] */
    const IrExpr *v = st->value;
    cr_assert_eq(v->kind, IR_BINARY);
    cr_assert_eq(v->op, IR_SUB);
    cr_assert_eq(v->args[0]->kind, IR_LOAD);
    cr_assert_eq(v->args[0]->buf, st->buf);
    const IrExpr *a = v->args[1]->args[0];
    cr_assert_eq(a->kind, IR_CAST);
    cr_assert_eq(a->type, ELEM_F32);
    cr_assert_eq(a->args[0]->kind, IR_LOAD);
    cr_assert_eq(a->args[0]->type, ELEM_F16);
    fixture_free(&l.fx);
}

Test(lower, stores_into_f16_round_and_literals_take_their_type)
{
    Lowered l;
    IrFunc *f = lower_text(&l,
                           "kernel h(X: f32[N], H: out f16[N], Z: out i32[N]) {\n"
                           "    for i in 0..N { H[i] = X[i] * 2; Z[i] = i32(X[i]) + 1; }\n"
                           "}\n",
                           TARGET_CPU);
    const IrStmt *loop = f->nests[0].root;
    const IrStmt *h = loop->body.items[0], *z = loop->body.items[1];
    cr_assert_eq(h->value->kind, IR_CAST);
    cr_assert_eq(h->value->type, ELEM_F16);
    const IrExpr *two = h->value->args[0]->args[1];
    cr_assert_eq(two->kind, IR_FLOAT);
    cr_assert_eq(two->type, ELEM_F32);
    cr_assert_float_eq(two->fval, 2.0, 0);
    const IrExpr *one = z->value->args[1];
    cr_assert_eq(one->kind, IR_INT);
    cr_assert_eq(one->type, ELEM_I32);
    fixture_free(&l.fx);
}

Test(lower, let_if_select_min_and_calls)
{
    Lowered l;
    IrFunc *f = lower_text(&l,
                           "kernel s(X: f32[N], Y: out f32[N]) {\n"
                           "    for i in 0..N {\n"
                           "        let x = min(X[i], 1.0);\n"
                           "        if x > 0.0 { Y[i] = exp(x); } else { Y[i] = x < -1.0 ? pi : inf; }\n"
                           "    }\n"
                           "}\n",
                           TARGET_CPU);
    const IrStmt *loop = f->nests[0].root;
    cr_assert_eq(loop->body.len, 2);
    const IrStmt *let = loop->body.items[0], *iff = loop->body.items[1];
    cr_assert_eq(let->kind, IR_LET);
    cr_assert_eq(let->var->kind, IR_VAR_LET);
    cr_assert_eq(let->value->kind, IR_BINARY);
    cr_assert_eq(let->value->op, IR_MIN);
    cr_assert_eq(iff->kind, IR_IF);
    cr_assert_eq(iff->body.items[0]->value->kind, IR_CALL);
    cr_assert_eq(iff->body.items[0]->value->intrinsic, INTR_EXP);
    const IrExpr *sel = iff->else_body.items[0]->value;
    cr_assert_eq(sel->kind, IR_SELECT);
    cr_assert_float_eq(sel->args[1]->fval, 3.14159265358979323846, 1e-15);
    cr_assert(sel->args[2]->fval > 1e308);
    fixture_free(&l.fx);
}

Test(schedule_loops, split_with_a_tail_binds_the_index_and_guards)
{
    Lowered l;
    IrFunc *f = lower_text(&l,
                           "kernel v(X: f32[N], Y: out f32[N]) { for i in 0..N { Y[i] = X[i]; } }\n"
                           "schedule v for cpu { split i by 8 -> io, ii; vectorize ii; }\n",
                           TARGET_CPU);
    cr_assert(schedule_loops(&l));
    const IrStmt *io = f->nests[0].root, *ii = only_child(io);
    cr_assert_str_eq(io->var->name, "io");
    cr_assert_eq(ii->loop_kind, IR_VECTORIZED);
    int64_t e;
    cr_assert(ir_const_int(ii->extent, &e) && e == 8);
    cr_assert_eq(ii->body.len, 2);
    cr_assert_eq(ii->body.items[0]->kind, IR_LET);
    cr_assert_str_eq(ii->body.items[0]->var->name, "i");
    cr_assert_eq(ii->body.items[1]->kind, IR_IF);
    cr_assert_eq(ii->body.items[1]->body.items[0]->kind, IR_STORE);
    fixture_free(&l.fx);
}

Test(schedule_loops, split_that_divides_has_no_guard)
{
    Lowered l;
    IrFunc *f = lower_text(&l,
                           "kernel v(X: f32[64], Y: out f32[64]) { for i in 0..64 { Y[i] = X[i]; } }\n"
                           "schedule v for cpu { split i by 8 -> io, ii; }\n",
                           TARGET_CPU);
    cr_assert(schedule_loops(&l));
    const IrStmt *ii = only_child(f->nests[0].root);
    cr_assert_eq(ii->body.len, 2);
    cr_assert_eq(ii->body.items[0]->kind, IR_LET);
    cr_assert_eq(ii->body.items[1]->kind, IR_STORE);
    fixture_free(&l.fx);
}

Test(schedule_loops, cpu_default_is_unchanged_and_gpu_default_binds)
{
    Lowered l;
    IrFunc *f = lower_text(&l, matmul, TARGET_CPU);
    cr_assert_not(schedule_loops(&l));
    fixture_free(&l.fx);
    f = lower_text(&l, matmul, TARGET_SM_80);
    cr_assert(schedule_loops(&l));
    const IrStmt *b = f->nests[1].root, *t = only_child(b);
    cr_assert_eq(b->loop_kind, IR_BOUND);
    cr_assert_eq(b->hw, HW_BLOCK_X);
    cr_assert_eq(t->hw, HW_THREAD_X);
    int64_t e;
    cr_assert(ir_const_int(t->extent, &e) && e == 256);
    fixture_free(&l.fx);
}

Test(schedule_loops, fusing_a_triangular_pair_is_an_error)
{
    Lowered l;
    lower_text(&l,
               "kernel k(A: f32[N, N], B: out f32[N, N]) {\n"
               "    for i in 0..N, j in 0..i + 1 { B[i, j] = A[i, j]; }\n"
               "}\n"
               "schedule k for cpu { fuse i, j -> f; }\n",
               TARGET_CPU);
    PassCtx ctx = {.diag = &l.fx.diag, .checked = &l.fx.checked, .arena = &l.fx.arena};
    pass_schedule_loops(l.f, &ctx);
    cr_assert_eq(l.fx.diag.nerrors, 1);
    fixture_free(&l.fx);
}
