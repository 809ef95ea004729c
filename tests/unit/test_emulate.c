/* The GPU emulator on launches built by hand in the GPU execution form: a
 * cooperative fill with a barrier passes; each detector (shared race, global
 * race, poison read, deadlock at a barrier some thread never reaches or at
 * two different barriers, async copy read before its wait, shuffles not every
 * lane reaches or lanes at different shuffles) reports with the
 * buffer, element, threads and block; spread copies split the box; the budget
 * stops a run; shuffles exchange the lanes' values (and shfl_xor's IR contract). */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower/ir.h"
#include "run/emulate.h"

enum { MAXP = 8 };

/* A kernel under construction with its arguments, and one launch being built. */
typedef struct Fixture {
    Arena a;
    Kernel k;
    IrFunc *f;
    Param params[MAXP];
    Param *pp[MAXP];
    IrBuffer *tensor_bufs[MAXP];
    RunTensor tensors[MAXP];
    RunScalar scalars[MAXP];
    int64_t size_vals[MAXP];
    RunArgs args;
    IrLaunch launches[4];
    Source src;
    Span sp;       /* line 1 */
    Span sp2;      /* line 2, column 5 */
    Span sp3;      /* line 3, column 5 */
    IrVar *bx, *tid;
    IrBlock *body; /* the thread loop's body of the launch being built */
} Fixture;

static const char source_text[] = "kernel k\n    barrier one\n    barrier two\n";

static Fixture *fixture(void)
{
    Fixture *x = calloc(1, sizeof *x);
    arena_init(&x->a);
    x->k.name.name = "k";
    x->k.params = x->pp;
    x->f = ir_func_new(&x->a, &x->k, TARGET_SM_80);
    x->f->tensors = x->tensor_bufs;
    x->f->flat = true;
    x->f->spmd = true;
    x->f->launches = x->launches;
    x->args = (RunArgs){.kernel = &x->k, .tensors = x->tensors, .scalars = x->scalars,
                        .sizes = x->size_vals};
    source_init(&x->src, &x->a, "t.acc", source_text, (uint32_t)strlen(source_text));
    x->sp2 = (Span){13, 20};
    x->sp3 = (Span){29, 36};
    return x;
}

static void fixture_free(Fixture *x)
{
    for (int i = 0; i < MAXP; i++)
        free(x->tensors[i].data);
    arena_free(&x->a);
    free(x);
}

static IrBuffer *tensor(Fixture *x, const char *name, ElemType t, ParamMode mode, int64_t n)
{
    int p = x->k.nparams++;
    x->params[p] = (Param){.name = {.name = name}, .mode = mode};
    x->params[p].type.is_tensor = true;
    x->params[p].type.elem = t;
    x->pp[p] = &x->params[p];
    IrBuffer *b = ir_buffer_new(x->f, name, t, IR_MEM_PARAM, 1);
    b->dims[0] = ir_index(x->f, n);
    b->mode = mode;
    b->param_index = p;
    x->tensor_bufs[x->f->ntensors++] = b;
    x->tensors[p] = (RunTensor){.elem = t, .ndims = 1, .dims = {n}, .count = n};
    x->tensors[p].data = calloc((size_t)n + 1, (size_t)elem_type_bytes(t));
    return b;
}

static float *fdata(Fixture *x, const IrBuffer *b) { return x->tensors[b->param_index].data; }
static IrExpr *idx(Fixture *x, int64_t v) { return ir_index(x->f, v); }
static IrExpr *ref(Fixture *x, IrVar *v) { return ir_ref(x->f, v); }
static IrExpr *add(Fixture *x, IrExpr *a, IrExpr *b) { return ir_binary(x->f, IR_ADD, a, b); }
static IrExpr *mul(Fixture *x, IrExpr *a, IrExpr *b) { return ir_binary(x->f, IR_MUL, a, b); }
static IrExpr *load1(Fixture *x, IrBuffer *b, IrExpr *i) { return ir_load(x->f, b, &i, 1); }

static IrStmt *store1(Fixture *x, IrBlock *blk, IrBuffer *b, IrExpr *i, IrExpr *v)
{
    IrStmt *s = ir_store(x->f, b, &i, 1, v, x->sp);
    ir_block_push(x->f, blk, s);
    return s;
}

