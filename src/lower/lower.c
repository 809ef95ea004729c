/* Lowering: the checked AST of one kernel becomes an IrFunc with each nest as
 * written (one serial loop per index, outermost first), before any schedule.
 *
 *   params   tensors -> IrBuffer (IR_MEM_PARAM), scalars -> IrVar, sizes -> IrVar
 *   var      -> alloc global T[dims] at the top of the body
 *   nest     -> for i in [lo, +(hi - lo)) serial { ... } per index, one statement
 *   x op= e  -> x = x op e           (-= is x = x - e)
 *   let      -> let,  if -> if,  c ? a : b -> select
 *
 * Numbers: f16/bf16 are storage types. Every read of one (tensor, var or
 * scalar) is widened, f32(load); every store into one, and every conversion
 * `f16(x)`, rounds: f16(value). Literals, `inf` and `pi` take the type sema
 * gave them (their context's). min and max are the IR's own operators; the
 * other intrinsics are calls. */
#include <math.h>
#include <string.h>

#include "lower/lower_internal.h"
#include "lower/passes.h"

/* Lowering state: the IR object each declaration became. */
typedef struct LowerCtx {
    IrFunc *f;
    const Checked *checked;
    const void **keys;     /* Param, VarDecl, Iter or let Stmt */
    void **vals;           /* IrBuffer or IrVar */
    int n, cap;
} LowerCtx;

static void bind(LowerCtx *c, const void *key, void *val)
{
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 16;
        const void **keys = ARENA_ARRAY(c->f->arena, const void *, cap);
        void **vals = ARENA_ARRAY(c->f->arena, void *, cap);
        if (c->n) {
            memcpy(keys, c->keys, sizeof *keys * (size_t)c->n);
            memcpy(vals, c->vals, sizeof *vals * (size_t)c->n);
        }
        c->keys = keys;
        c->vals = vals;
        c->cap = cap;
    }
    c->keys[c->n] = key;
    c->vals[c->n++] = val;
}

static void *lookup(const LowerCtx *c, const void *key)
{
    for (int i = c->n - 1; i >= 0; i--)
        if (c->keys[i] == key)
            return c->vals[i];
    return NULL;
}

static IrVar *size_var(const LowerCtx *c, const char *name)
{
    for (int i = 0; i < c->f->nsizes; i++)
        if (strcmp(c->f->sizes[i]->name, name) == 0)
            return c->f->sizes[i];
    return NULL;
}

bool lower_is_storage_type(ElemType t) { return t == ELEM_F16 || t == ELEM_BF16; }

/* A read of a storage type gives an exact f32. */
IrExpr *lower_widen(IrFunc *f, IrExpr *e)
{
    return lower_is_storage_type(e->type) ? ir_cast(f, ELEM_F32, e) : e;
}

/* A store into (or conversion to) a storage type rounds to nearest even. */
static IrExpr *round_to(IrFunc *f, ElemType t, IrExpr *e)
{
    return e->type == t ? e : ir_cast(f, t, e);
}

static IrExpr *lower_expr(LowerCtx *c, const Expr *e);

static IrExpr **lower_args(LowerCtx *c, Expr **args, int n)
{
    IrExpr **v = ARENA_ARRAY(c->f->arena, IrExpr *, n > 0 ? n : 1);
    for (int i = 0; i < n; i++)
        v[i] = lower_expr(c, args[i]);
    return v;
}

static IrExpr *lower_literal(LowerCtx *c, const Expr *e)
{
    static const double pi = 3.14159265358979323846;
    switch (e->kind) {
    case EXPR_INT:
        return elem_is_float(e->type) ? ir_float(c->f, e->type, (double)e->ival)
                                      : ir_int(c->f, e->type, e->ival);
    case EXPR_FLOAT: return ir_float(c->f, e->type, e->fval);
    case EXPR_BOOL: return ir_int(c->f, ELEM_BOOL, e->ival);
    case EXPR_INF: return ir_float(c->f, e->type, INFINITY);
    default: return ir_float(c->f, e->type, pi);
    }
}

static IrExpr *lower_name(LowerCtx *c, const Expr *e)
{
    IrFunc *f = c->f;
    switch (e->sym) {
    case SYM_SIZE: return ir_ref(f, size_var(c, e->name.name));
    case SYM_VAR:
    case SYM_TENSOR:   /* a scalar var or `out`/`inout` scalar: a buffer of no dimensions */
        return lower_widen(f, ir_load(f, lookup(c, e->decl), NULL, 0));
    default: return lower_widen(f, ir_ref(f, lookup(c, e->decl)));
    }
}

