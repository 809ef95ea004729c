/* The reference evaluator (design: Numbers; lang/SPEC.md, Checking results).
 *
 * It walks the checked AST: nests in order, each nest's loops in written
 * order (a loop's bounds evaluated when it starts, with the indices to its
 * left), statements in order. Floats are computed in f64 and integers in i64,
 * wrapped to their type after every operation. Every value is a RefVal: the
 * value and a first-order bound on how far an executor computing in the
 * kernel's own types may be from it, each rounding counted in the precision
 * it happens in (reference.h). */
#include "run/reference.h"

#include <math.h>
#include <string.h>

#include "run/data.h"
#include "util/numbers.h"

static const double REF_PI = 3.14159265358979323846;

/* A name in scope: a loop index (decl: Iter) or a let (decl: Stmt). */
typedef struct RefBinding {
    const void *decl;
    RefVal v;
} RefBinding;

typedef struct RefCtx {
    const Kernel *k;
    const RunArgs *args;
    RefTensor *params;       /* one per kernel param (out, inout) */
    RefTensor *vars;         /* one per kernel var */
    RefBinding *env;
    int nenv, capenv;
    const Expr **spines;     /* a stack of left spines being evaluated */
    int nspines, capspines;
    Arena *a;
    const char *err;         /* the first error; evaluation stops */
} RefCtx;

/* ---- values ---------------------------------------------------------- */

/* An exact value: A = |f| (0 for infinities and NaN, which are compared by kind). */
static RefVal exact_f(double f)
{
    RefVal v = {.f = f, .a = isfinite(f) ? fabs(f) : 0};
    return v;
}

static RefVal exact_i(int64_t i)
{
    RefVal v = {.i = i};
    return v;
}

static bool is_f32ish(ElemType t) { return t == ELEM_F32 || t == ELEM_F16 || t == ELEM_BF16; }

static bool is_storage(ElemType t) { return t == ELEM_F16 || t == ELEM_BF16; }

static bool is_exact(const RefVal *v) { return v->n == 0 && v->e == 0; }

/* The subnormal spacing of the float type whose unit roundoff is u. */
static double underflow_of(double u)
{
    const ElemType floats[] = {ELEM_F16, ELEM_BF16, ELEM_F32, ELEM_F64};
    for (int i = 0; i < 4; i++)
        if (num_unit_roundoff(floats[i]) == u)
            return num_underflow_unit(floats[i]);
    return 0;
}

/* The bound of v's chain: (n + 4) * (u * A + eta_u), u doubled when it is
 * f64's (the reference rounds as much as the executor); 0 when n = 0. The
 * "+ 4" leaves room for a few ulps of library functions. */
static double chain_bound(const RefVal *v)
{
    if (v->n == 0)
        return 0;
    double u = v->u;
    if (u == num_unit_roundoff(ELEM_F64))
        u *= 2;
    return (double)(v->n + 4) * (u * v->a + underflow_of(v->u));
}

/* An absolute error: NaN (0 times infinity) is no bound at all. */
static double err_sum(double e) { return isnan(e) ? INFINITY : e; }

/* v about to take part in an operation whose type has unit roundoff u: a
 * chain of another precision is folded into e, so that it is counted in its
 * own precision (an f32 sum converted to f16 keeps the f32 sum's error, not
 * K roundings of f16). A becomes |f|, the magnitude v adds to a sum. */
static RefVal fold_other_chain(RefVal v, double u)
{
    if (v.n == 0 || v.u == u)
        return v;
    v.e = err_sum(v.e + chain_bound(&v));
    v.n = 0;
    v.u = u;
    v.a = isfinite(v.f) ? fabs(v.f) : 0;
    return v;
}

/* f32 results are kept in f64, except that a result beyond f32's range is the
 * infinity the kernel computes: the two would differ in kind, not in rounding. */
static double keep_range(double x, ElemType t)
{
    if (is_f32ish(t) && isfinite(x) && isinf(ref_round_float(x, ELEM_F32)))
        return copysign(INFINITY, x);
    return x;
}

/* The operation a rounded result comes from, evaluated in f64 on its
 * operands (for the error its operands' e carry through it). */
typedef double (*RefFn)(const double *x);

/* Over the box of operand values x_i +- e_i (e_i > 0; the others fixed), the
 * largest distance of fn from fn(x): the error the operands' e carries,
 * second-order terms included (an f16 value a half ulp off going through
 * exp). Corners only: exact for functions monotone in each operand over the
 * box; others (sin, cos near a peak) also take the first-order term. NaN (an
 * operand that may leave the function's domain): no bound. */
