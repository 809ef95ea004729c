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
 * kernel, emission goes on with placeholder values, and the result is false.
 *
 * Files. This one holds the small helpers and the functions: K.body, the
 * outlined K.par<N>, parameters. The emitter proper is behind cg.h, one idea
 * a file: cg_expr.c (f16 and bf16, conversions, expressions, memory
 * accesses), cg_index.c (strides in the vector loop variable, linear index
 * arithmetic), cg_stmt.c (exits and heap, buffers, statements),
 * cg_copy.c (copies). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>

#include "emit/cg.h"
#include "runtime/accl.h"

/* ---- small helpers ------------------------------------------------------ */

void cg_error(Cg *cg, const char *what)
{
    if (cg->ok)
        diag_error(cg->d, cg->f->span,
                   "internal error: cannot emit %s code for '%s': %s", cg->hooks ? "GPU" : "CPU",
                   cg->f->name, what);
    cg->ok = false;
}

void *cg_grow(void *p, int *cap, int need, size_t size)
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
    cg_emit_return(cg, LLVMConstInt(cg->i32, ACCL_OK, 0));
    LLVMPositionBuilderAtEnd(cg->b, cg->fn.exit);
    for (int i = 0; i < cg->fn.nslots; i++)
        cg_fn_free(cg, LLVMBuildLoad2(cg->b, cg->ptr, cg->fn.slots[i], ""));
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
void cg_emit_parallel(Cg *cg, const IrStmt *s, const Lin *lin_lo, LLVMValueRef extent)
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
    snprintf(name, sizeof name, "%s.par%d", f->name, cg->npar++);
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
    cg_emit_return(cg, err);
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
    cg_counted_loop(cg, NULL, LLVMBuildSub(cg->b, to, from, ""), cg_loop_body, &la);
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
    int n = f->nparams + f->nsizes;
    LLVMTypeRef *params = calloc((size_t)n + 1, sizeof *params);
    if (!params)
        abort();
    int at = 0;
    for (int p = 0; p < f->nparams; p++)
        params[at++] = f->params[p].buf ? cg->ptr : cg_reg_type(cg, f->params[p].var->type);
    for (int i = 0; i < f->nsizes; i++)
        params[at++] = cg->i64;
    char name[256];
    snprintf(name, sizeof name, "%s.body", f->name);
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
    unsigned at = 0;
    for (int p = 0; p < f->nparams; p++) {
        const IrParam *ip = &f->params[p];
        LLVMValueRef v = LLVMGetParam(fn, at++);
        LLVMSetValueName2(v, ip->name, strlen(ip->name));
        if (ip->buf)
            cg->bufp[ip->buf->id] = v;
        else
            cg->vars[ip->var->id] = v;
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
