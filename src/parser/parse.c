/* The parse loop and the AST builders the grammar's actions call. */
#include "parser/parse.h"

#include <stdlib.h>
#include <string.h>

#include "grammar.h"

/* Lemon's generated interface (build/grammar.c). */
void *AccParseAlloc(void *(*malloc_fn)(size_t), ParseCtx *ctx);
void AccParse(void *parser, int major, Token minor);
void AccParseFree(void *parser, void (*free_fn)(void *));

Span span_join(Span a, Span b)
{
    return (Span){a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi};
}

/* Keyword categories of ACC_KEYWORDS, as a syntax error names them. */
#define RESERVED_DECL "a keyword"
#define RESERVED_CLAUSE "a schedule keyword"
#define RESERVED_CONST "a constant"

const char *p_reserved_what(int major)
{
    switch (major) {
#define X(tok, s, cat) case TK_##tok: return RESERVED_##cat;
        ACC_KEYWORDS(X)
#undef X
    case TK_TYPE: return "an element type";
    default: return NULL;
    }
}

int p_peek_kind(const ParseCtx *c)
{
    Lexer lx = *c->lexer;
    Diag quiet = {.src = c->src};   /* no output: the real lexer reports later */
    lx.diag = &quiet;
    Token t;
    do
        lex_next(&lx, &t);
    while (t.kind == TK_COMMENT);
    return t.kind;
}

void p_syntax_error(ParseCtx *c, int major, Token t, bool as_name)
{
    if (c->stopped)
        return;
    int len = (int)(t.span.hi - t.span.lo);
    const char *text = c->src->text + t.span.lo;
    if (major == TK_EOF)
        diag_error(c->diag, t.span, "unexpected end of file");
    else if (as_name)
        diag_error(c->diag, t.span, "'%.*s' is a reserved word (%s) and cannot be a name; use another, such as '%.*s_'",
                   len, text, p_reserved_what(major), len, text);
    else
        diag_error(c->diag, t.span, "unexpected %s", lex_token_name(major));
}

Program *parse_program(const Source *src, Diag *diag, Arena *arena)
{
    ParseCtx ctx = {.arena = arena, .diag = diag, .src = src};
    Lexer lx;
    lex_init(&lx, src, diag);
    ctx.lexer = &lx;
    void *parser = AccParseAlloc(malloc, &ctx);
    int depth = 0;
    Token t;
    do {
        lex_next(&lx, &t);
        if (t.kind == TK_COMMENT)
            continue;
        if (t.kind == TK_LPAREN || t.kind == TK_LBRACKET || t.kind == TK_LBRACE) {
            if (++depth > PARSE_MAX_DEPTH) {
                diag_error(diag, t.span, "nesting is deeper than %d levels", PARSE_MAX_DEPTH);
                ctx.stopped = true;
            }
        } else if (t.kind == TK_RPAREN || t.kind == TK_RBRACKET || t.kind == TK_RBRACE) {
            depth -= depth > 0;
        }
        if (ctx.stopped)
            break;
        ctx.last = t;
        AccParse(parser, t.kind, t);
    } while (t.kind != TK_EOF && !ctx.stopped);
    AccParseFree(parser, free);

    Program *p = ARENA_NEW(arena, Program);
    p->kernels = (Kernel **)ctx.kernels.items;
    p->nkernels = ctx.kernels.len;
    p->schedules = (Schedule **)ctx.schedules.items;
    p->nschedules = ctx.schedules.len;
    return p;
}

/* ---- identifiers and expressions ---- */

Ident p_ident(ParseCtx *c, Token t)
{
    return (Ident){arena_strndup(c->arena, c->src->text + t.span.lo, t.span.hi - t.span.lo), t.span};
}

Ident *p_ident_new(ParseCtx *c, Token t)
{
    Ident *id = ARENA_NEW(c->arena, Ident);
    *id = p_ident(c, t);
    return id;
}

