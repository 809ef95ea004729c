/* Code for the CPU: `accl FILE.acc --target=cpu -o x.o --header x.h`.
 *
 *   every kernel -> pass list -> LLVM module (cpu.c bodies, entry.c entries)
 *     -> verify (debug builds) -> O3 for the machine -> object | assembly | LLVM IR
 *   the header (header.c) from the same lowered kernels
 *
 * For a GPU target (`--target=nvidia:sm_80 -o x.o --header x.h`) the object is
 * for the host and holds the device code:
 *
 *   every kernel -> pass list -> GPU execution form (compile_kernel)
 *     -> device code (gpu_compile: PTX, and the cubin when ptxas is present;
 *        AMD: the code object)
 *     -> host module (launch.c: descriptor and K.body stubs; entry.c: K, K.packed)
 *     -> as for the CPU, for the host machine
 *
 * Every file is written beside its path and renamed only when everything
 * succeeded: a failed compilation leaves existing outputs untouched. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>

#include "driver/compile.h"
#include "emit/emit.h"
#include "emit/gpu.h"
#include "emit/launch.h"

/* An include guard from the header's file name: "out/matmul.h" -> MATMUL_H. */
static const char *compile_guard(Arena *a, const char *path)
{
    const char *base = path ? strrchr(path, '/') : NULL;
    base = base ? base + 1 : path;
    if (!base || !*base || strcmp(base, "-") == 0)
        base = "accl_kernels.h";
    char *g = arena_printf(a, "%s%s", isdigit((unsigned char)base[0]) ? "ACCL_" : "", base);
    for (char *p = g; *p; p++)
        *p = isalnum((unsigned char)*p) ? (char)toupper((unsigned char)*p) : '_';
    return g;
}

/* The machine for the target: the host for `cpu`, else the named
 * architecture (`cpu:x86_64`). */
static bool compile_machine(const char *target_name, EmitMachine *m)
{
    const char *arch = target_name ? strchr(target_name, ':') : NULL;
    if (emit_machine(arch ? arch + 1 : NULL, m))
        return true;
    fprintf(stderr, "accl: error: LLVM cannot emit code for the target '%s'\n",
            target_name ? target_name : "cpu");
    return false;
}

/* The module of funcs for machine m, optimized: the kernels themselves, or
 * with img the host stubs launching img's device code. NULL after a message. */
static LLVMModuleRef compile_module(LLVMContextRef cx, LLVMTargetMachineRef tm, const EmitMachine *m,
                                    IrFunc *const *funcs, int n, const GpuImage *img, Frontend *fe)
{
    LLVMModuleRef mod = LLVMModuleCreateWithNameInContext(fe->src.name, cx);
    LLVMSetTarget(mod, m->triple);
    LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(tm);
    LLVMSetModuleDataLayout(mod, layout);
    LLVMDisposeTargetData(layout);
    if (img ? !emit_launch_bodies(mod, funcs, n, img, &fe->diag) : !emit_cpu_bodies(mod, funcs, n, m, &fe->diag)) {
        LLVMDisposeModule(mod);
        return NULL;
    }
    emit_entries(mod, funcs, n);
    char *err = NULL;
#ifndef NDEBUG
    if (LLVMVerifyModule(mod, LLVMReturnStatusAction, &err)) {
        fprintf(stderr, "accl: error: internal error: LLVM rejects the generated module: %s\n", err);
        LLVMDisposeMessage(err);
        LLVMDisposeModule(mod);
        return NULL;
    }
    LLVMDisposeMessage(err);
    err = NULL;
#endif
    if (!emit_optimize(mod, tm, &err)) {
        fprintf(stderr, "accl: error: LLVM's optimizer failed: %s\n", err ? err : "?");
        free(err);
        LLVMDisposeModule(mod);
        return NULL;
    }
    return mod;
}

