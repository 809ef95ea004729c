/* Shared by the kernel checks (sema.c, affine.c, check_expr.c, check_nest.c),
 * legality.c and the unit tests. Nothing here is used outside src/sema and tests/unit. */
#ifndef ACCL_SEMA_INTERNAL_H
#define ACCL_SEMA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "sema/sema.h"
#include "util/affine.h"

/* ---- Affine expressions over sizes and indices ------------------------
 * The forms are util/affine.h's; a term's key is a size (key >= 0: its
 * position in Kernel.sizes) or a loop index (key < 0: AFF_INDEX(p) for the
 * index at position p of the nest, counted from the outermost). */
enum { AFF_PROVE_BUDGET = 4096 };

#define AFF_INDEX(p) (-(intptr_t)(p) - 1)
#define AFF_IS_INDEX(key) ((key) < 0)
#define AFF_INDEX_POS(key) ((int)(-(key) - 1))

/* How aff_from_expr reads a name of type i64: sets *out, or returns false
 * when the name is not affine where it is read. */
typedef bool (*AffNameFn)(void *ctx, const Expr *e, Affine *out);
/* The one AST-to-affine translation, for sema (sema_affine) and legality:
 * integer literals, names through name(ctx, ...), unary -, + and -, and *
 * with a constant operand, every node of type i64. Long left-leaning chains
 * are walked without recursion (the spine lives in ar). False when e is not
 * affine or overflows. */
bool aff_from_expr(const Expr *e, AffNameFn name, void *ctx, Arena *ar, Affine *out);

/* The position of the innermost index with a nonzero coefficient, or -1. */
int aff_innermost_index(const Affine *a);
/* The position of the one index with a nonzero coefficient, or -1 when there
 * is none or more than one. */
int aff_only_index(const Affine *a);
/* Every coefficient >= 0 and the constant >= 0, with no index left: then the
 * expression is >= 0 for all sizes >= 0. */
bool aff_trivially_nonneg(const Affine *a);
/* Writes "2*N - K + 1" style text; names may be NULL (then s0, i0 ...). */
void aff_print(char *buf, int size, const Affine *a, const char *const *size_names,
               const char *const *index_names);

/* A set of facts g >= 0 over sizes and indices: loop ranges, non-empty
 * loops, the conditions of enclosing `if`s and `?:` arms and shape expressions. Used as a stack:
 * save ncons, push, restore. */
typedef struct AffSystem {
    Arena *arena;
    Affine **cons;
    int ncons, cap;
} AffSystem;

void aff_system_init(AffSystem *s, Arena *a);
void aff_system_push(AffSystem *s, const Affine *g);
/* Proves e >= 0 for every size >= 0 and every index value the facts allow,
 * by Fourier-Motzkin elimination of indices (innermost first), then of sizes.
 * Sound, not complete: false means "not proven". */
bool aff_prove_nonneg(const AffSystem *s, const Affine *e);
/* The largest (upper) or smallest value of e, by substituting, innermost
 * index first, the first fact that bounds it with coefficient +-1. Only sizes
 * remain in *out. For messages; false when some index has no such bound. */
bool aff_extreme(const AffSystem *s, const Affine *e, bool upper, Affine *out);

/* ---- Names ------------------------------------------------------------ */

typedef struct Name {
    const char *name;
    SymKind kind;
    void *decl;            /* what Expr.decl gets */
    Span span;             /* where it is defined */
    ElemType elem;         /* element or value type as declared */
    int ndims;             /* tensors and vars: rank (0: scalar var) */
    Affine *dims;          /* tensors and vars: each dimension, ok when affine */
    Expr **dim_exprs;
    ParamMode mode;        /* SYM_TENSOR, SYM_SCALAR */
    int pos;               /* SYM_SIZE: size id; SYM_INDEX: nest position */
    Affine *aff;           /* SYM_LET: its value when affine in sizes and indices */
    /* Write-before-read state for out tensors and vars: */
    bool full;             /* fully written by an earlier nest */
    bool full_pending;     /* fully written by the nest being checked */
    bool reported;         /* a read-before-write error was already given */
    Stmt *empty_write;     /* an `=` that would write all of it but for a loop not
                              indexing it that may run no iterations (empty_iter) */
    Iter *empty_iter;
} Name;

/* The value types an expression may have while it is being checked: an
 * element type, or one of these for literals that have not met a context. */
enum { TY_UNTYPED_INT = ELEM_COUNT + 1, TY_UNTYPED_FLOAT, TY_ERROR };

typedef struct SemaCtx {
    Diag *d;
    Arena *a;
    Program *prog;
    Kernel *k;
    PtrVec names;          /* Name *, innermost last; a stack */
    int nkernel_names;     /* names[0 .. nkernel_names) are kernel-wide */
    Nest *nest;            /* the nest being checked, or NULL */
    Name **index_names;    /* by nest position */
    const char **size_str; /* size names, for printing affine expressions */
    const char **index_str;
    AffSystem sys;
    int if_depth;
    bool in_shape;         /* checking a parameter's or var's shape */
    bool no_bounds;        /* a range of the nest is bad: skip bounds proofs */
    PtrVec dom_writes;     /* Expr *: `=` targets that dominate the current statement */
    PtrVec full_writes;    /* Stmt *: `=` not under an `if`, in the current nest */
} SemaCtx;

/* sema.c */
Name *sema_lookup(SemaCtx *c, const char *name);
Name *sema_define(SemaCtx *c, const char *name, SymKind kind, void *decl, Span span);
void sema_unknown_name(SemaCtx *c, const char *name, Span span, bool calls);
const char *sema_kind_name(SymKind k);
/* A defined name's kind for messages: an `out` scalar is a "scalar parameter". */
const char *sema_name_kind(const Name *n);

/* check_expr.c: resolves names and types an expression. `want` is the type
 * the context needs (ELEM_NONE: none); untyped literals take it. Returns the
 * arithmetic type (f16/bf16 read as f32), or TY_ERROR after an error. */
int sema_expr(SemaCtx *c, Expr *e, int want);
/* Converts a checked integer expression into an affine one over sizes and
 * indices (aff_from_expr with the names in scope; a let stands for its
 * value); false when it is not affine. */
bool sema_affine(SemaCtx *c, const Expr *e, Affine *out);
/* Pushes onto c->sys the affine facts a checked bool condition gives when it
 * is true (positive) or false: comparisons of affine operands, through `!`,
 * `&&` (when true), `||` (when false) and bool `let`s (their values). Callers save and restore
 * c->sys.ncons around what the facts cover (the branches of an `if` or a `?:`). */
void sema_add_condition(SemaCtx *c, const Expr *e, bool positive);
/* The type arithmetic on elements of t happens in: f16/bf16 -> f32. */
ElemType sema_arith_type(ElemType t);
/* Checks an access (read or write) once its subscripts are checked: rank,
 * affinity, bounds, and for reads whether the element was written. */
void sema_access(SemaCtx *c, Expr *e, Name *n, bool write);

/* check_nest.c */
void sema_check_nest(SemaCtx *c, Nest *n);

#endif
