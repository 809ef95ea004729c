/* CPU code generation: the loop IR (after the whole pass list: flattened, one
 * index per access) to LLVM IR, one internal function K.body per kernel.
 *
 *   i32 K.body(ptr T0, ..., scalars by value, ..., i64 size0, ...)
 *
 * returns ACCL_OK or ACCL_ERR_OUT_OF_MEMORY. The generated code does exactly
 * what src/run/interp.c does with the same IR (the semantics are the IR's):
 *
 *   values    integers at their width (i1 for bool), f32 in float, f64 in
 *             double, f16/bf16 as i16 bits (IR casts widen them; arithmetic on
 *             them is done in float and rounded back, as the interpreter does)
 *   memory    loads and stores through a GEP on the element type; bool is a
 *             byte; f16/bf16 are i16
 *   numbers   no undefined behaviour: x/0 = 0, x%0 = x, INT_MIN/-1 wraps (all
 *             by selects); float to integer saturates with NaN giving 0
 *             (llvm.fptosi.sat); float min/max give NaN if either operand is
 *             NaN and otherwise a < b ? a : b, as the interpreter does (so the
 *             sign of a zero result matches too). The only fast-math flag is
 *             `contract` on fmul/fadd/fsub: a*b + c may become one fma, which
 *             the design allows
 *   selects   c ? a : b with a load in an arm evaluates only the arm taken
 *             (ir.h): a branch and a phi, or in vector code each arm under
 *             its lanes' mask; arms that load nothing become one `select`
 *   loops     serial: phi-based; unrolled: the body emitted extent times;
 *             vectorized: the body emitted once with lane-dependent values as
 *             <V x T> (see "Vector code" below); parallel: the body outlined
 *             into K.par<N>(ptr ctx, i64 lo, i64 hi) and run by
 *             accl_parallel_for, with every value it may use in a context
 *             struct on the stack
 *   buffers   `var`s are malloc'd at their alloc and freed at the end of the
 *             enclosing block and on every exit; shared and register caches
 *             (constant sizes) are allocas in the function's entry block when
 *             at most 64 KiB, else one malloc per function call (per parallel
 *             chunk: per thread), made lazily and freed at the function's exit
 *   copies    the box of IrCopy, placed with the layout of src/lower/flatten.h
 *             (padding, swizzle); rows of plain same-type copies by memcpy and
 *             memset; copies touching registers element by element at
 *             constant offsets, so that the register cache stays in registers
 *
 * Vector code. In a vectorized loop over v (constant extent V), the value of
 * every expression that depends on v is a <V x T> vector (lane l is the
 * iteration v = lo + l); others stay scalar and are splatted where they meet
 * a vector. A load or store whose index is v-affine with stride 1 is one
 * vector access (align of the element); another lane-dependent index is a
 * gather or scatter; an `if` on a lane-dependent condition masks what it
 * holds (masked loads and stores; a register buffer blends with a select so
 * that it stays promotable). A loop whose body holds an alloc, a copy, a
 * parallel loop, an inner loop with a lane-dependent extent, or a store to a
 * lane-invariant index is emitted unrolled instead (lanes in order): correct,
 * and rare in schedules.
 *
 * Errors (an IR that cannot be emitted) are compiler bugs: a diagnostic at the
 * kernel, emission goes on with placeholder values, and the result is false. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>

#include "emit/cg.h"
#include "lower/flatten.h"
#include "util/numbers.h"
#include "runtime/accl.h"
#include "util/intmath.h"

enum {
    CPU_STACK_LIMIT = 64 * 1024,   /* caches up to this many bytes are allocas */
    GPU_UNROLL_REGISTER_LOOPS = 64,   /* device code: loops over register caches unroll, */
    GPU_UNROLL_REGISTER_WEIGHT = 4096,   /* up to this many statements unrolled */
};

/* ---- small helpers ------------------------------------------------------ */

void cg_error(Cg *cg, const char *what)
{
    if (cg->ok)
        diag_error(cg->d, cg->f->kernel->name.span,
                   "internal error: cannot emit %s code for '%s': %s", cg->hooks ? "GPU" : "CPU",
                   cg->f->kernel->name.name, what);
    cg->ok = false;
}

static void *cg_grow(void *p, int *cap, int need, size_t size)
{
    if (need <= *cap)
        return p;
    int n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = realloc(p, (size_t)n * size);
    if (!q)
        abort();
    *cap = n;
    return q;
}