Expr *p_expr(ParseCtx *c, ExprKind k, Span s)
{
    Expr *e = ARENA_NEW(c->arena, Expr);
    e->kind = k;
    e->span = s;
    e->type = ELEM_NONE;
    e->cast = ELEM_NONE;
    e->depth = 1;
    return e;
}

/* Sets e's depth from its operands. A tree deeper than PARSE_MAX_EXPR_DEPTH
 * stops the parse, so every later walk over expressions may recurse. */
static Expr *with_depth(ParseCtx *c, Expr *e)
{
    for (int i = 0; i < e->nargs; i++)
        if (e->args[i]->depth + 1 > e->depth)
            e->depth = e->args[i]->depth + 1;
    if (e->depth > PARSE_MAX_EXPR_DEPTH && !c->stopped) {
        diag_error(c->diag, e->span, "expression nested too deeply (more than %d levels)",
                   PARSE_MAX_EXPR_DEPTH);
        c->stopped = true;
    }
    return e;
}

Expr *p_int(ParseCtx *c, Token t)
{
    Expr *e = p_expr(c, EXPR_INT, t.span);
    e->ival = t.ival;
    return e;
}

Expr *p_float(ParseCtx *c, Token t)
{
    Expr *e = p_expr(c, EXPR_FLOAT, t.span);
    e->fval = t.fval;
    return e;
}

static Expr **freeze_exprs(PtrVec v) { return (Expr **)v.items; }

Expr *p_unary(ParseCtx *c, Op op, Token optok, Expr *a)
{
    Expr *e = p_expr(c, EXPR_UNARY, span_join(optok.span, a->span));
    e->op = op;
    e->args = ARENA_ARRAY(c->arena, Expr *, 1);
    e->args[0] = a;
    e->nargs = 1;
    return with_depth(c, e);
}

Expr *p_binary(ParseCtx *c, Op op, Expr *a, Expr *b)
{
    Expr *e = p_expr(c, EXPR_BINARY, span_join(a->span, b->span));
    e->op = op;
    e->args = ARENA_ARRAY(c->arena, Expr *, 2);
    e->args[0] = a;
    e->args[1] = b;
    e->nargs = 2;
    return with_depth(c, e);
}

Expr *p_cond(ParseCtx *c, Expr *cond, Expr *a, Expr *b)
{
    Expr *e = p_expr(c, EXPR_COND, span_join(cond->span, b->span));
    e->args = ARENA_ARRAY(c->arena, Expr *, 3);
    e->args[0] = cond;
    e->args[1] = a;
    e->args[2] = b;
    e->nargs = 3;
    return with_depth(c, e);
}

Expr *p_named(ParseCtx *c, ExprKind k, Token name, PtrVec args, Token close)
{
    Expr *e = p_expr(c, k, span_join(name.span, close.span));
    e->name = p_ident(c, name);
    e->args = freeze_exprs(args);
    e->nargs = args.len;
    return with_depth(c, e);
}

Expr *p_cast(ParseCtx *c, Token type, Expr *arg, Token close)
{
    Expr *e = p_expr(c, EXPR_CAST, span_join(type.span, close.span));
    e->cast = type.etype;
    e->args = ARENA_ARRAY(c->arena, Expr *, 1);
    e->args[0] = arg;
    e->nargs = 1;
    return with_depth(c, e);
}

/* Parentheses leave no node; the span grows to include them. */
Expr *p_paren(Expr *e, Token open, Token close)
{
    e->span = span_join(open.span, close.span);
    return e;
}

/* ---- kernels ---- */

TypeExpr p_type(ParseCtx *c, Token t, PtrVec *dims, Token close)
{
    (void)c;
    TypeExpr ty = {.elem = t.etype, .span = span_join(t.span, close.span)};
    if (dims) {
        ty.dims = freeze_exprs(*dims);
        ty.ndims = dims->len;
        ty.is_tensor = true;
    }
    return ty;
}

