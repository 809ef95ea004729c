/* What the driver's commands share: loading a file through the front end,
 * the pass list, and output files replaced only on success. */
#ifndef ACCL_DRIVER_H
#define ACCL_DRIVER_H

#include <stdbool.h>
#include <stdio.h>

#include "lower/passes.h"
#include "parser/parse.h"
#include "sema/schedule.h"
#include "sema/sema.h"

enum { EXIT_INPUT = 1, EXIT_USAGE = 2, DRIVER_MAX_PARAMS = 64 };

typedef enum Color { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER } Color;

/* One input file through the front end: read, parsed, checked. */
typedef struct Frontend {
    Arena arena;
    Source src;
    Diag diag;
    char *text;
    Program *prog;
    Checked checked;
    Target target;          /* the actual target (cpu when not given) */
} Frontend;

/* How far frontend_load goes: read the file (for --emit=tokens), parse it
 * (--emit=ast), or run every check. */
typedef enum FrontendStage { FE_READ, FE_PARSE, FE_CHECK } FrontendStage;

/* Returns 0, or EXIT_INPUT after diagnostics, or EXIT_USAGE after a usage
 * message (a bad --param). Call frontend_free in every case. */
int frontend_load(Frontend *fe, const char *path, Target target, bool target_given,
                  const ParamOverride *params, int nparams, Color color, FrontendStage stage);
void frontend_free(Frontend *fe);
/* The kernel named `name`, or NULL. */
Kernel *frontend_kernel(const Frontend *fe, const char *name);

/* --param NAME=VALUE: fills *out (name malloc'd) or returns false. */
bool driver_parse_param(const char *s, ParamOverride *out);
bool driver_parse_int64(const char *s, int64_t *out);

/* Dumps of the pass list: --dump=after-all, --dump=after:PASS. */
typedef struct DumpOptions {
    bool all;
    const char *after;      /* a pass name, or NULL */
    FILE *out;
} DumpOptions;

/* Whether `name` names a pass of the pass list ("lower" included). */
bool pipeline_has_pass(const char *name);
/* Whether `name` names a step of the GPU pass table, or "spmd" (all of it). */
bool pipeline_gpu_has_step(const char *name);
/* Lowers kernel k for the front end's target with its schedule and runs the pass
 * list, verifying after each pass; with dump->after, stops after that pass.
 * NULL after diagnostics. */
IrFunc *pipeline_lower(Frontend *fe, const Kernel *k, const DumpOptions *dump);
/* The GPU execution form (IrLaunch in lower/ir.h) of f, which pipeline_lower
 * returned for a GPU target: spmd, then simplify and dce, verified; prints it
 * for --dump=after:spmd. False after diagnostics. */
bool pipeline_gpu(Frontend *fe, IrFunc *f, const DumpOptions *dump);
/* Every check a compile for the front end's target makes, writing nothing: each
 * kernel through pipeline_lower and, for a GPU target, pipeline_gpu. Goes on past
 * a kernel with errors. False after diagnostics. */
bool pipeline_check(Frontend *fe);

/* Output written to a temporary file beside the path and renamed on success. */
typedef struct Output {
    FILE *f;
    char *tmp;
    const char *path;
} Output;

bool output_open(Output *out, const char *path);  /* path NULL: stdout */
bool output_close(Output *out, bool ok);

/* `accl run ...` (src/driver/run.c); argv[0] is "run". */
int run_main(int argc, char **argv);
/* `accl bench ...` (src/driver/run.c); argv[0] is "bench". */
int bench_main(int argc, char **argv);

#endif
