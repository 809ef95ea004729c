/* Legality: the per-dimension distance test between two accesses, on kernels
 * parsed and checked from source, and legality_check on whole schedules. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "sema/legality.h"
#include "sema/schedule.h"
#include "parser/parse.h"
#include "sema/sema.h"

typedef Fixture Loaded;

static void load(Loaded *l, const char *text) { fixture_load(l, text, TARGET_NONE); }
static void unload(Loaded *l) { fixture_free(l); }

/* The first statement of the kernel's nest `nest`. */
static const Stmt *first_stmt(const Loaded *l, int nest)
{
    const Nest *n = l->prog->kernels[0]->nests[nest];
    return n->body.items[0];
}

/* The first tensor access in e (preorder), or NULL. */
static const Expr *first_access(const Expr *e)
{
    if (e->kind == EXPR_INDEX)
        return e;
    for (int i = 0; i < e->nargs; i++) {
        const Expr *r = first_access(e->args[i]);
        if (r)
            return r;
    }
    return NULL;
}

/* The distance between the first statement's target and its first read. */
static LgDistance distance_of(Loaded *l, const char *text, char *buf, size_t size)
{
    load(l, text);
    const Stmt *s = first_stmt(l, 0);
    const Expr *rd = first_access(s->rhs);
    cr_assert_not_null(rd);
    const Kernel *k = l->prog->kernels[0];
    LgDistance d = lg_distance(k, k->nests[0], s->lhs, rd, &l->arena);
    lg_distance_print(buf, size, &d, false);
    return d;
}

Test(legality, distance_of_a_wavefront_is_exact)
{
    Loaded l;
    char buf[64];
    LgDistance d = distance_of(&l,
        "kernel w(A: inout f32[N, M]) {\n"
        "    for i in 1..N, j in 0..M - 1 { A[i, j] = A[i - 1, j + 1]; }\n"
        "}\n", buf, sizeof buf);
    cr_assert(d.dependent);
    cr_assert_eq(d.n, 2);
    cr_assert(!d.star[0] && !d.star[1]);
    cr_assert_eq(d.value[0], 1);
    cr_assert_eq(d.value[1], -1);
    cr_assert_str_eq(buf, "(1, -1)");
    lg_distance_print(buf, sizeof buf, &d, true);
    cr_assert_str_eq(buf, "(-1, 1)");
    unload(&l);
}

Test(legality, loop_missing_from_subscripts_is_star)
{
    Loaded l;
    char buf[64];
    LgDistance d = distance_of(&l,
        "kernel s(A: inout f32[N]) {\n"
        "    for i in 0..N, j in 0..N { A[i] = A[i] + 1.0; }\n"
        "}\n", buf, sizeof buf);
    cr_assert(d.dependent);
    cr_assert_str_eq(buf, "(0, *)");
    unload(&l);
}

Test(legality, different_constants_are_independent)
{
    Loaded l;
    char buf[64];
    LgDistance d = distance_of(&l,
        "kernel c(A: inout f32[N, 4]) {\n"
        "    for i in 0..N { A[i, 0] = A[i, 3]; }\n"
        "}\n", buf, sizeof buf);
    cr_assert(!d.dependent);
    unload(&l);
}

Test(legality, strided_subscripts_divide_or_separate)
{
    Loaded l;
    char buf[64];
    /* 2*i against 2*i + 1: never the same element */
    LgDistance d = distance_of(&l,
        "kernel e(B: f32[N], A: inout f32[2 * N]) {\n"
        "    for i in 0..N { A[2 * i] = A[2 * i + 1]; }\n"
        "}\n", buf, sizeof buf);
    cr_assert(!d.dependent);
    unload(&l);
    /* 2*i against 2*i - 4: distance 2 */
    d = distance_of(&l,
        "kernel e(B: f32[N], A: inout f32[2 * N]) {\n"
        "    for i in 2..N { A[2 * i] = A[2 * i - 4]; }\n"
        "}\n", buf, sizeof buf);
    cr_assert(d.dependent);
    cr_assert_str_eq(buf, "(2)");
    unload(&l);
}

Test(legality, different_indices_in_one_dimension_are_star)
{
    Loaded l;
    char buf[64];
    LgDistance d = distance_of(&l,
        "kernel t(A: inout f32[N, N]) {\n"
        "    for i in 0..N, j in 0..N { A[i, j] = A[j, i]; }\n"
        "}\n", buf, sizeof buf);
    cr_assert(d.dependent);
    cr_assert_str_eq(buf, "(*, *)");
    unload(&l);
}

