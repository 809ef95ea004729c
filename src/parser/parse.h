/* Parsing: tokens -> AST. Syntax errors are collected (recovery at ';' and
 * '}'); nesting deeper than PARSE_MAX_DEPTH is an error, never a stack overflow. */
#ifndef ACCL_PARSE_H
#define ACCL_PARSE_H

#include "parser/ast.h"
#include "parser/lexer.h"

enum {
    PARSE_MAX_DEPTH = 256,       /* open brackets at once */
    PARSE_MAX_EXPR_DEPTH = 1000, /* levels of an expression tree, so later walks may recurse */
};

/* Lists under construction, for grammar nonterminals. */
typedef struct KernelBody {
    PtrVec vars, nests;
} KernelBody;

typedef struct SchedBody {
    PtrVec params, assumes, fuses, blocks;
    PtrVec top;            /* clauses written outside `in` blocks */
} SchedBody;

typedef struct ParseCtx {
    Arena *arena;
    Diag *diag;
    const Source *src;
    PtrVec kernels, schedules;
    bool stopped;          /* a fatal error (nesting too deep): no more tokens */
    Token last;            /* the token being fed, for error positions */
    const Lexer *lexer;    /* positioned after `last` */
} ParseCtx;

Program *parse_program(const Source *src, Diag *diag, Arena *arena);

/* Builders called from the grammar's actions. */
Span span_join(Span a, Span b);
Ident p_ident(ParseCtx *c, Token t);
Ident *p_ident_new(ParseCtx *c, Token t);
Expr *p_expr(ParseCtx *c, ExprKind k, Span s);
Expr *p_int(ParseCtx *c, Token t);
Expr *p_float(ParseCtx *c, Token t);
Expr *p_unary(ParseCtx *c, Op op, Token optok, Expr *a);
Expr *p_binary(ParseCtx *c, Op op, Expr *a, Expr *b);
Expr *p_cond(ParseCtx *c, Expr *cond, Expr *a, Expr *b);
Expr *p_named(ParseCtx *c, ExprKind k, Token name, PtrVec args, Token close);
Expr *p_cast(ParseCtx *c, Token type, Expr *arg, Token close);
Expr *p_paren(Expr *e, Token open, Token close);

TypeExpr p_type(ParseCtx *c, Token t, PtrVec *dims, Token close);
Param *p_param(ParseCtx *c, Token name, int mode, TypeExpr type);
Iter *p_iter(ParseCtx *c, Token name, Expr *lo, Expr *hi);
Stmt *p_assign(ParseCtx *c, Expr *lhs, AssignOp op, Expr *rhs, Token semi);
Stmt *p_let(ParseCtx *c, Token let, Token name, ElemType type, Expr *init, Token semi);
Stmt *p_if(ParseCtx *c, Token kw, Expr *cond, PtrVec *then_body, PtrVec *else_body, Token end);
Stmt *p_for_stmt(ParseCtx *c, Token kw, PtrVec *iters, PtrVec *body, Token end);
Nest *p_nest(ParseCtx *c, Token *label, Token kw, PtrVec *iters, PtrVec *body, Token end);
KernelBody *p_kernel_body(ParseCtx *c);
VarDecl *p_var(ParseCtx *c, Token kw, Token name, TypeExpr type, Token semi);
void p_kernel(ParseCtx *c, Token kw, Token name, PtrVec *params, KernelBody *body, Token end);

Factor *p_factor(ParseCtx *c, Token t);
Clause *p_clause(ParseCtx *c, ClauseKind k, Token kw, Token semi);
void p_clause_loops(ParseCtx *c, Clause *cl, PtrVec *ids);
void p_clause_outs(ParseCtx *c, Clause *cl, PtrVec *ids);
void p_clause_factors(ParseCtx *c, Clause *cl, PtrVec *factors);
typedef struct BindPair {
    Ident loop;
    HwRef hw;
} BindPair;
BindPair *p_bind_pair(ParseCtx *c, Token loop, Token unit, Token axis);
void p_clause_binds(ParseCtx *c, Clause *cl, PtrVec *pairs);
void p_clause_split(ParseCtx *c, Clause *cl, Token loop, Factor *f, Token outer, Token inner);
void p_clause_cache(ParseCtx *c, Clause *cl, Token tensor, Token at, MemKind mem, Factor *pad,
                    bool swizzle);
void p_clause_pipeline(ParseCtx *c, Clause *cl, Token loop, Factor *stages, bool specialize);
void p_clause_rfactor(ParseCtx *c, Clause *cl, Token loop, Token into);
void p_clause_tensorize(ParseCtx *c, Clause *cl, Token instr, Factor *m, Factor *n, Factor *k);
SchedBody *p_sched_body(ParseCtx *c);
SchedParam *p_sched_param(ParseCtx *c, Token name, Token value, PtrVec *set, Token open, Token close);
FuseInto *p_fuse_into(ParseCtx *c, Token kw, PtrVec *nests, Token into, Token at, Token semi);
InBlock *p_in_block(ParseCtx *c, Token kw, Token label, PtrVec *clauses, Token end);
void p_schedule(ParseCtx *c, Token kw, Token kernel, Token vendor, Token *arch, Token tend,
                SchedBody *body, Token end);
/* Reports a syntax error at t; as_name: t is a reserved word where a name
 * would fit (grammar.y's name_fits), said so with a name to use instead. */
void p_syntax_error(ParseCtx *c, int major, Token t, bool as_name);
/* What a reserved token is ("a constant", "an element type", ...), from the
 * lists of langdefs.h; NULL when the token is not a reserved word. */
const char *p_reserved_what(int major);
/* The kind of the token after `last` (comments skipped), read by a copy of
 * the lexer that reports nothing. */
int p_peek_kind(const ParseCtx *c);

#endif
