/* AMD device code: LLVM's AMDGPU target (triple amdgcn-amd-amdhsa, the gfx
 * name as CPU), for the kernels gpu.c emits.
 *
 *   waves     gfx90a, gfx942: wave64 (+wavefrontsize64); gfx1100: wave32
 *             (+wavefrontsize32)
 *   indices   llvm.amdgcn.workitem.id.x, llvm.amdgcn.workgroup.id.{x,y,z}
 *   shuffles  llvm.amdgcn.ds.bpermute at byte address (lane ^ mask) * 4,
 *             lane = workitem.id.x % wave
 *   barrier   fence syncscope("workgroup") release; llvm.amdgcn.s.barrier;
 *             fence syncscope("workgroup") acquire (what HIP's __syncthreads
 *             is), in accl.amdgpu.barrier (always inlined)
 *   cp.async  none: async copies are ordinary loads and stores
 *   kernels   the amdgpu_kernel calling convention, "amdgpu-flat-work-group-size"
 *             = "T,T" (T the launch's threads per block), so the code object's
 *             .max_flat_workgroup_size is T; "uniform-work-group-size" (grids
 *             are whole blocks). Shared memory is gpu.c's external zero-sized
 *             accl_smem in address space 3: dynamic LDS, sized at launch
 *   math      no vendor library: sqrt, rsqrt (1/sqrt) and f32 exp and log are
 *             LLVM's intrinsics, which the AMDGPU back end expands inline
 *             (sqrt correctly rounded, exp and log f32 to about 1 ulp); all
 *             else (f64 exp and log, sin, cos, tanh, erf, pow) is our own
 *             gpumath.c, its 2/pi table in the constant address space (4)
 *   finish    code object v5 (module flag amdhsa_code_object_version 500), O3
 *             for the gfx, the module printed (--emit=llvm), assembly
 *             (--emit=amdgcn), and an object linked by `ld.lld -shared`
 *             ($ACCL_LLD, else ld.lld-19 on PATH, else
 *             /usr/lib/llvm-19/bin/ld.lld) into the code object (--emit=hsaco)
 *             with its amdhsa.kernels notes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/IRReader.h>
#include <llvm-c/Linker.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include "emit/gpu.h"
#include "emit/gpumath.h"
#include "emit/tool.h"


enum { AMD_CONST_AS = 4 };

/* ---- messages ---------------------------------------------------------------- */

/* ---- indices and barriers ------------------------------------------------------ */

static LLVMValueRef amd_call(LLVMModuleRef m, LLVMBuilderRef b, const char *name)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(m, id, NULL, 0);
    return LLVMBuildCall2(b, LLVMIntrinsicGetType(c, id, NULL, 0), fn, NULL, 0, "");
}

static LLVMValueRef amd_thread_index(LLVMModuleRef m, LLVMBuilderRef b)
{
    return amd_call(m, b, "llvm.amdgcn.workitem.id.x");
}

static LLVMValueRef amd_block_index(LLVMModuleRef m, LLVMBuilderRef b, int axis)
{
    static const char *const names[3] = {"llvm.amdgcn.workgroup.id.x", "llvm.amdgcn.workgroup.id.y",
                                         "llvm.amdgcn.workgroup.id.z"};
    return amd_call(m, b, names[axis < 0 || axis > 2 ? 0 : axis]);
}

/* The barrier's function, defined once per module. LLVM 19's C API builds
 * fences only at system or single-thread scope (a system-scope release would
 * write back the L2 on gfx90a), so these three instructions come from IR text,
 * parsed into the module's context and linked in (external, so that the
 * linker keeps it unreferenced; internal once in). */
static const char amd_barrier_ir[] =
    "define void @accl.amdgpu.barrier() #0 {\n"
    "  fence syncscope(\"workgroup\") release\n"
    "  call void @llvm.amdgcn.s.barrier()\n"
    "  fence syncscope(\"workgroup\") acquire\n"
    "  ret void\n"
    "}\n"
    "declare void @llvm.amdgcn.s.barrier() #1\n"
    "attributes #0 = { alwaysinline convergent nounwind }\n"
    "attributes #1 = { convergent nocallback nofree nounwind willreturn }\n";

