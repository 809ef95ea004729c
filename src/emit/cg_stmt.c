/* Statements of the emitter (cg.h): exits and the heap, buffers (IR_ALLOC),
 * loops (serial, unrolled, vectorized; cpu.c outlines the parallel ones;
 * versioned loops arrive as two copies from the CPU step version, version.c),
 * stores, ifs, and the statement and block dispatch. The semantics
 * are in cpu.c's header comment ("loops", "buffers", "Vector code"). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emit/cg.h"
#include "lower/flatten.h"
#include "runtime/accl.h"

enum {
    CPU_STACK_LIMIT = 64 * 1024,   /* caches up to this many bytes are allocas */
    GPU_UNROLL_REGISTER_LOOPS = 64,   /* device code: loops over register caches unroll, */
    GPU_UNROLL_REGISTER_WEIGHT = 4096,   /* up to this many statements unrolled */
};

/* ---- exits and heap ------------------------------------------------------- */

LLVMValueRef cg_fn_free(Cg *cg, LLVMValueRef p)
{
    LLVMTypeRef pt = cg->ptr;
    return cg_call_c(cg, "free", LLVMVoidTypeInContext(cg->c), &pt, 1, &p);
}

static LLVMValueRef fn_malloc(Cg *cg, LLVMValueRef bytes)
{
    LLVMTypeRef it = cg->i64;
    return cg_call_c(cg, "malloc", cg->ptr, &it, 1, &bytes);
}

/* Returns `code` from the current function: frees the `var`s in scope of this
 * function, then branches to its exit block (the current block is done). */
void cg_emit_return(Cg *cg, LLVMValueRef code)
{
    for (int i = cg->nheap - 1; i >= cg->fn.heap_base; i--)
        cg_fn_free(cg, cg->heap[i]);
    LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b);
    LLVMAddIncoming(cg->fn.ret_phi, &code, &from, 1);
    LLVMBuildBr(cg->b, cg->fn.exit);
}

/* if (p == NULL) return ACCL_ERR_OUT_OF_MEMORY; */
static void check_alloc(Cg *cg, LLVMValueRef p)
{
    LLVMBasicBlockRef bad = cg_new_block(cg, "oom"), ok = cg_new_block(cg, "alloc.ok");
    LLVMBuildCondBr(cg->b, LLVMBuildIsNull(cg->b, p, ""), bad, ok);
    LLVMPositionBuilderAtEnd(cg->b, bad);
    cg_emit_return(cg, LLVMConstInt(cg->i32, ACCL_ERR_OUT_OF_MEMORY, 0));
    LLVMPositionBuilderAtEnd(cg->b, ok);
}

/* ---- buffers -------------------------------------------------------------- */

/* The element count of b's storage: the dims (from cg_eval_dims, which
 * already stretches a pipelined cache's outermost one over its stages), the
 * innermost padded. */
static LLVMValueRef buffer_count(Cg *cg, const IrBuffer *b, LLVMValueRef *dims)
{
    LLVMValueRef n = LLVMConstInt(cg->i64, 1, 0);
    for (int d = 0; d < b->ndims; d++) {
        LLVMValueRef ext = dims[d];
        if (d == b->ndims - 1 && b->pad)
            ext = LLVMBuildAdd(cg->b, ext, LLVMConstInt(cg->i64, (unsigned long long)b->pad, 0), "");
        n = LLVMBuildMul(cg->b, n, ext, "");
    }
    return n;
}

bool cg_const_dims(const IrBuffer *b, int64_t *out)
{
    for (int d = 0; d < b->ndims; d++)
        if (!ir_const_int(b->dims[d], &out[d]))
            return false;
    return true;
}