/* for bx in [0, grid) bound block.x { for tid in [0, threads) bound thread.x { ... } }:
 * x->body is the thread loop's body. */
static void launch(Fixture *x, int64_t grid, int64_t threads, int64_t shared_bytes)
{
    IrFunc *f = x->f;
    x->bx = ir_var_new(f, "bx", ELEM_I64, IR_VAR_LOOP);
    x->tid = ir_var_new(f, "tid", ELEM_I64, IR_VAR_LOOP);
    IrStmt *bl = ir_loop(f, x->bx, idx(x, 0), idx(x, grid), IR_BOUND, x->sp);
    bl->hw = HW_BLOCK_X;
    IrStmt *tl = ir_loop(f, x->tid, idx(x, 0), idx(x, threads), IR_BOUND, x->sp);
    tl->hw = HW_THREAD_X;
    ir_block_push(f, &bl->body, tl);
    ir_block_push(f, &f->body, bl);
    x->launches[f->nlaunches++] = (IrLaunch){.root = bl, .grid = {idx(x, grid)}, .tid = x->tid,
                                             .threads = threads, .shared_bytes = shared_bytes};
    x->body = &tl->body;
}

static IrBuffer *shared(Fixture *x, const char *name, int64_t n, int64_t offset)
{
    IrBuffer *s = ir_buffer_new(x->f, name, ELEM_F32, IR_MEM_SHARED, 1);
    s->dims[0] = idx(x, n);
    s->smem_offset = offset;
    ir_block_push(x->f, x->body, ir_alloc(x->f, s, x->sp));
    return s;
}

static IrStmt *barrier(Fixture *x, IrBlock *blk, Span where)
{
    IrStmt *b = ir_barrier(x->f, where);
    ir_block_push(x->f, blk, b);
    return b;
}

/* copy dst[0] <- src[origin] box [n], spread over `threads` threads (0: not spread). */
static IrStmt *copy1(Fixture *x, IrBlock *blk, IrBuffer *dst, IrBuffer *src, IrExpr *origin, int64_t n,
                     int64_t threads, bool async)
{
    IrStmt *cp = ir_stmt_new(x->f, IR_COPY, x->sp);
    IrExpr **dorg = ARENA_ARRAY(&x->a, IrExpr *, 1), **sorg = ARENA_ARRAY(&x->a, IrExpr *, 1);
    int64_t *ext = ARENA_ARRAY(&x->a, int64_t, 1);
    dorg[0] = idx(x, 0);
    sorg[0] = origin;
    ext[0] = n;
    cp->copy = (IrCopy){.dst = dst, .src = src, .ndims = 1, .dst_origin = dorg, .src_origin = sorg,
                        .extent = ext, .zero_fill = true, .async = async,
                        .spread_tid = threads ? x->tid : NULL, .spread_threads = threads};
    ir_block_push(x->f, blk, cp);
    return cp;
}

static const char *emulate(Fixture *x, uint64_t seed)
{
    EmulateOptions o = {.seed = seed, .src = &x->src};
    return emulate_run(x->f, &x->args, &o, &x->a);
}

#define EMULATE_OK(x, seed)                                 \
    do {                                                    \
        const char *err_ = emulate(x, seed);                \
        cr_assert_null(err_, "emulator: %s", err_);         \
    } while (0)

#define ASSERT_HAS(s, part) cr_assert(strstr((s), (part)), "'%s' lacks '%s'", (s), (part))

enum { T = 8, G = 3 };

/* Each thread of each block writes S[tid]; after the barrier each reads its
 * neighbour's element: B[bx*T + tid] = S[(tid + 1) % T] * 2. */
static Fixture *neighbour_exchange(bool with_barrier)
{
    Fixture *x = fixture();
    IrBuffer *a = tensor(x, "A", ELEM_F32, MODE_IN, G * T);
    IrBuffer *b = tensor(x, "B", ELEM_F32, MODE_OUT, G * T);
    for (int i = 0; i < G * T; i++)
        fdata(x, a)[i] = (float)(i + 1);
    launch(x, G, T, 4 * T);
    IrBuffer *s = shared(x, "S", T, 0);
    IrExpr *g = add(x, mul(x, ref(x, x->bx), idx(x, T)), ref(x, x->tid));
    store1(x, x->body, s, ref(x, x->tid), load1(x, a, g));
    if (with_barrier)
        barrier(x, x->body, x->sp2);
    IrExpr *next = ir_binary(x->f, IR_FLOORMOD, add(x, ref(x, x->tid), idx(x, 1)), idx(x, T));
    store1(x, x->body, b, ir_expr_copy(x->f, g),
           ir_binary(x->f, IR_MUL, load1(x, s, next), ir_float(x->f, ELEM_F32, 2)));
    return x;
}