static double corner_error(RefFn fn, const double *x, const double *e, int n)
{
    double y = fn(x), worst = 0;
    for (unsigned m = 0; m < 1u << n; m++) {
        double p[3];
        bool skip = false;
        for (int i = 0; i < n; i++) {
            if (e[i] == 0 && (m >> i & 1))
                skip = true;
            p[i] = x[i] + ((m >> i & 1) ? -e[i] : e[i]) * (e[i] > 0);
        }
        if (skip)
            continue;
        double d = fabs(fn(p) - y);
        if (isnan(d))
            return INFINITY;
        worst = fmax(worst, d);
    }
    return worst;
}

/* One rounding operation of type t giving x = fn(operands) from operands ops
 * with partial derivatives d:  A = max(|x|, sum over operands with a chain of
 * |d_i| * A_i), n = max n_i + 1, u = u_t, e = sum of |d_i| * e_i, or with fn
 * the larger of that and corner_error. An operand without a chain (exact, or
 * its errors all in e) adds nothing to A. */
static RefVal rounded(double x, ElemType t, const RefVal *ops, const double *d, int nops, RefFn fn)
{
    RefVal r = {.f = keep_range(x, t), .u = num_unit_roundoff(t)};
    double sum = 0, vals[3], errs[3];
    bool carried = false;
    for (int i = 0; i < nops; i++) {
        RefVal o = fold_other_chain(ops[i], r.u);
        if (o.n > 0)
            sum += fabs(d[i]) * o.a;
        if (o.e > 0)
            r.e += fabs(d[i]) * o.e;
        r.n = o.n > r.n ? o.n : r.n;
        vals[i] = o.f;
        errs[i] = o.e;
        carried = carried || o.e > 0;
    }
    if (fn && carried && nops <= 3)
        r.e = fmax(r.e, corner_error(fn, vals, errs, nops));
    r.n++;
    r.e = err_sum(r.e);
    if (isnan(sum))
        sum = INFINITY;
    r.a = isfinite(r.f) ? fmax(fabs(r.f), sum) : 0;
    return r;
}

/* a + b and a - b: A = A_a + A_b, which bounds every order of summing the
 * same terms (executors may reorder reductions), n = max n + 1, e = e_a + e_b. */
static RefVal add_sub(RefVal a, RefVal b, bool sub, ElemType t)
{
    RefVal r = rounded(sub ? a.f - b.f : a.f + b.f, t, NULL, NULL, 0, NULL);
    a = fold_other_chain(a, r.u);
    b = fold_other_chain(b, r.u);
    r.n = (a.n > b.n ? a.n : b.n) + 1;
    r.e = err_sum(a.e + b.e);
    r.a = isfinite(r.f) ? fmax(fabs(r.f), a.a + b.a) : 0;
    return r;
}

/* Operations of type t that do not round (negation, abs, max, min) keep the
 * larger A, n and e of what they pass through. */
static RefVal pass_through(double x, ElemType t, const RefVal *from, int nfrom)
{
    RefVal r = exact_f(x);
    r.u = num_unit_roundoff(t);
    for (int i = 0; i < nfrom; i++) {
        RefVal o = fold_other_chain(from[i], r.u);
        r.a = fmax(r.a, o.a);
        r.n = o.n > r.n ? o.n : r.n;
        r.e = fmax(r.e, o.e);
    }
    if (!isfinite(x))
        r.a = 0;
    return r;
}

/* A float value v of arithmetic type from converted to float type t (a cast
 * or a store). Widening (f32 to f32 or f64) changes nothing. Exact values are
 * rounded as the kernel rounds them (bit for bit the same). An inexact value's
 * chain is folded into e, and the conversion is one rounding of its own: to
 * f32 the reference keeps f64 (|got - ref| grows by u_t * |v|); to f16/bf16
 * both sides round (by 2 * u_t * |v|), unless v was rounded to t already. */
