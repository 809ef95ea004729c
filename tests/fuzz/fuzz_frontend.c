/* libFuzzer target: the front end and its checks on arbitrary bytes.
 *
 *   source -> parse_program -> sema_check -> legality_check
 *
 * Diagnostics go to /dev/null; everything lives in one arena freed at the end,
 * so LeakSanitizer sees any leak. A crash, a sanitizer report or a leak is a bug.
 * Built and run by `make fuzz` (see the Makefile). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower/passes.h"
#include "parser/parse.h"
#include "sema/sema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > UINT32_MAX - 1)
        return 0;
    /* The lexer needs a NUL sentinel after the text. */
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    FILE *sink = fopen("/dev/null", "w");
    if (!sink)
        abort();
    Arena arena;
    arena_init(&arena);
    Source src;
    source_init(&src, &arena, "fuzz.acc", text, (uint32_t)size);
    Diag diag;
    diag_init(&diag, &src, sink, false);
    Program *prog = parse_program(&src, &diag, &arena);
    if (diag.nerrors == 0) {
        /* No target: every schedule is checked for the target it names. */
        SemaOptions opt = {.target = TARGET_NONE};
        Checked checked;
        memset(&checked, 0, sizeof checked);
        if (sema_check(prog, &opt, &diag, &arena, &checked))
            legality_check(&checked, &diag);
    }
    diag_finish(&diag);
    arena_free(&arena);
    fclose(sink);
    free(text);
    return 0;
}
