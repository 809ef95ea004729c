/* spmd, pipelines: `pipeline L stages S` in the GPU execution form, the
 * caches at L filled S-1 iterations ahead into their stages (lang/SPEC.md,
 * GPU execution form, Pipelines). spmd.c calls it once the barriers are
 * placed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lower/flatten.h"
#include "lower/spmd.h"

/* `pipeline L stages S` (S > 1), after the barriers are placed. The cache
 * pass left L's body as: lets, the caches' allocs and async fills (the
 * prefix), a barrier, the rest. When the prefix holds only pure lets, allocs
 * of caches with S stages and async copies into them, and the rest neither
 * writes those caches nor anything the fills read, L becomes:
 *
 *   alloc the caches                       (before L: the prologue uses them)
 *   fills of iterations 0 .. S-2 into stages 0 .. S-2, each under
 *     `if (p < extent)`, a `barrier pending S-2` between two of them
 *   for v in L {
 *     prefix lets; let v_stage = (v - lo) fmod S
 *     barrier pending S-2                  (fills of iteration v have landed;
 *                                           every thread is done with v - 1)
 *     if (v - lo + S-1 < extent) fills of iteration v + S-1 into stage
 *       (v - lo + S-1) fmod S              (the stage iteration v - 1 read)
 *     the rest, reading stage v_stage      (no barrier at its end)
 *   }
 *
 * Every barrier commits one group of async copies (IR_BARRIER), so the group
 * of iteration v is followed by exactly S-2 newer ones when iteration v's
 * barrier waits: `pending S-2` lands it and keeps the later fills in flight.
 * Barriers inside the rest commit empty groups, which only make the wait
 * stricter. The next iteration's barrier comes before any of its accesses
 * (its prefix is pure lets), so the rest needs no barrier at its end; what
 * follows L was ordered against L as a whole by the analysis. Stage s of a
 * cache X is at s * flatten_stage_rows(X) on the outermost coordinate of a
 * copy and at s * flatten_stage_elems(X) in a flattened index. Anything else
 * keeps the serial form: each stage's fills land before the barrier that
 * follows them. */

typedef struct Pipe {
    IrFunc *f;
    IrStmt *loop;
    IrBlock prefix;           /* the items before the first barrier */
    int first;                /* index of that barrier in the loop's body */
    IrBuffer **staged;        /* the caches with stages */
    int nstaged;
} Pipe;

static bool pipe_is_staged(const Pipe *p, const IrBuffer *b)
{
    for (int i = 0; i < p->nstaged; i++)
        if (p->staged[i] == b)
            return true;
    return false;
}

/* Whether b writes a staged cache or a buffer the prefix's fills read. */
static bool pipe_rest_writes(const Pipe *p, const IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *st = b->items[i];
        const IrBuffer *w = st->kind == IR_STORE ? st->buf : st->kind == IR_COPY ? st->copy.dst : NULL;
        if (w) {
            if (pipe_is_staged(p, w))
                return true;
            for (int k = 0; k < p->prefix.len; k++)
                if (p->prefix.items[k]->kind == IR_COPY && p->prefix.items[k]->copy.src == w)
                    return true;
        }
        if (pipe_rest_writes(p, &st->body) || pipe_rest_writes(p, &st->else_body))
            return true;
    }
    return false;
}

/* Whether L's body has the shape above. */
static bool pipe_match(Pipe *p)
{
    IrBlock *b = &p->loop->body;
    Arena *a = p->f->arena;
    p->first = -1;
    for (int i = 0; i < b->len && p->first < 0; i++)
        if (b->items[i]->kind == IR_BARRIER)
            p->first = i;
    if (p->first < 1)
        return false;
    p->staged = ARENA_ARRAY(a, IrBuffer *, p->first);
    int copies = 0;
    for (int i = 0; i < p->first; i++) {
        IrStmt *st = b->items[i];
        ir_block_push(p->f, &p->prefix, st);
        if (st->kind == IR_LET && !ir_has_load(st->value))
            continue;
        if (st->kind == IR_ALLOC && st->buf->mem == IR_MEM_SHARED && st->buf->stages == p->loop->stages) {
            p->staged[p->nstaged++] = st->buf;
            continue;
        }
        if (st->kind == IR_COPY && st->copy.async && pipe_is_staged(p, st->copy.dst) &&
            !pipe_is_staged(p, st->copy.src)) {
            copies++;
            continue;
        }
        return false;
    }
    IrBlock rest = {.items = b->items + p->first + 1, .len = b->len - p->first - 1};
    return copies > 0 && !pipe_rest_writes(p, &rest);
}

