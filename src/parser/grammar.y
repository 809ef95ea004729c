/* The .acc grammar (Lemon). Actions are one-line calls into the builders of
 * parse.c; lists are built in PtrVecs and frozen into arrays there. */

%name AccParse
%token_prefix TK_
%token_type {Token}
%extra_context {ParseCtx *ctx}
%stack_size 4096
%token_destructor { (void)$$; (void)ctx; }
%syntax_error { p_syntax_error(ctx, yymajor, yyminor, name_fits(yypParser, yymajor, ctx)); }
%stack_overflow { ctx->stopped = true; diag_error(ctx->diag, ctx->last.span, "expression nested too deeply (more than %d levels)", PARSE_MAX_EXPR_DEPTH); }
%parse_failure { ctx->stopped = true; }

%include {
#include <assert.h>
#include "parser/parse.h"

static bool name_fits(void *parser, int major, ParseCtx *ctx);
}

/* Whether a reserved word (a keyword or a type name) stands where a name
 * would fit: the parser, from its state at the error, would shift an
 * identifier there and then accept the token after it. The parse is
 * simulated on a copy of the state stack with the tables alone (no action
 * runs), as yy_reduce and yy_shift move it. Then the syntax error says the
 * word is reserved: `split i by 8 -> po, pi;`, `kernel k(by: f32)`, `at: for`. */
%code {
static bool sim_token(YYACTIONTYPE *st, int *n, int cap, YYCODETYPE tok)
{
    for (int steps = 0; steps < 4 * cap; steps++) {
        YYACTIONTYPE act = yy_find_shift_action(tok, st[*n - 1]);
        if (act >= YY_MIN_REDUCE && act <= YY_MAX_REDUCE) {
            int r = act - YY_MIN_REDUCE;
            *n += yyRuleInfoNRhs[r];   /* pops the right-hand side (stored negative) */
            if (*n < 1 || *n >= cap)
                return false;
            st[*n] = yy_find_reduce_action(st[*n - 1], yyRuleInfoLhs[r]);
            (*n)++;
        } else if (act <= YY_MAX_SHIFTREDUCE) {
            if (*n >= cap)
                return false;
            st[(*n)++] = act > YY_MAX_SHIFT ? act + YY_MIN_REDUCE - YY_MIN_SHIFTREDUCE : act;
            return true;
        } else {
            return act == YY_ACCEPT_ACTION;
        }
    }
    return false;
}

static bool name_fits(void *parser, int major, ParseCtx *ctx)
{
    if (!p_reserved_what(major))
        return false;
    yyParser *p = parser;
    static_assert(YYSTACKDEPTH > 0, "a fixed parser stack");
    YYACTIONTYPE st[YYSTACKDEPTH + 2];
    int n = 0;
    for (yyStackEntry *e = p->yystack; e <= p->yytos; e++)
        st[n++] = e->stateno;
    return sim_token(st, &n, YYSTACKDEPTH + 2, TK_IDENT) &&
           sim_token(st, &n, YYSTACKDEPTH + 2, (YYCODETYPE)p_peek_kind(ctx));
}
}

/* Every token, so each has a code even when no rule uses it yet. */
%token KERNEL SCHEDULE FOR IN OUT INOUT VAR LET IF ELSE PARAM ASSUME FUSE INTO AT BY
       SPLIT TILE REORDER UNROLL VECTORIZE PARALLEL BIND CACHE SHARED REGISTERS PAD
       SWIZZLE PIPELINE STAGES SPECIALIZE TENSORIZE WITH RFACTOR INF PI TRUE FALSE.
%token LPAREN RPAREN LBRACE RBRACE LBRACKET RBRACKET COMMA SEMI COLON DOT DOTDOT ARROW
       QUESTION PLUS MINUS STAR SLASH PERCENT ASSIGN PLUSEQ MINUSEQ STAREQ SLASHEQ
       EQ NE LT LE GT GE ANDAND OROR NOT.
%token IDENT INT FLOAT TYPE.

%right QUESTION COLON.
%left OROR.
%left ANDAND.
%nonassoc EQ NE LT LE GT GE.
%left PLUS MINUS.
%left STAR SLASH PERCENT.
%right NOT UMINUS.

program ::= items.
items ::= .
items ::= items item.
item ::= kernel.
item ::= schedule.
item ::= error RBRACE.
item ::= error SEMI.

