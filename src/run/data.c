/* Test data for `accl run` and the comparison of outputs (lang/SPEC.md,
 * Checking results). */
#include "run/data.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/numbers.h"

/* splitmix64 (Steele, Lea, Flood 2014). */
uint64_t data_rng_next(DataRng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

bool data_eval_dim(const Expr *e, const Kernel *k, const int64_t *sizes, int64_t *out)
{
    Arena a;
    arena_init(&a);
    bool ok = ref_eval_size_expr(e, k, sizes, out, &a);
    arena_free(&a);
    return ok;
}

/* A scalar (no brackets) has no dimensions and one element. */
DataShapeErr data_shape(const TypeExpr *ty, const Kernel *k, const int64_t *sizes, RunTensor *t,
                        int *dim, int64_t *value)
{
    memset(t, 0, sizeof *t);
    t->elem = ty->elem;
    t->ndims = ty->ndims;
    t->count = 1;
    *dim = 0, *value = 0;
    if (ty->ndims > RUN_MAX_DIMS)
        return DATA_BAD_DIM;
    for (int d = 0; d < ty->ndims; d++) {
        int64_t v;
        *dim = d;
        if (!data_eval_dim(ty->dims[d], k, sizes, &v))
            return DATA_BAD_DIM;
        *value = v;
        if (v < 0)
            return DATA_NEGATIVE;
        t->dims[d] = v;
        if (v > 0 && t->count > DATA_MAX_ELEMS / v)
            return DATA_TOO_LARGE;
        t->count *= v;
    }
    return DATA_OK;
}

void data_alloc(RunArgs *args, Arena *a)
{
    const Kernel *k = args->kernel;
    for (int i = 0; i < k->nparams; i++) {
        RunTensor *t = &args->tensors[i];
        if (!ast_param_is_buffer(k->params[i]))
            continue;
        size_t bytes = (size_t)elem_type_bytes(t->elem) * (size_t)(t->count > 0 ? t->count : 1);
        t->data = arena_alloc(a, bytes);
    }
}

/* Significand bits of a float type: its random values are j / 2^(p-1) for
 * integers |j| <= 2^(p-1), all exactly representable. */
static int significand_bits(ElemType t)
{
    switch (t) {
    case ELEM_F16: return 11;
    case ELEM_BF16: return 8;
    case ELEM_F32: return 24;
    default: return 53;
    }
}

static void fill_random(RunTensor *t, DataRng *r)
{
    for (int64_t i = 0; i < t->count; i++) {
        uint64_t x = data_rng_next(r);
        if (elem_is_float(t->elem)) {
            int p = significand_bits(t->elem) - 1;
            uint64_t span = (2ull << p) + 1;  /* j in [-2^p, 2^p] */
            int64_t j = (int64_t)((x >> 8) % span) - (int64_t)(1ull << p);
            num_store(t->data, i, t->elem, ldexp((double)j, -p));
        } else if (t->elem == ELEM_BOOL) {
            num_store_int(t->data, i, t->elem, (int64_t)(x >> 63));
        } else if (elem_is_signed(t->elem)) {
            num_store_int(t->data, i, t->elem, (int64_t)(x % 17) - 8);
        } else {
            num_store_int(t->data, i, t->elem, (int64_t)(x % 9));
        }
    }
}

/* Poison: NaN for floats, 0x5A in every byte otherwise, so an element the
 * kernel leaves unwritten fails the comparison. */
static void fill_poison(RunTensor *t)
{
    if (!elem_is_float(t->elem)) {
        memset(t->data, 0x5A, (size_t)elem_type_bytes(t->elem) * (size_t)t->count);
        return;
    }
    for (int64_t i = 0; i < t->count; i++)
        num_store(t->data, i, t->elem, NAN);
}

void data_fill(RunArgs *args, uint64_t seed)
{
    const Kernel *k = args->kernel;
    for (int i = 0; i < k->nparams; i++) {
        if (!ast_param_is_buffer(k->params[i]))
            continue;
        /* One stream per parameter position, derived from the seed. */
        DataRng r = {seed * 0x100000001B3ull + (uint64_t)i * 0xD1B54A32D192ED03ull};
        if (k->params[i]->mode == MODE_OUT)
            fill_poison(&args->tensors[i]);
        else
            fill_random(&args->tensors[i], &r);
    }
}

RunArgs data_copy(const RunArgs *src, Arena *a)
{
    const Kernel *k = src->kernel;
    RunArgs dst = *src;
    dst.tensors = ARENA_ARRAY(a, RunTensor, k->nparams + 1);
    for (int i = 0; i < k->nparams; i++) {
        dst.tensors[i] = src->tensors[i];
        if (!ast_param_is_buffer(k->params[i]) || !src->tensors[i].data)
            continue;
        size_t bytes = (size_t)elem_type_bytes(src->tensors[i].elem) *
                       (size_t)(src->tensors[i].count > 0 ? src->tensors[i].count : 1);
        dst.tensors[i].data = arena_alloc(a, bytes);
        memcpy(dst.tensors[i].data, src->tensors[i].data, bytes);
    }
    return dst;
}

/* How bad an element is: |got - ref| / bound; infinite when it fails a bound
 * of 0 or by kind (NaN, infinities, integers). */
static double element_ratio(bool ok, double got, double ref, double bound)
{
    if (isnan(got) || isnan(ref) || isinf(got) || isinf(ref))
        return ok ? 0 : INFINITY;
    double diff = fabs(got - ref);
    if (bound > 0)
        return diff / bound;
    return diff == 0 && ok ? 0 : INFINITY;
}

/* A bool element is read as a byte: the poison (0x5A) is neither 0 nor 1. */
static int64_t got_int(const RunTensor *t, int64_t i)
{
    if (t->elem == ELEM_BOOL) {
        uint8_t b;
        memcpy(&b, (const uint8_t *)t->data + i, 1);
        return b;
    }
    return num_load_int(t->data, i, t->elem);
}

void data_compare(const RefTensor *ref, const RunTensor *got, DataReport *r)
{
    memset(r, 0, sizeof *r);
    r->worst = -1;
    bool worst_failed = false;
    bool is_float = elem_is_float(got->elem);
    for (int64_t i = 0; i < ref->count; i++) {
        if (!ref->written[i]) {
            r->unwritten++;
            continue;
        }
        const RefVal *v = &ref->vals[i];
        double gf = is_float ? num_load(got->data, i, got->elem) : 0;
        int64_t gi = is_float ? 0 : got_int(got, i);
        double bound;
        bool ok = ref_element_ok(v, got->elem, gf, gi, &bound);
        double ratio = is_float ? element_ratio(ok, gf, v->f, bound) : (ok ? 0 : INFINITY);
        r->compared++;
        r->failed += !ok;
        bool worse = r->worst < 0 || (!ok && !worst_failed) ||
                     (!ok == worst_failed && ratio > r->ratio);
        if (worse) {
            r->worst = i;
            r->got = gf, r->ref = v->f, r->bound = bound, r->ratio = ratio;
            r->got_i = gi, r->ref_i = v->i;
            worst_failed = !ok;
        }
    }
}

void data_element_text(const RunTensor *t, const char *name, int64_t i, char *buf, int n)
{
    int64_t idx[RUN_MAX_DIMS];
    for (int d = t->ndims - 1; d >= 0; d--) {
        int64_t ext = t->dims[d] > 0 ? t->dims[d] : 1;
        idx[d] = i % ext;
        i /= ext;
    }
    int len = snprintf(buf, (size_t)n, "%s", name);
    for (int d = 0; d < t->ndims && len < n; d++)
        len += snprintf(buf + len, (size_t)(n - len), "%s%lld", d ? ", " : "[", (long long)idx[d]);
    if (t->ndims > 0 && len < n)
        snprintf(buf + len, (size_t)(n - len), "]");
}
