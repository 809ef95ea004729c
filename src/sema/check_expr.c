/* Expressions: name resolution, types and literals, affine forms, and the
 * checks every tensor access gets (rank, affinity, bounds, write-before-read).
 *
 * Typing is two steps. infer() works bottom-up and gives untyped literals
 * (and expressions made only of them) a pseudo-type TY_UNTYPED_INT or
 * TY_UNTYPED_FLOAT; settle() then gives such a subtree the type its context
 * needs, checking that each literal fits. */
#include <string.h>

#include "sema/sema_internal.h"

static int infer(SemaCtx *c, Expr *e);

/* Left-associative chains (a + b + c ...) make trees as deep as they are
 * long, so walks go down the left spine in a loop and recurse only into
 * right operands, whose depth the parser bounds. Returns the binary nodes of
 * e's left spine, top first; *n is their count. */
static Expr **left_spine(Arena *a, Expr *e, int *n)
{
    int len = 0;
    for (Expr *x = e; x->kind == EXPR_BINARY; x = x->args[0])
        len++;
    Expr **v = ARENA_ARRAY(a, Expr *, len + 1);
    len = 0;
    for (Expr *x = e; x->kind == EXPR_BINARY; x = x->args[0])
        v[len++] = x;
    *n = len;
    return v;
}

ElemType sema_arith_type(ElemType t) { return t == ELEM_F16 || t == ELEM_BF16 ? ELEM_F32 : t; }

static bool is_untyped(int t) { return t == TY_UNTYPED_INT || t == TY_UNTYPED_FLOAT; }

static const char *type_name(int t)
{
    if (t == TY_UNTYPED_INT)
        return "integer literal";
    if (t == TY_UNTYPED_FLOAT)
        return "float literal";
    return elem_type_name((ElemType)t);
}

static int default_type(int t)
{
    return t == TY_UNTYPED_INT ? ELEM_I64 : t == TY_UNTYPED_FLOAT ? ELEM_F32 : t;
}

static int span_len(Span s) { return (int)(s.hi - s.lo); }
static const char *span_text(SemaCtx *c, Span s) { return c->d->src->text + s.lo; }

static bool int_fits(int64_t v, ElemType t)
{
    switch (t) {
    case ELEM_I8: return v >= -128 && v <= 127;
    case ELEM_I16: return v >= -32768 && v <= 32767;
    case ELEM_I32: return v >= INT32_MIN && v <= INT32_MAX;
    case ELEM_U8: return v >= 0 && v <= 255;
    case ELEM_U32: return v >= 0 && v <= (int64_t)UINT32_MAX;
    default: return true;
    }
}

static bool float_only(Intrinsic i) { return i != INTR_ABS && i != INTR_MIN && i != INTR_MAX; }

/* Gives an untyped subtree (whose pseudo-type is `have`) the type t. */
static void settle(SemaCtx *c, Expr *e, int have, ElemType t)
{
    for (;;) {
        if (have == TY_UNTYPED_FLOAT && !elem_is_float(t)) {
            diag_error(c->d, e->span, "float constant '%.*s' cannot have type %s",
                       span_len(e->span), span_text(c, e->span), elem_type_name(t));
            return;
        }
        if (have == TY_UNTYPED_INT && t == ELEM_BOOL) {
            diag_error(c->d, e->span, "integer constant '%.*s' cannot have type bool",
                       span_len(e->span), span_text(c, e->span));
            return;
        }
        e->type = t;
        switch (e->kind) {
        case EXPR_INT:
            if (elem_is_int(t) && !int_fits(e->ival, t))
                diag_error(c->d, e->span, "integer literal %lld does not fit in %s",
                           (long long)e->ival, elem_type_name(t));
            return;
        case EXPR_UNARY:
            if (e->args[0]->kind == EXPR_INT && elem_is_int(t)) {
                e->args[0]->type = t;
                if (!int_fits(-e->args[0]->ival, t))
                    diag_error(c->d, e->span, "integer literal %lld does not fit in %s",
                               (long long)-e->args[0]->ival, elem_type_name(t));
                return;
            }
            break;
        case EXPR_BINARY:
            if (e->op == OP_REM && elem_is_float(t)) {
                diag_error(c->d, e->span, "operator '%%' needs integers, got %s", elem_type_name(t));
                return;
            }
            settle(c, e->args[1], (int)e->args[1]->type, t);
            break;
        case EXPR_CALL:
        case EXPR_COND:
            for (int i = e->kind == EXPR_COND ? 1 : 0; i < e->nargs; i++)
                settle(c, e->args[i], (int)e->args[i]->type, t);
            return;
        default:
            return;
        }
        e = e->args[0];   /* UNARY operand, BINARY left operand: loop, do not recurse */
        have = (int)e->type;
    }
}

