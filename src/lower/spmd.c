/* spmd: the GPU execution form (see IrLaunch in ir.h), from a GPU target's IR
 * after the pass list. Not part of the pass list: GPU code generation and the
 * emulator run it (compile_gpu, src/lower/compile.c); the interpreter keeps the
 * serial IR.
 * Its steps are the entries of the GPU pass table, each over every launch
 * (`--dump=after:STEP`): grid (grid, roles, one block; the thread loop over
 * tid around the body), guards, shared, copies (copies and once), shuffles,
 * barriers, pipeline, threads, full-tiles (tiles), layout (launch).
 *
 * For each top-level statement that is not `alloc global` (one launch):
 *   grid      its leading block loops (each directly inside the previous one,
 *             next to lets only, bound to x, y, z in any order) give grid x, y,
 *             z, their extents with those lets substituted (grid_extent); the
 *             rest is the body
 *   roles     X, Y, Z: the largest extent bound to thread.x, .y, .z; WX, WY
 *             to warp.x, .y. Without warps T = X*Y*Z, thread.x = tid % X,
 *             thread.y = (tid / X) % Y, thread.z = tid / (X*Y). With warps
 *             T = wave*WX*WY, lane = tid % wave, warp.x = (tid / wave) % WX,
 *             warp.y = tid / (wave*WX), and the thread indices decompose the
 *             lane: thread.x = lane % X, .y = (lane / X) % Y, .z = lane / (X*Y)
 *             (X*Y*Z <= wave)
 *   guards    a thread-dependent guard around fills and barriers is pushed
 *             below them: they run unguarded, the rest under the guard
 *             (sink_guards)
 *   shared    a registers buffer allocated outside every warp or thread loop
 *             and written inside one is per block: it moves to shared memory;
 *             one allocated under such loops and written under deeper ones
 *             moves to shared memory in slices (partials, promote_sliced) or
 *             is an error (a cache: promote_block)
 *   one block a top-level alloc that is not global and the statements up to
 *             its buffer's last use are one launch (launch_length)
 *   copies    a copy that reads or writes shared memory with a box that does
 *             not depend on the thread indices is spread over the block's
 *             threads; every thread must reach it. One whose box does depend
 *             on them is an error (every thread would fill the same buffer)
 *   once      a store or copy to shared, global or param memory where some
 *             role (with more than one thread) does not enclose it runs only
 *             where that role's index is 0 (tid == 0 outside every thread
 *             loop); a statement holding only such writes is guarded whole,
 *             except a uniform loop of one store at its own index, which is
 *             spread over the threads (spread_store_loop)
 *   shuffles  a uniform combine `x = x op TREE` of a reduction over a
 *             thread.x loop as wide as the block (n, a power of two, partials
 *             p[0 .. n) in shared) becomes a thread loop in which each warp
 *             reduces its g = min(n, wave) partials with xor-shuffles (the
 *             fixed tree's lower levels, exactly), lane 0 of each writing p[ci];
 *             the store keeps the tree's top over p[0], p[g], ... (shfl_block)
 *   barriers  existing ones must be reached by every thread; new ones go
 *             between the phases of a block every thread reaches where one
 *             phase writes memory that another thread's phase reads or writes
 *             since the last barrier, and at the end of a loop's body when its
 *             end conflicts so with its start, unless only per-thread writes
 *             of one store to provably distinct elements meet there
 *             (barrier_scan, carried_writes_disjoint); accesses at index tid
 *             by their own thread never conflict; a once-guard under warp or
 *             thread loops is one thread per index of them, not thread 0
 *             (Who); where a conflict sits in a block not every thread
 *             reaches, it is an error (barrier_scan)
 *   pipelines `pipeline L stages S`: L's caches filled S-1 iterations ahead
 *             into their stages, `barrier pending S-2` (spmd_pipe.c)
 *   threads   each warp or thread loop `for v in [lo, +E) bound H` becomes
 *             `let v = lo + index(H)`, under `if (index(H) < E)` when the role
 *             has more than E threads
 *   tiles     an unrolled nest whose guards hold at its worst corner runs
 *             without them where one test passes (version.c)
 *   launch    one `for tid in [0, +T) bound thread.x` directly inside the
 *             block loops; shared buffers get 16-byte aligned offsets; the
 *             total is checked against the target's opt-in shared limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lower/flatten.h"
#include "lower/ir_affine.h"
#include "lower/passes.h"
#include "lower/spmd.h"
#include "util/intmath.h"

/* The five roles a loop may be bound to inside a block. */
typedef enum Role { ROLE_TX, ROLE_TY, ROLE_TZ, ROLE_WX, ROLE_WY, ROLE_COUNT } Role;

/* Who performs a memory access, for the barrier analysis. */
enum {
    ACC_R_T0 = 1,      /* thread 0 only (a once-guarded store) */
    ACC_W_T0 = 2,
    ACC_R_ALL = 4,     /* every thread, the same elements (uniform loads) */
    ACC_R_SP = 8,      /* the block jointly (a spread copy) */
    ACC_W_SP = 16,
    ACC_R_TH = 32,     /* each thread its own elements (under thread loops) */
    ACC_W_TH = 64,
    ACC_R_OWN = 128,   /* each thread the element at index tid (never another's) */
    ACC_W_OWN = 256,
    ACC_R_LEAD = 512,  /* one thread per index of the enclosing thread or warp loops */
    ACC_W_LEAD = 1024, /* (a once-guarded store under them: lane 0 of each warp, ...) */
    ACC_LAST = ACC_W_LEAD,
};

typedef struct Spmd {
    IrFunc *f;
    PassCtx *pc;
    int errors;               /* diag errors before this launch */
    IrLaunch *launch;
    IrVar *tid;
    bool warps;
    int64_t wave, threads;
    int64_t extent[ROLE_COUNT];   /* largest loop extent bound to each role, 0: none */
    int64_t count[ROLE_COUNT];    /* threads along each role (1: none) */
    bool *tainted;                /* by var id: the value depends on the thread indices */
    int nvars;
    const IrExpr **let_value;     /* by var id: the value of a let (for affine indices) */
    IrStmt **spread;              /* spread store loops made here (their threads differ) */
    int nspread, capspread;
    IrStmt *top;                  /* the launch's first statement (its origin) */
    IrBlock *body;                /* the body of its thread loop; NULL: the grid step failed */
    bool failed;                  /* a step reported errors in this launch */
} Spmd;

static bool spmd_failed(const Spmd *s) { return s->pc->diag->nerrors > s->errors; }

static bool hw_is_block(HwIndex h) { return h == HW_BLOCK_X || h == HW_BLOCK_Y || h == HW_BLOCK_Z; }

static int hw_role(HwIndex h)
{
    switch (h) {
    case HW_THREAD_X: return ROLE_TX;
    case HW_THREAD_Y: return ROLE_TY;
    case HW_THREAD_Z: return ROLE_TZ;
    case HW_WARP_X: return ROLE_WX;
    case HW_WARP_Y: return ROLE_WY;
    default: return -1;
    }
}

/* A warp or thread loop of the launch body. */
static int thread_role(const IrStmt *s)
{
    return s->kind == IR_LOOP && s->loop_kind == IR_BOUND ? hw_role(s->hw) : -1;
}

static bool mem_is_memory(IrMem m) { return m != IR_MEM_REGISTERS; }

/* A copy the block does together: it reads or writes shared memory and no
 * registers (a copy into or out of registers is one thread's). */
static bool is_spread_copy(const IrCopy *c)
{
    return (c->dst->mem == IR_MEM_SHARED || c->src->mem == IR_MEM_SHARED) &&
           mem_is_memory(c->dst->mem) && mem_is_memory(c->src->mem);
}

/* ---- grid: the leading block loops ---- */

/* Whether e uses only sizes, scalars and constants (a grid extent). */
static const IrVar *grid_free_var(const IrExpr *e)
{
    if (e->kind == IR_VARREF && e->var->kind != IR_VAR_SIZE && e->var->kind != IR_VAR_SCALAR)
        return e->var;
    if (e->kind == IR_LOAD)
        return NULL;
    for (int i = 0; i < e->nargs; i++) {
        const IrVar *v = grid_free_var(e->args[i]);
        if (v)
            return v;
    }
    return NULL;
}

/* The block loop directly inside b (next to lets only), or NULL. */
static IrStmt *inner_block_loop(IrBlock *b)
{
    IrStmt *loop = NULL;
    for (int i = 0; i < b->len; i++) {
        IrStmt *s = b->items[i];
        if (s->kind == IR_LOOP && s->loop_kind == IR_BOUND && hw_is_block(s->hw) && !loop)
            loop = s;
        else if (s->kind != IR_LET)
            return NULL;
    }
    return loop;
}

/* e with the lets of the block loops' bodies above it substituted, innermost
 * first (a let's value may use the lets before it): the grid is computed on
 * the host, where those lets do not exist. An extent the passes hoisted
 * (`let b_c0 = (N + 15) fdiv 16` in block.z's body, the extent of block.y
 * and block.x) is then over sizes again. */
static IrExpr *grid_extent(Spmd *s, IrStmt *const *outer, int nouter, const IrExpr *e)
{
    IrExpr *x = ir_expr_copy(s->f, e);
    for (int k = nouter - 1; k >= 0; k--) {
        const IrBlock *b = &outer[k]->body;
        for (int i = b->len - 1; i >= 0; i--)
            if (b->items[i]->kind == IR_LET)
                x = ir_substitute(s->f, x, b->items[i]->var, b->items[i]->value);
    }
    return x;
}

/* Block loops: outermost first, each directly inside the previous one, bound
 * to x, y and z in any order. Returns the innermost, or NULL when the
 * statement has none. */
static IrStmt *grid_loops(Spmd *s, IrStmt *top)
{
    IrStmt *outer[3];
    int nouter = 0;
    for (IrStmt *cur = top; cur && nouter < 3;) {
        if (!(cur->kind == IR_LOOP && cur->loop_kind == IR_BOUND && hw_is_block(cur->hw)))
            break;
        int axis = cur->hw - HW_BLOCK_X;
        int64_t lo;
        IrExpr *extent = grid_extent(s, outer, nouter, cur->extent);
        const IrVar *v = grid_free_var(extent);
        /* sema and lowering keep block loops distinct, from 0, over sizes */
        if (s->launch->grid[axis] || v || !ir_const_int(cur->lo, &lo) || lo != 0)
            diag_error(s->pc->diag, cur->origin,
                       "internal error: spmd: block loop '%s' is not a grid dimension", cur->var->name);
        s->launch->grid[axis] = extent;
        outer[nouter++] = cur;
        cur = inner_block_loop(&cur->body);
    }
    return nouter ? outer[nouter - 1] : NULL;
}

/* ---- roles and thread indices ---- */

/* Every warp or thread loop's extent; a block loop inside the body is an error. */
static void collect_roles(Spmd *s, const IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *st = b->items[i];
        if (st->kind != IR_LOOP && st->kind != IR_IF)
            continue;
        if (st->kind == IR_LOOP && st->loop_kind == IR_BOUND) {
            int r = hw_role(st->hw);
            int64_t e;
            if (r < 0)
                diag_error(s->pc->diag, st->origin,
                           "'%s' is bound to %s.%s but is not one of the launch's outer block loops",
                           st->var->name, hw_unit(st->hw), hw_axis(st->hw));
            else if (!ir_const_int(st->extent, &e) || e < 1)   /* sema: constant extents */
                diag_error(s->pc->diag, st->origin,
                           "internal error: spmd: thread loop '%s' has no constant extent", st->var->name);
            else if (e > s->extent[r])
                s->extent[r] = e;
        }
        collect_roles(s, &st->body);
        collect_roles(s, &st->else_body);
    }
}