static RefVal convert_float(RefVal v, ElemType from, ElemType t)
{
    double r = ref_round_float(v.f, t);
    if (is_exact(&v))
        return exact_f(r);
    if ((t == ELEM_F32 && from == ELEM_F32) || t == ELEM_F64)
        return v;
    double ut = num_unit_roundoff(t);
    if (is_storage(t) && v.stored_u == ut)
        return v;
    v = fold_other_chain(v, 0);
    double x = fabs(v.f);
    if (isinf(r) && isfinite(v.f)) {
        /* Overflow: exact when every value within the error rounds to the
         * same infinity; else either side may give a finite value, and the
         * distance is unbounded. */
        if (num_round_float(v.f - v.e, t) == r && num_round_float(v.f + v.e, t) == r)
            return exact_f(r);
        v.f = r;
        v.e = INFINITY;
        v.a = 0;
        return v;
    }
    if (is_storage(t)) {
        v.f = r;
        v.e += 2 * (ut * fmax(x, fabs(r)) + num_underflow_unit(t));
        v.stored_u = ut;
    } else {
        v.f = keep_range(v.f, t);
        v.e += ut * x + num_underflow_unit(t);
        v.stored_u = 0;
    }
    v.u = num_unit_roundoff(ELEM_F32);  /* the arithmetic type of the result */
    v.e = err_sum(v.e);
    v.a = isfinite(v.f) ? fabs(v.f) : 0;
    return v;
}

/* An integer converted to float type t, as the kernel converts it. */
static RefVal int_to_float(int64_t i, ElemType t)
{
    double f = t == ELEM_F64 ? (double)i : (double)(float)i;
    return exact_f(ref_round_float(f, t));
}

/* ---- rounding, independent of util/numbers.c ------------------------ */

/* An f16/bf16 format: significant bits (the hidden one included), frexp's
 * exponent of the least normal value, the largest finite value. */
typedef struct RefHalf {
    int digits, emin;
    double max;
} RefHalf;

static const RefHalf REF_F16 = {11, -13, 65504.0};              /* 2^-14 = 0.5 * 2^-13 */
static const RefHalf REF_BF16 = {8, -125, 0x1.fep127};           /* 2^-126 = 0.5 * 2^-125 */

/* y to the nearest integer, ties to even, by plain comparisons (no reliance on
 * the current rounding mode); |y| < 2^53. */
static double round_half_even(double y)
{
    double r = floor(y), frac = y - r;
    if (frac > 0.5 || (frac == 0.5 && fmod(r, 2.0) != 0))
        r += 1;
    return r;
}

/* x (an f32 value) to nearest even in format h: one unit in the last place is
 * 2^(max(e, emin) - digits) where x = m * 2^e, 0.5 <= |m| < 1; beyond the
 * largest finite value, infinity. Zeros keep their sign. */
static double round_half(double x, RefHalf h)
{
    if (!isfinite(x) || x == 0)
        return x;
    int e;
    (void)frexp(x, &e);
    int q = (e < h.emin ? h.emin : e) - h.digits;
    double r = ldexp(round_half_even(ldexp(x, -q)), q);
    if (r == 0)
        return copysign(0.0, x);
    return fabs(r) > h.max ? copysign(INFINITY, x) : r;
}

double ref_round_float(double x, ElemType t)
{
    switch (t) {
    case ELEM_F16: return round_half((float)x, REF_F16);
    case ELEM_BF16: return round_half((float)x, REF_BF16);
    case ELEM_F32: return (float)x;
    default: return x;
    }
}

double ref_decode_half(uint16_t bits, ElemType t)
{
    RefHalf h = t == ELEM_F16 ? REF_F16 : REF_BF16;
    int mbits = h.digits - 1, ebits = 15 - mbits;
    int bias = (1 << (ebits - 1)) - 1;
    int ex = (bits >> mbits) & ((1 << ebits) - 1);
    double man = bits & ((1 << mbits) - 1);
    double v;
    if (ex == (1 << ebits) - 1)
        v = man != 0 ? NAN : INFINITY;
    else if (ex == 0)
        v = ldexp(man, 1 - bias - mbits);                 /* subnormal */
    else
        v = ldexp(man + ldexp(1.0, mbits), ex - bias - mbits);
    return bits & 0x8000u ? -v : v;
}

/* An input element's exact value, f16/bf16 decoded by the reference itself. */
static double load_float(const void *data, int64_t i, ElemType t)
{
    if (t == ELEM_F16 || t == ELEM_BF16)
        return ref_decode_half(((const uint16_t *)data)[i], t);
    return num_load(data, i, t);
}

/* ---- errors and scope ------------------------------------------------ */

static void fail(RefCtx *c, const char *msg)
{
    if (!c->err)
        c->err = msg;
}

