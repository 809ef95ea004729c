/* Copies (IR_COPY) on the CPU: the box of an IrCopy placed with the layout of
 * src/lower/flatten.h; rows of plain same-type copies by memcpy and memset,
 * small copies and copies touching registers element by element. The
 * semantics are in cpu.c's header comment ("copies"). */
#include <stdint.h>

#include "emit/cg.h"
#include "lower/flatten.h"

enum {
    CPU_UNROLL_COPY = 256,         /* copies of at most this many elements unroll */
};

/* ---- copies -------------------------------------------------------------- */

typedef struct CopyCtx {
    const IrCopy *c;
    bool inside;               /* the whole box is in both buffers: no checks */
    LLVMValueRef dorg[64], sorg[64];
    LLVMValueRef t[64];        /* the current box coordinates */
} CopyCtx;

/* The element offset of coordinates x in b (flatten.h's layout). */
LLVMValueRef cg_layout_offset(Cg *cg, const IrBuffer *b, LLVMValueRef *x)
{
    int n = b->ndims;
    LLVMValueRef *dims = cg->bufdims[b->id];
    if (n == 0)
        return LLVMConstInt(cg->i64, 0, 0);
    LLVMValueRef r = LLVMConstInt(cg->i64, 0, 0);
    for (int d = 0; d < n - 1; d++)
        r = LLVMBuildAdd(cg->b, LLVMBuildMul(cg->b, r, dims[d], ""), x[d], "");
    LLVMValueRef w = dims[n - 1];
    if (b->pad)
        w = LLVMBuildAdd(cg->b, w, LLVMConstInt(cg->i64, (unsigned long long)b->pad, 0), "");
    LLVMValueRef col = x[n - 1];
    int64_t cd[64];
    int64_t chunks = n <= 64 && cg_const_dims(b, cd) ? flatten_swizzles(b, cd) : 0;
    if (chunks) {
        LLVMValueRef k = LLVMConstInt(cg->i64, (unsigned long long)(16 / elem_type_bytes(b->elem)), 0);
        LLVMValueRef chunk = LLVMBuildSDiv(cg->b, col, k, "");
        LLVMValueRef rm = LLVMBuildSRem(cg->b, r, LLVMConstInt(cg->i64, (unsigned long long)chunks, 0), "");
        col = LLVMBuildAdd(cg->b, LLVMBuildMul(cg->b, LLVMBuildXor(cg->b, chunk, rm, ""), k, ""),
                           LLVMBuildSRem(cg->b, col, k, ""), "");
    }
    return LLVMBuildAdd(cg->b, LLVMBuildMul(cg->b, r, w, ""), col, "");
}

/* 0 <= x[d] < dims[d] for d in [0, n) (n: all dims, or all but the last). */
LLVMValueRef cg_in_box(Cg *cg, const IrBuffer *b, LLVMValueRef *x, int n)
{
    LLVMValueRef ok = LLVMConstInt(cg->i1, 1, 0);
    for (int d = 0; d < n; d++) {
        /* unsigned x < dim is 0 <= x < dim for dim >= 0 */
        LLVMValueRef in = LLVMBuildICmp(cg->b, LLVMIntULT, x[d], cg->bufdims[b->id][d], "");
        ok = LLVMBuildAnd(cg->b, ok, in, "");
    }
    return ok;
}

/* 16 zero bytes: what an element outside a copy's source reads. */
static LLVMValueRef zeros_global(Cg *cg)
{
    LLVMValueRef g = LLVMGetNamedGlobal(cg->mod, "accl.zeros");
    if (!g) {
        LLVMTypeRef t = LLVMArrayType2(cg->i8, 16);
        g = LLVMAddGlobal(cg->mod, t, "accl.zeros");
        LLVMSetInitializer(g, LLVMConstNull(t));
        LLVMSetGlobalConstant(g, 1);
        LLVMSetLinkage(g, LLVMInternalLinkage);
        LLVMSetAlignment(g, 16);
    }
    return g;
}

/* 16 bytes of the current function's stack: where an element a copy does
 * not write goes. */
static LLVMValueRef sink_ptr(Cg *cg)
{
    if (!cg->fn.sink) {
        cg->fn.sink = LLVMBuildAlloca(cg->ab, LLVMArrayType2(cg->i8, 16), "sink");
        LLVMSetAlignment(cg->fn.sink, 16);
    }
    return cg->fn.sink;
}

static void copy_coords(Cg *cg, CopyCtx *cc, LLVMValueRef *s, LLVMValueRef *d)
{
    for (int k = 0; k < cc->c->ndims; k++) {
        s[k] = LLVMBuildAdd(cg->b, cc->sorg[k], cc->t[k], "");
        d[k] = LLVMBuildAdd(cg->b, cc->dorg[k], cc->t[k], "");
    }
}