static int64_t role_extent(const Spmd *s, Role r) { return s->extent[r] ? s->extent[r] : 1; }

/* Threads per block and threads along each role. */
static void block_shape(Spmd *s, Span at)
{
    int64_t x = role_extent(s, ROLE_TX), y = role_extent(s, ROLE_TY), z = role_extent(s, ROLE_TZ);
    s->warps = s->extent[ROLE_WX] || s->extent[ROLE_WY];
    s->wave = target_wave_size(s->f->target);
    for (int r = 0; r < ROLE_COUNT; r++)
        s->count[r] = role_extent(s, (Role)r);
    if (!s->warps) {
        s->threads = x * y * z;
    } else {
        if (x * y * z > s->wave)
            diag_error(s->pc->diag, at,
                       "the thread loops under warps cover %lld x %lld x %lld = %lld lanes, "
                       "more than the wave of %lld on %s:%s",
                       (long long)x, (long long)y, (long long)z, (long long)(x * y * z),
                       (long long)s->wave, target_vendor(s->f->target), target_arch(s->f->target));
        s->count[ROLE_TZ] = im_ceil_div(s->wave, x * y);
        s->threads = s->wave * s->count[ROLE_WX] * s->count[ROLE_WY];
    }
    if (s->threads > TARGET_MAX_THREADS)
        diag_error(s->pc->diag, at,
                   "the launch needs %lld threads per block, over the limit of %d",
                   (long long)s->threads, TARGET_MAX_THREADS);
}

/* (tid' / stride) % count, where tid' = tid % total (total divides T, or is T):
 * the digit of one role in a mixed-radix decomposition of tid. */
static IrExpr *digit(Spmd *s, int64_t stride, int64_t count, int64_t total)
{
    IrFunc *f = s->f;
    if (count == 1)
        return ir_index(f, 0);
    IrExpr *e = ir_ref(f, s->tid);
    /* (tid % total / stride) % count is (tid / stride) % count when
     * stride*count divides total */
    bool whole = total % (stride * count) == 0;
    if (!whole)
        e = ir_binary(f, IR_FLOORMOD, e, ir_index(f, total));
    if (stride > 1)
        e = ir_binary(f, IR_FLOORDIV, e, ir_index(f, stride));
    if (stride * count < (whole ? s->threads : total))
        e = ir_binary(f, IR_FLOORMOD, e, ir_index(f, count));
    return e;
}

/* The index of role r for this thread (an i64 expression of tid). */
static IrExpr *role_index(Spmd *s, Role r)
{
    int64_t x = s->count[ROLE_TX], y = s->count[ROLE_TY];
    int64_t lanes = s->warps ? s->wave : s->threads;
    switch (r) {
    case ROLE_TX: return digit(s, 1, x, lanes);
    case ROLE_TY: return digit(s, x, y, lanes);
    case ROLE_TZ: return digit(s, x * y, s->count[ROLE_TZ], lanes);
    case ROLE_WX: return digit(s, s->wave, s->count[ROLE_WX], s->threads);
    case ROLE_WY: return digit(s, s->wave * s->count[ROLE_WX], s->count[ROLE_WY], s->threads);
    case ROLE_COUNT: break;
    }
    return ir_index(s->f, 0);
}

/* Roles with more than one thread. */
static unsigned active_roles(const Spmd *s)
{
    unsigned m = 0;
    for (int r = 0; r < ROLE_COUNT; r++)
        if (s->count[r] > 1)
            m |= 1u << r;
    return m;
}

/* The condition under which a write at a point enclosed by `roles` happens
 * once: every active role not enclosing it at index 0 (tid == 0 when none
 * encloses it). NULL when every active role encloses it. */
static IrExpr *once_guard(Spmd *s, unsigned roles)
{
    IrFunc *f = s->f;
    unsigned missing = active_roles(s) & ~roles;
    if (!missing)
        return NULL;
    if (missing == active_roles(s))
        return ir_binary(f, IR_EQ, ir_ref(f, s->tid), ir_index(f, 0));
    IrExpr *g = NULL;
    for (int r = 0; r < ROLE_COUNT; r++) {
        if (!(missing & (1u << r)))
            continue;
        IrExpr *c = ir_binary(f, IR_EQ, role_index(s, (Role)r), ir_index(f, 0));
        g = g ? ir_binary(f, IR_AND, g, c) : c;
    }
    return g;
}

/* ---- thread dependence ---- */

static bool expr_tainted(const Spmd *s, const IrExpr *e)
{
    return ir_expr_uses_marked(e, s->tainted, s->nvars);
}

/* The first thread-dependent variable in e, for messages. */
static const IrVar *tainted_var(const Spmd *s, const IrExpr *e)
{
    if (e->kind == IR_VARREF && e->var->id < s->nvars && s->tainted[e->var->id])
        return e->var;
    for (int i = 0; i < e->nargs; i++) {
        const IrVar *v = tainted_var(s, e->args[i]);
        if (v)
            return v;
    }
    return NULL;
}

static bool copy_tainted(const Spmd *s, const IrCopy *c)
{
    for (int d = 0; d < c->ndims; d++)
        if (expr_tainted(s, c->dst_origin[d]) || expr_tainted(s, c->src_origin[d]))
            return true;
    return c->guard && expr_tainted(s, c->guard);
}

/* Marks thread-dependent variables (thread loop indices, and lets and loops
 * computed from them). */
static void taint_block(Spmd *s, const IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *st = b->items[i];
        switch (st->kind) {
        case IR_LOOP: {
            int role = thread_role(st);
            if (role >= 0 || expr_tainted(s, st->lo) || expr_tainted(s, st->extent))
                s->tainted[st->var->id] = true;
            taint_block(s, &st->body);
            break;
        }
        case IR_LET:
            if (expr_tainted(s, st->value))
                s->tainted[st->var->id] = true;
            s->let_value[st->var->id] = st->value;
            break;
        case IR_IF:
            taint_block(s, &st->body);
            taint_block(s, &st->else_body);
            break;
        case IR_STORE:
        case IR_COPY:
        case IR_ALLOC:
        case IR_BARRIER: break;
        }
    }
}

/* Whether b copies into or out of buf anywhere. */
static bool block_copies(const IrBlock *b, const IrBuffer *buf)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *st = b->items[i];
        if ((st->kind == IR_COPY && (st->copy.dst == buf || st->copy.src == buf)) ||
            block_copies(&st->body, buf) || block_copies(&st->else_body, buf))
            return true;
    }
    return false;
}

/* Whether buf is stored or copied into under a warp or thread loop in b
 * (`under`: b itself is under one). */
static bool written_under_role(const IrBlock *b, const IrBuffer *buf, bool under)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *st = b->items[i];
        if (under && ((st->kind == IR_STORE && st->buf == buf) || (st->kind == IR_COPY && st->copy.dst == buf)))
            return true;
        bool u = under || thread_role(st) >= 0;
        if (written_under_role(&st->body, buf, u) || written_under_role(&st->else_body, buf, u))
            return true;
    }
    return false;
}

/* Shared memory in slices: every access to buf at idx becomes one at
 * idx + slice * per (the slice of the threads that share it). */
typedef struct Slice {
    IrFunc *f;
    const IrBuffer *buf;
    const IrExpr *slice;
    int64_t per;
} Slice;

static IrExpr *slice_index(Slice *sl, IrExpr *idx)
{
    IrFunc *f = sl->f;
    return ir_binary(f, IR_ADD, idx, ir_binary(f, IR_MUL, ir_expr_copy(f, sl->slice), ir_index(f, sl->per)));
}

static IrExpr *slice_loads(void *arg, IrExpr *e)
{
    Slice *sl = arg;
    for (int i = 0; i < e->nargs; i++)
        e->args[i] = slice_loads(arg, e->args[i]);
    if (e->kind == IR_LOAD && e->buf == sl->buf && e->nargs == 1)
        e->args[0] = slice_index(sl, e->args[0]);
    return e;
}

static void slice_stores(Slice *sl, IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        if (st->kind == IR_STORE && st->buf == sl->buf && st->nidx == 1)
            st->idx[0] = slice_index(sl, st->idx[0]);
        slice_stores(sl, &st->body);
        slice_stores(sl, &st->else_body);
    }
}

/* Registers allocated under the warp or thread loops of `roles` and written
 * by deeper ones, with no copy (a reduction's partials over the lanes inside
 * a warp's own partial): the threads with the same indices of `roles` share
 * them, so they move to shared memory, one slice for each such index (the
 * slices one after another, by the linear index of those roles). */
static void promote_sliced(Spmd *s, IrStmt *alloc, IrBlock *scope, unsigned roles)
{
    IrFunc *f = s->f;
    IrBuffer *buf = alloc->buf;
    int64_t dims[64] = {0};
    for (int d = 0; d < buf->ndims && d < 64; d++)
        ir_const_int(buf->dims[d], &dims[d]);
    IrExpr *slice = ir_index(f, 0);
    int64_t count = 1;
    for (int r = 0; r < ROLE_COUNT; r++)
        if (roles & (1u << r)) {
            slice = ir_binary(f, IR_ADD, slice, ir_binary(f, IR_MUL, role_index(s, (Role)r), ir_index(f, count)));
            count *= s->count[r];
        }
    Slice sl = {.f = f, .buf = buf, .slice = slice, .per = flatten_count(buf, dims)};
    IrExpr **nd = ARENA_ARRAY(f->arena, IrExpr *, buf->ndims + 1);
    nd[0] = ir_index(f, count);
    for (int d = 0; d < buf->ndims; d++)
        nd[d + 1] = buf->dims[d];
    buf->dims = nd;
    buf->ndims++;
    buf->mem = IR_MEM_SHARED;
    ir_block_map_exprs(scope, slice_loads, &sl);
    slice_stores(&sl, scope);
}

/* Registers allocated outside every warp and thread loop and written inside
 * one hold values of several threads (reduction partials): they are per
 * block. Registers allocated under such loops (`roles`, the innermost
 * `loop`) and written under deeper ones hold values of several threads too:
 * partials move to shared memory in slices (promote_sliced); a cache at the
 * loop, which its one write-back could not gather, is an error at its clause. */
