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
    CPU_UNROLL_COPY = 256,         /* copies of at most this many elements unroll */
    GPU_UNROLL_REGISTER_LOOPS = 64,   /* device code: loops over register caches unroll, */
    GPU_UNROLL_REGISTER_WEIGHT = 4096,   /* up to this many statements unrolled */
};

#define STRIDE_UNKNOWN INT64_MIN

/* ---- small helpers ------------------------------------------------------ */

void cg_error(Cg *cg, const char *what)
{
    if (cg->ok)
        diag_error(cg->d, cg->f->span,
                   "internal error: cannot emit %s code for '%s': %s", cg->hooks ? "GPU" : "CPU",
                   cg->f->name, what);
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

static bool is_unsigned(ElemType t) { return t == ELEM_U8 || t == ELEM_U32 || t == ELEM_BOOL; }
static bool is_half(ElemType t) { return t == ELEM_F16 || t == ELEM_BF16; }

int cg_lanes_of(LLVMValueRef v)
{
    LLVMTypeRef t = LLVMTypeOf(v);
    return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? (int)LLVMGetVectorSize(t) : 0;
}

static LLVMTypeRef scalar_of(LLVMTypeRef t)
{
    return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? LLVMGetElementType(t) : t;
}

/* t, or <lanes x t>. */
static LLVMTypeRef shaped(LLVMTypeRef t, int lanes) { return lanes ? LLVMVectorType(t, (unsigned)lanes) : t; }

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
static void unify(Cg *cg, LLVMValueRef *a, LLVMValueRef *b)
{
    int la = cg_lanes_of(*a), lb = cg_lanes_of(*b);
    if (la && !lb)
        *b = cg_splat(cg, *b, la);
    else if (lb && !la)
        *a = cg_splat(cg, *a, lb);
}

/* A constant of scalar type t shaped like `like`. */
static LLVMValueRef cst_int(Cg *cg, LLVMTypeRef t, int64_t v, LLVMValueRef like)
{
    return cg_splat(cg, LLVMConstInt(t, (unsigned long long)v, 1), like ? cg_lanes_of(like) : 0);
}

static LLVMValueRef cst_real(Cg *cg, LLVMTypeRef t, double v, LLVMValueRef like)
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

static LLVMValueRef call_c(Cg *cg, const char *name, LLVMTypeRef ret, LLVMTypeRef *params,
                           int n, LLVMValueRef *args)
{
    LLVMTypeRef ft = LLVMFunctionType(ret, params, (unsigned)n, 0);
    return LLVMBuildCall2(cg->b, ft, extern_fn(cg, name, ft), args, (unsigned)n, "");
}

static LLVMValueRef contract(LLVMValueRef v)
{
    if (LLVMIsAInstruction(v) && LLVMCanValueUseFastMathFlags(v))
        LLVMSetFastMathFlags(v, LLVMFastMathAllowContract);
    return v;
}

LLVMBasicBlockRef cg_new_block(Cg *cg, const char *name)
{
    return LLVMAppendBasicBlockInContext(cg->c, cg->fn.fn, name);
}

/* ---- f16 and bf16 ------------------------------------------------------- */

/* f16 bits to float: exact (the half type's fpext; f16c/neon have it). */
static LLVMValueRef f16_to_f32(Cg *cg, LLVMValueRef bits)
{
    int l = cg_lanes_of(bits);
    LLVMValueRef h = LLVMBuildBitCast(cg->b, bits, shaped(LLVMHalfTypeInContext(cg->c), l), "");
    return LLVMBuildFPExt(cg->b, h, shaped(cg->f32, l), "");
}

/* float to f16 bits, rounding to nearest even (fptrunc; NaN stays a quiet NaN
 * with the top payload bits, as num_f32_to_f16). */
static LLVMValueRef f32_to_f16(Cg *cg, LLVMValueRef x)
{
    int l = cg_lanes_of(x);
    LLVMValueRef h = LLVMBuildFPTrunc(cg->b, x, shaped(LLVMHalfTypeInContext(cg->c), l), "");
    return LLVMBuildBitCast(cg->b, h, shaped(cg->i16, l), "");
}

static LLVMValueRef bf16_to_f32(Cg *cg, LLVMValueRef bits)
{
    int l = cg_lanes_of(bits);
    LLVMValueRef w = LLVMBuildZExt(cg->b, bits, shaped(cg->i32, l), "");
    w = LLVMBuildShl(cg->b, w, cst_int(cg, cg->i32, 16, w), "");
    return LLVMBuildBitCast(cg->b, w, shaped(cg->f32, l), "");
}

/* float to bf16 bits as num_f32_to_bf16, in integer operations (no libcall
 * on any target): NaN -> (u >> 16) | 0x40, else round to nearest even. */
static LLVMValueRef f32_to_bf16(Cg *cg, LLVMValueRef x)
{
    int l = cg_lanes_of(x);
    LLVMValueRef u = LLVMBuildBitCast(cg->b, x, shaped(cg->i32, l), "");
    LLVMValueRef hi = LLVMBuildLShr(cg->b, u, cst_int(cg, cg->i32, 16, u), "");
    LLVMValueRef odd = LLVMBuildAnd(cg->b, hi, cst_int(cg, cg->i32, 1, u), "");
    LLVMValueRef bias = LLVMBuildAdd(cg->b, odd, cst_int(cg, cg->i32, 0x7FFF, u), "");
    LLVMValueRef r = LLVMBuildLShr(cg->b, LLVMBuildAdd(cg->b, u, bias, ""),
                                   cst_int(cg, cg->i32, 16, u), "");
    LLVMValueRef nan = LLVMBuildFCmp(cg->b, LLVMRealUNO, x, x, "");
    LLVMValueRef q = LLVMBuildOr(cg->b, hi, cst_int(cg, cg->i32, 0x40, u), "");
    r = LLVMBuildSelect(cg->b, nan, q, r, "");
    return LLVMBuildTrunc(cg->b, r, shaped(cg->i16, l), "");
}

static LLVMValueRef half_to_f32(Cg *cg, LLVMValueRef bits, ElemType t)
{
    return t == ELEM_F16 ? f16_to_f32(cg, bits) : bf16_to_f32(cg, bits);
}

static LLVMValueRef f32_to_half(Cg *cg, LLVMValueRef x, ElemType t)
{
    return t == ELEM_F16 ? f32_to_f16(cg, x) : f32_to_bf16(cg, x);
}

/* ---- conversions -------------------------------------------------------- */


/* A float value of type `from` (f16/bf16 bits, float, double) as float or
 * double: f16/bf16 widen to float exactly. */
static LLVMValueRef float_wide(Cg *cg, LLVMValueRef v, ElemType from)
{
    return is_half(from) ? half_to_f32(cg, v, from) : v;
}

/* T(x) as cast_val in interp.c. */
LLVMValueRef cg_convert(Cg *cg, LLVMValueRef v, ElemType from, ElemType to)
{
    if (from == to)
        return v;
    int l = cg_lanes_of(v);
    if (to == ELEM_BOOL)
        return cg_to_bool(cg, v, from);
    LLVMTypeRef rt = shaped(cg_reg_type(cg, to), l);
    if (!elem_is_float(from)) {
        if (!elem_is_float(to)) {
            unsigned fw = LLVMGetIntTypeWidth(scalar_of(LLVMTypeOf(v)));
            unsigned tw = LLVMGetIntTypeWidth(cg_reg_type(cg, to));
            if (tw < fw)
                return LLVMBuildTrunc(cg->b, v, rt, "");
            if (tw == fw)
                return v;
            return is_unsigned(from) ? LLVMBuildZExt(cg->b, v, rt, "") : LLVMBuildSExt(cg->b, v, rt, "");
        }
        if (to == ELEM_F32 || to == ELEM_F64)
            return is_unsigned(from) ? LLVMBuildUIToFP(cg->b, v, rt, "") : LLVMBuildSIToFP(cg->b, v, rt, "");
        /* f16/bf16: through double and float, as float_val does. */
        LLVMValueRef d = is_unsigned(from) ? LLVMBuildUIToFP(cg->b, v, shaped(cg->f64, l), "")
                                           : LLVMBuildSIToFP(cg->b, v, shaped(cg->f64, l), "");
        return f32_to_half(cg, LLVMBuildFPTrunc(cg->b, d, shaped(cg->f32, l), ""), to);
    }
    LLVMValueRef x = float_wide(cg, v, from);
    if (!elem_is_float(to)) {
        LLVMTypeRef over[2] = {rt, LLVMTypeOf(x)};
        LLVMValueRef args[1] = {x};
        return cg_intrinsic(cg, is_unsigned(to) ? "llvm.fptoui.sat" : "llvm.fptosi.sat", over, 2,
                         args, 1);
    }
    if (to == ELEM_F64)
        return LLVMBuildFPExt(cg->b, x, rt, "");  /* from f32 or a widened half */
    if (from == ELEM_F64)
        x = LLVMBuildFPTrunc(cg->b, x, shaped(cg->f32, l), "");
    return to == ELEM_F32 ? x : f32_to_half(cg, x, to);
}

/* x != 0; for floats ordered (NaN gives false, as float to int gives 0). */
LLVMValueRef cg_to_bool(Cg *cg, LLVMValueRef v, ElemType from)
{
    if (from == ELEM_BOOL)
        return v;
    if (elem_is_float(from)) {
        LLVMValueRef x = float_wide(cg, v, from);
        return LLVMBuildFCmp(cg->b, LLVMRealONE, x, cst_real(cg, scalar_of(LLVMTypeOf(x)), 0, x), "");
    }
    return LLVMBuildICmp(cg->b, LLVMIntNE, v, LLVMConstNull(LLVMTypeOf(v)), "");
}

/* ---- expressions -------------------------------------------------------- */


static LLVMValueRef emit_const(Cg *cg, const IrExpr *e)
{
    ElemType t = e->type;
    if (elem_is_float(t)) {
        double x = e->kind == IR_FLOAT ? e->fval : (double)e->ival;
        switch (t) {
        case ELEM_F16: return LLVMConstInt(cg->i16, num_f32_to_f16((float)num_round_float(x, t)), 0);
        case ELEM_BF16: return LLVMConstInt(cg->i16, num_f32_to_bf16((float)num_round_float(x, t)), 0);
        case ELEM_F32: return LLVMConstReal(cg->f32, (double)(float)x);
        default: return LLVMConstReal(cg->f64, x);
        }
    }
    int64_t v = e->kind == IR_FLOAT ? num_float_to_int(e->fval, t) : num_wrap_int(e->ival, t);
    return LLVMConstInt(cg_reg_type(cg, t), (unsigned long long)v, 1);
}

LLVMValueRef cg_int_minmax(Cg *cg, bool is_min, LLVMValueRef a, LLVMValueRef b, ElemType t)
{
    LLVMTypeRef over[1] = {LLVMTypeOf(a)};
    LLVMValueRef args[2] = {a, b};
    const char *name = is_unsigned(t) ? (is_min ? "llvm.umin" : "llvm.umax")
                                      : (is_min ? "llvm.smin" : "llvm.smax");
    return cg_intrinsic(cg, name, over, 1, args, 2);
}

/* NaN if either is NaN, else a < b ? a : b (min) or a > b ? a : b (max). */
static LLVMValueRef float_minmax(Cg *cg, bool is_min, LLVMValueRef a, LLVMValueRef b)
{
    LLVMValueRef lt = LLVMBuildFCmp(cg->b, is_min ? LLVMRealOLT : LLVMRealOGT, a, b, "");
    LLVMValueRef r = LLVMBuildSelect(cg->b, lt, a, b, "");
    LLVMValueRef uno = LLVMBuildFCmp(cg->b, LLVMRealUNO, a, b, "");
    LLVMTypeRef st = scalar_of(LLVMTypeOf(a));
    LLVMValueRef nan = LLVMConstReal(st, (double)NAN);
    return LLVMBuildSelect(cg->b, uno, cg_splat(cg, nan, cg_lanes_of(a)), r, "");
}

/* Truncating division and remainder without undefined behaviour: x/0 = 0,
 * x%0 = x, MIN/-1 = MIN and MIN%-1 = 0 (divide by 1 instead). */
static LLVMValueRef int_divrem(Cg *cg, bool div, LLVMValueRef a, LLVMValueRef b, ElemType t)
{
    LLVMTypeRef st = scalar_of(LLVMTypeOf(a));
    LLVMValueRef zero = LLVMConstNull(LLVMTypeOf(a));
    LLVMValueRef one = cst_int(cg, st, 1, a);
    LLVMValueRef bz = LLVMBuildICmp(cg->b, LLVMIntEQ, b, zero, "");
    LLVMValueRef bad = bz;
    if (!is_unsigned(t)) {
        unsigned w = LLVMGetIntTypeWidth(st);
        LLVMValueRef min = cst_int(cg, st, (int64_t)((uint64_t)1 << (w - 1)), a);
        LLVMValueRef ovf = LLVMBuildAnd(cg->b, LLVMBuildICmp(cg->b, LLVMIntEQ, a, min, ""),
                                        LLVMBuildICmp(cg->b, LLVMIntEQ, b, cst_int(cg, st, -1, a), ""), "");
        bad = LLVMBuildOr(cg->b, bz, ovf, "");
    }
    LLVMValueRef sb = LLVMBuildSelect(cg->b, bad, one, b, "");
    LLVMValueRef r;
    if (div)
        r = is_unsigned(t) ? LLVMBuildUDiv(cg->b, a, sb, "") : LLVMBuildSDiv(cg->b, a, sb, "");
    else
        r = is_unsigned(t) ? LLVMBuildURem(cg->b, a, sb, "") : LLVMBuildSRem(cg->b, a, sb, "");
    return LLVMBuildSelect(cg->b, bz, div ? zero : a, r, "");
}

/* floor(a / b) and a - b*floor(a / b) for a positive constant b: the code that
 * computes im_floor_div / im_floor_mod (util/intmath.h) at run time. */
static LLVMValueRef floor_divmod(Cg *cg, bool div, LLVMValueRef a, LLVMValueRef b)
{
    LLVMValueRef q = LLVMBuildSDiv(cg->b, a, b, "");
    LLVMValueRef r = LLVMBuildSRem(cg->b, a, b, "");
    LLVMValueRef zero = LLVMConstNull(LLVMTypeOf(a));
    LLVMValueRef neg = LLVMBuildICmp(cg->b, LLVMIntSLT, r, zero, "");
    if (div)
        return LLVMBuildSub(cg->b, q, LLVMBuildZExt(cg->b, neg, LLVMTypeOf(a), ""), "");
    return LLVMBuildAdd(cg->b, r, LLVMBuildSelect(cg->b, neg, b, zero, ""), "");
}

static LLVMIntPredicate int_pred(IrOp op, bool uns)
{
    switch (op) {
    case IR_EQ: return LLVMIntEQ;
    case IR_NE: return LLVMIntNE;
    case IR_LT: return uns ? LLVMIntULT : LLVMIntSLT;
    case IR_LE: return uns ? LLVMIntULE : LLVMIntSLE;
    case IR_GT: return uns ? LLVMIntUGT : LLVMIntSGT;
    default: return uns ? LLVMIntUGE : LLVMIntSGE;
    }
}

static LLVMRealPredicate real_pred(IrOp op)
{
    switch (op) {
    case IR_EQ: return LLVMRealOEQ;
    case IR_NE: return LLVMRealUNE;
    case IR_LT: return LLVMRealOLT;
    case IR_LE: return LLVMRealOLE;
    case IR_GT: return LLVMRealOGT;
    default: return LLVMRealOGE;
    }
}

static bool is_cmp(IrOp op) { return op >= IR_EQ && op <= IR_GE; }

static LLVMValueRef float_binary(Cg *cg, IrOp op, LLVMValueRef a, LLVMValueRef b)
{
    switch (op) {
    case IR_ADD: return contract(LLVMBuildFAdd(cg->b, a, b, ""));
    case IR_SUB: return contract(LLVMBuildFSub(cg->b, a, b, ""));
    case IR_MUL: return contract(LLVMBuildFMul(cg->b, a, b, ""));
    case IR_DIV: return LLVMBuildFDiv(cg->b, a, b, "");
    case IR_REM: return LLVMBuildFRem(cg->b, a, b, "");
    case IR_MIN: return float_minmax(cg, true, a, b);
    case IR_MAX: return float_minmax(cg, false, a, b);
    default:
        if (is_cmp(op))
            return LLVMBuildFCmp(cg->b, real_pred(op), a, b, "");
        return NULL;
    }
}

static LLVMValueRef int_binary(Cg *cg, IrOp op, LLVMValueRef a, LLVMValueRef b, ElemType t)
{
    switch (op) {
    case IR_ADD: return LLVMBuildAdd(cg->b, a, b, "");
    case IR_SUB: return LLVMBuildSub(cg->b, a, b, "");
    case IR_MUL: return LLVMBuildMul(cg->b, a, b, "");
    case IR_DIV: return int_divrem(cg, true, a, b, t);
    case IR_REM: return int_divrem(cg, false, a, b, t);
    case IR_FLOORDIV: return floor_divmod(cg, true, a, b);
    case IR_FLOORMOD: return floor_divmod(cg, false, a, b);
    case IR_MIN: return cg_int_minmax(cg, true, a, b, t);
    case IR_MAX: return cg_int_minmax(cg, false, a, b, t);
    case IR_AND:
    case IR_OR: {
        LLVMValueRef x = cg_to_bool(cg, a, t), y = cg_to_bool(cg, b, t);
        return op == IR_AND ? LLVMBuildAnd(cg->b, x, y, "") : LLVMBuildOr(cg->b, x, y, "");
    }
    default: return LLVMBuildICmp(cg->b, int_pred(op, is_unsigned(t)), a, b, "");
    }
}


static LLVMValueRef emit_binary(Cg *cg, const IrExpr *e)
{
    int64_t dv;
    if (e->type == ELEM_I64 && (e->op == IR_ADD || e->op == IR_SUB || e->op == IR_MUL ||
                                ((e->op == IR_FLOORDIV || e->op == IR_FLOORMOD) &&
                                 ir_const_int(e->args[1], &dv) && dv > 0))) {
        Lin l;
        cg_lin_of(cg, e, &l);
        return cg_lin(cg, &l);
    }
    LLVMValueRef a = cg_expr(cg, e->args[0]), b = cg_expr(cg, e->args[1]);
    unify(cg, &a, &b);
    ElemType t = e->args[0]->type;
    if ((e->op == IR_FLOORDIV || e->op == IR_FLOORMOD)) {
        int64_t k;
        if (!ir_const_int(e->args[1], &k) || k <= 0)
            cg_error(cg, "fdiv/fmod by a divisor that is not a positive constant");
    }
    if (!elem_is_float(t))
        return int_binary(cg, e->op, a, b, t);
    if (is_half(t)) {
        LLVMValueRef r = float_binary(cg, e->op, half_to_f32(cg, a, t), half_to_f32(cg, b, t));
        return is_cmp(e->op) ? r : f32_to_half(cg, r, t);
    }
    LLVMValueRef r = float_binary(cg, e->op, a, b);
    if (!r) {
        cg_error(cg, "a logical operator on floats");
        return LLVMConstNull(LLVMTypeOf(a));
    }
    return r;
}

static LLVMValueRef emit_unary(Cg *cg, const IrExpr *e)
{
    LLVMValueRef a = cg_expr(cg, e->args[0]);
    ElemType t = e->type;
    if (e->op == IR_NOT) {
        LLVMValueRef x = cg_to_bool(cg, a, e->args[0]->type);
        return LLVMBuildICmp(cg->b, LLVMIntEQ, x, LLVMConstNull(LLVMTypeOf(x)), "");
    }
    if (is_half(t))
        return LLVMBuildXor(cg->b, a, cst_int(cg, cg->i16, 0x8000, a), "");
    if (elem_is_float(t))
        return LLVMBuildFNeg(cg->b, a, "");
    return LLVMBuildSub(cg->b, LLVMConstNull(LLVMTypeOf(a)), a, "");
}

/* A libm function of one float or double, lane by lane for vectors. */
static LLVMValueRef libm1(Cg *cg, const char *fname, const char *dname, LLVMValueRef x)
{
    LLVMTypeRef st = scalar_of(LLVMTypeOf(x));
    const char *name = st == cg->f32 ? fname : dname;
    int l = cg_lanes_of(x);
    if (!l)
        return call_c(cg, name, st, &st, 1, &x);
    LLVMValueRef r = LLVMGetPoison(LLVMTypeOf(x));
    for (int i = 0; i < l; i++) {
        LLVMValueRef k = LLVMConstInt(cg->i32, (unsigned long long)i, 0);
        LLVMValueRef xi = LLVMBuildExtractElement(cg->b, x, k, "");
        r = LLVMBuildInsertElement(cg->b, r, call_c(cg, name, st, &st, 1, &xi), k, "");
    }
    return r;
}

/* Float intrinsics in float or double: LLVM's intrinsics (libm underneath for
 * exp, log, sin, cos, pow) or libm (tanh, erf); rsqrt is 1/sqrt. */
static LLVMValueRef float_call(Cg *cg, Intrinsic k, LLVMValueRef *x, int n)
{
    LLVMValueRef r = cg->hooks ? cg->hooks->math(cg, k, x, n) : NULL;
    if (r)
        return r;
    LLVMTypeRef over[1] = {LLVMTypeOf(x[0])};
    switch (k) {
    case INTR_EXP: return cg_intrinsic(cg, "llvm.exp", over, 1, x, 1);
    case INTR_LOG: return cg_intrinsic(cg, "llvm.log", over, 1, x, 1);
    case INTR_SQRT: return cg_intrinsic(cg, "llvm.sqrt", over, 1, x, 1);
    case INTR_RSQRT:
        return LLVMBuildFDiv(cg->b, cst_real(cg, scalar_of(over[0]), 1.0, x[0]),
                             cg_intrinsic(cg, "llvm.sqrt", over, 1, x, 1), "");
    case INTR_TANH: return libm1(cg, "tanhf", "tanh", x[0]);
    case INTR_ERF: return libm1(cg, "erff", "erf", x[0]);
    case INTR_SIN: return cg_intrinsic(cg, "llvm.sin", over, 1, x, 1);
    case INTR_COS: return cg_intrinsic(cg, "llvm.cos", over, 1, x, 1);
    case INTR_ABS: return cg_intrinsic(cg, "llvm.fabs", over, 1, x, 1);
    case INTR_MIN: return float_minmax(cg, true, x[0], x[1]);
    case INTR_MAX: return float_minmax(cg, false, x[0], x[1]);
    case INTR_POW: return cg_intrinsic(cg, "llvm.pow", over, 1, x, 2);
    case INTR_FMA: return cg_intrinsic(cg, "llvm.fma", over, 1, x, 3);
    default: return x[0];
    }
}

static LLVMValueRef emit_call(Cg *cg, const IrExpr *e)
{
    LLVMValueRef x[3];
    int n = e->nargs < 3 ? e->nargs : 3;
    int l = 0;
    for (int i = 0; i < n; i++) {
        x[i] = cg_expr(cg, e->args[i]);
        if (cg_lanes_of(x[i]))
            l = cg_lanes_of(x[i]);
    }
    for (int i = 0; i < n; i++)
        x[i] = cg_splat(cg, x[i], l);
    ElemType t = e->type;
    if (!elem_is_float(t)) {
        if (e->intrinsic == INTR_ABS) {
            LLVMTypeRef over[1] = {LLVMTypeOf(x[0])};
            LLVMValueRef args[2] = {x[0], LLVMConstInt(cg->i1, 0, 0)};
            return is_unsigned(t) ? x[0] : cg_intrinsic(cg, "llvm.abs", over, 1, args, 2);
        }
        if (e->intrinsic == INTR_MIN || e->intrinsic == INTR_MAX)
            return cg_int_minmax(cg, e->intrinsic == INTR_MIN, x[0], x[1], t);
        cg_error(cg, "a float intrinsic on integers");
        return x[0];
    }
    if (is_half(t)) {
        for (int i = 0; i < n; i++)
            x[i] = half_to_f32(cg, x[i], t);
        return f32_to_half(cg, float_call(cg, e->intrinsic, x, n), t);
    }
    return float_call(cg, e->intrinsic, x, n);
}

/* ---- strides in the vector loop variable --------------------------------- */

/* How e changes from one lane to the next: a constant stride (0: the same in
 * every lane), or STRIDE_UNKNOWN. Uses Cg.stride for variables. */
static int64_t expr_stride(const Cg *cg, const IrExpr *e)
{
    switch (e->kind) {
    case IR_INT:
    case IR_FLOAT: return 0;
    case IR_VARREF: return cg->stride[e->var->id];
    case IR_BINARY:
        if (e->type == ELEM_I64 && (e->op == IR_ADD || e->op == IR_SUB || e->op == IR_MUL)) {
            int64_t a = expr_stride(cg, e->args[0]), b = expr_stride(cg, e->args[1]);
            if (a == STRIDE_UNKNOWN || b == STRIDE_UNKNOWN)
                return STRIDE_UNKNOWN;
            if (e->op == IR_ADD)
                return a + b;
            if (e->op == IR_SUB)
                return a - b;
            int64_t k;
            if (b == 0 && ir_const_int(e->args[1], &k))
                return a * k;
            if (a == 0 && ir_const_int(e->args[0], &k))
                return b * k;
            return a == 0 && b == 0 ? 0 : STRIDE_UNKNOWN;
        }
        break;
    default: break;
    }
    /* Anything else: invariant if every operand is. */
    if (e->kind == IR_LOAD || e->kind == IR_UNARY || e->kind == IR_BINARY ||
        e->kind == IR_SELECT || e->kind == IR_CAST || e->kind == IR_CALL) {
        for (int i = 0; i < e->nargs; i++)
            if (expr_stride(cg, e->args[i]) != 0)
                return STRIDE_UNKNOWN;
        return 0;
    }
    return STRIDE_UNKNOWN;
}


/* ---- linear index arithmetic ------------------------------------------------ */

bool cg_lin_add(Lin *a, const Lin *b, int64_t scale)
{
    a->c = (int64_t)((uint64_t)a->c + (uint64_t)b->c * (uint64_t)scale);
    for (int i = 0; i < b->n; i++) {
        int k = 0;
        while (k < a->n && a->atom[k] != b->atom[i])
            k++;
        if (k == a->n) {
            if (a->n == LIN_MAX)
                return false;
            a->atom[a->n] = b->atom[i];
            a->coef[a->n++] = 0;
        }
        a->coef[k] = (int64_t)((uint64_t)a->coef[k] + (uint64_t)b->coef[i] * (uint64_t)scale);
    }
    return true;
}

void cg_lin_atom(Lin *l, LLVMValueRef v)
{
    l->n = 1;
    l->atom[0] = v;
    l->coef[0] = 1;
    l->c = 0;
}

static bool lin_is_const(const Lin *l)
{
    for (int i = 0; i < l->n; i++)
        if (l->coef[i])
            return false;
    return true;
}


/* e (i64) as a Lin: constants, variables with a Lin, +, -, * by a constant;
 * anything else is an atom (emitted here). */
void cg_lin_of(Cg *cg, const IrExpr *e, Lin *out)
{
    memset(out, 0, sizeof *out);
    if (e->type == ELEM_I64 && e->kind == IR_INT) {
        out->c = e->ival;
        return;
    }
    if (e->type == ELEM_I64 && e->kind == IR_VARREF && cg->has_lin[e->var->id]) {
        *out = cg->lin[e->var->id];
        return;
    }
    if (e->type == ELEM_I64 && e->kind == IR_BINARY &&
        (e->op == IR_ADD || e->op == IR_SUB || e->op == IR_MUL)) {
        Lin a, b;
        cg_lin_of(cg, e->args[0], &a);
        cg_lin_of(cg, e->args[1], &b);
        if (e->op == IR_MUL) {
            if (lin_is_const(&b)) {
                if (cg_lin_add(out, &a, b.c))
                    return;
            } else if (lin_is_const(&a)) {
                if (cg_lin_add(out, &b, a.c))
                    return;
            }
        } else {
            *out = a;
            if (cg_lin_add(out, &b, e->op == IR_ADD ? 1 : -1))
                return;
        }
        /* Not linear (or too many atoms): one atom, from the two parts. */
        LLVMValueRef x = cg_lin(cg, &a), y = cg_lin(cg, &b);
        unify(cg, &x, &y);
        memset(out, 0, sizeof *out);
        cg_lin_atom(out, e->op == IR_MUL   ? LLVMBuildMul(cg->b, x, y, "")
                      : e->op == IR_ADD ? LLVMBuildAdd(cg->b, x, y, "")
                                        : LLVMBuildSub(cg->b, x, y, ""));
        return;
    }
    /* floor((sum k_i x_i + c) / d), d a positive constant and every k_i a
     * multiple of d, is sum (k_i / d) x_i + floor(c / d), and the remainder
     * is c mod d: tile indices such as (bi*128 + mi*16) fdiv 16 stay linear
     * (and cache offsets constant). */
    int64_t dv;
    if (e->type == ELEM_I64 && e->kind == IR_BINARY && (e->op == IR_FLOORDIV || e->op == IR_FLOORMOD) &&
        ir_const_int(e->args[1], &dv) && dv > 0) {
        Lin a;
        cg_lin_of(cg, e->args[0], &a);
        bool whole = true;
        for (int i = 0; i < a.n; i++)
            if (a.coef[i] % dv != 0)
                whole = false;
        if (whole) {
            int64_t q = im_floor_div(a.c, dv), r = im_floor_mod(a.c, dv);
            if (e->op == IR_FLOORMOD) {
                out->c = r;
                return;
            }
            *out = a;
            for (int i = 0; i < out->n; i++)
                out->coef[i] /= dv;
            out->c = q;
            return;
        }
        LLVMValueRef x = cg_lin(cg, &a);
        cg_lin_atom(out, floor_divmod(cg, e->op == IR_FLOORDIV, x, cst_int(cg, cg->i64, dv, x)));
        return;
    }
    cg_lin_atom(out, cg_expr(cg, e));
}

static LLVMValueRef lane_steps(Cg *cg, int64_t coef)
{
    LLVMValueRef el[1024];
    for (int k = 0; k < cg->lanes && k < 1024; k++)
        el[k] = LLVMConstInt(cg->i64, (unsigned long long)(coef * k), 0);
    return LLVMConstVector(el, (unsigned)cg->lanes);
}

/* The scalar part of l (the lane and vector atoms left out). */
LLVMValueRef cg_lin_scalar(Cg *cg, const Lin *l)
{
    LLVMValueRef acc = NULL;
    for (int i = 0; i < l->n; i++) {
        if (!l->coef[i] || !l->atom[i] || cg_lanes_of(l->atom[i]))
            continue;
        LLVMValueRef t = l->atom[i];
        bool neg = l->coef[i] == -1 && acc;
        if (l->coef[i] != 1 && !neg)
            t = LLVMBuildMul(cg->b, t, LLVMConstInt(cg->i64, (unsigned long long)l->coef[i], 1), "");
        acc = !acc ? t : neg ? LLVMBuildSub(cg->b, acc, t, "") : LLVMBuildAdd(cg->b, acc, t, "");
    }
    LLVMValueRef c = LLVMConstInt(cg->i64, (unsigned long long)l->c, 1);
    return !acc ? c : l->c ? LLVMBuildAdd(cg->b, acc, c, "") : acc;
}

/* Whether l has vector parts: the lane (its coefficient in *lane) or others. */
static bool lin_vector(const Lin *l, int64_t *lane, bool *other)
{
    *lane = 0;
    *other = false;
    for (int i = 0; i < l->n; i++) {
        if (!l->coef[i])
            continue;
        if (!l->atom[i])
            *lane += l->coef[i];
        else if (cg_lanes_of(l->atom[i]))
            *other = true;
    }
    return *lane || *other;
}

LLVMValueRef cg_lin(Cg *cg, const Lin *l)
{
    LLVMValueRef v = cg_lin_scalar(cg, l);
    int64_t lane;
    bool other;
    if (!lin_vector(l, &lane, &other))
        return v;
    v = cg_splat(cg, v, cg->lanes);
    if (lane)
        v = LLVMBuildAdd(cg->b, v, lane_steps(cg, lane), "");
    for (int i = 0; i < l->n; i++) {
        if (!l->coef[i] || !l->atom[i] || !cg_lanes_of(l->atom[i]))
            continue;
        LLVMValueRef t = l->atom[i];
        if (l->coef[i] != 1)
            t = LLVMBuildMul(cg->b, t, cst_int(cg, cg->i64, l->coef[i], t), "");
        v = LLVMBuildAdd(cg->b, v, t, "");
    }
    return v;
}

static void set_lin(Cg *cg, const IrVar *v, const Lin *l)
{
    cg->lin[v->id] = *l;
    cg->has_lin[v->id] = true;
}

/* Binds a loop variable to lo + k: k an LLVM value (serial loops), else the
 * constant kc (unrolled), or the lane (vectorized: lane true). */
void cg_bind_loop_var(Cg *cg, const IrStmt *s, const Lin *lo, LLVMValueRef k, int64_t kc,
                          bool lane)
{
    Lin l = *lo, step;
    memset(&step, 0, sizeof step);
    step.c = kc;
    if (k || lane) {
        step.n = 1;
        step.atom[0] = k;
        step.coef[0] = 1;
    }
    if (!cg_lin_add(&l, &step, 1)) {
        /* Too many atoms: the base as one atom. */
        LLVMValueRef base = cg_lin_scalar(cg, lo);
        memset(&l, 0, sizeof l);
        cg_lin_atom(&l, base);
        cg_lin_add(&l, &step, 1);
    }
    set_lin(cg, s->var, &l);
    cg->vars[s->var->id] = cg_lin(cg, &l);
}

void cg_unbind_var(Cg *cg, const IrVar *v)
{
    cg->vars[v->id] = NULL;
    cg->has_lin[v->id] = false;
}

/* ---- memory --------------------------------------------------------------- */

bool cg_is_local(const IrBuffer *b) { return b->mem == IR_MEM_REGISTERS || b->mem == IR_MEM_SHARED; }

LLVMValueRef cg_elem_ptr(Cg *cg, const IrBuffer *b, LLVMValueRef idx)
{
    LLVMValueRef base = cg->bufp[b->id];
    if (!base) {
        cg_error(cg, "an access to a buffer that is not allocated");
        return LLVMConstNull(cg->ptr);
    }
    return LLVMBuildGEP2(cg->b, cg_mem_type(cg, b->elem), base, &idx, 1, "");
}

unsigned cg_elem_align(const IrBuffer *b) { return (unsigned)elem_type_bytes(b->elem); }

/* A memory value to its register form (bool: byte != 0). */
LLVMValueRef cg_from_mem(Cg *cg, LLVMValueRef v, ElemType t)
{
    if (t != ELEM_BOOL)
        return v;
    return LLVMBuildICmp(cg->b, LLVMIntNE, v, LLVMConstNull(LLVMTypeOf(v)), "");
}

LLVMValueRef cg_to_mem(Cg *cg, LLVMValueRef v, ElemType t)
{
    if (t != ELEM_BOOL)
        return v;
    return LLVMBuildZExt(cg->b, v, shaped(cg->i8, cg_lanes_of(v)), "");
}

static LLVMValueRef all_true(Cg *cg, int lanes)
{
    return cg_splat(cg, LLVMConstInt(cg->i1, 1, 0), lanes);
}

LLVMValueRef cg_scalar_load(Cg *cg, const IrBuffer *b, LLVMValueRef idx)
{
    LLVMValueRef ld = LLVMBuildLoad2(cg->b, cg_mem_type(cg, b->elem), cg_elem_ptr(cg, b, idx), "");
    LLVMSetAlignment(ld, cg_elem_align(b));
    return ld;
}

/* A load under a lane mask with a lane-invariant index: done only when some
 * lane is active (the interpreter would not reach it otherwise). */
static LLVMValueRef guarded_scalar_load(Cg *cg, const IrBuffer *b, LLVMValueRef idx)
{
    LLVMTypeRef over[1] = {LLVMTypeOf(cg->mask)};
    LLVMValueRef any = cg_intrinsic(cg, "llvm.vector.reduce.or", over, 1, &cg->mask, 1);
    LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b);
    LLVMBasicBlockRef yes = cg_new_block(cg, "ld.any"), done = cg_new_block(cg, "ld.done");
    LLVMBuildCondBr(cg->b, any, yes, done);
    LLVMPositionBuilderAtEnd(cg->b, yes);
    LLVMValueRef v = cg_scalar_load(cg, b, idx);
    LLVMBasicBlockRef yes_end = LLVMGetInsertBlock(cg->b);
    LLVMBuildBr(cg->b, done);
    LLVMPositionBuilderAtEnd(cg->b, done);
    LLVMValueRef phi = LLVMBuildPhi(cg->b, LLVMTypeOf(v), "");
    LLVMValueRef vals[2] = {LLVMConstNull(LLVMTypeOf(v)), v};
    LLVMBasicBlockRef bbs[2] = {from, yes_end};
    LLVMAddIncoming(phi, vals, bbs, 2);
    return phi;
}

