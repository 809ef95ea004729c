/* The affine machinery of the kernel checks: arithmetic, printing, and the
 * in-bounds prover over loop ranges, conditions and size facts. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "sema/sema_internal.h"

/* Sizes: N = 0, M = 1, K = 2. Indices: i = 0, j = 1, k = 2. */
enum { N = 0, M = 1, K = 2 };
#define I AFF_INDEX(0)
#define J AFF_INDEX(1)
#define KK AFF_INDEX(2)

static const char *const size_names[] = {"N", "M", "K"};
static const char *const index_names[] = {"i", "j", "k"};

/* Terms written as sym, k, sym, k ... */
static Affine aff(int64_t c, int nterms, ...)
{
    va_list ap;
    va_start(ap, nterms);
    Affine a = aff_const(c);
    for (int t = 0; t < nterms; t++) {
        int sym = va_arg(ap, int);
        int64_t k = va_arg(ap, int64_t);
        Affine s = aff_term(sym);
        aff_add_scaled(&a, &s, k);
    }
    va_end(ap);
    return a;
}
#define T(sym, k) (int)(sym), (int64_t)(k)

/* Pushes lo <= idx <= hi - 1 and lo <= hi - 1 (the loop is not empty). */
static void loop(AffSystem *s, int idx, Affine lo, Affine hi)
{
    Affine i = aff_term(idx);
    Affine g = aff_sub(&i, &lo);
    aff_system_push(s, &g);
    g = aff_sub(&hi, &i);
    g.c -= 1;
    aff_system_push(s, &g);
    g = aff_sub(&hi, &lo);
    g.c -= 1;
    aff_system_push(s, &g);
}

static char printed[256];
static const char *show(const Affine *a)
{
    aff_print(printed, sizeof printed, a, size_names, index_names);
    return printed;
}

Test(affine, arithmetic_cancels_and_collects_terms)
{
    Affine a = aff(1, 2, T(N, 2), T(I, 1));
    Affine b = aff(3, 2, T(N, 2), T(J, -1));
    Affine d = aff_sub(&a, &b);
    cr_assert(d.ok);
    cr_assert_eq(d.c, -2);
    cr_assert_eq(aff_coeff(&d, N), 0);
    cr_assert_eq(aff_coeff(&d, I), 1);
    cr_assert_eq(aff_coeff(&d, J), 1);
    cr_assert_eq(d.n, 2);
    cr_assert(aff_equal(&a, &a));
    cr_assert_not(aff_equal(&a, &b));
    cr_assert_eq(aff_innermost_index(&d), 1);
}

Test(affine, only_index_is_the_one_index_term)
{
    Affine sizes = aff(3, 1, T(N, 2));
    Affine one = aff(1, 2, T(N, 2), T(J, -3));
    Affine two = aff(0, 2, T(I, 1), T(J, 1));
    cr_assert_eq(aff_only_index(&sizes), -1);
    cr_assert_eq(aff_only_index(&one), 1);
    cr_assert_eq(aff_only_index(&two), -1);
}

Test(affine, overflow_clears_ok)
{
    Affine a = aff(INT64_MAX, 0);
    Affine one = aff_const(1);
    aff_add_scaled(&a, &one, 1);
    cr_assert_not(a.ok);
    Affine b = aff(0, 1, T(N, INT64_MAX));
    aff_add_scaled(&b, &b, 2);
    cr_assert_not(b.ok);
    AffSystem s;
    Arena ar;
    arena_init(&ar);
    aff_system_init(&s, &ar);
    cr_assert_not(aff_prove_nonneg(&s, &a), "a result that is not ok proves nothing");
    arena_free(&ar);
}

Test(affine, printing)
{
    Affine a = aff(-1, 3, T(I, 1), T(N, 2), T(K, -1));
    cr_assert_str_eq(show(&a), "2*N - K + i - 1");
    Affine z = aff_const(0);
    cr_assert_str_eq(show(&z), "0");
    Affine m = aff(0, 1, T(M, -1));
    cr_assert_str_eq(show(&m), "-M");
}

Test(affine, trivially_nonneg_needs_no_index_and_no_negative_part)
{
    Affine a = aff(0, 2, T(N, 1), T(M, 3));
    cr_assert(aff_trivially_nonneg(&a));
    Affine b = aff(-1, 1, T(N, 1));
    cr_assert_not(aff_trivially_nonneg(&b));
    Affine c = aff(0, 1, T(I, 1));
    cr_assert_not(aff_trivially_nonneg(&c));
}

Test(prove, plain_loop_is_in_bounds)
{
    Arena ar;
    arena_init(&ar);
    AffSystem s;
    aff_system_init(&s, &ar);
    loop(&s, I, aff_const(0), aff(0, 1, T(N, 1)));     /* i in 0..N */
    Affine lo = aff(0, 1, T(I, 1));                     /* i >= 0 */
    Affine hi = aff(-1, 2, T(N, 1), T(I, -1));          /* N - 1 - i >= 0 */
    cr_assert(aff_prove_nonneg(&s, &lo));
    cr_assert(aff_prove_nonneg(&s, &hi));
    Affine over = aff(-2, 2, T(N, 1), T(I, -1));        /* i + 1 <= N - 1: false */
    cr_assert_not(aff_prove_nonneg(&s, &over));
    Affine neg = aff(-1, 1, T(I, 1));                   /* i - 1 >= 0: false */
    cr_assert_not(aff_prove_nonneg(&s, &neg));
    arena_free(&ar);
}