static void promote_block(Spmd *s, IrBlock *b, unsigned roles, const IrStmt *loop)
{
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        if (st->kind == IR_ALLOC && st->buf->mem == IR_MEM_GLOBAL && roles && written_under_role(b, st->buf, false))
            diag_error(s->pc->diag, st->origin,
                       "'%s' (not of constant shape, so in global memory) is allocated in %s loop '%s' "
                       "and written by %s loops under it: its threads would share one copy (not yet "
                       "supported; make the loops around the reduction serial or bind them to blocks)",
                       st->buf->name, hw_unit(loop->hw), loop->var->name,
                       thread_role(loop) >= ROLE_WX ? "thread or warp" : "thread");
        if (st->kind == IR_ALLOC && st->buf->mem == IR_MEM_REGISTERS && written_under_role(b, st->buf, false)) {
            if (!roles)
                st->buf->mem = IR_MEM_SHARED;
            else if (block_copies(b, st->buf))
                diag_error(s->pc->diag, st->origin,
                           "'%s' is a register cache inside %s loop '%s' that %s loops under it "
                           "write, each thread its part, so its one write-back would lose the others' "
                           "parts: cache it at a loop inside them, or in shared",
                           st->buf->name, hw_unit(loop->hw), loop->var->name,
                           thread_role(loop) >= ROLE_WX ? "thread or warp" : "thread");
            else
                promote_sliced(s, st, b, roles);
        }
        int role = thread_role(st);
        if (st->kind == IR_LOOP || st->kind == IR_IF) {
            promote_block(s, &st->body, role >= 0 ? roles | (1u << role) : roles, role >= 0 ? st : loop);
            promote_block(s, &st->else_body, roles, loop);
        }
    }
}

/* ---- guards: sunk below what every thread must reach ---- */

static bool block_needs_every_thread(const IrBlock *b);

/* Whether every thread of the block must reach st: a barrier, a copy spread
 * over the block, or a statement holding one. */
static bool needs_every_thread(const IrStmt *st)
{
    switch (st->kind) {
    case IR_BARRIER: return true;
    case IR_COPY: return is_spread_copy(&st->copy);
    case IR_LOOP: return block_needs_every_thread(&st->body);
    case IR_IF: return block_needs_every_thread(&st->body) || block_needs_every_thread(&st->else_body);
    case IR_STORE:
    case IR_LET:
    case IR_ALLOC: break;
    }
    return false;
}

static bool block_needs_every_thread(const IrBlock *b)
{
    for (int i = 0; i < b->len; i++)
        if (needs_every_thread(b->items[i]))
            return true;
    return false;
}

/* Whether `if (c) { b }` may become sink_guard(c, b): what every thread must
 * reach is an allocation, a barrier, a fill of shared memory (a spread copy
 * into it: cooperative, in bounds, so harmless where c fails; a write-back
 * would store what no thread computed), or a loop or an else-less if whose
 * body may; the lets that stay outside the guard and the conditions joined to
 * it load nothing (the guard's own condition neither: sink_guards), so c is
 * evaluated again, and c && c2 evaluated whole, safely and to the same value. */
static bool guard_sinkable(const IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *st = b->items[i];
        switch (st->kind) {
        case IR_LET:
            if (ir_has_load(st->value))
                return false;
            break;
        case IR_COPY:
            if (is_spread_copy(&st->copy) && st->copy.dst->mem != IR_MEM_SHARED)
                return false;
            break;
        case IR_LOOP:
            if (needs_every_thread(st) && !guard_sinkable(&st->body))
                return false;
            break;
        case IR_IF:
            if (needs_every_thread(st) && (st->else_body.len > 0 || ir_has_load(st->cond) ||
                                           !guard_sinkable(&st->body)))
                return false;
            break;
        case IR_STORE:
        case IR_ALLOC:
        case IR_BARRIER: break;
        }
    }
    return true;
}

/* `if (c) { b }` pushed down to what needs it: lets, allocations, barriers
 * and shared fills run unguarded; a loop (warp and thread loops included)
 * whose body holds such things keeps its iterations and takes the guard
 * inside; an if holding them is joined to it (c && c2); every run of other
 * statements is one `if (c) { ... }`. The same as `if (c) { b }` because c
 * reads nothing b defines or writes (it is evaluated before b, and loop
 * variables and lets are immutable). */
static IrBlock sink_guard(Spmd *s, const IrExpr *cond, Span at, const IrBlock *b)
{
    IrFunc *f = s->f;
    IrBlock out = {0};
    IrStmt *wrap = NULL;
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        bool every = needs_every_thread(st);
        if (st->kind == IR_LOOP && every) {
            st->body = sink_guard(s, cond, at, &st->body);
        } else if (st->kind == IR_IF && every) {
            IrExpr *both = ir_binary(f, IR_AND, ir_expr_copy(f, cond), st->cond);
            IrBlock inner = sink_guard(s, both, st->origin, &st->body);
            for (int j = 0; j < inner.len; j++)
                ir_block_push(f, &out, inner.items[j]);
            wrap = NULL;
            continue;
        } else if (!every && st->kind != IR_LET && st->kind != IR_ALLOC) {
            if (!wrap) {
                wrap = ir_if(f, ir_expr_copy(f, cond), at);
                ir_block_push(f, &out, wrap);
            }
            ir_block_push(f, &wrap->body, st);
            continue;
        }
        wrap = NULL;
        ir_block_push(f, &out, st);
    }
    return out;
}

/* Every thread-dependent, else-less guard around fills and barriers sunk
 * (the tails of a tile `if (i < M)` around the loop that fills the tile's
 * shared caches: its threads past the edge help fill and wait, and skip the
 * rest). A guard that cannot sink stays, and place_block reports it. */
static void sink_guards(Spmd *s, IrBlock *b)
{
    IrBlock out = {0};
    bool changed = false;
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        if (st->kind == IR_IF && st->else_body.len == 0 && expr_tainted(s, st->cond) &&
            !ir_has_load(st->cond) && block_needs_every_thread(&st->body) && guard_sinkable(&st->body)) {
            IrBlock sunk = sink_guard(s, st->cond, st->origin, &st->body);
            for (int j = 0; j < sunk.len; j++)
                ir_block_push(s->f, &out, sunk.items[j]);
            changed = true;
            continue;
        }
        if (st->kind == IR_LOOP || st->kind == IR_IF) {
            sink_guards(s, &st->body);
            sink_guards(s, &st->else_body);
        }
        ir_block_push(s->f, &out, st);
    }
    if (changed)
        *b = out;
}

/* ---- spread copies, once-guards, reachability ---- */

/* Where a statement sits: the roles of the thread loops around it, and why
 * not every thread of the block reaches it (NULL: every thread does). */
typedef struct Place {
    unsigned roles;
    const char *divergent;
} Place;

/* Whether a statement may run whole under a once-guard: it writes memory
 * (shared, global, param), holds no thread loop, barrier or shared copy, and
 * writes no registers declared outside it. `local` marks buffers allocated
 * inside (by id), set as the walk meets their allocs. */
typedef struct OnceScan {
    bool writes_memory, blocked;
    bool *local;
} OnceScan;

static void once_scan_block(OnceScan *o, const IrBlock *b);

static void once_scan_stmt(OnceScan *o, const IrStmt *st)
{
    switch (st->kind) {
    case IR_LOOP:
        if (st->loop_kind == IR_BOUND)
            o->blocked = true;
        once_scan_block(o, &st->body);
        break;
    case IR_IF:
        once_scan_block(o, &st->body);
        once_scan_block(o, &st->else_body);
        break;
    case IR_ALLOC: o->local[st->buf->id] = true; break;
    case IR_BARRIER: o->blocked = true; break;
    case IR_STORE:
        if (mem_is_memory(st->buf->mem))
            o->writes_memory = true;
        else if (!o->local[st->buf->id])
            o->blocked = true;
        break;
    case IR_COPY:
        if (!mem_is_memory(st->copy.dst->mem))
            o->blocked = o->blocked || !o->local[st->copy.dst->id];
        else if (is_spread_copy(&st->copy))
            o->blocked = true;
        else
            o->writes_memory = true;
        break;
    case IR_LET: break;
    }
}

static void once_scan_block(OnceScan *o, const IrBlock *b)
{
    for (int i = 0; i < b->len && !o->blocked; i++)
        once_scan_stmt(o, b->items[i]);
}

static bool runs_once_whole(Spmd *s, const IrStmt *st)
{
    OnceScan o = {.local = calloc((size_t)s->f->nbuffers + 1, 1)};
    once_scan_stmt(&o, st);
    free(o.local);
    return o.writes_memory && !o.blocked;
}

/* Puts b->items[i] under `guard`, joining the guard just before it when that
 * one has the same condition. Returns the index of the next statement. */
static int guard_item(Spmd *s, IrBlock *b, int i, IrExpr *guard)
{
    IrStmt *st = b->items[i];
    IrStmt *prev = i > 0 ? b->items[i - 1] : NULL;
    if (prev && prev->kind == IR_IF && prev->else_body.len == 0 && ir_expr_uses(prev->cond, s->tid) &&
        ir_expr_equal(prev->cond, guard)) {
        ir_block_push(s->f, &prev->body, st);
        memmove(b->items + i, b->items + i + 1, sizeof *b->items * (size_t)(b->len - i - 1));
        b->len--;
        return i;
    }
    IrStmt *g = ir_if(s->f, guard, st->origin);
    ir_block_push(s->f, &g->body, st);
    b->items[i] = g;
    return i + 1;
}

static void place_block(Spmd *s, IrBlock *b, Place p);

static bool is_spread_stmt(const Spmd *s, const IrStmt *st)
{
    for (int i = 0; i < s->nspread; i++)
        if (s->spread[i] == st)
            return true;
    return false;
}

static bool expr_loads(const IrExpr *e, const IrBuffer *b)
{
    if (e->kind == IR_LOAD && e->buf == b)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (expr_loads(e->args[i], b))
            return true;
    return false;
}

/* The loop variable and the lets of the body that copy it (`let c = v`). */
typedef struct Aliases {
    const IrVar *v[4];
    int n;
} Aliases;

static bool is_alias(const Aliases *al, const IrExpr *e)
{
    for (int i = 0; e->kind == IR_VARREF && i < al->n; i++)
        if (e->var == al->v[i])
            return true;
    return false;
}

static bool uses_alias(const Aliases *al, const IrExpr *e)
{
    for (int i = 0; i < al->n; i++)
        if (ir_expr_uses(e, al->v[i]))
            return true;
    return false;
}

/* Whether idx is v or u + v with u free of v (v or a copy of it): one element
 * per iteration. */
static bool index_plus_var(const IrExpr *idx, const Aliases *al)
{
    if (is_alias(al, idx))
        return true;
    if (idx->kind != IR_BINARY || idx->op != IR_ADD)
        return false;
    for (int k = 0; k < 2; k++)
        if (is_alias(al, idx->args[k]) && !uses_alias(al, idx->args[1 - k]))
            return true;
    return false;
}

/* A uniform loop of one store into memory at its own index,
 *   for v in [lo, +E) { B[u + v] = e }    (u free of v; e loads nothing of B)
 * (a reduction's partials cleared, say), is spread over the block's threads
 * instead of running on thread 0 alone: iteration v - lo by thread
 * (v - lo) % T,
 *   for v_o in [0, +ceil(E / T)) { let v = lo + (v_o*T + tid); if (v_o*T + tid < E) {...} }
 * (just `if (tid < E) { let v = lo + tid; ... }` when E <= T). */