/* ---- kernel NAME(params) { vars and nests } ---- */
kernel ::= KERNEL(K) IDENT(N) LPAREN params(P) RPAREN LBRACE kitems(B) RBRACE(E).
    { p_kernel(ctx, K, N, &P, B, E); }
kernel ::= KERNEL(K) IDENT(N) LPAREN RPAREN LBRACE kitems(B) RBRACE(E).
    { PtrVec none = {0}; p_kernel(ctx, K, N, &none, B, E); }

%type params {PtrVec}
params(A) ::= param(P). { A = (PtrVec){0}; vec_push(ctx->arena, &A, P); }
params(A) ::= params(L) COMMA param(P). { A = L; vec_push(ctx->arena, &A, P); }

%type param {Param *}
param(A) ::= IDENT(N) COLON type(T). { A = p_param(ctx, N, -1, T); }
param(A) ::= IDENT(N) COLON IN type(T). { A = p_param(ctx, N, MODE_IN, T); }
param(A) ::= IDENT(N) COLON OUT type(T). { A = p_param(ctx, N, MODE_OUT, T); }
param(A) ::= IDENT(N) COLON INOUT type(T). { A = p_param(ctx, N, MODE_INOUT, T); }

%type type {TypeExpr}
type(A) ::= TYPE(T). { A = p_type(ctx, T, NULL, T); }
type(A) ::= TYPE(T) LBRACKET exprs(D) RBRACKET(E). { A = p_type(ctx, T, &D, E); }

%type kitems {KernelBody *}
kitems(A) ::= . { A = p_kernel_body(ctx); }
kitems(A) ::= kitems(L) VAR(K) IDENT(N) COLON type(T) SEMI(E).
    { A = L; vec_push(ctx->arena, &A->vars, p_var(ctx, K, N, T, E)); }
kitems(A) ::= kitems(L) nest(S). { A = L; vec_push(ctx->arena, &A->nests, S); }
kitems(A) ::= kitems(L) error SEMI. { A = L; }

%type nest {Nest *}
nest(A) ::= IDENT(L) COLON FOR(F) iters(I) LBRACE stmts(B) RBRACE(E).
    { A = p_nest(ctx, &L, F, &I, &B, E); }
nest(A) ::= FOR(F) iters(I) LBRACE stmts(B) RBRACE(E).
    { A = p_nest(ctx, NULL, F, &I, &B, E); }

%type iters {PtrVec}
iters(A) ::= iter(I). { A = (PtrVec){0}; vec_push(ctx->arena, &A, I); }
iters(A) ::= iters(L) COMMA iter(I). { A = L; vec_push(ctx->arena, &A, I); }

%type iter {Iter *}
iter(A) ::= IDENT(N) IN expr(L) DOTDOT expr(H). { A = p_iter(ctx, N, L, H); }

/* ---- statements ---- */
%type stmts {PtrVec}
stmts(A) ::= . { A = (PtrVec){0}; }
stmts(A) ::= stmts(L) stmt(S). { A = L; vec_push(ctx->arena, &A, S); }
stmts(A) ::= stmts(L) error SEMI. { A = L; }

%type stmt {Stmt *}
stmt(A) ::= lvalue(L) assign_op(O) expr(R) SEMI(E). { A = p_assign(ctx, L, O, R, E); }
stmt(A) ::= LET(K) IDENT(N) ASSIGN expr(R) SEMI(E). { A = p_let(ctx, K, N, ELEM_NONE, R, E); }
stmt(A) ::= LET(K) IDENT(N) COLON TYPE(T) ASSIGN expr(R) SEMI(E).
    { A = p_let(ctx, K, N, T.etype, R, E); }
stmt(A) ::= if_stmt(S). { A = S; }
stmt(A) ::= FOR(F) iters(I) LBRACE stmts(B) RBRACE(E). { A = p_for_stmt(ctx, F, &I, &B, E); }

%type if_stmt {Stmt *}
if_stmt(A) ::= IF(K) expr(C) LBRACE stmts(T) RBRACE(E). { A = p_if(ctx, K, C, &T, NULL, E); }
if_stmt(A) ::= IF(K) expr(C) LBRACE stmts(T) RBRACE ELSE LBRACE stmts(F) RBRACE(E).
    { A = p_if(ctx, K, C, &T, &F, E); }
