/* GPU code generation, the target-independent part: one device module per
 * input file from the GPU execution form (IrFunc.spmd, see IrLaunch in
 * lower/ir.h), with the CPU's emitter (emit/cg.h) and these hooks:
 *
 *   kernels   one per launch: void accl_<K>_<i>(tensors and scalars in
 *             declaration order, sizes (i64), one pointer per top-level
 *             `alloc global`); tensor and global pointers are in the
 *             vendor's global address space and noalias (tensors must not
 *             overlap: design, "Calling a compiled kernel from C"); `in`
 *             tensors are also readonly, so that loads may take the read-only
 *             path. vendor->mark_kernel gives the launch bounds (IrLaunch.threads)
 *   bound     the launch's block loops read the block index of their axis,
 *             its thread loop the thread index: var = lo + index (the grid
 *             and the block have exactly the loops' extents, so no guard)
 *   barrier   vendor->barrier; in a launch with async copies first
 *             vendor->async_wait(pending) (commit the group, wait)
 *   memory    shared buffers: slices of one dynamic shared array (an
 *             external global of [0 x i8] in the shared address space, named
 *             accl_smem) at IrBuffer.smem_offset; register caches: allocas
 *             (cg_stmt.c; at most 64 KiB, else an error); `alloc global`: the
 *             kernel's trailing pointer parameters (the host allocates them)
 *   math      vendor->math (libdevice, or our own gpumath)
 *   shuffle   IR_SHUFFLE: vendor->shuffle_xor on 32-bit words (bitcast; 64-bit
 *             values as two halves)
 *   copies    see "Copies" below
 *
 * Copies. A copy is cut into units: 16-byte vectors of V = 16/E elements (E
 * the element size) where the box allows (same element type on both sides,
 * no guard, innermost extent a multiple of V, rows of both buffers a
 * multiple of 16 bytes, and the first element of the box 16-byte aligned on
 * both sides: checked once per copy at run time for tensors, which may be
 * anywhere), else single elements. A spread copy (IrCopy.spread_tid) is
 * shared by the block's threads: thread t copies units t, t + T, t + 2T, ...
 * (T = spread_threads; for vectors the unit is the chunk, so thread t copies
 * elements V*(t + kT) .. V*(t + kT) + V-1). A unit whose elements are all
 * inside both buffers is one load and one store (ld.global.v4 / st.shared.v4
 * on Nvidia), or one cp.async of 16 bytes when the copy is async and the
 * target has it; any other unit goes element by element: elements outside
 * the source read 0 (zero_fill) or are skipped, elements outside the
 * destination are skipped, and async elements of 4 or 8 bytes take a
 * cp.async of that size. Register caches are copied at constant offsets
 * (units unrolled) so that they stay in registers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "emit/cg.h"
#include "emit/gpu.h"
#include "emit/tool.h"
#include "lower/flatten.h"
#include "util/intmath.h"

enum {
    GPU_REGISTER_LIMIT = 64 * 1024,   /* bytes of one register cache (cg_stmt.c's alloca limit) */
    GPU_UNROLL_UNITS = 8,             /* a thread's share of a copy unrolls up to this many units, */
    GPU_UNROLL_REGISTER_UNITS = 256,  /* or of a register cache's copy this many */
    GPU_MAX_DIMS = 64,
};

/* What the hooks know about the kernel being emitted. */
typedef struct GpuCg {
    const GpuVendor *v;
    const IrLaunch *launch;
    LLVMValueRef smem;               /* the dynamic shared array */
    const IrBuffer **globals;        /* the function's top-level `alloc global` buffers */
    int nglobals;
} GpuCg;

void gpu_kernel_name(char *buf, size_t size, const IrFunc *f, int launch)
{
    snprintf(buf, size, "accl_%s_%d", f->name, launch);
}

void gpu_image_free(GpuImage *img)
{
    free(img->llvm_ir);
    free(img->ptx);
    free(img->cubin);
    free(img->resources);
    free(img->amdgcn);
    free(img->hsaco);
    memset(img, 0, sizeof *img);
}

static GpuCg *gpu_of(Cg *cg) { return cg->hook_arg; }

/* ---- hooks: loops, barriers, buffers, math ---------------------------------- */

/* var = lo + the block index of the loop's axis, or + the thread index. */
static void gpu_bound_loop(Cg *cg, const IrStmt *s, const Lin *lo)
{
    GpuCg *g = gpu_of(cg);
    LLVMValueRef idx;
    switch (s->hw) {
    case HW_BLOCK_X: idx = g->v->block_index(cg->mod, cg->b, 0); break;
    case HW_BLOCK_Y: idx = g->v->block_index(cg->mod, cg->b, 1); break;
    case HW_BLOCK_Z: idx = g->v->block_index(cg->mod, cg->b, 2); break;
    case HW_THREAD_X:
        if (s->var == g->launch->tid) {
            idx = g->v->thread_index(cg->mod, cg->b);
            break;
        }
        /* fallthrough */
    default:
        cg_error(cg, "a loop bound to a warp or thread inside a launch's thread loop");
        return;
    }
    LLVMValueRef k = LLVMBuildZExt(cg->b, idx, cg->i64, "");
    cg_bind_loop_var(cg, s, lo, k, 0, false);
    cg_block(cg, &s->body);
    cg_unbind_var(cg, s->var);
}