/* Makes an expression of type `have` fit a context of type `want`: untyped
 * ones take it; typed ones are left for the caller to compare. */
static int fit(SemaCtx *c, Expr *e, int have, int want)
{
    if (!is_untyped(have))
        return have;
    if (want == ELEM_NONE || want == TY_ERROR || is_untyped(want))
        want = default_type(have);
    settle(c, e, have, (ElemType)want);
    return want;
}

int sema_expr(SemaCtx *c, Expr *e, int want)
{
    int t = infer(c, e);
    if (t == TY_ERROR) {
        e->type = (ElemType)TY_ERROR;
        return t;
    }
    return fit(c, e, t, want);
}

/* Two operands of one operator get one type. */
static int unify(SemaCtx *c, Expr *e, Expr *a, int ta, Expr *b, int tb, const char *op)
{
    if (ta == TY_ERROR || tb == TY_ERROR)
        return TY_ERROR;
    if (is_untyped(ta) && is_untyped(tb))
        return ta == TY_UNTYPED_FLOAT || tb == TY_UNTYPED_FLOAT ? TY_UNTYPED_FLOAT : TY_UNTYPED_INT;
    if (is_untyped(ta))
        return fit(c, a, ta, tb);
    if (is_untyped(tb))
        return fit(c, b, tb, ta);
    if (ta != tb) {
        diag_error(c->d, e->span, "mismatched types %s and %s in '%s'", type_name(ta),
                   type_name(tb), op);
        return TY_ERROR;
    }
    return ta;
}

static int set_type(Expr *e, int t)
{
    e->type = (ElemType)t;  /* pseudo-types are replaced by settle() */
    return t;
}

static int infer_name(SemaCtx *c, Expr *e)
{
    Name *n = sema_lookup(c, e->name.name);
    if (!n) {
        sema_unknown_name(c, e->name.name, e->name.span, false);
        return TY_ERROR;
    }
    e->sym = n->kind;
    e->decl = n->decl;
    switch (n->kind) {
    case SYM_TENSOR:
    case SYM_VAR:
        if (n->ndims > 0) {
            diag_error(c->d, e->span, "'%s' is a tensor and needs indices", n->name);
            return TY_ERROR;
        }
        sema_access(c, e, n, true);
        return set_type(e, sema_arith_type(n->elem));
    case SYM_SCALAR:
    case SYM_LET:
        return set_type(e, sema_arith_type(n->elem));
    default:
        return set_type(e, ELEM_I64);
    }
}

static int infer_index(SemaCtx *c, Expr *e)
{
    Name *n = sema_lookup(c, e->name.name);
    if (!n) {
        sema_unknown_name(c, e->name.name, e->name.span, false);
        return TY_ERROR;
    }
    e->sym = n->kind;
    e->decl = n->decl;
    bool scalar_param = n->kind == SYM_TENSOR && n->ndims == 0;
    if (!((n->kind == SYM_TENSOR && !scalar_param) || (n->kind == SYM_VAR && n->ndims > 0))) {
        diag_error(c->d, e->name.span, "'%s' is a %s and cannot be indexed", n->name,
                   n->kind == SYM_VAR ? "scalar var" : sema_name_kind(n));
        return TY_ERROR;
    }
    for (int i = 0; i < e->nargs; i++)
        sema_expr(c, e->args[i], ELEM_I64);
    sema_access(c, e, n, true);
    return set_type(e, sema_arith_type(n->elem));
}