if_stmt(A) ::= IF(K) expr(C) LBRACE stmts(T) RBRACE ELSE if_stmt(S).
    { PtrVec f = {0}; vec_push(ctx->arena, &f, S); A = p_if(ctx, K, C, &T, &f, ctx->last); A->span.hi = S->span.hi; }

%type lvalue {Expr *}
lvalue(A) ::= IDENT(N). { A = p_named(ctx, EXPR_NAME, N, (PtrVec){0}, N); }
lvalue(A) ::= IDENT(N) LBRACKET exprs(I) RBRACKET(E). { A = p_named(ctx, EXPR_INDEX, N, I, E); }

%type assign_op {AssignOp}
assign_op(A) ::= ASSIGN. { A = ASSIGN_SET; }
assign_op(A) ::= PLUSEQ. { A = ASSIGN_ADD; }
assign_op(A) ::= MINUSEQ. { A = ASSIGN_SUB; }
assign_op(A) ::= STAREQ. { A = ASSIGN_MUL; }
assign_op(A) ::= SLASHEQ. { A = ASSIGN_DIV; }

/* ---- expressions ---- */
%type exprs {PtrVec}
exprs(A) ::= expr(E). { A = (PtrVec){0}; vec_push(ctx->arena, &A, E); }
exprs(A) ::= exprs(L) COMMA expr(E). { A = L; vec_push(ctx->arena, &A, E); }

%type expr {Expr *}
expr(A) ::= INT(T). { A = p_int(ctx, T); }
expr(A) ::= FLOAT(T). { A = p_float(ctx, T); }
expr(A) ::= TRUE(T). { A = p_expr(ctx, EXPR_BOOL, T.span); A->ival = 1; }
expr(A) ::= FALSE(T). { A = p_expr(ctx, EXPR_BOOL, T.span); }
expr(A) ::= INF(T). { A = p_expr(ctx, EXPR_INF, T.span); }
expr(A) ::= PI(T). { A = p_expr(ctx, EXPR_PI, T.span); }
expr(A) ::= IDENT(N). { A = p_named(ctx, EXPR_NAME, N, (PtrVec){0}, N); }
expr(A) ::= IDENT(N) LBRACKET exprs(I) RBRACKET(E). { A = p_named(ctx, EXPR_INDEX, N, I, E); }
expr(A) ::= IDENT(N) LPAREN exprs(I) RPAREN(E). { A = p_named(ctx, EXPR_CALL, N, I, E); }
expr(A) ::= IDENT(N) LPAREN RPAREN(E). { A = p_named(ctx, EXPR_CALL, N, (PtrVec){0}, E); }
expr(A) ::= TYPE(T) LPAREN expr(X) RPAREN(E). { A = p_cast(ctx, T, X, E); }
expr(A) ::= LPAREN(L) expr(X) RPAREN(R). { A = p_paren(X, L, R); }
expr(A) ::= MINUS(T) expr(X). [UMINUS] { A = p_unary(ctx, OP_NEG, T, X); }
expr(A) ::= NOT(T) expr(X). { A = p_unary(ctx, OP_NOT, T, X); }
expr(A) ::= expr(X) PLUS expr(Y). { A = p_binary(ctx, OP_ADD, X, Y); }
expr(A) ::= expr(X) MINUS expr(Y). { A = p_binary(ctx, OP_SUB, X, Y); }
expr(A) ::= expr(X) STAR expr(Y). { A = p_binary(ctx, OP_MUL, X, Y); }
expr(A) ::= expr(X) SLASH expr(Y). { A = p_binary(ctx, OP_DIV, X, Y); }
expr(A) ::= expr(X) PERCENT expr(Y). { A = p_binary(ctx, OP_REM, X, Y); }
expr(A) ::= expr(X) EQ expr(Y). { A = p_binary(ctx, OP_EQ, X, Y); }
expr(A) ::= expr(X) NE expr(Y). { A = p_binary(ctx, OP_NE, X, Y); }
expr(A) ::= expr(X) LT expr(Y). { A = p_binary(ctx, OP_LT, X, Y); }
expr(A) ::= expr(X) LE expr(Y). { A = p_binary(ctx, OP_LE, X, Y); }
expr(A) ::= expr(X) GT expr(Y). { A = p_binary(ctx, OP_GT, X, Y); }
expr(A) ::= expr(X) GE expr(Y). { A = p_binary(ctx, OP_GE, X, Y); }
expr(A) ::= expr(X) ANDAND expr(Y). { A = p_binary(ctx, OP_AND, X, Y); }
expr(A) ::= expr(X) OROR expr(Y). { A = p_binary(ctx, OP_OR, X, Y); }
expr(A) ::= expr(C) QUESTION expr(X) COLON expr(Y). { A = p_cond(ctx, C, X, Y); }

