/* Nvidia device code: LLVM's NVPTX target (triple nvptx64-nvidia-cuda, the
 * sm as CPU, PTX ISA 8.0), for the kernels gpu.c emits.
 *
 *   indices   llvm.nvvm.read.ptx.sreg.tid.x, ctaid.{x,y,z}
 *   barrier   llvm.nvvm.barrier0 (bar.sync 0)
 *   shuffles  llvm.nvvm.shfl.sync.bfly.i32 (membermask: the whole warp, or
 *             the block's T lanes when T < 32; clamp 0x1f)
 *   cp.async  llvm.nvvm.cp.async.{ca,cg}.shared.global.{4,8,16} (cg for 16
 *             bytes: the tile goes to shared memory through L2 only), then at
 *             a barrier cp.async.commit_group and cp.async.wait_group N
 *   kernels   !nvvm.annotations: kernel 1 and reqntidx T (T the launch's
 *             threads per block), so PTX says .reqntid T, 1, 1: the launch
 *             bounds, exact (ptxas rejects .maxntid beside .reqntid, and the
 *             block always has T threads)
 *   math      libdevice (__nv_expf, ...; sqrt is llvm.sqrt: sqrt.rn): the
 *             bitcode ($ACCL_LIBDEVICE, else
 *             /usr/local/cuda/nvvm/libdevice/libdevice.10.bc) is linked into
 *             the module, every function but the kernels internalized, and
 *             NVVMReflect (run by the NVPTX pipeline) sees nvvm-reflect-ftz 0
 *             (no flush to zero). Without libdevice, our own gpumath functions
 *   finish    O3 for the sm, the module printed (--emit=llvm), PTX from
 *             LLVM's NVPTX printer, then for a cubin or --print-resources
 *             ptxas -arch=<sm> [-v] ($ACCL_PTXAS, else ptxas on PATH, else
 *             /usr/local/cuda/bin/ptxas). The resources report is one line per
 *             kernel, from ptxas -v:
 *               <kernel>: registers R, shared S bytes (static A, dynamic D),
 *               spill stores X bytes, spill loads Y bytes, stack Z bytes, threads T
 *             (dynamic: the launch's shared memory; threads: its block size). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/Linker.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include "emit/gpu.h"
#include "emit/tool.h"
#include "emit/gpumath.h"


enum { NV_CONST_AS = 4 };

/* ---- intrinsics ------------------------------------------------------------ */

static LLVMValueRef nv_call(LLVMModuleRef m, LLVMBuilderRef b, const char *name, LLVMValueRef *args, int n)
{
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMValueRef fn = LLVMGetIntrinsicDeclaration(m, id, NULL, 0);
    return LLVMBuildCall2(b, LLVMIntrinsicGetType(c, id, NULL, 0), fn, args, (unsigned)n, "");
}

static LLVMValueRef nv_thread_index(LLVMModuleRef m, LLVMBuilderRef b)
{
    return nv_call(m, b, "llvm.nvvm.read.ptx.sreg.tid.x", NULL, 0);
}

static LLVMValueRef nv_block_index(LLVMModuleRef m, LLVMBuilderRef b, int axis)
{
    static const char *const names[3] = {"llvm.nvvm.read.ptx.sreg.ctaid.x", "llvm.nvvm.read.ptx.sreg.ctaid.y",
                                         "llvm.nvvm.read.ptx.sreg.ctaid.z"};
    return nv_call(m, b, names[axis < 0 || axis > 2 ? 0 : axis], NULL, 0);
}

static void nv_barrier(LLVMModuleRef m, LLVMBuilderRef b) { nv_call(m, b, "llvm.nvvm.barrier0", NULL, 0); }

/* shfl.sync.bfly.b32 x, mask, clamp 0x1f over the warp's lanes: all 32, or
 * the block's first T when the block is smaller (its only warp). */
