/* Affine forms c + sum k*term over int64, with checked arithmetic: the one
 * representation the provers of sema (over sizes and indices) and lower (over
 * IR variables and opaque IR expressions) and the emitter's index arithmetic
 * (over LLVM values: emit/cg.h's Lin) share (STYLE.md: each idea lives in one
 * place).
 *
 * A term is an opaque key compared by identity: a small integer (sema's size
 * and index symbols) or a pointer made into one with AFF_KEY (an IrVar, an
 * IrExpr the caller has made unique, an LLVMValueRef). What a key means, and
 * any order among keys, is the caller's.
 *
 * Every operation that overflows int64 or needs more than AFF_MAX_TERMS terms
 * clears `ok`; a form that is not ok stays not ok and proves nothing. No term
 * has a zero coefficient; terms stay in the order they were first added, and
 * removing one (its coefficient cancelled) keeps the others in that order, so
 * callers that print or rebuild forms (the emitter's index arithmetic among
 * them) produce the same code from the same arithmetic. */
#ifndef ACCL_AFFINE_H
#define ACCL_AFFINE_H

#include <stdbool.h>
#include <stdint.h>

enum { AFF_MAX_TERMS = 24 };

#define AFF_KEY(p) ((intptr_t)(const void *)(p))

typedef struct AffTerm {
    intptr_t key;
    int64_t k;             /* never 0 */
} AffTerm;

typedef struct Affine {
    bool ok;
    int64_t c;
    int n;
    AffTerm t[AFF_MAX_TERMS];
} Affine;

Affine aff_const(int64_t c);
/* 1 * key */
Affine aff_term(intptr_t key);
/* a += k; a += k * key; dst += k * src */
void aff_add_const(Affine *a, int64_t k);
void aff_add_term(Affine *a, intptr_t key, int64_t k);
void aff_add_scaled(Affine *dst, const Affine *src, int64_t k);
/* a - b */
Affine aff_sub(const Affine *a, const Affine *b);
/* k * a */
Affine aff_scale(const Affine *a, int64_t k);
/* key's coefficient in a (0 when absent) */
int64_t aff_coeff(const Affine *a, intptr_t key);
/* a without key's term */
Affine aff_without(const Affine *a, intptr_t key);
bool aff_is_const(const Affine *a);
bool aff_equal(const Affine *a, const Affine *b);
/* Whether k (nonzero) divides the constant and every coefficient of a. */
bool aff_divisible(const Affine *a, int64_t k);
/* a / k where aff_divisible(a, k): exact, so it cannot overflow except for
 * INT64_MIN / -1, which clears ok. */
Affine aff_div_exact(const Affine *a, int64_t k);
/* Divides a goal g >= 0 by the gcd of its coefficients, rounding the constant
 * down: the result >= 0 still implies g >= 0 over the integers. */
void aff_normalize(Affine *g);
/* For goals e >= 0 and g >= 0 whose coefficients on key have the same sign,
 * |a|*e - |k|*g (normalized) has no key, and it being >= 0 implies e >= 0
 * given g >= 0 (Fourier-Motzkin elimination of key). */
Affine aff_eliminate(const Affine *e, const Affine *g, intptr_t key);

#endif
