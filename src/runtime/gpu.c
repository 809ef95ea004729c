/* The GPU runtime: the vendor's driver through dlopen, module loading and
 * launches for the host stubs (src/emit/launch.c), and the accl_gpu_* calls
 * of accl.h for harnesses and `accl run`.
 *
 *   driver    one per vendor and process, set up once (pthread_once):
 *             dlopen the library, dlsym every entry point, initialise
 *             (Nvidia: cuInit, device 0, its primary context retained; AMD:
 *             hipInit, a device counted). A failure is kept with its cause
 *             and returned by every later call; nothing is retried.
 *   entries   the driver API and HIP's module API take the same arguments
 *             in the same order for what we use (handles and device pointers
 *             are pointer-sized, results are int), so one table of function
 *             pointers serves both, filled from each vendor's names (RT_CALLS)
 *   context   Nvidia: calls run in the calling thread's current context, or
 *             device 0's primary context, made current; AMD: the current device;
 *             the cubin test and the device's name are for that device
 *   modules   loaded on a module descriptor's first launch in a context (or
 *             on a device), under the driver's lock, with every kernel's
 *             function looked up; kept in a list hung from the descriptor's
 *             cache slot, keyed by the context (device), for the process's
 *             life. Nvidia loads the cubin when the device runs it (same major
 *             architecture, minor at least the cubin's; `a` variants exactly),
 *             else the PTX (the driver compiles it)
 *   launches  the grid checked against the limits (x <= 2^31-1, y and z <=
 *             65535), an empty grid skipped, dynamic shared memory above
 *             48 KiB opted into per function (Nvidia), then cuLaunchKernel /
 *             hipModuleLaunchKernel
 *   errors    a code (accl.h) and this thread's detail text naming the call
 *             and the driver's error (accl_gpu_error_detail)
 *
 * No CUDA or HIP header is used: the few types and constants are declared
 * here. The drivers and the module lists are process-wide state, as the
 * drivers themselves are. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/accl.h"

/* Driver results we act on (the same numbers in CUDA and HIP). */
enum {
    RT_SUCCESS = 0,
    RT_ERROR_OUT_OF_MEMORY = 2,
    RT_ERROR_NO_DEVICE = 100,
    RT_ERROR_INVALID_DEVICE = 101,
};

/* Nvidia's constants. */
enum {
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
    CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8,
};

/* Dynamic shared memory a kernel may use without opting in (Nvidia). */
enum { RT_SHARED_DEFAULT = 48 * 1024 };

static const int64_t RT_GRID_X_MAX = 2147483647, RT_GRID_YZ_MAX = 65535;

/* The calls both vendors have, with the same arguments:
 *   X(field, (parameter types), Nvidia's name, AMD's name, required)
 * Every one returns the driver's result (int). */