static LLVMValueRef lane0(Cg *cg, LLVMValueRef v)
{
    return LLVMBuildExtractElement(cg->b, v, LLVMConstInt(cg->i32, 0, 0), "");
}

/* How an access with index l is made: scalar (one address), vector (the
 * lanes at consecutive elements from the scalar base), or gather/scatter. */
typedef enum AccessKind { ACCESS_SCALAR, ACCESS_VECTOR, ACCESS_GATHER } AccessKind;

static AccessKind access_kind(const Lin *l)
{
    int64_t lane;
    bool other;
    if (!lin_vector(l, &lane, &other))
        return ACCESS_SCALAR;
    return lane == 1 && !other ? ACCESS_VECTOR : ACCESS_GATHER;
}

/* The alignment of a vector access at index l of b: the element's, except
 * in device code for a cache (which starts 16-byte aligned) whose index terms
 * are all multiples of the access size up to 16 bytes: then the access's
 * (`vectorize` on a GPU: one 16-byte access per thread where this holds). */
static unsigned vector_align(Cg *cg, const IrBuffer *b, const Lin *l)
{
    unsigned a = cg_elem_align(b);
    if (!cg->hooks || !cg_is_local(b))
        return a;
    int64_t e = elem_type_bytes(b->elem), want = e * cg->lanes;
    if (want > 16)
        want = 16;
    if (want & (want - 1))
        return a;
    for (int i = 0; i < l->n; i++)
        if (l->atom[i] && l->coef[i] * e % want != 0)
            return a;
    return l->c * e % want == 0 && want > (int64_t)a ? (unsigned)want : a;
}

