/* The schedule record: each nest's clauses replayed once, in order, with the
 * loop list after every clause. Lowering uses this record and never resolves
 * loop names again. */
#ifndef ACCL_SCHEDULE_H
#define ACCL_SCHEDULE_H

#include <stdio.h>

#include "sema/sema.h"

/* A loop's trip count, kept symbolic.
 *   EXT_CONST    value
 *   EXT_RANGE    iter->hi - iter->lo, an original loop as written (not constant)
 *   EXT_CEILDIV  ceil(a / value), the outer loop of a split or tile
 *   EXT_MUL      a * b, a fused loop
 * Constant operands are folded, so a constant extent is always EXT_CONST. */
typedef enum ExtentKind { EXT_CONST, EXT_RANGE, EXT_CEILDIV, EXT_MUL } ExtentKind;

typedef struct Extent Extent;
struct Extent {
    ExtentKind kind;
    int64_t value;          /* CONST: the extent; CEILDIV: the divisor */
    const Iter *iter;       /* RANGE */
    const Extent *a, *b;    /* CEILDIV: a; MUL: a, b */
};

/* What a loop has become. A loop takes at most one kind. */
typedef enum LoopKind {
    LOOP_SERIAL,
    LOOP_PARALLEL,     /* parallel L (CPU threads) */
    LOOP_VECTORIZED,   /* vectorize L */
    LOOP_UNROLLED,     /* unroll L */
    LOOP_BOUND,        /* bind L -> hw */
    LOOP_TENSORIZED,   /* one of the three loops of tensorize */
} LoopKind;

/* How a loop was made: the record that legality and lowering read instead of
 * replaying the clauses. */
typedef enum DerivKind {
    DERIV_WRITTEN,     /* a loop of the nest as written */
    DERIV_OUTER,       /* split, tile: the outer piece of from[0] */
    DERIV_INNER,       /* split, tile: the inner piece of from[0], of extent factor */
    DERIV_FUSED,       /* fuse: from[0] (the outer loop) and from[1] (the inner) as one */
} DerivKind;

typedef struct SchedDeriv {
    DerivKind kind;
    const char *name;
    Span span;              /* the name in the clause that made it, or the iter's name */
    int from[2];            /* indices into NestSched.derivs; -1 when unused */
    int64_t factor;         /* OUTER, INNER: the split factor */
    const Clause *clause;   /* the clause that made it; NULL for DERIV_WRITTEN */
} SchedDeriv;

typedef struct SchedLoop {
    const char *name;
    const Extent *extent;
    LoopKind kind;
    HwIndex hw;             /* LOOP_BOUND, else HW_NONE */
    Span kind_span;         /* the clause that set kind */
    int64_t stages;         /* pipeline L stages S: S; 0 when not pipelined */
    Span pipeline_span;
    int deriv;              /* its entry in NestSched.derivs: how it was made */
} SchedLoop;

/* cache X at L in mem [pad P | swizzle] */
typedef struct SchedCache {
    const char *tensor;
    void *decl;             /* the Param or VarDecl */
    bool is_var;            /* decl is a VarDecl */
    const char *at;         /* the loop's name; names are unique in a nest */
    MemKind mem;
    int64_t pad;            /* 0 when not written */
    bool swizzle;
    Span span;              /* the clause */
} SchedCache;

/* tensorize a, b, c with mma(M, N, K) */
typedef struct SchedTensorize {
    bool on;
    const char *loops[3];
    int64_t m, n, k;
    Span span;
} SchedTensorize;

/* The state of one nest after a clause (or before the first). Arrays are
 * copies owned by the state; loops are outermost first. */
typedef struct SchedState {
    SchedLoop *loops;
    int nloops;
    SchedCache *caches;
    int ncaches;
    SchedTensorize tensorize;
} SchedState;

typedef struct SchedStep {
    const Clause *clause;
    SchedState after;
} SchedStep;

typedef struct NestSched {
    Nest *nest;
    const InBlock *block;   /* NULL when the schedule has no clauses for the nest */
    SchedState start;       /* the loops as written */
    SchedStep *steps;       /* one per clause of block, in order */
    int nsteps;
    /* Every loop the nest ever had, in the order they were made: the loops as
     * written first (entry i is the nest's index i), then the loops of each
     * clause in order, a tile's loop by loop (outer piece, inner piece). */
    SchedDeriv *derivs;
    int nderivs;
    /* fuse P into R at L, with this nest as P: */
    int fused_into;         /* R's index among the kernel's nests; -1 when not fused */
    const char *fused_at;   /* L, a loop of R's final state */
    const FuseInto *fuse;
} NestSched;

typedef struct SchedRecord {
    Schedule *schedule;
    Target checked_for;     /* the actual target when the schedule applies to it, else its own */
    bool applies;           /* whether the actual target (--target) uses this schedule */
    NestSched *nests;       /* one per kernel nest, in order; NULL when the kernel is unknown */
    int nnests;
} SchedRecord;

/* The final state of a nest: its last step's, or its start. */
const SchedState *sched_final(const NestSched *ns);

/* The clause that gives a loop kind k; k is not LOOP_SERIAL. */
ClauseKind sched_kind_clause(LoopKind k);

/* Checks every schedule of p (kernel, target, params, assumes, clauses, fuses),
 * resolves factors to values, sets Schedule.target and .kdecl, and stores one
 * SchedRecord per schedule in out. Returns false when an error was reported. */
bool sched_check(Program *p, const SemaOptions *opt, Diag *d, Arena *a, Checked *out);

/* legality.c: the Legality section's dependence rules, checked on the AST and the
 * schedule records after sched_check; errors point at the clause. */
bool legality_check(const Checked *c, Diag *d);

/* --emit=schedule: each schedule's nests with the loop list after every clause. */
void sched_dump(FILE *out, const Source *src, const Checked *c);

#endif
