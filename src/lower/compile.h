/* compile_kernel: a checked kernel through lowering, the pass list and, for
 * code generation, the GPU pass table (the GPU execution form) or the CPU
 * steps (src/lower/compile.c), verified after each pass and dumped on request; and the checks before it (--param, sema,
 * legality). The driver, the tests and the fuzzers all compile through here. */
#ifndef ACCL_COMPILE_H
#define ACCL_COMPILE_H

#include <stdbool.h>
#include <stdio.h>

#include "lower/passes.h"
#include "sema/schedule.h"
#include "sema/sema.h"

/* One checked program compiled for one target; errors go to diag. */
typedef struct CompileCtx {
    const Checked *checked;
    Target target;
    Diag *diag;
    Arena *arena;
} CompileCtx;

/* Dumps of the pass list: --dump=after-all, --dump=after:PASS. */
typedef struct DumpOptions {
    bool all;
    const char *after;      /* a pass name, or NULL */
    FILE *out;
} DumpOptions;

/* The --param overrides: each must name a param of a schedule that applies to
 * target, and hold a value of its set. False after a usage message (`accl:
 * error: --param ...`, standard error: the driver exits with its usage status). */
bool compile_check_params(const Program *p, Target target, const ParamOverride *params, int nparams);
/* The checks of a parsed program before lowering: sema, then legality. False
 * after diagnostics. */
bool compile_check_program(Program *p, const SemaOptions *opt, Diag *d, Arena *a, Checked *out);

/* Whether `name` names a pass of the pass list ("lower" included), a step of
 * the GPU pass table or a CPU step. */
bool compile_has_pass(const char *name);
/* Whether `name` names a step of the GPU pass table, or "spmd" (all of it). */
bool compile_gpu_has_step(const char *name);
/* Whether `name` names a CPU step (`version`). */
bool compile_cpu_has_step(const char *name);
/* Lowers kernel k for the target with its schedule and runs the pass list,
 * verifying after each pass; with codegen, then what the target's code
 * generator takes: the GPU execution form (compile_gpu) for a GPU target, the
 * CPU steps (compile_cpu) for the CPU (the interpreter takes neither). With
 * dump->after, stops after that pass. NULL after diagnostics. */
IrFunc *compile_kernel(const CompileCtx *c, const Kernel *k, bool codegen, const DumpOptions *dump);
/* The GPU execution form (IrLaunch in lower/ir.h) of f, the serial IR of a GPU
 * target: the GPU pass table, then simplify and dce, verified; prints it for
 * --dump=after:spmd, or one step's IR for --dump=after:STEP. False after
 * diagnostics. */
bool compile_gpu(const CompileCtx *c, IrFunc *f, const DumpOptions *dump);
/* The CPU steps over f, the IR of the pass list for the CPU, verified; prints
 * one step's IR for --dump=after:STEP. False after diagnostics. */
bool compile_cpu(const CompileCtx *c, IrFunc *f, const DumpOptions *dump);
/* Every check a compile for the target makes, writing nothing: each kernel
 * through compile_kernel, into the GPU execution form for a GPU target. Goes on
 * past a kernel with errors. False after diagnostics. */
bool compile_check(const CompileCtx *c);

#endif