static LLVMValueRef nv_shuffle_xor(LLVMModuleRef m, LLVMBuilderRef b, LLVMValueRef x, int64_t mask,
                                   int64_t threads, int wave)
{
    (void)wave;
    LLVMTypeRef i32 = LLVMInt32TypeInContext(LLVMGetModuleContext(m));
    unsigned long long members = threads >= 32 ? 0xffffffffull : (1ull << threads) - 1;
    LLVMValueRef args[4] = {LLVMConstInt(i32, members, 0), x, LLVMConstInt(i32, (unsigned long long)mask, 0),
                            LLVMConstInt(i32, 0x1f, 0)};
    return nv_call(m, b, "llvm.nvvm.shfl.sync.bfly.i32", args, 4);
}

/* p in address space as (a cast when it is elsewhere). */
static LLVMValueRef nv_in_space(LLVMModuleRef m, LLVMBuilderRef b, LLVMValueRef p, unsigned as)
{
    if (LLVMGetPointerAddressSpace(LLVMTypeOf(p)) == as)
        return p;
    return LLVMBuildAddrSpaceCast(b, p, LLVMPointerTypeInContext(LLVMGetModuleContext(m), as), "");
}

static void nv_async_copy(LLVMModuleRef m, LLVMBuilderRef b, LLVMValueRef dst, LLVMValueRef src, int bytes)
{
    const char *name = bytes == 16  ? "llvm.nvvm.cp.async.cg.shared.global.16"
                       : bytes == 8 ? "llvm.nvvm.cp.async.ca.shared.global.8"
                                    : "llvm.nvvm.cp.async.ca.shared.global.4";
    LLVMValueRef args[2] = {nv_in_space(m, b, dst, 3), nv_in_space(m, b, src, 1)};
    nv_call(m, b, name, args, 2);
}

static void nv_async_wait(LLVMModuleRef m, LLVMBuilderRef b, int64_t pending)
{
    nv_call(m, b, "llvm.nvvm.cp.async.commit.group", NULL, 0);
    LLVMValueRef n = LLVMConstInt(LLVMInt32TypeInContext(LLVMGetModuleContext(m)),
                                  (unsigned long long)(pending < 0 ? 0 : pending), 0);
    nv_call(m, b, "llvm.nvvm.cp.async.wait.group", &n, 1);
}

/* ---- math ------------------------------------------------------------------ */

static const char *nv_libdevice_path(void)
{
    const char *p = getenv("ACCL_LIBDEVICE");
    return p && *p ? p : "/usr/local/cuda/nvvm/libdevice/libdevice.10.bc";
}

static bool nv_have_libdevice(void) { return access(nv_libdevice_path(), R_OK) == 0; }

/* libdevice's name for k on f32 or f64; NULL: no call (LLVM lowers it). */
static const char *nv_libdevice_name(Intrinsic k, bool f32)
{
    switch (k) {
    case INTR_EXP: return f32 ? "__nv_expf" : "__nv_exp";
    case INTR_LOG: return f32 ? "__nv_logf" : "__nv_log";
    case INTR_RSQRT: return f32 ? "__nv_rsqrtf" : "__nv_rsqrt";
    case INTR_TANH: return f32 ? "__nv_tanhf" : "__nv_tanh";
    case INTR_ERF: return f32 ? "__nv_erff" : "__nv_erf";
    case INTR_SIN: return f32 ? "__nv_sinf" : "__nv_sin";
    case INTR_COS: return f32 ? "__nv_cosf" : "__nv_cos";
    case INTR_POW: return f32 ? "__nv_powf" : "__nv_pow";
    default: return NULL;   /* sqrt (sqrt.rn), abs, min, max, fma */
    }
}

static LLVMValueRef nv_math(LLVMModuleRef m, Intrinsic k, ElemType t)
{
    bool f32 = t == ELEM_F32;
    const char *name = nv_libdevice_name(k, f32);
    if (!name)
        return NULL;
    if (!nv_have_libdevice())
        return gpumath_function(m, k, f32 ? ELEM_F32 : ELEM_F64, NV_CONST_AS);
    LLVMValueRef fn = LLVMGetNamedFunction(m, name);
    if (fn)
        return fn;
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMTypeRef ft = f32 ? LLVMFloatTypeInContext(c) : LLVMDoubleTypeInContext(c);
    LLVMTypeRef params[2] = {ft, ft};
    return LLVMAddFunction(m, name, LLVMFunctionType(ft, params, k == INTR_POW ? 2 : 1, 0));
}