static LLVMValueRef amd_barrier_fn(LLVMModuleRef m)
{
    LLVMValueRef fn = LLVMGetNamedFunction(m, "accl.amdgpu.barrier");
    if (fn)
        return fn;
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMMemoryBufferRef buf =
        LLVMCreateMemoryBufferWithMemoryRangeCopy(amd_barrier_ir, sizeof amd_barrier_ir - 1, "accl.amdgpu.barrier");
    LLVMModuleRef part = NULL;
    char *msg = NULL;
    if (LLVMParseIRInContext(c, buf, &part, &msg)) {  /* takes the buffer */
        fprintf(stderr, "accl: internal error: the barrier's IR: %s\n", msg ? msg : "?");
        abort();
    }
    LLVMSetTarget(part, LLVMGetTarget(m));
    LLVMSetDataLayout(part, LLVMGetDataLayoutStr(m));
    if (LLVMLinkModules2(m, part)) {  /* disposes of part */
        fprintf(stderr, "accl: internal error: linking the barrier\n");
        abort();
    }
    fn = LLVMGetNamedFunction(m, "accl.amdgpu.barrier");
    LLVMSetLinkage(fn, LLVMInternalLinkage);
    return fn;
}

static void amd_barrier(LLVMModuleRef m, LLVMBuilderRef b)
{
    LLVMValueRef fn = amd_barrier_fn(m);
    LLVMBuildCall2(b, LLVMGlobalGetValueType(fn), fn, NULL, 0, "");
}

/* ds_bpermute: x of lane (lane ^ mask), lane = workitem.id.x % wave (blocks
 * are 1-D), the address in bytes (lane * 4). */
static LLVMValueRef amd_shuffle_xor(LLVMModuleRef m, LLVMBuilderRef b, LLVMValueRef x, int64_t mask,
                                    int64_t threads, int wave)
{
    (void)threads;
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef i32 = LLVMInt32TypeInContext(c);
    const char *fn_name = "llvm.amdgcn.ds.bpermute";
    unsigned id = LLVMLookupIntrinsicID(fn_name, strlen(fn_name));
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(m, id, NULL, 0);
    LLVMValueRef lane = LLVMBuildAnd(b, amd_thread_index(m, b), LLVMConstInt(i32, (unsigned long long)wave - 1, 0), "");
    LLVMValueRef to = LLVMBuildXor(b, lane, LLVMConstInt(i32, (unsigned long long)mask, 0), "");
    LLVMValueRef args[2] = {LLVMBuildShl(b, to, LLVMConstInt(i32, 2, 0), ""), x};
    return LLVMBuildCall2(b, LLVMIntrinsicGetType(c, id, NULL, 0), fn, args, 2, "");
}

/* ---- math -------------------------------------------------------------------------- */

/* See the top: NULL where LLVM's own lowering serves (gpu.c then emits the
 * llvm.* intrinsic, or the operation, itself). */
static LLVMValueRef amd_math(LLVMModuleRef m, Intrinsic k, ElemType t)
{
    if ((k == INTR_EXP || k == INTR_LOG) && t == ELEM_F32)
        return NULL;
    if (k == INTR_RSQRT || !gpumath_has(k))
        return NULL;
    return gpumath_function(m, k, t, AMD_CONST_AS);
}

/* ---- kernels ------------------------------------------------------------------------- */

static void amd_string_attr(LLVMValueRef fn, const char *key, const char *value)
{
    LLVMContextRef c = LLVMGetModuleContext(LLVMGetGlobalParent(fn));
    LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(c, key, (unsigned)strlen(key), value, (unsigned)strlen(value)));
}

static void amd_mark_kernel(LLVMModuleRef m, LLVMValueRef fn, int64_t threads)
{
    (void)m;
    LLVMSetFunctionCallConv(fn, LLVMAMDGPUKERNELCallConv);
    char v[48];
    snprintf(v, sizeof v, "%lld,%lld", (long long)threads, (long long)threads);
    amd_string_attr(fn, "amdgpu-flat-work-group-size", v);
    amd_string_attr(fn, "uniform-work-group-size", "true");
}

/* ---- finish ---------------------------------------------------------------------------- */

/* Runs argv with its output into log; its exit status is 0. False with *err
 * set otherwise. */
static bool amd_run(char **argv, const char *log, char **err)
{
    int status;
    if (!tool_run(argv, log, &status, err))
        return false;
    if (status == 0)
        return true;
    char *text = tool_read_file(log, NULL);
    *err = tool_printf("internal error: '%s' failed:\n%s", argv[0], text ? text : "");
    free(text);
    return false;
}

/* Links the object (obj, size bytes) into img->hsaco with ld.lld -shared, in a
 * temporary folder. */
