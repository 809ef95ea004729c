#include "util/numbers.h"

#include <math.h>
#include <string.h>

static uint32_t f32_bits(float x)
{
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float bits_f32(uint32_t u)
{
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

uint16_t num_f32_to_f16(float x)
{
    uint32_t u = f32_bits(x);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t exp = (u >> 23) & 0xFFu;
    uint32_t man = u & 0x7FFFFFu;
    if (exp == 0xFF)  /* inf or NaN (keep NaN quiet) */
        return (uint16_t)(sign | 0x7C00u | (man ? 0x200u | (man >> 13) : 0));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31)
        return (uint16_t)(sign | 0x7C00u);
    if (e <= 0) {
        /* Subnormal or zero: shift the full significand, round to nearest even. */
        if (e < -10)
            return (uint16_t)sign;
        man |= 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = 1u << (shift - 1);
        uint32_t rest = man & ((1u << shift) - 1);
        uint32_t h = man >> shift;
        if (rest > half || (rest == half && (h & 1)))
            h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (man >> 13);
    uint32_t rest = man & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1)))
        h++;  /* may carry into the exponent, up to infinity: correct */
    return (uint16_t)(sign | h);
}

float num_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu;
    uint32_t man = h & 0x3FFu;
    if (exp == 0) {
        float v = ldexpf((float)man, -24);
        return sign ? -v : v;
    }
    if (exp == 31)  /* inf or NaN; a signalling NaN comes out quiet, as hardware converts */
        return bits_f32(sign | 0x7F800000u | (man ? 0x400000u : 0) | (man << 13));
    return bits_f32(sign | ((exp - 15 + 127) << 23) | (man << 13));
}

uint16_t num_f32_to_bf16(float x)
{
    uint32_t u = f32_bits(x);
    if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x7FFFFFu))
        return (uint16_t)((u >> 16) | 0x40u);  /* quiet NaN */
    uint32_t rest = u & 0xFFFFu;
    uint32_t h = u >> 16;
    if (rest > 0x8000u || (rest == 0x8000u && (h & 1)))
        h++;
    return (uint16_t)h;
}

float num_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

double num_round_float(double x, ElemType t)
{
    switch (t) {
    case ELEM_F16: return num_f16_to_f32(num_f32_to_f16((float)x));
    case ELEM_BF16: return num_bf16_to_f32(num_f32_to_bf16((float)x));
    case ELEM_F32: return (float)x;
    default: return x;
    }
}

int64_t num_wrap_int(int64_t x, ElemType t)
{
    uint64_t u = (uint64_t)x;
    switch (t) {
    case ELEM_BOOL: return x != 0;
    case ELEM_I8: return (int8_t)(uint8_t)u;
    case ELEM_I16: return (int16_t)(uint16_t)u;
    case ELEM_I32: return (int32_t)(uint32_t)u;
    case ELEM_U8: return (uint8_t)u;
    case ELEM_U32: return (uint32_t)u;
    default: return x;
    }
}

int64_t num_float_to_int(double x, ElemType t)
{
    if (isnan(x))
        return 0;
    if (t == ELEM_BOOL)
        return x != 0;
    double lo, hi;
    switch (t) {
    case ELEM_I8: lo = INT8_MIN, hi = INT8_MAX; break;
    case ELEM_I16: lo = INT16_MIN, hi = INT16_MAX; break;
    case ELEM_I32: lo = INT32_MIN, hi = INT32_MAX; break;
    case ELEM_U8: lo = 0, hi = UINT8_MAX; break;
    case ELEM_U32: lo = 0, hi = UINT32_MAX; break;
    default:
        if (x >= 9223372036854775808.0)
            return INT64_MAX;
        if (x < -9223372036854775808.0)
            return INT64_MIN;
        return (int64_t)trunc(x);
    }
    x = trunc(x);
    return (int64_t)(x < lo ? lo : x > hi ? hi : x);
}