/* Commits and waits for the async copies (see IR_BARRIER), then all threads wait. */
static void gpu_barrier(Cg *cg, const IrStmt *s)
{
    GpuCg *g = gpu_of(cg);
    if (g->launch->async_copies && g->v->async_wait)
        g->v->async_wait(cg->mod, cg->b, s->pending);
    g->v->barrier(cg->mod, cg->b);
}

static int64_t buffer_bytes(const IrBuffer *b, const int64_t *dims)
{
    return flatten_count(b, dims) * elem_type_bytes(b->elem);
}

static bool gpu_alloc(Cg *cg, const IrBuffer *b)
{
    GpuCg *g = gpu_of(cg);
    int64_t dims[GPU_MAX_DIMS];
    bool is_const = b->ndims <= GPU_MAX_DIMS && cg_const_dims(b, dims);
    switch (b->mem) {
    case IR_MEM_SHARED: {
        if (!is_const) {
            cg_error(cg, "a shared buffer of non-constant size");
            return true;
        }
        if (b->smem_offset < 0 || b->smem_offset + buffer_bytes(b, dims) > g->launch->shared_bytes) {
            cg_error(cg, "a shared buffer outside the launch's shared memory");
            return true;
        }
        LLVMValueRef off = LLVMConstInt(cg->i64, (unsigned long long)b->smem_offset, 0);
        cg->bufp[b->id] = LLVMBuildGEP2(cg->b, cg->i8, g->smem, &off, 1, b->name);
        return true;
    }
    case IR_MEM_REGISTERS:
        if (!is_const || buffer_bytes(b, dims) > GPU_REGISTER_LIMIT)
            cg_error(cg, "a register cache of non-constant size or over 64 KiB");
        return !is_const || buffer_bytes(b, dims) > GPU_REGISTER_LIMIT;   /* else an alloca */
    case IR_MEM_GLOBAL:
        for (int i = 0; i < g->nglobals; i++)
            if (g->globals[i] == b)
                return true;   /* bound to its parameter at the kernel's start */
        cg_error(cg, "an `alloc global` inside a launch");
        return true;
    default: cg_error(cg, "an alloc of a parameter"); return true;
    }
}

/* The vendor's function for k, called lane by lane on vectors. */
static LLVMValueRef gpu_math(Cg *cg, Intrinsic k, LLVMValueRef *x, int n)
{
    GpuCg *g = gpu_of(cg);
    LLVMTypeRef vt = LLVMTypeOf(x[0]);
    int lanes = cg_lanes_of(x[0]);
    LLVMTypeRef st = lanes ? LLVMGetElementType(vt) : vt;
    LLVMValueRef fn = g->v->math(cg->mod, k, st == cg->f32 ? ELEM_F32 : ELEM_F64);
    if (!fn)
        return NULL;
    LLVMTypeRef ft = LLVMGlobalGetValueType(fn);
    if ((int)LLVMCountParamTypes(ft) != n) {
        cg_error(cg, "a math function with another number of arguments");
        return x[0];
    }
    if (!lanes)
        return LLVMBuildCall2(cg->b, ft, fn, x, (unsigned)n, "");
    LLVMValueRef r = LLVMGetPoison(vt);
    for (int l = 0; l < lanes; l++) {
        LLVMValueRef li = LLVMConstInt(cg->i32, (unsigned long long)l, 0), a[3];
        for (int i = 0; i < n && i < 3; i++)
            a[i] = LLVMBuildExtractElement(cg->b, x[i], li, "");
        r = LLVMBuildInsertElement(cg->b, r, LLVMBuildCall2(cg->b, ft, fn, a, (unsigned)n, ""), li, "");
    }
    return r;
}

/* IR_SHUFFLE: the vendor's 32-bit shuffle on the value's bits, a 64-bit
 * value as two halves (low, high). */
static LLVMValueRef gpu_shuffle(Cg *cg, const IrExpr *e, LLVMValueRef x)
{
    GpuCg *g = gpu_of(cg);
    LLVMTypeRef t = LLVMTypeOf(x);
    unsigned bits = LLVMGetTypeKind(t) == LLVMIntegerTypeKind ? LLVMGetIntTypeWidth(t)
                    : t == cg->f32                            ? 32
                    : t == cg->f64                            ? 64
                                                              : 0;
    if (bits != 32 && bits != 64) {
        cg_error(cg, "a shuffle of a value that is not of 32 or 64 bits");
        return x;
    }
    int64_t threads = g->launch->threads;
    if (bits == 32) {
        LLVMValueRef y = g->v->shuffle_xor(cg->mod, cg->b, LLVMBuildBitCast(cg->b, x, cg->i32, ""), e->ival,
                                           threads, g->v->wave);
        return LLVMBuildBitCast(cg->b, y, t, "");
    }
    LLVMValueRef w = LLVMBuildBitCast(cg->b, x, cg->i64, "");
    LLVMValueRef lo = LLVMBuildTrunc(cg->b, w, cg->i32, "");
    LLVMValueRef hi = LLVMBuildTrunc(cg->b, LLVMBuildLShr(cg->b, w, LLVMConstInt(cg->i64, 32, 0), ""), cg->i32, "");
    lo = g->v->shuffle_xor(cg->mod, cg->b, lo, e->ival, threads, g->v->wave);
    hi = g->v->shuffle_xor(cg->mod, cg->b, hi, e->ival, threads, g->v->wave);
    LLVMValueRef r = LLVMBuildOr(cg->b, LLVMBuildZExt(cg->b, lo, cg->i64, ""),
                                 LLVMBuildShl(cg->b, LLVMBuildZExt(cg->b, hi, cg->i64, ""), LLVMConstInt(cg->i64, 32, 0), ""), "");
    return LLVMBuildBitCast(cg->b, r, t, "");
}