/* stage * R (a copy's outermost coordinate) or stage * R * row (flat index). */
static IrExpr *pipe_stage_offset(IrFunc *f, const IrBuffer *b, IrExpr *stage, bool flat)
{
    int64_t dims[64] = {0};
    for (int d = 0; d < b->ndims && d < 64; d++)
        ir_const_int(b->dims[d], &dims[d]);
    int64_t k = flat ? flatten_stage_elems(b, dims) : flatten_stage_rows(b, dims);
    return ir_binary(f, IR_MUL, ir_expr_copy(f, stage), ir_index(f, k));
}

typedef struct PipeRead {
    Pipe *p;
    IrExpr *stage;
} PipeRead;

/* Loads of a staged cache read stage `stage`. */
static IrExpr *pipe_read_expr(PipeRead *r, IrExpr *e)
{
    for (int i = 0; i < e->nargs; i++)
        e->args[i] = pipe_read_expr(r, e->args[i]);
    if (e->kind == IR_LOAD && e->nargs == 1 && pipe_is_staged(r->p, e->buf))
        e->args[0] = ir_binary(r->p->f, IR_ADD, e->args[0],
                               pipe_stage_offset(r->p->f, e->buf, r->stage, true));
    return e;
}

static IrExpr *pipe_read_map(void *arg, IrExpr *e)
{
    PipeRead *r = arg;
    return pipe_read_expr(r, ir_expr_copy(r->p->f, e));
}

static void pipe_read_copies(PipeRead *r, IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        if (st->kind == IR_COPY && pipe_is_staged(r->p, st->copy.src))
            st->copy.src_origin[0] = ir_binary(r->p->f, IR_ADD, st->copy.src_origin[0],
                                               pipe_stage_offset(r->p->f, st->copy.src, r->stage, false));
        pipe_read_copies(r, &st->body);
        pipe_read_copies(r, &st->else_body);
    }
}

typedef struct PipeAt {
    IrFunc *f;
    const IrVar *var;         /* the loop's variable */
    const IrExpr *value;      /* the iteration it stands for */
} PipeAt;

static IrExpr *pipe_at_map(void *arg, IrExpr *e)
{
    PipeAt *at = arg;
    return ir_expr_uses(e, at->var) ? ir_substitute(at->f, e, at->var, at->value) : e;
}

static void pipe_rename(IrFunc *f, IrVar *v, const char *suffix)
{
    v->name = arena_printf(f->arena, "%s_%s", v->name, suffix);
}

/* The prefix's lets and fills for iteration `v` (an expression) into stage
 * `stage`: a clone (new variables, named with `suffix`) with the loop's
 * variable replaced by v and each fill moved to its stage. */
static void pipe_clone_prefix(Pipe *p, IrBlock *out, IrExpr *v, IrExpr *stage, const char *suffix)
{
    IrFunc *f = p->f;
    IrStmt *holder = ir_if(f, ir_int(f, ELEM_BOOL, 1), p->loop->origin);
    for (int i = 0; i < p->prefix.len; i++)
        if (p->prefix.items[i]->kind == IR_LET || p->prefix.items[i]->kind == IR_COPY)
            ir_block_push(f, &holder->body, p->prefix.items[i]);
    IrStmt *clone = ir_stmt_clone(f, holder);
    PipeAt at = {f, p->loop->var, v};
    ir_block_map_exprs(&clone->body, pipe_at_map, &at);
    for (int i = 0; i < clone->body.len; i++) {
        IrStmt *st = clone->body.items[i];
        if (st->kind == IR_LET) {
            pipe_rename(f, st->var, suffix);
        } else {
            IrCopy *cp = &st->copy;
            cp->dst_origin[0] =
                ir_binary(f, IR_ADD, cp->dst_origin[0], pipe_stage_offset(f, cp->dst, stage, false));
            for (int d = 0; cp->guard && d < cp->ndims; d++)
                pipe_rename(f, cp->index[d], suffix);
        }
        ir_block_push(f, out, st);
    }
}

/* v - lo + k (the iteration's number, k ahead). */
static IrExpr *pipe_iter(IrFunc *f, const IrStmt *loop, int64_t k)
{
    int64_t lo = 1;
    IrExpr *n = ir_ref(f, loop->var);
    if (!ir_const_int(loop->lo, &lo) || lo != 0)
        n = ir_binary(f, IR_SUB, n, ir_expr_copy(f, loop->lo));
    return k ? ir_binary(f, IR_ADD, n, ir_index(f, k)) : n;
}

