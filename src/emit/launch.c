/* launch: the host side of a GPU target's object (see launch.h).
 *
 *   accl.gpu.module   the module descriptor (AcclGpuModule of runtime/accl.h,
 *                     field by field): the vendor, the device kernels' names
 *                     accl_<K>_<i> of every kernel of the file, the device code
 *                     (Nvidia: the cubin when ptxas made one, and the PTX;
 *                     AMD: the code object), and the runtime's cache slot
 *
 *   i32 K.body(tensors (device pointers) and scalars in declaration order,
 *              sizes, ptr stream)        called by entry.c's K after its checks
 *     1. every launch's grid from the sizes (IrLaunch.grid, NULL: 1); any
 *        beyond the limits (accl_gpu_grid_ok)       -> ACCL_ERR_LAUNCH, nothing done
 *     2. every top-level `alloc global` buffer allocated on the device, on the
 *        stream, in order                            -> its code if one fails
 *     3. one parameter block for the call: a pointer to each of K.body's
 *        arguments but the stream, then to each global's pointer (the device
 *        kernels' parameter order, gpu.h; a bool is passed as one byte)
 *     4. each launch in program order: accl_gpu_launch(descriptor, kernel
 *        number, grid, IrLaunch.threads, IrLaunch.shared_bytes, block, stream)
 *                                                    -> its code if one fails
 *     5. the globals freed on the stream (after the last launch, or after a
 *        failure); the first failure's code, else the frees' first, else OK
 *   The launches are asynchronous: K returns once they are enqueued. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit/cg.h"
#include "emit/launch.h"
#include "runtime/accl.h"

typedef struct Launch {
    Cg cg;
    int vendor;                     /* ACCL_GPU_NVIDIA or ACCL_GPU_AMD */
    LLVMValueRef desc;              /* accl.gpu.module */
    LLVMTypeRef launch_ty, grid_ok_ty, alloc_ty, free_ty;
    LLVMValueRef launch_fn, grid_ok_fn, alloc_fn, free_fn;
    /* K.body being emitted */
    LLVMValueRef fn;
    LLVMBasicBlockRef done;         /* frees the globals and returns the phi */
    LLVMValueRef rc;                /* i32 phi in done */
} Launch;

/* ---- the descriptor ---------------------------------------------------- */

/* A private constant holding size bytes of data (with a NUL after them when
 * nul), 16-byte aligned: a code object is an ELF image. */
static LLVMValueRef launch_bytes(Launch *L, const char *name, const void *data, size_t size, bool nul)
{
    Cg *cg = &L->cg;
    LLVMValueRef init = LLVMConstStringInContext(cg->c, (const char *)data, (unsigned)size, !nul);
    LLVMValueRef g = LLVMAddGlobal(cg->mod, LLVMTypeOf(init), name);
    LLVMSetInitializer(g, init);
    LLVMSetGlobalConstant(g, true);
    LLVMSetLinkage(g, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(g, LLVMGlobalUnnamedAddr);
    LLVMSetAlignment(g, 16);
    return g;
}

static int launch_count(IrFunc *const *funcs, int n)
{
    int total = 0;
    for (int i = 0; i < n; i++)
        total += funcs[i]->nlaunches;
    return total;
}

/* The names of every device kernel, in file order: [N x ptr]. */
static LLVMValueRef launch_names(Launch *L, IrFunc *const *funcs, int n)
{
    Cg *cg = &L->cg;
    int total = launch_count(funcs, n);
    LLVMValueRef *names = calloc((size_t)total + 1, sizeof *names);
    if (!names)
        abort();
    int at = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < funcs[i]->nlaunches; j++) {
            char name[512];
            gpu_kernel_name(name, sizeof name, funcs[i], j);
            names[at++] = launch_bytes(L, "accl.gpu.name", name, strlen(name), true);
        }
    LLVMValueRef init = LLVMConstArray2(cg->ptr, names, (uint64_t)total);
    free(names);
    LLVMValueRef g = LLVMAddGlobal(cg->mod, LLVMTypeOf(init), "accl.gpu.names");
    LLVMSetInitializer(g, init);
    LLVMSetGlobalConstant(g, true);
    LLVMSetLinkage(g, LLVMPrivateLinkage);
    return g;
}