Test(emulate, cooperative_fill_and_barrier_pass_for_every_seed)
{
    for (uint64_t seed = 1; seed <= 5; seed++) {
        Fixture *x = neighbour_exchange(true);
        EMULATE_OK(x, seed);
        float *b = fdata(x, x->tensor_bufs[1]);
        for (int blk = 0; blk < G; blk++)
            for (int t = 0; t < T; t++)
                cr_assert_float_eq(b[blk * T + t], 2.0f * (float)(blk * T + (t + 1) % T + 1), 0,
                                   "B[%d]", blk * T + t);
        fixture_free(x);
    }
}

Test(emulate, shared_race_without_barrier_is_reported)
{
    for (uint64_t seed = 1; seed <= 5; seed++) {
        Fixture *x = neighbour_exchange(false);
        const char *err = emulate(x, seed);
        cr_assert_not_null(err, "seed %llu: no error", (unsigned long long)seed);
        /* The first thread to run reads a neighbour's unwritten element
         * (poison) or, once both ran, the read and write race. */
        cr_assert(strstr(err, "race on shared S[") || strstr(err, "read of shared S["), "%s", err);
        ASSERT_HAS(err, "thread ");
        ASSERT_HAS(err, "of block (");
        fixture_free(x);
    }
}

/* Thread 0 writes S[1] and thread 1 reads it with no barrier between: the
 * race names both threads, the element and what each did. */
Test(emulate, race_names_buffer_element_and_threads)
{
    Fixture *x = fixture();
    IrBuffer *b = tensor(x, "B", ELEM_F32, MODE_OUT, 2);
    launch(x, 1, 2, 64);
    IrBuffer *s = shared(x, "S", 4, 16);
    /* Every thread fills S, then a barrier, so that nothing reads poison. */
    for (int i = 0; i < 4; i++) {
        IrStmt *once = ir_if(x->f, ir_binary(x->f, IR_EQ, ref(x, x->tid), idx(x, 0)), x->sp);
        store1(x, &once->body, s, idx(x, i), ir_float(x->f, ELEM_F32, i));
        ir_block_push(x->f, x->body, once);
    }
    barrier(x, x->body, x->sp2);
    IrStmt *w = ir_if(x->f, ir_binary(x->f, IR_EQ, ref(x, x->tid), idx(x, 0)), x->sp);
    store1(x, &w->body, s, idx(x, 1), ir_float(x->f, ELEM_F32, 7));
    w->else_body = (IrBlock){0};
    store1(x, &w->else_body, b, idx(x, 1), load1(x, s, idx(x, 1)));
    ir_block_push(x->f, x->body, w);
    const char *err = emulate(x, 3);
    cr_assert_not_null(err);
    ASSERT_HAS(err, "race on shared S[1] in block (0, 0, 0): thread ");
    ASSERT_HAS(err, "since the barrier at t.acc:2:5, with no barrier between");
    cr_assert(strstr(err, "thread 0 writes it and thread 1 reads it") ||
                  strstr(err, "thread 1 reads it and thread 0 writes it"), "%s", err);
    fixture_free(x);
}