static LLVMValueRef emit_load(Cg *cg, const IrExpr *e)
{
    const IrBuffer *b = e->buf;
    if (e->nargs != 1) {
        cg_error(cg, "a load that is not flattened");
        return LLVMConstNull(cg_reg_type(cg, e->type));
    }
    Lin li;
    cg_lin_of(cg, e->args[0], &li);
    LLVMTypeRef mt = cg_mem_type(cg, b->elem);
    LLVMValueRef v;
    switch (access_kind(&li)) {
    case ACCESS_SCALAR: {
        LLVMValueRef idx = cg_lin_scalar(cg, &li);
        v = cg->mask && !cg_is_local(b) ? guarded_scalar_load(cg, b, idx) : cg_scalar_load(cg, b, idx);
        break;
    }
    case ACCESS_VECTOR: {
        LLVMTypeRef vt = LLVMVectorType(mt, (unsigned)cg->lanes);
        LLVMValueRef p = cg_elem_ptr(cg, b, cg_lin_scalar(cg, &li));
        if (cg->mask && !cg_is_local(b)) {
            LLVMTypeRef over[2] = {vt, LLVMTypeOf(p)};
            LLVMValueRef args[4] = {p, LLVMConstInt(cg->i32, cg_elem_align(b), 0), cg->mask,
                                    LLVMConstNull(vt)};
            v = cg_intrinsic(cg, "llvm.masked.load", over, 2, args, 4);
        } else {
            v = LLVMBuildLoad2(cg->b, vt, p, "");
            LLVMSetAlignment(v, vector_align(cg, b, &li));
        }
        break;
    }
    default: {
        LLVMTypeRef vt = LLVMVectorType(mt, (unsigned)cg->lanes);
        LLVMValueRef ptrs = cg_elem_ptr(cg, b, cg_splat(cg, cg_lin(cg, &li), cg->lanes));
        LLVMTypeRef over[2] = {vt, LLVMTypeOf(ptrs)};
        LLVMValueRef args[4] = {ptrs, LLVMConstInt(cg->i32, cg_elem_align(b), 0),
                                cg->mask ? cg->mask : all_true(cg, cg->lanes), LLVMConstNull(vt)};
        v = cg_intrinsic(cg, "llvm.masked.gather", over, 2, args, 4);
        break;
    }
    }
    return cg_from_mem(cg, v, b->elem);
}