static IrOp binary_op(Op op)
{
    switch (op) {
    case OP_ADD: return IR_ADD;
    case OP_SUB: return IR_SUB;
    case OP_MUL: return IR_MUL;
    case OP_DIV: return IR_DIV;
    case OP_REM: return IR_REM;
    case OP_EQ: return IR_EQ;
    case OP_NE: return IR_NE;
    case OP_LT: return IR_LT;
    case OP_LE: return IR_LE;
    case OP_GT: return IR_GT;
    case OP_GE: return IR_GE;
    case OP_AND: return IR_AND;
    case OP_OR: return IR_OR;
    default: return op == OP_NEG ? IR_NEG : IR_NOT;
    }
}

/* T(x): a conversion to f16/bf16 rounds, then reads back as f32; a
 * conversion to the operand's own type is the operand. */
static IrExpr *lower_cast(LowerCtx *c, const Expr *e)
{
    IrExpr *x = lower_expr(c, e->args[0]);
    if (lower_is_storage_type(e->cast))
        return ir_cast(c->f, ELEM_F32, ir_cast(c->f, e->cast, x));
    return round_to(c->f, e->type, x);
}

/* min and max are IR operators; every other intrinsic is a call. */
static IrExpr *lower_call(LowerCtx *c, const Expr *e)
{
    IrExpr **args = lower_args(c, e->args, e->nargs);
    if (e->intrinsic == INTR_MIN || e->intrinsic == INTR_MAX)
        return ir_binary(c->f, e->intrinsic == INTR_MIN ? IR_MIN : IR_MAX, args[0], args[1]);
    return ir_call(c->f, e->intrinsic, e->type, args, e->nargs);
}

static IrExpr *lower_expr(LowerCtx *c, const Expr *e)
{
    IrFunc *f = c->f;
    switch (e->kind) {
    case EXPR_INT:
    case EXPR_FLOAT:
    case EXPR_BOOL:
    case EXPR_INF:
    case EXPR_PI: return lower_literal(c, e);
    case EXPR_NAME: return lower_name(c, e);
    case EXPR_INDEX:
        return lower_widen(f, ir_load(f, lookup(c, e->decl), lower_args(c, e->args, e->nargs),
                                      e->nargs));
    case EXPR_CALL: return lower_call(c, e);
    case EXPR_CAST: return lower_cast(c, e);
    case EXPR_UNARY: return ir_unary(f, binary_op(e->op), lower_expr(c, e->args[0]));
    case EXPR_BINARY:
        return ir_binary(f, binary_op(e->op), lower_expr(c, e->args[0]), lower_expr(c, e->args[1]));
    case EXPR_COND:
        return ir_select(f, lower_expr(c, e->args[0]), lower_expr(c, e->args[1]),
                         lower_expr(c, e->args[2]));
    }
    return NULL;
}

/* ---- statements ---- */

static void lower_body(LowerCtx *c, const StmtList *l, IrBlock *out);

/* x = e; x op= e  ->  x = x op e, rounded into x's storage type. */
static IrStmt *lower_assign(LowerCtx *c, const Stmt *st)
{
    static const IrOp ops[] = {[ASSIGN_ADD] = IR_ADD, [ASSIGN_SUB] = IR_SUB,
                               [ASSIGN_MUL] = IR_MUL, [ASSIGN_DIV] = IR_DIV};
    IrFunc *f = c->f;
    const Expr *lhs = st->lhs;
    IrBuffer *b = lookup(c, lhs->decl);
    int nidx = lhs->kind == EXPR_INDEX ? lhs->nargs : 0;
    IrExpr **idx = lower_args(c, lhs->args, nidx);
    IrExpr *value = lower_expr(c, st->rhs);
    if (st->aop != ASSIGN_SET) {
        IrExpr **again = ARENA_ARRAY(f->arena, IrExpr *, nidx > 0 ? nidx : 1);
        for (int i = 0; i < nidx; i++)
            again[i] = ir_expr_copy(f, idx[i]);
        value = ir_binary(f, ops[st->aop], lower_widen(f, ir_load(f, b, again, nidx)), value);
    }
    IrStmt *s = ir_store(f, b, idx, nidx, round_to(f, b->elem, value), st->span);
    s->source = st;
    return s;
}

static IrStmt *lower_stmt(LowerCtx *c, const Stmt *st)
{
    IrFunc *f = c->f;
    switch (st->kind) {
    case STMT_ASSIGN: return lower_assign(c, st);
    case STMT_LET: {
        IrExpr *value = lower_expr(c, st->rhs);
        IrVar *v = ir_var_new(f, st->name.name, value->type, IR_VAR_LET);
        bind(c, st, v);
        return ir_let(f, v, value, st->span);
    }
    case STMT_IF: {
        IrStmt *s = ir_if(f, lower_expr(c, st->cond), st->span);
        lower_body(c, &st->then_body, &s->body);
        lower_body(c, &st->else_body, &s->else_body);
        return s;
    }
    case STMT_FOR:
        break;   /* rejected by sema ("not yet supported"): never lowered */
    }
    return NULL;
}

