/* The language's word lists, kept once. The lexer, the checker, the dumps and
 * the editor-grammar tests all expand these tables (X-macros). */
#ifndef ACCL_LANGDEFS_H
#define ACCL_LANGDEFS_H

/* Keywords: X(token, spelling, category). Categories drive editor colours:
 *   DECL   declarations and statements     CLAUSE  schedule clauses and their words
 *   CONST  named constants                 */
#define ACC_KEYWORDS(X)                     \
    X(KERNEL, "kernel", DECL)               \
    X(SCHEDULE, "schedule", DECL)           \
    X(FOR, "for", DECL)                     \
    X(IN, "in", DECL)                       \
    X(OUT, "out", DECL)                     \
    X(INOUT, "inout", DECL)                 \
    X(VAR, "var", DECL)                     \
    X(LET, "let", DECL)                     \
    X(IF, "if", DECL)                       \
    X(ELSE, "else", DECL)                   \
    X(PARAM, "param", CLAUSE)               \
    X(ASSUME, "assume", CLAUSE)             \
    X(FUSE, "fuse", CLAUSE)                 \
    X(INTO, "into", CLAUSE)                 \
    X(AT, "at", CLAUSE)                     \
    X(BY, "by", CLAUSE)                     \
    X(SPLIT, "split", CLAUSE)               \
    X(TILE, "tile", CLAUSE)                 \
    X(REORDER, "reorder", CLAUSE)           \
    X(UNROLL, "unroll", CLAUSE)             \
    X(VECTORIZE, "vectorize", CLAUSE)       \
    X(PARALLEL, "parallel", CLAUSE)         \
    X(BIND, "bind", CLAUSE)                 \
    X(CACHE, "cache", CLAUSE)               \
    X(SHARED, "shared", CLAUSE)             \
    X(REGISTERS, "registers", CLAUSE)       \
    X(PAD, "pad", CLAUSE)                   \
    X(SWIZZLE, "swizzle", CLAUSE)           \
    X(PIPELINE, "pipeline", CLAUSE)         \
    X(STAGES, "stages", CLAUSE)             \
    X(SPECIALIZE, "specialize", CLAUSE)     \
    X(TENSORIZE, "tensorize", CLAUSE)       \
    X(WITH, "with", CLAUSE)                 \
    X(RFACTOR, "rfactor", CLAUSE)           \
    X(INF, "inf", CONST)                    \
    X(PI, "pi", CONST)                      \
    X(TRUE, "true", CONST)                  \
    X(FALSE, "false", CONST)

/* Schedule clauses: X(kind, effect, targets), kind also naming the clause's
 * keyword in ACC_KEYWORDS (its spelling lives there). The effect is what the
 * clause does to the nest's loop list:
 *   PIECES  replaces each loop it names by an outer and an inner piece
 *   FUSED   replaces two adjacent loops by one
 *   ORDER   moves whole loops
 *   KIND    gives loops a kind (how they run)
 *   NONE    leaves the loops as they are
 * targets: where it is allowed (ANY, CPU, GPU). */
#define ACC_CLAUSES(X)              \
    X(SPLIT, PIECES, ANY)           \
    X(TILE, PIECES, ANY)            \
    X(REORDER, ORDER, ANY)          \
    X(FUSE, FUSED, ANY)             \
    X(UNROLL, KIND, ANY)            \
    X(VECTORIZE, KIND, ANY)         \
    X(PARALLEL, KIND, CPU)          \
    X(BIND, KIND, GPU)              \
    X(CACHE, NONE, ANY)             \
    X(PIPELINE, NONE, GPU)          \
    X(TENSORIZE, KIND, GPU)         \
    X(RFACTOR, NONE, ANY)

/* Punctuation and operators: X(token, spelling). */
#define ACC_PUNCT(X)                        \
    X(LPAREN, "(")                          \
    X(RPAREN, ")")                          \
    X(LBRACE, "{")                          \
    X(RBRACE, "}")                          \
    X(LBRACKET, "[")                        \
    X(RBRACKET, "]")                        \
    X(COMMA, ",")                           \
    X(SEMI, ";")                            \
    X(COLON, ":")                           \
    X(DOT, ".")                             \
    X(DOTDOT, "..")                         \
    X(ARROW, "->")                          \
    X(QUESTION, "?")                        \
    X(PLUS, "+")                            \
    X(MINUS, "-")                           \
    X(STAR, "*")                            \
    X(SLASH, "/")                           \
    X(PERCENT, "%")                         \
    X(ASSIGN, "=")                          \
    X(PLUSEQ, "+=")                         \
    X(MINUSEQ, "-=")                        \
    X(STAREQ, "*=")                         \
    X(SLASHEQ, "/=")                        \
    X(EQ, "==")                             \
    X(NE, "!=")                             \
    X(LT, "<")                              \
    X(LE, "<=")                             \
    X(GT, ">")                              \
    X(GE, ">=")                             \
    X(ANDAND, "&&")                         \
    X(OROR, "||")                           \
    X(NOT, "!")

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

#endif