/* ---- copies ------------------------------------------------------------------ */

typedef struct GCopy {
    const IrCopy *c;
    int n;                           /* dims */
    int vec;                         /* elements per unit: V, or 1 */
    int64_t units;                   /* units in the box */
    int64_t uext[GPU_MAX_DIMS];      /* the box in units (innermost divided by vec) */
    LLVMValueRef dorg[GPU_MAX_DIMS], sorg[GPU_MAX_DIMS];
    bool src_local, dst_local;       /* shared or registers: never left */
    bool async;                      /* cp.async where the element size allows */
    bool regs;                       /* a register cache on either side: constant offsets */
} GCopy;

static LLVMValueRef i64c(Cg *cg, int64_t v) { return LLVMConstInt(cg->i64, (unsigned long long)v, 1); }

/* Whether the vendor's cp.async can move `bytes` from src to dst. */
static bool async_fits(const GCopy *gc, int bytes)
{
    return gc->async && (bytes == 4 || bytes == 8 || bytes == 16);
}

/* One element of the box at coordinates t: as copy_element in interp.c. */
static void copy_one(Cg *cg, GCopy *gc, LLVMValueRef *t)
{
    GpuCg *g = gpu_of(cg);
    const IrCopy *c = gc->c;
    LLVMValueRef s[GPU_MAX_DIMS], d[GPU_MAX_DIMS];
    for (int k = 0; k < gc->n; k++) {
        s[k] = LLVMBuildAdd(cg->b, gc->sorg[k], t[k], "");
        d[k] = LLVMBuildAdd(cg->b, gc->dorg[k], t[k], "");
    }
    LLVMValueRef go = gc->dst_local ? NULL : cg_in_box(cg, c->dst, d, gc->n);
    if (c->guard) {
        for (int k = 0; k < gc->n; k++)
            cg->vars[c->index[k]->id] = t[k];
        LLVMValueRef gv = cg_to_bool(cg, cg_expr(cg, c->guard), c->guard->type);
        for (int k = 0; k < gc->n; k++)
            cg->vars[c->index[k]->id] = NULL;
        go = go ? LLVMBuildAnd(cg->b, go, gv, "") : gv;
    }
    LLVMValueRef s_ok = gc->src_local ? NULL : cg_in_box(cg, c->src, s, gc->n);
    if (!c->zero_fill && s_ok)
        go = go ? LLVMBuildAnd(cg->b, go, s_ok, "") : s_ok;
    LLVMBasicBlockRef done = NULL;
    if (go) {
        LLVMBasicBlockRef yes = cg_new_block(cg, "copy.el");
        done = cg_new_block(cg, "copy.el.end");
        LLVMBuildCondBr(cg->b, go, yes, done);
        LLVMPositionBuilderAtEnd(cg->b, yes);
    }
    LLVMValueRef dp = cg_elem_ptr(cg, c->dst, cg_layout_offset(cg, c->dst, d));
    int esize = (int)elem_type_bytes(c->src->elem);
    if (c->src->elem == c->dst->elem && async_fits(gc, esize) && s_ok) {
        /* in the source: cp.async; outside: a zero (zero_fill, else not reached) */
        LLVMBasicBlockRef in = cg_new_block(cg, "copy.async"), out = cg_new_block(cg, "copy.zero"),
                          end = cg_new_block(cg, "copy.async.end");
        LLVMBuildCondBr(cg->b, s_ok, in, out);
        LLVMPositionBuilderAtEnd(cg->b, in);
        g->v->async_copy(cg->mod, cg->b, dp, cg_elem_ptr(cg, c->src, cg_layout_offset(cg, c->src, s)), esize);
        LLVMBuildBr(cg->b, end);
        LLVMPositionBuilderAtEnd(cg->b, out);
        LLVMValueRef st = LLVMBuildStore(cg->b, LLVMConstNull(cg_mem_type(cg, c->dst->elem)), dp);
        LLVMSetAlignment(st, cg_elem_align(c->dst));
        LLVMBuildBr(cg->b, end);
        LLVMPositionBuilderAtEnd(cg->b, end);
    } else {
        LLVMValueRef v;
        LLVMTypeRef mt = cg_mem_type(cg, c->src->elem);
        if (s_ok) {
            /* v = s_ok ? src[s] : 0, the load only where it is in bounds */
            LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b);
            LLVMBasicBlockRef ld = cg_new_block(cg, "copy.ld"), end = cg_new_block(cg, "copy.ld.end");
            LLVMBuildCondBr(cg->b, s_ok, ld, end);
            LLVMPositionBuilderAtEnd(cg->b, ld);
            LLVMValueRef x = cg_scalar_load(cg, c->src, cg_layout_offset(cg, c->src, s));
            LLVMBasicBlockRef ld_end = LLVMGetInsertBlock(cg->b);
            LLVMBuildBr(cg->b, end);
            LLVMPositionBuilderAtEnd(cg->b, end);
            v = LLVMBuildPhi(cg->b, mt, "");
            LLVMValueRef vals[2] = {LLVMConstNull(mt), x};
            LLVMBasicBlockRef bbs[2] = {from, ld_end};
            LLVMAddIncoming(v, vals, bbs, 2);
        } else {
            v = cg_scalar_load(cg, c->src, cg_layout_offset(cg, c->src, s));
        }
        if (c->src->elem != c->dst->elem) {
            v = cg_convert(cg, cg_from_mem(cg, v, c->src->elem), c->src->elem, c->dst->elem);
            v = cg_to_mem(cg, v, c->dst->elem);
        }
        LLVMValueRef st = LLVMBuildStore(cg->b, v, dp);
        LLVMSetAlignment(st, cg_elem_align(c->dst));
    }
    if (done) {
        LLVMBuildBr(cg->b, done);
        LLVMPositionBuilderAtEnd(cg->b, done);
    }
}