LLVMTypeRef cg_reg_type(Cg *cg, ElemType t)
{
    switch (t) {
    case ELEM_BOOL: return cg->i1;
    case ELEM_I8:
    case ELEM_U8: return cg->i8;
    case ELEM_I16:
    case ELEM_F16:
    case ELEM_BF16: return cg->i16;
    case ELEM_I32:
    case ELEM_U32: return cg->i32;
    case ELEM_F32: return cg->f32;
    case ELEM_F64: return cg->f64;
    default: return cg->i64;
    }
}

LLVMTypeRef cg_mem_type(Cg *cg, ElemType t) { return t == ELEM_BOOL ? cg->i8 : cg_reg_type(cg, t); }

int cg_lanes_of(LLVMValueRef v)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? (int)LLVMGetVectorSize(t) : 0;
}

LLVMValueRef cg_splat(Cg *cg, LLVMValueRef v, int lanes)
{
    if (!lanes || cg_lanes_of(v))
        return v;
    LLVMTypeRef vt = LLVMVectorType(LLVMTypeOf(v), (unsigned)lanes);
    if (LLVMIsConstant(v)) {
        LLVMValueRef el[1024];
        for (int i = 0; i < lanes && i < 1024; i++)
            el[i] = v;
        return LLVMConstVector(el, (unsigned)lanes);
    }
    LLVMValueRef one = LLVMBuildInsertElement(cg->b, LLVMGetPoison(vt), v,
                                              LLVMConstInt(cg->i32, 0, 0), "");
    return LLVMBuildShuffleVector(cg->b, one, LLVMGetPoison(vt),
                                  LLVMConstNull(LLVMVectorType(cg->i32, (unsigned)lanes)), "");
}

/* Gives a and b the same shape (splatting the scalar one). */
void cg_unify(Cg *cg, LLVMValueRef *a, LLVMValueRef *b)
{
    int la = cg_lanes_of(*a), lb = cg_lanes_of(*b);
    if (la && !lb)
        *b = cg_splat(cg, *b, la);
    else if (lb && !la)
        *a = cg_splat(cg, *a, lb);
}

/* A constant of scalar type t shaped like `like`. */
LLVMValueRef cg_cst_int(Cg *cg, LLVMTypeRef t, int64_t v, LLVMValueRef like)
{
    return cg_splat(cg, LLVMConstInt(t, (unsigned long long)v, 1), like ? cg_lanes_of(like) : 0);
}

LLVMValueRef cg_cst_real(Cg *cg, LLVMTypeRef t, double v, LLVMValueRef like)
{
    return cg_splat(cg, LLVMConstReal(t, v), like ? cg_lanes_of(like) : 0);
}

LLVMValueRef cg_intrinsic(Cg *cg, const char *name, LLVMTypeRef *over, int nover,
                              LLVMValueRef *args, int nargs)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(cg->mod, id, over, (size_t)nover);
    LLVMTypeRef ft = LLVMIntrinsicGetType(cg->c, id, over, (size_t)nover);
    return LLVMBuildCall2(cg->b, ft, fn, args, (unsigned)nargs, "");
}

/* A C function of the module (declared on first use). */
static LLVMValueRef extern_fn(Cg *cg, const char *name, LLVMTypeRef ft)
{
    LLVMValueRef fn = LLVMGetNamedFunction(cg->mod, name);
    if (!fn)
        fn = LLVMAddFunction(cg->mod, name, ft);
    return fn;
}

LLVMValueRef cg_call_c(Cg *cg, const char *name, LLVMTypeRef ret, LLVMTypeRef *params,
                           int n, LLVMValueRef *args)
{
    LLVMTypeRef ft = LLVMFunctionType(ret, params, (unsigned)n, 0);
    return LLVMBuildCall2(cg->b, ft, extern_fn(cg, name, ft), args, (unsigned)n, "");
}

LLVMBasicBlockRef cg_new_block(Cg *cg, const char *name)
{
    return LLVMAppendBasicBlockInContext(cg->c, cg->fn.fn, name);
}

/* ---- exits and heap ------------------------------------------------------- */

