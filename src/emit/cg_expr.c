/* Values of the emitter (cg.h): f16 and bf16 as i16 bits, conversions,
 * expressions (arithmetic without undefined behaviour, intrinsics, selects)
 * and memory accesses (scalar, vector, masked, gather and scatter). The
 * semantics are in cpu.c's header comment ("values", "memory", "numbers",
 * "selects", "Vector code"). */
#include <math.h>
#include <stdint.h>

#include "emit/cg.h"
#include "util/numbers.h"

/* ---- small helpers ------------------------------------------------------ */

static bool is_unsigned(ElemType t) { return t == ELEM_U8 || t == ELEM_U32 || t == ELEM_BOOL; }
static bool is_half(ElemType t) { return t == ELEM_F16 || t == ELEM_BF16; }

static LLVMTypeRef scalar_of(LLVMTypeRef t)
{
    return LLVMGetTypeKind(t) == LLVMVectorTypeKind ? LLVMGetElementType(t) : t;
}

/* t, or <lanes x t>. */
static LLVMTypeRef shaped(LLVMTypeRef t, int lanes) { return lanes ? LLVMVectorType(t, (unsigned)lanes) : t; }

static LLVMValueRef contract(LLVMValueRef v)
{
    if (LLVMIsAInstruction(v) && LLVMCanValueUseFastMathFlags(v))
        LLVMSetFastMathFlags(v, LLVMFastMathAllowContract);
    return v;
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
    w = LLVMBuildShl(cg->b, w, cg_cst_int(cg, cg->i32, 16, w), "");
    return LLVMBuildBitCast(cg->b, w, shaped(cg->f32, l), "");
}

/* float to bf16 bits as num_f32_to_bf16, in integer operations (no libcall
 * on any target): NaN -> (u >> 16) | 0x40, else round to nearest even. */
static LLVMValueRef f32_to_bf16(Cg *cg, LLVMValueRef x)
{
    int l = cg_lanes_of(x);
    LLVMValueRef u = LLVMBuildBitCast(cg->b, x, shaped(cg->i32, l), "");
    LLVMValueRef hi = LLVMBuildLShr(cg->b, u, cg_cst_int(cg, cg->i32, 16, u), "");
    LLVMValueRef odd = LLVMBuildAnd(cg->b, hi, cg_cst_int(cg, cg->i32, 1, u), "");
    LLVMValueRef bias = LLVMBuildAdd(cg->b, odd, cg_cst_int(cg, cg->i32, 0x7FFF, u), "");
    LLVMValueRef r = LLVMBuildLShr(cg->b, LLVMBuildAdd(cg->b, u, bias, ""),
                                   cg_cst_int(cg, cg->i32, 16, u), "");
    LLVMValueRef nan = LLVMBuildFCmp(cg->b, LLVMRealUNO, x, x, "");
    LLVMValueRef q = LLVMBuildOr(cg->b, hi, cg_cst_int(cg, cg->i32, 0x40, u), "");
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
        return LLVMBuildFCmp(cg->b, LLVMRealONE, x, cg_cst_real(cg, scalar_of(LLVMTypeOf(x)), 0, x), "");
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
    LLVMValueRef one = cg_cst_int(cg, st, 1, a);
    LLVMValueRef bz = LLVMBuildICmp(cg->b, LLVMIntEQ, b, zero, "");
    LLVMValueRef bad = bz;
    if (!is_unsigned(t)) {
        unsigned w = LLVMGetIntTypeWidth(st);
        LLVMValueRef min = cg_cst_int(cg, st, (int64_t)((uint64_t)1 << (w - 1)), a);
        LLVMValueRef ovf = LLVMBuildAnd(cg->b, LLVMBuildICmp(cg->b, LLVMIntEQ, a, min, ""),
                                        LLVMBuildICmp(cg->b, LLVMIntEQ, b, cg_cst_int(cg, st, -1, a), ""), "");
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
LLVMValueRef cg_floor_divmod(Cg *cg, bool div, LLVMValueRef a, LLVMValueRef b)
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
    case IR_FLOORDIV: return cg_floor_divmod(cg, true, a, b);
    case IR_FLOORMOD: return cg_floor_divmod(cg, false, a, b);
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
    cg_unify(cg, &a, &b);
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
        return LLVMBuildXor(cg->b, a, cg_cst_int(cg, cg->i16, 0x8000, a), "");
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
        return cg_call_c(cg, name, st, &st, 1, &x);
    LLVMValueRef r = LLVMGetPoison(LLVMTypeOf(x));
    for (int i = 0; i < l; i++) {
        LLVMValueRef k = LLVMConstInt(cg->i32, (unsigned long long)i, 0);
        LLVMValueRef xi = LLVMBuildExtractElement(cg->b, x, k, "");
        r = LLVMBuildInsertElement(cg->b, r, cg_call_c(cg, name, st, &st, 1, &xi), k, "");
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
        return LLVMBuildFDiv(cg->b, cg_cst_real(cg, scalar_of(over[0]), 1.0, x[0]),
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
    if (!cg_lin_vector(l, &lane, &other))
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
        if (l->t[i].key != CG_LIN_LANE && l->t[i].k * e % want != 0)
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

void cg_emit_store_value(Cg *cg, const IrBuffer *b, const Lin *li, LLVMValueRef v)
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
LLVMValueRef cg_arm_mask(Cg *cg, LLVMValueRef outer, LLVMValueRef c, bool holds)
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
        cg->mask = cg_arm_mask(cg, outer, c, true);
        a = cg_expr(cg, e->args[1]);
        cg->mask = cg_arm_mask(cg, outer, c, false);
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
    cg_unify(cg, &a, &b);
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
