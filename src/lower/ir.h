/* The loop IR: a tree of loops and statements at any depth, built from the
 * checked AST and the schedule record, transformed by the passes of the
 * driver's pass list, executed by the interpreter and (later) emitted through
 * LLVM. Every node lives in the function's arena.
 *
 * Shape of a function:
 *
 *   IrFunc
 *     signature: the kernel's name, its params in declaration order (IrParam),
 *             sizes, and the assumes checked on entry: all code generation
 *             needs of the kernel besides the body
 *     params: tensors (IrBuffer, mem IR_MEM_PARAM), scalars and sizes (IrVar)
 *     body:   IrBlock of statements, one top-level statement per nest (per
 *             launch on GPUs); each statement may hold blocks of its own
 *
 * Scopes: IR_LET and IR_ALLOC declare a variable or buffer for the rest of the
 * block that holds them (like C declarations). A loop declares its variable
 * for its body. Every IrVar and IrBuffer is declared exactly once.
 *
 * Indices, sizes, extents and offsets are i64 (ELEM_I64). Arithmetic on i64
 * wraps. Before flattening, a load or store has one index per dimension of its
 * buffer; after the flattening pass (IrFunc.flat) it has exactly one. */
#ifndef ACCL_IR_H
#define ACCL_IR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/arena.h"
#include "util/diag.h"
#include "util/lang.h"

typedef struct IrExpr IrExpr;
typedef struct IrStmt IrStmt;

/* The AST nodes the IR came from, for lowering's passes and their messages;
 * code generation never looks inside them. */
struct Kernel;
struct Nest;
struct Schedule;
struct Stmt;

/* ---- variables and buffers ------------------------------------------ */

typedef enum IrVarKind {
    IR_VAR_SIZE,     /* a size name bound from the arguments (i64) */
    IR_VAR_SCALAR,   /* a scalar parameter */
    IR_VAR_LOOP,     /* a loop's index (i64), declared by its IR_LOOP */
    IR_VAR_LET,      /* declared by an IR_LET */
    IR_VAR_PARAM,    /* a schedule param: a named constant (value), in IrFunc.assumes only */
} IrVarKind;

typedef struct IrVar {
    const char *name;      /* as written or created by the schedule; identity is the pointer */
    ElemType type;
    IrVarKind kind;
    int id;                /* dense, unique in the function: index for interpreters */
    int64_t value;         /* IR_VAR_PARAM */
} IrVar;

typedef enum IrMem {
    IR_MEM_PARAM,      /* a tensor parameter: the caller's memory */
    IR_MEM_GLOBAL,     /* a `var` temporary: allocated per call */
    IR_MEM_SHARED,     /* cache ... in shared (GPU: per block; CPU: per thread scratch) */
    IR_MEM_REGISTERS,  /* cache ... in registers, reduction partials: per thread */
} IrMem;

typedef struct IrBuffer {
    const char *name;      /* tensor or var name; caches: "A_shared", "C_reg", ... */
    ElemType elem;
    IrMem mem;
    ParamMode mode;        /* IR_MEM_PARAM only */
    int ndims;
    IrExpr **dims;         /* extents, i64; constant for shared and registers */
    int64_t pad;           /* extra elements on the innermost dimension (shared) */
    bool swizzle;          /* shared: 16-byte chunks permuted within rows */
    int64_t stages;        /* pipelined caches: number of buffers, else 0; in the GPU execution
                              form they follow one another (flatten_stage_rows) */
    int64_t smem_offset;   /* GPU execution form, IR_MEM_SHARED: byte offset in the
                              launch's shared memory (16-byte aligned) */
    int param_index;       /* IR_MEM_PARAM: position among the kernel's params */
    int id;                /* dense, unique in the function */
} IrBuffer;

/* ---- expressions ---------------------------------------------------- */