static bool is_unsigned(ElemType t) { return t == ELEM_U8 || t == ELEM_U32; }

int64_t num_int_div(int64_t a, int64_t b, ElemType t)
{
    if (b == 0)
        return 0;
    if (is_unsigned(t))
        return num_wrap_int((int64_t)((uint64_t)a / (uint64_t)b), t);
    if (a == INT64_MIN && b == -1)
        return num_wrap_int(INT64_MIN, t);
    return num_wrap_int(a / b, t);
}

int64_t num_int_rem(int64_t a, int64_t b, ElemType t)
{
    if (b == 0)
        return a;
    if (is_unsigned(t))
        return num_wrap_int((int64_t)((uint64_t)a % (uint64_t)b), t);
    if (b == -1)
        return 0;
    return num_wrap_int(a % b, t);
}

double num_unit_roundoff(ElemType t)
{
    switch (t) {
    case ELEM_F16: return ldexp(1.0, -11);
    case ELEM_BF16: return ldexp(1.0, -8);
    case ELEM_F32: return ldexp(1.0, -24);
    case ELEM_F64: return ldexp(1.0, -53);
    default: return 0;
    }
}

double num_underflow_unit(ElemType t)
{
    switch (t) {
    case ELEM_F16: return ldexp(1.0, -24);
    case ELEM_BF16: return ldexp(1.0, -133);
    case ELEM_F32: return ldexp(1.0, -149);
    case ELEM_F64: return ldexp(1.0, -1074);
    default: return 0;
    }
}

int64_t num_load_int(const void *data, int64_t i, ElemType t)
{
    switch (t) {
    case ELEM_BOOL: return ((const bool *)data)[i];
    case ELEM_I8: return ((const int8_t *)data)[i];
    case ELEM_I16: return ((const int16_t *)data)[i];
    case ELEM_I32: return ((const int32_t *)data)[i];
    case ELEM_I64: return ((const int64_t *)data)[i];
    case ELEM_U8: return ((const uint8_t *)data)[i];
    case ELEM_U32: return ((const uint32_t *)data)[i];
    default: return (int64_t)num_load(data, i, t);
    }
}

double num_load(const void *data, int64_t i, ElemType t)
{
    switch (t) {
    case ELEM_F16: return num_f16_to_f32(((const uint16_t *)data)[i]);
    case ELEM_BF16: return num_bf16_to_f32(((const uint16_t *)data)[i]);
    case ELEM_F32: return ((const float *)data)[i];
    case ELEM_F64: return ((const double *)data)[i];
    default: return (double)num_load_int(data, i, t);
    }
}

void num_store_int(void *data, int64_t i, ElemType t, int64_t v)
{
    v = num_wrap_int(v, t);
    switch (t) {
    case ELEM_BOOL: ((bool *)data)[i] = v != 0; break;
    case ELEM_I8: ((int8_t *)data)[i] = (int8_t)v; break;
    case ELEM_I16: ((int16_t *)data)[i] = (int16_t)v; break;
    case ELEM_I32: ((int32_t *)data)[i] = (int32_t)v; break;
    case ELEM_I64: ((int64_t *)data)[i] = v; break;
    case ELEM_U8: ((uint8_t *)data)[i] = (uint8_t)v; break;
    case ELEM_U32: ((uint32_t *)data)[i] = (uint32_t)v; break;
    default: num_store(data, i, t, (double)v); break;
    }
}

void num_store(void *data, int64_t i, ElemType t, double v)
{
    switch (t) {
    case ELEM_F16: ((uint16_t *)data)[i] = num_f32_to_f16((float)v); break;
    case ELEM_BF16: ((uint16_t *)data)[i] = num_f32_to_bf16((float)v); break;
    case ELEM_F32: ((float *)data)[i] = (float)v; break;
    case ELEM_F64: ((double *)data)[i] = v; break;
    default: num_store_int(data, i, t, num_float_to_int(v, t)); break;
    }
}