static int infer_call(SemaCtx *c, Expr *e)
{
    int intr = -1;
    for (int i = 0; i < INTR_COUNT; i++)
        if (strcmp(intrinsic_name((Intrinsic)i), e->name.name) == 0)
            intr = i;
    if (intr < 0) {
        sema_unknown_name(c, e->name.name, e->name.span, true);
        for (int i = 0; i < e->nargs; i++)
            sema_expr(c, e->args[i], ELEM_NONE);
        return TY_ERROR;
    }
    e->intrinsic = (Intrinsic)intr;
    const char *fn = e->name.name;
    int want = intrinsic_arity(e->intrinsic);
    if (e->nargs != want) {
        diag_error(c->d, e->span, "'%s' takes %d argument%s but %d %s given", fn, want,
                   want == 1 ? "" : "s", e->nargs, e->nargs == 1 ? "was" : "were");
        return TY_ERROR;
    }
    int t = TY_UNTYPED_INT;
    bool err = false;
    for (int i = 0; i < e->nargs; i++) {
        int ta = infer(c, e->args[i]);
        if (ta == TY_ERROR) {
            err = true;
            continue;
        }
        if (float_only(e->intrinsic) && ta == TY_UNTYPED_INT)
            ta = set_type(e->args[i], TY_UNTYPED_FLOAT);
        if (!is_untyped(ta) && (ta == ELEM_BOOL || (float_only(e->intrinsic) && !elem_is_float(ta)))) {
            diag_error(c->d, e->args[i]->span, "'%s' needs %s arguments, got %s", fn,
                       float_only(e->intrinsic) ? "float" : "numeric", type_name(ta));
            err = true;
            continue;
        }
        if (is_untyped(t) && is_untyped(ta)) {
            if (ta == TY_UNTYPED_FLOAT)
                t = ta;
        } else if (is_untyped(t)) {
            t = ta;
        } else if (!is_untyped(ta) && ta != t) {
            diag_error(c->d, e->span, "mismatched types %s and %s in '%s'", type_name(t),
                       type_name(ta), fn);
            return TY_ERROR;
        }
    }
    if (err)
        return TY_ERROR;
    if (!is_untyped(t))
        for (int i = 0; i < e->nargs; i++)
            fit(c, e->args[i], (int)e->args[i]->type, t);
    return set_type(e, t);
}

static int infer_cast(SemaCtx *c, Expr *e)
{
    ElemType to = sema_arith_type(e->cast);
    int t = infer(c, e->args[0]);
    if (t == TY_ERROR)
        return TY_ERROR;
    if (t == TY_UNTYPED_INT && to != ELEM_BOOL)
        fit(c, e->args[0], t, to);
    else if (t == TY_UNTYPED_FLOAT && elem_is_float(to))
        fit(c, e->args[0], t, to);
    else
        fit(c, e->args[0], t, ELEM_NONE);
    return set_type(e, to);
}

static bool is_compare(Op op) { return op >= OP_EQ && op <= OP_GE; }

/* One binary node, given its operands' types. */
static int combine_binary(SemaCtx *c, Expr *e, int ta, int tb)
{
    const char *op = op_spelling(e->op);
    if (e->op == OP_AND || e->op == OP_OR) {
        for (int i = 0; i < 2; i++) {
            int t = i ? tb : ta;
            if (t != TY_ERROR && t != ELEM_BOOL) {
                fit(c, e->args[i], t, ELEM_NONE);
                diag_error(c->d, e->args[i]->span, "operand of '%s' must be bool, got %s", op,
                           type_name(t));
                return TY_ERROR;
            }
        }
        return ta == TY_ERROR || tb == TY_ERROR ? TY_ERROR : set_type(e, ELEM_BOOL);
    }
    int t = unify(c, e, e->args[0], ta, e->args[1], tb, op);
    if (t == TY_ERROR)
        return TY_ERROR;
    if (is_compare(e->op)) {
        if (is_untyped(t))
            t = fit(c, e->args[0], ta, default_type(t)), fit(c, e->args[1], tb, t);
        if (t == ELEM_BOOL && e->op != OP_EQ && e->op != OP_NE) {
            diag_error(c->d, e->span, "operator '%s' needs numbers, got bool", op);
            return TY_ERROR;
        }
        return set_type(e, ELEM_BOOL);
    }
    if (t == ELEM_BOOL) {
        diag_error(c->d, e->span, "operator '%s' needs numbers, got bool", op);
        return TY_ERROR;
    }
    if (e->op == OP_REM && (t == TY_UNTYPED_FLOAT || elem_is_float(t))) {
        diag_error(c->d, e->span, "operator '%%' needs integers, got %s", type_name(t));
        return TY_ERROR;
    }
    return set_type(e, t);
}

