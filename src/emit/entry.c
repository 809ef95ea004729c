/* entry: the public entry points of each kernel K (see emit.h for the module
 * layout), for CPU and GPU targets alike.
 *
 *   int K(params in declaration order, then sizes as int64_t
 *         [, void *stream: GPU targets, where tensors are device pointers])
 *     1. every size >= 0, then every shape entry written as an expression
 *        (H - R + 1) >= 0                                 else ACCL_ERR_BAD_SIZE
 *     2. every tensor pointer non-NULL, unless the tensor
 *        has no elements                                  else ACCL_ERR_NULL
 *     3. every `assume` of the schedule holds             else ACCL_ERR_ASSUME
 *     4. rc = K.body(the same arguments; on a CPU an out or inout scalar is a
 *        private slot, see entry_scalar_slots), then on a CPU, if rc is
 *        ACCL_OK, each slot is copied to the caller's pointer; return rc
 *   The checks run in this order, before any work; the first that fails gives
 *   the result, so nothing is written when one fails. K.body is the kernel
 *   itself on a CPU (cpu.c) and the host stub that launches it on a GPU
 *   (launch.c): both targets share these checks.
 *
 *   int K.packed(void **args)
 *     args[i] points to K's i-th argument (the tensor pointer, the scalar, the
 *     int64_t size, the stream): loads each and calls K. One signature for every kernel,
 *     for the JIT and `accl run`.
 *
 * The C calling convention: tensors are pointers; sizes are i64; scalars have
 * their C types: bool is i1 zeroext, i8/i16 signext, u8 and f16/bf16 (uint16_t
 * bits) zeroext, the rest as they are. K.body takes LLVM's own types; a scalar
 * is converted where they differ (i16 bits to half, for one). */
#include <string.h>

#include "emit/emit.h"
#include "runtime/accl.h"

typedef struct Entry {
    LLVMContextRef cx;
    LLVMBuilderRef b;
    const IrFunc *f;
    LLVMValueRef fn;        /* K */
    LLVMValueRef *args;     /* K's arguments: params, then sizes */
    LLVMTypeRef i64;
} Entry;

/* The C ABI type of a scalar of type t, and the extension attribute it takes
 * ("zeroext", "signext" or NULL). */
static LLVMTypeRef entry_scalar_type(LLVMContextRef cx, ElemType t, const char **ext)
{
    *ext = NULL;
    switch (t) {
    case ELEM_BOOL: *ext = "zeroext"; return LLVMInt1TypeInContext(cx);
    case ELEM_I8: *ext = "signext"; return LLVMInt8TypeInContext(cx);
    case ELEM_U8: *ext = "zeroext"; return LLVMInt8TypeInContext(cx);
    case ELEM_I16: *ext = "signext"; return LLVMInt16TypeInContext(cx);
    case ELEM_F16:
    case ELEM_BF16: *ext = "zeroext"; return LLVMInt16TypeInContext(cx);
    case ELEM_I32:
    case ELEM_U32: return LLVMInt32TypeInContext(cx);
    case ELEM_I64: return LLVMInt64TypeInContext(cx);
    case ELEM_F32: return LLVMFloatTypeInContext(cx);
    case ELEM_F64: return LLVMDoubleTypeInContext(cx);
    default: return LLVMInt64TypeInContext(cx);
    }
}

/* Number of arguments of K: every param, every size, then on a GPU the stream. */
static int entry_nargs(const IrFunc *f)
{
    return f->nparams + f->nsizes + (target_is_gpu(f->target) ? 1 : 0);
}

