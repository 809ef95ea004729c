/* The statement and expression emitter shared by the CPU (cpu.c) and GPU
 * (gpu.c) code generators; internal to src/emit.
 *
 * cpu.c turns the loop IR into LLVM IR (see its header comment for the
 * semantics of values, memory, loops and copies) with the emitter of
 * cg_expr.c, cg_index.c, cg_stmt.c and cg_copy.c, declared below by file.
 * Where the device code differs, the emitter calls the hooks of Cg.hooks
 * (NULL on the CPU):
 *
 *   bound_loop  a loop bound to a block or thread index (IR_BOUND)
 *   barrier     IR_BARRIER (nothing on the CPU)
 *   alloc       IR_ALLOC, after the dims are evaluated: shared memory, `alloc
 *               global` buffers, register caches (no malloc on a device)
 *   copy        IR_COPY (spread, vectorized and async copies)
 *   math        float intrinsics that need a library function
 *   shuffle     IR_SHUFFLE (the GPU execution form only; an error without it)
 *
 * Without hooks the output is the CPU code generator's, unchanged. */
#ifndef ACCL_EMIT_CG_H
#define ACCL_EMIT_CG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <llvm-c/Core.h>

#include "emit/emit.h"
#include "lower/ir.h"
#include "util/affine.h"
#include "util/diag.h"

/* An i64 value as an affine form (util/affine.h) over LLVM values, keys
 * AFF_KEY(LLVMValueRef): index arithmetic is folded through lets and loop
 * variables before LLVM sees it, so that cache offsets come out constant
 * (SROA then keeps register caches in registers) and vector accesses find
 * their scalar base. Key CG_LIN_LANE (a NULL value) is the lane number of
 * the vectorized loop (<0, 1, ..., V-1>). Terms are emitted in the form's
 * order. A form of more than LIN_MAX terms, or one whose arithmetic would
 * wrap, is not built: the value becomes one opaque term instead. */
enum { LIN_MAX = 12, CG_LIN_LANE = 0 };
typedef Affine Lin;

/* The LLVM function being emitted: K.body, an outlined K.par<N>, or a device kernel. */
typedef struct CgFunc {
    LLVMValueRef fn;
    LLVMBasicBlockRef allocas;     /* first block: allocas, then a branch to the code */
    LLVMBasicBlockRef exit;        /* every return goes through here */
    LLVMValueRef ret_phi;          /* i32: the code returned */
    LLVMValueRef err_ptr;          /* K.par: where an error code goes; NULL for K.body */
    LLVMValueRef *slots;           /* lazily malloc'd caches: ptr slots freed at exit */
    int nslots, capslots;
    int heap_base;                 /* Cg.heap entries below this belong to outer functions */
    LLVMValueRef sink;             /* 16 bytes for the elements a copy does not write */
    bool void_ret;                 /* a device kernel: returns nothing */
} CgFunc;

typedef struct Cg Cg;

typedef struct CgHooks {
    /* Emits the IR_BOUND loop s whole; lo is its lower bound. */
    void (*bound_loop)(Cg *cg, const IrStmt *s, const Lin *lo);
    void (*barrier)(Cg *cg, const IrStmt *s);
    /* Places buffer b (its dims are in Cg.bufdims); false: the CPU's way. */
    bool (*alloc)(Cg *cg, const IrBuffer *b);
    void (*copy)(Cg *cg, const IrStmt *s);
    /* Float intrinsic k of x[0..n) (float or double, scalars or vectors), or
     * NULL for LLVM's own instruction or intrinsic. */
    LLVMValueRef (*math)(Cg *cg, Intrinsic k, LLVMValueRef *x, int n);
    /* IR_SHUFFLE e of the scalar x (e->args[0]'s value): the partner lane's x. */
    LLVMValueRef (*shuffle)(Cg *cg, const IrExpr *e, LLVMValueRef x);
} CgHooks;

