/* Affine expressions over sizes and loop indices, and the in-bounds prover.
 *
 * A fact or goal is an affine g (meaning g >= 0). To prove a goal e, the
 * innermost index i in e is eliminated with a fact whose innermost index is
 * also i and whose coefficient on i has the same sign as e's: for e = k*i + r
 * and g = a*i + s, e' = |a|*e - |k|*g has no i, and e' >= 0 implies e >= 0.
 * Each fact that fits is tried in turn (depth first, with a budget). With no
 * index left, sizes are eliminated the same way using the facts over sizes
 * only, until the goal has no negative coefficient and no negative constant,
 * which proves it for all sizes >= 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema/sema_internal.h"

int aff_innermost_index(const Affine *a)
{
    int best = -1;
    for (int i = 0; i < a->n; i++)
        if (AFF_IS_INDEX(a->t[i].key) && AFF_INDEX_POS(a->t[i].key) > best)
            best = AFF_INDEX_POS(a->t[i].key);
    return best;
}

bool aff_trivially_nonneg(const Affine *a)
{
    if (!a->ok || a->c < 0)
        return false;
    for (int i = 0; i < a->n; i++)
        if (a->t[i].k < 0 || AFF_IS_INDEX(a->t[i].key))
            return false;
    return true;
}

int aff_only_index(const Affine *a)
{
    int at = -1;
    for (int i = 0; i < a->n; i++)
        if (AFF_IS_INDEX(a->t[i].key)) {
            if (at >= 0)
                return -1;
            at = AFF_INDEX_POS(a->t[i].key);
        }
    return at;
}

static bool prove_sizes(const AffSystem *s, const Affine *e, int depth, int *budget)
{
    if (!e->ok || --*budget < 0)
        return false;
    if (aff_trivially_nonneg(e))
        return true;
    if (depth == 0)
        return false;
    /* A negative coefficient must go; with none, a negative constant needs a
     * lower bound on some size with a positive coefficient. */
    bool any_neg = false;
    for (int i = 0; i < e->n; i++)
        any_neg |= e->t[i].k < 0;
    for (int i = 0; i < e->n; i++) {
        int64_t k = e->t[i].k;
        if (any_neg && k > 0)
            continue;
        for (int f = s->ncons - 1; f >= 0; f--) {
            const Affine *g = s->cons[f];
            if (aff_innermost_index(g) >= 0)
                continue;
            int64_t a = aff_coeff(g, e->t[i].key);
            if (a == 0 || (a < 0) != (k < 0))
                continue;
            Affine r = aff_eliminate(e, g, e->t[i].key);
            if (prove_sizes(s, &r, depth - 1, budget))
                return true;
        }
    }
    return false;
}

static bool prove_rec(const AffSystem *s, const Affine *e, int *budget)
{
    if (!e->ok || --*budget < 0)
        return false;
    int q = aff_innermost_index(e);
    if (q < 0)
        return prove_sizes(s, e, 6, budget);
    intptr_t sym = AFF_INDEX(q);
    int64_t k = aff_coeff(e, sym);
    for (int f = s->ncons - 1; f >= 0; f--) {
        const Affine *g = s->cons[f];
        int64_t a = aff_coeff(g, sym);
        if (a == 0 || (a < 0) != (k < 0) || aff_innermost_index(g) != q)
            continue;
        Affine r = aff_eliminate(e, g, sym);
        if (prove_rec(s, &r, budget))
            return true;
    }
    return false;
}

bool aff_prove_nonneg(const AffSystem *s, const Affine *e)
{
    int budget = AFF_PROVE_BUDGET;
    Affine n = *e;
    aff_normalize(&n);
    return prove_rec(s, &n, &budget);
}