static LLVMValueRef fn_free(Cg *cg, LLVMValueRef p)
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
static void emit_return(Cg *cg, LLVMValueRef code)
{
    for (int i = cg->nheap - 1; i >= cg->fn.heap_base; i--)
        fn_free(cg, cg->heap[i]);
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
    emit_return(cg, LLVMConstInt(cg->i32, ACCL_ERR_OUT_OF_MEMORY, 0));
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

/* alloc: see the header comment for where each kind of buffer lives. */
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

typedef struct LoopArg {
    const IrStmt *s;
    Lin lo;
} LoopArg;

static void loop_body(Cg *cg, const void *arg, LLVMValueRef k)
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

/* Whether a vectorized loop's body can be emitted as vector code (see the
 * header comment); strides of its lets are recorded in cg->stride. */
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

/* ---- versioning: a fast path without the guards that always hold ------------ */

/* Bounds of an i64 value over a loop's iterations, as Lins over values
 * defined before the loop. */
typedef struct Range {
    Lin lo, hi;
    bool ok;
} Range;

typedef struct Versioning {
    Range *vr;                 /* by IrVar.id, for variables declared inside the loop */
    bool *has_vr;
    LLVMValueRef check;        /* i1: every collected guard holds, or NULL */
    const IrStmt **guards;
    int nguards, capguards;
} Versioning;

static Range range_of(Cg *cg, Versioning *vs, const IrExpr *e)
{
    Range r;
    memset(&r, 0, sizeof r);
    if (e->type != ELEM_I64)
        return r;
    switch (e->kind) {
    case IR_INT:
        r.lo.c = r.hi.c = e->ival;
        r.ok = true;
        return r;
    case IR_VARREF:
        if (vs->has_vr[e->var->id])
            return vs->vr[e->var->id];
        if (!cg->vars[e->var->id] || cg_lanes_of(cg->vars[e->var->id]))
            return r;
        if (cg->has_lin[e->var->id])
            r.lo = cg->lin[e->var->id];
        else
            cg_lin_atom(&r.lo, cg->vars[e->var->id]);
        r.hi = r.lo;
        r.ok = true;
        return r;
    case IR_BINARY: {
        if (e->op != IR_ADD && e->op != IR_SUB && e->op != IR_MUL)
            return r;
        Range a = range_of(cg, vs, e->args[0]), b = range_of(cg, vs, e->args[1]);
        if (!a.ok || !b.ok)
            return r;
        if (e->op == IR_MUL) {
            const Range *k = cg_lin_is_const(&b.lo) && cg_lin_is_const(&b.hi) && b.lo.c == b.hi.c ? &b
                             : cg_lin_is_const(&a.lo) && cg_lin_is_const(&a.hi) && a.lo.c == a.hi.c ? &a
                                                                                              : NULL;
            if (!k)
                return r;
            const Range *x = k == &b ? &a : &b;
            int64_t c = k->lo.c;
            r.ok = cg_lin_add(&r.lo, c >= 0 ? &x->lo : &x->hi, c) &&
                   cg_lin_add(&r.hi, c >= 0 ? &x->hi : &x->lo, c);
            return r;
        }
        r.lo = a.lo;
        r.hi = a.hi;
        int sign = e->op == IR_ADD ? 1 : -1;
        r.ok = cg_lin_add(&r.lo, sign > 0 ? &b.lo : &b.hi, sign) &&
               cg_lin_add(&r.hi, sign > 0 ? &b.hi : &b.lo, sign);
        return r;
    }
    default: return r;
    }
}

/* The range of lo + [0, extent) for a loop inside the versioned one: lo's
 * range, an extent that is the same in every iteration. */
static Range loop_range(Cg *cg, Versioning *vs, const IrStmt *s)
{
    Range lo = range_of(cg, vs, s->lo), ext = range_of(cg, vs, s->extent), r;
    memset(&r, 0, sizeof r);
    if (!lo.ok || !ext.ok || ext.lo.n != ext.hi.n || ext.lo.c != ext.hi.c)
        return r;
    for (int i = 0; i < ext.lo.n; i++)
        if (ext.lo.atom[i] != ext.hi.atom[i] || ext.lo.coef[i] != ext.hi.coef[i])
            return r;
    r.lo = lo.lo;
    r.hi = lo.hi;
    r.hi.c -= 1;
    r.ok = cg_lin_add(&r.hi, &ext.lo, 1);
    return r;
}

/* The condition under which `cond` holds in every iteration, or NULL:
 * comparisons of i64 values (a - b bounded away from 0) and their `and`. */
static LLVMValueRef always_true(Cg *cg, Versioning *vs, const IrExpr *cond)
{
    if (cond->kind != IR_BINARY)
        return NULL;
    if (cond->op == IR_AND) {
        LLVMValueRef a = always_true(cg, vs, cond->args[0]);
        LLVMValueRef b = a ? always_true(cg, vs, cond->args[1]) : NULL;
        return b ? LLVMBuildAnd(cg->b, a, b, "") : NULL;
    }
    if (cond->op < IR_LT || cond->op > IR_GE || cond->args[0]->type != ELEM_I64)
        return NULL;
    Range a = range_of(cg, vs, cond->args[0]), b = range_of(cg, vs, cond->args[1]);
    if (!a.ok || !b.ok)
        return NULL;
    /* d = a - b in [a.lo - b.hi, a.hi - b.lo] */
    Lin dlo = a.lo, dhi = a.hi;
    if (!cg_lin_add(&dlo, &b.hi, -1) || !cg_lin_add(&dhi, &b.lo, -1))
        return NULL;
    LLVMValueRef zero = LLVMConstInt(cg->i64, 0, 0);
    switch (cond->op) {
    case IR_LT: return LLVMBuildICmp(cg->b, LLVMIntSLT, cg_lin_scalar(cg, &dhi), zero, "");
    case IR_LE: return LLVMBuildICmp(cg->b, LLVMIntSLE, cg_lin_scalar(cg, &dhi), zero, "");
    case IR_GT: return LLVMBuildICmp(cg->b, LLVMIntSGT, cg_lin_scalar(cg, &dlo), zero, "");
    default: return LLVMBuildICmp(cg->b, LLVMIntSGE, cg_lin_scalar(cg, &dlo), zero, "");
    }
}

static void version_walk(Cg *cg, Versioning *vs, const IrBlock *blk)
{
    for (int i = 0; i < blk->len; i++) {
        const IrStmt *s = blk->items[i];
        if (s->kind == IR_LET) {
            Range r = range_of(cg, vs, s->value);
            vs->vr[s->var->id] = r;
            vs->has_vr[s->var->id] = r.ok;
        } else if (s->kind == IR_LOOP) {
            Range r = loop_range(cg, vs, s);
            vs->vr[s->var->id] = r;
            vs->has_vr[s->var->id] = r.ok;
            version_walk(cg, vs, &s->body);
        } else if (s->kind == IR_IF) {
            LLVMValueRef c = always_true(cg, vs, s->cond);
            if (c) {
                vs->check = vs->check ? LLVMBuildAnd(cg->b, vs->check, c, "") : c;
                vs->guards = cg_grow(vs->guards, &vs->capguards, vs->nguards + 1, sizeof *vs->guards);
                vs->guards[vs->nguards++] = s;
            }
            version_walk(cg, vs, &s->body);
            version_walk(cg, vs, &s->else_body);
        }
    }
}

/* Whether blk holds a serial or parallel loop (at any depth). */
static bool has_serial_loop(const IrBlock *blk)
{
    for (int i = 0; i < blk->len; i++) {
        const IrStmt *s = blk->items[i];
        if (s->kind == IR_LOOP && (s->loop_kind == IR_SERIAL || s->loop_kind == IR_PARALLEL))
            return true;
        if ((s->kind == IR_LOOP || s->kind == IR_IF) &&
            (has_serial_loop(&s->body) || has_serial_loop(&s->else_body)))
            return true;
    }
    return false;
}

static bool is_known(const Cg *cg, const IrStmt *s)
{
    for (int i = 0; i < cg->nknown; i++)
        if (cg->known[i] == s)
            return true;
    return false;
}

/* An innermost serial loop (no serial loop inside) with guards that an
 * affine range analysis can decide before the loop: checked once before it;
 * where they all hold in every iteration, a copy of the loop without them
 * runs (tails of tiles keep the guarded copy). The bounds are computed in
 * i64 like the indices themselves: they assume no index overflows i64. Returns false when the loop
 * has no such guard and was not emitted. */
static bool emit_versioned(Cg *cg, const IrStmt *s, const Lin *lo, LLVMValueRef extent)
{
    /* (not in device code: a guard costs a predicate there, and the copy
     * would double the code) */
    if (cg->lanes || cg->hooks || s->loop_kind != IR_SERIAL || has_serial_loop(&s->body))
        return false;
    const IrFunc *f = cg->f;
    Versioning vs = {0};
    vs.vr = calloc((size_t)f->nvars + 1, sizeof *vs.vr);
    vs.has_vr = calloc((size_t)f->nvars + 1, sizeof *vs.has_vr);
    if (!vs.vr || !vs.has_vr)
        abort();
    Range r;
    memset(&r, 0, sizeof r);
    r.lo = *lo;
    r.hi = *lo;
    Lin ext;
    cg_lin_atom(&ext, extent);
    ext.c = -1;
    r.ok = cg_lin_add(&r.hi, &ext, 1);
    vs.vr[s->var->id] = r;
    vs.has_vr[s->var->id] = r.ok;
    version_walk(cg, &vs, &s->body);
    free(vs.vr);
    free(vs.has_vr);
    if (!vs.check) {
        free(vs.guards);
        return false;
    }
    LLVMBasicBlockRef fast = cg_new_block(cg, "fast"), slow = cg_new_block(cg, "guarded"),
                      done = cg_new_block(cg, "versions.end");
    LLVMBuildCondBr(cg->b, vs.check, fast, slow);
    LLVMPositionBuilderAtEnd(cg->b, fast);
    int known = cg->nknown;
    cg->known = cg_grow(cg->known, &cg->capknown, cg->nknown + vs.nguards, sizeof *cg->known);
    for (int i = 0; i < vs.nguards; i++)
        cg->known[cg->nknown++] = vs.guards[i];
    LoopArg la = {s, *lo};
    cg_counted_loop(cg, NULL, extent, loop_body, &la);
    cg->nknown = known;
    LLVMBuildBr(cg->b, done);
    LLVMPositionBuilderAtEnd(cg->b, slow);
    cg_counted_loop(cg, NULL, extent, loop_body, &la);
    LLVMBuildBr(cg->b, done);
    LLVMPositionBuilderAtEnd(cg->b, done);
    free(vs.guards);
    return true;
}

static void emit_parallel(Cg *cg, const IrStmt *s, const Lin *lo, LLVMValueRef extent);

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
            emit_parallel(cg, s, &lo, extent);
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
    if (emit_versioned(cg, s, &lo, extent))
        return;
    LoopArg la = {s, lo};
    cg_counted_loop(cg, NULL, extent, loop_body, &la);
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
    if (is_known(cg, s)) {
        cg_block(cg, &s->body);
        return;
    }
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
        fn_free(cg, cg->heap[--cg->nheap]);
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

/* ---- functions ----------------------------------------------------------- */

static void set_fn_attrs(Cg *cg, LLVMValueRef fn)
{
    char bits[16];
    snprintf(bits, sizeof bits, "%d", cg->m->vector_bits);
    const char *kv[][2] = {
        {"target-cpu", cg->m->cpu},
        {"target-features", cg->m->features},
        {"min-legal-vector-width", bits},
        {"prefer-vector-width", bits},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        LLVMAttributeRef a = LLVMCreateStringAttribute(cg->c, kv[i][0], (unsigned)strlen(kv[i][0]),
                                                       kv[i][1], (unsigned)strlen(kv[i][1]));
        LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, a);
    }
    unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(cg->c, nounwind, 0));
}