struct Cg {
    LLVMContextRef c;
    LLVMModuleRef mod;
    LLVMBuilderRef b;
    LLVMBuilderRef ab;             /* positioned in the current function's alloca block */
    const IrFunc *f;
    const EmitMachine *m;          /* CPU only */
    Diag *d;
    const CgHooks *hooks;          /* device code: see above; NULL on the CPU */
    void *hook_arg;                /* the hooks' own state */
    CgFunc fn;
    LLVMValueRef *vars;            /* by IrVar.id: the value (NULL: not in scope) */
    int64_t *stride;               /* by IrVar.id: stride in the vector loop variable */
    Lin *lin;                      /* by IrVar.id: the i64 value as a Lin, when has_lin */
    bool *has_lin;
    LLVMValueRef *bufp;            /* by IrBuffer.id: base pointer */
    LLVMValueRef **bufdims;        /* by IrBuffer.id: i64 extents */
    LLVMValueRef *heap;            /* malloc'd `var`s in scope, innermost last */
    int nheap, capheap;
    int lanes;                     /* in a vectorized loop: V; else 0 */
    LLVMValueRef mask;             /* <V x i1> of the active lanes, NULL: all */
    int npar;                      /* outlined functions so far */
    bool ok;
    /* types */
    LLVMTypeRef i1, i8, i16, i32, i64, f32, f64, ptr, vd;
};

/* cpu.c: the CPU entry (K.body, the outlined K.par<N>) and small helpers */
/* Builders and types for module mod; cg_dispose releases them. */
void cg_init(Cg *cg, LLVMModuleRef mod, Diag *d);
void cg_dispose(Cg *cg);
/* The per-function tables for f; false (after a diagnostic) if f is not flattened. */
bool cg_func_begin(Cg *cg, const IrFunc *f);
void cg_func_end(Cg *cg);
/* Starts and ends a function (an alloca block, the code, the exit block). */
void cg_begin_function(Cg *cg, LLVMValueRef fn, LLVMValueRef err_ptr);
void cg_end_function(Cg *cg);
/* Binds fn's leading parameters: tensors and scalars in declaration order,
 * then sizes; evaluates the tensors' dims. */
void cg_bind_params(Cg *cg, LLVMValueRef fn);
/* The parallel loop s (lower bound lo) on the CPU: its body outlined into K.par<N>. */
void cg_emit_parallel(Cg *cg, const IrStmt *s, const Lin *lo, LLVMValueRef extent);

/* An internal error at the kernel: the IR cannot be emitted. */
void cg_error(Cg *cg, const char *what);
/* p grown to at least need elements of size bytes (*cap of them); aborts when out of memory. */
void *cg_grow(void *p, int *cap, int need, size_t size);
LLVMTypeRef cg_reg_type(Cg *cg, ElemType t);
LLVMTypeRef cg_mem_type(Cg *cg, ElemType t);
int cg_lanes_of(LLVMValueRef v);
LLVMValueRef cg_splat(Cg *cg, LLVMValueRef v, int lanes);
/* Gives a and b the same shape (splatting the scalar one). */
void cg_unify(Cg *cg, LLVMValueRef *a, LLVMValueRef *b);
/* A constant of scalar type t shaped like `like`. */
LLVMValueRef cg_cst_int(Cg *cg, LLVMTypeRef t, int64_t v, LLVMValueRef like);
LLVMValueRef cg_cst_real(Cg *cg, LLVMTypeRef t, double v, LLVMValueRef like);
LLVMValueRef cg_intrinsic(Cg *cg, const char *name, LLVMTypeRef *over, int nover, LLVMValueRef *args,
                          int nargs);
/* A call of the C function name (declared in the module on first use). */
LLVMValueRef cg_call_c(Cg *cg, const char *name, LLVMTypeRef ret, LLVMTypeRef *params, int n,
                       LLVMValueRef *args);
LLVMBasicBlockRef cg_new_block(Cg *cg, const char *name);