/* Whether the vec elements of box row coordinates x..x+vec-1 (x: coordinates
 * of the first) lie inside b. */
static LLVMValueRef chunk_inside(Cg *cg, const GCopy *gc, const IrBuffer *b, LLVMValueRef *x)
{
    int n = gc->n;
    LLVMValueRef ok = cg_in_box(cg, b, x, n - 1);
    LLVMValueRef last = LLVMBuildAdd(cg->b, x[n - 1], i64c(cg, gc->vec - 1), "");
    LLVMValueRef *dims = cg->bufdims[b->id];
    ok = LLVMBuildAnd(cg->b, ok, LLVMBuildICmp(cg->b, LLVMIntSGE, x[n - 1], i64c(cg, 0), ""), "");
    return LLVMBuildAnd(cg->b, ok, LLVMBuildICmp(cg->b, LLVMIntSLT, last, dims[n - 1], ""), "");
}

/* The vec elements at p as one vector (register caches: element by element,
 * at constant offsets, so that they stay promotable). */
static LLVMValueRef chunk_load(Cg *cg, const IrBuffer *b, LLVMValueRef off, int vec)
{
    LLVMTypeRef vt = LLVMVectorType(cg_mem_type(cg, b->elem), (unsigned)vec);
    if (b->mem == IR_MEM_REGISTERS) {
        LLVMValueRef v = LLVMGetPoison(vt);
        for (int l = 0; l < vec; l++) {
            LLVMValueRef x = cg_scalar_load(cg, b, LLVMBuildAdd(cg->b, off, i64c(cg, l), ""));
            v = LLVMBuildInsertElement(cg->b, v, x, LLVMConstInt(cg->i32, (unsigned long long)l, 0), "");
        }
        return v;
    }
    LLVMValueRef ld = LLVMBuildLoad2(cg->b, vt, cg_elem_ptr(cg, b, off), "");
    LLVMSetAlignment(ld, 16);
    return ld;
}

static void chunk_store(Cg *cg, const IrBuffer *b, LLVMValueRef off, LLVMValueRef v, int vec)
{
    if (b->mem == IR_MEM_REGISTERS) {
        for (int l = 0; l < vec; l++) {
            LLVMValueRef x = LLVMBuildExtractElement(cg->b, v, LLVMConstInt(cg->i32, (unsigned long long)l, 0), "");
            LLVMValueRef st = LLVMBuildStore(cg->b, x, cg_elem_ptr(cg, b, LLVMBuildAdd(cg->b, off, i64c(cg, l), "")));
            LLVMSetAlignment(st, cg_elem_align(b));
        }
        return;
    }
    LLVMValueRef st = LLVMBuildStore(cg->b, v, cg_elem_ptr(cg, b, off));
    LLVMSetAlignment(st, 16);
}

typedef struct EdgeArg {
    GCopy *gc;
    LLVMValueRef *t;
} EdgeArg;

/* Element l of the chunk at t. */
static void edge_element(Cg *cg, const void *arg, LLVMValueRef l)
{
    const EdgeArg *ea = arg;
    int n = ea->gc->n;
    LLVMValueRef te[GPU_MAX_DIMS];
    memcpy(te, ea->t, (size_t)n * sizeof *te);
    te[n - 1] = LLVMBuildAdd(cg->b, ea->t[n - 1], l, "");
    copy_one(cg, ea->gc, te);
}

/* One unit at box coordinates t (t[n-1] its first element). */
static void copy_unit_at(Cg *cg, GCopy *gc, LLVMValueRef *t)
{
    if (gc->vec == 1) {
        copy_one(cg, gc, t);
        return;
    }
    GpuCg *g = gpu_of(cg);
    const IrCopy *c = gc->c;
    int n = gc->n;
    LLVMValueRef s[GPU_MAX_DIMS], d[GPU_MAX_DIMS];
    for (int k = 0; k < n; k++) {
        s[k] = LLVMBuildAdd(cg->b, gc->sorg[k], t[k], "");
        d[k] = LLVMBuildAdd(cg->b, gc->dorg[k], t[k], "");
    }
    LLVMValueRef in = NULL;
    if (!gc->src_local)
        in = chunk_inside(cg, gc, c->src, s);
    if (!gc->dst_local) {
        LLVMValueRef din = chunk_inside(cg, gc, c->dst, d);
        in = in ? LLVMBuildAnd(cg->b, in, din, "") : din;
    }
    LLVMBasicBlockRef edge = NULL, done = NULL;
    if (in) {
        LLVMBasicBlockRef whole = cg_new_block(cg, "copy.chunk");
        edge = cg_new_block(cg, "copy.chunk.edge");
        done = cg_new_block(cg, "copy.chunk.end");
        LLVMBuildCondBr(cg->b, in, whole, edge);
        LLVMPositionBuilderAtEnd(cg->b, whole);
    }
    LLVMValueRef doff = cg_layout_offset(cg, c->dst, d), soff = cg_layout_offset(cg, c->src, s);
    if (async_fits(gc, 16))
        g->v->async_copy(cg->mod, cg->b, cg_elem_ptr(cg, c->dst, doff), cg_elem_ptr(cg, c->src, soff), 16);
    else
        chunk_store(cg, c->dst, doff, chunk_load(cg, c->src, soff, gc->vec), gc->vec);
    if (!in)
        return;
    LLVMBuildBr(cg->b, done);
    /* A chunk across an edge: element by element (a loop, unrolled for a
     * register cache). */
    LLVMPositionBuilderAtEnd(cg->b, edge);
    EdgeArg ea = {gc, t};
    if (gc->regs) {
        for (int l = 0; l < gc->vec; l++)
            edge_element(cg, &ea, i64c(cg, l));
    } else {
        cg_counted_loop(cg, NULL, i64c(cg, gc->vec), edge_element, &ea);
    }
    LLVMBuildBr(cg->b, done);
    LLVMPositionBuilderAtEnd(cg->b, done);
}