#define RT_CALLS(X)                                                                              \
    X(init, (unsigned), "cuInit", "hipInit", 1)                                            \
    X(device_count, (int *), "cuDeviceGetCount", "hipGetDeviceCount", 1)                   \
    X(device_get, (int *, int), "cuDeviceGet", "hipDeviceGet", 1)                          \
    X(device_name, (char *, int, int), "cuDeviceGetName", "hipDeviceGetName", 1)           \
    X(module_load, (void **, const void *), "cuModuleLoadData", "hipModuleLoadData", 1)    \
    X(module_function, (void **, void *, const char *), "cuModuleGetFunction",            \
      "hipModuleGetFunction", 1)                                                                 \
    X(launch,                                                                                    \
      (void *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned,      \
              void *, void **, void **),                                                         \
      "cuLaunchKernel", "hipModuleLaunchKernel", 1)                                              \
    X(mem_alloc, (void **, size_t), "cuMemAlloc_v2", "hipMalloc", 1)                       \
    X(mem_free, (void *), "cuMemFree_v2", "hipFree", 1)                                    \
    X(copy_htod, (void *, const void *, size_t), "cuMemcpyHtoD_v2", "hipMemcpyHtoD", 1)    \
    X(copy_dtoh, (void *, const void *, size_t), "cuMemcpyDtoH_v2", "hipMemcpyDtoH", 1)    \
    X(copy_dtod, (void *, const void *, size_t), "cuMemcpyDtoD_v2", "hipMemcpyDtoD", 1)    \
    X(memset8, (void *, unsigned char, size_t), "cuMemsetD8_v2", "hipMemsetD8", 1)         \
    X(stream_sync, (void *), "cuStreamSynchronize", "hipStreamSynchronize", 1)             \
    X(event_create, (void **, unsigned), "cuEventCreate", "hipEventCreateWithFlags", 1)    \
    X(event_record, (void *, void *), "cuEventRecord", "hipEventRecord", 1)                \
    X(event_sync, (void *), "cuEventSynchronize", "hipEventSynchronize", 1)                \
    X(event_elapsed, (float *, void *, void *), "cuEventElapsedTime", "hipEventElapsedTime", 1) \
    X(event_destroy, (void *), "cuEventDestroy_v2", "hipEventDestroy", 1)                  \
    X(mem_alloc_async, (void **, size_t, void *), "cuMemAllocAsync", "hipMallocAsync", 0)  \
    X(mem_free_async, (void *, void *), "cuMemFreeAsync", "hipFreeAsync", 0)

/* Nvidia only. */
#define RT_CU_CALLS(X)                                                                           \
    X(primary_retain, (void **, int), "cuDevicePrimaryCtxRetain")                          \
    X(ctx_get, (void **), "cuCtxGetCurrent")                                               \
    X(ctx_set, (void *), "cuCtxSetCurrent")                                                \
    X(ctx_device, (int *), "cuCtxGetDevice")                                               \
    X(device_attr, (int *, int, int), "cuDeviceGetAttribute")                              \
    X(func_set_attr, (void *, int, int), "cuFuncSetAttribute")                             \
    X(error_name, (int, const char **), "cuGetErrorName")

typedef struct RtCalls {
#define RT_FIELD(field, params, cu, hip, required) int(*field) params;
    RT_CALLS(RT_FIELD)
#undef RT_FIELD
#define RT_CU_FIELD(field, params, cu) int(*field) params;
    RT_CU_CALLS(RT_CU_FIELD)
#undef RT_CU_FIELD
    const char *(*hip_error_name)(int);   /* AMD: hipGetErrorName */
    int (*hip_get_device)(int *);         /* AMD: hipGetDevice */
} RtCalls;

/* One vendor's driver in this process. */
typedef struct RtDriver {
    int vendor;
    const char *const *libraries;   /* tried in order */
    pthread_once_t once;
    pthread_mutex_t lock;           /* module loading */
    int status;                     /* ACCL_OK once set up, else why not */
    char why[512];                  /* the cause of a failed set-up */
    void *lib;
    RtCalls call;
    int device;                     /* device 0 */
    void *primary;                  /* Nvidia: device 0's primary context */
    struct RtLoaded *loaded;        /* every module record, of every descriptor: they
                                       live as long as the process (a descriptor may
                                       sit in memory that is not scanned for pointers,
                                       such as a JIT's) */
} RtDriver;

/* A descriptor's module loaded in one context (Nvidia) or on one device (AMD). */
typedef struct RtLoaded {
    struct RtLoaded *next;          /* the descriptor's next record */
    struct RtLoaded *all_next;      /* RtDriver.loaded's next record */
    void *key;                      /* the context, or the device number + 1 */
    void *module;
    int status;                     /* ACCL_OK, or why loading failed (kept) */
    char *why;                      /* the failure's detail (malloc'd) */
    void **functions;               /* one per kernel */
    int *shared_opt_in;             /* Nvidia: the dynamic shared bytes opted into */
} RtLoaded;