/* ---- kernels ------------------------------------------------------------------ */

static void nv_annotate(LLVMModuleRef m, LLVMValueRef fn, const char *key, int64_t value)
{
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMMetadataRef md[3] = {
        LLVMValueAsMetadata(fn),
        LLVMMDStringInContext2(c, key, strlen(key)),
        LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(c), (unsigned long long)value, 0)),
    };
    LLVMAddNamedMetadataOperand(m, "nvvm.annotations", LLVMMetadataAsValue(c, LLVMMDNodeInContext2(c, md, 3)));
}

static void nv_mark_kernel(LLVMModuleRef m, LLVMValueRef fn, int64_t threads)
{
    nv_annotate(m, fn, "kernel", 1);
    nv_annotate(m, fn, "reqntidx", threads);
}

/* ---- finish -------------------------------------------------------------------- */

static bool nv_is_kernel(LLVMValueRef fn)
{
    return LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, "accl-threads", 12) != NULL;
}

static int64_t nv_fn_number(LLVMValueRef fn, const char *key)
{
    LLVMAttributeRef a = LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, key, (unsigned)strlen(key));
    unsigned len = 0;
    const char *v = a ? LLVMGetStringAttributeValue(a, &len) : NULL;
    return v ? strtoll(v, NULL, 10) : 0;
}

static bool nv_uses_libdevice(LLVMModuleRef m)
{
    for (LLVMValueRef fn = LLVMGetFirstFunction(m); fn; fn = LLVMGetNextFunction(fn)) {
        size_t len;
        const char *name = LLVMGetValueName2(fn, &len);
        if (LLVMIsDeclaration(fn) && strncmp(name, "__nv_", 5) == 0)
            return true;
    }
    return false;
}

/* Links libdevice into m (its triple and layout made m's). */
static bool nv_link_libdevice(LLVMModuleRef m, char **err)
{
    const char *path = nv_libdevice_path();
    LLVMMemoryBufferRef buf;
    char *msg = NULL;
    if (LLVMCreateMemoryBufferWithContentsOfFile(path, &buf, &msg)) {
        *err = tool_printf("cannot read libdevice '%s': %s", path, msg ? msg : "?");
        LLVMDisposeMessage(msg);
        return false;
    }
    LLVMModuleRef lib;
    bool bad = LLVMParseBitcodeInContext2(LLVMGetModuleContext(m), buf, &lib);
    LLVMDisposeMemoryBuffer(buf);
    if (bad) {
        *err = tool_printf("libdevice '%s' is not LLVM bitcode", path);
        return false;
    }
    LLVMSetTarget(lib, LLVMGetTarget(m));
    LLVMSetDataLayout(lib, LLVMGetDataLayoutStr(m));
    if (LLVMLinkModules2(m, lib)) {
        *err = tool_printf("cannot link libdevice '%s'", path);
        return false;
    }
    return true;
}

/* Everything defined but the kernels becomes internal (O3 then drops what
 * the kernels do not use). */
static void nv_internalize(LLVMModuleRef m)
{
    for (LLVMValueRef fn = LLVMGetFirstFunction(m); fn; fn = LLVMGetNextFunction(fn))
        if (!LLVMIsDeclaration(fn) && !nv_is_kernel(fn))
            LLVMSetLinkage(fn, LLVMInternalLinkage);
    for (LLVMValueRef g = LLVMGetFirstGlobal(m); g; g = LLVMGetNextGlobal(g))
        if (!LLVMIsDeclaration(g))
            LLVMSetLinkage(g, LLVMInternalLinkage);
}

