/* Index arithmetic of the emitter (cg.h): strides in the vector loop
 * variable (how a value changes from one lane to the next) and Lin, i64 values
 * as linear forms folded through lets and loop variables. cpu.c's header
 * comment ("Vector code") says how vector code uses them. */
#include <stdint.h>

#include "emit/cg.h"
#include "util/intmath.h"

#define STRIDE_UNKNOWN INT64_MIN

/* ---- strides in the vector loop variable --------------------------------- */

/* How e changes from one lane to the next: a constant stride (0: the same in
 * every lane), or STRIDE_UNKNOWN. Uses Cg.stride for variables. */
int64_t cg_expr_stride(const Cg *cg, const IrExpr *e)
{
    switch (e->kind) {
    case IR_INT:
    case IR_FLOAT: return 0;
    case IR_VARREF: return cg->stride[e->var->id];
    case IR_BINARY:
        if (e->type == ELEM_I64 && (e->op == IR_ADD || e->op == IR_SUB || e->op == IR_MUL)) {
            int64_t a = cg_expr_stride(cg, e->args[0]), b = cg_expr_stride(cg, e->args[1]);
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
            if (cg_expr_stride(cg, e->args[i]) != 0)
                return STRIDE_UNKNOWN;
        return 0;
    }
    return STRIDE_UNKNOWN;
}


/* ---- linear index arithmetic ------------------------------------------------ */

bool cg_lin_add(Lin *a, const Lin *b, int64_t scale)
{
    aff_add_scaled(a, b, scale);
    return a->ok && a->n <= LIN_MAX;
}

void cg_lin_atom(Lin *l, LLVMValueRef v) { *l = aff_term(AFF_KEY(v)); }

/* The LLVM value of term t (NULL for the lane). */
static LLVMValueRef term_value(const AffTerm *t) { return (LLVMValueRef)t->key; }

/* Whether t is a scalar term: neither the lane nor a vector value. */
static bool term_is_scalar(const AffTerm *t)
{
    return t->key != CG_LIN_LANE && !cg_lanes_of(term_value(t));
}

/* e (i64) as a Lin: constants, variables with a Lin, +, -, * by a constant;
 * anything else is an atom (emitted here). */
void cg_lin_of(Cg *cg, const IrExpr *e, Lin *out)
{
    if (e->type == ELEM_I64 && e->kind == IR_INT) {
        *out = aff_const(e->ival);
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
            *out = aff_const(0);
            if (aff_is_const(&b)) {
                if (cg_lin_add(out, &a, b.c))
                    return;
            } else if (aff_is_const(&a)) {
                if (cg_lin_add(out, &b, a.c))
                    return;
            }
        } else {
            *out = a;
            if (cg_lin_add(out, &b, e->op == IR_ADD ? 1 : -1))
                return;
        }
        /* Not linear (or too many terms, or wrapping): one atom, from the
         * two parts (LLVM's arithmetic wraps like the language's). */
        LLVMValueRef x = cg_lin(cg, &a), y = cg_lin(cg, &b);
        cg_unify(cg, &x, &y);
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
        Lin a, terms;
        cg_lin_of(cg, e->args[0], &a);
        terms = a;
        terms.c = 0;
        if (aff_divisible(&terms, dv)) {
            if (e->op == IR_FLOORMOD) {
                *out = aff_const(im_floor_mod(a.c, dv));
                return;
            }
            *out = aff_div_exact(&terms, dv);
            out->c = im_floor_div(a.c, dv);
            return;
        }
        LLVMValueRef x = cg_lin(cg, &a);
        cg_lin_atom(out, cg_floor_divmod(cg, e->op == IR_FLOORDIV, x, cg_cst_int(cg, cg->i64, dv, x)));
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
        if (!term_is_scalar(&l->t[i]))
            continue;
        LLVMValueRef t = term_value(&l->t[i]);
        int64_t k = l->t[i].k;
        bool neg = k == -1 && acc;
        if (k != 1 && !neg)
            t = LLVMBuildMul(cg->b, t, LLVMConstInt(cg->i64, (unsigned long long)k, 1), "");
        acc = !acc ? t : neg ? LLVMBuildSub(cg->b, acc, t, "") : LLVMBuildAdd(cg->b, acc, t, "");
    }
    LLVMValueRef c = LLVMConstInt(cg->i64, (unsigned long long)l->c, 1);
    return !acc ? c : l->c ? LLVMBuildAdd(cg->b, acc, c, "") : acc;
}

/* Whether l has vector parts: the lane (its coefficient in *lane) or others. */
bool cg_lin_vector(const Lin *l, int64_t *lane, bool *other)
{
    *lane = aff_coeff(l, CG_LIN_LANE);
    *other = false;
    for (int i = 0; i < l->n; i++)
        if (l->t[i].key != CG_LIN_LANE && !term_is_scalar(&l->t[i]))
            *other = true;
    return *lane || *other;
}

LLVMValueRef cg_lin(Cg *cg, const Lin *l)
{
    LLVMValueRef v = cg_lin_scalar(cg, l);
    int64_t lane;
    bool other;
    if (!cg_lin_vector(l, &lane, &other))
        return v;
    v = cg_splat(cg, v, cg->lanes);
    if (lane)
        v = LLVMBuildAdd(cg->b, v, lane_steps(cg, lane), "");
    for (int i = 0; i < l->n; i++) {
        if (l->t[i].key == CG_LIN_LANE || term_is_scalar(&l->t[i]))
            continue;
        LLVMValueRef t = term_value(&l->t[i]);
        if (l->t[i].k != 1)
            t = LLVMBuildMul(cg->b, t, cg_cst_int(cg, cg->i64, l->t[i].k, t), "");
        v = LLVMBuildAdd(cg->b, v, t, "");
    }
    return v;
}

void cg_set_lin(Cg *cg, const IrVar *v, const Lin *l)
{
    cg->lin[v->id] = *l;
    cg->has_lin[v->id] = true;
}

/* Binds a loop variable to lo + k: k an LLVM value (serial loops), else the
 * constant kc (unrolled), or the lane (vectorized: lane true). */
void cg_bind_loop_var(Cg *cg, const IrStmt *s, const Lin *lo, LLVMValueRef k, int64_t kc,
                          bool lane)
{
    Lin l = *lo, step = aff_const(kc);
    if (k || lane)
        aff_add_term(&step, lane ? CG_LIN_LANE : AFF_KEY(k), 1);
    if (!cg_lin_add(&l, &step, 1)) {
        /* Too many terms (or wrapping): the base as one atom. */
        LLVMValueRef base = cg_lin_scalar(cg, lo);
        cg_lin_atom(&l, base);
        cg_lin_add(&l, &step, 1);
    }
    cg_set_lin(cg, s->var, &l);
    cg->vars[s->var->id] = cg_lin(cg, &l);
}

void cg_unbind_var(Cg *cg, const IrVar *v)
{
    cg->vars[v->id] = NULL;
    cg->has_lin[v->id] = false;
}
