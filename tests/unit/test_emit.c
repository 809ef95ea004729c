/* CPU code generation (src/emit/cpu.c, machine.c): machines; the module
 * emit_cpu_bodies builds from small kernels (verified by LLVM, then checked
 * for its structure: vector types only where a loop is vectorized, outlined
 * parallel loops, register caches promoted after O3, GPU-bound loops
 * refused); and, through the JIT, the numbers the generated code computes at
 * the edges where C has undefined behaviour or LLVM has choices (division by
 * zero, INT_MIN / -1, NaN and signed zeros in min/max, saturating casts,
 * bf16 rounding), against the interpreter's rules in src/util/numbers.h. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>

#include "emit/emit.h"
#include "emit/jit.h"
#include "fixture.h"
#include "lower/compile.h"
#include "util/numbers.h"

typedef struct EmitTest {
    Fixture fx;
    IrFunc *f;
    LLVMContextRef cx;
    LLVMModuleRef mod;
    EmitMachine m;
    bool ok;           /* what emit_cpu_bodies returned */
} EmitTest;

/* The first kernel of fx through the pass list (fx loaded for target) and,
 * for the CPU, the CPU steps: what the CPU code generator takes. */
static IrFunc *et_lower(Fixture *fx)
{
    bool cpu = !target_is_gpu(fx->compile.target);
    IrFunc *f = compile_kernel(&fx->compile, fx->prog->kernels[0], cpu, NULL);
    cr_assert_not_null(f, "the pass list reported an error");
    return f;
}

/* The first kernel of text, lowered for target, emitted for the x86_64 machine. */
static void et_emit(EmitTest *t, const char *text, Target target)
{
    memset(t, 0, sizeof *t);
    fixture_load(&t->fx, text, target);
    t->f = et_lower(&t->fx);
    cr_assert(emit_machine("x86_64", &t->m));
    t->cx = LLVMContextCreate();
    t->mod = LLVMModuleCreateWithNameInContext("test", t->cx);
    LLVMSetTarget(t->mod, t->m.triple);
    t->ok = emit_cpu_bodies(t->mod, &t->f, 1, &t->m, &t->fx.diag);
}

static void et_verify(EmitTest *t)
{
    cr_assert(t->ok, "emit_cpu_bodies failed");
    char *err = NULL;
    bool bad = LLVMVerifyModule(t->mod, LLVMReturnStatusAction, &err);
    cr_assert(!bad, "LLVM rejects the module: %s", err ? err : "?");
    LLVMDisposeMessage(err);
}

/* The module's text (malloc'd). */
static char *et_text(EmitTest *t)
{
    char *s = LLVMPrintModuleToString(t->mod);
    char *copy = strdup(s);
    LLVMDisposeMessage(s);
    return copy;
}

static void et_free(EmitTest *t)
{
    LLVMDisposeModule(t->mod);
    LLVMContextDispose(t->cx);
    fixture_free(&t->fx);
}

Test(emit, machines)
{
    EmitMachine m;
    cr_assert(emit_machine(NULL, &m));
    cr_assert(m.triple && m.cpu && m.features && strlen(m.cpu) > 0);
    cr_assert(m.vector_bits == 128 || m.vector_bits == 256 || m.vector_bits == 512);
    cr_assert(emit_machine("x86_64", &m));
    cr_assert_str_eq(m.triple, "x86_64-pc-linux-gnu");
    cr_assert_eq(m.vector_bits, 256);
    cr_assert_not_null(strstr(m.features, "+fma"));
    char *err = NULL;
    LLVMTargetMachineRef tm = emit_target_machine(&m, &err);
    cr_assert_not_null(tm, "%s", err ? err : "?");
    LLVMDisposeTargetMachine(tm);
    cr_assert(emit_machine("aarch64", &m));
    cr_assert_str_eq(m.triple, "aarch64-unknown-linux-gnu");
    cr_assert_eq(m.vector_bits, 128);
    tm = emit_target_machine(&m, &err);
    cr_assert_not_null(tm, "%s", err ? err : "?");
    LLVMDisposeTargetMachine(tm);
    cr_assert(!emit_machine("riscv64", &m));
}

static const char scale_src[] =
    "kernel scale(X: f32[N], Y: out f32[N]) {\n"
    "    for i in 0..N { Y[i] = 2.0 * X[i]; }\n"
    "}\n"
    "schedule scale for cpu {\n"
    "    split i by 8 -> io, ii;\n"
    "    vectorize ii;\n"
    "}\n";