Param *p_param(ParseCtx *c, Token name, int mode, TypeExpr type)
{
    Param *p = ARENA_NEW(c->arena, Param);
    p->name = p_ident(c, name);
    p->mode = mode < 0 ? MODE_IN : (ParamMode)mode;
    p->mode_written = mode >= 0;
    p->type = type;
    p->span = span_join(name.span, type.span);
    return p;
}

Iter *p_iter(ParseCtx *c, Token name, Expr *lo, Expr *hi)
{
    Iter *it = ARENA_NEW(c->arena, Iter);
    it->name = p_ident(c, name);
    it->lo = lo;
    it->hi = hi;
    it->span = span_join(name.span, hi->span);
    return it;
}

static StmtList freeze_stmts(PtrVec *v)
{
    return v ? (StmtList){(Stmt **)v->items, v->len} : (StmtList){0};
}

static Stmt *new_stmt(ParseCtx *c, StmtKind k, Span s)
{
    Stmt *st = ARENA_NEW(c->arena, Stmt);
    st->kind = k;
    st->span = s;
    st->let_type = ELEM_NONE;
    return st;
}

Stmt *p_assign(ParseCtx *c, Expr *lhs, AssignOp op, Expr *rhs, Token semi)
{
    Stmt *st = new_stmt(c, STMT_ASSIGN, span_join(lhs->span, semi.span));
    st->lhs = lhs;
    st->aop = op;
    st->rhs = rhs;
    return st;
}

Stmt *p_let(ParseCtx *c, Token let, Token name, ElemType type, Expr *init, Token semi)
{
    Stmt *st = new_stmt(c, STMT_LET, span_join(let.span, semi.span));
    st->name = p_ident(c, name);
    st->let_type = type;
    st->rhs = init;
    return st;
}

Stmt *p_if(ParseCtx *c, Token kw, Expr *cond, PtrVec *then_body, PtrVec *else_body, Token end)
{
    Stmt *st = new_stmt(c, STMT_IF, span_join(kw.span, end.span));
    st->cond = cond;
    st->then_body = freeze_stmts(then_body);
    st->else_body = freeze_stmts(else_body);
    st->has_else = else_body != NULL;
    return st;
}

Stmt *p_for_stmt(ParseCtx *c, Token kw, PtrVec *iters, PtrVec *body, Token end)
{
    Stmt *st = new_stmt(c, STMT_FOR, span_join(kw.span, end.span));
    st->iters = (Iter **)iters->items;
    st->niters = iters->len;
    st->body = freeze_stmts(body);
    return st;
}

Nest *p_nest(ParseCtx *c, Token *label, Token kw, PtrVec *iters, PtrVec *body, Token end)
{
    Nest *n = ARENA_NEW(c->arena, Nest);
    if (label)
        n->label = p_ident(c, *label);
    n->iters = (Iter **)iters->items;
    n->niters = iters->len;
    n->body = freeze_stmts(body);
    n->span = span_join(label ? label->span : kw.span, end.span);
    return n;
}

KernelBody *p_kernel_body(ParseCtx *c) { return ARENA_NEW(c->arena, KernelBody); }

VarDecl *p_var(ParseCtx *c, Token kw, Token name, TypeExpr type, Token semi)
{
    VarDecl *v = ARENA_NEW(c->arena, VarDecl);
    v->name = p_ident(c, name);
    v->type = type;
    v->span = span_join(kw.span, semi.span);
    return v;
}

void p_kernel(ParseCtx *c, Token kw, Token name, PtrVec *params, KernelBody *body, Token end)
{
    Kernel *k = ARENA_NEW(c->arena, Kernel);
    k->name = p_ident(c, name);
    k->params = (Param **)params->items;
    k->nparams = params->len;
    k->vars = (VarDecl **)body->vars.items;
    k->nvars = body->vars.len;
    k->nests = (Nest **)body->nests.items;
    k->nnests = body->nests.len;
    for (int i = 0; i < k->nnests; i++)
        k->nests[i]->index = i;
    k->span = span_join(kw.span, end.span);
    vec_push(c->arena, &c->kernels, k);
}

