/* The JIT: kernels compiled for the host through LLVM's ORC LLJIT, callable
 * in this process (`accl run`, `accl bench`, the unit tests).
 *
 *   IrFunc -> module (bodies, entries) -> O3 for the host -> LLJIT -> K.packed
 *
 * Symbols the generated code calls (the runtime's accl_parallel_for, libm)
 * resolve from the process: accl links libaccrt with --whole-archive and
 * -rdynamic, and the unit tests link it too. */
#ifndef ACCL_JIT_H
#define ACCL_JIT_H

#include "emit/gpu.h"
#include "lower/ir.h"
#include "util/diag.h"

/* int K.packed(void **args): args[i] points to the i-th argument of K (tensor
 * pointers and scalars in declaration order, then each size as int64_t).
 * Returns ACCL_OK or an ACCL_ERR_* code. */
typedef int (*JitPackedFn)(void **args);

typedef struct Jit Jit;

/* Compiles funcs for the host CPU. Returns NULL after a diagnostic through d
 * (the IR cannot be emitted) or with a message in *err (malloc'd; LLVM
 * failed). Release with jit_free. */
Jit *jit_compile(IrFunc *const *funcs, int n, Diag *d, char **err);

/* GPU targets: funcs (in the GPU execution form) as host stubs launching
 * img's device code through the runtime (`accl run` on a GPU). K.packed takes
 * device pointers, and a pointer to the stream last. */
Jit *jit_compile_gpu(IrFunc *const *funcs, int n, const GpuImage *img, Diag *d, char **err);

/* K.packed of the kernel named `kernel`, or NULL with a message in *err (malloc'd). */
JitPackedFn jit_lookup(Jit *j, const char *kernel, char **err);

/* Disposes of the JIT and its code; every function looked up becomes invalid. */
void jit_free(Jit *j);

#endif