Test(emit, vectorized_loop_gives_vector_code)
{
    EmitTest t;
    et_emit(&t, scale_src, TARGET_CPU);
    et_verify(&t);
    char *ir = et_text(&t);
    cr_assert_not_null(strstr(ir, "define internal i32 @scale.body(ptr %X, ptr %Y, i64 %N)"), "%s", ir);
    cr_assert_not_null(strstr(ir, "fmul contract <8 x float>"), "%s", ir);
    cr_assert_not_null(strstr(ir, "load <8 x float>"), "%s", ir);
    /* the guarded copy of the loop (the tail) stores under a mask */
    cr_assert_not_null(strstr(ir, "@llvm.masked.store.v8f32"), "%s", ir);
    free(ir);
    et_free(&t);
}

Test(emit, serial_loop_has_no_vector_types)
{
    EmitTest t;
    et_emit(&t,
            "kernel scale(X: f32[N], Y: out f32[N]) {\n"
            "    for i in 0..N { Y[i] = 2.0 * X[i]; }\n"
            "}\n",
            TARGET_CPU);
    et_verify(&t);
    char *ir = et_text(&t);
    cr_assert_null(strstr(ir, " x float>"), "%s", ir);
    cr_assert_null(strstr(ir, " x i64>"), "%s", ir);
    cr_assert_null(strstr(ir, "accl_parallel_for"), "%s", ir);
    free(ir);
    et_free(&t);
}

Test(emit, parallel_loop_is_outlined)
{
    EmitTest t;
    et_emit(&t,
            "kernel rows(X: f32[R, N], Y: out f32[R, N]) {\n"
            "    for r in 0..R, c in 0..N { Y[r, c] = X[r, c] + 1.0; }\n"
            "}\n"
            "schedule rows for cpu { parallel r; }\n",
            TARGET_CPU);
    et_verify(&t);
    char *ir = et_text(&t);
    cr_assert_not_null(strstr(ir, "define internal void @rows.par0(ptr %0, i64 %1, i64 %2)"), "%s", ir);
    cr_assert_not_null(strstr(ir, "call void @accl_parallel_for(ptr @rows.par0"), "%s", ir);
    /* the chunk's error code goes back through the context, atomically */
    cr_assert_not_null(strstr(ir, "store atomic i32"), "%s", ir);
    free(ir);
    et_free(&t);
}

Test(emit, register_cache_is_promoted_after_o3)
{
    EmitTest t;
    et_emit(&t,
            "kernel mm(A: f32[M, K], B: f32[K, N], C: out f32[M, N]) {\n"
            "    init: for i in 0..M, j in 0..N { C[i, j] = 0.0; }\n"
            "    upd: for i in 0..M, j in 0..N, k in 0..K { C[i, j] += A[i, k] * B[k, j]; }\n"
            "}\n"
            "schedule mm for cpu {\n"
            "    in upd {\n"
            "        tile i, j by 4, 16 -> io, jo, ii, ji;\n"
            "        split ji by 8 -> jv, jl;\n"
            "        reorder io, jo, k, ii, jv, jl;\n"
            "        cache C at jo in registers;\n"
            "        unroll ii; unroll jv; vectorize jl;\n"
            "    }\n"
            "}\n",
            TARGET_CPU);
    et_verify(&t);
    char *ir = et_text(&t);
    cr_assert_not_null(strstr(ir, "alloca [64 x float]"), "%s", ir);
    free(ir);
    /* (internal and uncalled, O3 would delete it: no entries in this test) */
    LLVMSetLinkage(LLVMGetNamedFunction(t.mod, "mm.body"), LLVMExternalLinkage);
    char *err = NULL;
    LLVMTargetMachineRef tm = emit_target_machine(&t.m, &err);
    cr_assert_not_null(tm);
    cr_assert(emit_optimize(t.mod, tm, &err), "%s", err ? err : "?");
    LLVMDisposeTargetMachine(tm);
    ir = et_text(&t);
    cr_assert_null(strstr(ir, "alloca"), "the register cache is still in memory:\n%s", ir);
    cr_assert_not_null(strstr(ir, "<8 x float>"), "%s", ir);
    free(ir);
    et_free(&t);
}

Test(emit, gpu_bound_loops_are_refused)
{
    EmitTest t;
    et_emit(&t,
            "kernel scale(X: f32[N], Y: out f32[N]) {\n"
            "    for i in 0..N { Y[i] = 2.0 * X[i]; }\n"
            "}\n"
            "schedule scale for nvidia(sm_80) {\n"
            "    split i by 256 -> bi, ti;\n"
            "    bind bi -> block.x, ti -> thread.x;\n"
            "}\n",
            TARGET_SM_80);
    cr_assert(!t.ok);
    cr_assert_eq(t.fx.diag.nerrors, 1);
    et_free(&t);
}

/* ---- numbers at the edges, through the JIT --------------------------------- */

typedef struct JitRun {
    Fixture fx;
    IrFunc *f;
    Jit *jit;
    JitPackedFn fn;
} JitRun;