static bool spread_store_loop(Spmd *s, IrBlock *b, int i)
{
    IrFunc *f = s->f;
    IrStmt *st = b->items[i];
    if (st->kind != IR_LOOP || st->loop_kind == IR_BOUND || st->loop_kind == IR_PARALLEL ||
        st->body.len < 1 || s->threads == 1)
        return false;
    Aliases al = {.v = {st->var}, .n = 1};
    for (int k = 0; k + 1 < st->body.len; k++) {
        const IrStmt *l = st->body.items[k];
        if (l->kind != IR_LET || !is_alias(&al, l->value) || al.n == 4)
            return false;
        al.v[al.n++] = l->var;
    }
    IrStmt *store = st->body.items[st->body.len - 1];
    if (store->kind != IR_STORE || !mem_is_memory(store->buf->mem) || store->nidx != 1 ||
        !index_plus_var(store->idx[0], &al) || expr_loads(store->value, store->buf))
        return false;
    int64_t e;
    bool small = ir_const_int(st->extent, &e) && e <= s->threads;
    IrExpr *t = ir_ref(f, s->tid);
    IrVar *vo = NULL;
    if (!small) {
        vo = ir_var_new(f, arena_printf(f->arena, "%s_o", st->var->name), ELEM_I64, IR_VAR_LOOP);
        t = ir_binary(f, IR_ADD, ir_binary(f, IR_MUL, ir_ref(f, vo), ir_index(f, s->threads)), t);
    }
    IrStmt *g = ir_if(f, ir_binary(f, IR_LT, t, ir_expr_copy(f, st->extent)), st->origin);
    ir_block_push(f, &g->body, ir_let(f, st->var, ir_binary(f, IR_ADD, st->lo, ir_expr_copy(f, t)), st->origin));
    for (int k = 0; k < st->body.len; k++)
        ir_block_push(f, &g->body, st->body.items[k]);
    st->var->kind = IR_VAR_LET;
    IrStmt *out = g;
    if (!small) {
        IrExpr *n = ir_binary(f, IR_FLOORDIV,
                              ir_binary(f, IR_ADD, st->extent, ir_index(f, s->threads - 1)),
                              ir_index(f, s->threads));
        out = ir_loop(f, vo, ir_index(f, 0), n, IR_SERIAL, st->origin);
        ir_block_push(f, &out->body, g);
    }
    b->items[i] = out;
    if (s->nspread + 2 > s->capspread) {
        s->capspread = s->capspread ? 2 * s->capspread : 8;
        s->spread = realloc(s->spread, sizeof *s->spread * (size_t)s->capspread);
    }
    s->spread[s->nspread++] = g;
    if (out != g)
        s->spread[s->nspread++] = out;
    return true;
}

/* A copy touching shared memory: spread over the block, which every thread
 * must reach; its box must not depend on the thread indices. */
static void place_shared_copy(Spmd *s, IrStmt *st, Place p, bool *told)
{
    IrCopy *c = &st->copy;
    const char *name = c->dst->mem == IR_MEM_SHARED ? c->dst->name : c->src->name;
    if (copy_tainted(s, c)) {
        const IrVar *v = NULL;
        for (int d = 0; d < c->ndims && !v; d++) {
            v = tainted_var(s, c->dst_origin[d]);
            if (!v)
                v = tainted_var(s, c->src_origin[d]);
        }
        if (!v && c->guard)
            v = tainted_var(s, c->guard);
        /* regions in shared are per block (region.c): thread loops vary */
        diag_error(s->pc->diag, st->origin,
                   "internal error: spmd: the box of the copy of shared '%s' depends on '%s'",
                   name, v ? v->name : "?");
        return;
    }
    if (p.divergent) {
        if (*told)
            return;
        *told = true;
        diag_error(s->pc->diag, st->origin,
                   "the copy of shared '%s' is spread over the threads of the block, but not "
                   "every thread reaches it: it is under %s",
                   name, p.divergent);
        return;
    }
    c->spread_tid = s->tid;
    c->spread_threads = s->threads;
}

/* A thread loop's body; its guard (more threads in the role than iterations)
 * makes it divergent. */
static void place_thread_loop(Spmd *s, IrStmt *st, Place p, int role)
{
    int64_t e = 0;
    ir_const_int(st->extent, &e);
    Place inner = {.roles = p.roles | (1u << role), .divergent = p.divergent};
    if (!inner.divergent && s->count[role] > e)
        inner.divergent = arena_printf(s->f->arena, "the guard of '%s' (%lld of %lld threads along %s.%s)",
                                       st->var->name, (long long)e, (long long)s->count[role],
                                       hw_unit(st->hw), hw_axis(st->hw));
    place_block(s, &st->body, inner);
}

static const char *divergence(Spmd *s, const IrExpr *cond, Place p)
{
    if (p.divergent)
        return p.divergent;
    const IrVar *v = tainted_var(s, cond);
    return v ? arena_printf(s->f->arena, "a condition on '%s', which depends on the thread index", v->name)
             : NULL;
}

/* One error per block for copies, one for barriers, not every thread reaches
 * (a fill, its barrier and the write-back share the cause). */
static void place_block(Spmd *s, IrBlock *b, Place p)
{
    bool told_copy = false, told_barrier = false;
    for (int i = 0; i < b->len;) {
        IrStmt *st = b->items[i];
        if (p.roles == 0 && spread_store_loop(s, b, i)) {
            i++;
            continue;
        }
        IrExpr *guard = once_guard(s, p.roles);
        if (guard && st->kind != IR_LET && st->kind != IR_ALLOC && runs_once_whole(s, st)) {
            i = guard_item(s, b, i, guard);
            continue;
        }
        switch (st->kind) {
        case IR_LOOP: {
            int role = thread_role(st);
            if (role >= 0) {
                place_thread_loop(s, st, p, role);
            } else {
                Place q = p;
                if (!q.divergent && (expr_tainted(s, st->lo) || expr_tainted(s, st->extent)))
                    q.divergent = arena_printf(s->f->arena,
                                               "loop '%s', whose bounds depend on the thread index",
                                               st->var->name);
                place_block(s, &st->body, q);
            }
            break;
        }
        case IR_IF: {
            Place q = {.roles = p.roles, .divergent = divergence(s, st->cond, p)};
            place_block(s, &st->body, q);
            place_block(s, &st->else_body, q);
            break;
        }
        case IR_BARRIER:
            if (p.divergent && !told_barrier)
                diag_error(s->pc->diag, st->origin,
                           "not every thread of the block reaches this barrier: it is under %s",
                           p.divergent);
            told_barrier = told_barrier || p.divergent;
            break;
        case IR_COPY:
            if (is_spread_copy(&st->copy))
                place_shared_copy(s, st, p, &told_copy);
            break;
        case IR_STORE:
        case IR_LET:
        case IR_ALLOC: break;
        }
        i++;
    }
}

/* ---- shuffles: reductions over thread.x ---- */

/* The SPEC's fixed tree over p[lo*stride], p[(lo+1)*stride], ... (size
 * leaves, a power of two): halves, left op right (reduce.c's `tree`). */
static IrExpr *shfl_tree(IrFunc *f, IrBuffer *p, IrOp op, int64_t lo, int64_t size, int64_t stride)
{
    if (size == 1) {
        IrExpr *idx = ir_index(f, lo * stride);
        return ir_load(f, p, &idx, 1);
    }
    int64_t half = size / 2;
    return ir_binary(f, op, shfl_tree(f, p, op, lo, half, stride), shfl_tree(f, p, op, lo + half, half, stride));
}

/* The leftmost leaf of a tree of binary operations: its buffer, or NULL. */
static IrBuffer *shfl_tree_buffer(const IrExpr *e)
{
    while (e->kind == IR_BINARY)
        e = e->args[0];
    return e->kind == IR_LOAD ? e->buf : NULL;
}

/* Whether idx is the loop's index from 0: v when lo is 0, or v - lo. */
static bool shfl_own_index(const IrStmt *loop, const IrExpr *idx)
{
    int64_t lo;
    if (idx->kind == IR_VARREF && idx->var == loop->var)
        return ir_const_int(loop->lo, &lo) && lo == 0;
    return idx->kind == IR_BINARY && idx->op == IR_SUB && idx->args[0]->kind == IR_VARREF &&
           idx->args[0]->var == loop->var && ir_expr_equal(idx->args[1], loop->lo);
}

/* Every load of p in e is p[idx] (idx NULL: there is none). */
static bool shfl_loads_only(const IrExpr *e, const IrBuffer *p, const IrExpr *idx)
{
    if (e->kind == IR_LOAD && e->buf == p && (!idx || e->nargs != 1 || !ir_expr_equal(e->args[0], idx)))
        return false;
    for (int i = 0; i < e->nargs; i++)
        if (!shfl_loads_only(e->args[i], p, idx))
            return false;
    return true;
}

typedef struct ShflUse {
    const IrBuffer *p;
    const IrStmt *combine;
    int64_t n;
    bool bad;
} ShflUse;

static void shfl_uses_block(ShflUse *u, const IrBlock *b, const IrStmt *thread);

/* p's uses in one statement; `thread` the innermost thread loop around it. */
static void shfl_uses_stmt(ShflUse *u, const IrStmt *st, const IrStmt *thread)
{
    int64_t e;
    switch (st->kind) {
    case IR_LOOP:
        u->bad |= !shfl_loads_only(st->lo, u->p, NULL) || !shfl_loads_only(st->extent, u->p, NULL);
        shfl_uses_block(u, &st->body, thread_role(st) >= 0 ? st : thread);
        break;
    case IR_IF:
        u->bad |= !shfl_loads_only(st->cond, u->p, NULL);
        shfl_uses_block(u, &st->body, thread);
        shfl_uses_block(u, &st->else_body, thread);
        break;
    case IR_LET: u->bad |= !shfl_loads_only(st->value, u->p, NULL); break;
    case IR_STORE:
        if (st == u->combine)
            break;
        for (int i = 0; i < st->nidx; i++)
            u->bad |= !shfl_loads_only(st->idx[i], u->p, NULL);
        if (st->buf != u->p) {
            u->bad |= !shfl_loads_only(st->value, u->p, NULL);
        } else if (!thread) {
            u->bad |= !shfl_loads_only(st->value, u->p, NULL);   /* initializing */
        } else {
            /* the thread's partial: p[v - lo] of a thread.x loop of n */
            u->bad |= thread->hw != HW_THREAD_X || !ir_const_int(thread->extent, &e) || e != u->n ||
                      st->nidx != 1 || !shfl_own_index(thread, st->idx[0]) ||
                      !shfl_loads_only(st->value, u->p, st->idx[0]);
        }
        break;
    case IR_COPY: u->bad |= st->copy.dst == u->p || st->copy.src == u->p; break;
    case IR_ALLOC:
    case IR_BARRIER: break;
    }
}

static void shfl_uses_block(ShflUse *u, const IrBlock *b, const IrStmt *thread)
{
    for (int i = 0; i < b->len && !u->bad; i++)
        shfl_uses_stmt(u, b->items[i], thread);
}

/* The reduction's combine in a store's value: value = [cast](a op b) with a
 * or b the fixed tree over the n partials p[0 .. n) of op. Returns the slot
 * that holds the tree. */
static IrExpr **shfl_combine_slot(Spmd *s, const IrStmt *st, IrBuffer **pp)
{
    IrExpr *v = st->value->kind == IR_CAST ? st->value->args[0] : st->value;
    if (v->kind != IR_BINARY ||
        !(v->op == IR_ADD || v->op == IR_MUL || v->op == IR_MAX || v->op == IR_MIN))
        return NULL;
    for (int k = 1; k >= 0; k--) {
        IrBuffer *p = shfl_tree_buffer(v->args[k]);
        if (!p || p->mem != IR_MEM_SHARED || p->ndims != 1 || v->args[k]->kind != IR_BINARY)
            continue;
        if (ir_expr_equal(v->args[k], shfl_tree(s->f, p, v->op, 0, s->threads, 1))) {
            *pp = p;
            return &v->args[k];
        }
    }
    return NULL;
}