/* K's argument types, and each one's extension attribute. */
static void entry_types(LLVMContextRef cx, const IrFunc *f, LLVMTypeRef *types, const char **ext)
{
    for (int i = 0; i < f->nparams; i++) {
        ext[i] = NULL;
        types[i] = f->params[i].buf ? LLVMPointerTypeInContext(cx, 0)
                                    : entry_scalar_type(cx, f->params[i].elem, &ext[i]);
    }
    for (int i = 0; i < f->nsizes; i++) {
        types[f->nparams + i] = LLVMInt64TypeInContext(cx);
        ext[f->nparams + i] = NULL;
    }
    if (target_is_gpu(f->target)) {
        types[f->nparams + f->nsizes] = LLVMPointerTypeInContext(cx, 0);
        ext[f->nparams + f->nsizes] = NULL;
    }
}

static LLVMAttributeRef entry_attr(LLVMContextRef cx, const char *name)
{
    return LLVMCreateEnumAttribute(cx, LLVMGetEnumAttributeKindForName(name, strlen(name)), 0);
}

/* The extension attributes on a function's parameters, or a call's arguments. */
static void entry_add_ext(LLVMContextRef cx, LLVMValueRef fn_or_call, bool call, const char **ext,
                          int n)
{
    for (int i = 0; i < n; i++) {
        if (!ext[i])
            continue;
        if (call)
            LLVMAddCallSiteAttribute(fn_or_call, (unsigned)i + 1, entry_attr(cx, ext[i]));
        else
            LLVMAddAttributeAtIndex(fn_or_call, (unsigned)i + 1, entry_attr(cx, ext[i]));
    }
}

/* ---- i64 expressions over sizes, params and literals ----------------- */

static LLVMValueRef entry_const(Entry *e, int64_t v)
{
    return LLVMConstInt(e->i64, (unsigned long long)v, true);
}

/* The language's division on i64: x/0 = 0, x%0 = x, INT64_MIN/-1 wraps,
 * x%-1 = 0 (no undefined behaviour: the divisor LLVM sees is never 0 or -1). */
static LLVMValueRef entry_div(Entry *e, LLVMValueRef a, LLVMValueRef d, bool rem)
{
    LLVMBuilderRef b = e->b;
    LLVMValueRef zero = LLVMBuildICmp(b, LLVMIntEQ, d, entry_const(e, 0), "");
    LLVMValueRef minus1 = LLVMBuildICmp(b, LLVMIntEQ, d, entry_const(e, -1), "");
    LLVMValueRef odd = LLVMBuildOr(b, zero, minus1, "");
    LLVMValueRef safe = LLVMBuildSelect(b, odd, entry_const(e, 1), d, "");
    if (rem) {
        LLVMValueRef r = LLVMBuildSRem(b, a, safe, "");
        r = LLVMBuildSelect(b, minus1, entry_const(e, 0), r, "");
        return LLVMBuildSelect(b, zero, a, r, "");
    }
    LLVMValueRef q = LLVMBuildSDiv(b, a, safe, "");
    q = LLVMBuildSelect(b, minus1, LLVMBuildSub(b, entry_const(e, 0), a, ""), q, "");
    return LLVMBuildSelect(b, zero, entry_const(e, 0), q, "");
}

/* A size's argument or a schedule param's value. */
static LLVMValueRef entry_var(Entry *e, const IrVar *v)
{
    const IrFunc *f = e->f;
    for (int i = 0; i < f->nsizes; i++)
        if (f->sizes[i] == v)
            return e->args[f->nparams + i];
    return entry_const(e, v->value);
}

static LLVMValueRef entry_bool(Entry *e, LLVMValueRef c)
{
    return LLVMBuildZExt(e->b, c, e->i64, "");
}

static LLVMValueRef entry_truth(Entry *e, LLVMValueRef v)
{
    return LLVMBuildICmp(e->b, LLVMIntNE, v, entry_const(e, 0), "");
}

/* A shape entry or an assume, in i64 (comparisons give 0 or 1), with the
 * language's wrapping arithmetic and division. Both sides of && and || are
 * evaluated: they have no effects and cannot trap. */
