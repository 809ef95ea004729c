/* The lexer: re2c over a NUL-terminated buffer. Comments come back as
 * TK_COMMENT trivia tokens (the formatter needs them); the parser skips them. */
#ifndef ACCL_LEXER_H
#define ACCL_LEXER_H

#include "parser/ast.h"
#include "util/diag.h"

/* Token codes TK_* come from Lemon (build/grammar.h); these extend them. */
enum { TK_EOF = 0, TK_COMMENT = 1000 };

typedef struct Token {
    int kind;
    Span span;
    int64_t ival;      /* TK_INT */
    double fval;       /* TK_FLOAT */
    ElemType etype;    /* TK_TYPE */
} Token;

typedef struct Lexer {
    const Source *src;
    Diag *diag;
    const char *cur;
} Lexer;

void lex_init(Lexer *lx, const Source *src, Diag *diag);
/* Fills tok and returns its kind; TK_EOF at the end (and forever after).
 * Bad bytes are reported and skipped. */
int lex_next(Lexer *lx, Token *tok);
/* "kernel", "(", "identifier", ... for dumps and syntax errors. */
const char *lex_token_name(int kind);
/* The keyword's token code, or 0. */
int lex_keyword(const char *s, size_t n);

#endif