static void bind(RefCtx *c, const void *decl, RefVal v)
{
    if (c->nenv == c->capenv) {
        int cap = c->capenv ? 2 * c->capenv : 16;
        RefBinding *e = ARENA_ARRAY(c->a, RefBinding, cap);
        if (c->nenv)
            memcpy(e, c->env, sizeof *e * (size_t)c->nenv);
        c->env = e;
        c->capenv = cap;
    }
    c->env[c->nenv++] = (RefBinding){decl, v};
}

static RefBinding *lookup(RefCtx *c, const void *decl)
{
    for (int i = c->nenv - 1; i >= 0; i--)
        if (c->env[i].decl == decl)
            return &c->env[i];
    return NULL;
}

static int param_index(const Kernel *k, const void *decl)
{
    for (int i = 0; i < k->nparams; i++)
        if (k->params[i] == decl)
            return i;
    return -1;
}

static int var_index(const Kernel *k, const void *decl)
{
    for (int i = 0; i < k->nvars; i++)
        if (k->vars[i] == decl)
            return i;
    return -1;
}

/* ---- expressions ----------------------------------------------------- */

static RefVal eval(RefCtx *c, const Expr *e);

/* A tensor or var element: where it lives and its type. */
typedef struct RefPlace {
    const RunTensor *input;  /* an `in` tensor: read from the arguments */
    RefTensor *t;            /* out, inout, var */
    int64_t off;
    ElemType elem;
} RefPlace;

static bool place_of(RefCtx *c, const Expr *e, RefPlace *p)
{
    memset(p, 0, sizeof *p);
    const int64_t *dims;
    int ndims;
    if (e->sym == SYM_VAR) {
        int v = var_index(c->k, e->decl);
        p->t = &c->vars[v];
    } else {
        int i = param_index(c->k, e->decl);
        if (c->k->params[i]->mode == MODE_IN)
            p->input = &c->args->tensors[i];
        else
            p->t = &c->params[i];
    }
    if (p->input) {
        dims = p->input->dims, ndims = p->input->ndims, p->elem = p->input->elem;
    } else {
        dims = p->t->dims, ndims = p->t->ndims, p->elem = p->t->elem;
    }
    int nidx = e->kind == EXPR_INDEX ? e->nargs : 0;
    if (nidx != ndims) {
        fail(c, arena_printf(c->a, "'%s' has %d dimensions but %d indices", e->name.name, ndims,
                             nidx));
        return false;
    }
    int64_t off = 0;
    for (int d = 0; d < ndims; d++) {
        int64_t x = eval(c, e->args[d]).i;
        if (c->err)
            return false;
        /* The checker proved every access in bounds; a failure here is its bug. */
        if (x < 0 || x >= dims[d]) {
            fail(c, arena_printf(c->a, "access out of bounds: index %lld of '%s' in dimension %d "
                                       "of extent %lld",
                                 (long long)x, e->name.name, d, (long long)dims[d]));
            return false;
        }
        off = off * dims[d] + x;
    }
    p->off = off;
    return true;
}

/* A read: inputs are exact; an element holds the value stored into it, its
 * f16/bf16 rounding counted by the store. */
static RefVal load(RefCtx *c, const RefPlace *p)
{
    if (p->input) {
        if (elem_is_float(p->elem))
            return exact_f(load_float(p->input->data, p->off, p->elem));
        return exact_i(num_load_int(p->input->data, p->off, p->elem));
    }
    if (!p->t->written[p->off])
        fail(c, "read of an element no nest has written");
    return p->t->vals[p->off];
}

/* A store: integers wrap, f16/bf16 round as a conversion does (the element's
 * bound counts that rounding once), f32 keeps f64 except beyond its range. */
static void store(RefPlace *p, RefVal v)
{
    if (elem_is_float(p->elem)) {
        if (is_storage(p->elem) || is_exact(&v))
            v = convert_float(v, ELEM_F32, p->elem);
        else
            v.f = keep_range(v.f, p->elem);
        if (!isfinite(v.f))
            v.a = 0;
    } else {
        v.i = num_wrap_int(v.i, p->elem);
    }
    p->t->vals[p->off] = v;
    p->t->written[p->off] = true;
}