typedef enum IrExprKind {
    IR_INT,      /* ival, of an integer or bool type */
    IR_FLOAT,    /* fval, of a float type (f16/bf16 constants are exact in f32) */
    IR_VARREF,   /* var */
    IR_LOAD,     /* buf[args...] */
    IR_UNARY,    /* op args[0] */
    IR_BINARY,   /* args[0] op args[1] */
    IR_SELECT,   /* args[0] ? args[1] : args[2]: only the arm taken is evaluated (the
                    other may load out of bounds); no pass may move a load out of an arm */
    IR_CAST,     /* type(args[0]) */
    IR_CALL,     /* intrinsic(args...) */
    IR_SHUFFLE,  /* shfl_xor(args[0], ival): GPU execution form only, see IrLaunch */
} IrExprKind;

/* Operators. Division and remainder follow the Numbers section for the
 * language's types (truncation, x/0 = 0, x%0 = x). FLOORDIV and FLOORMOD are
 * for index arithmetic made by lowering: i64 only, divisor a positive constant. */
typedef enum IrOp {
    IR_NEG, IR_NOT,
    IR_ADD, IR_SUB, IR_MUL, IR_DIV, IR_REM,
    IR_FLOORDIV, IR_FLOORMOD,
    IR_MIN, IR_MAX,        /* float: NaN if either is NaN */
    IR_EQ, IR_NE, IR_LT, IR_LE, IR_GT, IR_GE,
    IR_AND, IR_OR,
} IrOp;

struct IrExpr {
    IrExprKind kind;
    ElemType type;         /* the value's type; comparisons give ELEM_BOOL */
    int64_t ival;
    double fval;
    IrOp op;
    IrVar *var;            /* IR_VARREF */
    IrBuffer *buf;         /* IR_LOAD */
    Intrinsic intrinsic;   /* IR_CALL */
    IrExpr **args;
    int nargs;
};

/* ---- statements ----------------------------------------------------- */

typedef struct IrBlock {
    IrStmt **items;
    int len, cap;
} IrBlock;

typedef enum IrStmtKind {
    IR_LOOP,     /* for var in lo .. lo+extent { body } */
    IR_STORE,    /* buf[idx...] = value */
    IR_LET,      /* let var = value; (for the rest of the enclosing block) */
    IR_IF,       /* if cond { body } else { else_body } */
    IR_ALLOC,    /* alloc buf; (for the rest of the enclosing block) */
    IR_COPY,     /* a cache fill or write-back: see IrCopy */
    IR_BARRIER,  /* all threads of a block wait here (GPU); nothing on the CPU. It first
                    commits the async copies issued by this thread since its previous
                    barrier as one group, waits until at most `pending` of its groups
                    are in flight (0: all landed), then waits for every thread */
} IrStmtKind;

typedef enum IrLoopKind {
    IR_SERIAL,
    IR_PARALLEL,     /* CPU threads */
    IR_VECTORIZED,   /* constant extent */
    IR_UNROLLED,     /* constant extent */
    IR_BOUND,        /* bound to hw */
} IrLoopKind;

/* A copy of a box between two buffers, element by element:
 *   for each t in [0, extent[0]) x ... x [0, extent[n-1]):
 *     s = src_origin + t
 *     if every s[d] is in [0, src.dims[d]) : dst[dst_origin + t] = src[s]
 *     else if zero_fill                   : dst[dst_origin + t] = 0
 *     (else: the element is skipped)
 * A fill copies X into its cache with zero_fill (elements outside X read as 0);
 * a write-back copies the cache into X without it (in bounds only).
 * `guard`, when set, bounds the box further: element t is copied only where
 * guard is true (it may use the IR_VARREFs of `index`, one per dimension). */
