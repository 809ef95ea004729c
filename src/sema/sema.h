/* Semantic checks: names, types, shapes, bounds, write-before-read, reductions,
 * and the schedule checks that need no loop IR. The AST is annotated in place
 * (the fields marked "sema:" in ast.h). */
#ifndef ACCL_SEMA_H
#define ACCL_SEMA_H

#include <stdbool.h>
#include <stdio.h>

#include "parser/ast.h"
#include "util/diag.h"

/* --param NAME=VALUE; the driver has already checked that each names a param
 * of a schedule that applies to the target and that the value is in its set. */
typedef struct ParamOverride {
    const char *name;
    int64_t value;
} ParamOverride;

typedef struct SemaOptions {
    Target target;                 /* the actual target (--target), TARGET_NONE when not given */
    const ParamOverride *params;
    int nparams;
} SemaOptions;

typedef struct SchedRecord SchedRecord;   /* schedule.h */

typedef struct Checked {
    Program *program;
    SchedRecord **records;   /* one per schedule, same order as program->schedules */
    int nrecords;
} Checked;

/* Runs every check; returns false when an error was reported. */
bool sema_check(Program *p, const SemaOptions *opt, Diag *d, Arena *a, Checked *out);

/* Parses "cpu", "nvidia:sm_80", "amd:gfx942" (also "nvidia(sm_80)"); TARGET_NONE if unknown. */
Target sema_parse_target(const char *s);
/* Whether a schedule written for `written` applies when compiling for `actual`
 * (Nvidia: highest sm not above; sm_90a only on sm_90a; AMD and CPU: exact). */
bool sema_schedule_applies(Target written, Target actual);
/* The schedule of kernel k used for target t, or NULL (the default schedule). */
Schedule *sema_select_schedule(Program *p, Kernel *k, Target t);

#endif