/* accl.gpu.module: { i32 vendor, i32 nkernels, ptr arch, ptr kernels, ptr
 * image, i64 image_size, ptr ptx, ptr cache }, writable (the cache slot). */
static void launch_descriptor(Launch *L, IrFunc *const *funcs, int n, const GpuImage *img)
{
    Cg *cg = &L->cg;
    const void *image = L->vendor == ACCL_GPU_NVIDIA ? (const void *)img->cubin : (const void *)img->hsaco;
    size_t image_size = L->vendor == ACCL_GPU_NVIDIA ? img->cubin_size : img->hsaco_size;
    const char *arch = target_arch(img->target);
    LLVMValueRef null = LLVMConstNull(cg->ptr);
    LLVMValueRef fields[8] = {
        LLVMConstInt(cg->i32, (unsigned long long)L->vendor, false),
        LLVMConstInt(cg->i32, (unsigned long long)launch_count(funcs, n), false),
        launch_bytes(L, "accl.gpu.arch", arch, strlen(arch), true),
        launch_names(L, funcs, n),
        image && image_size ? launch_bytes(L, "accl.gpu.image", image, image_size, false) : null,
        LLVMConstInt(cg->i64, image ? (unsigned long long)image_size : 0, false),
        L->vendor == ACCL_GPU_NVIDIA && img->ptx ? launch_bytes(L, "accl.gpu.ptx", img->ptx, strlen(img->ptx), true)
                                                 : null,
        null,
    };
    LLVMValueRef init = LLVMConstStructInContext(cg->c, fields, 8, false);
    L->desc = LLVMAddGlobal(cg->mod, LLVMTypeOf(init), "accl.gpu.module");
    LLVMSetInitializer(L->desc, init);
    LLVMSetLinkage(L->desc, LLVMInternalLinkage);
    LLVMSetAlignment(L->desc, 8);
}

/* The runtime's calls the stubs make (runtime/accl.h). */
static void launch_declare_runtime(Launch *L)
{
    Cg *cg = &L->cg;
    LLVMTypeRef i32 = cg->i32, i64 = cg->i64, ptr = cg->ptr;
    LLVMTypeRef launch[9] = {ptr, i32, i64, i64, i64, i64, i64, ptr, ptr};
    LLVMTypeRef grid[3] = {i64, i64, i64};
    LLVMTypeRef alloc[4] = {i32, ptr, i64, ptr};
    LLVMTypeRef freep[3] = {i32, ptr, ptr};
    L->launch_ty = LLVMFunctionType(i32, launch, 9, false);
    L->grid_ok_ty = LLVMFunctionType(cg->i8, grid, 3, false);   /* C bool: one byte, 0 or 1 */
    L->alloc_ty = LLVMFunctionType(i32, alloc, 4, false);
    L->free_ty = LLVMFunctionType(i32, freep, 3, false);
    L->launch_fn = LLVMAddFunction(cg->mod, "accl_gpu_launch", L->launch_ty);
    L->grid_ok_fn = LLVMAddFunction(cg->mod, "accl_gpu_grid_ok", L->grid_ok_ty);
    L->alloc_fn = LLVMAddFunction(cg->mod, "accl_gpu_stream_alloc", L->alloc_ty);
    L->free_fn = LLVMAddFunction(cg->mod, "accl_gpu_stream_free", L->free_ty);
}

/* ---- K.body -------------------------------------------------------------- */

