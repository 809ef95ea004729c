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
 * GPU code generation and the emulator then take the GPU execution form, the
 * GPU pass table (src/lower/spmd.c), then simplify and dce:
 *
 *   spmd: grid -> guards -> shared -> copies -> shuffles -> barriers
 *         -> pipeline -> threads -> full-tiles -> layout -> simplify -> dce
 *
 * which --dump=after:spmd shows, and --dump=after:STEP one step (GPU targets;
 * they are not in --dump=after-all).
 *
 * CPU code generation takes the CPU steps after the pass list:
 *
 *   cpu: version
 *
 * (--dump=after:version; not in --dump=after-all). The steps change nothing
 * the interpreter needs, so it and --emit=ir take the pass list's IR.
 *
 * compile_check (--check, and a compile with nothing to write) runs both for
 * every kernel: every check a compile makes of the input. Emission adds none
 * (its errors are internal ones, or ptxas failing on PTX that LLVM wrote). */
#include <string.h>

#include "lower/compile.h"

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

/* The GPU pass table: the steps of the GPU execution form, in order. */
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

/* The CPU steps: what the CPU code generator takes beyond the pass list. */
static const IrPass cpu_steps[] = {
    {"version", pass_version},
};

enum { NCPU_STEPS = sizeof cpu_steps / sizeof cpu_steps[0] };

static bool names_one(const IrPass *table, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(table[i].name, name) == 0)
            return true;
    return false;
}

bool compile_has_pass(const char *name)
{
    return strcmp(name, "lower") == 0 || names_one(pass_list, NPASSES, name) ||
           compile_gpu_has_step(name) || compile_cpu_has_step(name);
}

bool compile_gpu_has_step(const char *name)
{
    return strcmp(name, "spmd") == 0 || names_one(gpu_steps, NGPU_STEPS, name);
}

bool compile_cpu_has_step(const char *name) { return names_one(cpu_steps, NCPU_STEPS, name); }

static bool dump_stops(const DumpOptions *dump, const char *pass)
{
    return dump && dump->after && strcmp(dump->after, pass) == 0;
}

static void dump_after(const DumpOptions *dump, const char *pass, bool changed, const IrFunc *f)
{
    if (!dump || !dump->out || !(dump->all || dump_stops(dump, pass)))
        return;
    if (!changed && strcmp(pass, "lower") != 0) {
        fprintf(dump->out, "-- after %s: %s unchanged\n", pass, f->name);
        if (dump->all)
            return;
    } else {
        fprintf(dump->out, "-- after %s:\n", pass);
    }
    ir_print(dump->out, f);
}

/* A broken invariant is a compiler bug: say so plainly, at the kernel. */
static bool verified(const CompileCtx *c, const IrFunc *f, const char *pass)
{
#ifdef NDEBUG
    (void)c, (void)f, (void)pass;
    return true;
#else
    const char *err = ir_verify(f);
    if (!err)
        return true;
    diag_error(c->diag, f->span,
               "internal error: the IR of '%s' is invalid after pass '%s': %s",
               f->name, pass, err);
    return false;
#endif
}

/* lower and the pass list; NULL after diagnostics. */
static IrFunc *compile_serial(const CompileCtx *c, const Kernel *k, const DumpOptions *dump)
{
    Schedule *s = sema_select_schedule(c->checked->program, (Kernel *)k, c->target);
    const SchedRecord *rec = NULL;
    for (int i = 0; s && i < c->checked->nrecords; i++)
        if (c->checked->records[i]->schedule == s)
            rec = c->checked->records[i];
    IrFunc *f = lower_kernel(c->checked, k, c->target, s, c->arena);
    dump_after(dump, "lower", true, f);
    if (!verified(c, f, "lower"))
        return NULL;
    if (dump_stops(dump, "lower"))
        return f;
    PassCtx ctx = {.diag = c->diag, .checked = c->checked, .record = rec, .arena = c->arena};
    for (int i = 0; i < NPASSES; i++) {
        int errors = c->diag->nerrors;
        bool changed = pass_list[i].run(f, &ctx);
        if (c->diag->nerrors > errors)
            return NULL;
        dump_after(dump, pass_list[i].name, changed, f);
        if (!verified(c, f, pass_list[i].name))
            return NULL;
        if (dump_stops(dump, pass_list[i].name))
            return f;
    }
    return f;
}

IrFunc *compile_kernel(const CompileCtx *c, const Kernel *k, bool codegen, const DumpOptions *dump)
{
    IrFunc *f = compile_serial(c, k, dump);
    if (!f || !codegen)
        return f;
    bool ok = target_is_gpu(c->target) ? compile_gpu(c, f, dump) : compile_cpu(c, f, dump);
    return ok ? f : NULL;
}

