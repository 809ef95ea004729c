/* The caches pass: `cache X at L in shared|registers [pad P | swizzle]` and
 * `pipeline L stages S`, for each nest's final schedule state.
 *
 * For each cache, outermost loop first (clause order among equals):
 *   region   the box of X accessed under L (region.c): shared per block,
 *            registers per thread; a strided box keeps only the elements hit
 *   alloc    mem T X_shared|X_reg[extents] pad swizzle stages, at L's body start
 *   rewrite  every access X[idx] under L becomes X_c[(idx - min) / stride]
 *   fill     copy X_c <- X zero-fill, at the start of each iteration of L,
 *            unless every element is first written with `=` under L
 *   write    copy X <- X_c (in bounds only) at the end of each iteration,
 *   back     when anything under L writes X
 * A cache of X inside the loop of another cache of X is filled from (and
 * written back to) that outer cache. On GPUs, a barrier follows the shared
 * fills of an iteration and another ends its body (before the write-backs and
 * the next iteration's fills). Pipelined loops mark their caches with the
 * stages and their fills async; the serial meaning is that of a plain fill.
 * Strided boxes are copied by explicit loops (IR_COPY copies dense boxes). */
#include <string.h>

#include "lower/flatten.h"
#include "lower/passes.h"
#include "lower/region.h"

/* The statements a loop gains: prologue, epilogue and barriers. */
typedef struct LoopEdit {
    IrStmt *loop;
    IrBlock pro, epi;
    bool barrier_after_fill, barrier_at_end;
} LoopEdit;

/* A cache placed so far: inner caches of the same tensor read from it. */
typedef struct Placed {
    const char *tensor;
    IrStmt *loop;
    IrBuffer *buf;
} Placed;

typedef struct CacheCtx {
    IrFunc *f;
    PassCtx *pc;
    RegionLets lets;
    LoopEdit *edits;
    int nedits;
    Placed *placed;
    int nplaced;
    int64_t shared_bytes;   /* of the nest being processed */
    int nshared;
} CacheCtx;

static LoopEdit *edit_for(CacheCtx *c, IrStmt *loop)
{
    for (int i = 0; i < c->nedits; i++)
        if (c->edits[i].loop == loop)
            return &c->edits[i];
    LoopEdit *e = &c->edits[c->nedits++];
    memset(e, 0, sizeof *e);
    e->loop = loop;
    return e;
}

/* ---- the buffer a cache reads from ---- */

static IrBuffer *tensor_buffer(IrFunc *f, const char *name)
{
    for (int i = 0; i < f->ntensors; i++)
        if (strcmp(f->tensors[i]->name, name) == 0)
            return f->tensors[i];
    for (int i = 0; i < f->body.len; i++) {
        IrStmt *s = f->body.items[i];
        if (s->kind == IR_ALLOC && s->buf->mem == IR_MEM_GLOBAL && strcmp(s->buf->name, name) == 0)
            return s->buf;
    }
    return NULL;
}

/* The innermost cache of the same tensor whose loop holds L, else X itself. */
static IrBuffer *cache_source(CacheCtx *c, const char *tensor, IrStmt *loop)
{
    IrBuffer *src = tensor_buffer(c->f, tensor);
    IrStmt *best = NULL;
    for (int i = 0; i < c->nplaced; i++) {
        Placed *p = &c->placed[i];
        if (strcmp(p->tensor, tensor) == 0 && p->loop != loop && region_contains(p->loop, loop) &&
            (!best || region_contains(best, p->loop))) {
            best = p->loop;
            src = p->buf;
        }
    }
    return src;
}

/* ---- rewriting the accesses under L ---- */

typedef struct Rewrite {
    IrFunc *f;
    const Region *r;
    IrBuffer *from, *to;
} Rewrite;

static IrExpr **rewrite_index(Rewrite *rw, IrExpr **idx, int n);

static IrExpr *rewrite_expr(Rewrite *rw, IrExpr *e)
{
    bool changed = false;
    IrExpr **args = ARENA_ARRAY(rw->f->arena, IrExpr *, e->nargs + 1);
    for (int i = 0; i < e->nargs; i++) {
        args[i] = rewrite_expr(rw, e->args[i]);
        changed = changed || args[i] != e->args[i];
    }
    if (e->kind == IR_LOAD && e->buf == rw->from)
        return ir_load(rw->f, rw->to, rewrite_index(rw, args, e->nargs), e->nargs);
    if (!changed)
        return e;
    IrExpr *c = ir_expr_copy(rw->f, e);
    for (int i = 0; i < e->nargs; i++)
        c->args[i] = args[i];
    return c;
}

