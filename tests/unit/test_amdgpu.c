/* The AMD vendor (src/emit/amdgpu.c) on a hand-built kernel, for gfx90a,
 * gfx942 and gfx1100: thread and block indices, a barrier, dynamic shared
 * memory and our own math go through the vendor's finish into assembly whose
 * amdhsa.kernels metadata has the launch bounds and the wave size, and into
 * an ELF code object linked by ld.lld (the test is skipped when ld.lld is
 * missing). The whole pipeline (gpu.c) is tested by tests/emit/amdgpu.sh. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include "emit/gpu.h"

static bool at_have_lld(void)
{
    const char *env = getenv("ACCL_LLD");
    if (env && *env)
        return access(env, X_OK) == 0;
    return access("/usr/lib/llvm-19/bin/ld.lld", X_OK) == 0 || system("command -v ld.lld-19 >/dev/null 2>&1") == 0;
}

/* kernel(ptr addrspace(1) p): p[block.x * T + tid] = sin(f64) of its value
 * after a round trip through shared memory and a barrier. */
static void at_build(LLVMModuleRef m, const GpuVendor *v, int64_t threads)
{
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMSetTarget(m, v->triple);
    LLVMTargetRef t;
    char *err = NULL;
    cr_assert(!LLVMGetTargetFromTriple(v->triple, &t, &err), "%s", err);
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(t, v->triple, v->cpu, v->features, LLVMCodeGenLevelDefault,
                                                      LLVMRelocPIC, LLVMCodeModelDefault);
    LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
    LLVMSetModuleDataLayout(m, dl);
    LLVMDisposeTargetData(dl);
    LLVMDisposeTargetMachine(tm);

    LLVMTypeRef f64 = LLVMDoubleTypeInContext(c), i32 = LLVMInt32TypeInContext(c);
    LLVMTypeRef gp = LLVMPointerTypeInContext(c, v->global_as);
    LLVMValueRef fn = LLVMAddFunction(m, "accl_test_0", LLVMFunctionType(LLVMVoidTypeInContext(c), &gp, 1, 0));
    v->mark_kernel(m, fn, threads);
    LLVMValueRef smem = LLVMAddGlobalInAddressSpace(m, LLVMArrayType2(LLVMInt8TypeInContext(c), 0), "accl_smem",
                                                    v->shared_as);
    LLVMSetAlignment(smem, 16);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(c);
    LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c, fn, "entry"));
    LLVMValueRef tid = v->thread_index(m, b);
    LLVMValueRef blk = v->block_index(m, b, 0);
    LLVMValueRef gi = LLVMBuildAdd(b, LLVMBuildMul(b, blk, LLVMConstInt(i32, (unsigned long long)threads, 0), ""),
                                   tid, "");
    LLVMValueRef gptr = LLVMBuildGEP2(b, f64, LLVMGetParam(fn, 0), &gi, 1, "");
    LLVMValueRef sptr = LLVMBuildGEP2(b, f64, smem, &tid, 1, "");
    LLVMBuildStore(b, LLVMBuildLoad2(b, f64, gptr, ""), sptr);
    v->barrier(m, b);
    /* the neighbour's value, through shared memory */
    LLVMValueRef next = LLVMBuildURem(b, LLVMBuildAdd(b, tid, LLVMConstInt(i32, 1, 0), ""),
                                      LLVMConstInt(i32, (unsigned long long)threads, 0), "");
    LLVMValueRef x = LLVMBuildLoad2(b, f64, LLVMBuildGEP2(b, f64, smem, &next, 1, ""), "");
    LLVMValueRef s = v->math(m, INTR_SIN, ELEM_F64);
    cr_assert_not_null(s, "sin in f64 is a function");
    LLVMValueRef y = LLVMBuildCall2(b, LLVMGlobalGetValueType(s), s, &x, 1, "");
    LLVMValueRef p = v->math(m, INTR_POW, ELEM_F32);
    LLVMValueRef xf = LLVMBuildFPTrunc(b, y, LLVMFloatTypeInContext(c), "");
    LLVMValueRef args[2] = {xf, xf};
    LLVMValueRef z = LLVMBuildCall2(b, LLVMGlobalGetValueType(p), p, args, 2, "");
    LLVMBuildStore(b, LLVMBuildFPExt(b, z, f64, ""), gptr);
    LLVMBuildRetVoid(b);
    LLVMDisposeBuilder(b);
    cr_assert(!LLVMVerifyModule(m, LLVMReturnStatusAction, &err), "invalid module: %s", err);
    LLVMDisposeMessage(err);
}