LLVMValueRef *cg_eval_dims(Cg *cg, const IrBuffer *b)
{
    LLVMValueRef *dims = calloc((size_t)b->ndims + 1, sizeof *dims);
    if (!dims)
        abort();
    for (int d = 0; d < b->ndims; d++)
        dims[d] = cg_scalar(cg, b->dims[d]);
    /* a pipelined cache's stages extend its outermost dimension (flatten.h) */
    int64_t cd[64];
    if (b->stages > 1 && b->ndims >= 1 && b->ndims <= 64 && cg_const_dims(b, cd))
        dims[0] = LLVMConstInt(cg->i64, (unsigned long long)(flatten_stage_rows(b, cd) * b->stages -
                                                              (b->ndims == 1 ? b->pad : 0)), 0);
    free(cg->bufdims[b->id]);
    cg->bufdims[b->id] = dims;
    return dims;
}

/* alloc: see cpu.c's header comment for where each kind of buffer lives. */
static void emit_alloc(Cg *cg, const IrBuffer *b)
{
    LLVMValueRef *dims = cg_eval_dims(cg, b);
    if (cg->hooks && cg->hooks->alloc(cg, b))
        return;
    int64_t cd[64];
    bool is_const = b->ndims <= 64 && cg_const_dims(b, cd);
    int64_t esize = elem_type_bytes(b->elem);
    if (b->mem != IR_MEM_GLOBAL && is_const) {
        int64_t count = flatten_count(b, cd);
        if (count < 1)
            count = 1;
        if (count * esize <= CPU_STACK_LIMIT) {
            LLVMTypeRef at = LLVMArrayType2(cg_mem_type(cg, b->elem), (uint64_t)count);
            LLVMValueRef a = LLVMBuildAlloca(cg->ab, at, b->name);
            LLVMSetAlignment(a, 64);
            cg->bufp[b->id] = a;
            return;
        }
        /* Once per function call, on first use; freed at the function's exit. */
        LLVMValueRef slot = LLVMBuildAlloca(cg->ab, cg->ptr, "");
        LLVMBuildStore(cg->ab, LLVMConstNull(cg->ptr), slot);
        cg->fn.slots = cg_grow(cg->fn.slots, &cg->fn.capslots, cg->fn.nslots + 1, sizeof(LLVMValueRef));
        cg->fn.slots[cg->fn.nslots++] = slot;
        LLVMValueRef p = LLVMBuildLoad2(cg->b, cg->ptr, slot, "");
        LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b);
        LLVMBasicBlockRef mk = cg_new_block(cg, "cache.alloc"), done = cg_new_block(cg, "cache.ok");
        LLVMBuildCondBr(cg->b, LLVMBuildIsNull(cg->b, p, ""), mk, done);
        LLVMPositionBuilderAtEnd(cg->b, mk);
        LLVMValueRef q = fn_malloc(cg, LLVMConstInt(cg->i64, (unsigned long long)(count * esize), 0));
        check_alloc(cg, q);
        LLVMBuildStore(cg->b, q, slot);
        LLVMBasicBlockRef mk_end = LLVMGetInsertBlock(cg->b);
        LLVMBuildBr(cg->b, done);
        LLVMPositionBuilderAtEnd(cg->b, done);
        LLVMValueRef phi = LLVMBuildPhi(cg->b, cg->ptr, b->name);
        LLVMValueRef vals[2] = {p, q};
        LLVMBasicBlockRef bbs[2] = {from, mk_end};
        LLVMAddIncoming(phi, vals, bbs, 2);
        cg->bufp[b->id] = phi;
        return;
    }
    if (b->mem != IR_MEM_GLOBAL)
        cg_error(cg, "a cache of non-constant size");
    LLVMValueRef bytes = LLVMBuildMul(cg->b, buffer_count(cg, b, dims),
                                      LLVMConstInt(cg->i64, (unsigned long long)esize, 0), "");
    /* malloc(0) may be NULL: ask for at least one byte. */
    bytes = cg_int_minmax(cg, false, bytes, LLVMConstInt(cg->i64, 1, 0), ELEM_I64);
    LLVMValueRef p = fn_malloc(cg, bytes);
    check_alloc(cg, p);
    cg->heap = cg_grow(cg->heap, &cg->capheap, cg->nheap + 1, sizeof(LLVMValueRef));
    cg->heap[cg->nheap++] = p;
    cg->bufp[b->id] = p;
}

