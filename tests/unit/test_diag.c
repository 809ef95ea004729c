/* Diagnostics: format, caret, notes, the error cap, suggestions. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "util/diag.h"

/* A diagnostics context writing into a memory buffer. */
typedef struct Capture {
    Arena arena;
    Source src;
    Diag diag;
    FILE *f;
    char *buf;
    size_t len;
} Capture;

static void cap_init(Capture *c, const char *text, bool color)
{
    arena_init(&c->arena);
    source_init(&c->src, &c->arena, "k.acc", text, (uint32_t)strlen(text));
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    cr_assert_not_null(c->f);
    diag_init(&c->diag, &c->src, c->f, color);
}

/* Flushes and returns what was written so far. */
static const char *cap_text(Capture *c)
{
    fflush(c->f);
    return c->buf;
}

static void cap_free(Capture *c)
{
    fclose(c->f);
    free(c->buf);
    arena_free(&c->arena);
}

static Span span(uint32_t lo, uint32_t hi) { return (Span){lo, hi}; }

Test(diag, source_positions)
{
    Capture c;
    cap_init(&c, "ab\ncd\n\nef", false);
    int line, col;
    source_position(&c.src, 0, &line, &col);
    cr_assert(line == 1 && col == 1);
    source_position(&c.src, 4, &line, &col);
    cr_assert(line == 2 && col == 2);
    source_position(&c.src, 6, &line, &col);
    cr_assert(line == 3 && col == 1);
    source_position(&c.src, 8, &line, &col);
    cr_assert(line == 4 && col == 2);
    source_position(&c.src, 1000, &line, &col);   /* clamped to the end */
    cr_assert(line == 4 && col == 3);
    cr_assert_eq(c.src.nlines, 4);
    cap_free(&c);
}

Test(diag, error_format_and_caret)
{
    Capture c;
    cap_init(&c, "kernel k() {\n    x = y;\n}\n", false);
    diag_error(&c.diag, span(17, 18), "unknown name '%s'", "x");
    cr_assert_str_eq(cap_text(&c),
                     "k.acc:2:5: error: unknown name 'x'\n"
                     "        x = y;\n"
                     "        ^\n");
    cr_assert_eq(c.diag.nerrors, 1);
    cap_free(&c);
}

Test(diag, caret_covers_the_span)
{
    Capture c;
    cap_init(&c, "let total = 1;", false);
    diag_error(&c.diag, span(4, 9), "unused");
    cr_assert_str_eq(cap_text(&c),
                     "k.acc:1:5: error: unused\n"
                     "    let total = 1;\n"
                     "        ^~~~~\n");
    cap_free(&c);
}

Test(diag, caret_keeps_tabs)
{
    Capture c;
    cap_init(&c, "\tx\ty;", false);
    diag_error(&c.diag, span(3, 4), "here");
    cr_assert_str_eq(cap_text(&c),
                     "k.acc:1:4: error: here\n"
                     "    \tx\ty;\n"
                     "    \t \t^\n");
    cap_free(&c);
}

Test(diag, crlf_line_end_is_not_shown)
{
    Capture c;
    cap_init(&c, "a b\r\nc", false);
    diag_error(&c.diag, span(2, 3), "b");
    cr_assert_str_eq(cap_text(&c), "k.acc:1:3: error: b\n    a b\n      ^\n");
    cap_free(&c);
}

Test(diag, span_at_end_of_file)
{
    Capture c;
    cap_init(&c, "kernel", false);
    diag_error(&c.diag, span(6, 6), "unexpected end of file");
    cr_assert_str_eq(cap_text(&c),
                     "k.acc:1:7: error: unexpected end of file\n"
                     "    kernel\n"
                     "          ^\n");
    cap_free(&c);
}

Test(diag, control_bytes_are_masked)
{
    Capture c;
    cap_init(&c, "a\x01\x1b[31mb", false);
    diag_error(&c.diag, span(1, 2), "byte");
    const char *out = cap_text(&c);
    cr_assert_null(strchr(out, '\x1b'));
    cr_assert_null(strchr(out, '\x01'));
    cap_free(&c);
}

Test(diag, long_lines_are_windowed)
{
    char text[2001];
    memset(text, 'x', 2000);
    text[2000] = '\0';
    Capture c;
    cap_init(&c, text, false);
    diag_error(&c.diag, span(1500, 1501), "far");
    const char *out = cap_text(&c);
    cr_assert(strstr(out, "k.acc:1:1501: error: far\n") == out);
    const char *line = strchr(out, '\n') + 1;
    const char *end = strchr(line, '\n');
    cr_assert_leq(end - line, 4 + 160);
    cap_free(&c);
}

