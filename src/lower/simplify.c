/* Simplification: constant folding, algebra on integers, proven conditions.
 *
 *   folding      every type, exactly as src/util/numbers.h computes: integers
 *                wrap at their width, x/0 = 0, x%0 = x; f32 and f64 results
 *                are rounded to their type; f16/bf16 only through casts
 *                (num_round_float). A float operand is folded only when its
 *                constant is exact in its type, so no literal's rounding is
 *                decided here. Floats are never reassociated.
 *   integers     x+0, x-0, x*1, x*0, x/1, x%1, fdiv/fmod by 1; i64 index
 *                arithmetic through iv_rewrite (collects terms, (a*c) fdiv c,
 *                nested fdiv, divisible parts) when that makes it smaller
 *   bool         constant && and ||, !!x, ! of an integer comparison
 *   proven       i64 comparisons the interval analysis decides (under the
 *                enclosing loops, ifs and assumes) become constants
 *   select       constant condition, or equal arms
 *   statements   an `if` with a proven condition becomes the branch taken; a
 *                loop whose extent is provably <= 0 goes; a loop of extent 1
 *                becomes its body with the index replaced by lo (not bound
 *                or pipelined loops: those shape the launch)
 */
#include "lower/simplify.h"

#include <math.h>
#include <string.h>

#include "lower/passes.h"
#include "util/numbers.h"
#include "util/intmath.h"

/* ---- folding ---- */

static bool int_const(const IrExpr *e)
{
    return e->kind == IR_INT && num_wrap_int(e->ival, e->type) == e->ival;
}

/* A float constant exact in its type (NaN and infinities included). */
static bool float_const(const IrExpr *e)
{
    return e->kind == IR_FLOAT && (isnan(e->fval) || num_round_float(e->fval, e->type) == e->fval);
}

static bool arith_float(ElemType t) { return t == ELEM_F32 || t == ELEM_F64; }

static IrExpr *fold_int_binary(IrFunc *f, const IrExpr *e, int64_t a, int64_t b)
{
    ElemType t = e->args[0]->type;
    uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
    int64_t r;
    switch (e->op) {
    case IR_ADD: r = num_wrap_int((int64_t)(ua + ub), t); break;
    case IR_SUB: r = num_wrap_int((int64_t)(ua - ub), t); break;
    case IR_MUL: r = num_wrap_int((int64_t)(ua * ub), t); break;
    case IR_DIV: r = num_int_div(a, b, t); break;
    case IR_REM: r = num_int_rem(a, b, t); break;
    case IR_FLOORDIV:
    case IR_FLOORMOD:
        if (b <= 0)
            return NULL;
        r = e->op == IR_FLOORDIV ? im_floor_div(a, b) : im_floor_mod(a, b);
        break;
    case IR_MIN: r = a < b ? a : b; break;
    case IR_MAX: r = a > b ? a : b; break;
    case IR_EQ: return ir_int(f, ELEM_BOOL, a == b);
    case IR_NE: return ir_int(f, ELEM_BOOL, a != b);
    case IR_LT: return ir_int(f, ELEM_BOOL, a < b);
    case IR_LE: return ir_int(f, ELEM_BOOL, a <= b);
    case IR_GT: return ir_int(f, ELEM_BOOL, a > b);
    case IR_GE: return ir_int(f, ELEM_BOOL, a >= b);
    case IR_AND: return ir_int(f, ELEM_BOOL, a && b);
    case IR_OR: return ir_int(f, ELEM_BOOL, a || b);
    default: return NULL;
    }
    return ir_int(f, e->type, r);
}