/* One element t of the box, as copy_element in interp.c. */
static void copy_element(Cg *cg, CopyCtx *cc)
{
    const IrCopy *c = cc->c;
    LLVMValueRef s[64], d[64];
    copy_coords(cg, cc, s, d);
    if (cc->inside) {
        LLVMValueRef v = cg_from_mem(cg, cg_scalar_load(cg, c->src, cg_layout_offset(cg, c->src, s)), c->src->elem);
        v = cg_convert(cg, v, c->src->elem, c->dst->elem);
        LLVMValueRef store = LLVMBuildStore(cg->b, cg_to_mem(cg, v, c->dst->elem),
                                            cg_elem_ptr(cg, c->dst, cg_layout_offset(cg, c->dst, d)));
        LLVMSetAlignment(store, cg_elem_align(c->dst));
        return;
    }
    /* Without branches (small boxes unroll into many of these): an element
     * outside the source reads the zeros of accl.zeros, one not to be
     * written goes to the function's sink. A cache is never left (the
     * interpreter reports that as a miscompile): its accesses stay direct,
     * at constant offsets when the copy is unrolled, so that a register
     * cache stays promotable. */
    bool dst_cache = cg_is_local(c->dst), src_cache = cg_is_local(c->src);
    LLVMValueRef go = dst_cache ? LLVMConstInt(cg->i1, 1, 0) : cg_in_box(cg, c->dst, d, c->ndims);
    if (c->guard) {
        for (int k = 0; k < c->ndims; k++)
            cg->vars[c->index[k]->id] = cc->t[k];
        go = LLVMBuildAnd(cg->b, go, cg_to_bool(cg, cg_expr(cg, c->guard), c->guard->type), "");
        for (int k = 0; k < c->ndims; k++)
            cg->vars[c->index[k]->id] = NULL;
    }
    LLVMValueRef s_ok = src_cache ? LLVMConstInt(cg->i1, 1, 0) : cg_in_box(cg, c->src, s, c->ndims);
    if (!c->zero_fill)
        go = LLVMBuildAnd(cg->b, go, s_ok, "");
    LLVMValueRef sp = cg_elem_ptr(cg, c->src, cg_layout_offset(cg, c->src, s));
    if (!src_cache)
        sp = LLVMBuildSelect(cg->b, s_ok, sp, zeros_global(cg), "");
    LLVMValueRef ld = LLVMBuildLoad2(cg->b, cg_mem_type(cg, c->src->elem), sp, "");
    LLVMSetAlignment(ld, cg_elem_align(c->src));
    LLVMValueRef v = cg_convert(cg, cg_from_mem(cg, ld, c->src->elem), c->src->elem, c->dst->elem);
    v = cg_to_mem(cg, v, c->dst->elem);
    LLVMValueRef dp = cg_elem_ptr(cg, c->dst, cg_layout_offset(cg, c->dst, d));
    if (dst_cache) {
        if (!LLVMIsConstant(go) || !LLVMConstIntGetZExtValue(go)) {
            LLVMValueRef old = LLVMBuildLoad2(cg->b, LLVMTypeOf(v), dp, "");
            LLVMSetAlignment(old, cg_elem_align(c->dst));
            v = LLVMBuildSelect(cg->b, go, v, old, "");
        }
    } else {
        dp = LLVMBuildSelect(cg->b, go, dp, sink_ptr(cg), "");
    }
    LLVMValueRef store = LLVMBuildStore(cg->b, v, dp);
    LLVMSetAlignment(store, cg_elem_align(c->dst));
}

static LLVMValueRef clamp(Cg *cg, LLVMValueRef x, LLVMValueRef lo, LLVMValueRef hi)
{
    return cg_int_minmax(cg, true, cg_int_minmax(cg, false, x, lo, ELEM_I64), hi, ELEM_I64);
}

/* The part [*lo, *hi) of a row of extent e starting at o that lies in [0, dim),
 * both clamped to [0, e]; empty rows when outer (the other coordinates) is false. */
static void row_range(Cg *cg, LLVMValueRef o, LLVMValueRef e, LLVMValueRef dim, LLVMValueRef outer,
                      LLVMValueRef *lo, LLVMValueRef *hi)
{
    LLVMValueRef zero = LLVMConstInt(cg->i64, 0, 0);
    *lo = clamp(cg, LLVMBuildNeg(cg->b, o, ""), zero, e);
    *hi = clamp(cg, LLVMBuildSub(cg->b, dim, o, ""), *lo, e);
    *hi = LLVMBuildSelect(cg->b, outer, *hi, *lo, "");
}

/* One row of a plain same-type copy without a guard: memcpy of the part in
 * both boxes, memset 0 (zero_fill) of the rest of the destination's part. */
