/* Diagnostics: one context per compilation; every stage reports through it.
 *
 *   file:line:col: error: message
 *       source line
 *       ^~~~~
 *   file:line:col: note: first defined here
 */
#ifndef ACCL_DIAG_H
#define ACCL_DIAG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/arena.h"

/* A half-open byte range [lo, hi) of the source. */
typedef struct Span {
    uint32_t lo, hi;
} Span;

typedef struct Source {
    const char *name;   /* as given on the command line; "<stdin>" for "-" */
    const char *text;   /* NUL-terminated; len excludes the NUL */
    uint32_t len;
    uint32_t *line_starts;
    uint32_t nlines;
} Source;

typedef enum DiagLevel { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE } DiagLevel;

enum { DIAG_MAX_ERRORS = 20 };

typedef struct Diag {
    const Source *src;
    FILE *out;
    bool color;
    int nerrors;        /* all errors, shown or not */
    int nwarnings;
    bool last_shown;    /* whether notes attach to a shown diagnostic */
} Diag;

/* Builds the line table; text must stay alive as long as the Source. */
void source_init(Source *s, Arena *a, const char *name, const char *text, uint32_t len);
/* 1-based line and column (in bytes) of an offset. */
void source_position(const Source *s, uint32_t off, int *line, int *col);

void diag_init(Diag *d, const Source *src, FILE *out, bool color);
void diag_report(Diag *d, DiagLevel level, Span span, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define diag_error(d, span, ...) diag_report((d), DIAG_ERROR, (span), __VA_ARGS__)
#define diag_warning(d, span, ...) diag_report((d), DIAG_WARNING, (span), __VA_ARGS__)
#define diag_note(d, span, ...) diag_report((d), DIAG_NOTE, (span), __VA_ARGS__)
/* Prints "N errors generated" style totals, including errors not shown. */
void diag_finish(Diag *d);

/* Length of the valid UTF-8 sequence at p (before end): 1 for ASCII, 0 when
 * the bytes are not valid UTF-8 (overlong forms and surrogates included). */
int utf8_length(const unsigned char *p, const unsigned char *end);

/* Returns the candidate closest to name (edit distance at most a third of its
 * length, at least 1), or NULL. Used for "did you mean" notes. */
const char *diag_suggest(const char *name, const char *const *candidates, int n);

#endif
