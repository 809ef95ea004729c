/* Device code for a GPU target (src/driver/gpu_code.c): `accl FILE.acc
 * --target=nvidia:sm_80 --emit=llvm|ptx|cubin [-o FILE] [--print-resources]`,
 * `--target=amd:gfx942 --emit=amdgcn|hsaco`. */
#ifndef ACCL_DRIVER_GPU_CODE_H
#define ACCL_DRIVER_GPU_CODE_H

#include "driver/driver.h"

typedef enum GpuCodeKind {
    GPU_CODE_NONE,     /* nothing written (--print-resources alone) */
    GPU_CODE_LLVM,     /* the device module after optimisation */
    GPU_CODE_PTX,      /* Nvidia */
    GPU_CODE_CUBIN,    /* Nvidia, through ptxas */
    GPU_CODE_AMDGCN,   /* AMD: assembly */
    GPU_CODE_HSACO,    /* AMD: the code object, through ld.lld */
} GpuCodeKind;

typedef struct GpuCodeOptions {
    GpuCodeKind kind;
    const char *output;       /* NULL: standard output */
    bool print_resources;     /* the report of registers, shared memory and spills, on stderr */
} GpuCodeOptions;

/* Lowers every kernel of the front end's file to the GPU execution form,
 * compiles the device code and writes what o asks (replaced only on
 * success). Returns 0 or EXIT_INPUT after diagnostics or a message. */
int driver_gpu_code(Frontend *fe, const GpuCodeOptions *o);

#endif
