/* Loop IR: builders, structural helpers, the printer and the verifier. */
#include "lower/ir.h"

#include <stdlib.h>
#include <string.h>

#include "lower/flatten.h"
#include "parser/ast.h"
#include "util/text.h"

/* ---- builders ---- */

IrFunc *ir_func_new(Arena *a, const Kernel *k, Target t)
{
    IrFunc *f = ARENA_NEW(a, IrFunc);
    f->kernel = k;
    if (k) {
        f->name = k->name.name;
        f->span = k->name.span;
    }
    f->target = t;
    f->arena = a;
    return f;
}

IrVar *ir_var_new(IrFunc *f, const char *name, ElemType type, IrVarKind kind)
{
    IrVar *v = ARENA_NEW(f->arena, IrVar);
    v->name = name;
    v->type = type;
    v->kind = kind;
    v->id = f->nvars++;
    return v;
}

IrBuffer *ir_buffer_new(IrFunc *f, const char *name, ElemType elem, IrMem mem, int ndims)
{
    IrBuffer *b = ARENA_NEW(f->arena, IrBuffer);
    b->name = name;
    b->elem = elem;
    b->mem = mem;
    b->ndims = ndims;
    b->dims = ARENA_ARRAY(f->arena, IrExpr *, ndims > 0 ? ndims : 1);
    b->param_index = -1;
    b->id = f->nbuffers++;
    return b;
}

static IrExpr *new_expr(IrFunc *f, IrExprKind k, ElemType type, int nargs)
{
    IrExpr *e = ARENA_NEW(f->arena, IrExpr);
    e->kind = k;
    e->type = type;
    e->nargs = nargs;
    if (nargs)
        e->args = ARENA_ARRAY(f->arena, IrExpr *, nargs);
    return e;
}

IrExpr *ir_int(IrFunc *f, ElemType type, int64_t v)
{
    IrExpr *e = new_expr(f, IR_INT, type, 0);
    e->ival = v;
    return e;
}

IrExpr *ir_index(IrFunc *f, int64_t v) { return ir_int(f, ELEM_I64, v); }

IrExpr *ir_float(IrFunc *f, ElemType type, double v)
{
    IrExpr *e = new_expr(f, IR_FLOAT, type, 0);
    e->fval = v;
    return e;
}

IrExpr *ir_ref(IrFunc *f, IrVar *v)
{
    IrExpr *e = new_expr(f, IR_VARREF, v->type, 0);
    e->var = v;
    return e;
}

IrExpr *ir_load(IrFunc *f, IrBuffer *b, IrExpr **idx, int nidx)
{
    IrExpr *e = new_expr(f, IR_LOAD, b->elem, nidx);
    e->buf = b;
    for (int i = 0; i < nidx; i++)
        e->args[i] = idx[i];
    return e;
}

IrExpr *ir_unary(IrFunc *f, IrOp op, IrExpr *a)
{
    IrExpr *e = new_expr(f, IR_UNARY, op == IR_NOT ? ELEM_BOOL : a->type, 1);
    e->op = op;
    e->args[0] = a;
    return e;
}

static bool is_comparison(IrOp op) { return op >= IR_EQ && op <= IR_GE; }

IrExpr *ir_binary(IrFunc *f, IrOp op, IrExpr *a, IrExpr *b)
{
    IrExpr *e = new_expr(f, IR_BINARY, is_comparison(op) ? ELEM_BOOL : a->type, 2);
    e->op = op;
    e->args[0] = a;
    e->args[1] = b;
    return e;
}

IrExpr *ir_select(IrFunc *f, IrExpr *c, IrExpr *a, IrExpr *b)
{
    IrExpr *e = new_expr(f, IR_SELECT, a->type, 3);
    e->args[0] = c;
    e->args[1] = a;
    e->args[2] = b;
    return e;
}

IrExpr *ir_cast(IrFunc *f, ElemType type, IrExpr *a)
{
    IrExpr *e = new_expr(f, IR_CAST, type, 1);
    e->args[0] = a;
    return e;
}

IrExpr *ir_call(IrFunc *f, Intrinsic in, ElemType type, IrExpr **args, int nargs)
{
    IrExpr *e = new_expr(f, IR_CALL, type, nargs);
    e->intrinsic = in;
    for (int i = 0; i < nargs; i++)
        e->args[i] = args[i];
    return e;
}

IrExpr *ir_shuffle_xor(IrFunc *f, IrExpr *e, int64_t mask)
{
    IrExpr *x = new_expr(f, IR_SHUFFLE, e->type, 1);
    x->ival = mask;
    x->args[0] = e;
    return x;
}

IrExpr *ir_expr_copy(IrFunc *f, const IrExpr *e) { return ir_substitute(f, e, NULL, NULL); }

IrExpr *ir_substitute(IrFunc *f, const IrExpr *e, const IrVar *from, const IrExpr *to)
{
    if (e->kind == IR_VARREF && from && e->var == from)
        return ir_expr_copy(f, to);
    IrExpr *c = new_expr(f, e->kind, e->type, e->nargs);
    IrExpr **args = c->args;
    *c = *e;
    c->args = args;
    for (int i = 0; i < e->nargs; i++)
        c->args[i] = ir_substitute(f, e->args[i], from, to);
    return c;
}

