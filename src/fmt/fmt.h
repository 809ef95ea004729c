/* The formatter: the canonical layout of lang/SPEC.md (Layout).
 *
 * It re-prints the lexer's token stream, comments included (TK_COMMENT
 * trivia), not the AST, so every comment keeps its place; only whitespace and
 * line breaks change. The caller parses the file first: fmt_source expects a
 * source that lexes and parses without errors. */
#ifndef ACCL_FMT_H
#define ACCL_FMT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"
#include "util/diag.h"

/* Sets *text (malloc'd, NUL-terminated; the caller frees it) and *len to the
 * formatted source. Then lexes the result and checks that it has the same
 * tokens as src (same kinds and spellings, comments up to trailing
 * whitespace); returns false when it does not, which is a formatter bug
 * (*text is then NULL). */
bool fmt_source(const Source *src, Arena *arena, char **text, size_t *len);

#endif