static LLVMTargetMachineRef nv_machine(const GpuVendor *v, char **err)
{
    LLVMTargetRef t;
    char *msg = NULL;
    if (LLVMGetTargetFromTriple(v->triple, &t, &msg)) {
        *err = tool_printf("LLVM cannot emit code for '%s': %s", v->triple, msg ? msg : "?");
        LLVMDisposeMessage(msg);
        return NULL;
    }
    return LLVMCreateTargetMachine(t, v->triple, v->cpu, v->features, LLVMCodeGenLevelAggressive, LLVMRelocDefault,
                                   LLVMCodeModelDefault);
}

/* One kernel's numbers from ptxas -v. */
typedef struct NvRes {
    char name[256];
    long regs, smem, spill_st, spill_ld, stack;
} NvRes;

/* Parses ptxas -v's log into one NvRes per kernel (*n of them). */
static NvRes *nv_parse_resources(const char *log, int *n)
{
    NvRes *r = NULL;
    int len = 0;
    for (const char *line = log; line && *line;) {
        const char *eol = strchr(line, '\n');
        char buf[1024];
        size_t l = eol ? (size_t)(eol - line) : strlen(line);
        if (l >= sizeof buf)
            l = sizeof buf - 1;
        memcpy(buf, line, l);
        buf[l] = '\0';
        line = eol ? eol + 1 : NULL;
        const char *p;
        if ((p = strstr(buf, "Compiling entry function '")) != NULL) {
            NvRes *q = realloc(r, (size_t)(len + 1) * sizeof *r);
            if (!q)
                abort();
            r = q;
            memset(&r[len], 0, sizeof r[len]);
            p += strlen("Compiling entry function '");
            const char *e = strchr(p, '\'');
            size_t nl = e ? (size_t)(e - p) : strlen(p);
            if (nl >= sizeof r[len].name)
                nl = sizeof r[len].name - 1;
            memcpy(r[len].name, p, nl);
            len++;
        } else if (len && strstr(buf, "bytes stack frame")) {
            sscanf(buf, " %ld bytes stack frame, %ld bytes spill stores, %ld bytes spill loads", &r[len - 1].stack,
                   &r[len - 1].spill_st, &r[len - 1].spill_ld);
        } else if (len && (p = strstr(buf, "Used ")) != NULL) {
            sscanf(p, "Used %ld registers", &r[len - 1].regs);
            const char *s = strstr(p, " bytes smem");
            if (s) {
                while (s > p && s[-1] >= '0' && s[-1] <= '9')
                    s--;
                r[len - 1].smem = strtol(s, NULL, 10);
            }
        }
    }
    *n = len;
    return r;
}

/* The report: one line per kernel (see the header comment). */
static char *nv_report(LLVMModuleRef m, const char *log)
{
    int n;
    NvRes *r = nv_parse_resources(log, &n);
    size_t cap = 256 + (size_t)n * 512, at = 0;
    char *out = malloc(cap);
    if (!out)
        abort();
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        LLVMValueRef fn = LLVMGetNamedFunction(m, r[i].name);
        long dyn = fn ? (long)nv_fn_number(fn, "accl-shared-bytes") : 0;
        long threads = fn ? (long)nv_fn_number(fn, "accl-threads") : 0;
        at += (size_t)snprintf(out + at, cap - at,
                               "%s: registers %ld, shared %ld bytes (static %ld, dynamic %ld), spill stores %ld bytes, "
                               "spill loads %ld bytes, stack %ld bytes, threads %ld\n",
                               r[i].name, r[i].regs, r[i].smem + dyn, r[i].smem, dyn, r[i].spill_st, r[i].spill_ld,
                               r[i].stack, threads);
    }
    free(r);
    return out;
}

