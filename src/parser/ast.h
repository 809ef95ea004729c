/* The abstract syntax tree. Every node lives in the compilation's arena and
 * carries its source span. The parser builds it; sema fills the fields marked
 * "sema:" and never reshapes it. */
#ifndef ACCL_AST_H
#define ACCL_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "parser/langdefs.h"
#include "util/lang.h"
#include "util/arena.h"
#include "util/diag.h"


/* A name as written, with where it was written. */
typedef struct Ident {
    const char *name;
    Span span;
} Ident;

/* ---- Expressions ---------------------------------------------------- */

typedef enum ExprKind {
    EXPR_INT,     /* 42 */
    EXPR_FLOAT,   /* 1.5e-3 */
    EXPR_BOOL,    /* true false */
    EXPR_INF,     /* inf */
    EXPR_PI,      /* pi */
    EXPR_NAME,    /* M, i, eps, x (size, index, scalar, let) */
    EXPR_INDEX,   /* A[i, k] */
    EXPR_CALL,    /* exp(x), max(a, b); name resolved by sema */
    EXPR_CAST,    /* f32(x) */
    EXPR_UNARY,   /* -x  !c */
    EXPR_BINARY,  /* a + b ... a || b */
    EXPR_COND,    /* c ? a : b */
} ExprKind;

typedef enum Op {
    OP_NEG, OP_NOT,
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_REM,
    OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
    OP_AND, OP_OR,
} Op;

/* What a name refers to, filled by sema. */
typedef enum SymKind {
    SYM_NONE,
    SYM_TENSOR,   /* a tensor parameter */
    SYM_SCALAR,   /* a scalar parameter */
    SYM_SIZE,     /* a size name bound by a shape */
    SYM_VAR,      /* a `var` temporary */
    SYM_INDEX,    /* a loop index of the enclosing nest */
    SYM_LET,      /* a `let` of the enclosing nest body */
} SymKind;

typedef struct Expr Expr;
struct Expr {
    ExprKind kind;
    Span span;
    int64_t ival;          /* EXPR_INT, EXPR_BOOL */
    double fval;           /* EXPR_FLOAT */
    Op op;                 /* EXPR_UNARY, EXPR_BINARY */
    ElemType cast;         /* EXPR_CAST */
    int depth;             /* levels of this tree: 1 for a leaf */
    Ident name;            /* EXPR_NAME, EXPR_INDEX, EXPR_CALL */
    Expr **args;           /* INDEX subscripts, CALL/CAST arguments, UNARY [a], BINARY [a, b], COND [c, a, b] */
    int nargs;
    /* sema: */
    ElemType type;         /* ELEM_NONE for an untyped literal */
    SymKind sym;
    void *decl;            /* Param, VarDecl, Iter or Stmt (let) */
    Intrinsic intrinsic;   /* EXPR_CALL */
};

/* ---- Kernels -------------------------------------------------------- */


/* f32[M, K] or a scalar f32 (ndims == 0, dims == NULL). */
typedef struct TypeExpr {
    ElemType elem;
    Span span;
    Expr **dims;
    int ndims;
    bool is_tensor;        /* written with brackets */
} TypeExpr;

typedef struct Param {
    Ident name;
    ParamMode mode;
    bool mode_written;
    TypeExpr type;
    Span span;
} Param;

/* Whether a parameter lives in memory the caller passes by pointer: every
 * tensor, and a scalar the kernel writes (`out` or `inout`), which every stage
 * after the parser treats as a tensor of no dimensions (one element). */
bool ast_param_is_buffer(const Param *p);

typedef struct VarDecl {
    Ident name;
    TypeExpr type;
    Span span;
} VarDecl;

/* i in lo..hi */
typedef struct Iter {
    Ident name;
    Expr *lo, *hi;
    Span span;
} Iter;

typedef enum StmtKind {
    STMT_ASSIGN,   /* lhs op rhs; */
    STMT_LET,      /* let x [: T] = e; */
    STMT_IF,       /* if c { } else { } */
    STMT_FOR,      /* reserved: for inside a nest body */
} StmtKind;

typedef enum AssignOp { ASSIGN_SET, ASSIGN_ADD, ASSIGN_SUB, ASSIGN_MUL, ASSIGN_DIV } AssignOp;

typedef struct Stmt Stmt;
typedef struct StmtList {
    Stmt **items;
    int len;
} StmtList;

struct Stmt {
    StmtKind kind;
    Span span;
    /* ASSIGN */
    Expr *lhs;             /* EXPR_NAME or EXPR_INDEX */
    AssignOp aop;
    Expr *rhs;             /* also the LET initializer */
    /* LET */
    Ident name;
    ElemType let_type;     /* ELEM_NONE when not written */
    /* IF */
    Expr *cond;
    StmtList then_body, else_body;
    bool has_else;
    /* FOR (reserved) */
    Iter **iters;
    int niters;
    StmtList body;
    /* sema: */
    bool is_reduction;     /* ASSIGN recognised as a reduction */
};

