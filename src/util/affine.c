/* Affine forms with checked arithmetic (see affine.h). */
#include "util/affine.h"

#include "util/intmath.h"

Affine aff_const(int64_t c) { return (Affine){.ok = true, .c = c}; }

Affine aff_term(intptr_t key)
{
    Affine a = aff_const(0);
    aff_add_term(&a, key, 1);
    return a;
}

static int find_term(const Affine *a, intptr_t key)
{
    for (int i = 0; i < a->n; i++)
        if (a->t[i].key == key)
            return i;
    return -1;
}

/* Shifts the later terms down: their order is the order of the code that
 * callers build from them. */
static void remove_term(Affine *a, int i)
{
    a->n--;
    for (; i < a->n; i++)
        a->t[i] = a->t[i + 1];
}

void aff_add_const(Affine *a, int64_t k)
{
    if (a->ok && __builtin_add_overflow(a->c, k, &a->c))
        a->ok = false;
}

void aff_add_term(Affine *a, intptr_t key, int64_t k)
{
    if (!a->ok || k == 0)
        return;
    int i = find_term(a, key);
    if (i >= 0) {
        if (__builtin_add_overflow(a->t[i].k, k, &a->t[i].k))
            a->ok = false;
        else if (a->t[i].k == 0)
            remove_term(a, i);
        return;
    }
    if (a->n == AFF_MAX_TERMS) {
        a->ok = false;
        return;
    }
    a->t[a->n++] = (AffTerm){key, k};
}

void aff_add_scaled(Affine *dst, const Affine *src, int64_t k)
{
    int64_t v;
    if (!src->ok || __builtin_mul_overflow(src->c, k, &v)) {
        dst->ok = false;
        return;
    }
    aff_add_const(dst, v);
    for (int i = 0; i < src->n && dst->ok; i++) {
        if (__builtin_mul_overflow(src->t[i].k, k, &v))
            dst->ok = false;
        else
            aff_add_term(dst, src->t[i].key, v);
    }
}

Affine aff_sub(const Affine *a, const Affine *b)
{
    Affine r = *a;
    aff_add_scaled(&r, b, -1);
    return r;
}

Affine aff_scale(const Affine *a, int64_t k)
{
    Affine r = aff_const(0);
    aff_add_scaled(&r, a, k);
    return r;
}

int64_t aff_coeff(const Affine *a, intptr_t key)
{
    int i = find_term(a, key);
    return i < 0 ? 0 : a->t[i].k;
}

Affine aff_without(const Affine *a, intptr_t key)
{
    Affine r = *a;
    int i = find_term(&r, key);
    if (i >= 0)
        remove_term(&r, i);
    return r;
}

bool aff_is_const(const Affine *a) { return a->ok && a->n == 0; }

bool aff_equal(const Affine *a, const Affine *b)
{
    Affine d = aff_sub(a, b);
    return aff_is_const(&d) && d.c == 0;
}

bool aff_divisible(const Affine *a, int64_t k)
{
    /* im_floor_mod is total: INT64_MIN % -1 has no undefined behaviour. */
    if (!a->ok || k == 0 || im_floor_mod(a->c, k) != 0)
        return false;
    for (int i = 0; i < a->n; i++)
        if (im_floor_mod(a->t[i].k, k) != 0)
            return false;
    return true;
}

Affine aff_div_exact(const Affine *a, int64_t k)
{
    if (k == -1)
        return aff_scale(a, -1);
    Affine r = *a;
    r.c /= k;
    for (int i = 0; i < r.n; i++)
        r.t[i].k /= k;
    return r;
}

void aff_normalize(Affine *g)
{
    if (!g->ok || g->n == 0)
        return;
    int64_t d = 0;
    for (int i = 0; i < g->n; i++)
        d = im_gcd(d, g->t[i].k);
    if (d <= 1)
        return;
    for (int i = 0; i < g->n; i++)
        g->t[i].k /= d;
    g->c = im_floor_div(g->c, d);
}

Affine aff_eliminate(const Affine *e, const Affine *g, intptr_t key)
{
    int64_t k = aff_coeff(e, key), a = aff_coeff(g, key);
    /* -INT64_MIN overflows: such a coefficient makes the result not ok
     * (before any negation below). */
    if (a == INT64_MIN || k == INT64_MIN)
        return (Affine){.ok = false};
    Affine r = aff_const(0);
    aff_add_scaled(&r, e, a < 0 ? -a : a);
    aff_add_scaled(&r, g, k < 0 ? k : -k);
    aff_normalize(&r);
    return r;
}