static void emit_store_value(Cg *cg, const IrBuffer *b, const Lin *li, LLVMValueRef v)
{
    AccessKind kind = access_kind(li);
    if (kind == ACCESS_SCALAR) {
        if (cg_lanes_of(v)) {
            cg_error(cg, "a lane-dependent value stored to a lane-invariant index");
            return;
        }
        /* (vector code never stores to a lane-invariant index: see
         * vectorizable_block; under a mask it would happen if any lane is on) */
        LLVMBasicBlockRef done = NULL;
        if (cg->mask) {
            LLVMTypeRef over[1] = {LLVMTypeOf(cg->mask)};
            LLVMValueRef any = cg_intrinsic(cg, "llvm.vector.reduce.or", over, 1, &cg->mask, 1);
            LLVMBasicBlockRef yes = cg_new_block(cg, "st.any");
            done = cg_new_block(cg, "st.done");
            LLVMBuildCondBr(cg->b, any, yes, done);
            LLVMPositionBuilderAtEnd(cg->b, yes);
        }
        LLVMValueRef st = LLVMBuildStore(cg->b, cg_to_mem(cg, v, b->elem),
                                         cg_elem_ptr(cg, b, cg_lin_scalar(cg, li)));
        LLVMSetAlignment(st, cg_elem_align(b));
        if (done) {
            LLVMBuildBr(cg->b, done);
            LLVMPositionBuilderAtEnd(cg->b, done);
        }
        return;
    }
    v = cg_to_mem(cg, cg_splat(cg, v, cg->lanes), b->elem);
    LLVMTypeRef vt = LLVMTypeOf(v);
    if (kind == ACCESS_VECTOR) {
        LLVMValueRef p = cg_elem_ptr(cg, b, cg_lin_scalar(cg, li));
        if (cg->mask && !cg_is_local(b)) {
            LLVMTypeRef over[2] = {vt, LLVMTypeOf(p)};
            LLVMValueRef args[4] = {v, p, LLVMConstInt(cg->i32, cg_elem_align(b), 0), cg->mask};
            cg_intrinsic(cg, "llvm.masked.store", over, 2, args, 4);
            return;
        }
        if (cg->mask) {
            /* A cache: blend with what is there, so that it stays promotable. */
            LLVMValueRef old = LLVMBuildLoad2(cg->b, vt, p, "");
            LLVMSetAlignment(old, vector_align(cg, b, li));
            v = LLVMBuildSelect(cg->b, cg->mask, v, old, "");
        }
        LLVMValueRef st = LLVMBuildStore(cg->b, v, p);
        LLVMSetAlignment(st, vector_align(cg, b, li));
        return;
    }
    LLVMValueRef ptrs = cg_elem_ptr(cg, b, cg_splat(cg, cg_lin(cg, li), cg->lanes));
    LLVMTypeRef over[2] = {vt, LLVMTypeOf(ptrs)};
    LLVMValueRef args[4] = {v, ptrs, LLVMConstInt(cg->i32, cg_elem_align(b), 0),
                            cg->mask ? cg->mask : all_true(cg, cg->lanes)};
    cg_intrinsic(cg, "llvm.masked.scatter", over, 2, args, 4);
}

