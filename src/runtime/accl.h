/* accl's runtime: what generated code and its callers link against
 * (build/libaccrt.a). Generated headers stand alone: they define the same
 * types and codes (from accl_codes.h) under the same guard. */
#ifndef ACCL_RUNTIME_H
#define ACCL_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#include "accl_codes.h"

/* The types and codes generated headers also define (guarded the same way).
 * f16 and bf16 tensors hold the bits of each element. What a compiled kernel
 * returns: ACCL_OK or an ACCL_ERR_* code; nothing is written when a check on
 * entry fails. The list and each code's meaning: accl_codes.h. */
#ifndef ACCL_RUNTIME_TYPES_H
#define ACCL_RUNTIME_TYPES_H
#define ACCL_TYPEDEF_(name, ctype, doc) typedef ctype name;
ACCL_TYPEDEFS(ACCL_TYPEDEF_)
#undef ACCL_TYPEDEF_
enum accl_code {
#define ACCL_CODE_(name, value, doc, message) ACCL_##name = value,
    ACCL_CODES(ACCL_CODE_)
#undef ACCL_CODE_
};
const char *accl_strerror(int code);
#endif

/* Runs fn(ctx, lo, hi) over [0, n) split into contiguous chunks on the
 * process-wide thread pool (started lazily; ACCL_NUM_THREADS threads, default
 * all cores). Safe to call from several threads at once; a call made from
 * inside a pool task runs serially in the caller. Returns when every chunk is
 * done. */
void accl_parallel_for(void (*fn)(void *ctx, int64_t lo, int64_t hi), void *ctx, int64_t n);

/* The number of threads accl_parallel_for uses. */
int accl_num_threads(void);

/* ---- GPUs (src/runtime/gpu.c) -------------------------------------------
 *
 * The vendor's driver is loaded with dlopen on first use (libcuda.so.1 for
 * Nvidia, the driver API; libamdhip64.so for AMD, HIP's module API): nothing
 * needs a GPU, a driver or a vendor SDK to build or link. Every function
 * returns ACCL_OK or an ACCL_ERR_* code, never crashes for want of a driver
 * or a device:
 *   ACCL_ERR_NO_DRIVER      the library cannot be loaded
 *   ACCL_ERR_NO_DEVICE      it loads but finds no device (or fails to start)
 *   ACCL_ERR_OUT_OF_MEMORY  device memory is exhausted
 *   ACCL_ERR_LAUNCH         a grid beyond the limits, or the driver refused a launch
 *   ACCL_ERR_DRIVER         any other failure the driver reports
 * accl_gpu_error_detail() says which call failed and why (this thread's last
 * failure). Calls use device 0 (Nvidia: the context current on the calling
 * thread, else device 0's primary context, made current; AMD: the current
 * device). Pointers are device pointers; a NULL stream is the default one. */

enum { ACCL_GPU_NVIDIA = 1, ACCL_GPU_AMD = 2 };

/* This thread's last failure as text ("cuInit: CUDA_ERROR_NO_DEVICE (100)",
 * "libcuda.so.1 not found: ..."); "" when none has happened. */
const char *accl_gpu_error_detail(void);

/* The device's name (NUL-terminated, truncated to size). */
int accl_gpu_device_name(int vendor, char *name, size_t size);
int accl_gpu_malloc(int vendor, void **ptr, size_t bytes);
int accl_gpu_free(int vendor, void *ptr);
/* Synchronous copies: host to device, device to host, device to device. */
int accl_gpu_copy_to_device(int vendor, void *dst, const void *src, size_t bytes);
int accl_gpu_copy_to_host(int vendor, void *dst, const void *src, size_t bytes);
int accl_gpu_copy_on_device(int vendor, void *dst, const void *src, size_t bytes);
/* Every byte of [ptr, ptr + bytes) set to `byte`. */
int accl_gpu_memset(int vendor, void *ptr, int byte, size_t bytes);
/* Waits for the stream; the code of a kernel's failure shows here. */
int accl_gpu_synchronize(int vendor, void *stream);
/* Events, for timing: record two on a stream, then elapsed waits for the
 * second and gives the milliseconds between them. */
int accl_gpu_event_create(int vendor, void **event);
int accl_gpu_event_record(int vendor, void *event, void *stream);
int accl_gpu_event_elapsed(int vendor, float *ms, void *start, void *end);
int accl_gpu_event_destroy(int vendor, void *event);

/* ---- for launch stubs (src/emit/launch.c) -------------------------------
 *
 * A GPU target's object holds one module descriptor with the device code of
 * every kernel of the file, and host stubs that launch them. The layout is
 * fixed: launch.c emits it field by field. */
typedef struct AcclGpuModule {
    int32_t vendor;               /* ACCL_GPU_NVIDIA or ACCL_GPU_AMD */
    int32_t nkernels;
    const char *arch;             /* "sm_90", "gfx942": what image was compiled for */
    const char *const *kernels;   /* the device kernels' names: accl_<K>_<i> */
    const void *image;            /* Nvidia: the cubin; AMD: the code object; or NULL */
    uint64_t image_size;
    const char *ptx;              /* Nvidia: PTX (NUL-terminated), or NULL */
    void *cache;                  /* the runtime's: loaded modules, one per context or
                                     device (starts NULL; set under the runtime's lock) */
} AcclGpuModule;

/* Launches kernel number `kernel` of m on a grid of gx * gy * gz blocks of
 * `threads` threads with `shared_bytes` of dynamic shared memory, on stream;
 * params[i] points to the kernel's i-th argument. The module is loaded on
 * first use (Nvidia: the cubin when the device's architecture runs it, else
 * the PTX). An empty grid launches nothing. */
int accl_gpu_launch(AcclGpuModule *m, int32_t kernel, int64_t gx, int64_t gy, int64_t gz,
                    int64_t threads, int64_t shared_bytes, void **params, void *stream);
/* Whether a grid is within the launch limits: x <= 2^31-1, y and z <= 65535. */
bool accl_gpu_grid_ok(int64_t gx, int64_t gy, int64_t gz);
/* Stream-ordered allocation for a launch's `var`s (plain allocation and a
 * synchronized free where the driver has no memory pools). Zero bytes: NULL,
 * and no device work. */
int accl_gpu_stream_alloc(int vendor, void **ptr, size_t bytes, void *stream);
int accl_gpu_stream_free(int vendor, void *ptr, void *stream);

#ifdef __cplusplus
}
#endif

#endif