/* Unit number u (i64, row-major over uext) to box coordinates. */
static void unit_coords(Cg *cg, const GCopy *gc, LLVMValueRef u, LLVMValueRef *t)
{
    /* i32 arithmetic: a box has fewer than 2^31 units (checked by the caller) */
    LLVMValueRef x = LLVMBuildTrunc(cg->b, u, cg->i32, "");
    for (int d = gc->n - 1; d >= 0; d--) {
        LLVMValueRef e = LLVMConstInt(cg->i32, (unsigned long long)gc->uext[d], 0);
        LLVMValueRef r = d == 0 ? x : LLVMBuildURem(cg->b, x, e, "");
        if (d > 0)
            x = LLVMBuildUDiv(cg->b, x, e, "");
        t[d] = LLVMBuildZExt(cg->b, r, cg->i64, "");
        if (d == gc->n - 1 && gc->vec > 1)
            t[d] = LLVMBuildMul(cg->b, t[d], i64c(cg, gc->vec), "");
    }
}

/* Unit number u (a constant) to constant box coordinates. */
static void unit_coords_const(Cg *cg, const GCopy *gc, int64_t u, LLVMValueRef *t)
{
    for (int d = gc->n - 1; d >= 0; d--) {
        int64_t r = u % gc->uext[d];
        u /= gc->uext[d];
        t[d] = i64c(cg, d == gc->n - 1 ? r * gc->vec : r);
    }
}

typedef struct UnitLoop {
    GCopy *gc;
    LLVMValueRef tid;        /* i64 */
    int64_t threads;
    bool check_units;        /* units past the box exist: test u < units */
    bool check_tid;          /* threads past `threads` exist: test tid < threads */
} UnitLoop;

/* Unit u (i64) if it is in the box. */
static void copy_unit(Cg *cg, const UnitLoop *ul, LLVMValueRef u)
{
    LLVMBasicBlockRef done = NULL;
    LLVMValueRef go = NULL;
    if (ul->check_units)
        go = LLVMBuildICmp(cg->b, LLVMIntULT, u, i64c(cg, ul->gc->units), "");
    if (ul->check_tid) {
        LLVMValueRef in = LLVMBuildICmp(cg->b, LLVMIntULT, ul->tid, i64c(cg, ul->threads), "");
        go = go ? LLVMBuildAnd(cg->b, go, in, "") : in;
    }
    if (go) {
        LLVMBasicBlockRef yes = cg_new_block(cg, "copy.unit");
        done = cg_new_block(cg, "copy.unit.end");
        LLVMBuildCondBr(cg->b, go, yes, done);
        LLVMPositionBuilderAtEnd(cg->b, yes);
    }
    LLVMValueRef t[GPU_MAX_DIMS];
    unit_coords(cg, ul->gc, u, t);
    copy_unit_at(cg, ul->gc, t);
    if (done) {
        LLVMBuildBr(cg->b, done);
        LLVMPositionBuilderAtEnd(cg->b, done);
    }
}

static void unit_loop_body(Cg *cg, const void *arg, LLVMValueRef k)
{
    const UnitLoop *ul = arg;
    copy_unit(cg, ul, LLVMBuildAdd(cg->b, ul->tid, LLVMBuildMul(cg->b, k, i64c(cg, ul->threads), ""), ""));
}

/* Whether the rows of b keep 16-byte alignment from one to the next (or the
 * box has one row), statically; for a tensor the row length is known only
 * at run time: *rt gets that test. */
static bool rows_aligned(Cg *cg, const GCopy *gc, const IrBuffer *b, LLVMValueRef *rt)
{
    int n = gc->n;
    bool one_row = true;
    for (int d = 0; d < n - 1; d++)
        if (gc->c->extent[d] > 1)
            one_row = false;
    if (one_row)
        return true;
    int64_t esize = elem_type_bytes(b->elem);
    int64_t dims[GPU_MAX_DIMS];
    if (cg_const_dims(b, dims))
        return (dims[n - 1] + b->pad) * esize % 16 == 0;
    LLVMValueRef w = LLVMBuildMul(cg->b, cg->bufdims[b->id][n - 1], i64c(cg, esize), "");
    LLVMValueRef ok = LLVMBuildICmp(cg->b, LLVMIntEQ, LLVMBuildAnd(cg->b, w, i64c(cg, 15), ""), i64c(cg, 0), "");
    *rt = *rt ? LLVMBuildAnd(cg->b, *rt, ok, "") : ok;
    return true;
}

