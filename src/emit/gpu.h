/* GPU code generation: device kernels from the GPU execution form (IrFunc.spmd,
 * see IrLaunch in lower/ir.h), through LLVM's NVPTX and AMDGPU targets.
 *
 * One device module per input file. Each launch of each kernel K becomes one
 * device kernel named accl_<K>_<i> (i: the launch's index in IrFunc.launches).
 * Its parameters, all by value: every tensor pointer, every scalar (register
 * form, as K.body in emit.h), every size (i64), then one pointer per
 * top-level `alloc global` buffer, in order of allocation. It is launched on a
 * grid of IrLaunch.grid blocks of IrLaunch.threads threads (1-D blocks), with
 * IrLaunch.shared_bytes of dynamic shared memory.
 *
 *   gpu.c     the target-independent part: the device module from the IR (the
 *             statement and expression emitter is cg.h's, with the hooks below)
 *   nvptx.c   Nvidia: libdevice math, kernel annotations, PTX, cubin via ptxas
 *   amdgpu.c  AMD: own math (gpumath.c), kernel attributes, code object via ld.lld-19 */
#ifndef ACCL_GPU_H
#define ACCL_GPU_H

#include <stdbool.h>
#include <stddef.h>

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "lower/ir.h"
#include "util/diag.h"

/* What gpu_compile produced; every field malloc'd or NULL. */
typedef struct GpuImage {
    Target target;
    char *llvm_ir;                /* the device module after optimisation (--emit=llvm) */
    char *ptx;                    /* Nvidia: PTX text (--emit=ptx) */
    unsigned char *cubin;         /* Nvidia: ptxas's output when ptxas is present */
    size_t cubin_size;
    char *resources;              /* Nvidia: ptxas -v's report (registers, shared, spills) */
    char *amdgcn;                 /* AMD: assembly (--emit=amdgcn) */
    unsigned char *hsaco;         /* AMD: the linked code object (--emit=hsaco) */
    size_t hsaco_size;
} GpuImage;

typedef struct GpuOptions {
    bool want_cubin;              /* run ptxas (Nvidia; an error if it is missing) */
    bool want_resources;          /* run ptxas -v (Nvidia; an error if it is missing) */
    bool try_cubin;               /* run ptxas where it is present (Nvidia; no error if not) */
} GpuOptions;

/* Compiles funcs (each in the GPU execution form, for target t) into *img.
 * False after diagnostics through d. */
bool gpu_compile(IrFunc *const *funcs, int n, Target t, const GpuOptions *o, GpuImage *img, Diag *d);
void gpu_image_free(GpuImage *img);

/* "accl_<K>_<i>" into buf. */
void gpu_kernel_name(char *buf, size_t size, const IrFunc *f, int launch);

/* ---- for gpu.c, nvptx.c and amdgpu.c ------------------------------------ */

/* What differs between vendors. Values are i32 unless said otherwise. */
typedef struct GpuVendor {
    const char *triple;           /* "nvptx64-nvidia-cuda", "amdgcn-amd-amdhsa" */
    const char *cpu;              /* "sm_80", "gfx942", ... */
    const char *features;         /* "+ptx80", "+wavefrontsize64", ... */
    int wave;                     /* 32 or 64 */
    unsigned global_as;           /* address space of tensor pointers (1) */
    unsigned shared_as;           /* address space of shared memory (3) */
    LLVMValueRef (*thread_index)(LLVMModuleRef m, LLVMBuilderRef b);
    LLVMValueRef (*block_index)(LLVMModuleRef m, LLVMBuilderRef b, int axis);
    void (*barrier)(LLVMModuleRef m, LLVMBuilderRef b);
    /* cp.async of `bytes` (4, 8 or 16) from global src to shared dst; NULL when
     * the target has none (the copy is then an ordinary load and store). */
    void (*async_copy)(LLVMModuleRef m, LLVMBuilderRef b, LLVMValueRef dst, LLVMValueRef src, int bytes);
    /* commit the async copies issued so far as a group and wait until at most
     * `pending` groups are in flight (see IR_BARRIER); NULL with async_copy. */
    void (*async_wait)(LLVMModuleRef m, LLVMBuilderRef b, int64_t pending);
    /* The i32 x of lane (lane ^ mask) of this thread's warp (a butterfly
     * shuffle; every lane of the warp executes it together); `threads`: the
     * block's (a warp of fewer lanes when it is below the wave). */
    LLVMValueRef (*shuffle_xor)(LLVMModuleRef m, LLVMBuilderRef b, LLVMValueRef x, int64_t mask,
                                int64_t threads, int wave);
    /* The function computing intrinsic k on float type t (f32 or f64),
     * declared or defined in m; NULL if k needs no call (abs, min, max, fma). */
    LLVMValueRef (*math)(LLVMModuleRef m, Intrinsic k, ElemType t);
    /* Marks fn as a kernel launched with `threads` threads per block. */
    void (*mark_kernel)(LLVMModuleRef m, LLVMValueRef fn, int64_t threads);
    /* Links libraries, optimises and produces the image's vendor fields;
     * false with a malloc'd message in *err (printed after "accl: error: "). */
    bool (*finish)(LLVMModuleRef m, const struct GpuVendor *v, const GpuOptions *o, GpuImage *img,
                   char **err);
} GpuVendor;

/* For the vendors' finish (gpu.c): LLVM's O3 on m for tm, then img->llvm_ir. */
bool gpu_optimize(LLVMModuleRef m, LLVMTargetMachineRef tm, GpuImage *img, char **err);
/* m emitted by tm as `kind` (assembly or object), malloc'd and NUL-terminated,
 * its length in *size; NULL with *err set. */
char *gpu_emit_buffer(LLVMTargetMachineRef tm, LLVMModuleRef m, LLVMCodeGenFileType kind, size_t *size,
                      char **err);

/* The vendor for a GPU target (Target from parser/ast.h). */
const GpuVendor *gpu_vendor_nvptx(Target t);
const GpuVendor *gpu_vendor_amdgpu(Target t);

#endif