Test(emulate, global_races_between_threads_of_a_block_are_reported)
{
    /* Two threads write B[0]. */
    Fixture *x = fixture();
    IrBuffer *b = tensor(x, "B", ELEM_F32, MODE_OUT, 1);
    launch(x, 1, 4, 0);
    store1(x, x->body, b, idx(x, 0), ir_float(x->f, ELEM_F32, 1));
    const char *err = emulate(x, 1);
    cr_assert_not_null(err);
    ASSERT_HAS(err, "race on tensor B[0] in block (0, 0, 0)");
    ASSERT_HAS(err, "writes it and thread");
    ASSERT_HAS(err, "since the block began");
    fixture_free(x);

    /* Thread 0 writes V[0] (a var), the others read it without a barrier;
     * with one between, it passes. */
    for (int with = 0; with < 2; with++) {
        x = fixture();
        IrBuffer *o = tensor(x, "O", ELEM_F32, MODE_OUT, 4);
        IrBuffer *v = ir_buffer_new(x->f, "V", ELEM_F32, IR_MEM_GLOBAL, 1);
        v->dims[0] = idx(x, 1);
        ir_block_push(x->f, &x->f->body, ir_alloc(x->f, v, x->sp));
        launch(x, 1, 4, 0);
        IrStmt *once = ir_if(x->f, ir_binary(x->f, IR_EQ, ref(x, x->tid), idx(x, 0)), x->sp);
        store1(x, &once->body, v, idx(x, 0), ir_float(x->f, ELEM_F32, 5));
        ir_block_push(x->f, x->body, once);
        if (with)
            barrier(x, x->body, x->sp2);
        store1(x, x->body, o, ref(x, x->tid), load1(x, v, idx(x, 0)));
        err = emulate(x, 2);
        if (with) {
            cr_assert_null(err, "%s", err);
            for (int i = 0; i < 4; i++)
                cr_assert_float_eq(fdata(x, o)[i], 5.0f, 0);
        } else {
            cr_assert_not_null(err);
            ASSERT_HAS(err, "race on var V[0] in block (0, 0, 0): thread ");
        }
        fixture_free(x);
    }
}

/* Blocks are not ordered: B[0] written by every block, or B[bx] read by the
 * next block, is a race between blocks; each block its own element passes. */
Test(emulate, races_between_blocks_of_a_launch_are_reported)
{
    for (int kind = 0; kind < 3; kind++) {
        Fixture *x = fixture();
        IrBuffer *b = tensor(x, "B", ELEM_F32, MODE_INOUT, 4);
        launch(x, 4, 2, 0);
        IrStmt *once = ir_if(x->f, ir_binary(x->f, IR_EQ, ref(x, x->tid), idx(x, 0)), x->sp);
        IrExpr *where = kind == 0 ? idx(x, 0) : ref(x, x->bx);
        store1(x, &once->body, b, where, ir_float(x->f, ELEM_F32, 1));
        if (kind == 1) {
            /* Thread 1 reads the next block's element. */
            IrExpr *next = ir_binary(x->f, IR_FLOORMOD, add(x, ref(x, x->bx), idx(x, 1)), idx(x, 4));
            IrVar *r = ir_var_new(x->f, "r", ELEM_F32, IR_VAR_LET);
            ir_block_push(x->f, &once->else_body, ir_let(x->f, r, load1(x, b, next), x->sp));
        }
        ir_block_push(x->f, x->body, once);
        const char *err = emulate(x, 4);
        if (kind == 2) {
            cr_assert_null(err, "%s", err);
        } else {
            cr_assert_not_null(err);
            ASSERT_HAS(err, "race on tensor B[");
            ASSERT_HAS(err, "between blocks of one launch: thread ");
            ASSERT_HAS(err, "(blocks are not ordered)");
            if (kind == 0)
                ASSERT_HAS(err, "writes it and thread 0 of block (");
        }
        fixture_free(x);
    }
}

/* Threads 0..T-2 write S[tid]; every thread reads S[T-1] after the barrier. */
Test(emulate, poison_read_names_buffer_element_thread_and_block)
{
    Fixture *x = fixture();
    IrBuffer *b = tensor(x, "B", ELEM_F32, MODE_OUT, T);
    launch(x, 1, T, 4 * T);
    IrBuffer *s = shared(x, "S", T, 0);
    IrStmt *w = ir_if(x->f, ir_binary(x->f, IR_LT, ref(x, x->tid), idx(x, T - 1)), x->sp);
    store1(x, &w->body, s, ref(x, x->tid), ir_float(x->f, ELEM_F32, 1));
    ir_block_push(x->f, x->body, w);
    barrier(x, x->body, x->sp2);
    store1(x, x->body, b, ref(x, x->tid), load1(x, s, idx(x, T - 1)));
    const char *err = emulate(x, 1);
    cr_assert_not_null(err);
    ASSERT_HAS(err, "read of shared S[7] before any thread wrote it (poison), by thread ");
    ASSERT_HAS(err, " of block (0, 0, 0)");
    fixture_free(x);
}