/* Indices into the region: (idx - min) / stride per dimension. */
static IrExpr **rewrite_index(Rewrite *rw, IrExpr **idx, int n)
{
    IrExpr **out = ARENA_ARRAY(rw->f->arena, IrExpr *, n + 1);
    for (int d = 0; d < n; d++)
        out[d] = region_offset(rw->f, rw->r, d, idx[d]);
    return out;
}

static void rewrite_block(Rewrite *rw, IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        IrStmt *s = b->items[i];
        switch (s->kind) {
        case IR_LOOP:
            s->lo = rewrite_expr(rw, s->lo);
            s->extent = rewrite_expr(rw, s->extent);
            break;
        case IR_STORE:
            for (int d = 0; d < s->nidx; d++)
                s->idx[d] = rewrite_expr(rw, s->idx[d]);
            s->value = rewrite_expr(rw, s->value);
            if (s->buf == rw->from) {
                s->idx = rewrite_index(rw, s->idx, s->nidx);
                s->buf = rw->to;
            }
            break;
        case IR_LET: s->value = rewrite_expr(rw, s->value); break;
        case IR_IF: s->cond = rewrite_expr(rw, s->cond); break;
        default: break;
        }
        rewrite_block(rw, &s->body);
        rewrite_block(rw, &s->else_body);
    }
}

/* ---- fills and write-backs ---- */

static bool dense(const Region *r)
{
    for (int d = 0; d < r->ndims; d++)
        if (r->dims[d].stride != 1)
            return false;
    return true;
}

/* A dense box: one IR_COPY between X at the region's min and the cache at 0. */
static IrStmt *copy_dense(CacheCtx *c, const Region *r, IrBuffer *x, IrBuffer *cache, bool fill,
                          Span origin)
{
    IrFunc *f = c->f;
    IrStmt *s = ir_stmt_new(f, IR_COPY, origin);
    IrCopy *cp = &s->copy;
    cp->ndims = r->ndims;
    cp->dst = fill ? cache : x;
    cp->src = fill ? x : cache;
    IrExpr **zero = ARENA_ARRAY(f->arena, IrExpr *, r->ndims + 1);
    IrExpr **min = ARENA_ARRAY(f->arena, IrExpr *, r->ndims + 1);
    cp->extent = ARENA_ARRAY(f->arena, int64_t, r->ndims + 1);
    for (int d = 0; d < r->ndims; d++) {
        zero[d] = ir_index(f, 0);
        min[d] = ir_expr_copy(f, r->dims[d].min);
        cp->extent[d] = r->dims[d].extent;
    }
    cp->dst_origin = fill ? zero : min;
    cp->src_origin = fill ? min : zero;
    cp->zero_fill = fill;
    return s;
}

static IrExpr *zero_of(IrFunc *f, ElemType t)
{
    return elem_is_float(t) ? ir_float(f, t, 0.0) : ir_int(f, t, 0);
}

/* A strided box, as loops over t:
 *   fill:       if X[min + stride*t] is in bounds { c[t] = X[..] } else { c[t] = 0 }
 *   write-back: if in bounds { X[min + stride*t] = c[t] } */
static IrStmt *copy_strided(CacheCtx *c, const Region *r, IrBuffer *x, IrBuffer *cache, bool fill,
                            Span origin)
{
    IrFunc *f = c->f;
    int n = r->ndims;
    IrExpr **t = ARENA_ARRAY(f->arena, IrExpr *, n + 1);
    IrExpr **xi = ARENA_ARRAY(f->arena, IrExpr *, n + 1);
    IrStmt *outer = NULL;
    IrBlock *inner = NULL;
    IrExpr *in = NULL;
    for (int d = 0; d < n; d++) {
        IrVar *v = ir_var_new(f, arena_printf(f->arena, "%s_t%d", cache->name, d), ELEM_I64,
                              IR_VAR_LOOP);
        IrStmt *lp = ir_loop(f, v, ir_index(f, 0), ir_index(f, r->dims[d].extent), IR_SERIAL, origin);
        if (inner)
            ir_block_push(f, inner, lp);
        else
            outer = lp;
        inner = &lp->body;
        t[d] = ir_ref(f, v);
        xi[d] = ir_expr_copy(f, r->dims[d].min);
        if (r->dims[d].stride != 1 || r->dims[d].extent != 1)
            xi[d] = ir_binary(f, IR_ADD, xi[d],
                              r->dims[d].stride == 1
                                  ? ir_ref(f, v)
                                  : ir_binary(f, IR_MUL, ir_index(f, r->dims[d].stride), ir_ref(f, v)));
        IrExpr *ok = ir_binary(f, IR_AND, ir_binary(f, IR_GE, ir_expr_copy(f, xi[d]), ir_index(f, 0)),
                               ir_binary(f, IR_LT, ir_expr_copy(f, xi[d]), ir_expr_copy(f, x->dims[d])));
        in = in ? ir_binary(f, IR_AND, in, ok) : ok;
    }
    IrStmt *guard = ir_if(f, in, origin);
    if (fill) {
        ir_block_push(f, &guard->body, ir_store(f, cache, t, n, ir_load(f, x, xi, n), origin));
        IrExpr **t2 = ARENA_ARRAY(f->arena, IrExpr *, n + 1);
        for (int d = 0; d < n; d++)
            t2[d] = ir_expr_copy(f, t[d]);
        ir_block_push(f, &guard->else_body, ir_store(f, cache, t2, n, zero_of(f, cache->elem), origin));
    } else {
        ir_block_push(f, &guard->body, ir_store(f, x, xi, n, ir_load(f, cache, t, n), origin));
    }
    ir_block_push(f, inner, guard);
    return outer;
}

