/* The host side of GPU kernels (launch.c): in the host object of a GPU
 * target, the module descriptor holding the device code and, per kernel K,
 * the host stub K.body that entry.c's K calls after its checks. */
#ifndef ACCL_EMIT_LAUNCH_H
#define ACCL_EMIT_LAUNCH_H

#include <stdbool.h>

#include <llvm-c/Core.h>

#include "emit/gpu.h"
#include "lower/ir.h"
#include "util/diag.h"

/* Adds the descriptor (with img's device code) and K.body for each function
 * (in the GPU execution form, for img's target) to the host module. False
 * after a diagnostic (an IR the stubs cannot launch). */
bool emit_launch_bodies(LLVMModuleRef mod, IrFunc *const *funcs, int n, const GpuImage *img, Diag *d);

#endif