static bool amd_link(const char *obj, size_t size, GpuImage *img, char **err)
{
    char *lld = tool_find("ACCL_LLD", "ld.lld-19", "/usr/lib/llvm-19/bin/ld.lld");
    if (!lld) {
        *err = tool_printf("ld.lld not found (looked at $ACCL_LLD, for ld.lld-19 on PATH and at "
                           "/usr/lib/llvm-19/bin/ld.lld): AMD code objects need it (Debian: lld-19)");
        return false;
    }
    ToolFiles t;
    if (!tool_files_open(&t, "ld.lld", "k.o", "k.hsaco", obj, size, err)) {
        free(lld);
        return false;
    }
    char *argv[] = {lld, "-shared", "--no-undefined", "-o", t.out, t.in, NULL};
    bool ok = amd_run(argv, t.log, err);
    if (ok) {
        img->hsaco = (unsigned char *)tool_read_file(t.out, &img->hsaco_size);
        if (!img->hsaco) {
            *err = tool_printf("cannot read ld.lld's output '%s'", t.out);
            ok = false;
        }
    }
    tool_files_close(&t);
    free(lld);
    return ok;
}

/* Every function defined in m says its gfx and features, as clang's do. */
static void amd_target_attrs(LLVMModuleRef m, const GpuVendor *v)
{
    for (LLVMValueRef fn = LLVMGetFirstFunction(m); fn; fn = LLVMGetNextFunction(fn))
        if (!LLVMIsDeclaration(fn)) {
            amd_string_attr(fn, "target-cpu", v->cpu);
            amd_string_attr(fn, "target-features", v->features);
        }
}

static bool amd_finish(LLVMModuleRef m, const GpuVendor *v, const GpuOptions *o, GpuImage *img, char **err)
{
    (void)o;
    amd_target_attrs(m, v);
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMAddModuleFlag(m, LLVMModuleFlagBehaviorError, "amdhsa_code_object_version", 26,
                      LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(c), 500, 0)));
    LLVMTargetRef t;
    char *msg = NULL;
    if (LLVMGetTargetFromTriple(v->triple, &t, &msg)) {
        *err = tool_printf("LLVM cannot emit code for '%s': %s", v->triple, msg ? msg : "?");
        LLVMDisposeMessage(msg);
        return false;
    }
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(t, v->triple, v->cpu, v->features, LLVMCodeGenLevelAggressive,
                                                      LLVMRelocPIC, LLVMCodeModelDefault);
    if (!gpu_optimize(m, tm, img, err)) {
        LLVMDisposeTargetMachine(tm);
        return false;
    }
    /* code generation changes the module it runs on: each output from a copy */
    size_t asm_size, obj_size;
    LLVMModuleRef copy = LLVMCloneModule(m);
    img->amdgcn = gpu_emit_buffer(tm, copy, LLVMAssemblyFile, &asm_size, err);
    LLVMDisposeModule(copy);
    char *obj = img->amdgcn ? gpu_emit_buffer(tm, m, LLVMObjectFile, &obj_size, err) : NULL;
    LLVMDisposeTargetMachine(tm);
    bool ok = obj && amd_link(obj, obj_size, img, err);
    free(obj);
    return ok;
}

/* ---- the vendors --------------------------------------------------------------------------- */

static void amd_init_llvm(void)
{
    LLVMInitializeAMDGPUTargetInfo();
    LLVMInitializeAMDGPUTarget();
    LLVMInitializeAMDGPUTargetMC();
    LLVMInitializeAMDGPUAsmPrinter();
}

#define AMD_VENDOR(gfx, w)                                                                                     \
    {                                                                                                          \
        .triple = "amdgcn-amd-amdhsa", .cpu = gfx, .features = "+wavefrontsize" #w, .wave = w, .global_as = 1, \
        .shared_as = 3, .thread_index = amd_thread_index, .block_index = amd_block_index,                     \
        .barrier = amd_barrier, .shuffle_xor = amd_shuffle_xor, .async_copy = NULL, .async_wait = NULL,       \
        .math = amd_math, .mark_kernel = amd_mark_kernel, .finish = amd_finish,                                                  \
    }

static const GpuVendor amd_vendors[] = {AMD_VENDOR("gfx90a", 64), AMD_VENDOR("gfx942", 64),
                                        AMD_VENDOR("gfx1100", 32)};

const GpuVendor *gpu_vendor_amdgpu(Target t)
{
    if (strcmp(target_vendor(t), "amd") != 0)
        return NULL;
    for (size_t i = 0; i < sizeof amd_vendors / sizeof amd_vendors[0]; i++)
        if (strcmp(amd_vendors[i].cpu, target_arch(t)) == 0 && amd_vendors[i].wave == target_wave_size(t)) {
            amd_init_llvm();
            return &amd_vendors[i];
        }
    return NULL;
}