/* K.body's type: as cpu.c's K.body, then the stream. */
static LLVMValueRef launch_declare_body(Launch *L, const IrFunc *f)
{
    Cg *cg = &L->cg;
    int n = f->nparams + f->nsizes + 1;
    LLVMTypeRef *types = calloc((size_t)n, sizeof *types);
    if (!types)
        abort();
    int at = 0;
    for (int p = 0; p < f->nparams; p++)
        types[at++] = f->params[p].buf ? cg->ptr : cg_reg_type(cg, f->params[p].elem);
    for (int i = 0; i < f->nsizes; i++)
        types[at++] = cg->i64;
    types[at++] = cg->ptr;
    char name[256];
    snprintf(name, sizeof name, "%s.body", f->name);
    LLVMValueRef fn = LLVMAddFunction(cg->mod, name, LLVMFunctionType(cg->i32, types, (unsigned)at, false));
    free(types);
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    return fn;
}

static LLVMValueRef launch_const(Launch *L, int64_t v)
{
    return LLVMConstInt(L->cg.i64, (unsigned long long)v, true);
}

/* if (fail) goto done with rc = code; and go on in a new block. */
static void launch_fail_if(Launch *L, LLVMValueRef fail, LLVMValueRef code, const char *what)
{
    Cg *cg = &L->cg;
    LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b), next = cg_new_block(cg, what);
    LLVMBuildCondBr(cg->b, fail, L->done, next);
    LLVMAddIncoming(L->rc, &code, &from, 1);
    LLVMPositionBuilderAtEnd(cg->b, next);
}

/* rc = call(...); if (rc != ACCL_OK) goto done with rc. */
static void launch_call_checked(Launch *L, LLVMTypeRef ty, LLVMValueRef fn, LLVMValueRef *args, int n,
                                const char *what)
{
    Cg *cg = &L->cg;
    LLVMValueRef rc = LLVMBuildCall2(cg->b, ty, fn, args, (unsigned)n, what);
    launch_fail_if(L, LLVMBuildICmp(cg->b, LLVMIntNE, rc, LLVMConstInt(cg->i32, ACCL_OK, false), ""), rc, what);
}

/* 1. Every launch's grid, checked against the limits; grids[3 * j + a]. */
static LLVMValueRef *launch_grids(Launch *L, const IrFunc *f)
{
    Cg *cg = &L->cg;
    LLVMValueRef *grids = calloc((size_t)f->nlaunches * 3 + 1, sizeof *grids);
    if (!grids)
        abort();
    for (int j = 0; j < f->nlaunches; j++) {
        for (int a = 0; a < 3; a++) {
            const IrExpr *g = f->launches[j].grid[a];
            grids[3 * j + a] = g ? cg_scalar(cg, g) : launch_const(L, 1);
        }
        LLVMValueRef ok = LLVMBuildCall2(cg->b, L->grid_ok_ty, L->grid_ok_fn, &grids[3 * j], 3, "grid.ok");
        launch_fail_if(L, LLVMBuildICmp(cg->b, LLVMIntEQ, ok, LLVMConstInt(cg->i8, 0, false), ""),
                       LLVMConstInt(cg->i32, ACCL_ERR_LAUNCH, false), "grid.in.limits");
    }
    return grids;
}

/* The function's top-level `alloc global` buffers, in order. */
static int launch_globals(const IrFunc *f, const IrBuffer **out)
{
    int n = 0;
    for (int i = 0; i < f->body.len; i++) {
        const IrStmt *s = f->body.items[i];
        if (s->kind == IR_ALLOC && s->buf->mem == IR_MEM_GLOBAL)
            out[n++] = s->buf;
    }
    return n;
}

/* 2. Each global allocated into its slot (a ptr alloca, NULL until then). */
static void launch_alloc_globals(Launch *L, const IrBuffer **globals, int n, LLVMValueRef *slots,
                                 LLVMValueRef stream)
{
    Cg *cg = &L->cg;
    for (int g = 0; g < n; g++) {
        slots[g] = LLVMBuildAlloca(cg->ab, cg->ptr, globals[g]->name);
        LLVMBuildStore(cg->ab, LLVMConstNull(cg->ptr), slots[g]);
    }
    for (int g = 0; g < n; g++) {
        LLVMValueRef *dims = cg_eval_dims(cg, globals[g]);
        LLVMValueRef bytes = launch_const(L, elem_type_bytes(globals[g]->elem));
        for (int d = 0; d < globals[g]->ndims; d++)
            bytes = LLVMBuildMul(cg->b, bytes, dims[d], "");
        LLVMValueRef args[4] = {LLVMConstInt(cg->i32, (unsigned long long)L->vendor, false), slots[g], bytes,
                                stream};
        launch_call_checked(L, L->alloc_ty, L->alloc_fn, args, 4, "alloc.global");
    }
}