/* The per-variable tables cover the variables made since they were sized. */
static void shfl_grow(Spmd *s)
{
    int n = s->f->nvars;
    if (n <= s->nvars)
        return;
    bool *t = realloc(s->tainted, (size_t)n + 1);
    const IrExpr **lv = realloc(s->let_value, ((size_t)n + 1) * sizeof *lv);
    if (!t || !lv)
        abort();
    memset(t + s->nvars, 0, (size_t)(n + 1 - s->nvars));
    memset(lv + s->nvars, 0, ((size_t)(n + 1 - s->nvars)) * sizeof *lv);
    s->tainted = t;
    s->let_value = lv;
    s->nvars = n;
}

/* `let v = value` with v new and thread-dependent. */
static IrStmt *shfl_let(Spmd *s, IrBlock *b, const char *name, IrExpr *value, Span at, IrVar **out)
{
    IrVar *v = ir_var_new(s->f, name, value->type, IR_VAR_LET);
    IrStmt *l = ir_let(s->f, v, value, at);
    ir_block_push(s->f, b, l);
    shfl_grow(s);
    s->tainted[v->id] = true;
    s->let_value[v->id] = value;
    *out = v;
    return l;
}

/* The warp's part of the tree, in a new thread loop:
 *   for ci in [0, +n) bound thread.x {
 *     let w0 = p[ci]
 *     let y1 = shfl_xor(w0, 1); let w1 = select((ci fmod 2) == 0, w0 op y1, y1 op w0)
 *     ... strides 2, 4, ... < g
 *     if ((ci fmod g) == 0) { p[ci] = w_last }
 *   }
 * Lane ci then holds the tree over its pair, quad, ..., group of g: the lower
 * index always on the left, as in the fixed tree. */
static IrStmt *shfl_loop(Spmd *s, IrBuffer *p, IrOp op, int64_t n, int64_t g, Span at)
{
    IrFunc *f = s->f;
    IrVar *ci = ir_var_new(f, arena_printf(f->arena, "%s_lane", p->name), ELEM_I64, IR_VAR_LOOP);
    shfl_grow(s);
    s->tainted[ci->id] = true;
    IrStmt *loop = ir_loop(f, ci, ir_index(f, 0), ir_index(f, n), IR_BOUND, at);
    loop->hw = HW_THREAD_X;
    IrExpr *idx = ir_ref(f, ci);
    IrVar *w;
    shfl_let(s, &loop->body, arena_printf(f->arena, "%s_w0", p->name), ir_load(f, p, &idx, 1), at, &w);
    for (int64_t k = 1, step = 1; k < g; k *= 2, step++) {
        IrVar *y, *nw;
        shfl_let(s, &loop->body, arena_printf(f->arena, "%s_y%lld", p->name, (long long)step),
                 ir_shuffle_xor(f, ir_ref(f, w), k), at, &y);
        IrExpr *bit = ir_ref(f, ci);
        if (k > 1)
            bit = ir_binary(f, IR_FLOORDIV, bit, ir_index(f, k));
        bit = ir_binary(f, IR_FLOORMOD, bit, ir_index(f, 2));
        IrExpr *low = ir_binary(f, IR_EQ, bit, ir_index(f, 0));
        IrExpr *v = ir_select(f, low, ir_binary(f, op, ir_ref(f, w), ir_ref(f, y)),
                              ir_binary(f, op, ir_ref(f, y), ir_ref(f, w)));
        shfl_let(s, &loop->body, arena_printf(f->arena, "%s_w%lld", p->name, (long long)step), v, at, &nw);
        w = nw;
    }
    IrStmt *g_if = ir_if(f, ir_binary(f, IR_EQ, ir_binary(f, IR_FLOORMOD, ir_ref(f, ci), ir_index(f, g)),
                                      ir_index(f, 0)), at);
    IrExpr *sidx = ir_ref(f, ci);
    ir_block_push(f, &g_if->body, ir_store(f, p, &sidx, 1, ir_ref(f, w), at));
    ir_block_push(f, &loop->body, g_if);
    return loop;
}

/* Whether b allocates p before b->items[at]: p lives until the end of b, so
 * the group values the warps leave in it reach nothing but the combine. */
static bool shfl_allocated_before(const IrBlock *b, int at, const IrBuffer *p)
{
    for (int i = 0; i < at && i < b->len; i++)
        if (b->items[i]->kind == IR_ALLOC && b->items[i]->buf == p)
            return true;
    return false;
}

/* The pattern (see "shuffles" above) at store st of b; true when rewritten:
 * the thread loop goes at b->items[at], the tree's top in st. */
static bool shfl_store(Spmd *s, IrBlock *root, IrBlock *b, int at, IrStmt *st)
{
    int64_t n = s->threads;
    if (s->warps || n < 2 || (n & (n - 1)) || s->count[ROLE_TX] != n || st->nidx < 1)
        return false;
    IrBuffer *p = NULL;
    IrExpr **slot = shfl_combine_slot(s, st, &p);
    if (!slot || st->buf == p || !shfl_allocated_before(b, at, p))
        return false;
    ShflUse u = {.p = p, .combine = st, .n = n};
    shfl_uses_block(&u, root, NULL);
    for (int i = 0; i < st->nidx; i++)
        u.bad |= !shfl_loads_only(st->idx[i], p, NULL);
    if (u.bad)
        return false;
    int64_t g = n < s->wave ? n : s->wave;
    IrOp op = (*slot)->op;
    ir_block_insert(s->f, b, at, shfl_loop(s, p, op, n, g, st->origin));
    *slot = g == n ? shfl_tree(s->f, p, op, 0, 1, 1) : shfl_tree(s->f, p, op, 0, n / g, g);
    return true;
}

/* Whether `if` st is a once-guard: tid == 0, no else. */
static bool shfl_once_guard(Spmd *s, const IrStmt *st)
{
    IrExpr *t0 = ir_binary(s->f, IR_EQ, ir_ref(s->f, s->tid), ir_index(s->f, 0));
    return st->kind == IR_IF && st->else_body.len == 0 && ir_expr_equal(st->cond, t0);
}

static void shfl_block(Spmd *s, IrBlock *root, IrBlock *b);

/* Whether the guard g holds, besides store st, only lets and stores into
 * buffers other than p (nothing else that could write the partials). */
static bool shfl_guard_plain(const IrStmt *g, const IrStmt *st, const IrBuffer *p)
{
    for (int j = 0; j < g->body.len; j++) {
        const IrStmt *o = g->body.items[j];
        if (o != st && o->kind != IR_LET && !(o->kind == IR_STORE && o->buf != p))
            return false;
    }
    return true;
}

/* A once-guard's stores, each tried with the thread loop before the guard. */
static int shfl_guarded(Spmd *s, IrBlock *root, IrBlock *b, int i)
{
    IrStmt *g = b->items[i];
    for (int k = 0; k < g->body.len; k++) {
        IrStmt *st = g->body.items[k];
        IrBuffer *p = NULL;
        if (st->kind == IR_STORE && shfl_combine_slot(s, st, &p) && shfl_guard_plain(g, st, p) &&
            shfl_store(s, root, b, i, st))
            i++;
    }
    return i;
}

/* Rule (shuffles): a uniform store x[..] = x[..] op TREE (op +, *, max, min;
 * TREE either operand, the fixed tree over n partials p[0], ..., p[n-1] of a
 * 1-D shared buffer, with the same op), reached by every thread (outside
 * thread and warp loops, not under a thread-dependent condition or loop, or
 * directly in a `tid == 0` once-guard), where n is a power of two, the
 * block's threads and its thread.x extent, p is allocated in the block of the
 * store (or of its guard), and every store into p inside a thread loop is at
 * that thread.x loop's own index (p read nowhere else): the warps reduce
 * their g = min(n, wave) partials by xor-shuffles (shfl_loop), lane 0 of each
 * writes back its group's value, and the store takes the tree's top levels
 * over p[0], p[g], ..., p[n - g]. Same tree, same bits. */
static void shfl_block(Spmd *s, IrBlock *root, IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        switch (st->kind) {
        case IR_LOOP:
            if (thread_role(st) < 0 && !expr_tainted(s, st->lo) && !expr_tainted(s, st->extent) &&
                !is_spread_stmt(s, st))
                shfl_block(s, root, &st->body);
            break;
        case IR_IF:
            if (shfl_once_guard(s, st))
                i = shfl_guarded(s, root, b, i);
            else if (!expr_tainted(s, st->cond) && !ir_expr_uses(st->cond, s->tid)) {
                shfl_block(s, root, &st->body);
                shfl_block(s, root, &st->else_body);
            }
            break;
        case IR_STORE:
            if (shfl_store(s, root, b, i, st))
                i++;
            break;
        case IR_LET:
        case IR_ALLOC:
        case IR_COPY:
        case IR_BARRIER: break;
        }
    }
}

/* ---- barriers ---- */

/* Accesses by buffer id (ACC_* bits) of a statement or of a run of them. */
typedef struct Access {
    uint16_t *bits;
} Access;

typedef struct Barriers {
    Spmd *s;
    int nbuf;
    bool told_race;           /* a race under a thread-dependent condition was reported */
    int nvars;                /* variables when the analysis began */
    const IrExpr **let_value; /* by var id: a let's value */
    bool *is_tid;             /* by var id: a thread loop whose index is tid itself */
} Barriers;

static Access access_new(const Barriers *bs)
{
    Access a = {calloc((size_t)bs->nbuf + 1, sizeof *a.bits)};
    if (!a.bits)
        abort();
    return a;
}

static void access_clear(const Barriers *bs, Access *a) { memset(a->bits, 0, ((size_t)bs->nbuf + 1) * sizeof *a->bits); }

/* Lets and the thread loops whose index is tid (thread.x over the whole
 * block), for index_is_tid. */
static void own_scan(Barriers *bs, const IrBlock *b)
{
    const Spmd *s = bs->s;
    for (int i = 0; i < b->len; i++) {
        const IrStmt *st = b->items[i];
        int64_t lo = -1, e = 0;
        if (st->kind == IR_LET && st->var->id < bs->nvars)
            bs->let_value[st->var->id] = st->value;
        if (thread_role(st) == ROLE_TX && st->var->id < bs->nvars && ir_const_int(st->lo, &lo) && lo == 0 &&
            ir_const_int(st->extent, &e) && e == s->threads && s->count[ROLE_TX] == s->threads)
            bs->is_tid[st->var->id] = true;
        own_scan(bs, &st->body);
        own_scan(bs, &st->else_body);
    }
}

/* Whether the index e is tid itself (through lets): thread t then touches
 * only element t. */
static bool index_is_tid(const Barriers *bs, const IrExpr *e, int depth)
{
    int64_t z = -1;
    if (depth > 8)
        return false;
    if (e->kind == IR_BINARY && e->op == IR_ADD && ir_const_int(e->args[0], &z) && z == 0)
        return index_is_tid(bs, e->args[1], depth + 1);
    if (e->kind == IR_BINARY && e->op == IR_ADD && ir_const_int(e->args[1], &z) && z == 0)
        return index_is_tid(bs, e->args[0], depth + 1);
    if (e->kind != IR_VARREF)
        return false;
    if (e->var == bs->s->tid)
        return true;
    int id = e->var->id;
    if (id >= bs->nvars)
        return false;
    return bs->is_tid[id] || (bs->let_value[id] && index_is_tid(bs, bs->let_value[id], depth + 1));
}

