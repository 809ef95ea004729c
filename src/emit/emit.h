/* Code generation through LLVM (the C API of LLVM 19), from the loop IR only.
 *
 * One LLVM module per input file. For each kernel K it holds:
 *   K.body   internal: the lowered IR of K (cpu.c); returns 0 or an ACCL_ERR_*
 *            code (out of memory); arguments: every tensor pointer (ptr) and
 *            scalar in declaration order, then every size (i64) in order of
 *            first appearance (IrFunc.sizes). Scalars are passed by value in
 *            their register form: bool i1, i8/u8 i8, i16 i16, i32/u32 i32, i64
 *            i64, f32 float, f64 double, f16/bf16 their bits as i16. Parallel
 *            loops become K.par<N>(ptr ctx, i64 lo, i64 hi), internal, run
 *            through accl_parallel_for
 *   K        the public entry with the design's C signature (entry.c): checks
 *            sizes, shapes, null pointers and assumptions, then calls K.body
 *   K.packed int K.packed(void **args): args[i] points to the i-th argument of K;
 *            for the JIT and `accl run` (entry.c)
 * and the C header declares K (header.c). */
#ifndef ACCL_EMIT_H
#define ACCL_EMIT_H

#include <stdbool.h>
#include <stdio.h>

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "lower/ir.h"
#include "util/diag.h"

/* The machine code is for: a triple, a CPU and its features. */
typedef struct EmitMachine {
    const char *triple;     /* "x86_64-pc-linux-gnu", "aarch64-unknown-linux-gnu" */
    const char *cpu;        /* "sapphirerapids", "generic", ... */
    const char *features;   /* "+avx2,+fma,..." */
    int vector_bits;        /* widest vector register: 128, 256, 512 */
    char storage[4096];     /* the host's strings, which the fields above point into */
} EmitMachine;

/* The host (LLVMGetHostCPUName and features), or a named architecture:
 * "x86_64" or "aarch64" (generic CPUs). Returns false for an unknown name. */
bool emit_machine(const char *arch, EmitMachine *m);
/* A target machine at -O3 for m, or NULL with a message in *err. */
LLVMTargetMachineRef emit_target_machine(const EmitMachine *m, char **err);

/* cpu.c: adds K.body for each function to the module. Returns false after a
 * diagnostic (through d) if something in the IR cannot be emitted. */
bool emit_cpu_bodies(LLVMModuleRef mod, IrFunc *const *funcs, int n, const EmitMachine *m, Diag *d);

/* entry.c: adds K and K.packed for each function (bodies must exist). */
void emit_entries(LLVMModuleRef mod, IrFunc *const *funcs, int n);

/* header.c: the C header declaring every K, with the runtime's types and codes. */
void emit_header(FILE *out, const char *guard, IrFunc *const *funcs, int n);

/* Runs LLVM's O3 pipeline on the module for the machine. */
bool emit_optimize(LLVMModuleRef mod, LLVMTargetMachineRef tm, char **err);

#endif