/* ---- cloning with fresh declarations ---- */

typedef struct Clone {
    IrFunc *f;
    IrVar **vars;          /* by old var id: its new var, or NULL */
    IrBuffer **bufs;       /* by old buffer id */
    int nvars, nbufs;      /* ids that existed when cloning began */
} Clone;

static IrExpr *clone_expr(Clone *c, const IrExpr *e)
{
    IrExpr *x = new_expr(c->f, e->kind, e->type, e->nargs);
    IrExpr **args = x->args;
    *x = *e;
    x->args = args;
    for (int i = 0; i < e->nargs; i++)
        x->args[i] = clone_expr(c, e->args[i]);
    if (e->kind == IR_VARREF && e->var->id < c->nvars && c->vars[e->var->id])
        x->var = c->vars[e->var->id];
    if (e->kind == IR_LOAD && e->buf->id < c->nbufs && c->bufs[e->buf->id])
        x->buf = c->bufs[e->buf->id];
    return x;
}

static IrVar *clone_declare(Clone *c, const IrVar *v)
{
    IrVar *n = ir_var_new(c->f, v->name, v->type, v->kind);
    if (v->id < c->nvars)
        c->vars[v->id] = n;
    return n;
}

static IrBuffer *clone_buf_ref(const Clone *c, IrBuffer *b)
{
    return b->id < c->nbufs && c->bufs[b->id] ? c->bufs[b->id] : b;
}

static IrExpr **clone_exprs(Clone *c, IrExpr *const *e, int n)
{
    IrExpr **out = ARENA_ARRAY(c->f->arena, IrExpr *, n > 0 ? n : 1);
    for (int i = 0; i < n; i++)
        out[i] = clone_expr(c, e[i]);
    return out;
}

static void clone_block(Clone *c, IrBlock *out, const IrBlock *b);

static IrStmt *clone_stmt(Clone *c, const IrStmt *s)
{
    IrFunc *f = c->f;
    IrStmt *n = ir_stmt_new(f, s->kind, s->origin);
    *n = *s;
    n->body = (IrBlock){0};
    n->else_body = (IrBlock){0};
    switch (s->kind) {
    case IR_LOOP:
        n->lo = clone_expr(c, s->lo);
        n->extent = clone_expr(c, s->extent);
        n->var = clone_declare(c, s->var);
        break;
    case IR_LET:
        n->value = clone_expr(c, s->value);
        n->var = clone_declare(c, s->var);
        break;
    case IR_STORE:
        n->idx = clone_exprs(c, s->idx, s->nidx);
        n->value = clone_expr(c, s->value);
        n->buf = clone_buf_ref(c, s->buf);
        break;
    case IR_IF: n->cond = clone_expr(c, s->cond); break;
    case IR_ALLOC: {
        const IrBuffer *o = s->buf;
        IrBuffer *b = ir_buffer_new(f, o->name, o->elem, o->mem, o->ndims);
        int id = b->id;
        IrExpr **dims = clone_exprs(c, o->dims, o->ndims);
        *b = *o;
        b->id = id;
        b->dims = dims;
        if (o->id < c->nbufs)
            c->bufs[o->id] = b;
        n->buf = b;
        break;
    }
    case IR_COPY: {
        IrCopy *cp = &n->copy;
        cp->dst = clone_buf_ref(c, s->copy.dst);
        cp->src = clone_buf_ref(c, s->copy.src);
        cp->dst_origin = clone_exprs(c, s->copy.dst_origin, cp->ndims);
        cp->src_origin = clone_exprs(c, s->copy.src_origin, cp->ndims);
        if (cp->guard) {
            cp->index = ARENA_ARRAY(f->arena, IrVar *, cp->ndims);
            for (int d = 0; d < cp->ndims; d++)
                cp->index[d] = clone_declare(c, s->copy.index[d]);
            cp->guard = clone_expr(c, s->copy.guard);
        }
        if (cp->spread_tid && cp->spread_tid->id < c->nvars && c->vars[cp->spread_tid->id])
            cp->spread_tid = c->vars[cp->spread_tid->id];
        break;
    }
    case IR_BARRIER: break;
    }
    clone_block(c, &n->body, &s->body);
    clone_block(c, &n->else_body, &s->else_body);
    return n;
}

static void clone_block(Clone *c, IrBlock *out, const IrBlock *b)
{
    for (int i = 0; i < b->len; i++)
        ir_block_push(c->f, out, clone_stmt(c, b->items[i]));
}

IrStmt *ir_stmt_clone(IrFunc *f, const IrStmt *s)
{
    Clone c = {.f = f, .nvars = f->nvars, .nbufs = f->nbuffers};
    c.vars = calloc((size_t)c.nvars + 1, sizeof *c.vars);
    c.bufs = calloc((size_t)c.nbufs + 1, sizeof *c.bufs);
    if (!c.vars || !c.bufs)
        abort();
    IrStmt *n = clone_stmt(&c, s);
    free(c.vars);
    free(c.bufs);
    return n;
}