bool aff_extreme(const AffSystem *s, const Affine *e, bool upper, Affine *out)
{
    Affine r = *e;
    for (int q; r.ok && (q = aff_innermost_index(&r)) >= 0;) {
        intptr_t sym = AFF_INDEX(q);
        int64_t k = aff_coeff(&r, sym);
        /* For the maximum, a positive coefficient wants an upper bound (a fact
         * with coefficient -1 on the index), and the other way round. */
        int64_t want = (k > 0) == upper ? -1 : 1;
        const Affine *use = NULL;
        for (int f = 0; f < s->ncons && !use; f++)
            if (aff_coeff(s->cons[f], sym) == want && aff_innermost_index(s->cons[f]) == q)
                use = s->cons[f];
        if (!use)
            return false;
        /* g = want*i + rest >= 0 bounds i by -want*rest: i = i + want*g - ... */
        Affine bound = *use;
        aff_add_term(&bound, sym, -want);
        /* bound = rest; i's extreme value is -want*rest (want is 1 or -1, so
         * only k = INT64_MIN overflows the product) */
        int64_t scale;
        r = aff_without(&r, sym);
        if (__builtin_mul_overflow(-want, k, &scale))
            return false;
        aff_add_scaled(&r, &bound, scale);
    }
    *out = r;
    return r.ok;
}

void aff_system_init(AffSystem *s, Arena *a)
{
    memset(s, 0, sizeof *s);
    s->arena = a;
}

void aff_system_push(AffSystem *s, const Affine *g)
{
    if (s->ncons == s->cap) {
        int cap = s->cap ? 2 * s->cap : 16;
        Affine **n = ARENA_ARRAY(s->arena, Affine *, cap);
        if (s->ncons)
            memcpy(n, s->cons, sizeof(Affine *) * (size_t)s->ncons);
        s->cons = n;
        s->cap = cap;
    }
    Affine *copy = ARENA_NEW(s->arena, Affine);
    *copy = *g;
    aff_normalize(copy);
    s->cons[s->ncons++] = copy;
}

/* Sizes first in their order, then indices outermost first. */
static int term_order(const void *pa, const void *pb)
{
    const AffTerm *a = pa, *b = pb;
    int ka = AFF_IS_INDEX(a->key) ? 1000000 + AFF_INDEX_POS(a->key) : (int)a->key;
    int kb = AFF_IS_INDEX(b->key) ? 1000000 + AFF_INDEX_POS(b->key) : (int)b->key;
    return (ka > kb) - (ka < kb);
}

void aff_print(char *buf, int size, const Affine *a, const char *const *size_names,
               const char *const *index_names)
{
    int len = 0;
#define OUT(...)                                                               \
    do {                                                                       \
        int w_ = snprintf(buf + len, (size_t)(size - len), __VA_ARGS__);       \
        len = w_ < 0 || len + w_ >= size ? size - 1 : len + w_;                \
    } while (0)
    buf[0] = '\0';
    if (!a->ok) {
        OUT("?");
        return;
    }
    AffTerm t[AFF_MAX_TERMS];
    memcpy(t, a->t, sizeof(AffTerm) * (size_t)a->n);
    qsort(t, (size_t)a->n, sizeof t[0], term_order);
    for (int i = 0; i < a->n; i++) {
        int64_t k = t[i].k;
        if (i > 0)
            OUT(k < 0 ? " - " : " + ");
        else if (k < 0)
            OUT("-");
        uint64_t m = k < 0 ? 0 - (uint64_t)k : (uint64_t)k;
        if (m != 1)
            OUT("%llu*", (unsigned long long)m);
        int p = AFF_IS_INDEX(t[i].key) ? AFF_INDEX_POS(t[i].key) : (int)t[i].key;
        const char *const *names = AFF_IS_INDEX(t[i].key) ? index_names : size_names;
        if (names)
            OUT("%s", names[p]);
        else
            OUT("%c%d", AFF_IS_INDEX(t[i].key) ? 'i' : 's', p);
    }
    if (a->n == 0)
        OUT("%lld", (long long)a->c);
    else if (a->c != 0)
        OUT(" %c %llu", a->c < 0 ? '-' : '+',
            (unsigned long long)(a->c < 0 ? 0 - (uint64_t)a->c : (uint64_t)a->c));
#undef OUT
}