bool compile_cpu(const CompileCtx *c, IrFunc *f, const DumpOptions *dump)
{
    PassCtx ctx = {.diag = c->diag, .checked = c->checked, .arena = c->arena};
    for (int i = 0; i < NCPU_STEPS; i++) {
        bool changed = cpu_steps[i].run(f, &ctx);
        if (!verified(c, f, cpu_steps[i].name))
            return false;
        if (dump_stops(dump, cpu_steps[i].name)) {
            dump_after(dump, cpu_steps[i].name, changed, f);
            return true;
        }
    }
    return true;
}

/* The GPU step --dump=after:STEP names, or -1. */
static int gpu_step_stop(const DumpOptions *dump)
{
    for (int i = 0; i < NGPU_STEPS; i++)
        if (dump_stops(dump, gpu_steps[i].name))
            return i;
    return -1;
}

bool compile_gpu(const CompileCtx *c, IrFunc *f, const DumpOptions *dump)
{
    PassCtx ctx = {.diag = c->diag, .checked = c->checked, .arena = c->arena};
    int errors = c->diag->nerrors, stop = gpu_step_stop(dump);
    int nsteps = stop >= 0 ? stop + 1 : NGPU_STEPS;
    bool ok = spmd_begin(f, &ctx);
    /* Launch by launch, as spmd.c says: each through the steps, in order. The
     * verifier runs after each step while no error was reported. */
    while (ok && spmd_next_launch(f, &ctx))
        for (int i = 0; i < nsteps && ok; i++) {
            gpu_steps[i].run(f, &ctx);
            ok = c->diag->nerrors > errors || verified(c, f, gpu_steps[i].name);
        }
    spmd_end(f, &ctx, nsteps == NGPU_STEPS);
    if (c->diag->nerrors > errors)
        return false;
    if (stop >= 0) {
        dump_after(dump, gpu_steps[stop].name, true, f);
        return true;
    }
    pass_simplify(f, &ctx);
    pass_dce(f, &ctx);
    if (c->diag->nerrors > errors || !verified(c, f, "spmd"))
        return false;
    if (dump && dump->out && dump_stops(dump, "spmd")) {
        fprintf(dump->out, "-- after spmd:\n");
        ir_print(dump->out, f);
    }
    return true;
}

bool compile_check(const CompileCtx *c)
{
    bool ok = true;
    /* On past a kernel with errors: each kernel is lowered on its own, so the
     * next one's errors are its own, not a cascade (a compile stops at the first). */
    const Program *p = c->checked->program;
    for (int i = 0; i < p->nkernels; i++)
        if (!compile_kernel(c, p->kernels[i], true, NULL))
            ok = false;
    return ok;
}

bool compile_check_params(const Program *p, Target target, const ParamOverride *params, int nparams)
{
    for (int i = 0; i < nparams; i++) {
        const ParamOverride *ov = &params[i];
        bool found = false;
        for (int s = 0; s < p->nschedules && !found; s++) {
            Schedule *sc = p->schedules[s];
            char name[64];
            snprintf(name, sizeof name, "%s:%s", sc->vendor.name, sc->arch.name ? sc->arch.name : "");
            Target written = sema_parse_target(sc->arch.name ? name : sc->vendor.name);
            if (written == TARGET_NONE || !sema_schedule_applies(written, target))
                continue;
            for (int j = 0; j < sc->nparams; j++) {
                SchedParam *sp = sc->params[j];
                if (strcmp(sp->name.name, ov->name) != 0)
                    continue;
                found = true;
                if (!sp->set)
                    continue;
                bool in_set = false;
                for (int k = 0; k < sp->nset; k++)
                    in_set |= sp->set[k] == ov->value;
                if (!in_set) {
                    fprintf(stderr, "accl: error: --param %s=%lld is not in the set of '%s' {",
                            ov->name, (long long)ov->value, ov->name);
                    for (int k = 0; k < sp->nset; k++)
                        fprintf(stderr, "%s%lld", k ? ", " : "", (long long)sp->set[k]);
                    fputs("}\n", stderr);
                    return false;
                }
            }
        }
        if (!found) {
            char tn[32];
            fprintf(stderr, "accl: error: --param %s: no schedule for target %s has a param '%s'\n",
                    ov->name, target_spelling(target, tn, sizeof tn), ov->name);
            return false;
        }
    }
    return true;
}

bool compile_check_program(Program *p, const SemaOptions *opt, Diag *d, Arena *a, Checked *out)
{
    return sema_check(p, opt, d, a, out) && legality_check(out, d);
}
