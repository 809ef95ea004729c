/* A stand-in for libcuda.so.1 (and with -DFAKE_HIP for libamdhip64.so), for
 * testing the runtime's driver path on a machine with no GPU: built as a
 * shared library of that name and found through LD_LIBRARY_PATH. It exports
 * every call the runtime looks up.
 *
 * ACCL_FAKE_CUDA selects what it does:
 *   initfail   cuInit returns CUDA_ERROR_NO_DEVICE (100)       (the default)
 *   nodevice   cuInit succeeds, cuDeviceGetCount gives 0
 *   badmodule  one device; cuModuleLoadData returns CUDA_ERROR_INVALID_PTX (218)
 *   ok         one device whose memory is the host's: allocations are
 *              malloc, copies memcpy; launches run nothing but are logged
 * ACCL_FAKE_CUDA_SM     the device's compute capability, e.g. 90 (default 80)
 * ACCL_FAKE_CUDA_PARAMS each kernel's parameters, `NAME=KINDS,NAME=KINDS`, one
 *                       letter per parameter (p pointer, i int64, f float,
 *                       w int32, b bool byte): logged at each launch
 * The log (ok, badmodule) goes to the file ACCL_FAKE_CUDA_LOG, one line per
 * event: `module cubin|ptx` (cubin: any ELF image, an AMD code object too), `alloc N`, `free`, `launch NAME grid X Y Z block
 * T shared S params V...`, `opt-in S`. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
enum { OK = 0, ERR_INVALID_VALUE = 1, ERR_NO_DEVICE = 100, ERR_INVALID_PTX = 218 };

static const char *fake_mode(void)
{
    const char *m = getenv("ACCL_FAKE_CUDA");
    return m && *m ? m : "initfail";
}

static int fake_is(const char *mode) { return strcmp(fake_mode(), mode) == 0; }

static void fake_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fake_log(const char *fmt, ...)
{
    const char *path = getenv("ACCL_FAKE_CUDA_LOG");
    if (!path)
        return;
    FILE *f = fopen(path, "a");
    if (!f)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    fputc('\n', f);
    fclose(f);
}

CUresult cuInit(unsigned flags)
{
    (void)flags;
    return fake_is("initfail") ? ERR_NO_DEVICE : OK;
}

CUresult cuDeviceGetCount(int *n)
{
    *n = fake_is("nodevice") ? 0 : 1;
    return OK;
}

CUresult cuDeviceGet(int *dev, int ordinal)
{
    *dev = ordinal;
    return ordinal == 0 ? OK : 101;
}

CUresult cuDeviceGetName(char *name, int len, int dev)
{
    (void)dev;
    snprintf(name, (size_t)len, "Fake GPU");
    return OK;
}

CUresult cuDeviceGetAttribute(int *v, int attr, int dev)
{
    (void)dev;
    const char *sm = getenv("ACCL_FAKE_CUDA_SM");
    int cc = sm ? atoi(sm) : 80;
    if (attr == 75)
        *v = cc / 10;
    else if (attr == 76)
        *v = cc % 10;
    else
        *v = 0;
    return OK;
}

static int fake_context;

CUresult cuDevicePrimaryCtxRetain(void **ctx, int dev)
{
    (void)dev;
    *ctx = &fake_context;
    return OK;
}

static _Thread_local void *fake_current;

CUresult cuCtxGetCurrent(void **ctx)
{
    *ctx = fake_current;
    return OK;
}

CUresult cuCtxSetCurrent(void *ctx)
{
    fake_current = ctx;
    return OK;
}

CUresult cuCtxGetDevice(int *dev)
{
    *dev = 0;
    return OK;
}

CUresult cuGetErrorName(CUresult r, const char **s)
{
    *s = r == ERR_NO_DEVICE ? "CUDA_ERROR_NO_DEVICE" : r == ERR_INVALID_PTX ? "CUDA_ERROR_INVALID_PTX"
                                                                              : "CUDA_ERROR_UNKNOWN";
    return OK;
}

CUresult cuModuleLoadData(void **module, const void *image)
{
    int cubin = memcmp(image, "\x7f" "ELF", 4) == 0;
    fake_log("module %s", cubin ? "cubin" : "ptx");
    if (fake_is("badmodule"))
        return ERR_INVALID_PTX;
    *module = (void *)image;
    return OK;
}

CUresult cuModuleGetFunction(void **fn, void *module, const char *name)
{
    (void)module;
    *fn = strdup(name);
    return OK;
}

CUresult cuFuncSetAttribute(void *fn, int attr, int value)
{
    (void)fn;
    if (attr == 8)
        fake_log("opt-in %d", value);
    return OK;
}

/* Kernel name's parameter kinds in ACCL_FAKE_CUDA_PARAMS, or NULL. */
static const char *fake_kinds(const char *name, char *buf, size_t size)
{
    const char *spec = getenv("ACCL_FAKE_CUDA_PARAMS");
    size_t n = strlen(name);
    for (const char *p = spec; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            size_t len = strcspn(p + n + 1, ",");
            snprintf(buf, size, "%.*s", (int)len, p + n + 1);
            return buf;
        }
    }
    return NULL;
}