static int infer_binary(SemaCtx *c, Expr *e)
{
    int n;
    Expr **spine = left_spine(c->a, e, &n);
    int t = infer(c, spine[n - 1]->args[0]);
    for (int i = n - 1; i >= 0; i--) {
        int tb = infer(c, spine[i]->args[1]);
        t = combine_binary(c, spine[i], t, tb);
    }
    return t;
}

static int infer(SemaCtx *c, Expr *e)
{
    switch (e->kind) {
    case EXPR_INT: return set_type(e, TY_UNTYPED_INT);
    case EXPR_FLOAT:
    case EXPR_INF:
    case EXPR_PI: return set_type(e, TY_UNTYPED_FLOAT);
    case EXPR_BOOL: return set_type(e, ELEM_BOOL);
    case EXPR_NAME: return infer_name(c, e);
    case EXPR_INDEX: return infer_index(c, e);
    case EXPR_CALL: return infer_call(c, e);
    case EXPR_CAST: return infer_cast(c, e);
    case EXPR_BINARY: return infer_binary(c, e);
    case EXPR_UNARY: {
        int t = infer(c, e->args[0]);
        if (t == TY_ERROR)
            return t;
        if (e->op == OP_NOT) {
            if (t != ELEM_BOOL) {
                fit(c, e->args[0], t, ELEM_NONE);
                diag_error(c->d, e->args[0]->span, "operand of '!' must be bool, got %s",
                           type_name(t));
                return TY_ERROR;
            }
            return set_type(e, ELEM_BOOL);
        }
        if (t == ELEM_BOOL) {
            diag_error(c->d, e->span, "operator '-' needs numbers, got bool");
            return TY_ERROR;
        }
        return set_type(e, t);
    }
    case EXPR_COND: {
        /* Only the arm taken is evaluated (SPEC, Kernels), so each arm's
         * accesses are proven under the condition's facts, as in an `if`. */
        int tc = infer(c, e->args[0]);
        int mark = c->sys.ncons;
        if (tc == ELEM_BOOL)
            sema_add_condition(c, e->args[0], true);
        int ta = infer(c, e->args[1]);
        c->sys.ncons = mark;
        if (tc == ELEM_BOOL)
            sema_add_condition(c, e->args[0], false);
        int tb = infer(c, e->args[2]);
        c->sys.ncons = mark;
        if (tc != TY_ERROR && tc != ELEM_BOOL) {
            fit(c, e->args[0], tc, ELEM_NONE);
            diag_error(c->d, e->args[0]->span, "condition of '?:' must be bool, got %s",
                       type_name(tc));
            return TY_ERROR;
        }
        int t = unify(c, e, e->args[1], ta, e->args[2], tb, "?:");
        return tc == TY_ERROR || t == TY_ERROR ? TY_ERROR : set_type(e, t);
    }
    }
    return TY_ERROR;
}

/* ---- affine forms ---- */

static bool affine_leaf(const Expr *e, AffNameFn name, void *ctx, Arena *ar, Affine *out)
{
    if (e->type != ELEM_I64)
        return false;
    Affine a;
    switch (e->kind) {
    case EXPR_INT:
        *out = aff_const(e->ival);
        return true;
    case EXPR_NAME:
        return name(ctx, e, out);
    case EXPR_UNARY:
        if (e->op != OP_NEG || !aff_from_expr(e->args[0], name, ctx, ar, &a))
            return false;
        *out = aff_const(0);
        aff_add_scaled(out, &a, -1);
        return out->ok;
    default:
        return false;
    }
}

bool aff_from_expr(const Expr *e, AffNameFn name, void *ctx, Arena *ar, Affine *out)
{
    if (e->type != ELEM_I64)
        return false;
    if (e->kind != EXPR_BINARY)
        return affine_leaf(e, name, ctx, ar, out);
    int n;
    Expr **spine = left_spine(ar, (Expr *)e, &n);
    Affine acc, b;
    if (!affine_leaf(spine[n - 1]->args[0], name, ctx, ar, &acc))
        return false;
    for (int i = n - 1; i >= 0; i--) {
        const Expr *x = spine[i];
        if (x->type != ELEM_I64 || (x->op != OP_ADD && x->op != OP_SUB && x->op != OP_MUL) ||
            !aff_from_expr(x->args[1], name, ctx, ar, &b))
            return false;
        if (x->op == OP_MUL) {
            if (!aff_is_const(&acc) && !aff_is_const(&b))
                return false;
            Affine r = aff_const(0);
            if (aff_is_const(&acc))
                aff_add_scaled(&r, &b, acc.c);
            else
                aff_add_scaled(&r, &acc, b.c);
            acc = r;
        } else {
            aff_add_scaled(&acc, &b, x->op == OP_SUB ? -1 : 1);
        }
        if (!acc.ok)
            return false;
    }
    *out = acc;
    return true;
}