typedef struct IrCopy {
    IrBuffer *dst, *src;
    int ndims;
    IrExpr **dst_origin;   /* ndims i64 expressions */
    IrExpr **src_origin;
    int64_t *extent;       /* ndims constants */
    bool zero_fill;
    IrVar **index;         /* ndims loop-like variables naming t, for guard */
    IrExpr *guard;         /* NULL: no extra bound */
    bool async;            /* pipelined: cp.async on sm_80+; lands before the next barrier */
    /* GPU execution form (IrFunc.spmd): a copy executed jointly by every thread
     * of the block. Element number e of the box (row-major over extent) is
     * copied by the thread whose spread_tid == e % spread_threads. NULL: the
     * executing thread copies every element itself. */
    IrVar *spread_tid;
    int64_t spread_threads;
} IrCopy;

struct IrStmt {
    IrStmtKind kind;
    Span origin;           /* the AST statement or clause it came from (for messages) */
    const struct Stmt *source;  /* IR_STORE lowered from an assignment: that AST statement */
    /* IR_LOOP */
    IrVar *var;
    IrExpr *lo, *extent;
    IrLoopKind loop_kind;
    HwIndex hw;            /* IR_BOUND */
    int64_t stages;        /* pipeline L stages S on this loop, else 0 */
    int64_t pending;       /* IR_BARRIER: async copy groups that may stay in flight */
    IrBlock body;          /* IR_LOOP, IR_IF (then) */
    /* IR_STORE */
    IrBuffer *buf;         /* also IR_ALLOC */
    IrExpr **idx;
    int nidx;
    IrExpr *value;         /* IR_STORE, IR_LET */
    /* IR_IF */
    IrExpr *cond;
    IrBlock else_body;
    /* IR_COPY */
    IrCopy copy;
};

/* ---- functions ------------------------------------------------------ */

struct NestSched;

/* One kernel nest in the function: its AST, its schedule (NULL for the
 * default), and the top-level statement it became. A nest fused into another
 * has root NULL once the fusing pass has moved it. Loop variables keep the
 * names of the schedule's loops, so a pass finds loop L of a nest by name
 * inside root. */
typedef struct IrNest {
    const struct Nest *nest;
    const struct NestSched *sched;
    IrStmt *root;
} IrNest;

/* GPU execution form. After the spmd step (src/lower/spmd.c; GPU targets only,
 * run after the pass list by GPU code generation and the emulator), each
 * top-level statement of IrFunc.body is either `alloc global` (a `var`
 * temporary: the host allocates it per call on the device) or one launch:
 *
 *   for b2 in [0, G2) bound block.z {         the launch's block loops, those
 *     for b1 in [0, G1) bound block.y {       present, outermost first; G in
 *       for b0 in [0, G0) bound block.x {     sizes and scalars only
 *         for tid in [0, T) bound thread.x {  one loop: the block's T threads
 *           body                              run by every thread (SPMD)
 *
 * In body there is no other IR_BOUND loop: each warp or thread loop became
 * `let v = lo + (tid / stride) % extent` (with a guard when the block has
 * more threads in that role than the loop's extent). Statements outside every
 * thread loop are uniform: every thread computes them; their stores to shared
 * or global memory are guarded to run once (tid == 0). IR_MEM_REGISTERS
 * buffers are private to each thread; IR_MEM_SHARED buffers are per block, at
 * smem_offset in the launch's shared memory. Barriers sit only where every
 * thread of the block reaches them. A shared buffer with stages S > 1 holds
 * its stages one after another on its outermost dimension (flatten.h,
 * flatten_stage_rows): a copy's outermost coordinate and a flattened index
 * already include the stage, and the buffer's bounds cover all of them.
 *
 * Shuffles. IR_SHUFFLE `shfl_xor(e, m)` (ival = m, a power of two with
 * 1 <= m < wave) is the value of e as evaluated by the thread whose tid is
 * tid XOR m, a lane of the same warp; its type is e's, of 32 or 64 bits. It
 * sits only at the top level of the thread loop's code that every thread of
 * the warp executes together: never under a thread-dependent condition or
 * loop (a let's value, outside every if). The spmd step makes them for
 * reductions over thread.x (spmd.c, "shuffles"); nothing before it does. */