/* The parameters of kernel name as ACCL_FAKE_CUDA_PARAMS describes them. */
static void fake_params(char *out, size_t size, const char *name, void **params)
{
    char buf[256];
    const char *kinds = fake_kinds(name, buf, sizeof buf);
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; kinds && kinds[i] && n < size; i++) {
        switch (kinds[i]) {
        case 'p': n += (size_t)snprintf(out + n, size - n, " %s", *(void **)params[i] ? "ptr" : "null"); break;
        case 'i': n += (size_t)snprintf(out + n, size - n, " %lld", (long long)*(int64_t *)params[i]); break;
        case 'w': n += (size_t)snprintf(out + n, size - n, " %d", *(int32_t *)params[i]); break;
        case 'f': n += (size_t)snprintf(out + n, size - n, " %g", (double)*(float *)params[i]); break;
        case 'b': n += (size_t)snprintf(out + n, size - n, " %d", *(unsigned char *)params[i]); break;
        default: break;
        }
    }
}

CUresult cuLaunchKernel(void *fn, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                        unsigned bz, unsigned shared, void *stream, void **params, void **extra)
{
    (void)stream, (void)extra, (void)by, (void)bz;
    char p[1024];
    fake_params(p, sizeof p, (const char *)fn, params);
    fake_log("launch %s grid %u %u %u block %u shared %u params%s", (const char *)fn, gx, gy, gz, bx, shared, p);
    return OK;
}

CUresult cuMemAlloc_v2(void **p, size_t n)
{
    fake_log("alloc %zu", n);
    *p = malloc(n);
    return *p ? OK : 2;
}

CUresult cuMemFree_v2(void *p)
{
    fake_log("free");
    free(p);
    return OK;
}

CUresult cuMemAllocAsync(void **p, size_t n, void *stream)
{
    (void)stream;
    return cuMemAlloc_v2(p, n);
}

CUresult cuMemFreeAsync(void *p, void *stream)
{
    (void)stream;
    return cuMemFree_v2(p);
}

CUresult cuMemcpyHtoD_v2(void *dst, const void *src, size_t n)
{
    memcpy(dst, src, n);
    return OK;
}

CUresult cuMemcpyDtoH_v2(void *dst, const void *src, size_t n)
{
    memcpy(dst, src, n);
    return OK;
}

CUresult cuMemcpyDtoD_v2(void *dst, const void *src, size_t n)
{
    memmove(dst, src, n);
    return OK;
}

CUresult cuMemsetD8_v2(void *p, unsigned char v, size_t n)
{
    memset(p, v, n);
    return OK;
}

CUresult cuStreamSynchronize(void *s)
{
    (void)s;
    return OK;
}

CUresult cuEventCreate(void **e, unsigned flags)
{
    (void)flags;
    *e = malloc(1);
    return OK;
}

CUresult cuEventRecord(void *e, void *s)
{
    (void)e, (void)s;
    return OK;
}

CUresult cuEventSynchronize(void *e)
{
    (void)e;
    return OK;
}

CUresult cuEventElapsedTime(float *ms, void *a, void *b)
{
    (void)a, (void)b;
    *ms = 1.5f;
    return OK;
}

CUresult cuEventDestroy_v2(void *e)
{
    free(e);
    return OK;
}

/* Built with -DFAKE_HIP it is also a stand-in libamdhip64.so: HIP's module
 * API over the same calls (the runtime uses the same arguments for both). */
#ifdef FAKE_HIP
int hipInit(unsigned f) { return cuInit(f); }
int hipGetDeviceCount(int *n) { return cuDeviceGetCount(n); }
int hipDeviceGet(int *d, int o) { return cuDeviceGet(d, o); }
int hipGetDevice(int *d)
{
    *d = 0;
    return fake_is("initfail") ? ERR_NO_DEVICE : OK;
}
int hipDeviceGetName(char *s, int n, int d) { return cuDeviceGetName(s, n, d); }
const char *hipGetErrorName(int r)
{
    const char *s;
    cuGetErrorName(r, &s);
    return s;
}
int hipModuleLoadData(void **m, const void *image) { return cuModuleLoadData(m, image); }
int hipModuleGetFunction(void **f, void *m, const char *name) { return cuModuleGetFunction(f, m, name); }
int hipModuleLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                          unsigned shared, void *stream, void **params, void **extra)
{
    return cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shared, stream, params, extra);
}
int hipMalloc(void **p, size_t n) { return cuMemAlloc_v2(p, n); }
int hipFree(void *p) { return cuMemFree_v2(p); }
int hipMallocAsync(void **p, size_t n, void *s) { return cuMemAllocAsync(p, n, s); }
int hipFreeAsync(void *p, void *s) { return cuMemFreeAsync(p, s); }
int hipMemcpyHtoD(void *d, const void *s, size_t n) { return cuMemcpyHtoD_v2(d, s, n); }
int hipMemcpyDtoH(void *d, const void *s, size_t n) { return cuMemcpyDtoH_v2(d, s, n); }
int hipMemcpyDtoD(void *d, const void *s, size_t n) { return cuMemcpyDtoD_v2(d, s, n); }
int hipMemsetD8(void *p, unsigned char v, size_t n) { return cuMemsetD8_v2(p, v, n); }
int hipStreamSynchronize(void *s) { return cuStreamSynchronize(s); }
int hipEventCreateWithFlags(void **e, unsigned f) { return cuEventCreate(e, f); }
int hipEventRecord(void *e, void *s) { return cuEventRecord(e, s); }
int hipEventSynchronize(void *e) { return cuEventSynchronize(e); }
int hipEventElapsedTime(float *ms, void *a, void *b) { return cuEventElapsedTime(ms, a, b); }
int hipEventDestroy(void *e) { return cuEventDestroy_v2(e); }
#endif