/* The run-time test that the box's first element is 16-byte aligned in b
 * (added to *rt); local buffers start 16-byte aligned. */
static void origin_aligned(Cg *cg, const IrBuffer *b, LLVMValueRef *org, LLVMValueRef *rt)
{
    int64_t esize = elem_type_bytes(b->elem);
    LLVMValueRef off = LLVMBuildMul(cg->b, cg_layout_offset(cg, b, org), i64c(cg, esize), "");
    if (!cg_is_local(b))
        off = LLVMBuildAdd(cg->b, off, LLVMBuildPtrToInt(cg->b, cg->bufp[b->id], cg->i64, ""), "");
    LLVMValueRef ok = LLVMBuildICmp(cg->b, LLVMIntEQ, LLVMBuildAnd(cg->b, off, i64c(cg, 15), ""), i64c(cg, 0), "");
    *rt = *rt ? LLVMBuildAnd(cg->b, *rt, ok, "") : ok;
}

/* Every unit this thread copies: unrolled when few (always for register
 * caches: constant offsets), else a loop. */
static void copy_units(Cg *cg, GCopy *gc, LLVMValueRef tid, int64_t threads, bool tid_checked)
{
    int64_t per = im_ceil_div(gc->units, threads);
    UnitLoop ul = {gc, tid, threads, gc->units % threads != 0, !tid_checked};
    if (threads == 1 && per <= (gc->regs ? GPU_UNROLL_REGISTER_UNITS : GPU_UNROLL_UNITS)) {
        for (int64_t u = 0; u < gc->units; u++) {
            LLVMValueRef t[GPU_MAX_DIMS];
            unit_coords_const(cg, gc, u, t);
            copy_unit_at(cg, gc, t);
        }
        return;
    }
    if (per <= GPU_UNROLL_UNITS) {
        for (int64_t k = 0; k < per; k++)
            unit_loop_body(cg, &ul, i64c(cg, k));
        return;
    }
    cg_counted_loop(cg, NULL, i64c(cg, per), unit_loop_body, &ul);
}

/* The copy with units of vec elements. */
static void copy_with(Cg *cg, GCopy *gc, int vec)
{
    const IrCopy *c = gc->c;
    gc->vec = vec;
    gc->units = 1;
    for (int d = 0; d < gc->n; d++) {
        gc->uext[d] = d == gc->n - 1 ? c->extent[d] / vec : c->extent[d];
        gc->units *= gc->uext[d];
    }
    LLVMValueRef tid = i64c(cg, 0);
    int64_t threads = 1;
    bool tid_checked = true;
    if (c->spread_tid) {
        GpuCg *g = gpu_of(cg);
        tid = cg->vars[c->spread_tid->id];
        threads = c->spread_threads;
        if (!tid || threads < 1) {
            cg_error(cg, "a spread copy without its thread index");
            return;
        }
        /* threads past spread_threads copy nothing */
        tid_checked = c->spread_tid == g->launch->tid && threads >= g->launch->threads;
    }
    copy_units(cg, gc, tid, threads, tid_checked);
}

static void gpu_copy(Cg *cg, const IrStmt *s)
{
    GpuCg *g = gpu_of(cg);
    const IrCopy *c = &s->copy;
    GCopy gc = {.c = c, .n = c->ndims};
    if (c->ndims < 1 || c->ndims > GPU_MAX_DIMS || c->ndims != c->dst->ndims || c->ndims != c->src->ndims ||
        !cg->bufdims[c->dst->id] || !cg->bufdims[c->src->id]) {
        cg_error(cg, "a copy between buffers of other ranks, or not allocated");
        return;
    }
    int64_t total = 1;
    for (int k = 0; k < c->ndims; k++) {
        gc.dorg[k] = cg_scalar(cg, c->dst_origin[k]);
        gc.sorg[k] = cg_scalar(cg, c->src_origin[k]);
        if (c->extent[k] <= 0)
            return;
        total = total > INT32_MAX / c->extent[k] ? INT32_MAX : total * c->extent[k];
    }
    if (total >= INT32_MAX) {
        cg_error(cg, "a copy of 2^31 elements or more");
        return;
    }
    gc.src_local = cg_is_local(c->src);
    gc.dst_local = cg_is_local(c->dst);
    gc.regs = c->src->mem == IR_MEM_REGISTERS || c->dst->mem == IR_MEM_REGISTERS;
    gc.async = c->async && g->v->async_copy && g->launch->async_copies && c->dst->mem == IR_MEM_SHARED &&
               !gc.src_local && c->src->elem == c->dst->elem;
    /* 16-byte units where the box allows, tested once (see the header comment). */
    int64_t esize = elem_type_bytes(c->src->elem);
    int vec = esize <= 8 && 16 % esize == 0 ? (int)(16 / esize) : 1;
    bool can_vec = vec > 1 && c->src->elem == c->dst->elem && !c->guard && c->extent[c->ndims - 1] % vec == 0;
    LLVMValueRef rt = NULL;
    can_vec = can_vec && rows_aligned(cg, &gc, c->src, &rt) && rows_aligned(cg, &gc, c->dst, &rt);
    if (!can_vec) {
        copy_with(cg, &gc, 1);
        return;
    }
    origin_aligned(cg, c->src, gc.sorg, &rt);
    origin_aligned(cg, c->dst, gc.dorg, &rt);
    LLVMBasicBlockRef vb = cg_new_block(cg, "copy.vec"), sb = cg_new_block(cg, "copy.scalar"),
                      done = cg_new_block(cg, "copy.end");
    LLVMBuildCondBr(cg->b, rt, vb, sb);
    LLVMPositionBuilderAtEnd(cg->b, vb);
    copy_with(cg, &gc, vec);
    LLVMBuildBr(cg->b, done);
    LLVMPositionBuilderAtEnd(cg->b, sb);
    copy_with(cg, &gc, 1);
    LLVMBuildBr(cg->b, done);
    LLVMPositionBuilderAtEnd(cg->b, done);
}