bool ir_expr_uses(const IrExpr *e, const IrVar *v)
{
    if (e->kind == IR_VARREF)
        return e->var == v;
    for (int i = 0; i < e->nargs; i++)
        if (ir_expr_uses(e->args[i], v))
            return true;
    return false;
}

bool ir_expr_uses_marked(const IrExpr *e, const bool *marked, int n)
{
    if (e->kind == IR_VARREF)
        return e->var->id < n && marked[e->var->id];
    for (int i = 0; i < e->nargs; i++)
        if (ir_expr_uses_marked(e->args[i], marked, n))
            return true;
    return false;
}

bool ir_expr_has(const IrExpr *e, IrExprKind k)
{
    if (e->kind == k)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (ir_expr_has(e->args[i], k))
            return true;
    return false;
}

bool ir_has_load(const IrExpr *e) { return ir_expr_has(e, IR_LOAD); }

bool ir_expr_equal(const IrExpr *a, const IrExpr *b)
{
    if (a->kind != b->kind || a->type != b->type || a->nargs != b->nargs)
        return false;
    switch (a->kind) {
    case IR_INT:
    case IR_SHUFFLE:
        if (a->ival != b->ival)
            return false;
        break;
    case IR_FLOAT:
        if (memcmp(&a->fval, &b->fval, sizeof a->fval) != 0)
            return false;
        break;
    case IR_VARREF:
        if (a->var != b->var)
            return false;
        break;
    case IR_LOAD:
        if (a->buf != b->buf)
            return false;
        break;
    case IR_UNARY:
    case IR_BINARY:
        if (a->op != b->op)
            return false;
        break;
    case IR_CALL:
        if (a->intrinsic != b->intrinsic)
            return false;
        break;
    case IR_SELECT:
    case IR_CAST:
        break;
    }
    for (int i = 0; i < a->nargs; i++)
        if (!ir_expr_equal(a->args[i], b->args[i]))
            return false;
    return true;
}

bool ir_const_int(const IrExpr *e, int64_t *v)
{
    if (e->kind != IR_INT)
        return false;
    *v = e->ival;
    return true;
}

IrStmt *ir_stmt_new(IrFunc *f, IrStmtKind k, Span origin)
{
    IrStmt *s = ARENA_NEW(f->arena, IrStmt);
    s->kind = k;
    s->origin = origin;
    s->hw = HW_NONE;
    return s;
}

IrStmt *ir_loop(IrFunc *f, IrVar *var, IrExpr *lo, IrExpr *extent, IrLoopKind kind, Span origin)
{
    IrStmt *s = ir_stmt_new(f, IR_LOOP, origin);
    s->var = var;
    s->lo = lo;
    s->extent = extent;
    s->loop_kind = kind;
    return s;
}

IrStmt *ir_store(IrFunc *f, IrBuffer *b, IrExpr **idx, int nidx, IrExpr *value, Span origin)
{
    IrStmt *s = ir_stmt_new(f, IR_STORE, origin);
    s->buf = b;
    s->nidx = nidx;
    s->idx = ARENA_ARRAY(f->arena, IrExpr *, nidx > 0 ? nidx : 1);
    for (int i = 0; i < nidx; i++)
        s->idx[i] = idx[i];
    s->value = value;
    return s;
}

IrStmt *ir_let(IrFunc *f, IrVar *var, IrExpr *value, Span origin)
{
    IrStmt *s = ir_stmt_new(f, IR_LET, origin);
    s->var = var;
    s->value = value;
    return s;
}

IrStmt *ir_if(IrFunc *f, IrExpr *cond, Span origin)
{
    IrStmt *s = ir_stmt_new(f, IR_IF, origin);
    s->cond = cond;
    return s;
}

IrStmt *ir_alloc(IrFunc *f, IrBuffer *b, Span origin)
{
    IrStmt *s = ir_stmt_new(f, IR_ALLOC, origin);
    s->buf = b;
    return s;
}

IrStmt *ir_barrier(IrFunc *f, Span origin) { return ir_stmt_new(f, IR_BARRIER, origin); }

void ir_block_insert(IrFunc *f, IrBlock *b, int at, IrStmt *s)
{
    if (b->len == b->cap) {
        int cap = b->cap ? b->cap * 2 : 4;
        IrStmt **items = ARENA_ARRAY(f->arena, IrStmt *, cap);
        if (b->len)
            memcpy(items, b->items, sizeof *items * (size_t)b->len);
        b->items = items;
        b->cap = cap;
    }
    memmove(b->items + at + 1, b->items + at, sizeof *b->items * (size_t)(b->len - at));
    b->items[at] = s;
    b->len++;
}

void ir_block_push(IrFunc *f, IrBlock *b, IrStmt *s) { ir_block_insert(f, b, b->len, s); }