/* ---- schedule KERNEL for TARGET { ... } ---- */
schedule ::= SCHEDULE(K) IDENT(N) FOR IDENT(V) LBRACE(T) sitems(B) RBRACE(E).
    { p_schedule(ctx, K, N, V, NULL, T, B, E); }
schedule ::= SCHEDULE(K) IDENT(N) FOR IDENT(V) LPAREN IDENT(R) RPAREN LBRACE(T) sitems(B) RBRACE(E).
    { p_schedule(ctx, K, N, V, &R, T, B, E); }

%type sitems {SchedBody *}
sitems(A) ::= . { A = p_sched_body(ctx); }
sitems(A) ::= sitems(L) PARAM sparams(P) SEMI. { A = L; for (int i = 0; i < P.len; i++) vec_push(ctx->arena, &A->params, P.items[i]); }
sitems(A) ::= sitems(L) ASSUME exprs(C) SEMI. { A = L; for (int i = 0; i < C.len; i++) vec_push(ctx->arena, &A->assumes, C.items[i]); }
sitems(A) ::= sitems(L) FUSE(K) ids(N) INTO(I) IDENT(R) AT IDENT(T) SEMI(E).
    { A = L; FuseInto *f = p_fuse_into(ctx, K, &N, R, T, E); (void)I; vec_push(ctx->arena, &A->fuses, f); }
sitems(A) ::= sitems(L) IN(K) IDENT(N) LBRACE clauses(C) RBRACE(E).
    { A = L; vec_push(ctx->arena, &A->blocks, p_in_block(ctx, K, N, &C, E)); }
sitems(A) ::= sitems(L) clause(C). { A = L; vec_push(ctx->arena, &A->top, C); }
sitems(A) ::= sitems(L) error SEMI. { A = L; }

%type sparams {PtrVec}
sparams(A) ::= sparam(P). { A = (PtrVec){0}; vec_push(ctx->arena, &A, P); }
sparams(A) ::= sparams(L) COMMA sparam(P). { A = L; vec_push(ctx->arena, &A, P); }

%type sparam {SchedParam *}
sparam(A) ::= IDENT(N) ASSIGN INT(V). { Token none = {0}; A = p_sched_param(ctx, N, V, NULL, none, none); }
sparam(A) ::= IDENT(N) ASSIGN INT(V) IN LBRACE(O) ints(S) RBRACE(E). { A = p_sched_param(ctx, N, V, &S, O, E); }

%type ints {PtrVec}
ints(A) ::= INT(V). { A = (PtrVec){0}; vec_push(ctx->arena, &A, p_factor(ctx, V)); }
ints(A) ::= ints(L) COMMA INT(V). { A = L; vec_push(ctx->arena, &A, p_factor(ctx, V)); }

%type ids {PtrVec}
ids(A) ::= IDENT(N). { A = (PtrVec){0}; vec_push(ctx->arena, &A, p_ident_new(ctx, N)); }
ids(A) ::= ids(L) COMMA IDENT(N). { A = L; vec_push(ctx->arena, &A, p_ident_new(ctx, N)); }

%type factor {Factor *}
factor(A) ::= INT(V). { A = p_factor(ctx, V); }
factor(A) ::= IDENT(V). { A = p_factor(ctx, V); }

%type factors {PtrVec}
factors(A) ::= factor(F). { A = (PtrVec){0}; vec_push(ctx->arena, &A, F); }
factors(A) ::= factors(L) COMMA factor(F). { A = L; vec_push(ctx->arena, &A, F); }

%type clauses {PtrVec}
clauses(A) ::= . { A = (PtrVec){0}; }
clauses(A) ::= clauses(L) clause(C). { A = L; vec_push(ctx->arena, &A, C); }
clauses(A) ::= clauses(L) error SEMI. { A = L; }