static void at_check(Target t, const char *gfx, int wave, int64_t threads)
{
    const GpuVendor *v = gpu_vendor_amdgpu(t);
    cr_assert_not_null(v, "%s", gfx);
    cr_assert_str_eq(v->cpu, gfx);
    cr_assert_eq(v->wave, wave);
    cr_assert_null(v->async_copy);
    cr_assert_null(v->math(NULL, INTR_SQRT, ELEM_F32), "sqrt is LLVM's");
    cr_assert_null(v->math(NULL, INTR_EXP, ELEM_F32), "f32 exp is LLVM's");
    LLVMContextRef c = LLVMContextCreate();
    LLVMModuleRef m = LLVMModuleCreateWithNameInContext("test", c);
    at_build(m, v, threads);
    GpuOptions o = {0};
    GpuImage img = {0};
    char *err = NULL;
    cr_assert(v->finish(m, v, &o, &img, &err), "%s: %s", gfx, err ? err : "?");
    /* assembly: the barrier, the kernel's descriptor and metadata */
    cr_assert_not_null(img.amdgcn);
    cr_assert_not_null(strstr(img.amdgcn, "s_barrier"), "%s: no s_barrier", gfx);
    cr_assert_not_null(strstr(img.amdgcn, ".amdhsa_kernel accl_test_0"));
    char want[64];
    snprintf(want, sizeof want, ".max_flat_workgroup_size: %lld", (long long)threads);
    cr_assert_not_null(strstr(img.amdgcn, want), "%s: no %s", gfx, want);
    snprintf(want, sizeof want, ".wavefront_size: %d", wave);
    cr_assert_not_null(strstr(img.amdgcn, want), "%s: no %s", gfx, want);
    snprintf(want, sizeof want, "amdgcn-amd-amdhsa--%s", gfx);
    cr_assert_not_null(strstr(img.amdgcn, want), "%s: no %s", gfx, want);
    cr_assert_null(strstr(img.amdgcn, "s_swappc"), "%s: a call remains", gfx);
    /* the module: no function left undefined but LLVM's intrinsics */
    cr_assert_not_null(img.llvm_ir);
    cr_assert_not_null(strstr(img.llvm_ir, "fence syncscope(\"workgroup\") release"));
    cr_assert_not_null(strstr(img.llvm_ir, "!\"amdhsa_code_object_version\", i32 500"));
    for (const char *d = strstr(img.llvm_ir, "\ndeclare "); d; d = strstr(d + 1, "\ndeclare ")) {
        const char *end = strchr(d + 1, '\n'), *at = strstr(d, " @llvm.");
        cr_assert(at && (!end || at < end), "%s: %.80s", gfx, d + 1);
    }
    /* the code object: a 64-bit little-endian ELF for AMDGPU (e_machine 224) */
    cr_assert(img.hsaco_size > 64);
    cr_assert(memcmp(img.hsaco, "\177ELF\002\001", 6) == 0);
    cr_assert_eq(img.hsaco[18] | img.hsaco[19] << 8, 224);
    free(img.llvm_ir);
    free(img.amdgcn);
    free(img.hsaco);
    LLVMDisposeModule(m);
    LLVMContextDispose(c);
}

Test(amdgpu, kernels_for_every_target)
{
    if (!at_have_lld())
        cr_skip_test("ld.lld (LLVM 19) is not installed");
    at_check(TARGET_GFX90A, "gfx90a", 64, 256);
    at_check(TARGET_GFX942, "gfx942", 64, 128);
    at_check(TARGET_GFX1100, "gfx1100", 32, 64);
}

Test(amdgpu, no_vendor_for_other_targets)
{
    cr_assert_null(gpu_vendor_amdgpu(TARGET_SM_80));
    cr_assert_null(gpu_vendor_amdgpu(TARGET_CPU));
}
