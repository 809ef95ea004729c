#include "fixture.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* text (named name) parsed, for target. */
static void fixture_parse(Fixture *fx, const char *name, const char *text, Target target)
{
    memset(fx, 0, sizeof *fx);
    arena_init(&fx->arena);
    source_init(&fx->src, &fx->arena, name, text, (uint32_t)strlen(text));
    fx->errs = tmpfile();
    cr_assert_not_null(fx->errs);
    diag_init(&fx->diag, &fx->src, fx->errs, false);
    fx->compile = (CompileCtx){.checked = &fx->checked, .target = target, .diag = &fx->diag, .arena = &fx->arena};
    fx->prog = parse_program(&fx->src, &fx->diag, &fx->arena);
    cr_assert_eq(fx->diag.nerrors, 0, "parse errors");
}

void fixture_load(Fixture *fx, const char *text, Target target)
{
    fixture_parse(fx, "k.acc", text, target);
    SemaOptions opt = {.target = target};
    cr_assert(sema_check(fx->prog, &opt, &fx->diag, &fx->arena, &fx->checked), "front-end errors");
}

void fixture_load_file(Fixture *fx, const char *path, Target target)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    char *text = NULL;
    size_t len = 0;
    FILE *buf = open_memstream(&text, &len);
    int c;
    while ((c = getc(f)) != EOF)
        putc(c, buf);
    fclose(buf);
    fclose(f);
    fixture_parse(fx, path, text, target);
    fx->text = text;
    SemaOptions opt = {.target = target};
    cr_assert(compile_check_program(fx->prog, &opt, &fx->diag, &fx->arena, &fx->checked),
              "%s: front-end errors", path);
}

void fixture_free(Fixture *fx)
{
    if (fx->errs)
        fclose(fx->errs);
    arena_free(&fx->arena);
    free(fx->text);
}