static void lower_body(LowerCtx *c, const StmtList *l, IrBlock *out)
{
    for (int i = 0; i < l->len; i++) {
        IrStmt *s = lower_stmt(c, l->items[i]);
        if (s)
            ir_block_push(c->f, out, s);
    }
}

/* extent = hi - lo; written as hi when lo is 0 and folded when both are constants. */
IrExpr *lower_extent(IrFunc *f, IrExpr *lo, IrExpr *hi)
{
    int64_t a, b;
    if (ir_const_int(lo, &a) && ir_const_int(hi, &b))
        return ir_index(f, b - a);
    if (ir_const_int(lo, &a) && a == 0)
        return ir_expr_copy(f, hi);
    return ir_binary(f, IR_SUB, ir_expr_copy(f, hi), ir_expr_copy(f, lo));
}

/* for i in lo..hi, j in ...  ->  for i in [lo, +(hi - lo)) serial { for j ... { body } } */
static IrStmt *lower_nest(LowerCtx *c, const Nest *n)
{
    IrFunc *f = c->f;
    IrStmt *root = NULL;
    IrBlock *inner = NULL;
    for (int i = 0; i < n->niters; i++) {
        const Iter *it = n->iters[i];
        IrExpr *lo = lower_expr(c, it->lo), *hi = lower_expr(c, it->hi);
        IrVar *v = ir_var_new(f, it->name.name, ELEM_I64, IR_VAR_LOOP);
        IrStmt *loop = ir_loop(f, v, lo, lower_extent(f, lo, hi), IR_SERIAL, it->span);
        bind(c, it, v);
        if (inner)
            ir_block_push(f, inner, loop);
        else
            root = loop;
        inner = &loop->body;
    }
    lower_body(c, &n->body, inner);
    return root;
}

/* ---- the function ---- */

static void lower_params(LowerCtx *c, const Kernel *k)
{
    IrFunc *f = c->f;
    f->tensors = ARENA_ARRAY(f->arena, IrBuffer *, k->nparams + 1);
    f->scalars = ARENA_ARRAY(f->arena, IrVar *, k->nparams + 1);
    f->params = ARENA_ARRAY(f->arena, IrParam, k->nparams + 1);
    for (int i = 0; i < k->nparams; i++) {
        const Param *p = k->params[i];
        IrParam *ip = &f->params[f->nparams++];
        *ip = (IrParam){.name = p->name.name, .elem = p->type.elem, .mode = p->mode,
                        .tensor = p->type.is_tensor};
        if (!ast_param_is_buffer(p)) {
            ip->var = ir_var_new(f, p->name.name, p->type.elem, IR_VAR_SCALAR);
            f->scalars[f->nscalars++] = ip->var;
            bind(c, p, ip->var);
            continue;
        }
        IrBuffer *b = ir_buffer_new(f, p->name.name, p->type.elem, IR_MEM_PARAM, p->type.ndims);
        b->mode = p->mode;
        b->param_index = i;
        f->tensors[f->ntensors++] = b;
        ip->buf = b;
        bind(c, p, b);
    }
    for (int i = 0; i < f->ntensors; i++) {
        const Param *p = k->params[f->tensors[i]->param_index];
        for (int d = 0; d < p->type.ndims; d++)
            f->tensors[i]->dims[d] = lower_expr(c, p->type.dims[d]);
    }
}

static void lower_vars(LowerCtx *c, const Kernel *k)
{
    IrFunc *f = c->f;
    for (int i = 0; i < k->nvars; i++) {
        const VarDecl *v = k->vars[i];
        IrBuffer *b = ir_buffer_new(f, v->name.name, v->type.elem, IR_MEM_GLOBAL, v->type.ndims);
        for (int d = 0; d < v->type.ndims; d++)
            b->dims[d] = lower_expr(c, v->type.dims[d]);
        bind(c, v, b);
        ir_block_push(f, &f->body, ir_alloc(f, b, v->span));
    }
}

/* ---- the signature's checks ---- */

/* Whether a shape entry is an expression (not a literal or a bare size). */
static bool shape_is_expr(const IrExpr *d)
{
    return d->kind != IR_INT && d->kind != IR_VARREF;
}