typedef struct Nest {
    Ident label;           /* name NULL when unlabelled */
    Iter **iters;
    int niters;
    StmtList body;
    Span span;
    int index;             /* position among the kernel's nests */
} Nest;

typedef struct Kernel {
    Ident name;
    Param **params;
    int nparams;
    VarDecl **vars;
    int nvars;
    Nest **nests;
    int nnests;
    Span span;
    /* sema: */
    Ident *sizes;          /* size names in order of first appearance */
    int nsizes;
} Kernel;

/* ---- Schedules ------------------------------------------------------ */

/* A factor: a positive integer literal or a param name. */
typedef struct Factor {
    int64_t value;         /* literal, or the param's value after sema */
    const char *param;     /* NULL for a literal */
    Span span;
} Factor;

/* split L by F -> o, i; tile a, b by Fa, Fb -> ao, bo, ai, bi; reorder x, y, z;
 * fuse a, b -> f; unroll L; vectorize L; parallel L; bind L -> block.x, ...;
 * cache X at L in shared|registers [pad P | swizzle]; pipeline L stages S
 * [specialize]; tensorize a, b, c with mma(M, N, K); rfactor L into P (reserved) */
typedef enum ClauseKind {
#define X(kind, effect, targets) CLAUSE_##kind,
    ACC_CLAUSES(X)
#undef X
} ClauseKind;

/* What a clause does to the loop list (ACC_CLAUSES). */
typedef enum ClauseEffect {
    EFFECT_PIECES,
    EFFECT_FUSED,
    EFFECT_ORDER,
    EFFECT_KIND,
    EFFECT_NONE,
} ClauseEffect;

/* Where a clause is allowed (ACC_CLAUSES). */
typedef enum ClauseTargets { TARGETS_ANY, TARGETS_CPU, TARGETS_GPU } ClauseTargets;

typedef enum MemKind { MEM_SHARED, MEM_REGISTERS } MemKind;

/* block.x as written: unit and axis are kept as names so the checker can
 * report a misspelling. */
typedef struct HwRef {
    Ident unit, axis;
    Span span;
    HwIndex index;         /* sema: */
} HwRef;

typedef struct Clause {
    ClauseKind kind;
    Span span;
    Ident *loops;          /* the loops it names, outermost first */
    int nloops;
    Factor *factors;       /* split/tile factors; pipeline stages; cache pad */
    int nfactors;
    Ident *outs;           /* names it creates */
    int nouts;
    HwRef *hw;             /* BIND: one per loop */
    Ident tensor;          /* CACHE: X; RFACTOR: P */
    MemKind mem;
    bool has_pad, swizzle; /* CACHE */
    bool specialize;       /* PIPELINE */
    Ident instr;           /* TENSORIZE: mma / wgmma */
    Factor shape[3];       /* TENSORIZE: M, N, K */
} Clause;

typedef struct SchedParam {
    Ident name;
    int64_t value;         /* default, or the --param override */
    Span value_span;
    int64_t *set;          /* in {V, ...}; NULL when not written */
    int nset;
    Span set_span;
    Span span;
} SchedParam;

/* fuse P, Q into R at L; */
typedef struct FuseInto {
    Ident *nests;
    int nnests;
    Ident into, at;
    Span span;
} FuseInto;

/* in LABEL { clauses }; label.name is NULL for clauses written at schedule level. */
typedef struct InBlock {
    Ident label;
    Clause **clauses;
    int nclauses;
    Span span;
} InBlock;

typedef struct Schedule {
    Ident kernel;
    Ident vendor, arch;    /* cpu; nvidia(sm_80); arch.name NULL for cpu */
    Span target_span;
    SchedParam **params;
    int nparams;
    Expr **assumes;
    int nassumes;
    FuseInto **fuses;
    int nfuses;
    InBlock **blocks;
    int nblocks;
    Span span;
    /* sema: */
    Target target;
    Kernel *kdecl;
} Schedule;

typedef struct Program {
    Kernel **kernels;
    int nkernels;
    Schedule **schedules;
    int nschedules;
} Program;

/* Printing for --emit=ast: stable and readable, one node per line. */
#include <stdio.h>
void ast_dump(FILE *out, const Source *src, const Program *p);
void ast_dump_expr(FILE *out, const Expr *e);
/* "param NB = 256 in {128, 256, 512}" (the value after --param overrides). */
void ast_print_sched_param(FILE *out, const SchedParam *p);

const char *op_spelling(Op op);
const char *assign_op_spelling(AssignOp op);
const char *clause_keyword(ClauseKind k);
ClauseEffect clause_effect(ClauseKind k);
ClauseTargets clause_targets(ClauseKind k);
/* split, tile and fuse: the clause replaces loops by new ones. */
bool clause_replaces_loops(ClauseKind k);

#endif