static LLVMValueRef entry_i64(Entry *e, const IrExpr *x)
{
    LLVMBuilderRef b = e->b;
    switch (x->kind) {
    case IR_INT: return entry_const(e, x->ival);
    case IR_VARREF: return entry_var(e, x->var);
    case IR_UNARY: {
        LLVMValueRef a = entry_i64(e, x->args[0]);
        if (x->op == IR_NOT)
            return entry_bool(e, LLVMBuildICmp(b, LLVMIntEQ, a, entry_const(e, 0), ""));
        return LLVMBuildSub(b, entry_const(e, 0), a, "");
    }
    case IR_BINARY: {
        LLVMValueRef l = entry_i64(e, x->args[0]), r = entry_i64(e, x->args[1]);
        switch (x->op) {
        case IR_ADD: return LLVMBuildAdd(b, l, r, "");
        case IR_SUB: return LLVMBuildSub(b, l, r, "");
        case IR_MUL: return LLVMBuildMul(b, l, r, "");
        case IR_DIV: return entry_div(e, l, r, false);
        case IR_REM: return entry_div(e, l, r, true);
        case IR_EQ: return entry_bool(e, LLVMBuildICmp(b, LLVMIntEQ, l, r, ""));
        case IR_NE: return entry_bool(e, LLVMBuildICmp(b, LLVMIntNE, l, r, ""));
        case IR_LT: return entry_bool(e, LLVMBuildICmp(b, LLVMIntSLT, l, r, ""));
        case IR_LE: return entry_bool(e, LLVMBuildICmp(b, LLVMIntSLE, l, r, ""));
        case IR_GT: return entry_bool(e, LLVMBuildICmp(b, LLVMIntSGT, l, r, ""));
        case IR_GE: return entry_bool(e, LLVMBuildICmp(b, LLVMIntSGE, l, r, ""));
        case IR_AND:
            return entry_bool(e, LLVMBuildAnd(b, entry_truth(e, l), entry_truth(e, r), ""));
        case IR_OR:
            return entry_bool(e, LLVMBuildOr(b, entry_truth(e, l), entry_truth(e, r), ""));
        default: return entry_const(e, 0);
        }
    }
    default: return entry_const(e, 0);
    }
}

/* ---- the checks ------------------------------------------------------- */

/* if (fail) return code; and go on in a new block. */
static void entry_check(Entry *e, LLVMValueRef fail, int code, const char *what)
{
    LLVMBasicBlockRef bad = LLVMAppendBasicBlockInContext(e->cx, e->fn, what);
    LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(e->cx, e->fn, "ok");
    LLVMBuildCondBr(e->b, fail, bad, next);
    LLVMPositionBuilderAtEnd(e->b, bad);
    LLVMBuildRet(e->b, LLVMConstInt(LLVMInt32TypeInContext(e->cx), (unsigned)code, false));
    LLVMPositionBuilderAtEnd(e->b, next);
}

static LLVMValueRef entry_negative(Entry *e, LLVMValueRef v)
{
    return LLVMBuildICmp(e->b, LLVMIntSLT, v, entry_const(e, 0), "");
}

/* 1. Sizes, then the expression entries of every tensor's and var's shape. */
static void entry_check_sizes(Entry *e)
{
    const IrFunc *f = e->f;
    LLVMValueRef bad = LLVMConstInt(LLVMInt1TypeInContext(e->cx), 0, false);
    for (int i = 0; i < f->nsizes; i++)
        bad = LLVMBuildOr(e->b, bad, entry_negative(e, e->args[f->nparams + i]), "");
    for (int i = 0; i < f->nshape_checks; i++)
        bad = LLVMBuildOr(e->b, bad, entry_negative(e, entry_i64(e, f->shape_checks[i])), "");
    entry_check(e, bad, ACCL_ERR_BAD_SIZE, "bad_size");
}

/* 2. A NULL tensor pointer with a nonzero element count (every entry nonzero;
 * entries are >= 0 here). */