static void access_join(const Barriers *bs, Access *into, const Access *a)
{
    for (int i = 0; i < bs->nbuf; i++)
        into->bits[i] |= a->bits[i];
}

/* Who is executing while accesses are collected:
 *   WHO_ALL     every thread (uniform code outside thread and warp loops)
 *   WHO_WARP    under warp loops alone: the lanes of a warp the same elements
 *   WHO_T0      thread 0 alone (a once-guard `tid == 0`)
 *   WHO_THREAD  under a thread loop (or a spread statement): each thread its own
 *   WHO_LEAD    a once-guard under thread or warp loops: one thread for each
 *               index of the loops around it (lane 0 of every warp, say), not
 *               thread 0 alone */
typedef enum Who { WHO_ALL, WHO_WARP, WHO_T0, WHO_THREAD, WHO_LEAD } Who;

/* Whether `who`'s accesses in one block are one thread's code each (two of
 * them never race on their own elements). */
static bool who_in_thread(Who who) { return who == WHO_T0 || who == WHO_THREAD || who == WHO_LEAD; }

/* Who runs the body of loop st. Under a thread loop each thread has its own
 * elements; under a warp loop alone the warp's lanes touch the same ones
 * (like uniform code), different warps different ones. */
static Who who_in_loop(Who who, const IrStmt *st)
{
    int role = thread_role(st);
    if (role >= 0 && role < ROLE_WX)
        return WHO_THREAD;
    if (role >= ROLE_WX && who == WHO_ALL)
        return WHO_WARP;
    return who;
}

/* Who runs the branches of `if` st. A condition on tid itself is a
 * once-guard: outside every thread and warp loop it is `tid == 0`; under
 * them its writes are one thread's per index of those loops (lane 0 of each
 * warp), other threads than the loop's own elements and not thread 0 alone. */
static Who who_in_if(const Barriers *bs, Who who, const IrStmt *st)
{
    if (who == WHO_T0 || who == WHO_LEAD || is_spread_stmt(bs->s, st) || !ir_expr_uses(st->cond, bs->s->tid))
        return who;
    return who == WHO_ALL ? WHO_T0 : WHO_LEAD;
}

/* An access of b at idx (its one index after flattening, or NULL). */
static void note(const Barriers *bs, Access *a, const IrBuffer *b, const IrExpr *idx, bool write, Who who)
{
    if (!mem_is_memory(b->mem) || b->id >= bs->nbuf)
        return;
    static const uint16_t rd[] = {ACC_R_ALL, ACC_R_ALL, ACC_R_T0, ACC_R_TH, ACC_R_LEAD};
    static const uint16_t wr[] = {ACC_W_T0, ACC_W_LEAD, ACC_W_T0, ACC_W_TH, ACC_W_LEAD};
    if (who == WHO_THREAD && idx && index_is_tid(bs, idx, 0))
        a->bits[b->id] |= write ? ACC_W_OWN : ACC_R_OWN;
    else
        a->bits[b->id] |= write ? wr[who] : rd[who];
}

static void note_expr(const Barriers *bs, Access *a, const IrExpr *e, Who who)
{
    if (e->kind == IR_LOAD)
        note(bs, a, e->buf, e->nargs == 1 ? e->args[0] : NULL, false, who);
    for (int i = 0; i < e->nargs; i++)
        note_expr(bs, a, e->args[i], who);
}

static void collect_block(const Barriers *bs, Access *a, const IrBlock *b, Who who);

/* The accesses of one statement executed by `who` (who_in_loop, who_in_if;
 * spread statements are the block's). */
static void collect_stmt(const Barriers *bs, Access *a, const IrStmt *st, Who who)
{
    bool spread = is_spread_stmt(bs->s, st);
    if (spread)
        who = WHO_THREAD;
    switch (st->kind) {
    case IR_LOOP:
        note_expr(bs, a, st->lo, who);
        note_expr(bs, a, st->extent, who);
        collect_block(bs, a, &st->body, who_in_loop(who, st));
        break;
    case IR_IF: {
        Who inner = who_in_if(bs, who, st);
        note_expr(bs, a, st->cond, who);
        collect_block(bs, a, &st->body, inner);
        collect_block(bs, a, &st->else_body, inner);
        break;
    }
    case IR_STORE:
        for (int i = 0; i < st->nidx; i++)
            note_expr(bs, a, st->idx[i], who);
        note_expr(bs, a, st->value, who);
        note(bs, a, st->buf, st->nidx == 1 ? st->idx[0] : NULL, true, who);
        break;
    case IR_LET: note_expr(bs, a, st->value, who); break;
    case IR_COPY:
        if (st->copy.spread_tid) {
            a->bits[st->copy.dst->id] |= mem_is_memory(st->copy.dst->mem) ? ACC_W_SP : 0;
            a->bits[st->copy.src->id] |= mem_is_memory(st->copy.src->mem) ? ACC_R_SP : 0;
        } else {
            note(bs, a, st->copy.dst, NULL, true, who);
            note(bs, a, st->copy.src, NULL, false, who);
        }
        break;
    case IR_ALLOC:
    case IR_BARRIER: break;
    }
}

static void collect_block(const Barriers *bs, Access *a, const IrBlock *b, Who who)
{
    for (int i = 0; i < b->len; i++)
        collect_stmt(bs, a, b->items[i], who);
}

/* Whether an access `x` since the last barrier and a later access `y` of one
 * buffer may touch an element from two threads, one of them writing. Two
 * accesses of thread 0 never race; nor two at index tid; nor, inside one
 * thread's code (in_thread), two accesses of that thread, or two of the one
 * thread a once-guard picks there. A once-guard's thread against the others
 * of its thread loop (LEAD and TH) is a conflict: they are different threads
 * at the same loop index. */
static bool bits_conflict(unsigned x, unsigned y, bool in_thread)
{
    static const unsigned writes = ACC_W_T0 | ACC_W_SP | ACC_W_TH | ACC_W_OWN | ACC_W_LEAD;
    static const unsigned own = ACC_R_OWN | ACC_W_OWN;
    static const unsigned lead = ACC_R_LEAD | ACC_W_LEAD;
    for (unsigned p = 1; p <= ACC_LAST; p <<= 1) {
        if (!(x & p))
            continue;
        for (unsigned q = 1; q <= ACC_LAST; q <<= 1) {
            if (!(y & q) || !((p | q) & writes))
                continue;
            if (((p | q) & ~(ACC_R_T0 | ACC_W_T0)) == 0)
                continue;                       /* thread 0 and thread 0 */
            if (((p | q) & ~own) == 0)
                continue;                       /* element tid, by thread tid */
            if (in_thread && ((p | q) & ~(ACC_R_TH | ACC_W_TH | own)) == 0)
                continue;                       /* one thread's own accesses */
            if (in_thread && ((p | q) & ~lead) == 0)
                continue;                       /* the once-guard's own thread */
            return true;
        }
    }
    return false;
}

/* The id of a buffer on which before and after conflict, or -1. */
static int conflict_id(const Barriers *bs, const Access *before, const Access *after, bool in_thread)
{
    for (int i = 0; i < bs->nbuf; i++)
        if (before->bits[i] && after->bits[i] && bits_conflict(before->bits[i], after->bits[i], in_thread))
            return i;
    return -1;
}

static const IrBuffer *buffer_by_id(const IrBlock *b, int id);
static bool carried_writes_disjoint(const Spmd *s, const IrStmt *loop, const IrBuffer *b);

/* Loop-carried conflicts of `loop`: as conflict_id() finds them, except that per-thread
 * writes of global or param memory against per-thread writes (nothing else
 * conflicting) do not count where the loop's iterations write distinct
 * elements (carried_writes_disjoint). */
static bool carried_conflicts(const Barriers *bs, const Access *before, const Access *after,
                              bool in_thread, const IrStmt *loop)
{
    for (int i = 0; i < bs->nbuf; i++) {
        unsigned x = before->bits[i], y = after->bits[i];
        if (!x || !y || !bits_conflict(x, y, in_thread))
            continue;
        if (!bits_conflict(x & ~ACC_W_TH, y, in_thread) && !bits_conflict(x, y & ~ACC_W_TH, in_thread)) {
            const IrBuffer *b = buffer_by_id(&loop->body, i);
            if (b && b->mem != IR_MEM_SHARED && carried_writes_disjoint(bs->s, loop, b))
                continue;
        }
        return true;
    }
    return false;
}

/* ---- loop-carried writes of one store to distinct elements ---- */

/* Affine forms (util/affine.h) here are sum k*var over the variables
 * declared inside the loop, keyed by the IrVar; the rest of an index (the same
 * in every iteration and thread) is left out. At most AFF_MAX loops are
 * followed around a store. */
enum { AFF_MAX = 8 };

typedef struct Varying {
    const IrVar *var[AFF_MAX];
    int64_t extent[AFF_MAX];      /* iterations (the carried loop's: 0, unbounded) */
    int n;
} Varying;

static int varying_index(const Varying *vy, const IrVar *v)
{
    for (int i = 0; i < vy->n; i++)
        if (vy->var[i] == v)
            return i;
    return -1;
}

/* Whether e uses a varying variable, through lets too. */
static bool uses_varying(const Spmd *s, const Varying *vy, const IrExpr *e, int depth)
{
    if (depth > 64)
        return true;
    if (e->kind == IR_VARREF) {
        if (varying_index(vy, e->var) >= 0)
            return true;
        const IrExpr *v = e->var->id < s->nvars ? s->let_value[e->var->id] : NULL;
        return v && uses_varying(s, vy, v, depth + 1);
    }
    for (int i = 0; i < e->nargs; i++)
        if (uses_varying(s, vy, e->args[i], depth))
            return true;
    return false;
}

/* An index's form over the varying variables (lets substituted): the walk's
 * context. */
typedef struct VaryingForm {
    const Spmd *s;
    const Varying *vy;
    const IrAffineOps *ops;
    int depth;                    /* lets looked through */
} VaryingForm;

/* A part that does not vary is the rest (left out); a varying variable is a
 * term keyed by the IrVar. */
static IrAffStep varying_visit(void *cx, const IrExpr *e, int64_t k, Affine *a)
{
    VaryingForm *vf = cx;
    if (vf->depth > 64)
        return IR_AFF_REFUSED;
    if (!uses_varying(vf->s, vf->vy, e, 0))
        return IR_AFF_DONE;                       /* part of rest */
    if (e->kind != IR_VARREF)
        return IR_AFF_OPEN;
    if (varying_index(vf->vy, e->var) >= 0) {
        aff_add_term(a, AFF_KEY(e->var), k);
        return a->ok ? IR_AFF_DONE : IR_AFF_REFUSED;
    }
    vf->depth++;
    bool ok = ir_affine_add(vf->ops, vf->s->let_value[e->var->id], k, a);
    vf->depth--;
    return ok ? IR_AFF_DONE : IR_AFF_REFUSED;
}