/* ---- statements ---------------------------------------------------------- */


/* A phi loop: for (k = 0; k < extent; k++) { var = lo + k; body(k) }. */
void cg_counted_loop(Cg *cg, LLVMValueRef lo, LLVMValueRef extent, LoopBody body,
                              const void *arg)
{
    LLVMBasicBlockRef pre = LLVMGetInsertBlock(cg->b);
    LLVMBasicBlockRef head = cg_new_block(cg, "loop"), bodyb = cg_new_block(cg, "body"),
                      exit = cg_new_block(cg, "loop.end");
    LLVMBuildBr(cg->b, head);
    LLVMPositionBuilderAtEnd(cg->b, head);
    LLVMValueRef k = LLVMBuildPhi(cg->b, cg->i64, "k");
    LLVMValueRef zero = LLVMConstInt(cg->i64, 0, 0);
    LLVMAddIncoming(k, &zero, &pre, 1);
    LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntSLT, k, extent, ""), bodyb, exit);
    LLVMPositionBuilderAtEnd(cg->b, bodyb);
    (void)lo;
    body(cg, arg, k);
    LLVMValueRef next = LLVMBuildAdd(cg->b, k, LLVMConstInt(cg->i64, 1, 0), "");
    LLVMBasicBlockRef latch = LLVMGetInsertBlock(cg->b);
    LLVMAddIncoming(k, &next, &latch, 1);
    LLVMBuildBr(cg->b, head);
    LLVMPositionBuilderAtEnd(cg->b, exit);
}

void cg_loop_body(Cg *cg, const void *arg, LLVMValueRef k)
{
    const LoopArg *la = arg;
    cg_bind_loop_var(cg, la->s, &la->lo, k, 0, false);
    cg_block(cg, &la->s->body);
    cg_unbind_var(cg, la->s->var);
}

static void emit_unrolled(Cg *cg, const IrStmt *s, const Lin *lo, int64_t extent)
{
    for (int64_t k = 0; k < extent; k++) {
        cg_bind_loop_var(cg, s, lo, NULL, k, false);
        cg_block(cg, &s->body);
    }
    cg_unbind_var(cg, s->var);
}

/* Whether a vectorized loop's body can be emitted as vector code (see
 * cpu.c's header comment); strides of its lets are recorded in cg->stride. */
static bool vectorizable_block(Cg *cg, const IrBlock *blk)
{
    for (int i = 0; i < blk->len; i++) {
        const IrStmt *s = blk->items[i];
        switch (s->kind) {
        case IR_LET:
            cg->stride[s->var->id] = cg_expr_stride(cg, s->value);
            break;
        case IR_STORE:
            if (s->nidx != 1 || cg_expr_stride(cg, s->idx[0]) == 0)
                return false;
            break;
        case IR_IF:
            if (!vectorizable_block(cg, &s->body) || !vectorizable_block(cg, &s->else_body))
                return false;
            break;
        case IR_LOOP:
            if (s->loop_kind == IR_PARALLEL || s->loop_kind == IR_BOUND ||
                cg_expr_stride(cg, s->lo) != 0 || cg_expr_stride(cg, s->extent) != 0)
                return false;
            cg->stride[s->var->id] = 0;
            if (!vectorizable_block(cg, &s->body))
                return false;
            break;
        case IR_BARRIER: break;
        default: return false;
        }
    }
    return true;
}