static IrStmt *copy_box(CacheCtx *c, const Region *r, IrBuffer *x, IrBuffer *cache, bool fill,
                        Span origin)
{
    return dense(r) ? copy_dense(c, r, x, cache, fill, origin)
                    : copy_strided(c, r, x, cache, fill, origin);
}

/* ---- one cache ---- */

static const char *cache_name(CacheCtx *c, const SchedCache *sc)
{
    const char *name = arena_printf(c->f->arena, "%s_%s", sc->tensor,
                                    sc->mem == MEM_SHARED ? "shared" : "reg");
    for (int i = 0; i < c->nplaced; i++)
        if (strcmp(c->placed[i].buf->name, name) == 0)
            return arena_printf(c->f->arena, "%s_%s", name, sc->at);
    return name;
}

static int64_t loop_stages(const SchedState *st, const char *name)
{
    for (int i = 0; i < st->nloops; i++)
        if (strcmp(st->loops[i].name, name) == 0)
            return st->loops[i].stages;
    return 0;
}

static IrBuffer *new_cache_buffer(CacheCtx *c, const SchedCache *sc, const Region *r,
                                  const IrBuffer *x, int64_t stages)
{
    IrFunc *f = c->f;
    IrBuffer *b = ir_buffer_new(f, cache_name(c, sc), x->elem,
                                sc->mem == MEM_SHARED ? IR_MEM_SHARED : IR_MEM_REGISTERS, r->ndims);
    for (int d = 0; d < r->ndims; d++)
        b->dims[d] = ir_index(f, r->dims[d].extent);
    b->pad = sc->pad;
    b->swizzle = sc->swizzle;
    b->stages = stages;
    return b;
}

static void mark_async(IrStmt *s)
{
    if (s->kind == IR_COPY)
        s->copy.async = true;
}

/* cache X at L in mem: region, alloc, rewrite, fill, write-back. */
static void apply_cache(CacheCtx *c, IrStmt *root, const SchedState *st, const SchedCache *sc)
{
    IrFunc *f = c->f;
    IrStmt *loop = region_find_loop(root, sc->at);
    IrBuffer *x = loop ? cache_source(c, sc->tensor, loop) : NULL;
    if (!loop || !x) {
        diag_error(c->pc->diag, sc->span, "internal error: cache of '%s' at '%s' finds no such loop in the IR",
                   sc->tensor, sc->at);
        return;
    }
    Region r;
    RegionError err;
    if (!region_compute(f, &c->lets, root, loop, x, sc->mem == MEM_SHARED, &r, &err)) {
        region_report(c->pc->diag, sc->span, sc->tensor, sc->at, &err);
        return;
    }
    if (!r.read && !r.written)
        return;
    int64_t stages = loop_stages(st, sc->at);
    if (stages)
        loop->stages = stages;
    IrBuffer *cache = new_cache_buffer(c, sc, &r, x, stages);
    bool gpu_shared = target_is_gpu(f->target) && sc->mem == MEM_SHARED;
    bool no_fill = region_first_written(f, &c->lets, root, loop, &r);
    Rewrite rw = {.f = f, .r = &r, .from = x, .to = cache};
    rewrite_block(&rw, &loop->body);
    LoopEdit *e = edit_for(c, loop);
    ir_block_push(f, &e->pro, ir_alloc(f, cache, sc->span));
    if (!no_fill) {
        IrStmt *fill = copy_box(c, &r, x, cache, true, sc->span);
        if (stages)
            mark_async(fill);
        ir_block_push(f, &e->pro, fill);
        e->barrier_after_fill = e->barrier_after_fill || gpu_shared;
    }
    e->barrier_at_end = e->barrier_at_end || gpu_shared;
    if (r.written)
        ir_block_push(f, &e->epi, copy_box(c, &r, x, cache, false, sc->span));
    c->placed[c->nplaced++] = (Placed){.tensor = sc->tensor, .loop = loop, .buf = cache};
    if (sc->mem == MEM_SHARED) {
        int64_t dims[64] = {0};
        for (int d = 0; d < r.ndims && d < 64; d++)
            dims[d] = r.dims[d].extent;
        c->shared_bytes += elem_type_bytes(x->elem) * flatten_count(cache, dims);
        c->nshared++;
    }
}