/* Sema's names: the size, index or affine let that the name resolves to in
 * the current scope (a let stands for its value). */
static bool scope_name(void *ctx, const Expr *e, Affine *out)
{
    SemaCtx *c = ctx;
    Name *n = sema_lookup(c, e->name.name);
    if (!n || n->decl != e->decl)
        return false;
    if (n->kind == SYM_SIZE)
        *out = aff_term(n->pos);
    else if (n->kind == SYM_INDEX)
        *out = aff_term(AFF_INDEX(n->pos));
    else if (n->kind == SYM_LET && n->aff)
        *out = *n->aff;
    else
        return false;
    return true;
}

bool sema_affine(SemaCtx *c, const Expr *e, Affine *out)
{
    return aff_from_expr(e, scope_name, c, c->a, out);
}

/* ---- facts from conditions ---- */

/* How many `let`s one condition's facts are followed through: a let is
 * immutable and names only what was visible before it, so its value may
 * stand for its name; the limit keeps `let b2 = b1 && b1; let b3 = b2 && b2;
 * ...` from doubling the work at each step. */
enum { CONDITION_LET_DEPTH = 8 };

static void add_condition(SemaCtx *c, const Expr *e, bool positive, int lets)
{
    for (;;) {  /* a && b && c ... : loop down the left operand */
        if (e->kind == EXPR_UNARY && e->op == OP_NOT) {
            e = e->args[0];
            positive = !positive;
            continue;
        }
        if (e->kind == EXPR_BINARY &&
            ((e->op == OP_AND && positive) || (e->op == OP_OR && !positive))) {
            add_condition(c, e->args[1], positive, lets);
            e = e->args[0];
            continue;
        }
        if (e->kind == EXPR_NAME && e->sym == SYM_LET && e->decl && lets < CONDITION_LET_DEPTH) {
            e = ((const Stmt *)e->decl)->rhs;
            lets++;
            continue;
        }
        break;
    }
    if (e->kind != EXPR_BINARY)
        return;
    Affine a, b;
    if (e->op < OP_EQ || e->op > OP_GE || !sema_affine(c, e->args[0], &a) ||
        !sema_affine(c, e->args[1], &b))
        return;
    Op op = e->op;
    if (!positive) {
        static const Op neg[] = {[OP_EQ] = OP_NE, [OP_NE] = OP_EQ, [OP_LT] = OP_GE,
                                 [OP_LE] = OP_GT, [OP_GT] = OP_LE, [OP_GE] = OP_LT};
        op = neg[op];
    }
    Affine ab = aff_sub(&a, &b), ba = aff_sub(&b, &a);
    switch (op) {
    case OP_LT: ba.c -= 1; aff_system_push(&c->sys, &ba); break;
    case OP_LE: aff_system_push(&c->sys, &ba); break;
    case OP_GT: ab.c -= 1; aff_system_push(&c->sys, &ab); break;
    case OP_GE: aff_system_push(&c->sys, &ab); break;
    case OP_EQ:
        aff_system_push(&c->sys, &ab);
        aff_system_push(&c->sys, &ba);
        break;
    default: break;
    }
}

void sema_add_condition(SemaCtx *c, const Expr *e, bool positive) { add_condition(c, e, positive, 0); }

/* ---- accesses ---- */

static bool same_element(SemaCtx *c, const Expr *a, const Expr *b)
{
    if (a->decl != b->decl || a->nargs != b->nargs)
        return false;
    for (int i = 0; i < a->nargs; i++) {
        Affine x, y;
        if (!sema_affine(c, a->args[i], &x) || !sema_affine(c, b->args[i], &y) || !aff_equal(&x, &y))
            return false;
    }
    return true;
}