%type clause {Clause *}
clause(A) ::= SPLIT(K) IDENT(L) BY factor(F) ARROW IDENT(O) COMMA IDENT(I) SEMI(E).
    { A = p_clause(ctx, CLAUSE_SPLIT, K, E); p_clause_split(ctx, A, L, F, O, I); }
clause(A) ::= TILE(K) ids(L) BY factors(F) ARROW ids(O) SEMI(E).
    { A = p_clause(ctx, CLAUSE_TILE, K, E); p_clause_loops(ctx, A, &L); p_clause_factors(ctx, A, &F); p_clause_outs(ctx, A, &O); }
clause(A) ::= REORDER(K) ids(L) SEMI(E). { A = p_clause(ctx, CLAUSE_REORDER, K, E); p_clause_loops(ctx, A, &L); }
clause(A) ::= FUSE(K) ids(L) ARROW ids(O) SEMI(E).
    { A = p_clause(ctx, CLAUSE_FUSE, K, E); p_clause_loops(ctx, A, &L); p_clause_outs(ctx, A, &O); }
clause(A) ::= UNROLL(K) ids(L) SEMI(E). { A = p_clause(ctx, CLAUSE_UNROLL, K, E); p_clause_loops(ctx, A, &L); }
clause(A) ::= VECTORIZE(K) ids(L) SEMI(E). { A = p_clause(ctx, CLAUSE_VECTORIZE, K, E); p_clause_loops(ctx, A, &L); }
clause(A) ::= PARALLEL(K) ids(L) SEMI(E). { A = p_clause(ctx, CLAUSE_PARALLEL, K, E); p_clause_loops(ctx, A, &L); }
clause(A) ::= BIND(K) binds(B) SEMI(E). { A = p_clause(ctx, CLAUSE_BIND, K, E); p_clause_binds(ctx, A, &B); }
clause(A) ::= CACHE(K) IDENT(X) AT IDENT(L) IN mem(M) SEMI(E).
    { A = p_clause(ctx, CLAUSE_CACHE, K, E); p_clause_cache(ctx, A, X, L, M, NULL, false); }
clause(A) ::= CACHE(K) IDENT(X) AT IDENT(L) IN mem(M) PAD factor(P) SEMI(E).
    { A = p_clause(ctx, CLAUSE_CACHE, K, E); p_clause_cache(ctx, A, X, L, M, P, false); }
clause(A) ::= CACHE(K) IDENT(X) AT IDENT(L) IN mem(M) SWIZZLE SEMI(E).
    { A = p_clause(ctx, CLAUSE_CACHE, K, E); p_clause_cache(ctx, A, X, L, M, NULL, true); }
clause(A) ::= PIPELINE(K) IDENT(L) STAGES factor(S) SEMI(E).
    { A = p_clause(ctx, CLAUSE_PIPELINE, K, E); p_clause_pipeline(ctx, A, L, S, false); }
clause(A) ::= PIPELINE(K) IDENT(L) STAGES factor(S) SPECIALIZE SEMI(E).
    { A = p_clause(ctx, CLAUSE_PIPELINE, K, E); p_clause_pipeline(ctx, A, L, S, true); }
clause(A) ::= TENSORIZE(K) ids(L) WITH IDENT(I) LPAREN factor(M) COMMA factor(N) COMMA factor(Q) RPAREN SEMI(E).
    { A = p_clause(ctx, CLAUSE_TENSORIZE, K, E); p_clause_loops(ctx, A, &L); p_clause_tensorize(ctx, A, I, M, N, Q); }
clause(A) ::= RFACTOR(K) IDENT(L) INTO IDENT(P) SEMI(E).
    { A = p_clause(ctx, CLAUSE_RFACTOR, K, E); p_clause_rfactor(ctx, A, L, P); }

%type mem {MemKind}
mem(A) ::= SHARED. { A = MEM_SHARED; }
mem(A) ::= REGISTERS. { A = MEM_REGISTERS; }

%type binds {PtrVec}
binds(A) ::= bind(B). { A = (PtrVec){0}; vec_push(ctx->arena, &A, B); }
binds(A) ::= binds(L) COMMA bind(B). { A = L; vec_push(ctx->arena, &A, B); }

%type bind {BindPair *}
bind(A) ::= IDENT(L) ARROW IDENT(U) DOT IDENT(X). { A = p_bind_pair(ctx, L, U, X); }