Test(emulate, barrier_not_reached_by_every_thread_is_a_deadlock)
{
    Fixture *x = fixture();
    tensor(x, "B", ELEM_F32, MODE_OUT, 1);
    launch(x, 1, 4, 0);
    IrStmt *w = ir_if(x->f, ir_binary(x->f, IR_LT, ref(x, x->tid), idx(x, 2)), x->sp);
    barrier(x, &w->body, x->sp2);
    ir_block_push(x->f, x->body, w);
    const char *err = emulate(x, 1);
    cr_assert_not_null(err);
    ASSERT_HAS(err, "deadlock in block (0, 0, 0): thread ");
    ASSERT_HAS(err, " waits at the barrier at t.acc:2:5, which thread ");
    ASSERT_HAS(err, " never reaches (it finished)");
    fixture_free(x);

    /* Two barrier statements: half the threads wait at each. */
    x = fixture();
    tensor(x, "B", ELEM_F32, MODE_OUT, 1);
    launch(x, 1, 4, 0);
    w = ir_if(x->f, ir_binary(x->f, IR_LT, ref(x, x->tid), idx(x, 2)), x->sp);
    barrier(x, &w->body, x->sp2);
    barrier(x, &w->else_body, x->sp3);
    ir_block_push(x->f, x->body, w);
    err = emulate(x, 1);
    cr_assert_not_null(err);
    ASSERT_HAS(err, "deadlock in block (0, 0, 0): thread ");
    cr_assert(strstr(err, "t.acc:2:5") && strstr(err, "t.acc:3:5"), "%s", err);
    ASSERT_HAS(err, " while thread ");
    fixture_free(x);
}

/* S <- A[0 .. 2T) spread over the T threads; each thread reads S[2 tid + 1]
 * (copied by another thread): the barrier that waits for the copy decides. */
static Fixture *spread_fill(bool async, bool wait)
{
    Fixture *x = fixture();
    IrBuffer *a = tensor(x, "A", ELEM_F32, MODE_IN, 2 * T);
    IrBuffer *b = tensor(x, "B", ELEM_F32, MODE_OUT, T);
    for (int i = 0; i < 2 * T; i++)
        fdata(x, a)[i] = (float)(10 + i);
    launch(x, 1, T, 8 * T);
    IrBuffer *s = shared(x, "S", 2 * T, 0);
    copy1(x, x->body, s, a, idx(x, 0), 2 * T, T, async);
    if (wait)
        barrier(x, x->body, x->sp2);
    IrExpr *i = add(x, mul(x, ref(x, x->tid), idx(x, 2)), idx(x, 1));
    store1(x, x->body, b, ref(x, x->tid), load1(x, s, i));
    return x;
}

Test(emulate, spread_and_async_copies_land_by_their_barrier)
{
    for (int async = 0; async < 2; async++) {
        for (uint64_t seed = 1; seed <= 4; seed++) {
            Fixture *x = spread_fill(async, true);
            EMULATE_OK(x, seed);
            for (int t = 0; t < T; t++)
                cr_assert_float_eq(fdata(x, x->tensor_bufs[1])[t], (float)(10 + 2 * t + 1), 0);
            fixture_free(x);
        }
    }
}

Test(emulate, async_copy_read_before_its_wait_is_reported)
{
    /* Without the barrier, a thread reads an element another thread copies:
     * poison (not landed, or not copied yet) or a race. */
    for (int async = 0; async < 2; async++) {
        for (uint64_t seed = 1; seed <= 4; seed++) {
            Fixture *x = spread_fill(async, false);
            const char *err = emulate(x, seed);
            cr_assert_not_null(err);
            cr_assert(strstr(err, "read of shared S[") || strstr(err, "race on shared S["), "%s", err);
            fixture_free(x);
        }
    }

    /* Each thread reads what it copied itself, asynchronously, with no wait:
     * no race, but the data has not landed: poison. */
    Fixture *x = fixture();
    IrBuffer *a = tensor(x, "A", ELEM_F32, MODE_IN, T);
    IrBuffer *b = tensor(x, "B", ELEM_F32, MODE_OUT, T);
    launch(x, 1, T, 4 * T);
    IrBuffer *s = shared(x, "S", T, 0);
    copy1(x, x->body, s, a, idx(x, 0), T, T, true);
    store1(x, x->body, b, ref(x, x->tid), load1(x, s, ref(x, x->tid)));
    const char *err = emulate(x, 1);
    cr_assert_not_null(err);
    ASSERT_HAS(err, "before any thread wrote it (poison)");
    fixture_free(x);
}