/* Writes the module as o->kind asks into out. */
static bool compile_write(FILE *out, LLVMModuleRef mod, LLVMTargetMachineRef tm, CodeKind kind)
{
    if (kind == CODE_LLVM) {
        char *text = LLVMPrintModuleToString(mod);
        bool ok = fputs(text, out) >= 0;
        LLVMDisposeMessage(text);
        return ok;
    }
    char *err = NULL;
    LLVMMemoryBufferRef buf;
    if (LLVMTargetMachineEmitToMemoryBuffer(tm, mod, kind == CODE_ASM ? LLVMAssemblyFile : LLVMObjectFile,
                                            &err, &buf)) {
        fprintf(stderr, "accl: error: LLVM cannot emit the code: %s\n", err ? err : "?");
        LLVMDisposeMessage(err);
        return false;
    }
    size_t size = LLVMGetBufferSize(buf);
    bool ok = fwrite(LLVMGetBufferStart(buf), 1, size, out) == size;
    LLVMDisposeMemoryBuffer(buf);
    return ok;
}

/* The host code of a GPU target's object: the host's architecture with a
 * generic CPU, so that the object runs on any host of that architecture
 * (the stubs only check and launch). */
static bool compile_host_machine(EmitMachine *m)
{
    if (!emit_machine(NULL, m))
        return false;
    return emit_machine(strncmp(m->triple, "aarch64", 7) == 0 ? "aarch64" : "x86_64", m);
}

/* The code of funcs into out: for the CPU, or for the host with img's device code. */
static bool compile_code(Frontend *fe, const CodeOptions *o, IrFunc *const *funcs, int n, const GpuImage *img,
                         FILE *out)
{
    EmitMachine m;
    if (img ? !compile_host_machine(&m) : !compile_machine(o->target_name, &m))
        return false;
    char *err = NULL;
    LLVMTargetMachineRef tm = emit_target_machine(&m, &err);
    if (!tm) {
        fprintf(stderr, "accl: error: LLVM cannot make a target machine for '%s': %s\n",
                o->target_name ? o->target_name : "cpu", err ? err : "?");
        free(err);
        return false;
    }
    LLVMContextRef cx = LLVMContextCreate();
    LLVMModuleRef mod = compile_module(cx, tm, &m, funcs, n, img, fe);
    bool ok = mod && compile_write(out, mod, tm, o->kind);
    if (mod)
        LLVMDisposeModule(mod);
    LLVMContextDispose(cx);
    LLVMDisposeTargetMachine(tm);
    return ok;
}

/* GPU targets: the device code of funcs (in the GPU execution form); the
 * cubin too where ptxas is present. */
static bool compile_device(Frontend *fe, IrFunc *const *funcs, int n, GpuImage *img)
{
    GpuOptions go = {.try_cubin = true};
    return gpu_compile(funcs, n, fe->target, &go, img, &fe->diag);
}

int driver_compile(Frontend *fe, const CodeOptions *o)
{
    int n = fe->prog->nkernels;
    bool gpu = target_is_gpu(fe->target);
    IrFunc **funcs = ARENA_ARRAY(&fe->arena, IrFunc *, n ? n : 1);
    for (int i = 0; i < n; i++)
        if (!(funcs[i] = compile_kernel(&fe->compile, fe->prog->kernels[i], o->want_code, NULL)))
            return EXIT_INPUT;
    GpuImage img = {0};
    if (gpu && o->want_code && !compile_device(fe, funcs, n, &img)) {
        gpu_image_free(&img);
        return EXIT_INPUT;
    }
    Output code = {0}, header = {0};
    bool ok = true;
    if (o->want_code)
        ok = output_open(&code, o->output);
    if (ok && o->header)
        ok = output_open(&header, o->header);
    if (ok && o->want_code)
        ok = compile_code(fe, o, funcs, n, gpu ? &img : NULL, code.f);
    gpu_image_free(&img);
    if (ok && o->header) {
        emit_header(header.f, compile_guard(&fe->arena, o->header), funcs, n);
        ok = !ferror(header.f);
    }
    /* Both are renamed into place only when both were written. */
    if (code.f)
        ok = output_close(&code, ok) && ok;
    if (header.f)
        ok = output_close(&header, ok) && ok;
    return ok ? 0 : EXIT_INPUT;
}