Test(diag, notes_follow_their_error)
{
    Capture c;
    cap_init(&c, "var m: f32[R];\nvar m: f32[R];\n", false);
    diag_error(&c.diag, span(19, 20), "'m' is declared twice");
    diag_note(&c.diag, span(4, 5), "first declared here");
    cr_assert_str_eq(cap_text(&c),
                     "k.acc:2:5: error: 'm' is declared twice\n"
                     "    var m: f32[R];\n"
                     "        ^\n"
                     "k.acc:1:5: note: first declared here\n"
                     "    var m: f32[R];\n"
                     "        ^\n");
    cr_assert_eq(c.diag.nerrors, 1);
    cap_free(&c);
}

Test(diag, warnings_are_counted_apart)
{
    Capture c;
    cap_init(&c, "x", false);
    diag_warning(&c.diag, span(0, 1), "odd");
    cr_assert_eq(c.diag.nerrors, 0);
    cr_assert_eq(c.diag.nwarnings, 1);
    cr_assert(strstr(cap_text(&c), "k.acc:1:1: warning: odd\n") != NULL);
    cap_free(&c);
}

static int count(const char *s, const char *sub)
{
    int n = 0;
    for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub))
        n++;
    return n;
}

Test(diag, error_cap_and_totals)
{
    Capture c;
    cap_init(&c, "x\n", false);
    for (int i = 0; i < 25; i++) {
        diag_error(&c.diag, span(0, 1), "error %d", i);
        diag_note(&c.diag, span(0, 1), "note %d", i);
    }
    diag_finish(&c.diag);
    const char *out = cap_text(&c);
    cr_assert_eq(c.diag.nerrors, 25);
    cr_assert_eq(count(out, ": error: "), DIAG_MAX_ERRORS);
    cr_assert_eq(count(out, ": note: "), DIAG_MAX_ERRORS, "notes of hidden errors are hidden");
    cr_assert(strstr(out, "error 19\n") != NULL);
    cr_assert(strstr(out, "error 20\n") == NULL);
    cr_assert(strstr(out, "k.acc: 5 more errors not shown\n") != NULL);
    cr_assert(strstr(out, "25 errors generated.\n") != NULL);
    cap_free(&c);
}

Test(diag, one_error_has_no_total)
{
    Capture c;
    cap_init(&c, "x\n", false);
    diag_error(&c.diag, span(0, 1), "only");
    size_t before = strlen(cap_text(&c));
    diag_finish(&c.diag);
    cr_assert_eq(strlen(cap_text(&c)), before);
    cap_free(&c);
}

Test(diag, null_output_counts_silently)
{
    Arena a;
    arena_init(&a);
    Source s;
    source_init(&s, &a, "k.acc", "x", 1);
    Diag d;
    diag_init(&d, &s, NULL, false);
    diag_error(&d, span(0, 1), "quiet");
    diag_finish(&d);
    cr_assert_eq(d.nerrors, 1);
    arena_free(&a);
}

Test(diag, colour_only_when_asked)
{
    Capture c;
    cap_init(&c, "x\n", true);
    diag_error(&c.diag, span(0, 1), "red");
    cr_assert(strstr(cap_text(&c), "\033[") != NULL);
    cap_free(&c);
    cap_init(&c, "x\n", false);
    diag_error(&c.diag, span(0, 1), "plain");
    cr_assert(strstr(cap_text(&c), "\033[") == NULL);
    cap_free(&c);
}

Test(diag, suggest_closest_name)
{
    const char *names[] = {"matmul", "softmax", "layernorm"};
    cr_assert_str_eq(diag_suggest("matmull", names, 3), "matmul");
    cr_assert_str_eq(diag_suggest("sofmax", names, 3), "softmax");
    cr_assert_str_eq(diag_suggest("layrenorm", names, 3), "layernorm");
    cr_assert_null(diag_suggest("conv2d", names, 3));
}

Test(diag, suggest_limits)
{
    const char *loops[] = {"i", "j", "io", NULL, "ii"};
    /* Exact matches are not suggestions; short names allow one edit. */
    cr_assert_str_eq(diag_suggest("i", loops, 2), "j");
    cr_assert_str_eq(diag_suggest("ix", loops, 5), "i");
    cr_assert_null(diag_suggest("abc", loops, 5));
    cr_assert_null(diag_suggest("x", NULL, 0));
    const char *clauses[] = {"vectorize", "parallel"};
    cr_assert_str_eq(diag_suggest("vectorise", clauses, 2), "vectorize");
    cr_assert_str_eq(diag_suggest("paralel", clauses, 2), "parallel");
}
