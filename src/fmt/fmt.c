/* The formatter (lang/SPEC.md, Layout): a pretty printer over the token
 * stream. Each token is printed with the spacing its kind and its neighbours
 * call for; `;`, `{` and `}` end lines; blank lines and comments are carried
 * over from the whitespace between tokens in the source. */
#include "fmt/fmt.h"

#include <stdlib.h>
#include <string.h>

#include "grammar.h"
#include "parser/lexer.h"

enum { INDENT = 4, CONT_INDENT = 8 };

/* A growable output buffer. */
typedef struct Buf {
    char *p;
    size_t len, cap;
} Buf;

static void buf_put(Buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_putc(Buf *b, char c)
{
    buf_put(b, &c, 1);
}

static void buf_spaces(Buf *b, int n)
{
    for (int i = 0; i < n; i++)
        buf_putc(b, ' ');
}

/* A token of the source, with the line breaks in the whitespace before it. */
typedef struct Tok {
    int kind;
    uint32_t lo, hi;
    int newlines;       /* '\n' bytes between the previous token and this one */
} Tok;

typedef struct TokVec {
    Tok *items;
    int len, cap;
} TokVec;

/* Every token of src but the final TK_EOF, comments included. */
static TokVec lex_all(const Source *src)
{
    Diag quiet;
    diag_init(&quiet, src, NULL, false);
    Lexer lx;
    lex_init(&lx, src, &quiet);
    TokVec v = {0};
    uint32_t end = 0;
    Token t;
    while (lex_next(&lx, &t) != TK_EOF) {
        if (v.len == v.cap) {
            v.cap = v.cap ? v.cap * 2 : 256;
            Tok *items = realloc(v.items, sizeof *items * (size_t)v.cap);
            if (!items)
                abort();
            v.items = items;
        }
        int nl = 0;
        for (uint32_t i = end; i < t.span.lo; i++)
            nl += src->text[i] == '\n';
        v.items[v.len++] = (Tok){t.kind, t.span.lo, t.span.hi, nl};
        end = t.span.hi;
    }
    return v;
}

/* What an open brace holds: a block of lines, or the set of a `param` (`in {1, 2}`). */
typedef enum Brace { BRACE_BLOCK, BRACE_SET } Brace;

typedef struct Printer {
    const Source *src;
    const Tok *toks;
    int ntoks;
    Buf out;
    Brace *braces;      /* the open braces, innermost last */
    int nbraces;
    int depth;          /* open block braces: the indentation level */
    int questions;      /* `?`s of this statement whose `:` is still to come */
    int prev;           /* the last code token's kind; -1 before the first */
    bool prev_unary;    /* it was a prefix `-` or `!` */
    bool prev_comment;  /* the last thing on the line is a comment */
    bool stmt_break;    /* the next token starts a new line: a new statement */
    bool cont_break;    /* the next token continues the statement on a new line */
    bool after_open;    /* the last line ended with a block's `{` */
    bool item_blank;    /* a top-level item ended: a blank line before the next */
} Printer;

static Brace top_brace(const Printer *p)
{
    return p->nbraces ? p->braces[p->nbraces - 1] : BRACE_BLOCK;
}

/* Ends the current line (if any) and indents the next: a blank line first when
 * asked, never at the start of the file. */
static void new_line(Printer *p, int indent, bool blank)
{
    if (p->out.len > 0) {
        buf_putc(&p->out, '\n');
        if (blank)
            buf_putc(&p->out, '\n');
    }
    buf_spaces(&p->out, indent);
    p->after_open = false;
    p->item_blank = false;
    p->stmt_break = p->cont_break = false;
}

/* Starts the line of a token that does not go on the current one: a statement
 * line (at the block's indentation, after at most one blank line) or a
 * continuation line (8 more spaces). */
static void start_line(Printer *p, const Tok *t, bool closing)
{
    if (p->cont_break) {
        new_line(p, p->depth * INDENT + CONT_INDENT, false);
        return;
    }
    bool blank = !p->after_open && !closing && (t->newlines >= 2 || p->item_blank);
    new_line(p, p->depth * INDENT, blank);
}

static bool ends_operand(int kind)
{
    switch (kind) {
    case TK_IDENT: case TK_INT: case TK_FLOAT: case TK_RPAREN: case TK_RBRACKET:
    case TK_INF: case TK_PI: case TK_TRUE: case TK_FALSE:
        return true;
    }
    return false;
}

/* Whether one space separates the previous token from code token k on a line. */
static bool space_before(const Printer *p, int k)
{
    if (p->prev_comment)
        return true;
    if (p->prev < 0)
        return false;
    switch (k) {
    case TK_RPAREN: case TK_RBRACKET: case TK_COMMA: case TK_SEMI: case TK_DOT: case TK_DOTDOT:
        return false;
    case TK_RBRACE:
        return top_brace(p) == BRACE_BLOCK && p->prev != TK_LBRACE;
    case TK_COLON:
        return p->questions > 0;   /* `c ? a : b`, but `a: f32` and `label: for` */
    }
    switch (p->prev) {
    case TK_LPAREN: case TK_LBRACKET: case TK_DOT: case TK_DOTDOT:
        return false;
    case TK_LBRACE:
        return top_brace(p) == BRACE_BLOCK;
    }
    if (p->prev_unary)
        return false;
    if (k == TK_LPAREN || k == TK_LBRACKET)
        return p->prev != TK_IDENT && p->prev != TK_TYPE;   /* f(x), A[i], f32[M], f32(x) */
    return true;
}

/* Copies a comment, without the whitespace at the end of its lines. */
static void put_comment(Buf *b, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '\n')
            continue;
        size_t e = i;
        while (e > start && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r'))
            e--;
        buf_put(b, s + start, e - start);
        if (i < n)
            buf_putc(b, '\n');
        start = i + 1;
    }
}