static const char *const rt_cuda_libraries[] = {"libcuda.so.1", "libcuda.so", NULL};
static const char *const rt_hip_libraries[] = {"libamdhip64.so", "libamdhip64.so.6", "libamdhip64.so.5",
                                               NULL};

static RtDriver rt_cuda = {.vendor = ACCL_GPU_NVIDIA, .libraries = rt_cuda_libraries,
                           .once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER};
static RtDriver rt_hip = {.vendor = ACCL_GPU_AMD, .libraries = rt_hip_libraries,
                          .once = PTHREAD_ONCE_INIT, .lock = PTHREAD_MUTEX_INITIALIZER};

/* This thread's last failure (accl_gpu_error_detail). */
static _Thread_local char rt_detail[640];

const char *accl_gpu_error_detail(void)
{
    return rt_detail;
}

/* Sets this thread's detail and returns code. */
static int rt_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int rt_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rt_detail, sizeof rt_detail, fmt, ap);
    va_end(ap);
    return code;
}

/* The driver's name for result r. */
static const char *rt_error_name(const RtDriver *d, int r)
{
    const char *s = NULL;
    if (d->vendor == ACCL_GPU_NVIDIA && d->call.error_name)
        d->call.error_name(r, &s);
    else if (d->vendor == ACCL_GPU_AMD && d->call.hip_error_name)
        s = d->call.hip_error_name(r);
    return s ? s : "unknown error";
}

/* The code for driver result r of `what` (ACCL_OK for success), with the
 * detail set; `otherwise` is the code of errors with no closer meaning. */
static int rt_check(const RtDriver *d, int r, const char *what, int otherwise)
{
    if (r == RT_SUCCESS)
        return ACCL_OK;
    int code = r == RT_ERROR_OUT_OF_MEMORY                                 ? ACCL_ERR_OUT_OF_MEMORY
               : r == RT_ERROR_NO_DEVICE || r == RT_ERROR_INVALID_DEVICE ? ACCL_ERR_NO_DEVICE
                                                                           : otherwise;
    return rt_fail(code, "%s: %s (%d)", what, rt_error_name(d, r), r);
}

/* ---- setting a driver up ----------------------------------------------- */

static void *rt_symbol(RtDriver *d, const char *name, bool required)
{
    void *p = dlsym(d->lib, name);
    if (!p && required && d->status == ACCL_OK) {
        d->status = ACCL_ERR_NO_DRIVER;
        snprintf(d->why, sizeof d->why, "%s has no %s (too old a driver?)", d->libraries[0], name);
    }
    return p;
}

/* Every entry point of d's library; d->status says whether all were found. */
static void rt_resolve(RtDriver *d)
{
    bool cuda = d->vendor == ACCL_GPU_NVIDIA;
    RtCalls *c = &d->call;
#define RT_RESOLVE(field, params, cu, hip, required) \
    c->field = (int(*) params)rt_symbol(d, cuda ? cu : hip, required);
    RT_CALLS(RT_RESOLVE)
#undef RT_RESOLVE
    if (cuda) {
#define RT_CU_RESOLVE(field, params, cu) c->field = (int(*) params)rt_symbol(d, cu, true);
        RT_CU_CALLS(RT_CU_RESOLVE)
#undef RT_CU_RESOLVE
        /* CUDA 12.8 and later: the same call, the old name deprecated. */
        void *elapsed = dlsym(d->lib, "cuEventElapsedTime_v2");
        if (elapsed)
            c->event_elapsed = (int (*)(float *, void *, void *))elapsed;
    } else {
        c->hip_error_name = (const char *(*)(int))rt_symbol(d, "hipGetErrorName", true);
        c->hip_get_device = (int (*)(int *))rt_symbol(d, "hipGetDevice", true);
    }
}