static RefVal eval_name(RefCtx *c, const Expr *e)
{
    switch (e->sym) {
    case SYM_SIZE:
        return exact_i(c->args->sizes[(const Ident *)e->decl - c->k->sizes]);
    case SYM_INDEX:
    case SYM_LET: {
        RefBinding *b = lookup(c, e->decl);
        if (b)
            return b->v;
        fail(c, arena_printf(c->a, "'%s' is not bound", e->name.name));
        return exact_i(0);
    }
    case SYM_SCALAR: {
        const RunScalar *s = &c->args->scalars[param_index(c->k, e->decl)];
        if (elem_is_float(s->elem))
            return exact_f(ref_round_float(s->f, s->elem));
        return exact_i(num_wrap_int(s->i, s->elem));
    }
    case SYM_VAR:
    case SYM_TENSOR: {
        RefPlace p;
        if (!place_of(c, e, &p))
            return exact_i(0);
        return load(c, &p);
    }
    default:
        fail(c, arena_printf(c->a, "'%s' has no value", e->name.name));
        return exact_i(0);
    }
}

static RefVal eval_cast(RefCtx *c, const Expr *e)
{
    const Expr *x = e->args[0];
    RefVal v = eval(c, x);
    ElemType to = e->cast;
    if (elem_is_float(to)) {
        if (elem_is_float(x->type))
            return convert_float(v, x->type, to);
        return int_to_float(v.i, to);
    }
    if (elem_is_float(x->type))
        return exact_i(num_float_to_int(v.f, to));
    return exact_i(to == ELEM_BOOL ? v.i != 0 : num_wrap_int(v.i, to));
}

/* Float max/min: NaN when either operand is NaN. */
static double fmaxmin(double a, double b, bool max)
{
    if (isnan(a) || isnan(b))
        return NAN;
    return max ? (a > b ? a : b) : (a < b ? a : b);
}

static RefVal eval_int_call(const Expr *e, const RefVal *v)
{
    ElemType t = e->type;
    switch (e->intrinsic) {
    case INTR_ABS: return exact_i(num_wrap_int(v[0].i < 0 ? (int64_t)(0 - (uint64_t)v[0].i) : v[0].i, t));
    case INTR_MIN: return exact_i(v[0].i < v[1].i ? v[0].i : v[1].i);
    default: return exact_i(v[0].i > v[1].i ? v[0].i : v[1].i);
    }
}

/* Intrinsics on floats: one rounding each, with their derivatives; abs, max
 * and min do not round. Library functions are allowed a few ulps: the check's
 * "+ 4" covers them. */
static double fn_exp(const double *x) { return exp(x[0]); }
static double fn_log(const double *x) { return log(x[0]); }
static double fn_sqrt(const double *x) { return sqrt(x[0]); }
static double fn_rsqrt(const double *x) { return 1 / sqrt(x[0]); }
static double fn_tanh(const double *x) { return tanh(x[0]); }
static double fn_erf(const double *x) { return erf(x[0]); }
static double fn_sin(const double *x) { return sin(x[0]); }
static double fn_cos(const double *x) { return cos(x[0]); }
static double fn_pow(const double *x) { return pow(x[0], x[1]); }
static double fn_fma(const double *x) { return fma(x[0], x[1], x[2]); }
static double fn_mul(const double *x) { return x[0] * x[1]; }
static double fn_div(const double *x) { return x[0] / x[1]; }

static RefVal eval_float_call(const Expr *e, const RefVal *v)
{
    ElemType t = e->type;
    double x = v[0].f, y, d[3] = {0, 0, 0};
    RefFn fn;
    switch (e->intrinsic) {
    case INTR_EXP: y = exp(x), d[0] = y, fn = fn_exp; break;
    case INTR_LOG: y = log(x), d[0] = 1 / x, fn = fn_log; break;
    case INTR_SQRT: y = sqrt(x), d[0] = 0.5 / y, fn = fn_sqrt; break;
    case INTR_RSQRT: y = 1 / sqrt(x), d[0] = 0.5 * y / x, fn = fn_rsqrt; break;
    case INTR_TANH: y = tanh(x), d[0] = 1 - y * y, fn = fn_tanh; break;
    case INTR_ERF: y = erf(x), d[0] = 2 / sqrt(REF_PI) * exp(-x * x), fn = fn_erf; break;
    case INTR_SIN: y = sin(x), d[0] = cos(x), fn = fn_sin; break;
    case INTR_COS: y = cos(x), d[0] = sin(x), fn = fn_cos; break;
    case INTR_POW:
        y = pow(x, v[1].f);
        d[0] = v[1].f * pow(x, v[1].f - 1);
        d[1] = y * log(fabs(x));
        fn = fn_pow;
        break;
    case INTR_FMA:
        y = fma(x, v[1].f, v[2].f);
        d[0] = v[1].f, d[1] = x, d[2] = 1;
        fn = fn_fma;
        break;
    case INTR_ABS: return pass_through(fabs(x), t, v, 1);
    case INTR_MIN: return pass_through(fmaxmin(x, v[1].f, false), t, v, 2);
    default: return pass_through(fmaxmin(x, v[1].f, true), t, v, 2);
    }
    return rounded(y, t, v, d, e->nargs, fn);
}