static void push_shape_checks(IrFunc *f, IrExpr **dims, int ndims)
{
    for (int d = 0; d < ndims; d++)
        if (shape_is_expr(dims[d]))
            f->shape_checks[f->nshape_checks++] = dims[d];
}

/* The params' shapes (their buffers' dims, which no pass rewrites), then the
 * vars' as written (an alloc's dims are the passes' to rewrite). */
static void lower_shape_checks(LowerCtx *c, const Kernel *k)
{
    IrFunc *f = c->f;
    int n = 0;
    for (int i = 0; i < f->nparams; i++)
        n += f->params[i].buf ? f->params[i].buf->ndims : 0;
    for (int i = 0; i < k->nvars; i++)
        n += k->vars[i]->type.ndims;
    f->shape_checks = ARENA_ARRAY(f->arena, IrExpr *, n + 1);
    for (int i = 0; i < f->nparams; i++)
        if (f->params[i].buf)
            push_shape_checks(f, f->params[i].buf->dims, f->params[i].buf->ndims);
    for (int i = 0; i < k->nvars; i++) {
        const TypeExpr *ty = &k->vars[i]->type;
        IrExpr **dims = lower_args(c, ty->dims, ty->ndims);
        push_shape_checks(f, dims, ty->ndims);
    }
}

/* A name in an assume: a size, else a schedule param (its IR_VAR_PARAM,
 * made on first use). */
static IrExpr *assume_name(LowerCtx *c, const Schedule *s, const char *name)
{
    IrVar *v = size_var(c, name);
    for (int i = 0; !v && i < s->nparams; i++) {
        const SchedParam *p = s->params[i];
        if (strcmp(p->name.name, name) != 0)
            continue;
        v = lookup(c, p);
        if (!v) {
            v = ir_var_new(c->f, p->name.name, ELEM_I64, IR_VAR_PARAM);
            v->value = p->value;
            bind(c, p, v);
        }
    }
    return v ? ir_ref(c->f, v) : ir_index(c->f, 0);
}

/* An assume as written (sema-checked: sizes, params, integer literals,
 * arithmetic, comparisons, logic), in i64. */
static IrExpr *lower_assume(LowerCtx *c, const Schedule *s, const Expr *e)
{
    IrFunc *f = c->f;
    switch (e->kind) {
    case EXPR_INT: return ir_index(f, e->ival);
    case EXPR_BOOL: return ir_int(f, ELEM_BOOL, e->ival);
    case EXPR_NAME: return assume_name(c, s, e->name.name);
    case EXPR_UNARY: return ir_unary(f, binary_op(e->op), lower_assume(c, s, e->args[0]));
    case EXPR_BINARY:
        return ir_binary(f, binary_op(e->op), lower_assume(c, s, e->args[0]), lower_assume(c, s, e->args[1]));
    default: return ir_index(f, 0);
    }
}

/* Last, so that the variables it makes come after the body's. */
static void lower_assumes(LowerCtx *c, const Schedule *s)
{
    IrFunc *f = c->f;
    f->assumes = ARENA_ARRAY(f->arena, IrExpr *, s && s->nassumes ? s->nassumes : 1);
    for (int i = 0; s && i < s->nassumes; i++)
        f->assumes[f->nassumes++] = lower_assume(c, s, s->assumes[i]);
}

static const NestSched *nest_sched(const Checked *ch, const Schedule *s, const Nest *n)
{
    for (int i = 0; s && i < ch->nrecords; i++) {
        const SchedRecord *r = ch->records[i];
        if (r->schedule == s && r->nests && n->index < r->nnests)
            return &r->nests[n->index];
    }
    return NULL;
}

IrFunc *lower_kernel(const Checked *c, const Kernel *k, Target t, const Schedule *s, Arena *a)
{
    IrFunc *f = ir_func_new(a, k, t);
    LowerCtx lc = {.f = f, .checked = c};
    f->schedule = s;
    f->sizes = ARENA_ARRAY(a, IrVar *, k->nsizes + 1);
    for (int i = 0; i < k->nsizes; i++)
        f->sizes[f->nsizes++] = ir_var_new(f, k->sizes[i].name, ELEM_I64, IR_VAR_SIZE);
    lower_params(&lc, k);
    lower_vars(&lc, k);
    f->nests = ARENA_ARRAY(a, IrNest, k->nnests + 1);
    for (int i = 0; i < k->nnests; i++) {
        const Nest *n = k->nests[i];
        IrNest *in = &f->nests[f->nnests++];
        in->nest = n;
        in->sched = nest_sched(c, s, n);
        in->root = lower_nest(&lc, n);
        ir_block_push(f, &f->body, in->root);
    }
    lower_shape_checks(&lc, k);
    lower_assumes(&lc, s);
    return f;
}