/* ---- schedules ---- */

Factor *p_factor(ParseCtx *c, Token t)
{
    Factor *f = ARENA_NEW(c->arena, Factor);
    f->span = t.span;
    if (t.kind == TK_INT)
        f->value = t.ival;
    else
        f->param = p_ident(c, t).name;
    return f;
}

Clause *p_clause(ParseCtx *c, ClauseKind k, Token kw, Token semi)
{
    Clause *cl = ARENA_NEW(c->arena, Clause);
    cl->kind = k;
    cl->span = span_join(kw.span, semi.span);
    return cl;
}

static Ident *freeze_idents(ParseCtx *c, PtrVec *ids)
{
    Ident *out = ARENA_ARRAY(c->arena, Ident, ids->len);
    for (int i = 0; i < ids->len; i++)
        out[i] = *(Ident *)ids->items[i];
    return out;
}

void p_clause_loops(ParseCtx *c, Clause *cl, PtrVec *ids)
{
    cl->loops = freeze_idents(c, ids);
    cl->nloops = ids->len;
}

void p_clause_outs(ParseCtx *c, Clause *cl, PtrVec *ids)
{
    cl->outs = freeze_idents(c, ids);
    cl->nouts = ids->len;
}

void p_clause_factors(ParseCtx *c, Clause *cl, PtrVec *factors)
{
    cl->factors = ARENA_ARRAY(c->arena, Factor, factors->len);
    for (int i = 0; i < factors->len; i++)
        cl->factors[i] = *(Factor *)factors->items[i];
    cl->nfactors = factors->len;
}

void p_clause_split(ParseCtx *c, Clause *cl, Token loop, Factor *f, Token outer, Token inner)
{
    cl->loops = ARENA_NEW(c->arena, Ident);
    cl->loops[0] = p_ident(c, loop);
    cl->nloops = 1;
    cl->factors = f;
    cl->nfactors = 1;
    cl->outs = ARENA_ARRAY(c->arena, Ident, 2);
    cl->outs[0] = p_ident(c, outer);
    cl->outs[1] = p_ident(c, inner);
    cl->nouts = 2;
}

void p_clause_cache(ParseCtx *c, Clause *cl, Token tensor, Token at, MemKind mem, Factor *pad,
                    bool swizzle)
{
    cl->tensor = p_ident(c, tensor);
    cl->loops = ARENA_NEW(c->arena, Ident);
    cl->loops[0] = p_ident(c, at);
    cl->nloops = 1;
    cl->mem = mem;
    cl->swizzle = swizzle;
    if (pad) {
        cl->has_pad = true;
        cl->factors = pad;
        cl->nfactors = 1;
    }
}

void p_clause_pipeline(ParseCtx *c, Clause *cl, Token loop, Factor *stages, bool specialize)
{
    cl->loops = ARENA_NEW(c->arena, Ident);
    cl->loops[0] = p_ident(c, loop);
    cl->nloops = 1;
    cl->factors = stages;
    cl->nfactors = 1;
    cl->specialize = specialize;
}

void p_clause_rfactor(ParseCtx *c, Clause *cl, Token loop, Token into)
{
    cl->loops = ARENA_NEW(c->arena, Ident);
    cl->loops[0] = p_ident(c, loop);
    cl->nloops = 1;
    cl->tensor = p_ident(c, into);
}

void p_clause_tensorize(ParseCtx *c, Clause *cl, Token instr, Factor *m, Factor *n, Factor *k)
{
    cl->instr = p_ident(c, instr);
    cl->shape[0] = *m;
    cl->shape[1] = *n;
    cl->shape[2] = *k;
}

BindPair *p_bind_pair(ParseCtx *c, Token loop, Token unit, Token axis)
{
    BindPair *b = ARENA_NEW(c->arena, BindPair);
    b->loop = p_ident(c, loop);
    b->hw.unit = p_ident(c, unit);
    b->hw.axis = p_ident(c, axis);
    b->hw.span = span_join(unit.span, axis.span);
    b->hw.index = HW_NONE;
    return b;
}