static RefVal eval_call(RefCtx *c, const Expr *e)
{
    RefVal v[3];
    for (int i = 0; i < e->nargs && i < 3; i++)
        v[i] = eval(c, e->args[i]);
    if (elem_is_float(e->type))
        return eval_float_call(e, v);
    return eval_int_call(e, v);
}

/* Whether a op b holds for a and b in the order cmp (-1, 0 or 1) says. */
static bool order_holds(Op op, int cmp)
{
    switch (op) {
    case OP_EQ: return cmp == 0;
    case OP_NE: return cmp != 0;
    case OP_LT: return cmp < 0;
    case OP_LE: return cmp <= 0;
    case OP_GT: return cmp > 0;
    default: return cmp >= 0;
    }
}

/* NaN is unordered: only != holds. */
static bool compare_f(Op op, double a, double b)
{
    if (isnan(a) || isnan(b))
        return op == OP_NE;
    return order_holds(op, (a > b) - (a < b));
}

static bool compare_i(Op op, int64_t a, int64_t b) { return order_holds(op, (a > b) - (a < b)); }

/* Integer arithmetic in i64, wrapped to t (unsigned types are held
 * zero-extended, so i64 comparisons order them correctly). */
static int64_t int_binary(Op op, int64_t a, int64_t b, ElemType t)
{
    uint64_t x = (uint64_t)a, y = (uint64_t)b;
    switch (op) {
    case OP_ADD: return num_wrap_int((int64_t)(x + y), t);
    case OP_SUB: return num_wrap_int((int64_t)(x - y), t);
    case OP_MUL: return num_wrap_int((int64_t)(x * y), t);
    case OP_DIV: return num_int_div(a, b, t);
    default: return num_int_rem(a, b, t);
    }
}

/* Float arithmetic: + and - by add_sub; x * y and x / y by their derivatives. */
static RefVal float_binary(Op op, RefVal a, RefVal b, ElemType t)
{
    RefVal ops[2] = {a, b};
    double d[2];
    switch (op) {
    case OP_ADD: return add_sub(a, b, false, t);
    case OP_SUB: return add_sub(a, b, true, t);
    case OP_MUL:
        d[0] = b.f, d[1] = a.f;
        return rounded(a.f * b.f, t, ops, d, 2, fn_mul);
    default:
        d[0] = 1 / b.f, d[1] = a.f / (b.f * b.f);
        return rounded(a.f / b.f, t, ops, d, 2, fn_div);
    }
}

/* One binary node whose left operand is already evaluated. && and || do not
 * evaluate their right operand when the left decides. */
static RefVal binary_step(RefCtx *c, const Expr *e, RefVal a)
{
    if ((e->op == OP_AND && !a.i) || (e->op == OP_OR && a.i))
        return exact_i(a.i);
    RefVal b = eval(c, e->args[1]);
    ElemType t = e->args[0]->type;
    if (e->op == OP_AND || e->op == OP_OR)
        return exact_i(b.i != 0);
    if (e->op >= OP_EQ && e->op <= OP_GE)
        return exact_i(elem_is_float(t) ? compare_f(e->op, a.f, b.f) : compare_i(e->op, a.i, b.i));
    if (elem_is_float(e->type))
        return float_binary(e->op, a, b, e->type);
    return exact_i(int_binary(e->op, a.i, b.i, e->type));
}

/* grammar: a op b. Left-associative chains are as deep as they are long, so
 * the left spine is walked in a loop; only right operands recurse. The spine
 * goes on a stack in the context (reused, so evaluation allocates nothing in
 * the steady state); entries are addressed by position because a nested
 * evaluation may grow and move the stack. */
