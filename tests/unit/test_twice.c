/* The compiler holds no global state: every example loaded through the front
 * end, every kernel lowered for cpu, nvidia:sm_80 and amd:gfx942 (the pass
 * list, and the GPU execution form for the GPU targets) and the CPU's LLVM
 * module emitted, twice in one process, prints byte-identical IR and LLVM text.
 * And the whole pipeline ends in time on a long chain of splits (a
 * fuzz_pipeline finding: exponential time and memory in simplify). */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emit/emit.h"
#include "fixture.h"

static const char *const twice_targets[] = {"cpu", "nvidia:sm_80", "amd:gfx942"};

/* The CPU module of funcs, unoptimized, as LLVM IR text (malloc'd), or NULL. */
static char *twice_llvm(IrFunc *const *funcs, int n, Fixture *fx)
{
    EmitMachine m;
    cr_assert(emit_machine("x86_64", &m));
    LLVMContextRef cx = LLVMContextCreate();
    LLVMModuleRef mod = LLVMModuleCreateWithNameInContext(fx->src.name, cx);
    LLVMSetTarget(mod, m.triple);
    char *text = NULL;
    if (emit_cpu_bodies(mod, funcs, n, &m, &fx->diag)) {
        emit_entries(mod, funcs, n);
        char *t = LLVMPrintModuleToString(mod);
        text = strdup(t);
        LLVMDisposeMessage(t);
    }
    LLVMDisposeModule(mod);
    LLVMContextDispose(cx);
    return text;
}

/* One file for one target through everything, printed into one text (malloc'd):
 * each kernel's IR (or that lowering failed), the GPU form, the LLVM module. */
static char *twice_run(const char *path, const char *target_name)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    cr_assert_not_null(out);
    Target t = sema_parse_target(target_name);
    cr_assert_neq(t, TARGET_NONE, "target %s", target_name);
    Fixture fx;
    fixture_load_file(&fx, path, t);
    fprintf(out, "%s for %s\n", path, target_name);
    int n = fx.prog->nkernels;
    IrFunc **funcs = calloc((size_t)n + 1, sizeof *funcs);
    bool all = true;
    for (int i = 0; i < n; i++) {
        funcs[i] = compile_kernel(&fx.compile, fx.prog->kernels[i], false, NULL);
        if (!funcs[i]) {
            fprintf(out, "kernel %d: lowering failed\n", i);
            all = false;
            continue;
        }
        ir_print(out, funcs[i]);
        if (target_is_gpu(t)) {
            fprintf(out, "-- GPU execution form: %s\n", compile_gpu(&fx.compile, funcs[i], NULL) ? "ok" : "failed");
            ir_print(out, funcs[i]);
        }
    }
    if (all && !target_is_gpu(t)) {
        char *llvm = twice_llvm(funcs, n, &fx);
        fprintf(out, "-- LLVM:\n%s\n", llvm ? llvm : "emission failed");
        free(llvm);
    }
    free(funcs);
    fixture_free(&fx);
    fclose(out);
    return buf;
}

Test(twice, every_example_every_target_identical, .timeout = 120)
{
    glob_t g;
    cr_assert_eq(glob("examples/*.acc", 0, NULL, &g), 0, "no examples/*.acc (run from the repository root)");
    cr_assert_gt(g.gl_pathc, 5);
    int lowered = 0;
    for (size_t i = 0; i < g.gl_pathc; i++)
        for (size_t k = 0; k < sizeof twice_targets / sizeof *twice_targets; k++) {
            char *first = twice_run(g.gl_pathv[i], twice_targets[k]);
            char *second = twice_run(g.gl_pathv[i], twice_targets[k]);
            cr_assert_str_eq(first, second, "%s for %s differs between two runs", g.gl_pathv[i],
                             twice_targets[k]);
            lowered += strstr(first, "func ") != NULL;
            if (k == 0)
                cr_assert_not_null(strstr(first, "define "), "%s: no LLVM function", g.gl_pathv[i]);
            free(first);
            free(second);
        }
    /* Every example lowers for every target (their schedules are checked elsewhere). */
    cr_assert_eq(lowered, (int)(3 * g.gl_pathc));
    globfree(&g);
}

/* 14 splits of the outer loop by factors that do not divide, then 10 by 1, with
 * N0 a multiple of 8: HEAD before the fix took over 100 s and 23 GB. */
Test(twice, split_chain_lowers_in_time, .timeout = 10)
{
    static const int factors[] = {7, 8, 3, 5, 7, 3, 2, 3, 5, 7, 3, 2, 3, 5};
    char path[] = "/tmp/accl-split-chain-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "kernel k(X: f32[N0], Y: out f32[N0]) {\n"
               "    main: for i0 in 0..N0 { Y[i0] = X[i0] * 2.0; }\n}\n"
               "schedule k for cpu {\n    assume N0 %% 8 == 0;\n    in main {\n"
               "        split i0 by 8 -> l0, l1;\n");
    int c = 2;
    for (int i = 0; i < 24; i++, c += 2)
        fprintf(f, "        split l%d by %d -> l%d, l%d;\n", c - 2, i < 14 ? factors[i] : 1, c, c + 1);
    fprintf(f, "    }\n}\n");
    fclose(f);
    Fixture fx;
    fixture_load_file(&fx, path, TARGET_CPU);
    unlink(path);
    IrFunc *fn = compile_kernel(&fx.compile, fx.prog->kernels[0], false, NULL);
    cr_assert_not_null(fn);
    fixture_free(&fx);
}