static void copy_row_fast(Cg *cg, CopyCtx *cc)
{
    const IrCopy *c = cc->c;
    int n = c->ndims;
    LLVMValueRef s[64], d[64];
    cc->t[n - 1] = LLVMConstInt(cg->i64, 0, 0);
    copy_coords(cg, cc, s, d);
    if (cc->inside) {
        /* the whole row: a memcpy of constant length (LLVM expands it) */
        LLVMBuildMemCpy(cg->b, cg_elem_ptr(cg, c->dst, cg_layout_offset(cg, c->dst, d)), cg_elem_align(c->dst),
                        cg_elem_ptr(cg, c->src, cg_layout_offset(cg, c->src, s)), cg_elem_align(c->src),
                        LLVMConstInt(cg->i64, (unsigned long long)(c->extent[n - 1] *
                                                                   elem_type_bytes(c->dst->elem)), 0));
        return;
    }
    LLVMValueRef e = LLVMConstInt(cg->i64, (unsigned long long)c->extent[n - 1], 0);
    LLVMValueRef slo, shi, dlo, dhi;
    row_range(cg, s[n - 1], e, cg->bufdims[c->src->id][n - 1], cg_in_box(cg, c->src, s, n - 1), &slo, &shi);
    row_range(cg, d[n - 1], e, cg->bufdims[c->dst->id][n - 1], cg_in_box(cg, c->dst, d, n - 1), &dlo, &dhi);
    LLVMValueRef lo = cg_int_minmax(cg, false, slo, dlo, ELEM_I64);
    LLVMValueRef hi = cg_int_minmax(cg, true, shi, dhi, ELEM_I64);
    hi = cg_int_minmax(cg, false, hi, lo, ELEM_I64);
    LLVMValueRef esz = LLVMConstInt(cg->i64, (unsigned long long)elem_type_bytes(c->dst->elem), 0);
    LLVMValueRef drow = cg_elem_ptr(cg, c->dst, cg_layout_offset(cg, c->dst, d));
    LLVMValueRef srow = cg_elem_ptr(cg, c->src, cg_layout_offset(cg, c->src, s));
    LLVMTypeRef mt = cg_mem_type(cg, c->dst->elem);
    LLVMValueRef dst_lo = LLVMBuildGEP2(cg->b, mt, drow, &lo, 1, "");
    LLVMValueRef src_lo = LLVMBuildGEP2(cg->b, mt, srow, &lo, 1, "");
    LLVMBuildMemCpy(cg->b, dst_lo, cg_elem_align(c->dst), src_lo, cg_elem_align(c->src),
                    LLVMBuildMul(cg->b, LLVMBuildSub(cg->b, hi, lo, ""), esz, ""));
    if (c->zero_fill) {
        /* [dlo, lo) and [hi, dhi), where lo/hi are clamped into [dlo, dhi]. */
        LLVMValueRef a = clamp(cg, lo, dlo, dhi), z = clamp(cg, hi, a, dhi);
        LLVMValueRef zero8 = LLVMConstInt(cg->i8, 0, 0);
        LLVMBuildMemSet(cg->b, LLVMBuildGEP2(cg->b, mt, drow, &dlo, 1, ""), zero8,
                        LLVMBuildMul(cg->b, LLVMBuildSub(cg->b, a, dlo, ""), esz, ""), cg_elem_align(c->dst));
        LLVMBuildMemSet(cg->b, LLVMBuildGEP2(cg->b, mt, drow, &z, 1, ""), zero8,
                        LLVMBuildMul(cg->b, LLVMBuildSub(cg->b, dhi, z, ""), esz, ""), cg_elem_align(c->dst));
    }
}

typedef struct CopyLevel {
    CopyCtx *cc;
    int dim;
    bool fast;
} CopyLevel;

static void copy_dims(Cg *cg, CopyCtx *cc, int dim, bool fast);

static void copy_level_body(Cg *cg, const void *arg, LLVMValueRef k)
{
    const CopyLevel *cl = arg;
    cl->cc->t[cl->dim] = k;
    copy_dims(cg, cl->cc, cl->dim + 1, cl->fast);
}

/* Loops over dimensions dim.. of the box (the last one by rows when fast). */
static void copy_dims(Cg *cg, CopyCtx *cc, int dim, bool fast)
{
    const IrCopy *c = cc->c;
    if (fast && dim == c->ndims - 1) {
        copy_row_fast(cg, cc);
        return;
    }
    if (dim == c->ndims) {
        copy_element(cg, cc);
        return;
    }
    CopyLevel cl = {cc, dim, fast};
    cg_counted_loop(cg, NULL, LLVMConstInt(cg->i64, (unsigned long long)c->extent[dim], 0),
                      copy_level_body, &cl);
}