void ir_stmt_map_exprs(IrStmt *s, IrExprMapFn fn, void *arg)
{
    switch (s->kind) {
    case IR_LOOP:
        s->lo = fn(arg, s->lo);
        s->extent = fn(arg, s->extent);
        break;
    case IR_STORE:
        for (int i = 0; i < s->nidx; i++)
            s->idx[i] = fn(arg, s->idx[i]);
        s->value = fn(arg, s->value);
        break;
    case IR_LET: s->value = fn(arg, s->value); break;
    case IR_IF: s->cond = fn(arg, s->cond); break;
    case IR_ALLOC:
        for (int i = 0; i < s->buf->ndims; i++)
            s->buf->dims[i] = fn(arg, s->buf->dims[i]);
        break;
    case IR_COPY:
        for (int i = 0; i < s->copy.ndims; i++) {
            s->copy.dst_origin[i] = fn(arg, s->copy.dst_origin[i]);
            s->copy.src_origin[i] = fn(arg, s->copy.src_origin[i]);
        }
        if (s->copy.guard)
            s->copy.guard = fn(arg, s->copy.guard);
        break;
    case IR_BARRIER: break;
    }
}

void ir_block_map_exprs(IrBlock *b, IrExprMapFn fn, void *arg)
{
    for (int i = 0; i < b->len; i++) {
        IrStmt *s = b->items[i];
        ir_stmt_map_exprs(s, fn, arg);
        if (s->kind == IR_LOOP || s->kind == IR_IF) {
            ir_block_map_exprs(&s->body, fn, arg);
            ir_block_map_exprs(&s->else_body, fn, arg);
        }
    }
}

/* ---- printer ---- */

const char *ir_op_spelling(IrOp op)
{
    static const char *const s[] = {"-",  "!",  "+",  "-",  "*", "/",  "%",  "fdiv", "fmod", "min",
                                    "max", "==", "!=", "<", "<=", ">", ">=", "&&", "||"};
    return s[op];
}

const char *ir_loop_kind_name(IrLoopKind k)
{
    static const char *const s[] = {"serial", "parallel", "vectorized", "unrolled", "bound"};
    return s[k];
}

const char *ir_mem_name(IrMem m)
{
    static const char *const s[] = {"param", "global", "shared", "registers"};
    return s[m];
}

static void print_args(FILE *out, IrExpr **args, int n)
{
    for (int i = 0; i < n; i++) {
        if (i)
            fputs(", ", out);
        ir_print_expr(out, args[i]);
    }
}

/* Binding strength of a binary operator as the language writes it. */
static int source_prec(IrOp op)
{
    switch (op) {
    case IR_OR: return 1;
    case IR_AND: return 2;
    case IR_EQ:
    case IR_NE: return 3;
    case IR_LT:
    case IR_LE:
    case IR_GT:
    case IR_GE: return 4;
    case IR_ADD:
    case IR_SUB: return 5;
    default: return 6;   /* * / % */
    }
}

/* The source form of the operations a shape or an assume holds; the rest
 * print as ir_print_expr does. Returns whether it printed e. */
static bool print_source(FILE *out, const IrExpr *e, int min_prec)
{
    switch (e->kind) {
    case IR_INT:
        if (e->type == ELEM_BOOL)
            fputs(e->ival ? "true" : "false", out);
        else
            fprintf(out, "%lld", (long long)e->ival);
        return true;
    case IR_UNARY:
        fputs(ir_op_spelling(e->op), out);
        if (!print_source(out, e->args[0], 7))
            ir_print_expr(out, e->args[0]);
        return true;
    case IR_BINARY: {
        if (e->op == IR_MIN || e->op == IR_MAX)
            return false;
        int p = source_prec(e->op);
        if (p < min_prec)
            fputc('(', out);
        if (!print_source(out, e->args[0], p))
            ir_print_expr(out, e->args[0]);
        fprintf(out, " %s ", ir_op_spelling(e->op));
        if (!print_source(out, e->args[1], p + 1))
            ir_print_expr(out, e->args[1]);
        if (p < min_prec)
            fputc(')', out);
        return true;
    }
    default: return false;
    }
}

void ir_print_source(FILE *out, const IrExpr *e)
{
    if (!print_source(out, e, 0))
        ir_print_expr(out, e);
}

void ir_print_expr(FILE *out, const IrExpr *e)
{
    switch (e->kind) {
    case IR_INT:
        if (e->type == ELEM_BOOL)
            fputs(e->ival ? "true" : "false", out);
        else if (e->type == ELEM_I64)
            fprintf(out, "%lld", (long long)e->ival);
        else
            fprintf(out, "%lld:%s", (long long)e->ival, elem_type_name(e->type));
        break;
    case IR_FLOAT:
        text_print_float(out, e->fval);
        if (e->type != ELEM_F32)
            fprintf(out, ":%s", elem_type_name(e->type));
        break;
    case IR_VARREF: fputs(e->var->name, out); break;
    case IR_LOAD:
        fprintf(out, "%s[", e->buf->name);
        print_args(out, e->args, e->nargs);
        fputc(']', out);
        break;
    case IR_UNARY:
        fprintf(out, "(%s", ir_op_spelling(e->op));
        ir_print_expr(out, e->args[0]);
        fputc(')', out);
        break;
    case IR_BINARY:
        if (e->op == IR_MIN || e->op == IR_MAX) {
            fprintf(out, "%s(", ir_op_spelling(e->op));
            print_args(out, e->args, 2);
            fputc(')', out);
            break;
        }
        fputc('(', out);
        ir_print_expr(out, e->args[0]);
        fprintf(out, " %s ", ir_op_spelling(e->op));
        ir_print_expr(out, e->args[1]);
        fputc(')', out);
        break;
    case IR_SELECT:
        fputs("select(", out);
        print_args(out, e->args, 3);
        fputc(')', out);
        break;
    case IR_CAST:
        fprintf(out, "%s(", elem_type_name(e->type));
        ir_print_expr(out, e->args[0]);
        fputc(')', out);
        break;
    case IR_CALL:
        fprintf(out, "%s(", intrinsic_name(e->intrinsic));
        print_args(out, e->args, e->nargs);
        fputc(')', out);
        break;
    case IR_SHUFFLE:
        fputs("shfl_xor(", out);
        ir_print_expr(out, e->args[0]);
        fprintf(out, ", %lld)", (long long)e->ival);
        break;
    }
}

