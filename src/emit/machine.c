/* Machines: the host, or a named architecture for cross emission, and LLVM's
 * target machine and O3 pipeline for them.
 *
 *   host      LLVMGetHostCPUName / LLVMGetHostCPUFeatures (the native target)
 *   x86_64    "x86-64" with +avx2,+fma,+f16c: every x86-64 CPU since Haswell
 *             (x86-64-v3 less movbe/bmi, which the code never needs); 256-bit
 *             vectors
 *   aarch64   "generic" with +neon (Advanced SIMD, every ARMv8-A): 128-bit
 *
 * Only the X86 and AArch64 back ends are initialized (GPU targets later). */
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Target.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "emit/emit.h"

static void machine_init_targets(void)
{
    /* Idempotent in LLVM: each call registers the same target objects. */
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
    LLVMInitializeAArch64TargetInfo();
    LLVMInitializeAArch64Target();
    LLVMInitializeAArch64TargetMC();
    LLVMInitializeAArch64AsmPrinter();
}

/* Whether a feature list ("+a,-b,+c") enables `name`. */
static bool machine_has_feature(const char *features, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = features; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n + 1 && p[0] == '+' && memcmp(p + 1, name, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

/* The widest vector registers the features give: avx512f 512, avx/avx2 256,
 * anything else (sse2 on x86-64, neon on aarch64) 128. */
static int machine_vector_bits(const char *features)
{
    if (machine_has_feature(features, "avx512f"))
        return 512;
    if (machine_has_feature(features, "avx2") || machine_has_feature(features, "avx"))
        return 256;
    return 128;
}

bool emit_machine(const char *arch, EmitMachine *m)
{
    machine_init_targets();
    memset(m, 0, sizeof *m);
    if (!arch || strcmp(arch, "host") == 0) {
        char *t = LLVMGetDefaultTargetTriple(), *n = LLVMNormalizeTargetTriple(t);
        char *c = LLVMGetHostCPUName(), *f = LLVMGetHostCPUFeatures();
        size_t lt = strlen(n) + 1, lc = strlen(c) + 1, lf = strlen(f) + 1;
        bool fits = lt + lc + lf <= sizeof m->storage;
        if (fits) {
            memcpy(m->storage, n, lt);
            memcpy(m->storage + lt, c, lc);
            memcpy(m->storage + lt + lc, f, lf);
        }
        LLVMDisposeMessage(t);
        LLVMDisposeMessage(n);
        LLVMDisposeMessage(c);
        LLVMDisposeMessage(f);
        if (!fits)
            return false;
        m->triple = m->storage;
        m->cpu = m->storage + lt;
        m->features = m->storage + lt + lc;
    } else if (strcmp(arch, "x86_64") == 0) {
        m->triple = "x86_64-pc-linux-gnu";
        m->cpu = "x86-64";
        m->features = "+avx2,+fma,+f16c,+avx,+sse4.2";
    } else if (strcmp(arch, "aarch64") == 0) {
        m->triple = "aarch64-unknown-linux-gnu";
        m->cpu = "generic";
        m->features = "+neon,+fp-armv8";
    } else {
        return false;
    }
    m->vector_bits = machine_vector_bits(m->features);
    if (strncmp(m->triple, "aarch64", 7) == 0)
        m->vector_bits = 128;
    return true;
}

LLVMTargetMachineRef emit_target_machine(const EmitMachine *m, char **err)
{
    machine_init_targets();
    LLVMTargetRef target;
    if (LLVMGetTargetFromTriple(m->triple, &target, err))
        return NULL;
    LLVMTargetMachineRef tm = LLVMCreateTargetMachine(
        target, m->triple, m->cpu, m->features, LLVMCodeGenLevelAggressive, LLVMRelocPIC,
        LLVMCodeModelDefault);
    if (!tm && err)
        *err = strdup("LLVM could not create a target machine");
    return tm;
}

bool emit_optimize(LLVMModuleRef mod, LLVMTargetMachineRef tm, char **err)
{
    LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
    LLVMPassBuilderOptionsSetLoopVectorization(opts, 1);
    LLVMPassBuilderOptionsSetSLPVectorization(opts, 1);
    LLVMPassBuilderOptionsSetLoopUnrolling(opts, 1);
    LLVMErrorRef e = LLVMRunPasses(mod, "default<O3>", tm, opts);
    LLVMDisposePassBuilderOptions(opts);
    if (!e)
        return true;
    char *msg = LLVMGetErrorMessage(e);
    if (err)
        *err = strdup(msg);
    LLVMDisposeErrorMessage(msg);
    return false;
}