/* Every element of a small box, at constant coordinates. */
static void copy_unrolled(Cg *cg, CopyCtx *cc, int dim)
{
    if (dim == cc->c->ndims) {
        copy_element(cg, cc);
        return;
    }
    for (int64_t k = 0; k < cc->c->extent[dim]; k++) {
        cc->t[dim] = LLVMConstInt(cg->i64, (unsigned long long)k, 0);
        copy_unrolled(cg, cc, dim + 1);
    }
}

/* Whether org + [0, extent) lies inside b's dims for both sides of the copy. */
static LLVMValueRef box_inside(Cg *cg, CopyCtx *cc)
{
    const IrCopy *c = cc->c;
    LLVMValueRef ok = LLVMConstInt(cg->i1, 1, 0);
    for (int side = 0; side < 2; side++) {
        const IrBuffer *b = side ? c->dst : c->src;
        LLVMValueRef *org = side ? cc->dorg : cc->sorg;
        for (int d = 0; d < c->ndims; d++) {
            LLVMValueRef end = LLVMBuildAdd(cg->b, org[d], LLVMConstInt(cg->i64, (unsigned long long)c->extent[d], 0), "");
            LLVMValueRef in = LLVMBuildAnd(
                cg->b, LLVMBuildICmp(cg->b, LLVMIntSGE, org[d], LLVMConstInt(cg->i64, 0, 0), ""),
                LLVMBuildICmp(cg->b, LLVMIntSLE, end, cg->bufdims[b->id][d], ""), "");
            ok = LLVMBuildAnd(cg->b, ok, in, "");
        }
    }
    return ok;
}

static bool swizzled(Cg *cg, const IrBuffer *b)
{
    (void)cg;
    int64_t cd[64];
    return b->ndims <= 64 && cg_const_dims(b, cd) && flatten_swizzles(b, cd) != 0;
}

void cg_emit_copy(Cg *cg, const IrStmt *s)
{
    const IrCopy *c = &s->copy;
    CopyCtx cc = {.c = c};
    if (c->ndims > 64 || c->ndims != c->dst->ndims || c->ndims != c->src->ndims ||
        !cg->bufdims[c->dst->id] || !cg->bufdims[c->src->id]) {
        cg_error(cg, "a copy between buffers of other ranks, or not allocated");
        return;
    }
    int64_t total = 1;
    for (int k = 0; k < c->ndims; k++) {
        cc.dorg[k] = cg_scalar(cg, c->dst_origin[k]);
        cc.sorg[k] = cg_scalar(cg, c->src_origin[k]);
        if (c->extent[k] <= 0)
            return;
        total = total > INT64_MAX / c->extent[k] ? INT64_MAX : total * c->extent[k];
    }
    bool regs = c->dst->mem == IR_MEM_REGISTERS || c->src->mem == IR_MEM_REGISTERS;
    if ((regs || total <= CPU_UNROLL_COPY) && total <= 4096) {
        /* Two versions: without any check where the box lies inside both
         * buffers (one test), element by element with the checks elsewhere. */
        if (!c->guard) {
            LLVMBasicBlockRef fast = cg_new_block(cg, "copy.inside"), slow = cg_new_block(cg, "copy.edge"),
                              done = cg_new_block(cg, "copy.end");
            LLVMBuildCondBr(cg->b, box_inside(cg, &cc), fast, slow);
            LLVMPositionBuilderAtEnd(cg->b, fast);
            cc.inside = true;
            copy_unrolled(cg, &cc, 0);
            cc.inside = false;
            LLVMBuildBr(cg->b, done);
            LLVMPositionBuilderAtEnd(cg->b, slow);
            copy_unrolled(cg, &cc, 0);
            LLVMBuildBr(cg->b, done);
            LLVMPositionBuilderAtEnd(cg->b, done);
            return;
        }
        copy_unrolled(cg, &cc, 0);
        return;
    }
    bool fast = c->ndims > 0 && !c->guard && c->dst->elem == c->src->elem &&
                !swizzled(cg, c->dst) && !swizzled(cg, c->src);
    if (fast) {
        /* Rows of constant length where the box is inside both buffers. */
        LLVMBasicBlockRef in = cg_new_block(cg, "copy.inside"), edge = cg_new_block(cg, "copy.edge"),
                          done = cg_new_block(cg, "copy.end");
        LLVMBuildCondBr(cg->b, box_inside(cg, &cc), in, edge);
        LLVMPositionBuilderAtEnd(cg->b, in);
        cc.inside = true;
        copy_dims(cg, &cc, 0, true);
        cc.inside = false;
        LLVMBuildBr(cg->b, done);
        LLVMPositionBuilderAtEnd(cg->b, edge);
        copy_dims(cg, &cc, 0, true);
        LLVMBuildBr(cg->b, done);
        LLVMPositionBuilderAtEnd(cg->b, done);
        return;
    }
    copy_dims(cg, &cc, 0, false);
}