static void jr_compile(JitRun *r, const char *text, const char *kernel)
{
    memset(r, 0, sizeof *r);
    fixture_load(&r->fx, text, TARGET_CPU);
    r->f = et_lower(&r->fx);
    char *err = NULL;
    r->jit = jit_compile(&r->f, 1, &r->fx.diag, &err);
    cr_assert_not_null(r->jit, "%s", err ? err : "(a diagnostic)");
    r->fn = jit_lookup(r->jit, kernel, &err);
    cr_assert_not_null(r->fn, "%s", err ? err : "?");
}

static void jr_free(JitRun *r)
{
    jit_free(r->jit);
    fixture_free(&r->fx);
}

Test(emit, integer_division_edges)
{
    /* vectorized and scalar both: 8 lanes, then a tail */
    JitRun r;
    jr_compile(&r,
               "kernel idiv(A: i32[N], B: i32[N], Q: out i32[N], R: out i32[N]) {\n"
               "    for i in 0..N { Q[i] = A[i] / B[i]; R[i] = A[i] % B[i]; }\n"
               "}\n"
               "schedule idiv for cpu { split i by 8 -> io, ii; vectorize ii; }\n",
               "idiv");
    enum { N = 11 };
    int32_t a[N] = {7, -7, 7, INT32_MIN, INT32_MIN, 5, 0, -1, 100, INT32_MAX, -9};
    int32_t b[N] = {2, 2, 0, -1, 1, -3, 0, 0, 7, -1, 4};
    int32_t q[N], rem[N];
    int64_t n = N;
    void *pa = a, *pb = b, *pq = q, *pr = rem;
    void *argv[] = {&pa, &pb, &pq, &pr, &n};
    cr_assert_eq(r.fn(argv), 0);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(q[i], (int32_t)num_int_div(a[i], b[i], ELEM_I32), "%d / %d", a[i], b[i]);
        cr_assert_eq(rem[i], (int32_t)num_int_rem(a[i], b[i], ELEM_I32), "%d %% %d", a[i], b[i]);
    }
    jr_free(&r);
}

static uint32_t bits32(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

Test(emit, float_min_max_casts_and_bf16)
{
    JitRun r;
    jr_compile(&r,
               "kernel edges(A: f32[N], B: f32[N], Lo: out f32[N], Hi: out f32[N],\n"
               "             I: out i32[N], U: out u8[N], H: out bf16[N]) {\n"
               "    for i in 0..N {\n"
               "        Lo[i] = min(A[i], B[i]); Hi[i] = max(A[i], B[i]);\n"
               "        I[i] = i32(A[i]); U[i] = u8(A[i]); H[i] = bf16(A[i]);\n"
               "    }\n"
               "}\n"
               "schedule edges for cpu { split i by 4 -> io, ii; vectorize ii; }\n",
               "edges");
    enum { N = 9 };
    float a[N] = {NAN, 1.0f, -0.0f, 0.0f, 3e9f, -3e9f, 300.5f, 1.00390625f, -2.5f};
    float b[N] = {1.0f, NAN, 0.0f, -0.0f, 2.0f, 2.0f, -1.0f, 0.0f, -2.5f};
    float lo[N], hi[N];
    int32_t iv[N];
    uint8_t uv[N];
    uint16_t hv[N];
    int64_t n = N;
    void *p[] = {a, b, lo, hi, iv, uv, hv};
    void *argv[] = {&p[0], &p[1], &p[2], &p[3], &p[4], &p[5], &p[6], &n};
    cr_assert_eq(r.fn(argv), 0);
    for (int i = 0; i < N; i++) {
        /* NaN if either is NaN, else a < b ? a : b (the sign of a zero too) */
        float wlo = isnan(a[i]) || isnan(b[i]) ? NAN : a[i] < b[i] ? a[i] : b[i];
        float whi = isnan(a[i]) || isnan(b[i]) ? NAN : a[i] > b[i] ? a[i] : b[i];
        cr_assert(isnan(wlo) ? isnan(lo[i]) : bits32(lo[i]) == bits32(wlo), "min %d: %g", i, lo[i]);
        cr_assert(isnan(whi) ? isnan(hi[i]) : bits32(hi[i]) == bits32(whi), "max %d: %g", i, hi[i]);
        cr_assert_eq(iv[i], (int32_t)num_float_to_int(a[i], ELEM_I32), "i32(%g) = %d", a[i], iv[i]);
        cr_assert_eq(uv[i], (uint8_t)num_float_to_int(a[i], ELEM_U8), "u8(%g) = %d", a[i], uv[i]);
        cr_assert_eq(hv[i], num_f32_to_bf16(a[i]), "bf16(%g) = %#x", a[i], hv[i]);
    }
    jr_free(&r);
}