/* Splices each loop's edits: prologue, barrier, body, barrier, epilogue. */
static void splice_edits(CacheCtx *c)
{
    IrFunc *f = c->f;
    for (int i = 0; i < c->nedits; i++) {
        LoopEdit *e = &c->edits[i];
        IrBlock body = {0};
        Span at = e->loop->origin;
        for (int k = 0; k < e->pro.len; k++)
            ir_block_push(f, &body, e->pro.items[k]);
        if (e->barrier_after_fill)
            ir_block_push(f, &body, ir_barrier(f, at));
        for (int k = 0; k < e->loop->body.len; k++)
            ir_block_push(f, &body, e->loop->body.items[k]);
        if (e->barrier_at_end)
            ir_block_push(f, &body, ir_barrier(f, at));
        for (int k = 0; k < e->epi.len; k++)
            ir_block_push(f, &body, e->epi.items[k]);
        e->loop->body = body;
    }
    c->nedits = 0;
}

/* Position of loop `name` in the final loop list (outermost first). */
static int loop_depth(const SchedState *st, const char *name)
{
    for (int i = 0; i < st->nloops; i++)
        if (strcmp(st->loops[i].name, name) == 0)
            return i;
    return st->nloops;
}

/* Resource limit: the shared caches of one nest (one block), times their stages. */
static void check_shared(CacheCtx *c, const SchedState *st)
{
    IrFunc *f = c->f;
    int64_t limit = target_shared_limit(f->target);
    if (!target_is_gpu(f->target) || c->shared_bytes <= limit)
        return;
    const SchedCache *last = NULL;
    for (int i = 0; i < st->ncaches; i++)
        if (st->caches[i].mem == MEM_SHARED)
            last = &st->caches[i];
    diag_error(c->pc->diag, last->span,
               "shared memory of %d caches at '%s' is %lld bytes, over the limit of %lld bytes on %s:%s",
               c->nshared, last->at, (long long)c->shared_bytes, (long long)limit,
               target_vendor(f->target), target_arch(f->target));
}

static bool cache_nest(CacheCtx *c, IrNest *n)
{
    if (!n->sched || !n->root)
        return false;
    const SchedState *st = sched_final(n->sched);
    if (st->ncaches == 0)
        return false;
    /* Outermost loop first, clause order among caches at one depth. */
    int *order = ARENA_ARRAY(c->f->arena, int, st->ncaches);
    for (int i = 0; i < st->ncaches; i++) {
        int j = i;
        int d = loop_depth(st, st->caches[i].at);
        while (j > 0 && loop_depth(st, st->caches[order[j - 1]].at) > d) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    c->edits = ARENA_ARRAY(c->f->arena, LoopEdit, st->ncaches);
    c->placed = ARENA_ARRAY(c->f->arena, Placed, st->ncaches);
    c->nplaced = c->nshared = 0;
    c->shared_bytes = 0;
    int errors = c->pc->diag->nerrors;
    for (int i = 0; i < st->ncaches && c->pc->diag->nerrors == errors; i++)
        apply_cache(c, n->root, st, &st->caches[order[i]]);
    splice_edits(c);
    if (c->pc->diag->nerrors == errors)
        check_shared(c, st);
    return c->nplaced > 0;
}

bool pass_caches(IrFunc *f, PassCtx *ctx)
{
    CacheCtx c = {.f = f, .pc = ctx};
    region_lets_init(&c.lets, f);
    bool changed = false;
    for (int i = 0; i < f->nnests; i++)
        changed = cache_nest(&c, &f->nests[i]) || changed;
    return changed;
}