static IrStmt *pipe_barrier(Pipe *p, Span at)
{
    IrStmt *b = ir_barrier(p->f, at);
    b->pending = p->loop->stages - 2;
    return b;
}

/* Rebuilds the loop at parent->items[at]; returns the statements put before it. */
static int pipe_rewrite(Pipe *p, IrBlock *parent, int at)
{
    IrFunc *f = p->f;
    IrStmt *loop = p->loop;
    int64_t S = loop->stages;
    Arena *a = f->arena;
    IrBlock before = {0}, body = {0};
    for (int i = 0; i < p->prefix.len; i++)
        if (p->prefix.items[i]->kind == IR_ALLOC)
            ir_block_push(f, &before, p->prefix.items[i]);
    /* prologue: iterations 0 .. S-2 */
    for (int64_t k = 0; k + 1 < S; k++) {
        IrExpr *in_range = ir_binary(f, IR_LT, ir_index(f, k), ir_expr_copy(f, loop->extent));
        IrStmt *g = ir_if(f, in_range, loop->origin);
        IrExpr *v = ir_binary(f, IR_ADD, ir_expr_copy(f, loop->lo), ir_index(f, k));
        pipe_clone_prefix(p, &g->body, v, ir_index(f, k), arena_printf(a, "p%lld", (long long)k));
        if (k > 0)
            ir_block_push(f, &before, pipe_barrier(p, loop->origin));
        ir_block_push(f, &before, g);
    }
    /* the body: prefix lets, stage, barrier, next fills, the rest */
    for (int i = 0; i < p->prefix.len; i++)
        if (p->prefix.items[i]->kind == IR_LET)
            ir_block_push(f, &body, p->prefix.items[i]);
    IrVar *stage = ir_var_new(f, arena_printf(a, "%s_stage", loop->var->name), ELEM_I64, IR_VAR_LET);
    ir_block_push(f, &body, ir_let(f, stage, ir_binary(f, IR_FLOORMOD, pipe_iter(f, loop, 0), ir_index(f, S)),
                                   loop->origin));
    IrStmt *wait = loop->body.items[p->first];
    wait->pending = S - 2;
    ir_block_push(f, &body, wait);
    IrVar *next = ir_var_new(f, arena_printf(a, "%s_next_stage", loop->var->name), ELEM_I64, IR_VAR_LET);
    IrExpr *next_value = ir_binary(f, IR_FLOORMOD, pipe_iter(f, loop, S - 1), ir_index(f, S));
    ir_block_push(f, &body, ir_let(f, next, next_value, loop->origin));
    IrExpr *ahead_in_range = ir_binary(f, IR_LT, pipe_iter(f, loop, S - 1), ir_expr_copy(f, loop->extent));
    IrStmt *g = ir_if(f, ahead_in_range, loop->origin);
    IrExpr *v = ir_binary(f, IR_ADD, ir_ref(f, loop->var), ir_index(f, S - 1));
    pipe_clone_prefix(p, &g->body, v, ir_ref(f, next), "next");
    ir_block_push(f, &body, g);
    IrBlock rest = {0};
    int end = loop->body.len;
    if (end > p->first + 1 && loop->body.items[end - 1]->kind == IR_BARRIER)
        end--;
    for (int i = p->first + 1; i < end; i++)
        ir_block_push(f, &rest, loop->body.items[i]);
    PipeRead r = {p, ir_ref(f, stage)};
    ir_block_map_exprs(&rest, pipe_read_map, &r);
    pipe_read_copies(&r, &rest);
    for (int i = 0; i < rest.len; i++)
        ir_block_push(f, &body, rest.items[i]);
    loop->body = body;
    for (int i = 0; i < before.len; i++)
        ir_block_insert(f, parent, at + i, before.items[i]);
    return before.len;
}

/* Pipelines every loop with stages in b, innermost first. */
void spmd_pipeline(IrFunc *f, IrBlock *b)
{
    for (int i = 0; i < b->len; i++) {
        IrStmt *st = b->items[i];
        spmd_pipeline(f, &st->body);
        spmd_pipeline(f, &st->else_body);
        if (st->kind != IR_LOOP || st->stages < 2)
            continue;
        Pipe p = {.f = f, .loop = st};
        if (pipe_match(&p))
            i += pipe_rewrite(&p, b, i);
    }
}