static RefVal eval_binary(RefCtx *c, const Expr *e)
{
    int n = 0, base = c->nspines;
    for (const Expr *x = e; x->kind == EXPR_BINARY; x = x->args[0])
        n++;
    if (base + n > c->capspines) {
        int cap = 2 * (base + n) + 16;
        const Expr **s = ARENA_ARRAY(c->a, const Expr *, cap);
        if (base)
            memcpy(s, c->spines, sizeof *s * (size_t)base);
        c->spines = s;
        c->capspines = cap;
    }
    int i = 0;
    for (const Expr *x = e; x->kind == EXPR_BINARY; x = x->args[0])
        c->spines[base + i++] = x;
    c->nspines = base + n;
    RefVal v = eval(c, c->spines[base + n - 1]->args[0]);
    for (i = n - 1; i >= 0 && !c->err; i--)
        v = binary_step(c, c->spines[base + i], v);
    c->nspines = base;
    return v;
}

static RefVal eval_literal(const Expr *e)
{
    double f;
    switch (e->kind) {
    case EXPR_INT:
        if (!elem_is_float(e->type))
            return exact_i(e->ival);
        return int_to_float(e->ival, e->type);
    case EXPR_BOOL: return exact_i(e->ival != 0);
    case EXPR_INF: f = INFINITY; break;
    case EXPR_PI: f = REF_PI; break;
    default: f = e->fval; break;
    }
    return exact_f(ref_round_float(f, e->type));
}

static RefVal eval(RefCtx *c, const Expr *e)
{
    if (c->err)
        return exact_i(0);
    switch (e->kind) {
    case EXPR_INT:
    case EXPR_FLOAT:
    case EXPR_BOOL:
    case EXPR_INF:
    case EXPR_PI: return eval_literal(e);
    case EXPR_NAME:
    case EXPR_INDEX: return eval_name(c, e);
    case EXPR_CALL: return eval_call(c, e);
    case EXPR_CAST: return eval_cast(c, e);
    case EXPR_UNARY: {
        RefVal v = eval(c, e->args[0]);
        if (e->op == OP_NOT)
            return exact_i(!v.i);
        if (elem_is_float(e->type))
            return pass_through(-v.f, e->type, &v, 1);
        return exact_i(num_wrap_int((int64_t)(0 - (uint64_t)v.i), e->type));
    }
    case EXPR_BINARY: return eval_binary(c, e);
    case EXPR_COND: {
        RefVal cond = eval(c, e->args[0]);
        return eval(c, e->args[cond.i ? 1 : 2]);
    }
    }
    return exact_i(0);
}

/* ---- statements ------------------------------------------------------ */

static void run_list(RefCtx *c, const StmtList *l);

/* x op= e is x = x op e in x's arithmetic type (x -= e as x + -e: the same
 * value and bound). */
static void run_assign(RefCtx *c, const Stmt *st)
{
    RefPlace p;
    if (!place_of(c, st->lhs, &p))
        return;
    RefVal v = eval(c, st->rhs);
    if (st->aop != ASSIGN_SET) {
        RefVal old = load(c, &p);
        static const Op ops[] = {[ASSIGN_ADD] = OP_ADD, [ASSIGN_SUB] = OP_SUB,
                                 [ASSIGN_MUL] = OP_MUL, [ASSIGN_DIV] = OP_DIV};
        ElemType t = st->lhs->type;
        v = elem_is_float(t) ? float_binary(ops[st->aop], old, v, t)
                             : exact_i(int_binary(ops[st->aop], old.i, v.i, t));
    }
    if (!c->err)
        store(&p, v);
}

static void run_stmt(RefCtx *c, const Stmt *st)
{
    switch (st->kind) {
    case STMT_ASSIGN: run_assign(c, st); break;
    case STMT_LET: {
        RefVal v = eval(c, st->rhs);
        bind(c, st, v);
        break;
    }
    case STMT_IF: {
        RefVal cond = eval(c, st->cond);
        if (cond.i)
            run_list(c, &st->then_body);
        else if (st->has_else)
            run_list(c, &st->else_body);
        break;
    }
    case STMT_FOR: fail(c, "'for' inside a nest body is not supported yet"); break;
    }
}

/* A block's lets go out of scope at its end. */
static void run_list(RefCtx *c, const StmtList *l)
{
    int mark = c->nenv;
    for (int i = 0; i < l->len && !c->err; i++)
        run_stmt(c, l->items[i]);
    c->nenv = mark;
}

/* grammar: for i in lo..hi, j in lo..hi { body }: an odometer over the
 * indices, outermost first; each loop's bounds are evaluated when it starts. */
