/* What the driver's commands share: loading a file through the front end
 * (then lower/compile.h), and output files replaced only on success. */
#ifndef ACCL_DRIVER_H
#define ACCL_DRIVER_H

#include <stdbool.h>
#include <stdio.h>

#include "lower/compile.h"
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
    CompileCtx compile;     /* the checked program for lower/compile.h */
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