/* dlopen the first library of d's list that loads. */
static bool rt_open(RtDriver *d)
{
    char first[256] = "";
    for (int i = 0; d->libraries[i]; i++) {
        d->lib = dlopen(d->libraries[i], RTLD_NOW | RTLD_LOCAL);
        if (d->lib)
            return true;
        const char *e = dlerror();
        if (i == 0)
            snprintf(first, sizeof first, "%s", e ? e : "dlopen failed");
    }
    d->status = ACCL_ERR_NO_DRIVER;
    snprintf(d->why, sizeof d->why, "%s not found (%s)", d->libraries[0], first);
    return false;
}

/* Initialises the driver and finds device 0. */
static void rt_start(RtDriver *d)
{
    const RtCalls *c = &d->call;
    int r = c->init(0), count = 0;
    const char *what = d->vendor == ACCL_GPU_NVIDIA ? "cuInit" : "hipInit";
    if (r == RT_SUCCESS) {
        what = d->vendor == ACCL_GPU_NVIDIA ? "cuDeviceGetCount" : "hipGetDeviceCount";
        r = c->device_count(&count);
    }
    if (r == RT_SUCCESS && count < 1) {
        d->status = ACCL_ERR_NO_DEVICE;
        snprintf(d->why, sizeof d->why, "%s: no device", what);
        return;
    }
    if (r == RT_SUCCESS) {
        what = d->vendor == ACCL_GPU_NVIDIA ? "cuDeviceGet" : "hipDeviceGet";
        r = c->device_get(&d->device, 0);
    }
    if (r == RT_SUCCESS && d->vendor == ACCL_GPU_NVIDIA) {
        what = "cuDevicePrimaryCtxRetain";
        r = c->primary_retain(&d->primary, d->device);
    }
    if (r != RT_SUCCESS) {
        /* Starting failed: whatever the driver says, there is no usable device. */
        d->status = r == RT_ERROR_OUT_OF_MEMORY ? ACCL_ERR_OUT_OF_MEMORY : ACCL_ERR_NO_DEVICE;
        snprintf(d->why, sizeof d->why, "%s: %s (%d)", what, rt_error_name(d, r), r);
    }
}

static void rt_setup(RtDriver *d)
{
    d->status = ACCL_OK;
    if (!rt_open(d))
        return;
    rt_resolve(d);
    if (d->status == ACCL_OK)
        rt_start(d);
}

static void rt_setup_cuda(void) { rt_setup(&rt_cuda); }
static void rt_setup_hip(void) { rt_setup(&rt_hip); }

/* The vendor's driver, set up and usable on this thread (Nvidia: a context
 * current), or NULL with *code set. */
static RtDriver *rt_driver(int vendor, int *code)
{
    RtDriver *d;
    if (vendor == ACCL_GPU_NVIDIA) {
        d = &rt_cuda;
        pthread_once(&d->once, rt_setup_cuda);
    } else if (vendor == ACCL_GPU_AMD) {
        d = &rt_hip;
        pthread_once(&d->once, rt_setup_hip);
    } else {
        *code = rt_fail(ACCL_ERR_NO_DRIVER, "unknown GPU vendor %d", vendor);
        return NULL;
    }
    if (d->status != ACCL_OK) {
        *code = rt_fail(d->status, "%s", d->why);
        return NULL;
    }
    if (d->vendor == ACCL_GPU_NVIDIA) {
        void *ctx = NULL;
        int r = d->call.ctx_get(&ctx);
        if (r == RT_SUCCESS && !ctx)
            r = d->call.ctx_set(d->primary);
        if ((*code = rt_check(d, r, "cuCtxSetCurrent", ACCL_ERR_DRIVER)) != ACCL_OK)
            return NULL;
    }
    *code = ACCL_OK;
    return d;
}

/* ---- modules ----------------------------------------------------------- */