/* Starts emitting into fn: an alloca block, the code block, the exit block. */
void cg_begin_function(Cg *cg, LLVMValueRef fn, LLVMValueRef err_ptr)
{
    memset(&cg->fn, 0, sizeof cg->fn);
    cg->fn.fn = fn;
    cg->fn.err_ptr = err_ptr;
    cg->fn.heap_base = cg->nheap;
    cg->fn.allocas = LLVMAppendBasicBlockInContext(cg->c, fn, "entry");
    LLVMBasicBlockRef code = LLVMAppendBasicBlockInContext(cg->c, fn, "code");
    cg->fn.exit = LLVMAppendBasicBlockInContext(cg->c, fn, "exit");
    LLVMPositionBuilderAtEnd(cg->b, cg->fn.exit);
    cg->fn.ret_phi = LLVMBuildPhi(cg->b, cg->i32, "ret");
    LLVMPositionBuilderAtEnd(cg->ab, cg->fn.allocas);
    LLVMPositionBuilderAtEnd(cg->b, code);
}

/* Ends the function: the normal return (0), the exit block freeing the
 * lazily allocated caches, the branch from the alloca block. */
void cg_end_function(Cg *cg)
{
    emit_return(cg, LLVMConstInt(cg->i32, ACCL_OK, 0));
    LLVMPositionBuilderAtEnd(cg->b, cg->fn.exit);
    for (int i = 0; i < cg->fn.nslots; i++)
        fn_free(cg, LLVMBuildLoad2(cg->b, cg->ptr, cg->fn.slots[i], ""));
    if (cg->fn.err_ptr) {
        LLVMBasicBlockRef set = cg_new_block(cg, "set.err"), done = cg_new_block(cg, "ret");
        LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntNE, cg->fn.ret_phi,
                                             LLVMConstInt(cg->i32, 0, 0), ""), set, done);
        LLVMPositionBuilderAtEnd(cg->b, set);
        LLVMValueRef st = LLVMBuildStore(cg->b, cg->fn.ret_phi, cg->fn.err_ptr);
        LLVMSetOrdering(st, LLVMAtomicOrderingMonotonic);
        LLVMSetAlignment(st, 4);
        LLVMBuildBr(cg->b, done);
        LLVMPositionBuilderAtEnd(cg->b, done);
        LLVMBuildRetVoid(cg->b);
    } else {
        if (cg->fn.void_ret)
            LLVMBuildRetVoid(cg->b);
        else
            LLVMBuildRet(cg->b, cg->fn.ret_phi);
    }
    LLVMPositionBuilderAtEnd(cg->ab, cg->fn.allocas);
    LLVMBuildBr(cg->ab, LLVMGetNextBasicBlock(cg->fn.allocas));
    free(cg->fn.slots);
    cg->fn.slots = NULL;
}