/* e's form over the varying variables into a (an overflow proves nothing). */
static bool affine_of(const Spmd *s, const Varying *vy, const IrExpr *e, Affine *a)
{
    VaryingForm vf = {.s = s, .vy = vy};
    IrAffineOps ops = {.cx = &vf, .visit = varying_visit, .whole = ir_affine_refuse, .literal_factors = true};
    vf.ops = &ops;
    *a = aff_const(0);
    return ir_affine_add(&ops, e, 1, a) && a->ok;
}

typedef struct StoreFind {
    const IrBuffer *buf;
    const IrStmt *store;
    int nstores;
    Varying at;                   /* the loops around the store inside the loop */
    Varying cur;
    bool bad;                     /* a loop of non-constant extent around a store */
} StoreFind;

static void find_stores(StoreFind *sf, const IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *st = b->items[i];
        if (st->kind == IR_STORE && st->buf == sf->buf) {
            sf->store = st;
            sf->at = sf->cur;
            sf->nstores++;
        } else if (st->kind == IR_COPY && st->copy.dst == sf->buf) {
            sf->nstores += 2;
        } else if (st->kind == IR_IF) {
            find_stores(sf, &st->body);
            find_stores(sf, &st->else_body);
        } else if (st->kind == IR_LOOP) {
            int64_t e = 0;
            if (sf->cur.n == AFF_MAX || !ir_const_int(st->extent, &e)) {
                sf->bad = true;
                e = 0;
            }
            int n = sf->cur.n;
            if (n < AFF_MAX) {
                sf->cur.var[n] = st->var;
                sf->cur.extent[n] = e;
                sf->cur.n++;
            }
            find_stores(sf, &st->body);
            sf->cur.n = n;
        }
    }
}

/* Whether loop L's iterations write buffer b at distinct elements: b is
 * written by one store, at u + k*v + sum k_i*w_i (u the same everywhere, v
 * L's index, w_i the indices of the loops between L and the store, thread
 * loops included, of constant extents E_i) with |k| > sum |k_i|*(E_i - 1):
 * two iterations of L then never meet on an element, whatever threads run
 * them. */
static bool carried_writes_disjoint(const Spmd *s, const IrStmt *loop, const IrBuffer *b)
{
    StoreFind sf = {.buf = b};
    sf.cur.var[0] = loop->var;
    sf.cur.extent[0] = 0;
    sf.cur.n = 1;
    find_stores(&sf, &loop->body);
    if (sf.bad || sf.nstores != 1 || sf.store->nidx != 1)
        return false;
    Affine a;
    if (!affine_of(s, &sf.at, sf.store->idx[0], &a))
        return false;
    /* Overflow in |k| or the sum proves nothing: not disjoint (a barrier stays). */
    int64_t k = 0, spread = 0, part;
    for (int i = 0; i < a.n; i++) {
        int j = varying_index(&sf.at, (const IrVar *)a.t[i].key);
        if (a.t[i].k == INT64_MIN)
            return false;
        int64_t c = a.t[i].k < 0 ? -a.t[i].k : a.t[i].k;
        if (j == 0)
            k = c;
        else if (c && sf.at.extent[j] > 1 &&
                 (__builtin_mul_overflow(c, sf.at.extent[j] - 1, &part) ||
                  __builtin_add_overflow(spread, part, &spread)))
            return false;
    }
    return k > spread;
}

static void barrier_block(Barriers *bs, IrBlock *b, Who who, bool divergent, Span at,
                          const IrStmt *loop);

/* Recurses into the blocks a statement holds (barriers go only where every
 * thread arrives: not under a thread-dependent condition). */
static void barrier_inside(Barriers *bs, IrStmt *st, Who who, bool divergent)
{
    Spmd *s = bs->s;
    if (is_spread_stmt(s, st))
        return;   /* one element per iteration and thread: nothing to order inside */
    if (st->kind == IR_LOOP) {
        int role = thread_role(st);
        int64_t e = 0;
        ir_const_int(st->extent, &e);
        bool div = divergent || expr_tainted(s, st->lo) || expr_tainted(s, st->extent) ||
                   (role >= 0 && s->count[role] > e);
        /* each thread runs a thread loop's body once: nothing carried */
        barrier_block(bs, &st->body, who_in_loop(who, st), div, st->origin, role < 0 ? st : NULL);
    } else if (st->kind == IR_IF) {
        bool div = divergent || expr_tainted(s, st->cond) || ir_expr_uses(st->cond, s->tid);
        Who inner = who_in_if(bs, who, st);
        barrier_block(bs, &st->body, inner, div, st->origin, NULL);
        barrier_block(bs, &st->else_body, inner, div, st->origin, NULL);
    }
}

/* The barriers of one block that every thread reaches: before each statement
 * whose accesses conflict with those since the last barrier, and at the end
 * of a loop's body when its end conflicts with its start (is_loop_body). In a
 * block not every thread reaches (divergent) no barrier can go: a conflict
 * there is an error (one per launch). */
static void barrier_scan(Barriers *bs, IrBlock *b, Who who, bool divergent, Span at,
                         const IrStmt *loop)
{
    IrFunc *f = bs->s->f;
    bool in_thread = who_in_thread(who);
    Access acc = access_new(bs), item = access_new(bs);
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        if (st->kind == IR_BARRIER) {
            access_clear(bs, &acc);
            continue;
        }
        access_clear(bs, &item);
        collect_stmt(bs, &item, st, who);
        int id = conflict_id(bs, &acc, &item, in_thread);
        if (id >= 0 && divergent) {
            const IrBuffer *buf = buffer_by_id(b, id);
            if (!bs->told_race)
                diag_error(bs->s->pc->diag, st->origin,
                           "threads of a block may race on '%s' here: another thread touched it before, "
                           "under a condition on the thread index, where no barrier can go",
                           buf ? buf->name : "?");
            bs->told_race = true;
            break;
        }
        if (id >= 0) {
            if (i > 0 && b->items[i - 1]->kind != IR_BARRIER) {
                ir_block_insert(f, b, i, ir_barrier(f, st->origin));
                i++;
            }
            access_clear(bs, &acc);
        }
        access_join(bs, &acc, &item);
    }
    /* Loop-carried: the accesses since the last barrier against those of the
     * next iteration up to its first barrier. */
    if (!divergent && loop && b->len && b->items[b->len - 1]->kind != IR_BARRIER) {
        bool carried = false;
        for (int i = 0; i < b->len && !carried && b->items[i]->kind != IR_BARRIER; i++) {
            access_clear(bs, &item);
            collect_stmt(bs, &item, b->items[i], who);
            carried = carried_conflicts(bs, &acc, &item, in_thread, loop);
        }
        if (carried)
            ir_block_push(f, b, ir_barrier(f, at));
    }
    free(acc.bits);
    free(item.bits);
}

static void barrier_block(Barriers *bs, IrBlock *b, Who who, bool divergent, Span at,
                          const IrStmt *loop)
{
    for (int i = 0; i < b->len; i++)
        barrier_inside(bs, b->items[i], who, divergent);
    barrier_scan(bs, b, who, divergent, at, loop);
}

/* The buffer with this id accessed in b (stores, loads, copies), or NULL. */
static const IrBuffer *expr_buffer(const IrExpr *e, int id)
{
    if (e->kind == IR_LOAD && e->buf->id == id)
        return e->buf;
    for (int i = 0; i < e->nargs; i++) {
        const IrBuffer *b = expr_buffer(e->args[i], id);
        if (b)
            return b;
    }
    return NULL;
}

/* The buffer with this id as st accesses it anywhere (stores, loads in any
 * expression, copies), or NULL. */
static const IrBuffer *stmt_buffer_by_id(const IrStmt *st, int id)
{
    const IrExpr *exprs[3] = {0};
    int n = 0;
    switch (st->kind) {
    case IR_STORE:
        if (st->buf->id == id)
            return st->buf;
        for (int i = 0; i < st->nidx; i++) {
            const IrBuffer *x = expr_buffer(st->idx[i], id);
            if (x)
                return x;
        }
        exprs[n++] = st->value;
        break;
    case IR_COPY:
        if (st->copy.dst->id == id || st->copy.src->id == id)
            return st->copy.dst->id == id ? st->copy.dst : st->copy.src;
        break;
    case IR_LOOP:
        exprs[n++] = st->lo;
        exprs[n++] = st->extent;
        break;
    case IR_IF: exprs[n++] = st->cond; break;
    case IR_LET: exprs[n++] = st->value; break;
    case IR_ALLOC: return st->buf->id == id ? st->buf : NULL;
    case IR_BARRIER: break;
    }
    for (int i = 0; i < n; i++) {
        const IrBuffer *x = expr_buffer(exprs[i], id);
        if (x)
            return x;
    }
    const IrBuffer *x = buffer_by_id(&st->body, id);
    return x ? x : buffer_by_id(&st->else_body, id);
}

static const IrBuffer *buffer_by_id(const IrBlock *b, int id)
{
    for (int i = 0; i < b->len; i++) {
        const IrBuffer *x = stmt_buffer_by_id(b->items[i], id);
        if (x)
            return x;
    }
    return NULL;
}

/* ---- thread loops to indices ---- */

/* `for v in [lo, +E) bound H { body }` -> `let v = lo + index(H)` and body,
 * under `if (index(H) < E)` when H has more threads than E. */
static void convert_block(Spmd *s, IrBlock *b)
{
    IrFunc *f = s->f;
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        if (st->kind == IR_LOOP || st->kind == IR_IF) {
            convert_block(s, &st->body);
            convert_block(s, &st->else_body);
        }
        int role = thread_role(st);
        if (role < 0)
            continue;
        int64_t e = 0;
        ir_const_int(st->extent, &e);
        IrExpr *idx = role_index(s, (Role)role);
        IrBlock body = {0};
        ir_block_push(f, &body, ir_let(f, st->var, ir_binary(f, IR_ADD, st->lo, idx), st->origin));
        for (int k = 0; k < st->body.len; k++)
            ir_block_push(f, &body, st->body.items[k]);
        st->var->kind = IR_VAR_LET;
        if (s->count[role] > e) {
            IrStmt *g = ir_if(f, ir_binary(f, IR_LT, ir_expr_copy(f, idx), ir_index(f, e)), st->origin);
            g->body = body;
            b->items[i] = g;
            continue;
        }
        /* Splice: the body's declarations now reach the end of b, which is
         * harmless as every variable and buffer is declared once. */
        b->items[i] = body.items[0];
        for (int k = 1; k < body.len; k++)
            ir_block_insert(f, b, i + k, body.items[k]);
        i += body.len - 1;
    }
}

/* ---- shared memory ---- */

/* Bytes of a shared buffer (constant dims), all its stages. */
static int64_t shared_size(const IrBuffer *b)
{
    int64_t dims[64] = {0};
    for (int d = 0; d < b->ndims && d < 64; d++)
        ir_const_int(b->dims[d], &dims[d]);
    return elem_type_bytes(b->elem) * flatten_count(b, dims);
}

typedef struct SharedLayout {
    Spmd *s;
    int nbufs;
    bool reported;
} SharedLayout;