/* "sm_86" -> 86 (major * 10 + minor), *exact for "sm_90a"; 0 if not sm_. */
static int rt_sm(const char *arch, bool *exact)
{
    int major_minor = 0;
    *exact = false;
    if (!arch || strncmp(arch, "sm_", 3) != 0)
        return 0;
    const char *p = arch + 3;
    while (*p >= '0' && *p <= '9')
        major_minor = major_minor * 10 + (*p++ - '0');
    *exact = *p == 'a';
    return major_minor;
}

/* The device calls on this thread run on: the current context's (Nvidia),
 * the current device (AMD), else device 0. */
static int rt_current_device(const RtDriver *d)
{
    int dev = d->device;
    if (d->vendor == ACCL_GPU_NVIDIA ? d->call.ctx_device(&dev) : d->call.hip_get_device(&dev))
        dev = d->device;
    return dev;
}

/* Whether the current device runs a cubin built for arch: the same major
 * version and a minor at least the cubin's (an `a` variant only on its own). */
static bool rt_cubin_runs(const RtDriver *d, const char *arch)
{
    bool exact;
    int want = rt_sm(arch, &exact), major = 0, minor = 0, dev = rt_current_device(d);
    if (!want || d->call.device_attr(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev) != RT_SUCCESS ||
        d->call.device_attr(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev) != RT_SUCCESS)
        return false;
    if (exact)
        return major * 10 + minor == want;
    return major == want / 10 && minor >= want % 10;
}

/* The key of the module cache on this thread: the current context (Nvidia)
 * or the current device + 1 (AMD). */
static int rt_cache_key(const RtDriver *d, void **key)
{
    if (d->vendor == ACCL_GPU_NVIDIA)
        return rt_check(d, d->call.ctx_get(key), "cuCtxGetCurrent", ACCL_ERR_DRIVER);
    int dev = 0;
    int code = rt_check(d, d->call.hip_get_device(&dev), "hipGetDevice", ACCL_ERR_DRIVER);
    *key = (void *)(intptr_t)(dev + 1);
    return code;
}

/* Loads m's image into l and looks up every kernel. */
static int rt_load(const RtDriver *d, const AcclGpuModule *m, RtLoaded *l)
{
    const RtCalls *c = &d->call;
    int r = -1, code = ACCL_ERR_DRIVER;
    const char *what = "module";
    if (d->vendor == ACCL_GPU_NVIDIA) {
        what = "cuModuleLoadData";
        bool cubin = m->image && rt_cubin_runs(d, m->arch);
        if (!cubin && !m->ptx)
            return rt_fail(ACCL_ERR_DRIVER, "the object holds no PTX and no cubin this device runs (%s)",
                           m->arch ? m->arch : "?");
        if (cubin)
            r = c->module_load(&l->module, m->image);
        if (r != RT_SUCCESS && m->ptx)   /* no cubin for this device, or the driver refused it */
            r = c->module_load(&l->module, m->ptx);
    } else {
        what = "hipModuleLoadData";
        if (!m->image)
            return rt_fail(ACCL_ERR_DRIVER, "the object holds no code object");
        r = c->module_load(&l->module, m->image);
    }
    if ((code = rt_check(d, r, what, ACCL_ERR_DRIVER)) != ACCL_OK)
        return code;
    l->functions = calloc((size_t)m->nkernels + 1, sizeof *l->functions);
    l->shared_opt_in = calloc((size_t)m->nkernels + 1, sizeof *l->shared_opt_in);
    if (!l->functions || !l->shared_opt_in)
        return rt_fail(ACCL_ERR_OUT_OF_MEMORY, "no memory for the module's function table");
    for (int i = 0; i < m->nkernels; i++) {
        r = c->module_function(&l->functions[i], l->module, m->kernels[i]);
        if (r != RT_SUCCESS)
            return rt_fail(ACCL_ERR_DRIVER, "%s: %s (%d) for kernel %s",
                           d->vendor == ACCL_GPU_NVIDIA ? "cuModuleGetFunction" : "hipModuleGetFunction",
                           rt_error_name(d, r), r, m->kernels[i]);
    }
    return ACCL_OK;
}