/* 3. The parameter block: a pointer to each argument of K.body but the
 * stream (a bool widened to a byte), then each global's slot. */
static LLVMValueRef launch_params(Launch *L, const IrFunc *f, LLVMValueRef *slots, int nglobals)
{
    Cg *cg = &L->cg;
    int nargs = f->nparams + f->nsizes;
    LLVMTypeRef block_ty = LLVMArrayType2(cg->ptr, (uint64_t)(nargs + nglobals) + 1);
    LLVMValueRef block = LLVMBuildAlloca(cg->ab, block_ty, "params");
    for (int i = 0; i < nargs + nglobals; i++) {
        LLVMValueRef p;
        if (i < nargs) {
            LLVMValueRef v = LLVMGetParam(L->fn, (unsigned)i);
            if (LLVMTypeOf(v) == cg->i1)
                v = LLVMBuildZExt(cg->b, v, cg->i8, "");
            p = LLVMBuildAlloca(cg->ab, LLVMTypeOf(v), "");
            LLVMBuildStore(cg->b, v, p);
        } else {
            p = slots[i - nargs];
        }
        LLVMValueRef idx[2] = {launch_const(L, 0), launch_const(L, i)};
        LLVMBuildStore(cg->b, p, LLVMBuildGEP2(cg->b, block_ty, block, idx, 2, ""));
    }
    return block;
}

/* 4. Launch j of f, kernel number `kernel` of the descriptor. */
static void launch_one(Launch *L, const IrLaunch *l, int kernel, LLVMValueRef *grid, LLVMValueRef block,
                       LLVMValueRef stream)
{
    Cg *cg = &L->cg;
    LLVMValueRef args[9] = {L->desc, LLVMConstInt(cg->i32, (unsigned long long)kernel, false), grid[0], grid[1],
                            grid[2], launch_const(L, l->threads), launch_const(L, l->shared_bytes), block, stream};
    launch_call_checked(L, L->launch_ty, L->launch_fn, args, 9, "launch");
}

/* The launch whose root is s, or -1. */
static int launch_of(const IrFunc *f, const IrStmt *s)
{
    for (int j = 0; j < f->nlaunches; j++)
        if (f->launches[j].root == s)
            return j;
    return -1;
}

/* 5. done: each global freed (when allocated); returns the first failure. */
static void launch_finish(Launch *L, LLVMValueRef *slots, int nglobals, LLVMValueRef stream)
{
    Cg *cg = &L->cg;
    LLVMValueRef result = L->rc;
    for (int g = 0; g < nglobals; g++) {
        LLVMValueRef p = LLVMBuildLoad2(cg->b, cg->ptr, slots[g], "");
        LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b);
        LLVMBasicBlockRef yes = cg_new_block(cg, "free.global"), next = cg_new_block(cg, "freed");
        LLVMBuildCondBr(cg->b, LLVMBuildIsNull(cg->b, p, ""), next, yes);
        LLVMPositionBuilderAtEnd(cg->b, yes);
        LLVMValueRef args[3] = {LLVMConstInt(cg->i32, (unsigned long long)L->vendor, false), p, stream};
        LLVMValueRef r = LLVMBuildCall2(cg->b, L->free_ty, L->free_fn, args, 3, "");
        LLVMValueRef first = LLVMBuildSelect(
            cg->b, LLVMBuildICmp(cg->b, LLVMIntNE, result, LLVMConstInt(cg->i32, ACCL_OK, false), ""), result, r, "");
        LLVMBuildBr(cg->b, next);
        LLVMPositionBuilderAtEnd(cg->b, next);
        LLVMValueRef phi = LLVMBuildPhi(cg->b, cg->i32, "");
        LLVMValueRef vals[2] = {result, first};
        LLVMBasicBlockRef bbs[2] = {from, yes};
        LLVMAddIncoming(phi, vals, bbs, 2);
        result = phi;
    }
    LLVMBuildRet(cg->b, result);
}