/* What an outlined parallel body receives: every variable and buffer in scope. */
typedef struct Capture {
    LLVMValueRef *vals;
    int n, cap;
} Capture;

static void capture_add(Capture *k, LLVMValueRef v)
{
    k->vals = cg_grow(k->vals, &k->cap, k->n + 1, sizeof(LLVMValueRef));
    k->vals[k->n++] = v;
}

/* for var in [lo, lo+extent) parallel { body }: the body becomes
 * K.par<N>(ctx, from, to), running iterations [from, to); ctx holds the error
 * code (i32, first) and every value in scope, in the order of var ids, then
 * buffer ids (pointer, then dims). accl_parallel_for runs it on the pool. */
static void emit_parallel(Cg *cg, const IrStmt *s, const Lin *lin_lo, LLVMValueRef extent)
{
    LLVMValueRef lo = cg_lin_scalar(cg, lin_lo);
    const IrFunc *f = cg->f;
    Capture k = {0};
    capture_add(&k, LLVMConstInt(cg->i32, 0, 0));
    capture_add(&k, lo);
    for (int i = 0; i < f->nvars; i++)
        if (cg->vars[i])
            capture_add(&k, cg->vars[i]);
    for (int i = 0; i < f->nbuffers; i++) {
        if (!cg->bufp[i])
            continue;
        capture_add(&k, cg->bufp[i]);
        for (int d = 0; cg->bufdims[i] && cg->bufdims[i][d]; d++)
            capture_add(&k, cg->bufdims[i][d]);
    }
    LLVMTypeRef *types = malloc((size_t)k.n * sizeof *types);
    if (!types)
        abort();
    for (int i = 0; i < k.n; i++)
        types[i] = LLVMTypeOf(k.vals[i]);
    LLVMTypeRef st = LLVMStructTypeInContext(cg->c, types, (unsigned)k.n, 0);
    free(types);

    /* The caller's side: fill the context, run, check the error code. */
    LLVMValueRef ctx = LLVMBuildAlloca(cg->ab, st, "par.ctx");
    for (int i = 0; i < k.n; i++)
        LLVMBuildStore(cg->b, k.vals[i], LLVMBuildStructGEP2(cg->b, st, ctx, (unsigned)i, ""));
    char name[256];
    snprintf(name, sizeof name, "%s.par%d", f->kernel->name.name, cg->npar++);
    LLVMTypeRef params[3] = {cg->ptr, cg->i64, cg->i64};
    LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(cg->c), params, 3, 0);
    LLVMValueRef fn = LLVMAddFunction(cg->mod, name, fty);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    set_fn_attrs(cg, fn);
    LLVMTypeRef pf[3] = {cg->ptr, cg->ptr, cg->i64};
    LLVMValueRef args[3] = {fn, ctx, extent};
    cg_call_c(cg, "accl_parallel_for", LLVMVoidTypeInContext(cg->c), pf, 3, args);
    LLVMValueRef errp = LLVMBuildStructGEP2(cg->b, st, ctx, 0, "");
    LLVMValueRef err = LLVMBuildLoad2(cg->b, cg->i32, errp, "par.err");
    LLVMBasicBlockRef bad = cg_new_block(cg, "par.fail"), ok = cg_new_block(cg, "par.ok");
    LLVMBuildCondBr(cg->b, LLVMBuildICmp(cg->b, LLVMIntNE, err, LLVMConstInt(cg->i32, 0, 0), ""), bad, ok);
    LLVMPositionBuilderAtEnd(cg->b, bad);
    emit_return(cg, err);
    LLVMPositionBuilderAtEnd(cg->b, ok);
    LLVMBasicBlockRef resume = ok;

    /* The outlined side: the same tables, reloaded from the context. */
    CgFunc saved_fn = cg->fn;
    LLVMValueRef *saved_vars = cg->vars, *saved_bufp = cg->bufp, **saved_dims = cg->bufdims;
    bool *saved_has_lin = cg->has_lin;
    cg->has_lin = calloc((size_t)f->nvars + 1, sizeof *cg->has_lin);
    cg->vars = calloc((size_t)f->nvars + 1, sizeof *cg->vars);
    cg->bufp = calloc((size_t)f->nbuffers + 1, sizeof *cg->bufp);
    cg->bufdims = calloc((size_t)f->nbuffers + 1, sizeof *cg->bufdims);
    if (!cg->vars || !cg->bufp || !cg->bufdims || !cg->has_lin)
        abort();
    LLVMValueRef pctx = LLVMGetParam(fn, 0);
    cg_begin_function(cg, fn, NULL);
    cg->fn.err_ptr = LLVMBuildStructGEP2(cg->b, st, pctx, 0, "");
    int at = 1;
