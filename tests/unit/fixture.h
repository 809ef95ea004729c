/* Unit-test fixture: a source text through the real front end. */
#ifndef ACCL_TEST_FIXTURE_H
#define ACCL_TEST_FIXTURE_H

#include <stdio.h>

#include "lower/compile.h"
#include "parser/parse.h"
#include "sema/schedule.h"
#include "sema/sema.h"

typedef struct Fixture {
    Arena arena;
    Source src;
    Diag diag;
    Program *prog;
    Checked checked;
    FILE *errs;       /* diagnostics go here, not to the test's output */
    char *text;       /* fixture_load_file: the file's text */
    CompileCtx compile;  /* the checked program for lower/compile.h */
} Fixture;

/* Parses and checks text for target (TARGET_NONE: each schedule against its own);
 * the test fails on any diagnostic. */
void fixture_load(Fixture *fx, const char *text, Target target);
/* The file at path through the front end as a compile loads it for target:
 * parsed, checked, the legality checks too (compile_check_program); the test
 * fails on any diagnostic. */
void fixture_load_file(Fixture *fx, const char *path, Target target);
void fixture_free(Fixture *fx);

#endif