/* Two async groups, a barrier that lets one stay in flight (pending 1), then
 * reads of the older group's data: they pass; reading the newer one is caught. */
Test(emulate, barrier_pending_keeps_the_newest_groups_in_flight)
{
    for (int read_newer = 0; read_newer < 2; read_newer++) {
        Fixture *x = fixture();
        IrBuffer *a = tensor(x, "A", ELEM_F32, MODE_IN, 2 * T);
        IrBuffer *b = tensor(x, "B", ELEM_F32, MODE_OUT, T);
        for (int i = 0; i < 2 * T; i++)
            fdata(x, a)[i] = (float)(i + 1);
        launch(x, 1, T, 8 * T);
        IrBuffer *s0 = shared(x, "S0", T, 0);
        IrBuffer *s1 = shared(x, "S1", T, 4 * T);
        copy1(x, x->body, s0, a, idx(x, 0), T, T, true);
        barrier(x, x->body, x->sp2)->pending = 0;  /* commits group 0 only; waits for it */
        copy1(x, x->body, s1, a, idx(x, T), T, T, true);
        barrier(x, x->body, x->sp3)->pending = 1;  /* group 1 may stay in flight */
        IrExpr *i = ir_binary(x->f, IR_FLOORMOD, add(x, ref(x, x->tid), idx(x, 1)), idx(x, T));
        store1(x, x->body, b, ref(x, x->tid), load1(x, read_newer ? s1 : s0, i));
        const char *err = emulate(x, 1);
        if (read_newer) {
            cr_assert_not_null(err);
            cr_assert(strstr(err, "S1["), "%s", err);
        } else {
            cr_assert_null(err, "%s", err);
            for (int t = 0; t < T; t++)
                cr_assert_float_eq(fdata(x, b)[t], (float)((t + 1) % T + 1), 0);
        }
        fixture_free(x);
    }
}

/* A pipelined shared buffer holds its stages one after another: with 2 stages of
 * 4 elements, element 7 is in it and element 8 is out of bounds. */
Test(emulate, pipelined_shared_buffers_hold_every_stage)
{
    for (int past = 0; past < 2; past++) {
        Fixture *x = fixture();
        IrBuffer *b = tensor(x, "B", ELEM_F32, MODE_OUT, 1);
        launch(x, 1, 1, 32);
        IrBuffer *s = shared(x, "S", 4, 0);
        s->stages = 2;
        store1(x, x->body, s, idx(x, 7 + past), ir_float(x->f, ELEM_F32, 3));
        store1(x, x->body, b, idx(x, 0), load1(x, s, idx(x, 7)));
        const char *err = emulate(x, 1);
        if (past) {
            cr_assert_not_null(err);
            ASSERT_HAS(err, "out-of-bounds store S[8] (S has 8 elements)");
        } else {
            cr_assert_null(err, "%s", err);
            cr_assert_float_eq(fdata(x, b)[0], 3.0f, 0);
        }
        fixture_free(x);
    }
}

Test(emulate, errors_of_the_interpreter_name_thread_and_block)
{
    Fixture *x = fixture();
    IrBuffer *b = tensor(x, "B", ELEM_F32, MODE_OUT, 4);
    launch(x, 2, 5, 0);
    store1(x, x->body, b, add(x, mul(x, ref(x, x->bx), idx(x, 5)), ref(x, x->tid)),
           ir_float(x->f, ELEM_F32, 1));
    const char *err = emulate(x, 1);
    cr_assert_not_null(err);
    ASSERT_HAS(err, "out-of-bounds store B[");
    ASSERT_HAS(err, "(B has 4 elements) (thread ");
    fixture_free(x);
}

