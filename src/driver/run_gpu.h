/* `accl run` and `accl bench` on this machine's GPU (src/driver/run_gpu.c):
 * a GPU target's kernel without --interpret or --emulate. */
#ifndef ACCL_DRIVER_RUN_GPU_H
#define ACCL_DRIVER_RUN_GPU_H

#include "driver/driver.h"
#include "emit/jit.h"
#include "run/runargs.h"

/* K.packed's arguments for args (run.c): args[i] points to K's i-th argument,
 * with one slot to spare after the sizes (for the stream). */
typedef void **(*RunPackFn)(const Kernel *k, const RunArgs *args, Arena *a);

typedef struct RunGpu {
    int vendor;               /* ACCL_GPU_NVIDIA or ACCL_GPU_AMD */
    char device[256];         /* the device's name */
    Jit *jit;
    JitPackedFn fn;
    RunArgs dev;              /* the arguments with each tensor's data on the device */
    void **packed;            /* K.packed's arguments for dev, the stream last */
    void *stream;             /* NULL: the default stream */
} RunGpu;

/* Finds the device, compiles f (from compile_kernel, for a GPU target) to the
 * GPU execution form, device code and a JIT-compiled host stub, and copies
 * every tensor of args to the device. False after a message (no driver or
 * no device: the runtime's reason). Call run_gpu_close in every case. */
bool run_gpu_open(RunGpu *g, Frontend *fe, IrFunc *f, const RunArgs *args, RunPackFn pack, Arena *a);
/* One call of the kernel, waited for; with ms, its time from events on the
 * stream. False after a message. */
bool run_gpu_call(RunGpu *g, double *ms);
/* Copies every tensor the kernel writes back into args. False after a message. */
bool run_gpu_read(RunGpu *g, RunArgs *args);
void run_gpu_close(RunGpu *g);

#endif