static void indent(FILE *out, int depth)
{
    for (int i = 0; i < depth; i++)
        fputs("  ", out);
}

static void print_block(FILE *out, const IrFunc *f, const IrBlock *b, int depth);

/* In the GPU execution form a shared buffer shows its offset (`at N`). */
static void print_buffer_decl(FILE *out, const IrFunc *f, const IrBuffer *b)
{
    fprintf(out, "%s %s %s[", ir_mem_name(b->mem), elem_type_name(b->elem), b->name);
    print_args(out, b->dims, b->ndims);
    fputc(']', out);
    if (b->pad)
        fprintf(out, " pad %lld", (long long)b->pad);
    if (b->swizzle)
        fputs(" swizzle", out);
    if (b->stages)
        fprintf(out, " stages %lld", (long long)b->stages);
    if (f->spmd && b->mem == IR_MEM_SHARED)
        fprintf(out, " at %lld", (long long)b->smem_offset);
}

static void print_copy(FILE *out, const IrCopy *c)
{
    fprintf(out, "copy%s %s[", c->async ? " async" : "", c->dst->name);
    print_args(out, c->dst_origin, c->ndims);
    fprintf(out, "] <- %s[", c->src->name);
    print_args(out, c->src_origin, c->ndims);
    fputs("] box [", out);
    for (int i = 0; i < c->ndims; i++)
        fprintf(out, "%s%lld", i ? ", " : "", (long long)c->extent[i]);
    fputc(']', out);
    if (c->zero_fill)
        fputs(" zero-fill", out);
    if (c->guard) {
        fputs(" where (", out);
        for (int i = 0; i < c->ndims; i++)
            fprintf(out, "%s%s", i ? ", " : "", c->index[i]->name);
        fputs(") ", out);
        ir_print_expr(out, c->guard);
    }
    if (c->spread_tid)
        fprintf(out, " spread %s/%lld", c->spread_tid->name, (long long)c->spread_threads);
}

static void print_stmt(FILE *out, const IrFunc *f, const IrStmt *s, int depth)
{
    indent(out, depth);
    switch (s->kind) {
    case IR_LOOP:
        fprintf(out, "for %s in [", s->var->name);
        ir_print_expr(out, s->lo);
        fputs(", +", out);
        ir_print_expr(out, s->extent);
        fprintf(out, ") %s", ir_loop_kind_name(s->loop_kind));
        if (s->loop_kind == IR_BOUND)
            fprintf(out, " %s.%s", hw_unit(s->hw), hw_axis(s->hw));
        if (s->stages)
            fprintf(out, " stages %lld", (long long)s->stages);
        fputs(" {\n", out);
        print_block(out, f, &s->body, depth + 1);
        indent(out, depth);
        fputs("}\n", out);
        break;
    case IR_STORE:
        fprintf(out, "%s[", s->buf->name);
        print_args(out, s->idx, s->nidx);
        fputs("] = ", out);
        ir_print_expr(out, s->value);
        fputc('\n', out);
        break;
    case IR_LET:
        fprintf(out, "let %s: %s = ", s->var->name, elem_type_name(s->var->type));
        ir_print_expr(out, s->value);
        fputc('\n', out);
        break;
    case IR_IF:
        fputs("if ", out);
        ir_print_expr(out, s->cond);
        fputs(" {\n", out);
        print_block(out, f, &s->body, depth + 1);
        indent(out, depth);
        if (s->else_body.len) {
            fputs("} else {\n", out);
            print_block(out, f, &s->else_body, depth + 1);
            indent(out, depth);
        }
        fputs("}\n", out);
        break;
    case IR_ALLOC:
        fputs("alloc ", out);
        print_buffer_decl(out, f, s->buf);
        fputc('\n', out);
        break;
    case IR_COPY:
        print_copy(out, &s->copy);
        fputc('\n', out);
        break;
    case IR_BARRIER:
        if (s->pending)
            fprintf(out, "barrier pending %lld\n", (long long)s->pending);
        else
            fputs("barrier\n", out);
        break;
    }
}

/* The GPU execution form: a line before each launch's statement. */
static void print_launch(FILE *out, const IrFunc *f, const IrStmt *s)
{
    for (int i = 0; i < f->nlaunches; i++) {
        const IrLaunch *l = &f->launches[i];
        if (l->root != s)
            continue;
        fprintf(out, "  launch %d grid [", i);
        for (int a = 0; a < 3; a++) {
            if (a)
                fputs(", ", out);
            if (l->grid[a])
                ir_print_expr(out, l->grid[a]);
            else
                fputs("1", out);
        }
        fprintf(out, "] threads %lld shared %lld%s\n", (long long)l->threads,
                (long long)l->shared_bytes, l->async_copies ? " async" : "");
    }
}