static IrExpr *fold_float_binary(IrFunc *f, const IrExpr *e, double a, double b)
{
    ElemType t = e->args[0]->type;
    double r;
    switch (e->op) {
    case IR_ADD: r = a + b; break;
    case IR_SUB: r = a - b; break;
    case IR_MUL: r = a * b; break;
    case IR_DIV: r = a / b; break;
    case IR_MIN:
    case IR_MAX:
        /* NaN if either is NaN; a signed-zero tie is left to the target. */
        if (isnan(a) || isnan(b)) {
            r = NAN;
            break;
        }
        if (a == b && signbit(a) != signbit(b))
            return NULL;
        r = (e->op == IR_MIN) == (a < b) ? a : b;
        break;
    case IR_EQ: return ir_int(f, ELEM_BOOL, a == b);
    case IR_NE: return ir_int(f, ELEM_BOOL, a != b);
    case IR_LT: return ir_int(f, ELEM_BOOL, a < b);
    case IR_LE: return ir_int(f, ELEM_BOOL, a <= b);
    case IR_GT: return ir_int(f, ELEM_BOOL, a > b);
    case IR_GE: return ir_int(f, ELEM_BOOL, a >= b);
    default: return NULL;
    }
    /* + - * / of two f32 values computed in f64 and rounded once is the f32 result. */
    return ir_float(f, t, num_round_float(r, t));
}

static IrExpr *fold_cast(IrFunc *f, const IrExpr *e)
{
    const IrExpr *a = e->args[0];
    ElemType to = e->type;
    if (int_const(a)) {
        int64_t v = a->ival;
        if (!elem_is_float(to))
            return ir_int(f, to, num_wrap_int(v, to));
        if (to == ELEM_F64)
            return ir_float(f, to, (double)v);
        if (to == ELEM_F32)
            return ir_float(f, to, (double)(float)v);
        /* f16/bf16 from an integer exact in f32: one rounding, as num_round_float does. */
        if (v >= -(1 << 24) && v <= (1 << 24))
            return ir_float(f, to, num_round_float((double)v, to));
        return NULL;
    }
    if (float_const(a)) {
        if (!elem_is_float(to))
            return ir_int(f, to, num_float_to_int(a->fval, to));
        return ir_float(f, to, num_round_float(a->fval, to));
    }
    return NULL;
}

IrExpr *simplify_fold(IrFunc *f, const IrExpr *e)
{
    switch (e->kind) {
    case IR_UNARY: {
        const IrExpr *a = e->args[0];
        if (e->op == IR_NOT && int_const(a))
            return ir_int(f, ELEM_BOOL, !a->ival);
        if (e->op == IR_NEG && int_const(a) && a->type != ELEM_BOOL)
            return ir_int(f, e->type, num_wrap_int((int64_t)(0 - (uint64_t)a->ival), e->type));
        if (e->op == IR_NEG && float_const(a) && arith_float(e->type))
            return ir_float(f, e->type, -a->fval);
        return NULL;
    }
    case IR_BINARY: {
        const IrExpr *a = e->args[0], *b = e->args[1];
        if (int_const(a) && int_const(b))
            return fold_int_binary(f, e, a->ival, b->ival);
        if (float_const(a) && float_const(b) && arith_float(a->type))
            return fold_float_binary(f, e, a->fval, b->fval);
        return NULL;
    }
    case IR_CAST: return fold_cast(f, e);
    case IR_SELECT:
        if (int_const(e->args[0]))
            return e->args[0]->ival ? e->args[1] : e->args[2];
        return NULL;
    default: return NULL;
    }
}

/* ---- identities ---- */

static bool is_int_value(const IrExpr *e, int64_t v) { return e->kind == IR_INT && e->ival == v; }

static IrOp negate_int_cmp(IrOp op)
{
    static const IrOp neg[] = {[IR_EQ] = IR_NE, [IR_NE] = IR_EQ, [IR_LT] = IR_GE,
                               [IR_LE] = IR_GT, [IR_GT] = IR_LE, [IR_GE] = IR_LT};
    return neg[op];
}