Test(prove, stencil_uses_the_non_empty_range)
{
    Arena ar;
    arena_init(&ar);
    AffSystem s;
    aff_system_init(&s, &ar);
    loop(&s, I, aff_const(1), aff(-1, 1, T(N, 1)));    /* i in 1..N-1 */
    Affine lo = aff(-1, 1, T(I, 1));                    /* i - 1 >= 0 */
    Affine hi = aff(-2, 2, T(N, 1), T(I, -1));          /* N - 1 - (i + 1) >= 0 */
    Affine const_idx = aff(-3, 1, T(N, 1));             /* N - 1 - 2 >= 0: N >= 3 from 1 <= N - 2 */
    cr_assert(aff_prove_nonneg(&s, &lo));
    cr_assert(aff_prove_nonneg(&s, &hi));
    cr_assert(aff_prove_nonneg(&s, &const_idx));
    Affine too_far = aff(-4, 1, T(N, 1));               /* N >= 4 does not follow */
    cr_assert_not(aff_prove_nonneg(&s, &too_far));
    arena_free(&ar);
}

Test(prove, triangular_nest)
{
    Arena ar;
    arena_init(&ar);
    AffSystem s;
    aff_system_init(&s, &ar);
    loop(&s, I, aff_const(0), aff(0, 1, T(N, 1)));     /* i in 0..N */
    loop(&s, J, aff_const(0), aff(1, 1, T(I, 1)));     /* j in 0..i+1 */
    Affine hi = aff(-1, 2, T(N, 1), T(J, -1));          /* j <= N - 1 */
    cr_assert(aff_prove_nonneg(&s, &hi));
    Affine diff = aff(0, 2, T(I, 1), T(J, -1));         /* i - j >= 0 */
    cr_assert(aff_prove_nonneg(&s, &diff));
    Affine strict = aff(-1, 2, T(I, 1), T(J, -1));      /* i - j - 1 >= 0: false at j = i */
    cr_assert_not(aff_prove_nonneg(&s, &strict));
    arena_free(&ar);
}

Test(prove, conditions_and_size_facts)
{
    Arena ar;
    arena_init(&ar);
    AffSystem s;
    aff_system_init(&s, &ar);
    loop(&s, I, aff_const(0), aff(0, 1, T(N, 1)));
    Affine lower = aff(-1, 1, T(I, 1));                 /* i - 1 >= 0 */
    cr_assert_not(aff_prove_nonneg(&s, &lower));
    int mark = s.ncons;
    Affine cond = aff(-1, 1, T(I, 1));                  /* if i > 0: i - 1 >= 0 */
    aff_system_push(&s, &cond);
    cr_assert(aff_prove_nonneg(&s, &lower));
    s.ncons = mark;
    cr_assert_not(aff_prove_nonneg(&s, &lower), "popping a condition forgets it");

    /* A size fact H - R >= 0 (a shape H - R + 1 with R >= 1 elsewhere): y + r <= H - 1
     * for y in 0..H-R+1, r in 0..R. */
    aff_system_init(&s, &ar);
    Affine dim = aff(1, 2, T(N, 1), T(M, -1));          /* N - M + 1 >= 0 */
    aff_system_push(&s, &dim);
    loop(&s, I, aff_const(0), dim);
    loop(&s, J, aff_const(0), aff(0, 1, T(M, 1)));
    Affine in = aff(-1, 3, T(N, 1), T(I, -1), T(J, -1));
    cr_assert(aff_prove_nonneg(&s, &in));
    arena_free(&ar);
}

Test(prove, scaled_coefficients)
{
    Arena ar;
    arena_init(&ar);
    AffSystem s;
    aff_system_init(&s, &ar);
    loop(&s, I, aff_const(0), aff(0, 1, T(N, 1)));     /* i in 0..N; A has 2*N elements */
    Affine two_i_plus_1 = aff(-2, 2, T(N, 2), T(I, -2)); /* 2N - 1 - (2i + 1) >= 0 */
    cr_assert(aff_prove_nonneg(&s, &two_i_plus_1));
    Affine two_i_plus_2 = aff(-3, 2, T(N, 2), T(I, -2)); /* 2i + 2 <= 2N - 1: false */
    cr_assert_not(aff_prove_nonneg(&s, &two_i_plus_2));
    arena_free(&ar);
}

Test(extreme, largest_and_smallest_values_for_messages)
{
    Arena ar;
    arena_init(&ar);
    AffSystem s;
    aff_system_init(&s, &ar);
    loop(&s, I, aff_const(0), aff(0, 1, T(M, 1)));     /* i in 0..M */
    loop(&s, KK, aff_const(0), aff(0, 1, T(K, 1)));    /* k in 0..K */
    Affine sub = aff(1, 1, T(I, 1));                    /* i + 1 */
    Affine m;
    cr_assert(aff_extreme(&s, &sub, true, &m));
    cr_assert_str_eq(show(&m), "M");
    Affine low = aff(-1, 2, T(I, 1), T(KK, -1));        /* i - k - 1 */
    cr_assert(aff_extreme(&s, &low, false, &m));
    cr_assert_str_eq(show(&m), "-K");
    arena_free(&ar);
}