static void print_block(FILE *out, const IrFunc *f, const IrBlock *b, int depth)
{
    for (int i = 0; i < b->len; i++) {
        if (f->spmd && b == &f->body)
            print_launch(out, f, b->items[i]);
        print_stmt(out, f, b->items[i], depth);
    }
}

void ir_print(FILE *out, const IrFunc *f)
{
    const char *vendor = target_vendor(f->target), *arch = target_arch(f->target);
    fprintf(out, "func %s for %s%s%s%s\n", f->name, vendor, *arch ? "(" : "", arch,
            *arch ? ")" : "");
    for (int i = 0; i < f->ntensors; i++) {
        static const char *const modes[] = {"in", "out", "inout"};
        fprintf(out, "  tensor %s ", modes[f->tensors[i]->mode]);
        print_buffer_decl(out, f, f->tensors[i]);
        fputc('\n', out);
    }
    for (int i = 0; i < f->nscalars; i++)
        fprintf(out, "  scalar %s: %s\n", f->scalars[i]->name, elem_type_name(f->scalars[i]->type));
    if (f->nsizes) {
        fputs("  sizes", out);
        for (int i = 0; i < f->nsizes; i++)
            fprintf(out, "%s %s", i ? "," : "", f->sizes[i]->name);
        fputc('\n', out);
    }
    fputs("{\n", out);
    print_block(out, f, &f->body, 1);
    fputs("}\n", out);
}

/* ---- verifier ---- */

typedef struct Verifier {
    const IrFunc *f;
    unsigned char *var_state;  /* 0 never declared, 1 in scope, 2 declared and out of scope */
    unsigned char *buf_state;
    const char *error;
    char msg[256];
} Verifier;

static bool fail(Verifier *v, const char *fmt, const char *name)
{
    if (!v->error) {
        snprintf(v->msg, sizeof v->msg, fmt, name);
        v->error = v->msg;
    }
    return false;
}

static bool is_index_type(ElemType t) { return t == ELEM_I64; }

static bool verify_expr(Verifier *v, const IrExpr *e)
{
    for (int i = 0; i < e->nargs; i++)
        if (!verify_expr(v, e->args[i]))
            return false;
    switch (e->kind) {
    case IR_INT:
    case IR_FLOAT:
        return true;
    case IR_VARREF:
        if (e->var->id < 0 || e->var->id >= v->f->nvars || v->var_state[e->var->id] != 1)
            return fail(v, "variable '%s' is used outside its scope", e->var->name);
        if (e->type != e->var->type)
            return fail(v, "reference to '%s' has the wrong type", e->var->name);
        return true;
    case IR_LOAD: {
        const IrBuffer *b = e->buf;
        if (b->id < 0 || b->id >= v->f->nbuffers || v->buf_state[b->id] != 1)
            return fail(v, "buffer '%s' is used outside its scope", b->name);
        if (e->nargs != (v->f->flat ? 1 : b->ndims))
            return fail(v, "load from '%s' has the wrong number of indices", b->name);
        for (int i = 0; i < e->nargs; i++)
            if (!is_index_type(e->args[i]->type))
                return fail(v, "load from '%s' has an index that is not i64", b->name);
        if (e->type != b->elem)
            return fail(v, "load from '%s' has the wrong type", b->name);
        return true;
    }
    case IR_UNARY:
        if (e->op == IR_NOT ? e->args[0]->type != ELEM_BOOL : e->args[0]->type != e->type)
            return fail(v, "operand of '%s' has the wrong type", ir_op_spelling(e->op));
        return true;
    case IR_BINARY:
        if (e->args[0]->type != e->args[1]->type)
            return fail(v, "operands of '%s' have different types", ir_op_spelling(e->op));
        if ((e->op == IR_FLOORDIV || e->op == IR_FLOORMOD) && !is_index_type(e->type))
            return fail(v, "'%s' on a type other than i64", ir_op_spelling(e->op));
        if ((e->op == IR_AND || e->op == IR_OR) && e->args[0]->type != ELEM_BOOL)
            return fail(v, "operands of '%s' are not bool", ir_op_spelling(e->op));
        return true;
    case IR_SELECT:
        if (e->args[0]->type != ELEM_BOOL || e->args[1]->type != e->type ||
            e->args[2]->type != e->type)
            return fail(v, "%s has operands of the wrong types", "select");
        return true;
    case IR_CAST:
        return true;
    case IR_CALL:
        for (int i = 0; i < e->nargs; i++)
            if (e->args[i]->type != e->type)
                return fail(v, "argument of '%s' has the wrong type", intrinsic_name(e->intrinsic));
        return true;
    case IR_SHUFFLE:
        /* the GPU execution form only (IrLaunch), or its steps after the grid
         * step made the launches: a lane of the warp, 32 or 64 bits */
        if (!v->f->spmd && v->f->nlaunches == 0)
            return fail(v, "%s outside the GPU execution form", "shfl_xor");
        if (e->nargs != 1 || e->args[0]->type != e->type ||
            (elem_type_bytes(e->type) != 4 && elem_type_bytes(e->type) != 8))
            return fail(v, "%s of a value that is not of 32 or 64 bits", "shfl_xor");
        if (e->ival < 1 || e->ival >= target_wave_size(v->f->target) || (e->ival & (e->ival - 1)))
            return fail(v, "%s with a lane mask that is not a power of two below the wave", "shfl_xor");
        return true;
    }
    return true;
}

