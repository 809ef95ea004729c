/* Lexer: token kinds, spans, keywords against identifiers, numbers, comments. */
#include <criterion/criterion.h>
#include <string.h>

#include "grammar.h"
#include "parser/lexer.h"

/* One lexer over a string; diagnostics are counted, not printed. */
typedef struct Fixture {
    Arena arena;
    Source src;
    Diag diag;
    Lexer lx;
} Fixture;

static void fx_init(Fixture *f, const char *text)
{
    arena_init(&f->arena);
    source_init(&f->src, &f->arena, "t.acc", text, (uint32_t)strlen(text));
    diag_init(&f->diag, &f->src, NULL, false);
    lex_init(&f->lx, &f->src, &f->diag);
}

static void fx_free(Fixture *f) { arena_free(&f->arena); }

/* Lexes text and returns the kinds, EOF included, in kinds[]; the count. */
static int lex_kinds(const char *text, int *kinds, int max, int *nerrors)
{
    Fixture f;
    fx_init(&f, text);
    int n = 0;
    Token t;
    do {
        lex_next(&f.lx, &t);
        if (n < max)
            kinds[n] = t.kind;
        n++;
    } while (t.kind != TK_EOF && n < 10000);
    if (nerrors)
        *nerrors = f.diag.nerrors;
    fx_free(&f);
    return n;
}

Test(lexer, empty_input_is_eof)
{
    int k[4], errs;
    cr_assert_eq(lex_kinds("", k, 4, &errs), 1);
    cr_assert_eq(k[0], TK_EOF);
    cr_assert_eq(errs, 0);
}

Test(lexer, eof_repeats)
{
    Fixture f;
    fx_init(&f, "x");
    Token t;
    cr_assert_eq(lex_next(&f.lx, &t), TK_IDENT);
    cr_assert_eq(lex_next(&f.lx, &t), TK_EOF);
    cr_assert_eq(lex_next(&f.lx, &t), TK_EOF);
    cr_assert_eq(t.span.lo, 1);
    fx_free(&f);
}

Test(lexer, spans_are_byte_ranges)
{
    Fixture f;
    fx_init(&f, "  kernel  foo_1(\n  x");
    Token t;
    lex_next(&f.lx, &t);
    cr_assert_eq(t.kind, TK_KERNEL);
    cr_assert_eq(t.span.lo, 2);
    cr_assert_eq(t.span.hi, 8);
    lex_next(&f.lx, &t);
    cr_assert_eq(t.kind, TK_IDENT);
    cr_assert_eq(t.span.lo, 10);
    cr_assert_eq(t.span.hi, 15);
    lex_next(&f.lx, &t);
    cr_assert_eq(t.kind, TK_LPAREN);
    cr_assert_eq(t.span.hi - t.span.lo, 1);
    lex_next(&f.lx, &t);
    int line, col;
    source_position(&f.src, t.span.lo, &line, &col);
    cr_assert_eq(line, 2);
    cr_assert_eq(col, 3);
    fx_free(&f);
}

