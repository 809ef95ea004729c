/* The lexer (re2c). The buffer ends in a NUL sentinel; a NUL before the end is
 * reported as an error and skipped. Identifiers are looked up in the keyword and
 * element-type tables of langdefs.h, so each word is listed once. */
#include "parser/lexer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grammar.h"

void lex_init(Lexer *lx, const Source *src, Diag *diag)
{
    lx->src = src;
    lx->diag = diag;
    lx->cur = src->text;
}

static Span span_of(const Lexer *lx, const char *start)
{
    return (Span){(uint32_t)(start - lx->src->text), (uint32_t)(lx->cur - lx->src->text)};
}

/* Words the lexer knows: keywords (token codes) and element types (TK_TYPE). */
typedef struct Word {
    const char *spelling;
    size_t len;
    int token;
    ElemType type;
} Word;

static const Word words[] = {
#define X(tok, s, cat) {s, sizeof s - 1, TK_##tok, ELEM_NONE},
    ACC_KEYWORDS(X)
#undef X
#define X(e, s, bytes, cls, ctype) {s, sizeof s - 1, TK_TYPE, ELEM_##e},
    ACC_ELEM_TYPES(X)
#undef X
};

static const Word *find_word(const char *s, size_t n)
{
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (words[i].len == n && words[i].spelling[0] == s[0] &&
            memcmp(words[i].spelling, s, n) == 0)
            return &words[i];
    return NULL;
}

int lex_keyword(const char *s, size_t n)
{
    const Word *w = find_word(s, n);
    return w && w->token != TK_TYPE ? w->token : 0;
}

const char *lex_token_name(int kind)
{
    switch (kind) {
    case TK_EOF: return "end of file";
    case TK_COMMENT: return "comment";
    case TK_IDENT: return "identifier";
    case TK_INT: return "integer";
    case TK_FLOAT: return "number";
    case TK_TYPE: return "type";
#define X(tok, s, cat) case TK_##tok: return "'" s "'";
    ACC_KEYWORDS(X)
#undef X
#define X(tok, s) case TK_##tok: return "'" s "'";
    ACC_PUNCT(X)
#undef X
    }
    return "token";
}

/* Comments may hold any valid UTF-8 but no NUL byte. */
static void check_comment(Lexer *lx, const char *from, const char *to)
{
    const unsigned char *p = (const unsigned char *)from, *end = (const unsigned char *)to;
    while (p < end) {
        int n = *p ? utf8_length(p, end) : 0;
        if (n == 0) {
            uint32_t off = (uint32_t)((const char *)p - lx->src->text);
            diag_error(lx->diag, ((Span){off, off + 1}),
                       *p ? "invalid UTF-8 byte 0x%02x in comment" : "NUL byte in comment",
                       *p);
            return;
        }
        p += n;
    }
}

static void lex_int(Lexer *lx, const char *start, Token *tok)
{
    int64_t v = 0;
    for (const char *p = start; p < lx->cur; p++) {
        int d = *p - '0';
        if (v > (INT64_MAX - d) / 10) {
            diag_error(lx->diag, span_of(lx, start), "integer literal is too large (the limit is %lld)",
                       (long long)INT64_MAX);
            v = 0;
            break;
        }
        v = v * 10 + d;
    }
    tok->ival = v;
}

static void lex_float(Lexer *lx, const char *start, Token *tok)
{
    char buf[128];
    size_t n = (size_t)(lx->cur - start);
    if (n >= sizeof buf) {
        diag_error(lx->diag, span_of(lx, start), "number literal is too long");
        tok->fval = 0;
        return;
    }
    memcpy(buf, start, n);
    buf[n] = '\0';
    errno = 0;
    tok->fval = strtod(buf, NULL);
    if (errno == ERANGE && (tok->fval > 1.0 || tok->fval < -1.0))
        diag_error(lx->diag, span_of(lx, start), "number literal is out of range for f64");
}