/* A comment on the line of the code before it stays there: after two spaces
 * (a line comment) or one (a block comment). Any other starts its own line. A comment that the
 * source ends a line with ends the output line too. */
static void print_comment(Printer *p, int i)
{
    const Tok *t = &p->toks[i];
    const char *s = p->src->text + t->lo;
    bool line_comment = s[1] == '/';
    bool ends_line = line_comment || i + 1 == p->ntoks || p->toks[i + 1].newlines > 0;
    bool at_stmt = p->stmt_break || p->out.len == 0;
    if (p->out.len > 0 && t->newlines == 0) {
        buf_spaces(&p->out, line_comment ? 2 : 1);
        if (ends_line && !p->stmt_break)
            p->cont_break = true;
    } else {
        p->cont_break = !at_stmt;   /* inside a statement: a continuation line */
        start_line(p, t, false);
        p->stmt_break = ends_line && at_stmt;
        p->cont_break = ends_line && !at_stmt;
    }
    put_comment(&p->out, s, t->hi - t->lo);
    p->prev_comment = true;
}

/* The bookkeeping after code token k was printed: brackets, braces, line ends. */
static void after_code(Printer *p, int i, int k)
{
    int next = i + 1 < p->ntoks ? p->toks[i + 1].kind : TK_EOF;
    switch (k) {
    case TK_LBRACE:
        if (p->prev == TK_IN) {       /* `param P = 1 in {1, 2}` */
            p->braces[p->nbraces++] = BRACE_SET;
            break;
        }
        p->braces[p->nbraces++] = BRACE_BLOCK;
        p->depth++;
        p->questions = 0;
        if (next != TK_RBRACE) {      /* `{}` stays on its line */
            p->stmt_break = true;
            p->after_open = true;
        }
        break;
    case TK_RBRACE:
        if (p->nbraces > 0 && p->braces[--p->nbraces] == BRACE_SET)
            break;
        p->questions = 0;
        p->item_blank = p->depth == 0;
        p->stmt_break = next != TK_ELSE;   /* `} else {` */
        break;
    case TK_SEMI:
        p->questions = 0;
        p->stmt_break = true;
        break;
    case TK_QUESTION:
        p->questions++;
        break;
    case TK_COLON:
        p->questions -= p->questions > 0;
        break;
    }
}

static void print_code(Printer *p, int i)
{
    const Tok *t = &p->toks[i];
    int k = t->kind;
    bool closing = k == TK_RBRACE && top_brace(p) == BRACE_BLOCK;
    if (closing && p->depth > 0)
        p->depth--;
    if (p->stmt_break || p->cont_break || p->out.len == 0)
        start_line(p, t, closing);
    else if (space_before(p, k))
        buf_putc(&p->out, ' ');
    buf_put(&p->out, p->src->text + t->lo, t->hi - t->lo);
    bool unary = k == TK_NOT || (k == TK_MINUS && !ends_operand(p->prev));
    after_code(p, i, k);
    p->prev = k;
    p->prev_unary = unary;
    p->prev_comment = false;
}

/* Whether two token streams are the same: code tokens byte for byte, comments
 * up to the whitespace at the end of their lines. */
static bool same_tokens(const Source *a, const TokVec *ta, const Source *b, const TokVec *tb)
{
    if (ta->len != tb->len)
        return false;
    Buf ca = {0}, cb = {0};
    bool same = true;
    for (int i = 0; i < ta->len && same; i++) {
        const Tok *x = &ta->items[i], *y = &tb->items[i];
        if (x->kind != y->kind)
            same = false;
        else if (x->kind != TK_COMMENT)
            same = x->hi - x->lo == y->hi - y->lo &&
                   memcmp(a->text + x->lo, b->text + y->lo, x->hi - x->lo) == 0;
        else {
            ca.len = cb.len = 0;
            put_comment(&ca, a->text + x->lo, x->hi - x->lo);
            put_comment(&cb, b->text + y->lo, y->hi - y->lo);
            same = ca.len == cb.len && memcmp(ca.p, cb.p, ca.len) == 0;
        }
    }
    free(ca.p);
    free(cb.p);
    return same;
}

bool fmt_source(const Source *src, Arena *arena, char **text, size_t *len)
{
    TokVec toks = lex_all(src);
    Printer p = {.src = src, .toks = toks.items, .ntoks = toks.len, .prev = -1};
    p.braces = malloc(sizeof *p.braces * (size_t)(toks.len + 1));
    if (!p.braces)
        abort();
    for (int i = 0; i < toks.len; i++) {
        if (toks.items[i].kind == TK_COMMENT)
            print_comment(&p, i);
        else
            print_code(&p, i);
    }
    if (p.out.len > 0)
        buf_putc(&p.out, '\n');
    else
        buf_put(&p.out, "", 0);
    free(p.braces);

    Source result;
    source_init(&result, arena, src->name, p.out.p, (uint32_t)p.out.len);
    TokVec again = lex_all(&result);
    bool same = same_tokens(src, &toks, &result, &again);
    free(toks.items);
    free(again.items);
    if (!same) {
        free(p.out.p);
        p.out.p = NULL;
        p.out.len = 0;
    }
    *text = p.out.p;
    *len = p.out.len;
    return same;
}