/* Integer algebra (not bool): the operand that the result equals, or a zero. */
static IrExpr *int_identity(IrFunc *f, const IrExpr *e)
{
    IrExpr *a = e->args[0], *b = e->args[1];
    switch (e->op) {
    case IR_ADD:
        return is_int_value(b, 0) ? a : is_int_value(a, 0) ? b : NULL;
    case IR_SUB: return is_int_value(b, 0) ? a : NULL;
    case IR_MUL:
        if (is_int_value(b, 1) || is_int_value(a, 1))
            return is_int_value(b, 1) ? a : b;
        return is_int_value(a, 0) || is_int_value(b, 0) ? ir_int(f, e->type, 0) : NULL;
    case IR_DIV:
    case IR_FLOORDIV: return is_int_value(b, 1) ? a : NULL;
    case IR_REM:
    case IR_FLOORMOD: return is_int_value(b, 1) ? ir_int(f, e->type, 0) : NULL;
    default: return NULL;
    }
}

static IrExpr *bool_identity(IrFunc *f, const IrExpr *e)
{
    if (e->kind == IR_UNARY && e->op == IR_NOT) {
        const IrExpr *a = e->args[0];
        if (a->kind == IR_UNARY && a->op == IR_NOT)
            return a->args[0];
        /* !(a < b) is a >= b for integers (not floats: NaN) */
        if (a->kind == IR_BINARY && a->op >= IR_EQ && a->op <= IR_GE && !elem_is_float(a->args[0]->type))
            return ir_binary(f, negate_int_cmp(a->op), a->args[0], a->args[1]);
        return NULL;
    }
    if (e->kind != IR_BINARY || (e->op != IR_AND && e->op != IR_OR))
        return NULL;
    int64_t absorbing = e->op == IR_OR;
    for (int i = 0; i < 2; i++) {
        const IrExpr *k = e->args[i];
        if (k->kind == IR_INT)
            return k->ival == absorbing ? ir_int(f, ELEM_BOOL, absorbing) : e->args[1 - i];
    }
    return NULL;
}

/* One node, operands already simplified. */
static IrExpr *simplify_node(const IvCtx *c, IrFunc *f, IrExpr *e)
{
    IrExpr *r = simplify_fold(f, e);
    if (r)
        return r;
    if (e->kind == IR_SELECT) {
        IvTruth t = c ? iv_prove(c, e->args[0]) : IV_UNKNOWN;
        if (t != IV_UNKNOWN)
            return t == IV_TRUE ? e->args[1] : e->args[2];
        return ir_expr_equal(e->args[1], e->args[2]) ? e->args[1] : NULL;
    }
    if ((r = bool_identity(f, e)))
        return r;
    if (e->kind == IR_BINARY && elem_is_int(e->type) && (r = int_identity(f, e)))
        return r;
    if (!c)
        return NULL;
    if (e->type == ELEM_BOOL && e->kind == IR_BINARY && e->op >= IR_EQ && e->op <= IR_GE &&
        e->args[0]->type == ELEM_I64) {
        IvTruth t = iv_prove(c, e);
        return t == IV_UNKNOWN ? NULL : ir_int(f, ELEM_BOOL, t == IV_TRUE);
    }
    if (e->type == ELEM_I64 && e->kind == IR_BINARY)
        return iv_rewrite(c, e, true);
    return NULL;
}

/* Bottom-up until a node no longer changes (each step makes it smaller or
 * constant, so this ends). */
IrExpr *simplify_expr(const IvCtx *c, IrExpr *e)
{
    IrFunc *f = c ? c->f : NULL;
    for (int i = 0; i < e->nargs; i++)
        e->args[i] = simplify_expr(c, e->args[i]);
    if (!f)
        return e;
    for (int steps = 0; steps < 8; steps++) {
        IrExpr *r = simplify_node(c, f, e);
        if (!r || r == e)
            break;
        e = r;
        if (e->kind != IR_INT && e->kind != IR_FLOAT && steps < 7)
            for (int i = 0; i < e->nargs; i++)
                e->args[i] = simplify_expr(c, e->args[i]);
    }
    return e;
}

/* ---- block helpers ---- */

void simp_splice(IrFunc *f, IrBlock *b, int at, const IrBlock *src)
{
    memmove(b->items + at, b->items + at + 1, sizeof *b->items * (size_t)(b->len - at - 1));
    b->len--;
    for (int i = 0; i < src->len; i++)
        ir_block_insert(f, b, at + i, src->items[i]);
}