int lex_next(Lexer *lx, Token *tok)
{
    const char *end = lx->src->text + lx->src->len;
    for (;;) {
        const char *start = lx->cur;
        const char *YYMARKER;
        memset(tok, 0, sizeof *tok);
        tok->etype = ELEM_NONE;
#define TOKEN(k) do { tok->kind = (k); tok->span = span_of(lx, start); return tok->kind; } while (0)
        /*!re2c
            re2c:define:YYCTYPE = "unsigned char";
            re2c:define:YYCURSOR = "lx->cur";
            re2c:yyfill:enable = 0;
            re2c:flags:tags = 0;

            digit = [0-9];
            word  = [a-zA-Z_][a-zA-Z0-9_]*;
            exp   = [eE] [+-]? digit+;

            "\x00" {
                if (start >= end) {
                    lx->cur = end;
                    TOKEN(TK_EOF);
                }
                diag_error(lx->diag, span_of(lx, start), "NUL byte in source");
                continue;
            }
            [ \t\r\n\f\v]+ { continue; }
            "//" [^\n\x00]* {
                check_comment(lx, start, lx->cur);
                TOKEN(TK_COMMENT);
            }
            "/*" {
                const char *close = NULL;
                for (const char *p = lx->cur; p + 1 < end; p++)
                    if (p[0] == '*' && p[1] == '/') { close = p; break; }
                if (!close) {
                    diag_error(lx->diag, span_of(lx, start), "unterminated comment");
                    lx->cur = end;
                    TOKEN(TK_COMMENT);
                }
                lx->cur = close + 2;
                check_comment(lx, start, lx->cur);
                TOKEN(TK_COMMENT);
            }
            word {
                const Word *w = find_word(start, (size_t)(lx->cur - start));
                if (!w)
                    TOKEN(TK_IDENT);
                tok->etype = w->type;
                TOKEN(w->token);
            }
            digit+ { lex_int(lx, start, tok); TOKEN(TK_INT); }
            digit+ "." digit+ exp? | digit+ exp { lex_float(lx, start, tok); TOKEN(TK_FLOAT); }
            digit+ ("." digit+ exp? | exp)? word {
                diag_error(lx->diag, span_of(lx, start), "invalid suffix on number '%.*s'",
                           (int)(lx->cur - start), start);
                continue;
            }

            "("  { TOKEN(TK_LPAREN); }
            ")"  { TOKEN(TK_RPAREN); }
            "{"  { TOKEN(TK_LBRACE); }
            "}"  { TOKEN(TK_RBRACE); }
            "["  { TOKEN(TK_LBRACKET); }
            "]"  { TOKEN(TK_RBRACKET); }
            ","  { TOKEN(TK_COMMA); }
            ";"  { TOKEN(TK_SEMI); }
            ":"  { TOKEN(TK_COLON); }
            "."  { TOKEN(TK_DOT); }
            ".." { TOKEN(TK_DOTDOT); }
            "->" { TOKEN(TK_ARROW); }
            "?"  { TOKEN(TK_QUESTION); }
            "+"  { TOKEN(TK_PLUS); }
            "-"  { TOKEN(TK_MINUS); }
            "*"  { TOKEN(TK_STAR); }
            "/"  { TOKEN(TK_SLASH); }
            "%"  { TOKEN(TK_PERCENT); }
            "="  { TOKEN(TK_ASSIGN); }
            "+=" { TOKEN(TK_PLUSEQ); }
            "-=" { TOKEN(TK_MINUSEQ); }
            "*=" { TOKEN(TK_STAREQ); }
            "/=" { TOKEN(TK_SLASHEQ); }
            "==" { TOKEN(TK_EQ); }
            "!=" { TOKEN(TK_NE); }
            "<"  { TOKEN(TK_LT); }
            "<=" { TOKEN(TK_LE); }
            ">"  { TOKEN(TK_GT); }
            ">=" { TOKEN(TK_GE); }
            "&&" { TOKEN(TK_ANDAND); }
            "||" { TOKEN(TK_OROR); }
            "!"  { TOKEN(TK_NOT); }

            [\x80-\xff] {
                int n = utf8_length((const unsigned char *)start, (const unsigned char *)end);
                if (n == 0) {
                    diag_error(lx->diag, span_of(lx, start), "invalid UTF-8 byte 0x%02x",
                               (unsigned char)*start);
                } else {
                    lx->cur = start + n;
                    diag_error(lx->diag, span_of(lx, start),
                               "non-ASCII character outside a comment");
                }
                continue;
            }
            * {
                unsigned char c = (unsigned char)*start;
                if (c >= 0x21 && c < 0x7f)
                    diag_error(lx->diag, span_of(lx, start), "unexpected character '%c'", c);
                else
                    diag_error(lx->diag, span_of(lx, start), "unexpected byte 0x%02x", c);
                continue;
            }
        */
#undef TOKEN
    }
}