Test(emulate, the_budget_stops_a_long_run)
{
    Fixture *x = fixture();
    IrBuffer *b = tensor(x, "B", ELEM_F32, MODE_OUT, 4);
    launch(x, 1000000, 256, 0);
    store1(x, x->body, b, idx(x, 0), ir_float(x->f, ELEM_F32, 1));
    EmulateOptions o = {.seed = 1, .max_steps = 1000000};
    const char *err = emulate_run(x->f, &x->args, &o, &x->a);
    cr_assert_not_null(err);
    ASSERT_HAS(err, "a launch of 1000000 x 1 x 1 blocks of 256 threads exceeds what is left of the "
                    "emulation's budget of 1000000 steps");
    fixture_free(x);

    /* A loop too long for the budget inside a small launch. */
    x = fixture();
    b = tensor(x, "B", ELEM_F32, MODE_OUT, 4);
    launch(x, 1, 1, 0);
    IrVar *i = ir_var_new(x->f, "i", ELEM_I64, IR_VAR_LOOP);
    IrStmt *l = ir_loop(x->f, i, idx(x, 0), idx(x, 1000000000), IR_SERIAL, x->sp);
    store1(x, &l->body, b, idx(x, 0), ir_float(x->f, ELEM_F32, 1));
    ir_block_push(x->f, x->body, l);
    o.max_steps = 100000;
    err = emulate_run(x->f, &x->args, &o, &x->a);
    cr_assert_not_null(err);
    ASSERT_HAS(err, "the emulation exceeded its budget of 100000 steps");
    fixture_free(x);
}

Test(emulate, refuses_the_serial_form)
{
    Fixture *x = fixture();
    x->f->spmd = false;
    EmulateOptions o = {.seed = 1};
    cr_assert_str_eq(emulate_run(x->f, &x->args, &o, &x->a),
                     "the function is not in the GPU execution form");
    fixture_free(x);
}

/* let v = e (a new f32 variable) at `where`, pushed into blk. */
static IrVar *let_f32(Fixture *x, IrBlock *blk, const char *name, IrExpr *e, Span where)
{
    IrVar *v = ir_var_new(x->f, name, e->type, IR_VAR_LET);
    ir_block_push(x->f, blk, ir_let(x->f, v, e, where));
    return v;
}

/* B[tid] = A[tid ^ 1] and C[tid] = the sum of A over the 8 lanes, by a
 * butterfly of shuffles (one warp of T = 8 lanes). */
Test(emulate, shuffles_exchange_the_lanes_values_for_every_seed)
{
    for (uint64_t seed = 1; seed <= 5; seed++) {
        Fixture *x = fixture();
        IrBuffer *a = tensor(x, "A", ELEM_F32, MODE_IN, T);
        IrBuffer *b = tensor(x, "B", ELEM_F32, MODE_OUT, T);
        IrBuffer *c = tensor(x, "C", ELEM_F32, MODE_OUT, T);
        for (int i = 0; i < T; i++)
            fdata(x, a)[i] = (float)(1 << i);
        launch(x, 1, T, 0);
        IrVar *w = let_f32(x, x->body, "w", load1(x, a, ref(x, x->tid)), x->sp2);
        store1(x, x->body, b, ref(x, x->tid), ir_shuffle_xor(x->f, ref(x, w), 1));
        for (int m = 1; m < T; m *= 2)
            w = let_f32(x, x->body, "s", add(x, ref(x, w), ir_shuffle_xor(x->f, ref(x, w), m)), x->sp2);
        store1(x, x->body, c, ref(x, x->tid), ref(x, w));
        EMULATE_OK(x, seed);
        for (int t = 0; t < T; t++) {
            cr_assert_float_eq(fdata(x, b)[t], (float)(1 << (t ^ 1)), 0, "B[%d]", t);
            cr_assert_float_eq(fdata(x, c)[t], (float)((1 << T) - 1), 0, "C[%d]", t);
        }
        fixture_free(x);
    }
}

/* if (tid < 2) { let y = shfl_xor(A[tid], 1) (line 2) } else { else_stmt }:
 * lanes 0 and 1 wait at the shuffle while the others do something else. */
