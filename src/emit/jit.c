/* The JIT (see jit.h). One ORC LLJIT per compilation: the module is built in
 * the context of a thread-safe context, optimized with the host's target
 * machine, handed to the JIT (which owns it from then on), and compiled on the
 * first lookup. jit_free disposes of the JIT (its code and module) and the
 * context. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Error.h>
#include <llvm-c/LLJIT.h>
#include <llvm-c/Orc.h>
#include <llvm-c/Target.h>

#include "emit/emit.h"
#include "emit/jit.h"
#include "emit/launch.h"

struct Jit {
    LLVMOrcThreadSafeContextRef tsc;
    LLVMOrcLLJITRef jit;
    char *session_err;  /* the first error the session reported (malloc'd), or NULL */
};

/* The message of an LLVM error (consumed) as a malloc'd string. */
static char *jit_error_text(LLVMErrorRef e)
{
    char *m = LLVMGetErrorMessage(e);
    char *s = strdup(m);
    LLVMDisposeErrorMessage(m);
    return s;
}

/* The module of funcs (with img: the host stubs launching img's device
 * code), optimized for the host machine m. NULL after a diagnostic (d) or
 * with *err set. On success *tm is the target machine it was optimized with
 * (the caller hands it to the JIT). */
static LLVMModuleRef jit_module(LLVMContextRef ctx, IrFunc *const *funcs, int n, const GpuImage *img,
                                const EmitMachine *m, LLVMTargetMachineRef *tm, Diag *d, char **err)
{
    *tm = emit_target_machine(m, err);
    if (!*tm)
        return NULL;
    LLVMModuleRef mod = LLVMModuleCreateWithNameInContext("accl.jit", ctx);
    if (img ? !emit_launch_bodies(mod, funcs, n, img, d) : !emit_cpu_bodies(mod, funcs, n, m, d)) {
        LLVMDisposeModule(mod);
        LLVMDisposeTargetMachine(*tm);
        return NULL;
    }
    emit_entries(mod, funcs, n);
    char *oerr = NULL;
    if (!emit_optimize(mod, *tm, &oerr)) {
        *err = oerr ? oerr : strdup("LLVM's optimizer failed");
        LLVMDisposeModule(mod);
        LLVMDisposeTargetMachine(*tm);
        return NULL;
    }
    return mod;
}

/* Errors of the session (a symbol not found while linking) are kept for
 * jit_lookup's message instead of being printed by LLVM. */
static void jit_report(void *ctx, LLVMErrorRef e)
{
    Jit *j = ctx;
    char *m = jit_error_text(e);
    if (j->session_err)
        free(m);
    else
        j->session_err = m;
}

/* An LLJIT for target machine tm (consumed) whose main library resolves
 * undefined symbols from the process. NULL with *err set. */
static LLVMOrcLLJITRef jit_create(Jit *j, LLVMTargetMachineRef tm, char **err)
{
    LLVMOrcLLJITBuilderRef b = LLVMOrcCreateLLJITBuilder();
    LLVMOrcLLJITBuilderSetJITTargetMachineBuilder(b, LLVMOrcJITTargetMachineBuilderCreateFromTargetMachine(tm));
    LLVMOrcLLJITRef jit = NULL;
    LLVMErrorRef e = LLVMOrcCreateLLJIT(&jit, b);  /* consumes the builder */
    if (e) {
        *err = jit_error_text(e);
        return NULL;
    }
    LLVMOrcExecutionSessionSetErrorReporter(LLVMOrcLLJITGetExecutionSession(jit), jit_report, j);
    LLVMOrcDefinitionGeneratorRef gen = NULL;
    e = LLVMOrcCreateDynamicLibrarySearchGeneratorForProcess(&gen, LLVMOrcLLJITGetGlobalPrefix(jit), NULL,
                                                             NULL);
    if (e) {
        *err = jit_error_text(e);
        LLVMConsumeError(LLVMOrcDisposeLLJIT(jit));
        return NULL;
    }
    LLVMOrcJITDylibAddGenerator(LLVMOrcLLJITGetMainJITDylib(jit), gen);
    return jit;
}

static Jit *jit_build(IrFunc *const *funcs, int n, const GpuImage *img, Diag *d, char **err)
{
    *err = NULL;
    LLVMInitializeNativeTarget();
    LLVMInitializeNativeAsmPrinter();
    EmitMachine m;
    if (!emit_machine(NULL, &m)) {
        *err = strdup("the host machine is not supported by the code generator");
        return NULL;
    }
    Jit *j = calloc(1, sizeof *j);
    j->tsc = LLVMOrcCreateNewThreadSafeContext();
    LLVMTargetMachineRef tm;
    LLVMModuleRef mod = jit_module(LLVMOrcThreadSafeContextGetContext(j->tsc), funcs, n, img, &m, &tm, d, err);
    if (mod)
        j->jit = jit_create(j, tm, err);
    else
        tm = NULL;
    if (!j->jit) {
        if (mod)
            LLVMDisposeModule(mod);
        jit_free(j);
        return NULL;
    }
    LLVMOrcThreadSafeModuleRef tsm = LLVMOrcCreateNewThreadSafeModule(mod, j->tsc);
    LLVMErrorRef e = LLVMOrcLLJITAddLLVMIRModule(j->jit, LLVMOrcLLJITGetMainJITDylib(j->jit), tsm);
    if (e) {  /* the JIT disposed of the module */
        *err = jit_error_text(e);
        jit_free(j);
        return NULL;
    }
    return j;
}

Jit *jit_compile(IrFunc *const *funcs, int n, Diag *d, char **err)
{
    return jit_build(funcs, n, NULL, d, err);
}

Jit *jit_compile_gpu(IrFunc *const *funcs, int n, const GpuImage *img, Diag *d, char **err)
{
    return jit_build(funcs, n, img, d, err);
}

JitPackedFn jit_lookup(Jit *j, const char *kernel, char **err)
{
    *err = NULL;
    size_t len = strlen(kernel) + sizeof ".packed";
    char *name = malloc(len);
    snprintf(name, len, "%s.packed", kernel);
    LLVMOrcExecutorAddress addr = 0;
    LLVMErrorRef e = LLVMOrcLLJITLookup(j->jit, &addr, name);
    free(name);
    if (e) {
        char *m = jit_error_text(e);
        if (j->session_err) {
            size_t both = strlen(j->session_err) + strlen(m) + 3;
            *err = malloc(both);
            snprintf(*err, both, "%s; %s", j->session_err, m);
            free(m);
        } else {
            *err = m;
        }
        return NULL;
    }
    /* An address in this process: ISO C has no object-to-function pointer
     * conversion, so the bits are copied. */
    JitPackedFn fn;
    uintptr_t a = (uintptr_t)addr;
    memcpy(&fn, &a, sizeof fn);
    return fn;
}

void jit_free(Jit *j)
{
    if (!j)
        return;
    if (j->jit)
        LLVMConsumeError(LLVMOrcDisposeLLJIT(j->jit));
    if (j->tsc)
        LLVMOrcDisposeThreadSafeContext(j->tsc);
    free(j->session_err);
    free(j);
}