void p_clause_binds(ParseCtx *c, Clause *cl, PtrVec *pairs)
{
    cl->nloops = pairs->len;
    cl->loops = ARENA_ARRAY(c->arena, Ident, pairs->len);
    cl->hw = ARENA_ARRAY(c->arena, HwRef, pairs->len);
    for (int i = 0; i < pairs->len; i++) {
        BindPair *b = pairs->items[i];
        cl->loops[i] = b->loop;
        cl->hw[i] = b->hw;
    }
}

SchedBody *p_sched_body(ParseCtx *c) { return ARENA_NEW(c->arena, SchedBody); }

SchedParam *p_sched_param(ParseCtx *c, Token name, Token value, PtrVec *set, Token open, Token close)
{
    SchedParam *p = ARENA_NEW(c->arena, SchedParam);
    p->name = p_ident(c, name);
    p->value = value.ival;
    p->value_span = value.span;
    p->span = span_join(name.span, value.span);
    if (set) {
        p->nset = set->len;
        p->set = ARENA_ARRAY(c->arena, int64_t, set->len);
        for (int i = 0; i < set->len; i++)
            p->set[i] = ((Factor *)set->items[i])->value;
        p->set_span = span_join(open.span, close.span);
        p->span = span_join(p->span, close.span);
    }
    return p;
}

FuseInto *p_fuse_into(ParseCtx *c, Token kw, PtrVec *nests, Token into, Token at, Token semi)
{
    FuseInto *f = ARENA_NEW(c->arena, FuseInto);
    f->nests = freeze_idents(c, nests);
    f->nnests = nests->len;
    f->into = p_ident(c, into);
    f->at = p_ident(c, at);
    f->span = span_join(kw.span, semi.span);
    return f;
}

InBlock *p_in_block(ParseCtx *c, Token kw, Token label, PtrVec *clauses, Token end)
{
    InBlock *b = ARENA_NEW(c->arena, InBlock);
    b->label = p_ident(c, label);
    b->clauses = (Clause **)clauses->items;
    b->nclauses = clauses->len;
    b->span = span_join(kw.span, end.span);
    return b;
}

void p_schedule(ParseCtx *c, Token kw, Token kernel, Token vendor, Token *arch, Token tend,
                SchedBody *body, Token end)
{
    Schedule *s = ARENA_NEW(c->arena, Schedule);
    s->kernel = p_ident(c, kernel);
    s->vendor = p_ident(c, vendor);
    if (arch)
        s->arch = p_ident(c, *arch);
    s->target_span = (Span){vendor.span.lo, tend.span.lo};
    while (s->target_span.hi > s->target_span.lo && (c->src->text[s->target_span.hi - 1] == ' ' ||
                                                     c->src->text[s->target_span.hi - 1] == '\t'))
        s->target_span.hi--;
    s->target = TARGET_NONE;
    s->params = (SchedParam **)body->params.items;
    s->nparams = body->params.len;
    s->assumes = (Expr **)body->assumes.items;
    s->nassumes = body->assumes.len;
    s->fuses = (FuseInto **)body->fuses.items;
    s->nfuses = body->fuses.len;
    /* Clauses written outside `in` come first, as a block with no label. */
    if (body->top.len) {
        InBlock *top = ARENA_NEW(c->arena, InBlock);
        top->clauses = (Clause **)body->top.items;
        top->nclauses = body->top.len;
        top->span = span_join(top->clauses[0]->span, top->clauses[top->nclauses - 1]->span);
        PtrVec all = {0};
        vec_push(c->arena, &all, top);
        for (int i = 0; i < body->blocks.len; i++)
            vec_push(c->arena, &all, body->blocks.items[i]);
        body->blocks = all;
    }
    s->blocks = (InBlock **)body->blocks.items;
    s->nblocks = body->blocks.len;
    s->span = span_join(kw.span, end.span);
    vec_push(c->arena, &c->schedules, s);
}
