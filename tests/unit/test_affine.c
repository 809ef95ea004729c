/* util/affine.h: the checked affine forms sema and lower share: arithmetic
 * that cancels terms, overflow and too many terms clearing ok, divisibility,
 * normalization and Fourier-Motzkin elimination of one term. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "util/affine.h"

enum { X = 1, Y = 2, Z = 3 };

/* c + kx*X + ky*Y */
static Affine form(int64_t c, int64_t kx, int64_t ky)
{
    Affine a = aff_const(c);
    aff_add_term(&a, X, kx);
    aff_add_term(&a, Y, ky);
    return a;
}

Test(affine, arithmetic_cancels_terms)
{
    Affine a = form(3, 2, -1), b = form(1, 2, 0);
    Affine d = aff_sub(&a, &b);
    cr_assert(d.ok);
    cr_assert_eq(d.c, 2);
    cr_assert_eq(d.n, 1);
    cr_assert_eq(aff_coeff(&d, Y), -1);
    cr_assert_eq(aff_coeff(&d, X), 0);
    cr_assert(aff_equal(&a, &a));
    cr_assert(!aff_equal(&a, &b));
    Affine s = aff_scale(&a, -3);
    cr_assert(s.ok && s.c == -9 && aff_coeff(&s, X) == -6 && aff_coeff(&s, Y) == 3);
    Affine z = aff_scale(&a, 0);
    cr_assert(aff_is_const(&z) && z.c == 0);
    cr_assert(aff_is_const(&(Affine){.ok = true, .c = 7}));
    Affine t = aff_term(Z);
    cr_assert(!aff_is_const(&t) && aff_coeff(&t, Z) == 1);
    Affine w = aff_without(&a, X);
    cr_assert(w.n == 1 && aff_coeff(&w, Y) == -1 && w.c == 3);
}

Test(affine, removing_a_term_keeps_the_others_in_order)
{
    Affine a = aff_const(0);
    aff_add_term(&a, X, 1);
    aff_add_term(&a, Y, 1);
    aff_add_term(&a, Z, 1);
    aff_add_term(&a, X, -1);
    cr_assert_eq(a.n, 2);
    cr_assert_eq(a.t[0].key, Y);
    cr_assert_eq(a.t[1].key, Z);
    Affine w = aff_without(&a, Y);
    cr_assert(w.n == 1 && w.t[0].key == Z);
    /* a cancelled term comes back last */
    aff_add_term(&a, X, 2);
    cr_assert(a.n == 3 && a.t[2].key == X && a.t[2].k == 2);
}

Test(affine, overflow_clears_ok_and_stays_cleared)
{
    Affine a = form(INT64_MAX, 1, 0);
    aff_add_const(&a, 1);
    cr_assert(!a.ok);
    aff_add_const(&a, -1);
    cr_assert(!a.ok);
    Affine b = form(0, INT64_MAX / 2 + 1, 0);
    Affine c = aff_scale(&b, 2);
    cr_assert(!c.ok);
    Affine d = form(0, INT64_MIN, 0);
    aff_add_term(&d, X, -1);
    cr_assert(!d.ok);
    Affine e = aff_const(0);
    aff_add_scaled(&e, &c, 1);
    cr_assert(!e.ok, "adding a form that is not ok");
    cr_assert(!aff_equal(&c, &c));
    cr_assert(!aff_is_const(&(Affine){.ok = false}));
}

Test(affine, too_many_terms_clears_ok)
{
    Affine a = aff_const(0);
    for (int i = 0; i < AFF_MAX_TERMS; i++)
        aff_add_term(&a, 100 + i, 1);
    cr_assert(a.ok);
    aff_add_term(&a, 100, 5);
    cr_assert(a.ok, "an existing term still fits");
    aff_add_term(&a, 1000, 1);
    cr_assert(!a.ok);
}

Test(affine, pointer_keys)
{
    int u, v;
    Affine a = aff_term(AFF_KEY(&u));
    aff_add_term(&a, AFF_KEY(&v), 2);
    cr_assert_eq(aff_coeff(&a, AFF_KEY(&v)), 2);
    cr_assert_eq(aff_coeff(&a, AFF_KEY(&u)), 1);
}

Test(affine, divisibility)
{
    cr_assert(aff_divisible(&(Affine){.ok = true, .c = -6}, 3));
    Affine a = form(6, -9, 3);
    cr_assert(aff_divisible(&a, 3));
    cr_assert(aff_divisible(&a, -3));
    cr_assert(!aff_divisible(&a, 2));
    cr_assert(!aff_divisible(&a, 0));
    Affine m = form(INT64_MIN, 0, 0);
    cr_assert(aff_divisible(&m, -1));
    Affine q = aff_div_exact(&a, -3);
    cr_assert(q.ok && q.c == -2 && aff_coeff(&q, X) == 3 && aff_coeff(&q, Y) == -1);
    cr_assert(!aff_div_exact(&m, -1).ok);
}

Test(affine, normalize_divides_by_the_gcd_rounding_down)
{
    Affine g = form(-7, 4, -6);
    aff_normalize(&g);
    cr_assert(g.c == -4 && aff_coeff(&g, X) == 2 && aff_coeff(&g, Y) == -3);
    Affine one = form(5, 3, 1);
    aff_normalize(&one);
    cr_assert(one.c == 5 && aff_coeff(&one, X) == 3);
    Affine c = aff_const(-5);
    aff_normalize(&c);
    cr_assert_eq(c.c, -5, "a constant is left alone");
}

Test(affine, eliminate_cancels_the_key)
{
    /* e = 2X - Y + 1 >= 0, g = 3X + Y >= 0: 3e - 2g = -5Y + 3, normalized to
     * -Y + floor(3/5) */
    Affine e = form(1, 2, -1), g = form(0, 3, 1);
    Affine r = aff_eliminate(&e, &g, X);
    cr_assert(r.ok && r.n == 1 && aff_coeff(&r, Y) == -1 && r.c == 0);
    /* normalized: e = 2X + 2Y, g = 2X: 2e - 2g = 4Y, i.e. Y */
    Affine e2 = form(0, 2, 2), g2 = form(0, 2, 0);
    Affine r2 = aff_eliminate(&e2, &g2, X);
    cr_assert(r2.ok && r2.n == 1 && aff_coeff(&r2, Y) == 1 && r2.c == 0);
    Affine big = form(0, INT64_MIN, 0);
    cr_assert(!aff_eliminate(&big, &g, X).ok);
    cr_assert(!aff_eliminate(&g, &big, X).ok);   /* INT64_MIN in the eliminating fact */
}