/* m's module for this thread's context (device), loaded on first use; a
 * failed load is kept, so it fails again at once with the same message. */
static int rt_module(RtDriver *d, AcclGpuModule *m, RtLoaded **out)
{
    void *key;
    int code = rt_cache_key(d, &key);
    if (code != ACCL_OK)
        return code;
    pthread_mutex_lock(&d->lock);
    RtLoaded *l = m->cache;
    while (l && l->key != key)
        l = l->next;
    if (!l && (l = calloc(1, sizeof *l))) {
        l->key = key;
        l->status = rt_load(d, m, l);
        if (l->status != ACCL_OK)   /* kept: the next launch reports the same */
            l->why = strdup(rt_detail);
        l->next = m->cache;
        m->cache = l;
        l->all_next = d->loaded;
        d->loaded = l;
    }
    pthread_mutex_unlock(&d->lock);
    if (!l)
        return rt_fail(ACCL_ERR_OUT_OF_MEMORY, "no memory for the module cache");
    if (l->status != ACCL_OK)
        return rt_fail(l->status, "%s", l->why ? l->why : "loading the module failed");
    *out = l;
    return ACCL_OK;
}

/* ---- launches ---------------------------------------------------------- */

bool accl_gpu_grid_ok(int64_t gx, int64_t gy, int64_t gz)
{
    return gx >= 0 && gy >= 0 && gz >= 0 && gx <= RT_GRID_X_MAX && gy <= RT_GRID_YZ_MAX &&
           gz <= RT_GRID_YZ_MAX;
}

/* Nvidia: a kernel using more than 48 KiB of dynamic shared memory must say
 * so first (once per function and size). */
static int rt_opt_in(const RtDriver *d, RtLoaded *l, int kernel, int64_t shared_bytes)
{
    if (d->vendor != ACCL_GPU_NVIDIA || shared_bytes <= RT_SHARED_DEFAULT ||
        l->shared_opt_in[kernel] >= shared_bytes)
        return ACCL_OK;
    int r = d->call.func_set_attr(l->functions[kernel], CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                  (int)shared_bytes);
    int code = rt_check(d, r, "cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES)", ACCL_ERR_LAUNCH);
    if (code == ACCL_OK)
        l->shared_opt_in[kernel] = (int)shared_bytes;
    return code;
}

int accl_gpu_launch(AcclGpuModule *m, int32_t kernel, int64_t gx, int64_t gy, int64_t gz,
                    int64_t threads, int64_t shared_bytes, void **params, void *stream)
{
    if (!accl_gpu_grid_ok(gx, gy, gz))
        return rt_fail(ACCL_ERR_LAUNCH, "grid %lld x %lld x %lld exceeds the limits (x <= 2^31-1, y and z <= 65535)",
                       (long long)gx, (long long)gy, (long long)gz);
    if (kernel < 0 || kernel >= m->nkernels || threads < 1 || threads > 1024 || shared_bytes < 0 ||
        shared_bytes > INT32_MAX)
        return rt_fail(ACCL_ERR_LAUNCH, "kernel %d: %lld threads, %lld shared bytes: not launchable",
                       (int)kernel, (long long)threads, (long long)shared_bytes);
    if (gx == 0 || gy == 0 || gz == 0)
        return ACCL_OK;
    int code;
    RtDriver *d = rt_driver(m->vendor, &code);
    RtLoaded *l = NULL;
    if (!d || (code = rt_module(d, m, &l)) != ACCL_OK)
        return code;
    pthread_mutex_lock(&d->lock);
    code = rt_opt_in(d, l, kernel, shared_bytes);
    pthread_mutex_unlock(&d->lock);
    if (code != ACCL_OK)
        return code;
    int r = d->call.launch(l->functions[kernel], (unsigned)gx, (unsigned)gy, (unsigned)gz, (unsigned)threads,
                           1, 1, (unsigned)shared_bytes, stream, params, NULL);
    if (r == RT_SUCCESS)
        return ACCL_OK;
    return rt_fail(r == RT_ERROR_OUT_OF_MEMORY ? ACCL_ERR_OUT_OF_MEMORY : ACCL_ERR_LAUNCH,
                   "%s %s (grid %lld x %lld x %lld, %lld threads, %lld shared bytes): %s (%d)",
                   m->vendor == ACCL_GPU_NVIDIA ? "cuLaunchKernel" : "hipModuleLaunchKernel",
                   m->kernels[kernel], (long long)gx, (long long)gy, (long long)gz, (long long)threads,
                   (long long)shared_bytes, rt_error_name(d, r), r);
}