#define RELOAD() LLVMBuildLoad2(cg->b, LLVMTypeOf(k.vals[at]), \
                                LLVMBuildStructGEP2(cg->b, st, pctx, (unsigned)at, ""), "")
    LLVMValueRef plo = RELOAD();
    at++;
    for (int i = 0; i < f->nvars; i++)
        if (saved_vars[i]) {
            cg->vars[i] = RELOAD();
            at++;
        }
    for (int i = 0; i < f->nbuffers; i++) {
        if (!saved_bufp[i])
            continue;
        cg->bufp[i] = RELOAD();
        at++;
        int nd = 0;
        while (saved_dims[i] && saved_dims[i][nd])
            nd++;
        if (saved_dims[i]) {
            cg->bufdims[i] = calloc((size_t)nd + 1, sizeof(LLVMValueRef));
            if (!cg->bufdims[i])
                abort();
            for (int d = 0; d < nd; d++, at++)
                cg->bufdims[i][d] = RELOAD();
        }
    }
#undef RELOAD
    free(k.vals);
    LLVMValueRef from = LLVMGetParam(fn, 1), to = LLVMGetParam(fn, 2);
    LoopArg la = {.s = s};
    cg_lin_atom(&la.lo, LLVMBuildAdd(cg->b, plo, from, ""));
    cg_counted_loop(cg, NULL, LLVMBuildSub(cg->b, to, from, ""), loop_body, &la);
    cg_end_function(cg);
    for (int i = 0; i < f->nbuffers; i++)
        free(cg->bufdims[i]);
    free(cg->bufdims);
    free(cg->vars);
    free(cg->bufp);
    free(cg->has_lin);
    cg->has_lin = saved_has_lin;
    cg->vars = saved_vars;
    cg->bufp = saved_bufp;
    cg->bufdims = saved_dims;
    cg->fn = saved_fn;
    LLVMPositionBuilderAtEnd(cg->b, resume);
    LLVMPositionBuilderAtEnd(cg->ab, cg->fn.allocas);
}

