/* The pass list: the whole lowering pipeline, in order, in one place.
 *
 *   lower -> schedule-loops -> reductions -> fuse-nests -> caches -> assume
 *         -> simplify -> hoist -> strength-reduce -> dce -> flatten -> simplify
 *
 * Each pass is logged by name in dumps; a pass that changed nothing says so.
 * --dump=after:PASS stops the pipeline after PASS (its first run), so a golden
 * test of one pass does not change when a later pass does.
 * The verifier runs after every pass unless built with NDEBUG.
 *
 * GPU code generation and the emulator then take the GPU execution form:
 *
 *   pipeline_gpu: spmd -> simplify -> dce
 *
 * which --dump=after:spmd shows (GPU targets; it is not in --dump=after-all).
 *
 * pipeline_check (--check, and a compile with nothing to write) runs both for
 * every kernel: every check a compile makes of the input. Emission adds none
 * (its errors are internal ones, or ptxas failing on PTX that LLVM wrote). */
#include <string.h>

#include "driver/driver.h"

static const IrPass pass_list[] = {
    {"schedule-loops", pass_schedule_loops},
    {"reductions", pass_reductions},
    {"fuse-nests", pass_fuse_nests},
    {"caches", pass_caches},
    {"assume", pass_assume},
    {"simplify", pass_simplify},
    {"hoist", pass_hoist},
    {"strength-reduce", pass_strength_reduce},
    {"dce", pass_dce},
    {"flatten", pass_flatten},
    {"simplify", pass_simplify},
};

enum { NPASSES = sizeof pass_list / sizeof pass_list[0] };

/* The GPU pass table: the steps of the GPU execution form (src/lower/spmd.c),
 * in order; `spmd` names the whole (the form after simplify and dce). */
static const IrPass gpu_steps[] = {
    {"grid", spmd_step_grid},
    {"guards", spmd_step_guards},
    {"shared", spmd_step_shared},
    {"copies", spmd_step_copies},
    {"shuffles", spmd_step_shuffles},
    {"barriers", spmd_step_barriers},
    {"pipeline", spmd_step_pipeline},
    {"threads", spmd_step_threads},
    {"full-tiles", spmd_step_full_tiles},
    {"layout", spmd_step_layout},
};

enum { NGPU_STEPS = sizeof gpu_steps / sizeof gpu_steps[0] };

bool pipeline_has_pass(const char *name)
{
    if (strcmp(name, "lower") == 0 || pipeline_gpu_has_step(name))
        return true;
    for (int i = 0; i < NPASSES; i++)
        if (strcmp(pass_list[i].name, name) == 0)
            return true;
    return false;
}

bool pipeline_gpu_has_step(const char *name)
{
    if (strcmp(name, "spmd") == 0)
        return true;
    for (int i = 0; i < NGPU_STEPS; i++)
        if (strcmp(gpu_steps[i].name, name) == 0)
            return true;
    return false;
}

static void dump_after(const DumpOptions *dump, const char *pass, bool changed, const IrFunc *f)
{
    if (!dump || !dump->out || !(dump->all || (dump->after && strcmp(dump->after, pass) == 0)))
        return;
    if (!changed && strcmp(pass, "lower") != 0) {
        fprintf(dump->out, "-- after %s: %s unchanged\n", pass, f->kernel->name.name);
        if (dump->all)
            return;
    } else {
        fprintf(dump->out, "-- after %s:\n", pass);
    }
    ir_print(dump->out, f);
}

/* A broken invariant is a compiler bug: say so plainly, at the kernel. */
static bool verified(Frontend *fe, const IrFunc *f, const char *pass)
{
#ifdef NDEBUG
    (void)fe, (void)f, (void)pass;
    return true;
#else
    const char *err = ir_verify(f);
    if (!err)
        return true;
    diag_error(&fe->diag, f->kernel->name.span,
               "internal error: the IR of '%s' is invalid after pass '%s': %s",
               f->kernel->name.name, pass, err);
    return false;
#endif
}

IrFunc *pipeline_lower(Frontend *fe, const Kernel *k, const DumpOptions *dump)
{
    Schedule *s = sema_select_schedule(fe->prog, (Kernel *)k, fe->target);
    const SchedRecord *rec = NULL;
    for (int i = 0; s && i < fe->checked.nrecords; i++)
        if (fe->checked.records[i]->schedule == s)
            rec = fe->checked.records[i];
    IrFunc *f = lower_kernel(&fe->checked, k, fe->target, s, &fe->arena);
    dump_after(dump, "lower", true, f);
    if (!verified(fe, f, "lower"))
        return NULL;
    if (dump && dump->after && strcmp(dump->after, "lower") == 0)
        return f;
    PassCtx ctx = {.diag = &fe->diag, .checked = &fe->checked, .record = rec, .arena = &fe->arena};
    for (int i = 0; i < NPASSES; i++) {
        int errors = fe->diag.nerrors;
        bool changed = pass_list[i].run(f, &ctx);
        if (fe->diag.nerrors > errors)
            return NULL;
        dump_after(dump, pass_list[i].name, changed, f);
        if (!verified(fe, f, pass_list[i].name))
            return NULL;
        if (dump && dump->after && strcmp(dump->after, pass_list[i].name) == 0)
            return f;
    }
    return f;
}

bool pipeline_gpu(Frontend *fe, IrFunc *f, const DumpOptions *dump)
{
    PassCtx ctx = {.diag = &fe->diag, .checked = &fe->checked, .arena = &fe->arena};
    int errors = fe->diag.nerrors;
    bool stopped = false;
    for (int i = 0; i < NGPU_STEPS && !stopped; i++) {
        bool changed = gpu_steps[i].run(f, &ctx);
        /* on after errors: the later steps report the rest of the launch's */
        if (fe->diag.nerrors > errors)
            continue;
        stopped = dump && dump->after && strcmp(dump->after, gpu_steps[i].name) == 0;
        if (stopped)
            dump_after(dump, gpu_steps[i].name, changed, f);
        if (!verified(fe, f, gpu_steps[i].name))
            break;
    }
    spmd_free(&ctx);
    if (stopped || fe->diag.nerrors > errors)
        return fe->diag.nerrors == errors;
    pass_simplify(f, &ctx);
    pass_dce(f, &ctx);
    if (fe->diag.nerrors > errors || !verified(fe, f, "spmd"))
        return false;
    if (dump && dump->out && dump->after && strcmp(dump->after, "spmd") == 0) {
        fprintf(dump->out, "-- after spmd:\n");
        ir_print(dump->out, f);
    }
    return true;
}

bool pipeline_check(Frontend *fe)
{
    bool ok = true;
    /* On past a kernel with errors: each kernel is lowered on its own, so the
     * next one's errors are its own, not a cascade (a compile stops at the first). */
    for (int i = 0; i < fe->prog->nkernels; i++) {
        IrFunc *f = pipeline_lower(fe, fe->prog->kernels[i], NULL);
        if (!f || (target_is_gpu(fe->target) && !pipeline_gpu(fe, f, NULL)))
            ok = false;
    }
    return ok;
}