/* The lanes of mask `outer` (NULL: all) where c holds (holds) or fails: an
 * arm of a lane-dependent `if` or `?:`. */
static LLVMValueRef arm_mask(Cg *cg, LLVMValueRef outer, LLVMValueRef c, bool holds)
{
    LLVMValueRef m = holds ? c : LLVMBuildNot(cg->b, c, "");
    return outer ? LLVMBuildAnd(cg->b, outer, m, "") : m;
}

/* c ? a : b evaluates only the arm taken (ir.h). Arms that load nothing
 * cannot fault: both are computed and a select picks one. Otherwise, under a
 * lane-dependent condition each arm is computed under its lanes' mask (masked
 * loads, as in an `if`); under a lane-invariant one, in its own block. */
static LLVMValueRef emit_select(Cg *cg, const IrExpr *e)
{
    LLVMValueRef c = cg_to_bool(cg, cg_expr(cg, e->args[0]), e->args[0]->type);
    bool lazy = ir_has_load(e->args[1]) || ir_has_load(e->args[2]);
    LLVMValueRef a, b;
    if (!lazy) {
        a = cg_expr(cg, e->args[1]);
        b = cg_expr(cg, e->args[2]);
    } else if (cg_lanes_of(c)) {
        LLVMValueRef outer = cg->mask;
        cg->mask = arm_mask(cg, outer, c, true);
        a = cg_expr(cg, e->args[1]);
        cg->mask = arm_mask(cg, outer, c, false);
        b = cg_expr(cg, e->args[2]);
        cg->mask = outer;
    } else {
        LLVMBasicBlockRef then_b = cg_new_block(cg, "sel.then"), else_b = cg_new_block(cg, "sel.else"),
                          done = cg_new_block(cg, "sel.done");
        LLVMBuildCondBr(cg->b, c, then_b, else_b);
        LLVMPositionBuilderAtEnd(cg->b, then_b);
        a = cg_expr(cg, e->args[1]);
        LLVMBasicBlockRef a_end = LLVMGetInsertBlock(cg->b);
        LLVMPositionBuilderAtEnd(cg->b, else_b);
        b = cg_expr(cg, e->args[2]);
        LLVMBasicBlockRef b_end = LLVMGetInsertBlock(cg->b);
        int lanes = cg_lanes_of(a) ? cg_lanes_of(a) : cg_lanes_of(b);
        LLVMPositionBuilderAtEnd(cg->b, a_end);   /* each arm's splat in its own block */
        a = lanes ? cg_splat(cg, a, lanes) : a;
        LLVMBuildBr(cg->b, done);
        LLVMPositionBuilderAtEnd(cg->b, b_end);
        b = lanes ? cg_splat(cg, b, lanes) : b;
        LLVMBuildBr(cg->b, done);
        LLVMPositionBuilderAtEnd(cg->b, done);
        LLVMValueRef phi = LLVMBuildPhi(cg->b, LLVMTypeOf(a), "");
        LLVMValueRef vals[2] = {a, b};
        LLVMBasicBlockRef bbs[2] = {a_end, b_end};
        LLVMAddIncoming(phi, vals, bbs, 2);
        return phi;
    }
    unify(cg, &a, &b);
    if (cg_lanes_of(a) && !cg_lanes_of(c))
        c = cg_splat(cg, c, cg_lanes_of(a));
    else if (cg_lanes_of(c)) {
        a = cg_splat(cg, a, cg_lanes_of(c));
        b = cg_splat(cg, b, cg_lanes_of(c));
    }
    return LLVMBuildSelect(cg->b, c, a, b, "");
}