Test(legality, two_dimensions_must_agree_on_one_loop)
{
    Loaded l;
    char buf[64];
    /* i = i' and i = i' + 1 at once: impossible */
    LgDistance d = distance_of(&l,
        "kernel g(A: inout f32[N, N]) {\n"
        "    for i in 1..N { A[i, i] = A[i, i - 1]; }\n"
        "}\n", buf, sizeof buf);
    cr_assert(!d.dependent);
    unload(&l);
    /* sizes cancel: i + N against i + N - 1 is distance 1 */
    d = distance_of(&l,
        "kernel g(B: f32[N], A: inout f32[2 * N]) {\n"
        "    for i in 1..N { A[i + N] = A[i + N - 1]; }\n"
        "}\n", buf, sizeof buf);
    cr_assert(d.dependent);
    cr_assert_str_eq(buf, "(1)");
    unload(&l);
}

Test(legality, different_sizes_do_not_cancel)
{
    Loaded l;
    char buf[64];
    /* i + N against i + M: N - M is not a constant, so any distance */
    LgDistance d = distance_of(&l,
        "kernel s(B: f32[M], C: f32[N], A: inout f32[2 * N + 2 * M]) {\n"
        "    for i in 0..N { A[i + N] = A[i + M]; }\n"
        "}\n", buf, sizeof buf);
    cr_assert(d.dependent);
    cr_assert_str_eq(buf, "(*)");
    unload(&l);
}

Test(legality, subscript_through_a_let_is_star)
{
    Loaded l;
    char buf[64];
    /* Legality reads a let as not affine: sema's value for it is gone. */
    load(&l,
         "kernel s(A: inout f32[N]) {\n"
         "    for i in 1..N { let j = i - 1; A[i] = A[j]; }\n"
         "}\n");
    const Kernel *k = l.prog->kernels[0];
    const Stmt *s = k->nests[0]->body.items[1];
    LgDistance d = lg_distance(k, k->nests[0], s->lhs, first_access(s->rhs), &l.arena);
    lg_distance_print(buf, sizeof buf, &d, false);
    cr_assert(d.dependent);
    cr_assert_str_eq(buf, "(*)");
    unload(&l);
}

Test(legality, long_subscript_chain_is_affine)
{
    Loaded l;
    char buf[64];
    /* i + 1 + 1 + ... (80 terms) against i + 80: the same element, walked
       without recursion on the chain */
    char text[1024], chain[512];
    int at = snprintf(chain, sizeof chain, "i");
    for (int t = 0; t < 80; t++)
        at += snprintf(chain + at, sizeof chain - (size_t)at, " + 1");
    snprintf(text, sizeof text,
             "kernel c(B: f32[N], A: inout f32[N + 80]) {\n"
             "    for i in 0..N { A[%s] = A[i + 80] + 1.0; }\n"
             "}\n", chain);
    LgDistance d = distance_of(&l, text, buf, sizeof buf);
    cr_assert(d.dependent);
    cr_assert_str_eq(buf, "(0)");
    unload(&l);
}

/* legality_check over a whole program: the diagnostics it writes. */
static bool check_text(const char *text, char *out, size_t size)
{
    Loaded l;
    load(&l, text);
    bool ok = legality_check(&l.checked, &l.diag);
    fflush(l.errs);
    rewind(l.errs);
    size_t n = fread(out, 1, size - 1, l.errs);
    out[n] = '\0';
    unload(&l);
    return ok;
}

Test(legality, split_keeps_a_dependence_and_tile_reverses_it)
{
    char out[4096];
    const char *kernel =
        "kernel w(A: inout f32[N, M]) {\n"
        "    for i in 1..N, j in 0..M - 1 { A[i, j] = A[i - 1, j + 1]; }\n"
        "}\n";
    char text[1024];
    snprintf(text, sizeof text, "%sschedule w for cpu { split i by 4 -> io, ii; split j by 4 -> jo, ji; }\n",
             kernel);
    cr_assert(check_text(text, out, sizeof out), "%s", out);
    cr_assert_str_eq(out, "");
    snprintf(text, sizeof text, "%sschedule w for cpu { tile i, j by 4, 4 -> io, jo, ii, ji; }\n", kernel);
    cr_assert(!check_text(text, out, sizeof out));
    cr_assert(strstr(out, "tile would reverse a dependence") != NULL, "%s", out);
}

Test(legality, permutable_band_may_be_tiled_and_interchanged)
{
    char out[4096];
    /* (1, 1) and (0, 1): every component >= 0, so any order of the tile
       loops keeps both positive; i, outermost, carries (1, 1) and must stay
       serial. */
    const char *kernel =
        "kernel w(A: inout f32[N, M]) {\n"
        "    for i in 1..N, j in 1..M { A[i, j] = A[i - 1, j - 1] + A[i, j - 1]; }\n"
        "}\n";
    char text[1024];
    snprintf(text, sizeof text,
             "%sschedule w for cpu { tile i, j by 4, 4 -> io, jo, ii, ji; reorder jo, io; }\n", kernel);
    cr_assert(check_text(text, out, sizeof out), "%s", out);
    snprintf(text, sizeof text, "%sschedule w for cpu { parallel i; }\n", kernel);
    cr_assert(!check_text(text, out, sizeof out));
    cr_assert(strstr(out, "parallel 'i' would run iterations of a carried dependence") != NULL, "%s", out);
}