/* K.body's parameters: tensors and scalars in declaration order, then sizes. */
static LLVMValueRef declare_body(Cg *cg)
{
    const IrFunc *f = cg->f;
    const Kernel *k = f->kernel;
    int n = f->ntensors + f->nscalars + f->nsizes;
    LLVMTypeRef *params = calloc((size_t)n + 1, sizeof *params);
    if (!params)
        abort();
    int at = 0, ti = 0, si = 0;
    for (int p = 0; p < k->nparams; p++) {
        if (ast_param_is_buffer(k->params[p])) {
            if (ti < f->ntensors) {
                params[at++] = cg->ptr;
                ti++;
            }
        } else if (si < f->nscalars) {
            params[at++] = cg_reg_type(cg, f->scalars[si++]->type);
        }
    }
    for (int i = 0; i < f->nsizes; i++)
        params[at++] = cg->i64;
    char name[256];
    snprintf(name, sizeof name, "%s.body", k->name.name);
    LLVMValueRef fn = LLVMAddFunction(cg->mod, name, LLVMFunctionType(cg->i32, params, (unsigned)at, 0));
    free(params);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    set_fn_attrs(cg, fn);
    return fn;
}

/* Binds the parameters (in declare_body's order) and the tensors' dims. */
void cg_bind_params(Cg *cg, LLVMValueRef fn)
{
    const IrFunc *f = cg->f;
    const Kernel *k = f->kernel;
    unsigned at = 0;
    int ti = 0, si = 0;
    for (int p = 0; p < k->nparams; p++) {
        if (ast_param_is_buffer(k->params[p])) {
            if (ti < f->ntensors) {
                LLVMValueRef v = LLVMGetParam(fn, at++);
                LLVMSetValueName2(v, f->tensors[ti]->name, strlen(f->tensors[ti]->name));
                cg->bufp[f->tensors[ti++]->id] = v;
            }
        } else if (si < f->nscalars) {
            LLVMValueRef v = LLVMGetParam(fn, at++);
            LLVMSetValueName2(v, f->scalars[si]->name, strlen(f->scalars[si]->name));
            cg->vars[f->scalars[si++]->id] = v;
        }
    }
    for (int i = 0; i < f->nsizes; i++) {
        LLVMValueRef v = LLVMGetParam(fn, at++);
        LLVMSetValueName2(v, f->sizes[i]->name, strlen(f->sizes[i]->name));
        cg->vars[f->sizes[i]->id] = v;
    }
    for (int i = 0; i < f->ntensors; i++)
        cg_eval_dims(cg, f->tensors[i]);
}