static bool declare_var(Verifier *v, const IrVar *var)
{
    if (var->id < 0 || var->id >= v->f->nvars || v->var_state[var->id] != 0)
        return fail(v, "variable '%s' is declared twice", var->name);
    v->var_state[var->id] = 1;
    return true;
}

static bool declare_buf(Verifier *v, const IrBuffer *b)
{
    if (b->id < 0 || b->id >= v->f->nbuffers || v->buf_state[b->id] != 0)
        return fail(v, "buffer '%s' is declared twice", b->name);
    v->buf_state[b->id] = 1;
    return true;
}

static bool verify_block(Verifier *v, const IrBlock *b);

static bool verify_stmt(Verifier *v, const IrStmt *s)
{
    int64_t c;
    switch (s->kind) {
    case IR_LOOP:
        if (!verify_expr(v, s->lo) || !verify_expr(v, s->extent))
            return false;
        if (!is_index_type(s->lo->type) || !is_index_type(s->extent->type) ||
            s->var->type != ELEM_I64)
            return fail(v, "loop '%s' has bounds that are not i64", s->var->name);
        if ((s->loop_kind == IR_VECTORIZED || s->loop_kind == IR_UNROLLED) &&
            !ir_const_int(s->extent, &c))
            return fail(v, "loop '%s' is vectorized or unrolled but its extent is not constant",
                        s->var->name);
        if ((s->loop_kind == IR_BOUND) != (s->hw != HW_NONE))
            return fail(v, "loop '%s' has a hardware index but is not bound", s->var->name);
        if (!declare_var(v, s->var) || !verify_block(v, &s->body))
            return false;
        v->var_state[s->var->id] = 2;
        return true;
    case IR_STORE:
        if (s->buf->id < 0 || s->buf->id >= v->f->nbuffers || v->buf_state[s->buf->id] != 1)
            return fail(v, "buffer '%s' is used outside its scope", s->buf->name);
        if (s->nidx != (v->f->flat ? 1 : s->buf->ndims))
            return fail(v, "store to '%s' has the wrong number of indices", s->buf->name);
        if (s->buf->mem == IR_MEM_PARAM && s->buf->mode == MODE_IN)
            return fail(v, "store to '%s', an 'in' tensor", s->buf->name);
        for (int i = 0; i < s->nidx; i++)
            if (!verify_expr(v, s->idx[i]) || !is_index_type(s->idx[i]->type))
                return fail(v, "store to '%s' has an index that is not i64", s->buf->name);
        if (!verify_expr(v, s->value))
            return false;
        if (s->value->type != s->buf->elem)
            return fail(v, "store to '%s' has a value of the wrong type", s->buf->name);
        return true;
    case IR_LET:
        if (!verify_expr(v, s->value))
            return false;
        if (s->value->type != s->var->type)
            return fail(v, "let '%s' has a value of the wrong type", s->var->name);
        return declare_var(v, s->var);
    case IR_IF:
        if (!verify_expr(v, s->cond))
            return false;
        if (s->cond->type != ELEM_BOOL)
            return fail(v, "%s condition is not bool", "if");
        return verify_block(v, &s->body) && verify_block(v, &s->else_body);
    case IR_ALLOC:
        for (int i = 0; i < s->buf->ndims; i++) {
            if (!verify_expr(v, s->buf->dims[i]))
                return false;
            if ((s->buf->mem == IR_MEM_SHARED || s->buf->mem == IR_MEM_REGISTERS) &&
                !ir_const_int(s->buf->dims[i], &c))
                return fail(v, "buffer '%s' is in shared memory or registers but its shape "
                               "is not constant", s->buf->name);
        }
        return declare_buf(v, s->buf);
    case IR_COPY: {
        const IrCopy *cp = &s->copy;
        if (v->buf_state[cp->dst->id] != 1 || v->buf_state[cp->src->id] != 1)
            return fail(v, "copy between buffers out of scope (%s)", cp->dst->name);
        if (cp->ndims != cp->dst->ndims || cp->ndims != cp->src->ndims)
            return fail(v, "copy into '%s' has the wrong number of dimensions", cp->dst->name);
        for (int i = 0; i < cp->ndims; i++)
            if (!verify_expr(v, cp->dst_origin[i]) || !verify_expr(v, cp->src_origin[i]))
                return false;
        if (cp->guard) {
            for (int i = 0; i < cp->ndims; i++)
                if (!declare_var(v, cp->index[i]))
                    return false;
            bool ok = verify_expr(v, cp->guard);
            for (int i = 0; i < cp->ndims; i++)
                v->var_state[cp->index[i]->id] = 2;
            if (!ok)
                return false;
        }
        return true;
    }
    case IR_BARRIER:
        return true;
    }
    return true;
}