static bool launch_body(Launch *L, const IrFunc *f, int first_kernel)
{
    Cg *cg = &L->cg;
    if (!cg_func_begin(cg, f))
        return false;
    if (!f->spmd) {
        cg_error(cg, "the IR is not in the GPU execution form");
        cg_func_end(cg);
        return false;
    }
    L->fn = launch_declare_body(L, f);
    LLVMValueRef stream = LLVMGetParam(L->fn, (unsigned)(f->nparams + f->nsizes));
    LLVMSetValueName2(stream, "stream", 6);
    memset(&cg->fn, 0, sizeof cg->fn);
    cg->fn.fn = L->fn;
    cg->fn.allocas = LLVMAppendBasicBlockInContext(cg->c, L->fn, "entry");
    LLVMBasicBlockRef code = LLVMAppendBasicBlockInContext(cg->c, L->fn, "code");
    L->done = LLVMAppendBasicBlockInContext(cg->c, L->fn, "done");
    LLVMPositionBuilderAtEnd(cg->b, L->done);
    L->rc = LLVMBuildPhi(cg->b, cg->i32, "rc");
    LLVMPositionBuilderAtEnd(cg->ab, cg->fn.allocas);
    LLVMPositionBuilderAtEnd(cg->b, code);
    cg_bind_params(cg, L->fn);

    const IrBuffer **globals = calloc((size_t)f->body.len + 1, sizeof *globals);
    LLVMValueRef *slots = calloc((size_t)f->body.len + 1, sizeof *slots);
    if (!globals || !slots)
        abort();
    int nglobals = launch_globals(f, globals);
    LLVMValueRef *grids = launch_grids(L, f);
    launch_alloc_globals(L, globals, nglobals, slots, stream);
    LLVMValueRef block = launch_params(L, f, slots, nglobals);
    for (int i = 0; i < f->body.len; i++) {
        const IrStmt *s = f->body.items[i];
        int j = launch_of(f, s);
        if (j >= 0)
            launch_one(L, &f->launches[j], first_kernel + j, &grids[3 * j], block, stream);
        else if (!(s->kind == IR_ALLOC && s->buf->mem == IR_MEM_GLOBAL))
            cg_error(cg, "a top-level statement that is neither a launch nor `alloc global`");
    }
    LLVMValueRef ok = LLVMConstInt(cg->i32, ACCL_OK, false);
    LLVMBasicBlockRef from = LLVMGetInsertBlock(cg->b);
    LLVMBuildBr(cg->b, L->done);
    LLVMAddIncoming(L->rc, &ok, &from, 1);
    LLVMPositionBuilderAtEnd(cg->b, L->done);
    launch_finish(L, slots, nglobals, stream);
    LLVMPositionBuilderAtEnd(cg->ab, cg->fn.allocas);
    LLVMBuildBr(cg->ab, code);
    free(grids);
    free(slots);
    free(globals);
    cg_func_end(cg);
    return cg->ok;
}

bool emit_launch_bodies(LLVMModuleRef mod, IrFunc *const *funcs, int n, const GpuImage *img, Diag *d)
{
    Launch L = {.vendor = strcmp(target_vendor(img->target), "amd") == 0 ? ACCL_GPU_AMD : ACCL_GPU_NVIDIA};
    cg_init(&L.cg, mod, d);
    launch_declare_runtime(&L);
    launch_descriptor(&L, funcs, n, img);
    bool ok = true;
    int first = 0;
    for (int i = 0; i < n; i++) {
        ok = launch_body(&L, funcs[i], first) && ok;
        first += funcs[i]->nlaunches;
    }
    cg_dispose(&L.cg);
    return ok;
}