static void emit_vectorized(Cg *cg, const IrStmt *s, const Lin *lo, int64_t extent)
{
    bool vec = cg->lanes == 0 && extent > 1 && extent <= 1024;
    if (vec) {
        for (int i = 0; i < cg->f->nvars; i++)
            cg->stride[i] = 0;
        cg->stride[s->var->id] = 1;
        vec = vectorizable_block(cg, &s->body);
    }
    if (!vec) {
        emit_unrolled(cg, s, lo, extent);
        return;
    }
    cg->lanes = (int)extent;
    cg_bind_loop_var(cg, s, lo, NULL, 0, true);
    cg_block(cg, &s->body);
    cg_unbind_var(cg, s->var);
    cg->lanes = 0;
    cg->mask = NULL;
}

static bool expr_uses_registers(const IrExpr *e)
{
    if (e->kind == IR_LOAD && e->buf->mem == IR_MEM_REGISTERS)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (expr_uses_registers(e->args[i]))
            return true;
    return false;
}

/* Whether blk accesses a register cache (at any depth). */
static bool block_uses_registers(const IrBlock *blk)
{
    for (int i = 0; i < blk->len; i++) {
        const IrStmt *s = blk->items[i];
        bool uses = false;
        switch (s->kind) {
        case IR_STORE:
            uses = s->buf->mem == IR_MEM_REGISTERS || expr_uses_registers(s->value);
            for (int k = 0; k < s->nidx; k++)
                uses = uses || expr_uses_registers(s->idx[k]);
            break;
        case IR_LET: uses = expr_uses_registers(s->value); break;
        case IR_IF: uses = expr_uses_registers(s->cond); break;
        case IR_COPY: uses = s->copy.dst->mem == IR_MEM_REGISTERS || s->copy.src->mem == IR_MEM_REGISTERS; break;
        default: break;
        }
        if (uses || block_uses_registers(&s->body) || block_uses_registers(&s->else_body))
            return true;
    }
    return false;
}

/* Statements of blk once unrolled: loops count extent times their body (a
 * non-constant extent as `limit`); stops counting past limit. */
static int64_t block_weight(const IrBlock *blk, int64_t limit)
{
    int64_t w = 0;
    for (int i = 0; i < blk->len && w <= limit; i++) {
        const IrStmt *s = blk->items[i];
        int64_t n = 1;
        if (s->kind == IR_LOOP && (!ir_const_int(s->extent, &n) || n > limit))
            n = limit + 1;
        int64_t inner = block_weight(&s->body, limit) + block_weight(&s->else_body, limit);
        w += 1 + (n > 0 && inner > limit / n ? limit + 1 : n * inner);
    }
    return w;
}

static void emit_loop(Cg *cg, const IrStmt *s)
{
    Lin lo;
    cg_lin_of(cg, s->lo, &lo);
    LLVMValueRef extent = cg_scalar(cg, s->extent);
    int64_t n;
    bool is_const = ir_const_int(s->extent, &n);
    switch (s->loop_kind) {
    case IR_BOUND:
        if (cg->hooks)
            cg->hooks->bound_loop(cg, s, &lo);
        else
            cg_error(cg, "a loop bound to GPU hardware on the CPU");
        return;
    case IR_UNROLLED:
        if (is_const) {
            emit_unrolled(cg, s, &lo, n);
            return;
        }
        break;
    case IR_VECTORIZED:
        if (is_const) {
            emit_vectorized(cg, s, &lo, n);
            return;
        }
        break;
    case IR_PARALLEL:
        if (cg->lanes == 0 && !cg->hooks) {
            cg_emit_parallel(cg, s, &lo, extent);
            return;
        }
        break;
    default: break;
    }
    /* Device code: register caches live in registers only at constant
     * offsets, so short loops over them unroll here (LLVM's unroller may
     * find the body too large). */
    if (cg->hooks && cg->lanes == 0 && is_const && n <= GPU_UNROLL_REGISTER_LOOPS &&
        n * block_weight(&s->body, GPU_UNROLL_REGISTER_WEIGHT) <= GPU_UNROLL_REGISTER_WEIGHT &&
        block_uses_registers(&s->body)) {
        emit_unrolled(cg, s, &lo, n);
        return;
    }
    LoopArg la = {s, lo};
    cg_counted_loop(cg, NULL, extent, cg_loop_body, &la);
}

