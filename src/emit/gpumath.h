/* Our own math library for GPUs: the float intrinsics that a GPU back end
 * cannot lower without a vendor library, built as LLVM IR from basic
 * arithmetic (add, mul, div, fma, select, integer and bit operations) and the
 * few llvm.* intrinsics every GPU back end lowers natively (fabs, floor, rint,
 * sqrt, fma, copysign, ctlz), so that no external call remains.
 *
 *   exp, log, sin, cos, tanh, erf, pow   f64 algorithms (below); the f32
 *                                        functions evaluate them in f64 and
 *                                        round once (pow in f32: a cheaper
 *                                        f64 exp(y log x)), except tanh, erf,
 *                                        sin and cos: f32 algorithms
 *   rsqrt                                1 / llvm.sqrt(x)
 *
 * Each function is named accl.gpumath.<name>.<f32|f64>, internal, and defined
 * once per module; sin and cos share a table of the bits of 2/pi
 * (accl.gpumath.2_over_pi). Accuracy, measured against the host's long-double
 * libm by tests/unit/test_gpumath.c, and the special cases (C99 Annex F) are
 * in lang/SPEC.md (Numbers: intrinsics on GPUs). */
#ifndef ACCL_GPUMATH_H
#define ACCL_GPUMATH_H

#include <stdbool.h>

#include <llvm-c/Core.h>

#include "util/lang.h"

/* Whether gpumath defines intrinsic k (exp log sin cos tanh erf pow rsqrt). */
bool gpumath_has(Intrinsic k);

/* The function computing k on t (ELEM_F32 or ELEM_F64) in m, defined on the
 * first call; its 2/pi table lives in address space const_as (AMDGPU: 4, the
 * constant space; 0 on a CPU). NULL when !gpumath_has(k) or t is no float
 * type of those two. */
LLVMValueRef gpumath_function(LLVMModuleRef m, Intrinsic k, ElemType t, unsigned const_as);

#endif