bool cg_func_begin(Cg *cg, const IrFunc *f)
{
    cg->f = f;
    cg->ok = true;
    cg->npar = 0;
    if (!f->flat) {
        cg_error(cg, "the IR is not flattened");
        return false;
    }
    cg->vars = calloc((size_t)f->nvars + 1, sizeof *cg->vars);
    cg->stride = calloc((size_t)f->nvars + 1, sizeof *cg->stride);
    cg->lin = calloc((size_t)f->nvars + 1, sizeof *cg->lin);
    cg->has_lin = calloc((size_t)f->nvars + 1, sizeof *cg->has_lin);
    cg->bufp = calloc((size_t)f->nbuffers + 1, sizeof *cg->bufp);
    cg->bufdims = calloc((size_t)f->nbuffers + 1, sizeof *cg->bufdims);
    if (!cg->vars || !cg->stride || !cg->bufp || !cg->bufdims || !cg->lin || !cg->has_lin)
        abort();
    return true;
}

void cg_func_end(Cg *cg)
{
    for (int i = 0; i < cg->f->nbuffers; i++)
        free(cg->bufdims[i]);
    free(cg->bufdims);
    free(cg->vars);
    free(cg->stride);
    free(cg->lin);
    free(cg->has_lin);
    free(cg->known);
    cg->known = NULL;
    cg->nknown = cg->capknown = 0;
    free(cg->bufp);
    free(cg->heap);
    cg->heap = NULL;
    cg->nheap = cg->capheap = 0;
}

static bool emit_one(Cg *cg, const IrFunc *f)
{
    if (!cg_func_begin(cg, f))
        return false;
    LLVMValueRef fn = declare_body(cg);
    cg_begin_function(cg, fn, NULL);
    cg_bind_params(cg, fn);
    cg_block(cg, &f->body);
    cg_end_function(cg);
    cg_func_end(cg);
    return cg->ok;
}

void cg_init(Cg *cg, LLVMModuleRef mod, Diag *d)
{
    memset(cg, 0, sizeof *cg);
    cg->mod = mod;
    cg->d = d;
    cg->c = LLVMGetModuleContext(mod);
    cg->b = LLVMCreateBuilderInContext(cg->c);
    cg->ab = LLVMCreateBuilderInContext(cg->c);
    cg->i1 = LLVMInt1TypeInContext(cg->c);
    cg->i8 = LLVMInt8TypeInContext(cg->c);
    cg->i16 = LLVMInt16TypeInContext(cg->c);
    cg->i32 = LLVMInt32TypeInContext(cg->c);
    cg->i64 = LLVMInt64TypeInContext(cg->c);
    cg->f32 = LLVMFloatTypeInContext(cg->c);
    cg->f64 = LLVMDoubleTypeInContext(cg->c);
    cg->ptr = LLVMPointerTypeInContext(cg->c, 0);
}

void cg_dispose(Cg *cg)
{
    LLVMDisposeBuilder(cg->b);
    LLVMDisposeBuilder(cg->ab);
}

bool emit_cpu_bodies(LLVMModuleRef mod, IrFunc *const *funcs, int n, const EmitMachine *m, Diag *d)
{
    Cg cg;
    cg_init(&cg, mod, d);
    cg.m = m;
    bool ok = true;
    for (int i = 0; i < n; i++)
        ok = emit_one(&cg, funcs[i]) && ok;
    cg_dispose(&cg);
    return ok;
}