static void check_written(SemaCtx *c, Expr *e, Name *n)
{
    if (n->full || n->reported || !(n->kind == SYM_VAR || n->mode == MODE_OUT))
        return;
    for (int i = c->dom_writes.len - 1; i >= 0; i--)
        if (same_element(c, c->dom_writes.items[i], e))
            return;
    n->reported = true;
    if (n->kind == SYM_VAR)
        diag_error(c->d, e->span,
                   "'%s' is read before it is fully written; write all of it with '=' in an earlier nest",
                   n->name);
    else
        diag_error(c->d, e->span,
                   "'%s' is read before it is fully written; declare it 'inout' if it holds data on entry",
                   n->name);
    if (n->empty_write)
        diag_note(c->d, n->empty_write->lhs->span,
                  "this '=' writes all of '%s' only when loop '%s' runs, and its range may be empty",
                  n->name, n->empty_iter->name.name);
}

static void check_in_bounds(SemaCtx *c, Expr *e, Name *n, int d, const Affine *sub)
{
    const Affine *dim = &n->dims[d];
    int len = span_len(e->span);
    const char *text = span_text(c, e->span);
    char lim[256], dimtext[256];
    if (!aff_prove_nonneg(&c->sys, sub)) {
        Affine m;
        if (aff_extreme(&c->sys, sub, false, &m)) {
            aff_print(lim, sizeof lim, &m, c->size_str, c->index_str);
            diag_error(c->d, e->span, "cannot prove '%.*s' is in bounds: index %d may be below 0 (as low as %s)",
                       len, text, d, lim);
        } else {
            diag_error(c->d, e->span, "cannot prove '%.*s' is in bounds: index %d may be below 0",
                       len, text, d);
        }
        return;
    }
    Affine hi = *dim;
    aff_add_scaled(&hi, sub, -1);
    hi.c -= 1;
    if (aff_prove_nonneg(&c->sys, &hi))
        return;
    Expr *de = n->dim_exprs[d];
    snprintf(dimtext, sizeof dimtext, "%.*s", span_len(de->span), span_text(c, de->span));
    Affine m;
    if (aff_extreme(&c->sys, sub, true, &m) && aff_is_const(&m) && !aff_is_const(dim) && m.c >= 0) {
        /* A constant index against a size: the size may be too small. */
        diag_error(c->d, e->span,
                   "cannot prove '%.*s' is in bounds: index %d may be %lld, but dimension %d of '%s' (%s) may be %lld%s",
                   len, text, d, (long long)m.c, d, n->name, dimtext, (long long)m.c,
                   m.c > 0 ? " or less" : "");
    } else if (aff_extreme(&c->sys, sub, true, &m)) {
        aff_print(lim, sizeof lim, &m, c->size_str, c->index_str);
        diag_error(c->d, e->span,
                   "cannot prove '%.*s' is in bounds: index %d may reach %s (dimension %d of '%s' is %s)",
                   len, text, d, lim, d, n->name, dimtext);
    } else {
        diag_error(c->d, e->span,
                   "cannot prove '%.*s' is in bounds: index %d may be too large (dimension %d of '%s' is %s)",
                   len, text, d, d, n->name, dimtext);
    }
}

void sema_access(SemaCtx *c, Expr *e, Name *n, bool reads)
{
    if (e->nargs != n->ndims) {
        diag_error(c->d, e->span, "'%s' has %d dimension%s but %d %s given", n->name, n->ndims,
                   n->ndims == 1 ? "" : "s", e->nargs, e->nargs == 1 ? "index is" : "indices are");
        return;
    }
    bool ok = true;
    Affine *subs = ARENA_ARRAY(c->a, Affine, e->nargs + 1);
    for (int i = 0; i < e->nargs; i++) {
        Expr *s = e->args[i];
        if (s->type == (ElemType)TY_ERROR)
            ok = false;
        else if (!sema_affine(c, s, &subs[i])) {
            diag_error(c->d, s->span, "subscript must be an affine expression of indices and sizes");
            ok = false;
        }
    }
    if (!ok || c->no_bounds)
        return;
    for (int i = 0; i < e->nargs; i++) {
        if (!n->dims[i].ok)
            return;
    }
    for (int i = 0; i < e->nargs; i++) {
        int before = c->d->nerrors;
        check_in_bounds(c, e, n, i, &subs[i]);
        if (c->d->nerrors != before)
            return;
    }
    if (reads)
        check_written(c, e, n);
}