/* ---- memory, streams, events ------------------------------------------- */

/* The name of a call for messages: Nvidia's or AMD's. */
#define RT_NAME(d, cu, hip) ((d)->vendor == ACCL_GPU_NVIDIA ? (cu) : (hip))

int accl_gpu_device_name(int vendor, char *name, size_t size)
{
    int code;
    RtDriver *d = rt_driver(vendor, &code);
    if (!d)
        return code;
    if (size == 0)
        return ACCL_OK;
    int n = size > 4096 ? 4096 : (int)size;
    code = rt_check(d, d->call.device_name(name, n, rt_current_device(d)), RT_NAME(d, "cuDeviceGetName", "hipDeviceGetName"),
                    ACCL_ERR_DRIVER);
    name[size - 1] = '\0';
    return code;
}

int accl_gpu_malloc(int vendor, void **ptr, size_t bytes)
{
    int code;
    RtDriver *d = rt_driver(vendor, &code);
    *ptr = NULL;
    if (!d)
        return code;
    return rt_check(d, d->call.mem_alloc(ptr, bytes ? bytes : 1), RT_NAME(d, "cuMemAlloc", "hipMalloc"),
                    ACCL_ERR_DRIVER);
}

int accl_gpu_free(int vendor, void *ptr)
{
    int code;
    RtDriver *d = rt_driver(vendor, &code);
    if (!d || !ptr)
        return d ? ACCL_OK : code;
    return rt_check(d, d->call.mem_free(ptr), RT_NAME(d, "cuMemFree", "hipFree"), ACCL_ERR_DRIVER);
}

int accl_gpu_copy_to_device(int vendor, void *dst, const void *src, size_t bytes)
{
    int code;
    RtDriver *d = rt_driver(vendor, &code);
    if (!d || bytes == 0)
        return d ? ACCL_OK : code;
    return rt_check(d, d->call.copy_htod(dst, src, bytes), RT_NAME(d, "cuMemcpyHtoD", "hipMemcpyHtoD"),
                    ACCL_ERR_DRIVER);
}

int accl_gpu_copy_to_host(int vendor, void *dst, const void *src, size_t bytes)
{
    int code;
    RtDriver *d = rt_driver(vendor, &code);
    if (!d || bytes == 0)
        return d ? ACCL_OK : code;
    return rt_check(d, d->call.copy_dtoh(dst, src, bytes), RT_NAME(d, "cuMemcpyDtoH", "hipMemcpyDtoH"),
                    ACCL_ERR_DRIVER);
}

int accl_gpu_copy_on_device(int vendor, void *dst, const void *src, size_t bytes)
{
    int code;
    RtDriver *d = rt_driver(vendor, &code);
    if (!d || bytes == 0)
        return d ? ACCL_OK : code;
    return rt_check(d, d->call.copy_dtod(dst, src, bytes), RT_NAME(d, "cuMemcpyDtoD", "hipMemcpyDtoD"),
                    ACCL_ERR_DRIVER);
}