typedef struct IrLaunch {
    IrStmt *root;          /* the top-level statement */
    IrExpr *grid[3];       /* blocks along x, y, z (i64; NULL: 1) */
    IrVar *tid;            /* the thread loop's variable */
    int64_t threads;       /* T: threads per block (1-D blocks) */
    int64_t shared_bytes;  /* shared memory per block, every IR_MEM_SHARED buffer */
    bool async_copies;     /* some copy is async (cp.async on sm_80+) */
} IrLaunch;

/* A parameter of the kernel as a caller passes it. A tensor, or a scalar the
 * kernel writes (`out`, `inout`), lives in the caller's memory and comes by
 * pointer: buf is its IR_MEM_PARAM buffer, whose dims are the shape as
 * written (no pass rewrites them). Any other scalar comes by value: var. */
typedef struct IrParam {
    const char *name;
    ElemType elem;
    ParamMode mode;
    bool tensor;           /* written with brackets (a scalar's buf has no dims) */
    IrBuffer *buf;         /* by pointer, else NULL */
    IrVar *var;            /* by value, else NULL */
} IrParam;

typedef struct IrFunc {
    const struct Kernel *kernel;
    const char *name;      /* the kernel's */
    Span span;             /* where its name is written (for messages) */
    IrParam *params;       /* in declaration order (the sizes follow them as arguments: f->sizes) */
    int nparams;
    IrExpr **shape_checks; /* the shape entries of params and vars that are expressions
                              (not a literal or a size), as written: each must be >= 0 */
    int nshape_checks;
    IrExpr **assumes;      /* the schedule's, as written (i64 over sizes, IR_VAR_PARAM
                              constants and literals; comparisons give bool): checked on entry */
    int nassumes;
    Target target;
    Arena *arena;
    IrBuffer **tensors;    /* tensor params, in declaration order */
    int ntensors;
    IrVar **scalars;       /* scalar params, in declaration order */
    int nscalars;
    IrVar **sizes;         /* size names, in order of first appearance */
    int nsizes;
    IrBlock body;
    IrNest *nests;         /* one per kernel nest, in order */
    int nnests;
    const struct Schedule *schedule;  /* NULL: every nest takes the default schedule */
    bool flat;             /* storage flattened: loads and stores have one index */
    bool spmd;             /* in the GPU execution form (see IrLaunch) */
    IrLaunch *launches;    /* spmd: one per launch, in order */
    int nlaunches;
    int nvars, nbuffers;   /* ids handed out so far */
} IrFunc;

/* Builders. Constant operands are not folded here (the simplifier does it). */
IrFunc *ir_func_new(Arena *a, const struct Kernel *k, Target t);
IrVar *ir_var_new(IrFunc *f, const char *name, ElemType type, IrVarKind kind);
IrBuffer *ir_buffer_new(IrFunc *f, const char *name, ElemType elem, IrMem mem, int ndims);

IrExpr *ir_int(IrFunc *f, ElemType type, int64_t v);
IrExpr *ir_index(IrFunc *f, int64_t v);          /* an i64 constant */
IrExpr *ir_float(IrFunc *f, ElemType type, double v);
IrExpr *ir_ref(IrFunc *f, IrVar *v);
IrExpr *ir_load(IrFunc *f, IrBuffer *b, IrExpr **idx, int nidx);
IrExpr *ir_unary(IrFunc *f, IrOp op, IrExpr *a);
IrExpr *ir_binary(IrFunc *f, IrOp op, IrExpr *a, IrExpr *b);  /* type from a (bool for comparisons) */
IrExpr *ir_select(IrFunc *f, IrExpr *c, IrExpr *a, IrExpr *b);
IrExpr *ir_cast(IrFunc *f, ElemType type, IrExpr *a);
IrExpr *ir_call(IrFunc *f, Intrinsic in, ElemType type, IrExpr **args, int nargs);
/* shfl_xor(e, mask): e as the thread tid XOR mask has it (GPU execution form). */
IrExpr *ir_shuffle_xor(IrFunc *f, IrExpr *e, int64_t mask);
IrExpr *ir_expr_copy(IrFunc *f, const IrExpr *e);
/* A copy of e with every reference to from replaced by a copy of to. */
IrExpr *ir_substitute(IrFunc *f, const IrExpr *e, const IrVar *from, const IrExpr *to);
/* A copy of s and everything under it in which each variable and buffer it
 * declares (loops, lets, copy guard indices, allocs) is a new one of the same
 * name and every use refers to the new one; the rest is shared by reference. */