static void entry_check_nulls(Entry *e)
{
    const IrFunc *f = e->f;
    LLVMValueRef bad = LLVMConstInt(LLVMInt1TypeInContext(e->cx), 0, false);
    for (int i = 0; i < f->nparams; i++) {
        const IrBuffer *buf = f->params[i].buf;
        if (!buf)
            continue;
        LLVMValueRef null = LLVMBuildIsNull(e->b, e->args[i], "");
        for (int d = 0; d < buf->ndims; d++)
            null = LLVMBuildAnd(e->b, null, entry_truth(e, entry_i64(e, buf->dims[d])), "");
        bad = LLVMBuildOr(e->b, bad, null, "");
    }
    entry_check(e, bad, ACCL_ERR_NULL, "null");
}

/* 3. The schedule's assumes. */
static void entry_check_assumes(Entry *e)
{
    const IrFunc *f = e->f;
    if (f->nassumes == 0)
        return;
    LLVMValueRef bad = LLVMConstInt(LLVMInt1TypeInContext(e->cx), 0, false);
    for (int i = 0; i < f->nassumes; i++) {
        LLVMValueRef v = entry_i64(e, f->assumes[i]);
        bad = LLVMBuildOr(e->b, bad, LLVMBuildICmp(e->b, LLVMIntEQ, v, entry_const(e, 0), ""),
                          "");
    }
    entry_check(e, bad, ACCL_ERR_ASSUME, "assume");
}

/* ---- out and inout scalars (CPU) -------------------------------------- */

/* A scalar the kernel writes is written only when K returns ACCL_OK: on a CPU,
 * K.body computes into a private slot of K's frame (holding the caller's value
 * first for `inout`), and K copies the slot through the caller's pointer after
 * a successful call. On a GPU the pointer is a device pointer that the
 * launches write like an out tensor (see lang/SPEC.md, Calling from C).
 * Returns each param's slot (an alloca in the entry block), or NULL. */
static LLVMValueRef *entry_scalar_slots(Entry *e)
{
    const IrFunc *f = e->f;
    if (target_is_gpu(f->target))
        return NULL;
    LLVMValueRef *slots = ARENA_ARRAY(f->arena, LLVMValueRef, f->nparams + 1);
    for (int i = 0; i < f->nparams; i++) {
        const IrParam *p = &f->params[i];
        if (p->tensor || p->mode == MODE_IN)
            continue;
        LLVMTypeRef ty = LLVMArrayType2(LLVMInt8TypeInContext(e->cx), (uint64_t)elem_type_bytes(p->elem));
        slots[i] = LLVMBuildAlloca(e->b, ty, arena_printf(f->arena, "%s.slot", p->name));
        LLVMSetAlignment(slots[i], 8);
    }
    return slots;
}

static void entry_copy(Entry *e, LLVMValueRef to, LLVMValueRef from, const IrParam *p)
{
    LLVMBuildMemCpy(e->b, to, 1, from, 1, entry_const(e, elem_type_bytes(p->elem)));
}

/* After the checks: K.body gets the slots; an inout slot takes the caller's value. */
static void entry_scalars_in(Entry *e, LLVMValueRef *slots, LLVMValueRef *call_args)
{
    const IrFunc *f = e->f;
    for (int i = 0; slots && i < f->nparams; i++) {
        if (!slots[i])
            continue;
        if (f->params[i].mode == MODE_INOUT)
            entry_copy(e, slots[i], e->args[i], &f->params[i]);
        call_args[i] = slots[i];
    }
}

/* if (rc == ACCL_OK) copy each slot to the caller's pointer. */
static void entry_scalars_out(Entry *e, LLVMValueRef *slots, LLVMValueRef rc)
{
    const IrFunc *f = e->f;
    bool any = false;
    for (int i = 0; slots && i < f->nparams; i++)
        any |= slots[i] != NULL;
    if (!any)
        return;
    LLVMBasicBlockRef store = LLVMAppendBasicBlockInContext(e->cx, e->fn, "store_scalars");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(e->cx, e->fn, "done");
    LLVMValueRef ok = LLVMBuildICmp(e->b, LLVMIntEQ, rc, LLVMConstInt(LLVMTypeOf(rc), ACCL_OK, false), "");
    LLVMBuildCondBr(e->b, ok, store, done);
    LLVMPositionBuilderAtEnd(e->b, store);
    for (int i = 0; i < f->nparams; i++)
        if (slots[i])
            entry_copy(e, e->args[i], slots[i], &f->params[i]);
    LLVMBuildBr(e->b, done);
    LLVMPositionBuilderAtEnd(e->b, done);
}

