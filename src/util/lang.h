/* The language's shared vocabulary, kept once: the tables of element types,
 * intrinsics, hardware indices, targets and tensor-core shapes, the enums
 * over them, and the parameter modes. The parser, the checker, the IR and
 * code generation all speak it; it lives outside src/parser so that code
 * generation reads the IR without the AST. */
#ifndef ACCL_LANG_H
#define ACCL_LANG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Element types: X(enum, spelling, bytes, class, C type).
 * Classes: B bool, S signed integer, U unsigned integer, F float (f16/bf16 are storage). */
#define ACC_ELEM_TYPES(X)                        \
    X(BOOL, "bool", 1, B, "bool")                \
    X(I8, "i8", 1, S, "int8_t")                  \
    X(I16, "i16", 2, S, "int16_t")               \
    X(I32, "i32", 4, S, "int32_t")               \
    X(I64, "i64", 8, S, "int64_t")               \
    X(U8, "u8", 1, U, "uint8_t")                 \
    X(U32, "u32", 4, U, "uint32_t")              \
    X(F16, "f16", 2, F, "accl_f16")              \
    X(BF16, "bf16", 2, F, "accl_bf16")           \
    X(F32, "f32", 4, F, "float")                 \
    X(F64, "f64", 8, F, "double")

/* Intrinsics: X(enum, spelling, arity). All take and give floats, except
 * abs, min and max, which also take integers. */
#define ACC_INTRINSICS(X)       \
    X(EXP, "exp", 1)            \
    X(LOG, "log", 1)            \
    X(SQRT, "sqrt", 1)          \
    X(RSQRT, "rsqrt", 1)        \
    X(TANH, "tanh", 1)          \
    X(ERF, "erf", 1)            \
    X(SIN, "sin", 1)            \
    X(COS, "cos", 1)            \
    X(ABS, "abs", 1)            \
    X(MIN, "min", 2)            \
    X(MAX, "max", 2)            \
    X(POW, "pow", 2)            \
    X(FMA, "fma", 3)

/* Hardware indices: X(enum, unit, axis, supported). warpgroup is reserved. */
#define ACC_HW_INDICES(X)                    \
    X(BLOCK_X, "block", "x", 1)              \
    X(BLOCK_Y, "block", "y", 1)              \
    X(BLOCK_Z, "block", "z", 1)              \
    X(WARP_X, "warp", "x", 1)                \
    X(WARP_Y, "warp", "y", 1)                \
    X(THREAD_X, "thread", "x", 1)            \
    X(THREAD_Y, "thread", "y", 1)            \
    X(THREAD_Z, "thread", "z", 1)            \
    X(WARPGROUP_X, "warpgroup", "x", 0)      \
    X(WARPGROUP_Y, "warpgroup", "y", 0)

/* Targets: X(enum, vendor, arch, wave size, static shared bytes, opt-in shared bytes).
 * Nvidia schedules apply to every sm at or above theirs (sm_90a only to sm_90a). */
#define ACC_TARGETS(X)                                   \
    X(CPU, "cpu", "", 0, 0, 0)                           \
    X(SM_80, "nvidia", "sm_80", 32, 49152, 166912)       \
    X(SM_86, "nvidia", "sm_86", 32, 49152, 101376)       \
    X(SM_89, "nvidia", "sm_89", 32, 49152, 101376)       \
    X(SM_90, "nvidia", "sm_90", 32, 49152, 232448)       \
    X(SM_90A, "nvidia", "sm_90a", 32, 49152, 232448)     \
    X(GFX90A, "amd", "gfx90a", 64, 65536, 65536)         \
    X(GFX942, "amd", "gfx942", 64, 65536, 65536)         \
    X(GFX1100, "amd", "gfx1100", 32, 65536, 65536)

/* Tensor-core shapes: X(target family, name, M, N, K, input class). */
#define ACC_MMA_SHAPES(X)                        \
    X(NVIDIA, "mma", 16, 8, 16, "f16/bf16")      \
    X(NVIDIA, "mma", 16, 8, 8, "f16/bf16")       \
    X(NVIDIA, "mma", 16, 8, 32, "i8")            \
    X(CDNA, "mma", 32, 32, 8, "f16/bf16")        \
    X(CDNA, "mma", 16, 16, 16, "f16/bf16")       \
    X(RDNA, "mma", 16, 16, 16, "f16/bf16")

typedef enum ElemType {
#define X(e, s, bytes, cls, ctype) ELEM_##e,
    ACC_ELEM_TYPES(X)
#undef X
    ELEM_COUNT,
    ELEM_NONE = -1
} ElemType;

typedef enum Intrinsic {
#define X(e, s, arity) INTR_##e,
    ACC_INTRINSICS(X)
#undef X
    INTR_COUNT
} Intrinsic;

typedef enum HwIndex {
#define X(e, unit, axis, ok) HW_##e,
    ACC_HW_INDICES(X)
#undef X
    HW_COUNT,
    HW_NONE = -1
} HwIndex;

typedef enum Target {
#define X(e, vendor, arch, wave, smem, smem_optin) TARGET_##e,
    ACC_TARGETS(X)
#undef X
    TARGET_COUNT,
    TARGET_NONE = -1
} Target;

typedef enum ParamMode { MODE_IN, MODE_OUT, MODE_INOUT } ParamMode;

const char *elem_type_name(ElemType t);
int elem_type_bytes(ElemType t);
bool elem_is_float(ElemType t);
bool elem_is_int(ElemType t);       /* signed or unsigned, not bool */
bool elem_is_signed(ElemType t);
const char *target_vendor(Target t);
const char *target_arch(Target t);
int target_wave_size(Target t);
/* The most threads one block may have, on every GPU target. */
enum { TARGET_MAX_THREADS = 1024 };
/* The most shared memory one block may use (with the opt-in), in bytes; 0 on the CPU. */
int64_t target_shared_limit(Target t);
bool target_is_gpu(Target t);
/* The target as --target spells it ("cpu", "nvidia:sm_80"), in buf. */
const char *target_spelling(Target t, char *buf, size_t n);
const char *intrinsic_name(Intrinsic i);
int intrinsic_arity(Intrinsic i);
const char *hw_unit(HwIndex h);
const char *hw_axis(HwIndex h);

#endif