IrStmt *ir_stmt_clone(IrFunc *f, const IrStmt *s);
bool ir_expr_uses(const IrExpr *e, const IrVar *v);
/* Whether e refers to a variable v with v->id < n and marked[v->id]. */
bool ir_expr_uses_marked(const IrExpr *e, const bool *marked, int n);
/* Whether e or a part of it is of kind k; whether it loads from any buffer. */
bool ir_expr_has(const IrExpr *e, IrExprKind k);
bool ir_has_load(const IrExpr *e);
/* When e is affine in v with a constant coefficient (v, constants times it,
 * sums, differences, negation; anything else free of v): that coefficient.
 * (lower/ir_affine.c: its walk is ir_affine_add's.) */
bool ir_coef_of(const IrExpr *e, const IrVar *v, int64_t *k);
bool ir_expr_equal(const IrExpr *a, const IrExpr *b);
/* Whether e is a constant integer; its value in *v. */
bool ir_const_int(const IrExpr *e, int64_t *v);

IrStmt *ir_stmt_new(IrFunc *f, IrStmtKind k, Span origin);
IrStmt *ir_loop(IrFunc *f, IrVar *var, IrExpr *lo, IrExpr *extent, IrLoopKind kind, Span origin);
IrStmt *ir_store(IrFunc *f, IrBuffer *b, IrExpr **idx, int nidx, IrExpr *value, Span origin);
IrStmt *ir_let(IrFunc *f, IrVar *var, IrExpr *value, Span origin);
IrStmt *ir_if(IrFunc *f, IrExpr *cond, Span origin);
IrStmt *ir_alloc(IrFunc *f, IrBuffer *b, Span origin);
IrStmt *ir_barrier(IrFunc *f, Span origin);
void ir_block_push(IrFunc *f, IrBlock *b, IrStmt *s);

/* Rewrites expressions in place: e = fn(arg, e) for each expression a statement
 * holds itself (loop bounds, store indices and value, let value, if condition,
 * alloc dims, copy origins and guard), or, for a block, of every statement in
 * it at any depth. */
typedef IrExpr *(*IrExprMapFn)(void *arg, IrExpr *e);
void ir_stmt_map_exprs(IrStmt *s, IrExprMapFn fn, void *arg);
void ir_block_map_exprs(IrBlock *b, IrExprMapFn fn, void *arg);
void ir_block_insert(IrFunc *f, IrBlock *b, int at, IrStmt *s);

/* Printing (--emit=ir, --dump): stable, one statement per line, used by golden tests. */
void ir_print(FILE *out, const IrFunc *f);
void ir_print_expr(FILE *out, const IrExpr *e);
/* e as the language writes it (plain literals, parentheses only where needed):
 * for shapes and assumes in generated headers. */
void ir_print_source(FILE *out, const IrExpr *e);
const char *ir_op_spelling(IrOp op);
const char *ir_loop_kind_name(IrLoopKind k);
const char *ir_mem_name(IrMem m);

/* Checks the invariants above (declared before use, one declaration each, types
 * of operands, index counts, constant extents where required). Returns NULL or
 * a description of the first violation (in f's arena). */
const char *ir_verify(const IrFunc *f);

#endif