/* ---- K and K.packed --------------------------------------------------- */

/* v (of K's type) as K.body's parameter type `to`: the same, an integer
 * widened or narrowed (bool), or the same bits (f16 as half). */
static LLVMValueRef entry_convert(Entry *e, LLVMValueRef v, LLVMTypeRef to)
{
    LLVMTypeRef from = LLVMTypeOf(v);
    if (from == to)
        return v;
    bool from_int = LLVMGetTypeKind(from) == LLVMIntegerTypeKind;
    bool to_int = LLVMGetTypeKind(to) == LLVMIntegerTypeKind;
    if (from_int && to_int) {
        unsigned fw = LLVMGetIntTypeWidth(from), tw = LLVMGetIntTypeWidth(to);
        if (tw == 1)
            return entry_truth(e, LLVMBuildZExt(e->b, v, e->i64, ""));
        return fw < tw ? LLVMBuildZExt(e->b, v, to, "") : LLVMBuildTrunc(e->b, v, to, "");
    }
    return LLVMBuildBitCast(e->b, v, to, "");
}

static const char *entry_arg_name(const IrFunc *f, int i)
{
    if (i == f->nparams + f->nsizes)
        return "stream";
    return i < f->nparams ? f->params[i].name : f->sizes[i - f->nparams]->name;
}

/* K.body, declared with K's own types if cpu.c has not defined it. */
static LLVMValueRef entry_body(LLVMModuleRef mod, const char *name, LLVMTypeRef kty)
{
    LLVMValueRef body = LLVMGetNamedFunction(mod, name);
    return body ? body : LLVMAddFunction(mod, name, kty);
}

static void entry_emit_k(LLVMModuleRef mod, LLVMContextRef cx, const IrFunc *f, LLVMValueRef *args)
{
    int n = entry_nargs(f);
    LLVMTypeRef *types = ARENA_ARRAY(f->arena, LLVMTypeRef, n + 1);
    const char **ext = ARENA_ARRAY(f->arena, const char *, n + 1);
    entry_types(cx, f, types, ext);
    LLVMTypeRef i32 = LLVMInt32TypeInContext(cx);
    LLVMTypeRef kty = LLVMFunctionType(i32, types, (unsigned)n, false);
    const char *name = f->name;
    LLVMValueRef fn = LLVMAddFunction(mod, name, kty);
    entry_add_ext(cx, fn, false, ext, n);
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, entry_attr(cx, "nounwind"));
    for (int i = 0; i < n; i++) {
        args[i] = LLVMGetParam(fn, (unsigned)i);
        const char *an = entry_arg_name(f, i);
        LLVMSetValueName2(args[i], an, strlen(an));
    }

    LLVMValueRef body = entry_body(mod, arena_printf(f->arena, "%s.body", name), kty);
    LLVMTypeRef bty = LLVMGlobalGetValueType(body);
    LLVMTypeRef *btypes = ARENA_ARRAY(f->arena, LLVMTypeRef, n + 1);
    LLVMGetParamTypes(bty, btypes);

    Entry e = {.cx = cx, .b = LLVMCreateBuilderInContext(cx), .f = f, .fn = fn, .args = args,
               .i64 = LLVMInt64TypeInContext(cx)};
    LLVMPositionBuilderAtEnd(e.b, LLVMAppendBasicBlockInContext(cx, fn, "entry"));
    LLVMValueRef *slots = entry_scalar_slots(&e);
    entry_check_sizes(&e);
    entry_check_nulls(&e);
    entry_check_assumes(&e);
    LLVMValueRef *call_args = ARENA_ARRAY(f->arena, LLVMValueRef, n + 1);
    for (int i = 0; i < n; i++)
        call_args[i] = entry_convert(&e, args[i], btypes[i]);
    entry_scalars_in(&e, slots, call_args);
    LLVMValueRef rc = LLVMBuildCall2(e.b, bty, body, call_args, (unsigned)n, "");
    entry_scalars_out(&e, slots, rc);
    LLVMBuildRet(e.b, rc);
    LLVMDisposeBuilder(e.b);
}

