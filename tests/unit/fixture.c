#include "fixture.h"

#include <criterion/criterion.h>
#include <string.h>

void fixture_load(Fixture *fx, const char *text, Target target)
{
    memset(fx, 0, sizeof *fx);
    arena_init(&fx->arena);
    source_init(&fx->src, &fx->arena, "k.acc", text, (uint32_t)strlen(text));
    fx->errs = tmpfile();
    cr_assert_not_null(fx->errs);
    diag_init(&fx->diag, &fx->src, fx->errs, false);
    fx->prog = parse_program(&fx->src, &fx->diag, &fx->arena);
    cr_assert_eq(fx->diag.nerrors, 0, "parse errors");
    SemaOptions opt = {.target = target};
    cr_assert(sema_check(fx->prog, &opt, &fx->diag, &fx->arena, &fx->checked), "front-end errors");
}

void fixture_free(Fixture *fx)
{
    if (fx->errs)
        fclose(fx->errs);
    arena_free(&fx->arena);
}