/* Offsets in allocation order, each 16-byte aligned. */
static void layout_block(SharedLayout *l, const IrBlock *b)
{
    IrLaunch *launch = l->s->launch;
    for (int i = 0; i < b->len; i++) {
        const IrStmt *st = b->items[i];
        if (st->kind == IR_ALLOC && st->buf->mem == IR_MEM_SHARED) {
            int64_t off = (launch->shared_bytes + 15) / 16 * 16;
            st->buf->smem_offset = off;
            launch->shared_bytes = off + shared_size(st->buf);
            l->nbufs++;
            int64_t limit = target_shared_limit(l->s->f->target);
            if (launch->shared_bytes > limit && !l->reported) {
                diag_error(l->s->pc->diag, st->origin,
                           "shared memory of the launch is %lld bytes with '%s' (%d buffers, "
                           "each 16-byte aligned), over the limit of %lld bytes on %s:%s",
                           (long long)launch->shared_bytes, st->buf->name, l->nbufs,
                           (long long)limit, target_vendor(l->s->f->target),
                           target_arch(l->s->f->target));
                l->reported = true;
            }
        }
        if (st->kind == IR_COPY && st->copy.async)
            launch->async_copies = true;
        layout_block(l, &st->body);
        layout_block(l, &st->else_body);
    }
}

/* ---- one launch: the grid step ---- */

/* The top-level statements items[0 .. n) are one launch (n > 1: a launch
 * of one block, see launch_length): its grid, roles and threads, and the
 * loop `for tid in [0, +T) bound thread.x` around its body, inside the block
 * loops, which the later steps rewrite. After diagnostics s->body stays NULL:
 * the later steps stop at this launch. */
static IrStmt *spmd_launch(Spmd *s, IrStmt **items, int n)
{
    IrFunc *f = s->f;
    IrStmt *top = items[0];
    IrStmt *inner = n == 1 ? grid_loops(s, top) : NULL;
    IrBlock body = {0};
    if (inner) {
        body = inner->body;
    } else {
        for (int i = 0; i < n; i++)
            ir_block_push(f, &body, items[i]);
    }
    memset(s->extent, 0, sizeof s->extent);
    collect_roles(s, &body);
    if (spmd_failed(s))
        return top;
    block_shape(s, top->origin);
    if (spmd_failed(s))
        return top;
    s->tid = ir_var_new(f, "tid", ELEM_I64, IR_VAR_LOOP);
    IrStmt *tl = ir_loop(f, s->tid, ir_index(f, 0), ir_index(f, s->threads), IR_BOUND, top->origin);
    tl->hw = HW_THREAD_X;
    tl->body = body;
    IrStmt *root = top;
    if (inner) {
        inner->body = (IrBlock){0};
        ir_block_push(f, &inner->body, tl);
    } else {
        root = tl;
    }
    s->top = top;
    s->body = &tl->body;
    s->launch->root = root;
    s->launch->tid = s->tid;
    s->launch->threads = s->threads;
    return root;
}

/* How many top-level statements from items[i] make one launch: one, unless
 * it allocates registers or shared memory at the top level (a reduction's
 * partials where no block loop is around: `split i by 256 -> io, il;
 * reorder il, io; bind il -> thread.x`); such a buffer lives until its last
 * use, so the statements up to it are one launch of one block. */
static int launch_length(const IrFunc *f, int i)
{
    int end = i + 1;
    for (int k = i; k < end; k++) {
        const IrStmt *st = f->body.items[k];
        if (st->kind != IR_ALLOC || st->buf->mem == IR_MEM_GLOBAL)
            continue;
        for (int j = f->body.len - 1; j >= end; j--)
            if (stmt_buffer_by_id(f->body.items[j], st->buf->id)) {
                end = j + 1;
                break;
            }
    }
    return end - i;
}

/* ---- the steps, launch by launch ----
 *
 * The GPU pass table (src/lower/compile.c) takes the launches one at a time,
 * in order (spmd_next_launch), and runs its steps in this file's order on the
 * current one; ctx->spmd holds each launch's roles and thread facts between
 * them. After a launch's errors only the steps that keep going past errors
 * run for it: guards, shared and copies (which report more of the same
 * launch's errors), and layout (shared memory over the limit); no later
 * launch is taken, so the errors are those of the first launch with any. */

struct SpmdRun {
    Spmd *launches;
    int n;                    /* launches taken so far; the current one is the last */
    int at;                   /* f->body index where the next launch starts */
    int errors;               /* diag errors before the first launch */
};

bool spmd_begin(IrFunc *f, PassCtx *ctx)
{
    if (f->spmd || ctx->spmd || !target_is_gpu(f->target))
        return false;
    int n = 0;
    for (int i = 0; i < f->body.len; i++) {
        const IrStmt *st = f->body.items[i];
        if (!(st->kind == IR_ALLOC && st->buf->mem == IR_MEM_GLOBAL))
            n++;
    }
    f->launches = ARENA_ARRAY(f->arena, IrLaunch, n > 0 ? n : 1);
    memset(f->launches, 0, sizeof *f->launches * (size_t)(n > 0 ? n : 1));
    f->nlaunches = 0;
    SpmdRun *r = ARENA_NEW(f->arena, SpmdRun);
    r->launches = ARENA_ARRAY(f->arena, Spmd, n > 0 ? n : 1);
    memset(r->launches, 0, sizeof *r->launches * (size_t)(n > 0 ? n : 1));
    r->errors = ctx->diag->nerrors;
    ctx->spmd = r;
    return true;
}

static Spmd *current(const PassCtx *ctx)
{
    const SpmdRun *r = ctx->spmd;
    return r && r->n > 0 ? &r->launches[r->n - 1] : NULL;
}

bool spmd_next_launch(IrFunc *f, PassCtx *ctx)
{
    SpmdRun *r = ctx->spmd;
    const Spmd *last = current(ctx);
    if (!r || (last && last->failed))
        return false;
    while (r->at < f->body.len && f->body.items[r->at]->kind == IR_ALLOC &&
           f->body.items[r->at]->buf->mem == IR_MEM_GLOBAL)
        r->at++;
    if (r->at >= f->body.len)
        return false;
    r->launches[r->n++] = (Spmd){.f = f, .pc = ctx, .errors = r->errors};
    return true;
}

/* Runs step on the current launch: after its errors only a step that keeps
 * going past them; never on a launch the grid step could not make. */
static bool on_launch(PassCtx *ctx, void (*step)(Spmd *s), bool after_errors)
{
    Spmd *s = current(ctx);
    if (!s || !s->body)
        return false;
    int before = ctx->diag->nerrors;
    if (!s->failed || after_errors)
        step(s);
    s->failed |= ctx->diag->nerrors > before;
    return true;
}

/* grid: the current launch, with its grid, roles, threads and thread loop. */
bool spmd_step_grid(IrFunc *f, PassCtx *ctx)
{
    SpmdRun *r = ctx->spmd;
    Spmd *s = current(ctx);
    if (!s || s->launch)
        return false;
    int i = r->at, len = launch_length(f, i);
    s->launch = &f->launches[f->nlaunches++];
    f->body.items[i] = spmd_launch(s, f->body.items + i, len);
    memmove(f->body.items + i + 1, f->body.items + i + len,
            sizeof *f->body.items * (size_t)(f->body.len - i - len));
    f->body.len -= len - 1;
    r->at = i + 1;
    s->failed = spmd_failed(s);
    return true;
}

static void guards_launch(Spmd *s)
{
    s->nvars = s->f->nvars;
    s->tainted = calloc((size_t)s->nvars + 1, 1);
    s->let_value = calloc((size_t)s->nvars + 1, sizeof *s->let_value);
    if (!s->tainted || !s->let_value)
        abort();
    taint_block(s, s->body);
    sink_guards(s, s->body);
}

/* guards: the thread dependence of each value; thread-dependent guards
 * sunk below the fills and barriers they hold. */
bool spmd_step_guards(IrFunc *f, PassCtx *ctx)
{
    (void)f;
    return on_launch(ctx, guards_launch, true);
}

static void shared_launch(Spmd *s) { promote_block(s, s->body, 0, NULL); }

/* shared: per-block registers buffers moved to shared memory. */
bool spmd_step_shared(IrFunc *f, PassCtx *ctx)
{
    (void)f;
    return on_launch(ctx, shared_launch, true);
}

static void copies_launch(Spmd *s) { place_block(s, s->body, (Place){0}); }

/* copies: spread copies and once-guarded writes. */
bool spmd_step_copies(IrFunc *f, PassCtx *ctx)
{
    (void)f;
    return on_launch(ctx, copies_launch, true);
}

static void shuffles_launch(Spmd *s) { shfl_block(s, s->body, s->body); }

/* shuffles: warp reductions of the partials of a reduction over thread.x. */
bool spmd_step_shuffles(IrFunc *f, PassCtx *ctx)
{
    (void)f;
    return on_launch(ctx, shuffles_launch, false);
}

static void barriers_launch(Spmd *s)
{
    Barriers bs = {.s = s, .nbuf = s->f->nbuffers, .nvars = s->f->nvars};
    bs.let_value = calloc((size_t)bs.nvars + 1, sizeof *bs.let_value);
    bs.is_tid = calloc((size_t)bs.nvars + 1, 1);
    if (!bs.let_value || !bs.is_tid)
        abort();
    own_scan(&bs, s->body);
    barrier_block(&bs, s->body, WHO_ALL, false, s->top->origin, NULL);
    free(bs.let_value);
    free(bs.is_tid);
}

/* barriers: the barriers every thread reaches, where phases conflict. */
bool spmd_step_barriers(IrFunc *f, PassCtx *ctx)
{
    (void)f;
    return on_launch(ctx, barriers_launch, false);
}

static void pipelines_launch(Spmd *s) { spmd_pipeline(s->f, s->body); }

/* pipelines: caches filled stages ahead (spmd_pipe.c). */
bool spmd_step_pipeline(IrFunc *f, PassCtx *ctx)
{
    (void)f;
    return on_launch(ctx, pipelines_launch, false);
}

static void threads_launch(Spmd *s) { convert_block(s, s->body); }

/* threads: warp and thread loops become lets of tid. */
bool spmd_step_threads(IrFunc *f, PassCtx *ctx)
{
    (void)f;
    return on_launch(ctx, threads_launch, false);
}

static void tiles_launch(Spmd *s) { version_loops(s->f, s->body, VERSION_FULL_TILES); }

/* full-tiles: unrolled nests without the guards their worst corner proves
 * (version.c, with the GPU's rule). */
bool spmd_step_full_tiles(IrFunc *f, PassCtx *ctx)
{
    (void)f;
    return on_launch(ctx, tiles_launch, false);
}

static void layout_launch(Spmd *s)
{
    SharedLayout l = {.s = s};
    layout_block(&l, s->body);
}

/* layout: shared buffers' offsets, checked against the target's limit. */
bool spmd_step_layout(IrFunc *f, PassCtx *ctx)
{
    (void)f;
    return on_launch(ctx, layout_launch, true);
}

bool spmd_end(IrFunc *f, PassCtx *ctx, bool whole)
{
    SpmdRun *r = ctx->spmd;
    if (!r)
        return false;
    f->spmd = whole && ctx->diag->nerrors == r->errors && r->at >= f->body.len;
    for (int i = 0; i < r->n; i++) {
        free(r->launches[i].tainted);
        free(r->launches[i].let_value);
        free(r->launches[i].spread);
    }
    ctx->spmd = NULL;
    return f->spmd;
}