/* Variables and buffers declared in a block go out of scope at its end. */
static bool verify_block(Verifier *v, const IrBlock *b)
{
    for (int i = 0; i < b->len; i++)
        if (!verify_stmt(v, b->items[i]))
            return false;
    for (int i = 0; i < b->len; i++) {
        const IrStmt *s = b->items[i];
        if (s->kind == IR_LET)
            v->var_state[s->var->id] = 2;
        else if (s->kind == IR_ALLOC)
            v->buf_state[s->buf->id] = 2;
    }
    return true;
}

/* ---- the GPU execution form (IrFunc.spmd) ---- */

static bool spmd_no_bound(Verifier *v, const IrBlock *b, const IrLaunch *l)
{
    for (int i = 0; i < b->len; i++) {
        const IrStmt *s = b->items[i];
        if (s->kind == IR_LOOP && s->loop_kind == IR_BOUND)
            return fail(v, "loop '%s' is bound inside a launch's thread loop", s->var->name);
        if (s->kind == IR_COPY && s->copy.spread_tid &&
            (s->copy.spread_tid != l->tid || s->copy.spread_threads != l->threads))
            return fail(v, "copy into '%s' is spread over other threads than its launch's",
                        s->copy.dst->name);
        if (s->kind == IR_ALLOC && s->buf->mem == IR_MEM_SHARED) {
            int64_t dims[64] = {0};
            for (int d = 0; d < s->buf->ndims && d < 64; d++)
                ir_const_int(s->buf->dims[d], &dims[d]);
            int64_t n = elem_type_bytes(s->buf->elem) * flatten_count(s->buf, dims);
            if (s->buf->smem_offset % 16 != 0 || s->buf->smem_offset < 0 ||
                s->buf->smem_offset + n > l->shared_bytes)
                return fail(v, "shared buffer '%s' is not at a 16-byte aligned offset inside its "
                               "launch's shared memory", s->buf->name);
        }
        if (!spmd_no_bound(v, &s->body, l) || !spmd_no_bound(v, &s->else_body, l))
            return false;
    }
    return true;
}

static bool is_block_loop(const IrStmt *s)
{
    return s->kind == IR_LOOP && s->loop_kind == IR_BOUND &&
           (s->hw == HW_BLOCK_X || s->hw == HW_BLOCK_Y || s->hw == HW_BLOCK_Z);
}

/* A launch: block loops (next to lets), then one thread loop over tid, then
 * no bound loop. */
static bool spmd_launch(Verifier *v, const IrStmt *s, const IrLaunch *l)
{
    while (is_block_loop(s)) {
        const IrStmt *next = NULL;
        for (int i = 0; i < s->body.len; i++) {
            const IrStmt *t = s->body.items[i];
            if (t->kind == IR_LOOP && !next)
                next = t;
            else if (t->kind != IR_LET)
                return fail(v, "block loop '%s' holds more than lets and one loop", s->var->name);
        }
        if (!next)
            return fail(v, "block loop '%s' holds no thread loop", s->var->name);
        s = next;
    }
    int64_t t;
    if (!(s->kind == IR_LOOP && s->loop_kind == IR_BOUND && s->hw == HW_THREAD_X &&
          s->var == l->tid && ir_const_int(s->extent, &t) && t == l->threads))
        return fail(v, "a launch has no thread loop over '%s' of its threads", l->tid ? l->tid->name : "tid");
    return spmd_no_bound(v, &s->body, l);
}

static bool verify_spmd(Verifier *v)
{
    const IrFunc *f = v->f;
    int n = 0;
    for (int i = 0; i < f->body.len; i++) {
        const IrStmt *s = f->body.items[i];
        if (s->kind == IR_ALLOC && s->buf->mem == IR_MEM_GLOBAL)
            continue;
        if (n >= f->nlaunches || f->launches[n].root != s)
            return fail(v, "a top-level statement is not the next launch%s", "");
        if (!spmd_launch(v, s, &f->launches[n]))
            return false;
        n++;
    }
    if (n != f->nlaunches)
        return fail(v, "%s launches without a top-level statement", "some");
    return true;
}

const char *ir_verify(const IrFunc *f)
{
    Verifier v = {.f = f};
    v.var_state = calloc((size_t)f->nvars + 1, 1);
    v.buf_state = calloc((size_t)f->nbuffers + 1, 1);
    for (int i = 0; i < f->ntensors; i++)
        declare_buf(&v, f->tensors[i]);
    for (int i = 0; i < f->nscalars; i++)
        declare_var(&v, f->scalars[i]);
    for (int i = 0; i < f->nsizes; i++)
        declare_var(&v, f->sizes[i]);
    for (int i = 0; i < f->ntensors && !v.error; i++)
        for (int d = 0; d < f->tensors[i]->ndims; d++)
            verify_expr(&v, f->tensors[i]->dims[d]);
    if (!v.error)
        verify_block(&v, &f->body);
    if (!v.error && f->spmd)
        verify_spmd(&v);
    const char *err = v.error ? arena_strdup(f->arena, v.error) : NULL;
    free(v.var_state);
    free(v.buf_state);
    return err;
}
