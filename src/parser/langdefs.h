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

/* The tables of element types, intrinsics, hardware indices, targets and
 * tensor-core shapes are in util/lang.h: code generation reads them too. */
#include "util/lang.h"

#endif