LLVMValueRef cg_expr(Cg *cg, const IrExpr *e)
{
    switch (e->kind) {
    case IR_INT:
    case IR_FLOAT: return emit_const(cg, e);
    case IR_VARREF:
        if (!cg->vars[e->var->id]) {
            cg_error(cg, "a variable used out of its scope");
            return LLVMConstNull(cg_reg_type(cg, e->type));
        }
        return cg->vars[e->var->id];
    case IR_LOAD: return emit_load(cg, e);
    case IR_UNARY: return emit_unary(cg, e);
    case IR_BINARY: return emit_binary(cg, e);
    case IR_SELECT: return emit_select(cg, e);
    case IR_CAST: return cg_convert(cg, cg_expr(cg, e->args[0]), e->args[0]->type, e->type);
    case IR_CALL: return emit_call(cg, e);
    case IR_SHUFFLE:
        /* only in the GPU execution form (ir.h): the device hook */
        if (cg->hooks && cg->hooks->shuffle && !cg->lanes)
            return cg->hooks->shuffle(cg, e, cg_expr(cg, e->args[0]));
        cg_error(cg, "a shuffle outside device code or in a vectorized loop");
        return LLVMConstNull(cg_reg_type(cg, e->type));
    }
    return LLVMConstNull(cg->i64);
}

/* A lane-invariant i64 (loop bounds, sizes, origins). */
LLVMValueRef cg_scalar(Cg *cg, const IrExpr *e)
{
    LLVMValueRef v = cg_expr(cg, e);
    if (cg_lanes_of(v)) {
        cg_error(cg, "a lane-dependent loop bound or shape");
        return lane0(cg, v);
    }
    return v;
}

/* ---- exits and heap ------------------------------------------------------- */

static LLVMValueRef fn_free(Cg *cg, LLVMValueRef p)
{
    LLVMTypeRef pt = cg->ptr;
    return call_c(cg, "free", LLVMVoidTypeInContext(cg->c), &pt, 1, &p);
}