static void run_nest(RefCtx *c, const Nest *n)
{
    int d = n->niters, base = c->nenv;
    int64_t *hi = ARENA_ARRAY(c->a, int64_t, d);
    for (int l = 0; l < d; l++)
        bind(c, n->iters[l], exact_i(0));
    RefBinding *idx = &c->env[base];
    int l = 0;
    idx[0].v.i = eval(c, n->iters[0]->lo).i;
    hi[0] = eval(c, n->iters[0]->hi).i;
    while (!c->err) {
        idx = &c->env[base];  /* a let may have grown (moved) the scope */
        if (idx[l].v.i < hi[l]) {
            if (l == d - 1) {
                run_list(c, &n->body);
                c->env[base + l].v.i++;
            } else {
                l++;
                idx[l].v.i = eval(c, n->iters[l]->lo).i;
                hi[l] = eval(c, n->iters[l]->hi).i;
            }
        } else if (l == 0) {
            break;
        } else {
            l--;
            idx[l].v.i++;
        }
    }
    c->nenv = base;
}

/* ---- entry ----------------------------------------------------------- */

static void ref_tensor_init(RefTensor *t, const RunTensor *shape, Arena *a)
{
    t->elem = shape->elem;
    t->ndims = shape->ndims;
    memcpy(t->dims, shape->dims, sizeof t->dims);
    t->count = shape->count;
    t->vals = ARENA_ARRAY(a, RefVal, t->count > 0 ? t->count : 1);
    t->written = ARENA_ARRAY(a, bool, t->count > 0 ? t->count : 1);
}

/* An inout tensor starts as the arguments hold it: exact values, written. */
static void ref_tensor_load(RefTensor *t, const RunTensor *src)
{
    for (int64_t i = 0; i < t->count; i++) {
        t->vals[i] = elem_is_float(t->elem) ? exact_f(load_float(src->data, i, t->elem))
                                            : exact_i(num_load_int(src->data, i, t->elem));
        t->written[i] = true;
    }
}

const char *ref_run(const RunArgs *args, RefTensor *out, Arena *a)
{
    const Kernel *k = args->kernel;
    RefCtx c = {.k = k, .args = args, .params = out, .a = a};
    for (int i = 0; i < k->nparams; i++) {
        memset(&out[i], 0, sizeof out[i]);
        if (!ast_param_is_buffer(k->params[i]) || k->params[i]->mode == MODE_IN)
            continue;
        ref_tensor_init(&out[i], &args->tensors[i], a);
        if (k->params[i]->mode == MODE_INOUT)
            ref_tensor_load(&out[i], &args->tensors[i]);
    }
    c.vars = ARENA_ARRAY(a, RefTensor, k->nvars + 1);
    for (int i = 0; i < k->nvars; i++) {
        RunTensor shape;
        int dim;
        int64_t value;
        if (data_shape(&k->vars[i]->type, k, args->sizes, &shape, &dim, &value) != DATA_OK)
            return arena_printf(a, "dimension %d of var '%s' is %lld", dim,
                                k->vars[i]->name.name, (long long)value);
        ref_tensor_init(&c.vars[i], &shape, a);
    }
    for (int i = 0; i < k->nnests && !c.err; i++)
        run_nest(&c, k->nests[i]);
    return c.err;
}

bool ref_eval_size_expr(const Expr *e, const Kernel *k, const int64_t *sizes, int64_t *out,
                        Arena *a)
{
    RunArgs args = {.kernel = k, .sizes = (int64_t *)sizes};
    RefCtx c = {.k = k, .args = &args, .a = a};
    *out = eval(&c, e).i;
    return c.err == NULL;
}

/* ---- the check ------------------------------------------------------- */

double ref_bound(const RefVal *ref, ElemType t)
{
    if (!elem_is_float(t) || is_exact(ref))
        return 0;
    /* Near zero a rounding's error is absolute: one subnormal spacing (gradual
     * underflow) per rounding, in chain_bound and here for the output's own. */
    double out = 0;
    if (ref->stored_u != num_unit_roundoff(t))
        out = 2 * (num_unit_roundoff(t) * fabs(ref->f) + num_underflow_unit(t));
    return ref->e + chain_bound(ref) + out;
}

bool ref_element_ok(const RefVal *ref, ElemType t, double got_f, int64_t got_i, double *bound)
{
    *bound = ref_bound(ref, t);
    if (!elem_is_float(t))
        return got_i == ref->i;
    if (isnan(ref->f) || isnan(got_f))
        return isnan(ref->f) && isnan(got_f);
    if (isinf(ref->f) || isinf(got_f))
        return got_f == ref->f;
    return fabs(got_f - ref->f) <= *bound;
}