/* Runs ptxas on img->ptx: the cubin and/or the report. */
static bool nv_ptxas(LLVMModuleRef m, const GpuVendor *v, const GpuOptions *o, GpuImage *img, char **err)
{
    char *ptxas = tool_find("ACCL_PTXAS", "ptxas", "/usr/local/cuda/bin/ptxas");
    if (!ptxas) {
        if (!o->want_cubin && !o->want_resources)
            return true;   /* try_cubin: no ptxas, no cubin */
        *err = tool_printf("ptxas not found (looked at $ACCL_PTXAS, on PATH and in /usr/local/cuda/bin): "
                           "%s needs it",
                           o->want_cubin ? "a cubin" : "--print-resources");
        return false;
    }
    ToolFiles t;
    if (!tool_files_open(&t, "ptxas", "k.ptx", "k.cubin", img->ptx, strlen(img->ptx), err)) {
        free(ptxas);
        return false;
    }
    char *arch = tool_printf("-arch=%s", v->cpu);
    int status = -1;
    char *argv[] = {ptxas, arch, "-v", "-o", t.out, t.in, NULL};
    bool ok = tool_run(argv, t.log, &status, err);
    char *text = ok ? tool_read_file(t.log, NULL) : NULL;
    if (ok && status != 0) {
        *err = tool_printf("internal error: ptxas rejects the PTX for %s:\n%s", v->cpu, text ? text : "");
        ok = false;
    }
    if (ok) {
        size_t size = 0;
        img->cubin = (unsigned char *)tool_read_file(t.out, &size);
        img->cubin_size = size;
        if (!img->cubin) {
            *err = tool_printf("cannot read ptxas's output '%s'", t.out);
            ok = false;
        }
    }
    if (ok)
        img->resources = nv_report(m, text ? text : "");
    free(text);
    tool_files_close(&t);
    free(arch);
    free(ptxas);
    return ok;
}

static bool nv_finish(LLVMModuleRef m, const GpuVendor *v, const GpuOptions *o, GpuImage *img, char **err)
{
    if (nv_uses_libdevice(m) && !nv_link_libdevice(m, err))
        return false;
    nv_internalize(m);
    LLVMContextRef c = LLVMGetModuleContext(m);
    LLVMAddModuleFlag(m, LLVMModuleFlagBehaviorOverride, "nvvm-reflect-ftz", 16,
                      LLVMValueAsMetadata(LLVMConstInt(LLVMInt32TypeInContext(c), 0, 0)));
    LLVMTargetMachineRef tm = nv_machine(v, err);
    if (!tm)
        return false;
    size_t size;
    bool ok = gpu_optimize(m, tm, img, err) &&
              (img->ptx = gpu_emit_buffer(tm, m, LLVMAssemblyFile, &size, err)) != NULL;
    LLVMDisposeTargetMachine(tm);
    if (!ok)
        return false;
    if (o->want_cubin || o->want_resources || o->try_cubin)
        return nv_ptxas(m, v, o, img, err);
    return true;
}

/* ---- the vendors ------------------------------------------------------------------ */

static void nv_init_llvm(void)
{
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
}

#define NV_VENDOR(sm)                                                                                      \
    {                                                                                                      \
        .triple = "nvptx64-nvidia-cuda", .cpu = sm, .features = "+ptx80", .wave = 32, .global_as = 1,     \
        .shared_as = 3, .thread_index = nv_thread_index, .block_index = nv_block_index,                   \
        .barrier = nv_barrier, .shuffle_xor = nv_shuffle_xor, .async_copy = nv_async_copy, .async_wait = nv_async_wait, .math = nv_math, \
        .mark_kernel = nv_mark_kernel, .finish = nv_finish,                                                \
    }

static const GpuVendor nv_vendors[] = {NV_VENDOR("sm_80"), NV_VENDOR("sm_86"), NV_VENDOR("sm_89"),
                                       NV_VENDOR("sm_90"), NV_VENDOR("sm_90a")};

const GpuVendor *gpu_vendor_nvptx(Target t)
{
    if (strcmp(target_vendor(t), "nvidia") != 0)
        return NULL;
    for (size_t i = 0; i < sizeof nv_vendors / sizeof nv_vendors[0]; i++)
        if (strcmp(nv_vendors[i].cpu, target_arch(t)) == 0) {
            nv_init_llvm();
            return &nv_vendors[i];
        }
    return NULL;
}