int accl_gpu_memset(int vendor, void *ptr, int byte, size_t bytes)
{
    int code;
    RtDriver *d = rt_driver(vendor, &code);
    if (!d || bytes == 0)
        return d ? ACCL_OK : code;
    return rt_check(d, d->call.memset8(ptr, (unsigned char)byte, bytes), RT_NAME(d, "cuMemsetD8", "hipMemsetD8"),
                    ACCL_ERR_DRIVER);
}

int accl_gpu_synchronize(int vendor, void *stream)
{
    int code;
    RtDriver *d = rt_driver(vendor, &code);
    if (!d)
        return code;
    return rt_check(d, d->call.stream_sync(stream), RT_NAME(d, "cuStreamSynchronize", "hipStreamSynchronize"),
                    ACCL_ERR_LAUNCH);
}

int accl_gpu_stream_alloc(int vendor, void **ptr, size_t bytes, void *stream)
{
    int code;
    *ptr = NULL;
    if (bytes == 0)   /* nothing to hold: no device work */
        return ACCL_OK;
    RtDriver *d = rt_driver(vendor, &code);
    if (!d)
        return code;
    if (!d->call.mem_alloc_async)
        return accl_gpu_malloc(vendor, ptr, bytes);
    int r = d->call.mem_alloc_async(ptr, bytes, stream);
    if (r == RT_SUCCESS || r == RT_ERROR_OUT_OF_MEMORY)
        return rt_check(d, r, RT_NAME(d, "cuMemAllocAsync", "hipMallocAsync"), ACCL_ERR_DRIVER);
    /* No memory pools on this device: plain allocation. */
    return accl_gpu_malloc(vendor, ptr, bytes);
}

int accl_gpu_stream_free(int vendor, void *ptr, void *stream)
{
    int code;
    RtDriver *d = rt_driver(vendor, &code);
    if (!d || !ptr)
        return d ? ACCL_OK : code;
    if (d->call.mem_free_async && d->call.mem_free_async(ptr, stream) == RT_SUCCESS)
        return ACCL_OK;
    /* Allocated without a pool: wait for the stream's work on it first. */
    if ((code = accl_gpu_synchronize(vendor, stream)) != ACCL_OK)
        return code;
    return accl_gpu_free(vendor, ptr);
}

int accl_gpu_event_create(int vendor, void **event)
{
    int code;
    RtDriver *d = rt_driver(vendor, &code);
    *event = NULL;
    if (!d)
        return code;
    return rt_check(d, d->call.event_create(event, 0), RT_NAME(d, "cuEventCreate", "hipEventCreateWithFlags"),
                    ACCL_ERR_DRIVER);
}

int accl_gpu_event_record(int vendor, void *event, void *stream)
{
    int code;
    RtDriver *d = rt_driver(vendor, &code);
    if (!d)
        return code;
    return rt_check(d, d->call.event_record(event, stream), RT_NAME(d, "cuEventRecord", "hipEventRecord"),
                    ACCL_ERR_DRIVER);
}

int accl_gpu_event_elapsed(int vendor, float *ms, void *start, void *end)
{
    int code;
    RtDriver *d = rt_driver(vendor, &code);
    *ms = 0;
    if (!d)
        return code;
    code = rt_check(d, d->call.event_sync(end), RT_NAME(d, "cuEventSynchronize", "hipEventSynchronize"),
                    ACCL_ERR_LAUNCH);
    if (code != ACCL_OK)
        return code;
    return rt_check(d, d->call.event_elapsed(ms, start, end),
                    RT_NAME(d, "cuEventElapsedTime", "hipEventElapsedTime"), ACCL_ERR_DRIVER);
}

int accl_gpu_event_destroy(int vendor, void *event)
{
    int code;
    RtDriver *d = rt_driver(vendor, &code);
    if (!d || !event)
        return d ? ACCL_OK : code;
    return rt_check(d, d->call.event_destroy(event), RT_NAME(d, "cuEventDestroy", "hipEventDestroy"),
                    ACCL_ERR_DRIVER);
}