static const CgHooks gpu_hooks = {
    .bound_loop = gpu_bound_loop,
    .barrier = gpu_barrier,
    .alloc = gpu_alloc,
    .copy = gpu_copy,
    .math = gpu_math,
    .shuffle = gpu_shuffle,
};

/* ---- kernels ------------------------------------------------------------------ */

static LLVMValueRef shared_array(Cg *cg, const GpuVendor *v)
{
    LLVMValueRef g = LLVMGetNamedGlobal(cg->mod, "accl_smem");
    if (!g) {
        LLVMTypeRef t = LLVMArrayType2(cg->i8, 0);
        g = LLVMAddGlobalInAddressSpace(cg->mod, t, "accl_smem", v->shared_as);
        LLVMSetLinkage(g, LLVMExternalLinkage);
        LLVMSetAlignment(g, 16);
    }
    return g;
}

static void add_param_attr(Cg *cg, LLVMValueRef fn, unsigned index, const char *name)
{
    unsigned kind = LLVMGetEnumAttributeKindForName(name, strlen(name));
    LLVMAddAttributeAtIndex(fn, index, LLVMCreateEnumAttribute(cg->c, kind, 0));
}

/* The kernel of launch li: declared with its parameters (see the header). */
static LLVMValueRef declare_kernel(Cg *cg, const GpuVendor *v, const IrFunc *f, int li, const GpuCg *g)
{
    LLVMTypeRef gptr = LLVMPointerTypeInContext(cg->c, v->global_as);
    int n = f->nparams + f->nsizes + g->nglobals;
    LLVMTypeRef *params = calloc((size_t)n + 1, sizeof *params);
    bool *readonly = calloc((size_t)n + 1, sizeof *readonly), *noalias = calloc((size_t)n + 1, sizeof *noalias);
    if (!params || !readonly || !noalias)
        abort();
    int at = 0;
    for (int p = 0; p < f->nparams; p++) {
        const IrParam *ip = &f->params[p];
        if (ip->buf) {
            readonly[at] = ip->mode == MODE_IN;
            noalias[at] = true;
            params[at++] = gptr;
        } else {
            params[at++] = cg_reg_type(cg, ip->var->type);
        }
    }
    for (int i = 0; i < f->nsizes; i++)
        params[at++] = cg->i64;
    for (int i = 0; i < g->nglobals; i++) {
        noalias[at] = true;
        params[at++] = gptr;
    }
    char name[256];
    gpu_kernel_name(name, sizeof name, f, li);
    LLVMValueRef fn = LLVMAddFunction(cg->mod, name, LLVMFunctionType(LLVMVoidTypeInContext(cg->c), params,
                                                                      (unsigned)at, 0));
    for (int i = 0; i < at; i++) {
        if (noalias[i])
            add_param_attr(cg, fn, (unsigned)i + 1, "noalias");
        if (readonly[i])
            add_param_attr(cg, fn, (unsigned)i + 1, "readonly");
    }
    add_param_attr(cg, fn, LLVMAttributeFunctionIndex, "nounwind");
    free(params);
    free(readonly);
    free(noalias);
    return fn;
}

/* Records what --print-resources reports beside the vendor's numbers. */
static void note_launch(Cg *cg, LLVMValueRef fn, const IrLaunch *l)
{
    char v[32];
    snprintf(v, sizeof v, "%lld", (long long)l->shared_bytes);
    const char *key = "accl-shared-bytes";
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(cg->c, key, (unsigned)strlen(key), v, (unsigned)strlen(v)));
    snprintf(v, sizeof v, "%lld", (long long)l->threads);
    key = "accl-threads";
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(cg->c, key, (unsigned)strlen(key), v, (unsigned)strlen(v)));
}

static bool emit_kernel(Cg *cg, const GpuVendor *v, const IrFunc *f, int li)
{
    GpuCg g = {.v = v, .launch = &f->launches[li]};
    g.globals = calloc((size_t)f->body.len + 1, sizeof *g.globals);
    if (!g.globals)
        abort();
    for (int i = 0; i < f->body.len; i++) {
        const IrStmt *s = f->body.items[i];
        if (s->kind == IR_ALLOC && s->buf->mem == IR_MEM_GLOBAL)
            g.globals[g.nglobals++] = s->buf;
    }
    if (!cg_func_begin(cg, f)) {
        free(g.globals);
        return false;
    }
    cg->hooks = &gpu_hooks;
    cg->hook_arg = &g;
    if (g.launch->threads < 1 || g.launch->threads > TARGET_MAX_THREADS)
        cg_error(cg, "a launch with no threads or more than a block may have");
    LLVMValueRef fn = declare_kernel(cg, v, f, li, &g);
    note_launch(cg, fn, g.launch);
    v->mark_kernel(cg->mod, fn, g.launch->threads);
    cg_begin_function(cg, fn, NULL);
    cg->fn.void_ret = true;
    g.smem = shared_array(cg, v);
    cg_bind_params(cg, fn);
    unsigned at = (unsigned)(f->nparams + f->nsizes);
    for (int i = 0; i < g.nglobals; i++) {
        LLVMValueRef p = LLVMGetParam(fn, at++);
        LLVMSetValueName2(p, g.globals[i]->name, strlen(g.globals[i]->name));
        cg_eval_dims(cg, g.globals[i]);
        cg->bufp[g.globals[i]->id] = p;
    }
    cg_stmt(cg, g.launch->root);
    cg_end_function(cg);
    bool ok = cg->ok;
    cg_func_end(cg);
    cg->hooks = NULL;
    cg->hook_arg = NULL;
    free(g.globals);
    return ok;
}