/* cg_expr.c: f16 and bf16, conversions, expressions, memory accesses */
LLVMValueRef cg_convert(Cg *cg, LLVMValueRef v, ElemType from, ElemType to);
LLVMValueRef cg_to_bool(Cg *cg, LLVMValueRef v, ElemType from);
LLVMValueRef cg_int_minmax(Cg *cg, bool is_min, LLVMValueRef a, LLVMValueRef b, ElemType t);
/* floor(a / b) and a - b*floor(a / b) for a positive constant b. */
LLVMValueRef cg_floor_divmod(Cg *cg, bool div, LLVMValueRef a, LLVMValueRef b);
LLVMValueRef cg_expr(Cg *cg, const IrExpr *e);
LLVMValueRef cg_scalar(Cg *cg, const IrExpr *e);   /* a lane-invariant value */
bool cg_is_local(const IrBuffer *b);
unsigned cg_elem_align(const IrBuffer *b);
LLVMValueRef cg_elem_ptr(Cg *cg, const IrBuffer *b, LLVMValueRef idx);
LLVMValueRef cg_scalar_load(Cg *cg, const IrBuffer *b, LLVMValueRef idx);
LLVMValueRef cg_from_mem(Cg *cg, LLVMValueRef v, ElemType t);
LLVMValueRef cg_to_mem(Cg *cg, LLVMValueRef v, ElemType t);
/* Stores v to b at index li: scalar, vector, masked or scattered. */
void cg_emit_store_value(Cg *cg, const IrBuffer *b, const Lin *li, LLVMValueRef v);
/* The lanes of mask `outer` (NULL: all) where c holds (holds) or fails: an
 * arm of a lane-dependent `if` or `?:`. */
LLVMValueRef cg_arm_mask(Cg *cg, LLVMValueRef outer, LLVMValueRef c, bool holds);

/* cg_index.c: strides in the vector loop variable, linear index arithmetic */
/* How e changes from one lane to the next: a constant stride (0: the same in
 * every lane), or INT64_MIN if unknown. Uses Cg.stride for variables. */
int64_t cg_expr_stride(const Cg *cg, const IrExpr *e);
void cg_lin_of(Cg *cg, const IrExpr *e, Lin *out);
LLVMValueRef cg_lin(Cg *cg, const Lin *l);
LLVMValueRef cg_lin_scalar(Cg *cg, const Lin *l);
/* l = 1 * v */
void cg_lin_atom(Lin *l, LLVMValueRef v);
/* a += scale * b; false (a is then not to be used) where that wraps or
 * needs more than LIN_MAX terms. */
bool cg_lin_add(Lin *a, const Lin *b, int64_t scale);
/* Whether l has vector parts: the lane (its coefficient in *lane) or others. */
bool cg_lin_vector(const Lin *l, int64_t *lane, bool *other);
/* Records l as v's i64 value (Cg.lin). */
void cg_set_lin(Cg *cg, const IrVar *v, const Lin *l);
/* Binds s's variable to lo + k (k a value), lo + kc, or lo + the lane. */
void cg_bind_loop_var(Cg *cg, const IrStmt *s, const Lin *lo, LLVMValueRef k, int64_t kc, bool lane);
void cg_unbind_var(Cg *cg, const IrVar *v);

/* cg_stmt.c: exits and heap, buffers, statements */
/* Returns code from the current function: frees the function's `var`s in
 * scope, then branches to its exit block (the current block is done). */
void cg_emit_return(Cg *cg, LLVMValueRef code);
LLVMValueRef cg_fn_free(Cg *cg, LLVMValueRef p);
bool cg_const_dims(const IrBuffer *b, int64_t *out);
LLVMValueRef *cg_eval_dims(Cg *cg, const IrBuffer *b);
/* for (k = 0; k < extent; k++) body(cg, arg, k) */
typedef void (*LoopBody)(Cg *cg, const void *arg, LLVMValueRef k);
void cg_counted_loop(Cg *cg, LLVMValueRef lo, LLVMValueRef extent, LoopBody body, const void *arg);
/* The loop s from lo: cg_loop_body (a LoopBody) binds its variable to lo + k
 * and emits its body. */
typedef struct LoopArg {
    const IrStmt *s;
    Lin lo;
} LoopArg;
void cg_loop_body(Cg *cg, const void *arg, LLVMValueRef k);
void cg_stmt(Cg *cg, const IrStmt *s);
void cg_block(Cg *cg, const IrBlock *blk);

/* cg_copy.c: copies */
/* The element offset of coordinates x in b (flatten.h's layout). */
LLVMValueRef cg_layout_offset(Cg *cg, const IrBuffer *b, LLVMValueRef *x);
/* 0 <= x[d] < dims[d] for d in [0, n). */
LLVMValueRef cg_in_box(Cg *cg, const IrBuffer *b, LLVMValueRef *x, int n);
/* IR_COPY s on the CPU (device code: the copy hook). */
void cg_emit_copy(Cg *cg, const IrStmt *s);

#endif