Test(lexer, every_keyword)
{
#define X(tok, s, cat)                                                   \
    {                                                                    \
        int k[3], errs;                                                  \
        cr_assert_eq(lex_kinds(s, k, 3, &errs), 2, "keyword %s", s);     \
        cr_assert_eq(k[0], TK_##tok, "keyword %s", s);                   \
        cr_assert_eq(lex_keyword(s, strlen(s)), TK_##tok);               \
    }
    ACC_KEYWORDS(X)
#undef X
}

Test(lexer, keyword_prefixes_and_case_are_identifiers)
{
    const char *words[] = {"kernels", "Kernel", "fo", "for_", "_in", "in2", "IF", "pis", "infinity"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        int k[3];
        lex_kinds(words[i], k, 3, NULL);
        cr_assert_eq(k[0], TK_IDENT, "%s", words[i]);
        cr_assert_eq(lex_keyword(words[i], strlen(words[i])), 0, "%s", words[i]);
    }
}

Test(lexer, element_types)
{
    Fixture f;
    fx_init(&f, "bool i8 i16 i32 i64 u8 u32 f16 bf16 f32 f64 f31");
    Token t;
    for (int e = 0; e < ELEM_COUNT; e++) {
        lex_next(&f.lx, &t);
        cr_assert_eq(t.kind, TK_TYPE);
        cr_assert_eq(t.etype, (ElemType)e);
    }
    lex_next(&f.lx, &t);
    cr_assert_eq(t.kind, TK_IDENT);
    cr_assert_eq(t.etype, ELEM_NONE);
    fx_free(&f);
}

Test(lexer, every_punctuator)
{
#define X(tok, s)                                                        \
    {                                                                    \
        int k[3], errs;                                                  \
        cr_assert_eq(lex_kinds(s, k, 3, &errs), 2, "punct %s", s);       \
        cr_assert_eq(k[0], TK_##tok, "punct %s", s);                     \
        cr_assert_eq(errs, 0);                                           \
    }
    ACC_PUNCT(X)
#undef X
}

Test(lexer, maximal_munch)
{
    int k[16];
    int n = lex_kinds("a+=b==c->d...e", k, 16, NULL);
    int want[] = {TK_IDENT, TK_PLUSEQ, TK_IDENT, TK_EQ,     TK_IDENT, TK_ARROW, TK_IDENT,
                  TK_DOTDOT, TK_DOT,   TK_IDENT, TK_EOF};
    cr_assert_eq(n, (int)(sizeof want / sizeof want[0]));
    for (int i = 0; i < n; i++)
        cr_assert_eq(k[i], want[i], "token %d", i);
}

Test(lexer, range_is_not_a_float)
{
    int k[8];
    int n = lex_kinds("0..M", k, 8, NULL);
    cr_assert_eq(n, 4);
    cr_assert_eq(k[0], TK_INT);
    cr_assert_eq(k[1], TK_DOTDOT);
    cr_assert_eq(k[2], TK_IDENT);
    n = lex_kinds("0.5", k, 8, NULL);
    cr_assert_eq(n, 2);
    cr_assert_eq(k[0], TK_FLOAT);
    n = lex_kinds("1.5..2", k, 8, NULL);
    cr_assert_eq(n, 4);
    cr_assert_eq(k[0], TK_FLOAT);
    cr_assert_eq(k[1], TK_DOTDOT);
    cr_assert_eq(k[2], TK_INT);
}

Test(lexer, number_values)
{
    Fixture f;
    fx_init(&f, "0 42 9223372036854775807 2.5 1e3 1.5e-3 6.02E+23");
    Token t;
    lex_next(&f.lx, &t);
    cr_assert_eq(t.ival, 0);
    lex_next(&f.lx, &t);
    cr_assert_eq(t.ival, 42);
    lex_next(&f.lx, &t);
    cr_assert_eq(t.ival, INT64_MAX);
    lex_next(&f.lx, &t);
    cr_assert_eq(t.kind, TK_FLOAT);
    cr_assert_float_eq(t.fval, 2.5, 0);
    lex_next(&f.lx, &t);
    cr_assert_eq(t.kind, TK_FLOAT);
    cr_assert_float_eq(t.fval, 1000.0, 0);
    lex_next(&f.lx, &t);
    cr_assert_float_eq(t.fval, 1.5e-3, 1e-18);
    lex_next(&f.lx, &t);
    cr_assert_float_eq(t.fval, 6.02e23, 1e8);
    cr_assert_eq(f.diag.nerrors, 0);
    fx_free(&f);
}

Test(lexer, integer_too_large_is_an_error)
{
    int k[3], errs;
    lex_kinds("9223372036854775808", k, 3, &errs);
    cr_assert_eq(errs, 1);
    cr_assert_eq(k[0], TK_INT);
}

Test(lexer, bad_number_suffix_is_an_error)
{
    int k[4], errs;
    int n = lex_kinds("12abc 1.5f", k, 4, &errs);
    cr_assert_eq(errs, 2);
    cr_assert_eq(n, 1, "bad numbers are skipped");
}

Test(lexer, comments_are_trivia_tokens)
{
    Fixture f;
    fx_init(&f, "a // line\n/* block\n */ b");
    Token t;
    lex_next(&f.lx, &t);
    cr_assert_eq(t.kind, TK_IDENT);
    lex_next(&f.lx, &t);
    cr_assert_eq(t.kind, TK_COMMENT);
    cr_assert_eq(t.span.lo, 2);
    cr_assert_eq(t.span.hi, 9);
    lex_next(&f.lx, &t);
    cr_assert_eq(t.kind, TK_COMMENT);
    cr_assert_eq(t.span.lo, 10);
    cr_assert_eq(t.span.hi, 22);
    lex_next(&f.lx, &t);
    cr_assert_eq(t.kind, TK_IDENT);
    cr_assert_eq(f.diag.nerrors, 0);
    fx_free(&f);
}

Test(lexer, utf8_allowed_in_comments_only)
{
    int k[4], errs;
    lex_kinds("// π ∑ é\n", k, 4, &errs);
    cr_assert_eq(errs, 0);
    cr_assert_eq(k[0], TK_COMMENT);
    lex_kinds("x π", k, 4, &errs);
    cr_assert_eq(errs, 1);
    lex_kinds("// \xff\n", k, 4, &errs);
    cr_assert_eq(errs, 1);
}

Test(lexer, unterminated_comment)
{
    int k[4], errs;
    int n = lex_kinds("a /* no end", k, 4, &errs);
    cr_assert_eq(errs, 1);
    cr_assert_eq(n, 3);
    cr_assert_eq(k[1], TK_COMMENT);
}

Test(lexer, embedded_nul_is_reported_and_skipped)
{
    static const char text[] = "a\0b";
    Fixture f;
    arena_init(&f.arena);
    source_init(&f.src, &f.arena, "t.acc", text, 3);
    diag_init(&f.diag, &f.src, NULL, false);
    lex_init(&f.lx, &f.src, &f.diag);
    Token t;
    cr_assert_eq(lex_next(&f.lx, &t), TK_IDENT);
    cr_assert_eq(lex_next(&f.lx, &t), TK_IDENT);
    cr_assert_eq(t.span.lo, 2);
    cr_assert_eq(lex_next(&f.lx, &t), TK_EOF);
    cr_assert_eq(f.diag.nerrors, 1);
    fx_free(&f);
}

Test(lexer, token_names)
{
    cr_assert_str_eq(lex_token_name(TK_EOF), "end of file");
    cr_assert_str_eq(lex_token_name(TK_IDENT), "identifier");
    cr_assert_str_eq(lex_token_name(TK_KERNEL), "'kernel'");
    cr_assert_str_eq(lex_token_name(TK_DOTDOT), "'..'");
}