static LLVMValueRef fn_malloc(Cg *cg, LLVMValueRef bytes)
{
    LLVMTypeRef it = cg->i64;
    return call_c(cg, "malloc", cg->ptr, &it, 1, &bytes);
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
            cg->stride[s->var->id] = expr_stride(cg, s->value);
            break;
        case IR_STORE:
            if (s->nidx != 1 || expr_stride(cg, s->idx[0]) == 0)
                return false;
            break;
        case IR_IF:
            if (!vectorizable_block(cg, &s->body) || !vectorizable_block(cg, &s->else_body))
                return false;
            break;
        case IR_LOOP:
            if (s->loop_kind == IR_PARALLEL || s->loop_kind == IR_BOUND ||
                expr_stride(cg, s->lo) != 0 || expr_stride(cg, s->extent) != 0)
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
            const Range *k = lin_is_const(&b.lo) && lin_is_const(&b.hi) && b.lo.c == b.hi.c ? &b
                             : lin_is_const(&a.lo) && lin_is_const(&a.hi) && a.lo.c == a.hi.c ? &a
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
    emit_store_value(cg, s->buf, &li, v);
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
        cg->mask = arm_mask(cg, outer, c, true);
        cg_block(cg, &s->body);
        if (s->else_body.len) {
            cg->mask = arm_mask(cg, outer, c, false);
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

/* ---- copies -------------------------------------------------------------- */

typedef struct CopyCtx {
    const IrCopy *c;
    bool inside;               /* the whole box is in both buffers: no checks */
    LLVMValueRef dorg[64], sorg[64];
    LLVMValueRef t[64];        /* the current box coordinates */
} CopyCtx;

/* The element offset of coordinates x in b (flatten.h's layout). */
LLVMValueRef cg_layout_offset(Cg *cg, const IrBuffer *b, LLVMValueRef *x)
{
    int n = b->ndims;
    LLVMValueRef *dims = cg->bufdims[b->id];
    if (n == 0)
        return LLVMConstInt(cg->i64, 0, 0);
    LLVMValueRef r = LLVMConstInt(cg->i64, 0, 0);
    for (int d = 0; d < n - 1; d++)
        r = LLVMBuildAdd(cg->b, LLVMBuildMul(cg->b, r, dims[d], ""), x[d], "");
    LLVMValueRef w = dims[n - 1];
    if (b->pad)
        w = LLVMBuildAdd(cg->b, w, LLVMConstInt(cg->i64, (unsigned long long)b->pad, 0), "");
    LLVMValueRef col = x[n - 1];
    int64_t cd[64];
    int64_t chunks = n <= 64 && cg_const_dims(b, cd) ? flatten_swizzles(b, cd) : 0;
    if (chunks) {
        LLVMValueRef k = LLVMConstInt(cg->i64, (unsigned long long)(16 / elem_type_bytes(b->elem)), 0);
        LLVMValueRef chunk = LLVMBuildSDiv(cg->b, col, k, "");
        LLVMValueRef rm = LLVMBuildSRem(cg->b, r, LLVMConstInt(cg->i64, (unsigned long long)chunks, 0), "");
        col = LLVMBuildAdd(cg->b, LLVMBuildMul(cg->b, LLVMBuildXor(cg->b, chunk, rm, ""), k, ""),
                           LLVMBuildSRem(cg->b, col, k, ""), "");
    }
    return LLVMBuildAdd(cg->b, LLVMBuildMul(cg->b, r, w, ""), col, "");
}

/* 0 <= x[d] < dims[d] for d in [0, n) (n: all dims, or all but the last). */
LLVMValueRef cg_in_box(Cg *cg, const IrBuffer *b, LLVMValueRef *x, int n)
{
    LLVMValueRef ok = LLVMConstInt(cg->i1, 1, 0);
    for (int d = 0; d < n; d++) {
        /* unsigned x < dim is 0 <= x < dim for dim >= 0 */
        LLVMValueRef in = LLVMBuildICmp(cg->b, LLVMIntULT, x[d], cg->bufdims[b->id][d], "");
        ok = LLVMBuildAnd(cg->b, ok, in, "");
    }
    return ok;
}

/* 16 zero bytes: what an element outside a copy's source reads. */
static LLVMValueRef zeros_global(Cg *cg)
{
    LLVMValueRef g = LLVMGetNamedGlobal(cg->mod, "accl.zeros");
    if (!g) {
        LLVMTypeRef t = LLVMArrayType2(cg->i8, 16);
        g = LLVMAddGlobal(cg->mod, t, "accl.zeros");
        LLVMSetInitializer(g, LLVMConstNull(t));
        LLVMSetGlobalConstant(g, 1);
        LLVMSetLinkage(g, LLVMInternalLinkage);
        LLVMSetAlignment(g, 16);
    }
    return g;
}

/* 16 bytes of the current function's stack: where an element a copy does
 * not write goes. */
static LLVMValueRef sink_ptr(Cg *cg)
{
    if (!cg->fn.sink) {
        cg->fn.sink = LLVMBuildAlloca(cg->ab, LLVMArrayType2(cg->i8, 16), "sink");
        LLVMSetAlignment(cg->fn.sink, 16);
    }
    return cg->fn.sink;
}

static void copy_coords(Cg *cg, CopyCtx *cc, LLVMValueRef *s, LLVMValueRef *d)
{
    for (int k = 0; k < cc->c->ndims; k++) {
        s[k] = LLVMBuildAdd(cg->b, cc->sorg[k], cc->t[k], "");
        d[k] = LLVMBuildAdd(cg->b, cc->dorg[k], cc->t[k], "");
    }
}

/* One element t of the box, as copy_element in interp.c. */
static void copy_element(Cg *cg, CopyCtx *cc)
{
    const IrCopy *c = cc->c;
    LLVMValueRef s[64], d[64];
    copy_coords(cg, cc, s, d);
    if (cc->inside) {
        LLVMValueRef v = cg_from_mem(cg, cg_scalar_load(cg, c->src, cg_layout_offset(cg, c->src, s)), c->src->elem);
        v = cg_convert(cg, v, c->src->elem, c->dst->elem);
        LLVMValueRef store = LLVMBuildStore(cg->b, cg_to_mem(cg, v, c->dst->elem),
                                            cg_elem_ptr(cg, c->dst, cg_layout_offset(cg, c->dst, d)));
        LLVMSetAlignment(store, cg_elem_align(c->dst));
        return;
    }
    /* Without branches (small boxes unroll into many of these): an element
     * outside the source reads the zeros of accl.zeros, one not to be
     * written goes to the function's sink. A cache is never left (the
     * interpreter reports that as a miscompile): its accesses stay direct,
     * at constant offsets when the copy is unrolled, so that a register
     * cache stays promotable. */
    bool dst_cache = cg_is_local(c->dst), src_cache = cg_is_local(c->src);
    LLVMValueRef go = dst_cache ? LLVMConstInt(cg->i1, 1, 0) : cg_in_box(cg, c->dst, d, c->ndims);
    if (c->guard) {
        for (int k = 0; k < c->ndims; k++)
            cg->vars[c->index[k]->id] = cc->t[k];
        go = LLVMBuildAnd(cg->b, go, cg_to_bool(cg, cg_expr(cg, c->guard), c->guard->type), "");
        for (int k = 0; k < c->ndims; k++)
            cg->vars[c->index[k]->id] = NULL;
    }
    LLVMValueRef s_ok = src_cache ? LLVMConstInt(cg->i1, 1, 0) : cg_in_box(cg, c->src, s, c->ndims);
    if (!c->zero_fill)
        go = LLVMBuildAnd(cg->b, go, s_ok, "");
    LLVMValueRef sp = cg_elem_ptr(cg, c->src, cg_layout_offset(cg, c->src, s));
    if (!src_cache)
        sp = LLVMBuildSelect(cg->b, s_ok, sp, zeros_global(cg), "");
    LLVMValueRef ld = LLVMBuildLoad2(cg->b, cg_mem_type(cg, c->src->elem), sp, "");
    LLVMSetAlignment(ld, cg_elem_align(c->src));
    LLVMValueRef v = cg_convert(cg, cg_from_mem(cg, ld, c->src->elem), c->src->elem, c->dst->elem);
    v = cg_to_mem(cg, v, c->dst->elem);
    LLVMValueRef dp = cg_elem_ptr(cg, c->dst, cg_layout_offset(cg, c->dst, d));
    if (dst_cache) {
        if (!LLVMIsConstant(go) || !LLVMConstIntGetZExtValue(go)) {
            LLVMValueRef old = LLVMBuildLoad2(cg->b, LLVMTypeOf(v), dp, "");
            LLVMSetAlignment(old, cg_elem_align(c->dst));
            v = LLVMBuildSelect(cg->b, go, v, old, "");
        }
    } else {
        dp = LLVMBuildSelect(cg->b, go, dp, sink_ptr(cg), "");
    }
    LLVMValueRef store = LLVMBuildStore(cg->b, v, dp);
    LLVMSetAlignment(store, cg_elem_align(c->dst));
}

static LLVMValueRef clamp(Cg *cg, LLVMValueRef x, LLVMValueRef lo, LLVMValueRef hi)
{
    return cg_int_minmax(cg, true, cg_int_minmax(cg, false, x, lo, ELEM_I64), hi, ELEM_I64);
}

/* The part [*lo, *hi) of a row of extent e starting at o that lies in [0, dim),
 * both clamped to [0, e]; empty rows when outer (the other coordinates) is false. */
static void row_range(Cg *cg, LLVMValueRef o, LLVMValueRef e, LLVMValueRef dim, LLVMValueRef outer,
                      LLVMValueRef *lo, LLVMValueRef *hi)
{
    LLVMValueRef zero = LLVMConstInt(cg->i64, 0, 0);
    *lo = clamp(cg, LLVMBuildNeg(cg->b, o, ""), zero, e);
    *hi = clamp(cg, LLVMBuildSub(cg->b, dim, o, ""), *lo, e);
    *hi = LLVMBuildSelect(cg->b, outer, *hi, *lo, "");
}

/* One row of a plain same-type copy without a guard: memcpy of the part in
 * both boxes, memset 0 (zero_fill) of the rest of the destination's part. */
static void copy_row_fast(Cg *cg, CopyCtx *cc)
{
    const IrCopy *c = cc->c;
    int n = c->ndims;
    LLVMValueRef s[64], d[64];
    cc->t[n - 1] = LLVMConstInt(cg->i64, 0, 0);
    copy_coords(cg, cc, s, d);
    if (cc->inside) {
        /* the whole row: a memcpy of constant length (LLVM expands it) */
        LLVMBuildMemCpy(cg->b, cg_elem_ptr(cg, c->dst, cg_layout_offset(cg, c->dst, d)), cg_elem_align(c->dst),
                        cg_elem_ptr(cg, c->src, cg_layout_offset(cg, c->src, s)), cg_elem_align(c->src),
                        LLVMConstInt(cg->i64, (unsigned long long)(c->extent[n - 1] *
                                                                   elem_type_bytes(c->dst->elem)), 0));
        return;
    }
    LLVMValueRef e = LLVMConstInt(cg->i64, (unsigned long long)c->extent[n - 1], 0);
    LLVMValueRef slo, shi, dlo, dhi;
    row_range(cg, s[n - 1], e, cg->bufdims[c->src->id][n - 1], cg_in_box(cg, c->src, s, n - 1), &slo, &shi);
    row_range(cg, d[n - 1], e, cg->bufdims[c->dst->id][n - 1], cg_in_box(cg, c->dst, d, n - 1), &dlo, &dhi);
    LLVMValueRef lo = cg_int_minmax(cg, false, slo, dlo, ELEM_I64);
    LLVMValueRef hi = cg_int_minmax(cg, true, shi, dhi, ELEM_I64);
    hi = cg_int_minmax(cg, false, hi, lo, ELEM_I64);
    LLVMValueRef esz = LLVMConstInt(cg->i64, (unsigned long long)elem_type_bytes(c->dst->elem), 0);
    LLVMValueRef drow = cg_elem_ptr(cg, c->dst, cg_layout_offset(cg, c->dst, d));
    LLVMValueRef srow = cg_elem_ptr(cg, c->src, cg_layout_offset(cg, c->src, s));
    LLVMTypeRef mt = cg_mem_type(cg, c->dst->elem);
    LLVMValueRef dst_lo = LLVMBuildGEP2(cg->b, mt, drow, &lo, 1, "");
    LLVMValueRef src_lo = LLVMBuildGEP2(cg->b, mt, srow, &lo, 1, "");
    LLVMBuildMemCpy(cg->b, dst_lo, cg_elem_align(c->dst), src_lo, cg_elem_align(c->src),
                    LLVMBuildMul(cg->b, LLVMBuildSub(cg->b, hi, lo, ""), esz, ""));
    if (c->zero_fill) {
        /* [dlo, lo) and [hi, dhi), where lo/hi are clamped into [dlo, dhi]. */
        LLVMValueRef a = clamp(cg, lo, dlo, dhi), z = clamp(cg, hi, a, dhi);
        LLVMValueRef zero8 = LLVMConstInt(cg->i8, 0, 0);
        LLVMBuildMemSet(cg->b, LLVMBuildGEP2(cg->b, mt, drow, &dlo, 1, ""), zero8,
                        LLVMBuildMul(cg->b, LLVMBuildSub(cg->b, a, dlo, ""), esz, ""), cg_elem_align(c->dst));
        LLVMBuildMemSet(cg->b, LLVMBuildGEP2(cg->b, mt, drow, &z, 1, ""), zero8,
                        LLVMBuildMul(cg->b, LLVMBuildSub(cg->b, dhi, z, ""), esz, ""), cg_elem_align(c->dst));
    }
}

typedef struct CopyLevel {
    CopyCtx *cc;
    int dim;
    bool fast;
} CopyLevel;

static void copy_dims(Cg *cg, CopyCtx *cc, int dim, bool fast);

static void copy_level_body(Cg *cg, const void *arg, LLVMValueRef k)
{
    const CopyLevel *cl = arg;
    cl->cc->t[cl->dim] = k;
    copy_dims(cg, cl->cc, cl->dim + 1, cl->fast);
}

/* Loops over dimensions dim.. of the box (the last one by rows when fast). */
static void copy_dims(Cg *cg, CopyCtx *cc, int dim, bool fast)
{
    const IrCopy *c = cc->c;
    if (fast && dim == c->ndims - 1) {
        copy_row_fast(cg, cc);
        return;
    }
    if (dim == c->ndims) {
        copy_element(cg, cc);
        return;
    }
    CopyLevel cl = {cc, dim, fast};
    cg_counted_loop(cg, NULL, LLVMConstInt(cg->i64, (unsigned long long)c->extent[dim], 0),
                      copy_level_body, &cl);
}

/* Every element of a small box, at constant coordinates. */
static void copy_unrolled(Cg *cg, CopyCtx *cc, int dim)
{
    if (dim == cc->c->ndims) {
        copy_element(cg, cc);
        return;
    }
    for (int64_t k = 0; k < cc->c->extent[dim]; k++) {
        cc->t[dim] = LLVMConstInt(cg->i64, (unsigned long long)k, 0);
        copy_unrolled(cg, cc, dim + 1);
    }
}

/* Whether org + [0, extent) lies inside b's dims for both sides of the copy. */
static LLVMValueRef box_inside(Cg *cg, CopyCtx *cc)
{
    const IrCopy *c = cc->c;
    LLVMValueRef ok = LLVMConstInt(cg->i1, 1, 0);
    for (int side = 0; side < 2; side++) {
        const IrBuffer *b = side ? c->dst : c->src;
        LLVMValueRef *org = side ? cc->dorg : cc->sorg;
        for (int d = 0; d < c->ndims; d++) {
            LLVMValueRef end = LLVMBuildAdd(cg->b, org[d], LLVMConstInt(cg->i64, (unsigned long long)c->extent[d], 0), "");
            LLVMValueRef in = LLVMBuildAnd(
                cg->b, LLVMBuildICmp(cg->b, LLVMIntSGE, org[d], LLVMConstInt(cg->i64, 0, 0), ""),
                LLVMBuildICmp(cg->b, LLVMIntSLE, end, cg->bufdims[b->id][d], ""), "");
            ok = LLVMBuildAnd(cg->b, ok, in, "");
        }
    }
    return ok;
}

static bool swizzled(Cg *cg, const IrBuffer *b)
{
    (void)cg;
    int64_t cd[64];
    return b->ndims <= 64 && cg_const_dims(b, cd) && flatten_swizzles(b, cd) != 0;
}

static void emit_copy(Cg *cg, const IrStmt *s)
{
    const IrCopy *c = &s->copy;
    CopyCtx cc = {.c = c};
    if (c->ndims > 64 || c->ndims != c->dst->ndims || c->ndims != c->src->ndims ||
        !cg->bufdims[c->dst->id] || !cg->bufdims[c->src->id]) {
        cg_error(cg, "a copy between buffers of other ranks, or not allocated");
        return;
    }
    int64_t total = 1;
    for (int k = 0; k < c->ndims; k++) {
        cc.dorg[k] = cg_scalar(cg, c->dst_origin[k]);
        cc.sorg[k] = cg_scalar(cg, c->src_origin[k]);
        if (c->extent[k] <= 0)
            return;
        total = total > INT64_MAX / c->extent[k] ? INT64_MAX : total * c->extent[k];
    }
    bool regs = c->dst->mem == IR_MEM_REGISTERS || c->src->mem == IR_MEM_REGISTERS;
    if ((regs || total <= CPU_UNROLL_COPY) && total <= 4096) {
        /* Two versions: without any check where the box lies inside both
         * buffers (one test), element by element with the checks elsewhere. */
        if (!c->guard) {
            LLVMBasicBlockRef fast = cg_new_block(cg, "copy.inside"), slow = cg_new_block(cg, "copy.edge"),
                              done = cg_new_block(cg, "copy.end");
            LLVMBuildCondBr(cg->b, box_inside(cg, &cc), fast, slow);
            LLVMPositionBuilderAtEnd(cg->b, fast);
            cc.inside = true;
            copy_unrolled(cg, &cc, 0);
            cc.inside = false;
            LLVMBuildBr(cg->b, done);
            LLVMPositionBuilderAtEnd(cg->b, slow);
            copy_unrolled(cg, &cc, 0);
            LLVMBuildBr(cg->b, done);
            LLVMPositionBuilderAtEnd(cg->b, done);
            return;
        }
        copy_unrolled(cg, &cc, 0);
        return;
    }
    bool fast = c->ndims > 0 && !c->guard && c->dst->elem == c->src->elem &&
                !swizzled(cg, c->dst) && !swizzled(cg, c->src);
    if (fast) {
        /* Rows of constant length where the box is inside both buffers. */
        LLVMBasicBlockRef in = cg_new_block(cg, "copy.inside"), edge = cg_new_block(cg, "copy.edge"),
                          done = cg_new_block(cg, "copy.end");
        LLVMBuildCondBr(cg->b, box_inside(cg, &cc), in, edge);
        LLVMPositionBuilderAtEnd(cg->b, in);
        cc.inside = true;
        copy_dims(cg, &cc, 0, true);
        cc.inside = false;
        LLVMBuildBr(cg->b, done);
        LLVMPositionBuilderAtEnd(cg->b, edge);
        copy_dims(cg, &cc, 0, true);
        LLVMBuildBr(cg->b, done);
        LLVMPositionBuilderAtEnd(cg->b, done);
        return;
    }
    copy_dims(cg, &cc, 0, false);
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
            set_lin(cg, s->var, &l);
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
            emit_copy(cg, s);
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
    snprintf(name, sizeof name, "%s.par%d", f->name, cg->npar++);
    LLVMTypeRef params[3] = {cg->ptr, cg->i64, cg->i64};
    LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(cg->c), params, 3, 0);
    LLVMValueRef fn = LLVMAddFunction(cg->mod, name, fty);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    set_fn_attrs(cg, fn);
    LLVMTypeRef pf[3] = {cg->ptr, cg->ptr, cg->i64};
    LLVMValueRef args[3] = {fn, ctx, extent};
    call_c(cg, "accl_parallel_for", LLVMVoidTypeInContext(cg->c), pf, 3, args);
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
