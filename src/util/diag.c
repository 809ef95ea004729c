#include "util/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void source_init(Source *s, Arena *a, const char *name, const char *text, uint32_t len)
{
    s->name = name;
    s->text = text;
    s->len = len;
    uint32_t n = 1;
    for (uint32_t i = 0; i < len; i++)
        n += text[i] == '\n';
    s->line_starts = ARENA_ARRAY(a, uint32_t, n);
    s->line_starts[0] = 0;
    uint32_t k = 1;
    for (uint32_t i = 0; i < len; i++)
        if (text[i] == '\n')
            s->line_starts[k++] = i + 1;
    s->nlines = n;
}

static uint32_t line_index(const Source *s, uint32_t off)
{
    uint32_t lo = 0, hi = s->nlines;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (s->line_starts[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

void source_position(const Source *s, uint32_t off, int *line, int *col)
{
    if (off > s->len)
        off = s->len;
    uint32_t li = line_index(s, off);
    *line = (int)li + 1;
    *col = (int)(off - s->line_starts[li]) + 1;
}

void diag_init(Diag *d, const Source *src, FILE *out, bool color)
{
    memset(d, 0, sizeof *d);
    d->src = src;
    d->out = out;
    d->color = color;
}

static const char *level_name[] = {"error", "warning", "note"};
static const char *level_color[] = {"\033[1;31m", "\033[1;35m", "\033[1;36m"};

/* Length of the valid UTF-8 sequence at p, or 0. */
int utf8_length(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    int n;
    unsigned min;
    if (c < 0x80)
        return 1;
    else if ((c & 0xE0) == 0xC0)
        n = 2, min = 0x80, c &= 0x1F;
    else if ((c & 0xF0) == 0xE0)
        n = 3, min = 0x800, c &= 0x0F;
    else if ((c & 0xF8) == 0xF0)
        n = 4, min = 0x10000, c &= 0x07;
    else
        return 0;
    if (end - p < n)
        return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    return n;
}

/* Bytes in the character at text[i] (before end), 0 for an invalid byte. */
static int char_length(const Source *s, uint32_t i, uint32_t end)
{
    return utf8_length((const unsigned char *)s->text + i, (const unsigned char *)s->text + end);
}

/* Lines longer than this are shown as a window around the caret. */
enum { SHOW_WIDTH = 160 };

static void show_line(Diag *d, Span span)
{
    const Source *s = d->src;
    uint32_t lo = span.lo > s->len ? s->len : span.lo;
    uint32_t li = line_index(s, lo);
    uint32_t start = s->line_starts[li];
    uint32_t end = start;
    while (end < s->len && s->text[end] != '\n')
        end++;
    if (end > start && s->text[end - 1] == '\r')
        end--;
    uint32_t from = start;
    if (lo - start > SHOW_WIDTH / 2)
        from = lo - SHOW_WIDTH / 2;
    uint32_t to = end;
    if (to - from > SHOW_WIDTH)
        to = from + SHOW_WIDTH;
    uint32_t hi = span.hi > to ? to : span.hi;
    if (hi <= lo)
        hi = lo + 1;

    /* The line, one column per character: valid UTF-8 is shown as it is;
     * control bytes and invalid bytes are shown as '?' so a diagnostic never
     * corrupts a terminal. */
    fputs("    ", d->out);
    for (uint32_t i = from; i < to;) {
        int n = char_length(s, i, to);
        unsigned char c = (unsigned char)s->text[i];
        if (n > 1)
            fwrite(s->text + i, 1, (size_t)n, d->out);
        else
            fputc(c == '\t' || (c >= 0x20 && c < 0x7f) ? c : '?', d->out);
        i += (uint32_t)(n > 0 ? n : 1);
    }
    fputs("\n    ", d->out);
    uint32_t i = from;
    while (i < lo) {
        fputc(s->text[i] == '\t' ? '\t' : ' ', d->out);
        int n = char_length(s, i, to);
        i += (uint32_t)(n > 0 ? n : 1);
    }
    if (d->color)
        fputs("\033[1;32m", d->out);
    fputc('^', d->out);
    i += (uint32_t)(i < to && char_length(s, i, to) > 0 ? char_length(s, i, to) : 1);
    while (i < hi) {
        fputc('~', d->out);
        int n = char_length(s, i, to);
        i += (uint32_t)(n > 0 ? n : 1);
    }
    if (d->color)
        fputs("\033[0m", d->out);
    fputc('\n', d->out);
}

void diag_report(Diag *d, DiagLevel level, Span span, const char *fmt, ...)
{
    if (level == DIAG_ERROR) {
        d->nerrors++;
        d->last_shown = d->nerrors <= DIAG_MAX_ERRORS;
    } else if (level == DIAG_WARNING) {
        d->nwarnings++;
        d->last_shown = d->nerrors < DIAG_MAX_ERRORS;
    }
    if (!d->last_shown || !d->out)
        return;
    int line, col;
    source_position(d->src, span.lo, &line, &col);
    if (d->color)
        fputs("\033[1m", d->out);
    fprintf(d->out, "%s:%d:%d: ", d->src->name, line, col);
    if (d->color)
        fputs(level_color[level], d->out);
    fprintf(d->out, "%s: ", level_name[level]);
    if (d->color)
        fputs("\033[0m\033[1m", d->out);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(d->out, fmt, ap);
    va_end(ap);
    if (d->color)
        fputs("\033[0m", d->out);
    fputc('\n', d->out);
    show_line(d, span);
}

void diag_finish(Diag *d)
{
    if (!d->out)
        return;
    if (d->nerrors > DIAG_MAX_ERRORS)
        fprintf(d->out, "%s: %d more errors not shown\n", d->src->name,
                d->nerrors - DIAG_MAX_ERRORS);
    if (d->nerrors > 1)
        fprintf(d->out, "%d errors generated.\n", d->nerrors);
}

static int edit_distance(const char *a, const char *b, int limit)
{
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 64 || lb > 64 || abs(la - lb) > limit)
        return limit + 1;
    int row[65];
    for (int j = 0; j <= lb; j++)
        row[j] = j;
    for (int i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = i;
        for (int j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *diag_suggest(const char *name, const char *const *candidates, int n)
{
    int limit = (int)strlen(name) / 3;
    if (limit < 1)
        limit = 1;
    const char *best = NULL;
    int best_d = limit + 1;
    for (int i = 0; i < n; i++) {
        if (!candidates[i] || strcmp(candidates[i], name) == 0)
            continue;
        int dist = edit_distance(name, candidates[i], limit);
        if (dist < best_d) {
            best_d = dist;
            best = candidates[i];
        }
    }
    return best;
}