static void emit_store(Cg *cg, const IrStmt *s)
{
    if (s->nidx != 1) {
        cg_error(cg, "a store that is not flattened");
        return;
    }
    Lin li;
    cg_lin_of(cg, s->idx[0], &li);
    LLVMValueRef v = cg_expr(cg, s->value);
    v = cg_convert(cg, v, s->value->type, s->buf->elem);
    cg_emit_store_value(cg, s->buf, &li, v);
}

static void emit_if(Cg *cg, const IrStmt *s)
{
    LLVMValueRef c = cg_to_bool(cg, cg_expr(cg, s->cond), s->cond->type);
    if (cg_lanes_of(c)) {
        LLVMValueRef outer = cg->mask;
        cg->mask = cg_arm_mask(cg, outer, c, true);
        cg_block(cg, &s->body);
        if (s->else_body.len) {
            cg->mask = cg_arm_mask(cg, outer, c, false);
            cg_block(cg, &s->else_body);
        }
        cg->mask = outer;
        return;
    }
    LLVMBasicBlockRef then_b = cg_new_block(cg, "then"), else_b = cg_new_block(cg, "else"),
                      done = cg_new_block(cg, "endif");
    LLVMBuildCondBr(cg->b, c, then_b, else_b);
    LLVMPositionBuilderAtEnd(cg->b, then_b);
    cg_block(cg, &s->body);
    LLVMBuildBr(cg->b, done);
    LLVMPositionBuilderAtEnd(cg->b, else_b);
    cg_block(cg, &s->else_body);
    LLVMBuildBr(cg->b, done);
    LLVMPositionBuilderAtEnd(cg->b, done);
}

/* ---- dispatch ------------------------------------------------------------ */

void cg_stmt(Cg *cg, const IrStmt *s)
{
    switch (s->kind) {
    case IR_LOOP: emit_loop(cg, s); break;
    case IR_STORE: emit_store(cg, s); break;
    case IR_LET:
        if (s->value->type == ELEM_I64) {
            Lin l;
            cg_lin_of(cg, s->value, &l);
            cg_set_lin(cg, s->var, &l);
            cg->vars[s->var->id] = cg_lin(cg, &l);
        } else {
            cg->vars[s->var->id] = cg_expr(cg, s->value);
        }
        break;
    case IR_IF: emit_if(cg, s); break;
    case IR_ALLOC: emit_alloc(cg, s->buf); break;
    case IR_COPY:
        if (cg->hooks)
            cg->hooks->copy(cg, s);
        else
            cg_emit_copy(cg, s);
        break;
    case IR_BARRIER:
        /* CPU: one thread runs the whole block's work */
        if (cg->hooks)
            cg->hooks->barrier(cg, s);
        break;
    }
}

/* A block: its `var`s are freed at its end, and its lets and buffers go out
 * of scope (so that nothing later, an outlined loop's context above all, can
 * use a value that does not dominate it). */
void cg_block(Cg *cg, const IrBlock *blk)
{
    int heap = cg->nheap;
    for (int i = 0; i < blk->len; i++)
        cg_stmt(cg, blk->items[i]);
    while (cg->nheap > heap)
        cg_fn_free(cg, cg->heap[--cg->nheap]);
    for (int i = 0; i < blk->len; i++) {
        const IrStmt *s = blk->items[i];
        if (s->kind == IR_LET)
            cg_unbind_var(cg, s->var);
        else if (s->kind == IR_ALLOC) {
            cg->bufp[s->buf->id] = NULL;
            free(cg->bufdims[s->buf->id]);
            cg->bufdims[s->buf->id] = NULL;
        }
    }
}