/* ---- the module ---------------------------------------------------------------- */

static const GpuVendor *gpu_vendor(Target t)
{
    if (strcmp(target_vendor(t), "nvidia") == 0)
        return gpu_vendor_nvptx(t);
    if (strcmp(target_vendor(t), "amd") == 0)
        return gpu_vendor_amdgpu(t);
    return NULL;
}

bool gpu_compile(IrFunc *const *funcs, int n, Target t, const GpuOptions *o, GpuImage *img, Diag *d)
{
    memset(img, 0, sizeof *img);
    img->target = t;
    const GpuVendor *v = target_is_gpu(t) ? gpu_vendor(t) : NULL;
    for (int i = 0; i < n; i++) {
        const char *why = !v ? "no device code generator for the target"
                          : !funcs[i]->spmd ? "the IR is not in the GPU execution form"
                          : funcs[i]->target != t ? "the IR is for another target" : NULL;
        if (why) {
            diag_error(d, funcs[i]->span, "internal error: cannot emit GPU code for '%s': %s",
                       funcs[i]->name, why);
            return false;
        }
    }
    if (!v) {
        fprintf(stderr, "accl: error: internal error: no device code generator for target '%s'\n",
                target_arch(t));
        return false;
    }
    char *err = NULL;
    LLVMTargetRef lt;
    if (LLVMGetTargetFromTriple(v->triple, &lt, &err)) {
        fprintf(stderr, "accl: error: LLVM cannot emit code for '%s': %s\n", v->triple, err ? err : "?");
        LLVMDisposeMessage(err);
        return false;
    }
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(lt, v->triple, v->cpu, v->features, LLVMCodeGenLevelAggressive,
                                                      LLVMRelocDefault, LLVMCodeModelDefault);
    LLVMContextRef cx = LLVMContextCreate();
    LLVMModuleRef mod = LLVMModuleCreateWithNameInContext("accl.device", cx);
    LLVMSetTarget(mod, v->triple);
    LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(tm);
    LLVMSetModuleDataLayout(mod, layout);
    LLVMDisposeTargetData(layout);
    LLVMDisposeTargetMachine(tm);

    Cg cg;
    cg_init(&cg, mod, d);
    bool ok = true;
    for (int i = 0; i < n; i++)
        for (int li = 0; li < funcs[i]->nlaunches; li++)
            ok = emit_kernel(&cg, v, funcs[i], li) && ok;
    cg_dispose(&cg);
#ifndef NDEBUG
    if (ok && LLVMVerifyModule(mod, LLVMReturnStatusAction, &err)) {
        fprintf(stderr, "accl: error: internal error: LLVM rejects the device module: %s\n", err);
        ok = false;
    }
    LLVMDisposeMessage(err);
    err = NULL;
#endif
    if (ok && !v->finish(mod, v, o, img, &err)) {
        fprintf(stderr, "accl: error: %s\n", err ? err : "device code generation failed");
        ok = false;
    }
    free(err);
    LLVMDisposeModule(mod);
    LLVMContextDispose(cx);
    if (!ok)
        gpu_image_free(img);
    img->target = t;
    return ok;
}

/* ---- for the vendors' finish ---- */

bool gpu_optimize(LLVMModuleRef m, LLVMTargetMachineRef tm, GpuImage *img, char **err)
{
    LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
    LLVMErrorRef e = LLVMRunPasses(m, "default<O3>", tm, po);
    LLVMDisposePassBuilderOptions(po);
    if (e) {
        char *msg = LLVMGetErrorMessage(e);
        *err = tool_printf("LLVM's optimizer failed: %s", msg);
        LLVMDisposeErrorMessage(msg);
        return false;
    }
    char *text = LLVMPrintModuleToString(m);
    img->llvm_ir = tool_printf("%s", text);
    LLVMDisposeMessage(text);
    return true;
}

char *gpu_emit_buffer(LLVMTargetMachineRef tm, LLVMModuleRef m, LLVMCodeGenFileType kind, size_t *size,
                      char **err)
{
    LLVMMemoryBufferRef buf;
    char *msg = NULL;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, m, kind, &msg, &buf)) {
        *err = tool_printf("LLVM cannot emit the code: %s", msg ? msg : "?");
        LLVMDisposeMessage(msg);
        return NULL;
    }
    *size = LLVMGetBufferSize(buf);
    char *d = malloc(*size + 1);
    if (!d)
        abort();
    memcpy(d, LLVMGetBufferStart(buf), *size);
    d[*size] = '\0';
    LLVMDisposeMemoryBuffer(buf);
    return d;
}
