/* The lowering entry and the passes over the loop IR. The pass list
 * (compile_kernel, src/lower/compile.c) runs them in order; each is one file
 * of src/lower/. */
#ifndef ACCL_PASSES_H
#define ACCL_PASSES_H

#include <stdbool.h>

#include "lower/ir.h"
#include "sema/schedule.h"
#include "util/diag.h"

typedef struct SpmdRun SpmdRun;

typedef struct PassCtx {
    Diag *diag;                /* errors at the clause that cannot be applied */
    const Checked *checked;
    const SchedRecord *record; /* the schedule applied to this kernel, NULL for defaults */
    Arena *arena;
    SpmdRun *spmd;             /* the GPU steps' launches, from spmd_begin to spmd_end */
} PassCtx;

/* A pass returns whether it changed the function; it reports errors through
 * ctx->diag (the driver stops after a pass that reported one). */
typedef bool (*IrPassFn)(IrFunc *f, PassCtx *ctx);

typedef struct IrPass {
    const char *name;          /* as in --dump=after:NAME */
    IrPassFn run;
} IrPass;

/* lower.c: the kernel's nests as written, one loop per index, statements in
 * the kernel's own types (f16/bf16 reads widened to f32, stores rounded). */
IrFunc *lower_kernel(const Checked *c, const Kernel *k, Target t, const Schedule *s, Arena *a);

bool pass_schedule_loops(IrFunc *f, PassCtx *ctx);   /* loops.c: split, tile, reorder, fuse,
                                                        kinds, bind, default GPU mapping, guards */
bool pass_reductions(IrFunc *f, PassCtx *ctx);       /* reduce.c: private partials, fixed-order combine */
bool pass_fuse_nests(IrFunc *f, PassCtx *ctx);       /* fuse.c: fuse P into R at L */
bool pass_caches(IrFunc *f, PassCtx *ctx);           /* cache.c: cache X at L, pipeline */
bool pass_assume(IrFunc *f, PassCtx *ctx);           /* assume.c: guards the assumptions make true */
bool pass_simplify(IrFunc *f, PassCtx *ctx);         /* simplify.c: folding, algebra, proven guards */
bool pass_hoist(IrFunc *f, PassCtx *ctx);            /* hoist.c: loop-invariant lets and guards */
bool pass_strength_reduce(IrFunc *f, PassCtx *ctx);  /* strength.c: index arithmetic */
bool pass_dce(IrFunc *f, PassCtx *ctx);              /* dce.c: dead lets, empty loops and ifs */
bool pass_flatten(IrFunc *f, PassCtx *ctx);          /* flatten.c: one index per access */

/* version.c: loop versioning, `if (C) { U without guards } else { U }` for
 * the loops U a rule selects, C the guards at their worst corner. */
typedef enum VersionRule {
    VERSION_FULL_TILES,   /* GPU: the outermost unrolled or vectorized loops */
    VERSION_INNERMOST,    /* CPU: innermost serial loops outside vectorized ones */
} VersionRule;
/* Versions the loops of b the rule selects; whether it versioned any. */
bool version_loops(IrFunc *f, IrBlock *b, VersionRule rule);
/* The CPU step after the pass list (compile_cpu): version_loops over the
 * body with VERSION_INNERMOST. Only the CPU code generator takes it. */
bool pass_version(IrFunc *f, PassCtx *ctx);

/* spmd.c: the steps of the GPU execution form (IrLaunch in ir.h) of a GPU
 * target's IR after the pass list, in this order (the GPU pass table). Not in
 * the pass list: code generation and the emulator take this form, the
 * interpreter the serial IR. spmd_begin starts (false: f is not a GPU
 * target's serial IR); then, while spmd_next_launch takes the next launch
 * (false: none left, or the previous one reported errors), the steps run on
 * that launch in order. After a step's errors the later ones still run, for
 * what the same launch can report (shared memory over the limit).
 * spmd_end releases what the steps kept (after errors too) and, when every
 * launch went through every step (whole) without errors, puts f in the GPU
 * execution form; it says whether it did. Errors at the clause: barriers or
 * spread copies not every thread reaches, shared memory over the target's
 * limit. */
bool spmd_begin(IrFunc *f, PassCtx *ctx);
bool spmd_next_launch(IrFunc *f, PassCtx *ctx);
bool spmd_step_grid(IrFunc *f, PassCtx *ctx);       /* the launch: grid, roles, the tid loop */
bool spmd_step_guards(IrFunc *f, PassCtx *ctx);     /* thread-dependent guards sunk */
bool spmd_step_shared(IrFunc *f, PassCtx *ctx);     /* per-block buffers to shared memory */
bool spmd_step_copies(IrFunc *f, PassCtx *ctx);     /* spread copies, once-guarded writes */
bool spmd_step_shuffles(IrFunc *f, PassCtx *ctx);   /* warp shuffles for thread.x reductions */
bool spmd_step_barriers(IrFunc *f, PassCtx *ctx);   /* barriers between conflicting phases */
bool spmd_step_pipeline(IrFunc *f, PassCtx *ctx);   /* caches filled stages ahead */
bool spmd_step_threads(IrFunc *f, PassCtx *ctx);    /* thread loops become lets of tid */
bool spmd_step_full_tiles(IrFunc *f, PassCtx *ctx); /* unrolled nests without proven guards */
bool spmd_step_layout(IrFunc *f, PassCtx *ctx);     /* shared offsets, the limit */
bool spmd_end(IrFunc *f, PassCtx *ctx, bool whole);

#endif