/* int K.packed(void **args) { return K(*(T0 *)args[0], ...); } */
static void entry_emit_packed(LLVMModuleRef mod, LLVMContextRef cx, const IrFunc *f)
{
    int n = entry_nargs(f);
    LLVMTypeRef *types = ARENA_ARRAY(f->arena, LLVMTypeRef, n + 1);
    const char **ext = ARENA_ARRAY(f->arena, const char *, n + 1);
    entry_types(cx, f, types, ext);
    LLVMTypeRef i32 = LLVMInt32TypeInContext(cx), i64 = LLVMInt64TypeInContext(cx);
    LLVMTypeRef ptr = LLVMPointerTypeInContext(cx, 0);
    const char *name = f->name;
    LLVMValueRef k = LLVMGetNamedFunction(mod, name);
    LLVMTypeRef kty = LLVMGlobalGetValueType(k);

    const char *packed_name = arena_printf(f->arena, "%s.packed", name);
    LLVMValueRef fn = LLVMAddFunction(mod, packed_name, LLVMFunctionType(i32, &ptr, 1, false));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, entry_attr(cx, "nounwind"));
    LLVMValueRef argv = LLVMGetParam(fn, 0);
    LLVMSetValueName2(argv, "args", 4);

    LLVMBuilderRef b = LLVMCreateBuilderInContext(cx);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(cx, fn, "entry"));
    LLVMValueRef *vals = ARENA_ARRAY(f->arena, LLVMValueRef, n + 1);
    for (int i = 0; i < n; i++) {
        LLVMValueRef idx = LLVMConstInt(i64, (unsigned long long)i, false);
        LLVMValueRef slot = LLVMBuildGEP2(b, ptr, argv, &idx, 1, "");
        LLVMValueRef p = LLVMBuildLoad2(b, ptr, slot, "");
        bool is_bool = LLVMGetTypeKind(types[i]) == LLVMIntegerTypeKind &&
                       LLVMGetIntTypeWidth(types[i]) == 1;
        if (is_bool) {   /* a C bool is a byte holding 0 or 1 */
            LLVMValueRef byte = LLVMBuildLoad2(b, LLVMInt8TypeInContext(cx), p, "");
            vals[i] = LLVMBuildICmp(b, LLVMIntNE, byte, LLVMConstInt(LLVMTypeOf(byte), 0, false),
                                    "");
        } else {
            vals[i] = LLVMBuildLoad2(b, types[i], p, entry_arg_name(f, i));
        }
    }
    LLVMValueRef call = LLVMBuildCall2(b, kty, k, vals, (unsigned)n, "");
    entry_add_ext(cx, call, true, ext, n);
    LLVMBuildRet(b, call);
    LLVMDisposeBuilder(b);
}

void emit_entries(LLVMModuleRef mod, IrFunc *const *funcs, int n)
{
    LLVMContextRef cx = LLVMGetModuleContext(mod);
    for (int i = 0; i < n; i++) {
        LLVMValueRef *args = ARENA_ARRAY(funcs[i]->arena, LLVMValueRef, entry_nargs(funcs[i]) + 1);
        entry_emit_k(mod, cx, funcs[i], args);
        entry_emit_packed(mod, cx, funcs[i]);
    }
}