static const char *shuffle_under_condition(IrStmt *(*else_stmt)(Fixture *, IrBlock *))
{
    Fixture *x = fixture();
    IrBuffer *a = tensor(x, "A", ELEM_F32, MODE_IN, T);
    launch(x, 1, T, 0);
    IrStmt *w = ir_if(x->f, ir_binary(x->f, IR_LT, ref(x, x->tid), idx(x, 2)), x->sp);
    let_f32(x, &w->body, "y", ir_shuffle_xor(x->f, load1(x, a, ref(x, x->tid)), 1), x->sp2);
    if (else_stmt)
        else_stmt(x, &w->else_body);
    ir_block_push(x->f, x->body, w);
    const char *err = emulate(x, 1);
    static char msg[512];
    snprintf(msg, sizeof msg, "%s", err ? err : "");
    fixture_free(x);
    return msg;
}

static IrStmt *other_shuffle(Fixture *x, IrBlock *blk)
{
    IrExpr *v = ir_cast(x->f, ELEM_F32, ref(x, x->tid));
    let_f32(x, blk, "z", ir_shuffle_xor(x->f, v, 1), x->sp3);
    return NULL;
}

static IrStmt *a_barrier(Fixture *x, IrBlock *blk) { return barrier(x, blk, x->sp3); }

Test(emulate, shuffles_that_not_every_lane_reaches_are_reported)
{
    const char *err = shuffle_under_condition(NULL);
    ASSERT_HAS(err, "deadlock in block (0, 0, 0): thread ");
    ASSERT_HAS(err, " waits at the shuffle at t.acc:2:5, which thread ");
    ASSERT_HAS(err, " of its warp never reaches (it finished)");

    err = shuffle_under_condition(a_barrier);
    ASSERT_HAS(err, " waits at the shuffle at t.acc:2:5, while thread ");
    ASSERT_HAS(err, " of its warp waits at the barrier at t.acc:3:5");

    err = shuffle_under_condition(other_shuffle);
    ASSERT_HAS(err, "divergent shuffles in block (0, 0, 0): thread ");
    cr_assert(strstr(err, "t.acc:2:5") && strstr(err, "t.acc:3:5"), "%s", err);
}

/* The IR contract of shfl_xor: printed as such, copied and compared with its
 * mask; the verifier takes it in the GPU execution form only, of 32 or 64 bits,
 * with a power-of-two mask below the wave. */
Test(emulate, shuffle_expressions_print_copy_and_verify)
{
    Fixture *x = fixture();
    IrBuffer *a = tensor(x, "A", ELEM_F32, MODE_IN, T);
    launch(x, 1, T, 0);
    IrExpr *e = ir_shuffle_xor(x->f, load1(x, a, ref(x, x->tid)), 4);
    IrVar *w = let_f32(x, x->body, "w", e, x->sp2);
    char buf[128] = {0};
    FILE *out = fmemopen(buf, sizeof buf - 1, "w");
    ir_print_expr(out, e);
    fclose(out);
    cr_assert_str_eq(buf, "shfl_xor(A[tid], 4)");
    IrExpr *c = ir_expr_copy(x->f, e);
    cr_assert(ir_expr_equal(c, e));
    c->ival = 2;
    cr_assert(!ir_expr_equal(c, e));
    cr_assert(ir_expr_uses(e, x->tid));
    cr_assert_null(ir_verify(x->f), "%s", ir_verify(x->f));
    e->ival = 3;
    ASSERT_HAS(ir_verify(x->f), "shfl_xor with a lane mask that is not a power of two below the wave");
    e->ival = 32;
    ASSERT_HAS(ir_verify(x->f), "shfl_xor with a lane mask");
    e->ival = 16;
    x->f->spmd = false;   /* the GPU steps before the grid step made the launches */
    int nlaunches = x->f->nlaunches;
    x->f->nlaunches = 0;
    ASSERT_HAS(ir_verify(x->f), "shfl_xor outside the GPU execution form");
    x->f->nlaunches = nlaunches;
    x->f->spmd = true;
    IrExpr *h = ir_shuffle_xor(x->f, ir_cast(x->f, ELEM_F16, ref(x, w)), 1);
    let_f32(x, x->body, "h", h, x->sp2);
    ASSERT_HAS(ir_verify(x->f), "shfl_xor of a value that is not of 32 or 64 bits");
    fixture_free(x);
}