typedef struct SubstArg {
    IrFunc *f;
    const IrVar *v;
    const IrExpr *to;
} SubstArg;

static IrExpr *subst_one(void *arg, IrExpr *e)
{
    SubstArg *s = arg;
    return ir_expr_uses(e, s->v) ? ir_substitute(s->f, e, s->v, s->to) : e;
}

void simp_subst_block(IrFunc *f, IrBlock *b, const IrVar *v, const IrExpr *to)
{
    SubstArg a = {f, v, to};
    ir_block_map_exprs(b, subst_one, &a);
}

/* ---- the pass ---- */

typedef struct Simp {
    IrFunc *f;
    IvCtx iv;
    bool changed;
} Simp;

static IrExpr *simp_one(Simp *s, IrExpr *e)
{
    IrExpr *before = ir_expr_copy(s->f, e);
    IrExpr *r = simplify_expr(&s->iv, e);
    if (!ir_expr_equal(before, r))
        s->changed = true;
    return r;
}

static IrExpr *simp_one_fn(void *s, IrExpr *e) { return simp_one(s, e); }

static void simp_block(Simp *s, IrBlock *b);

static bool extent_is(Simp *s, const IrExpr *e, int64_t v)
{
    return iv_prove_le(&s->iv, e, v) && (v <= 0 || iv_prove_ge(&s->iv, e, v));
}

/* Returns whether the statement at b->items[i] was replaced (then the same
 * position is visited again). */
static bool simp_stmt(Simp *s, IrBlock *b, int i)
{
    IrStmt *st = b->items[i];
    int mark = iv_mark(&s->iv);
    switch (st->kind) {
    case IR_LOOP: {
        st->lo = simp_one(s, st->lo);
        st->extent = simp_one(s, st->extent);
        bool shapes = st->loop_kind == IR_BOUND || st->stages;
        if (!shapes && extent_is(s, st->extent, 0)) {
            simp_splice(s->f, b, i, &(IrBlock){0});
            return s->changed = true;
        }
        if (!shapes && extent_is(s, st->extent, 1)) {
            simp_subst_block(s->f, &st->body, st->var, st->lo);
            simp_splice(s->f, b, i, &st->body);
            return s->changed = true;
        }
        iv_push_loop(&s->iv, st);
        simp_block(s, &st->body);
        break;
    }
    case IR_IF: {
        st->cond = simp_one(s, st->cond);
        IvTruth t = iv_prove(&s->iv, st->cond);
        if (t != IV_UNKNOWN) {
            simp_splice(s->f, b, i, t == IV_TRUE ? &st->body : &st->else_body);
            return s->changed = true;
        }
        iv_push_fact(&s->iv, st->cond);
        simp_block(s, &st->body);
        iv_pop(&s->iv, mark);
        iv_push_false(&s->iv, st->cond);
        simp_block(s, &st->else_body);
        break;
    }
    case IR_STORE:
    case IR_LET:
    case IR_ALLOC:
        ir_stmt_map_exprs(st, simp_one_fn, s);
        break;
    case IR_COPY:
        ir_stmt_map_exprs(st, simp_one_fn, s);
        if (st->copy.guard && is_int_value(st->copy.guard, 1)) {
            st->copy.guard = NULL;
            s->changed = true;
        }
        break;
    case IR_BARRIER: break;
    }
    iv_pop(&s->iv, mark);
    if (st->kind == IR_LET)
        iv_push_let(&s->iv, st->var, st->value);  /* for the rest of the block */
    return false;
}

static void simp_block(Simp *s, IrBlock *b)
{
    int mark = iv_mark(&s->iv);
    for (int i = 0; i < b->len;)
        if (!simp_stmt(s, b, i))
            i++;
    iv_pop(&s->iv, mark);
}

bool pass_simplify(IrFunc *f, PassCtx *ctx)
{
    (void)ctx;
    Simp s = {.f = f};
    iv_init(&s.iv, f);
    simp_block(&s, &f->body);
    return s.changed;
}
