/* `accl run` and `accl bench` on this machine's GPU (see run_gpu.h).
 *
 *   device    found first (its name), so that a machine without one says so
 *             at once: the runtime's reason (no driver library, no device)
 *   compile   compile_gpu -> gpu_compile (the PTX, which the driver compiles
 *             for the device it finds; the code object on AMD) -> the host
 *             stub in the JIT (jit_compile_gpu), calling the runtime that
 *             accl links whole
 *   data      every tensor copied to device memory as it is (outputs too, so
 *             that elements the kernel does not write compare as before)
 *   call      K.packed with device pointers and the default stream, then a
 *             wait on the stream (the kernel's failures show there); timed
 *             with events recorded around the call
 *   results   the tensors the kernel writes copied back */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/run_gpu.h"
#include "emit/gpu.h"
#include "runtime/accl.h"

/* "accl: error: WHAT: the code's meaning (the runtime's detail)". */
static bool run_gpu_failed(const char *what, int rc)
{
    fprintf(stderr, "accl: error: %s: %s (%s)\n", what, accl_strerror(rc), accl_gpu_error_detail());
    return false;
}

static size_t run_gpu_bytes(const RunTensor *t)
{
    return (size_t)t->count * (size_t)elem_type_bytes(t->elem);
}

/* The device code and the host stub of f. */
static bool run_gpu_compile(RunGpu *g, Frontend *fe, IrFunc *f)
{
    if (!compile_gpu(&fe->compile, f, NULL))
        return false;
    GpuOptions go = {0};   /* the PTX: the driver compiles it for its device */
    GpuImage img = {0};
    bool ok = gpu_compile(&f, 1, fe->target, &go, &img, &fe->diag);
    char *err = NULL;
    if (ok)
        g->jit = jit_compile_gpu(&f, 1, &img, &fe->diag, &err);
    if (g->jit)
        g->fn = jit_lookup(g->jit, f->name, &err);
    if (err)
        fprintf(stderr, "accl: error: the JIT failed: %s\n", err);
    free(err);
    gpu_image_free(&img);
    return g->fn != NULL;
}

bool run_gpu_open(RunGpu *g, Frontend *fe, IrFunc *f, const RunArgs *args, RunPackFn pack, Arena *a)
{
    memset(g, 0, sizeof *g);
    g->vendor = strcmp(target_vendor(fe->target), "amd") == 0 ? ACCL_GPU_AMD : ACCL_GPU_NVIDIA;
    int rc = accl_gpu_device_name(g->vendor, g->device, sizeof g->device);
    if (rc != ACCL_OK) {
        fprintf(stderr, "accl: error: no GPU to run on: %s (%s); --emulate runs the GPU code on the CPU\n",
                accl_strerror(rc), accl_gpu_error_detail());
        return false;
    }
    if (!run_gpu_compile(g, fe, f))
        return false;
    const Kernel *k = args->kernel;
    g->dev = *args;
    g->dev.tensors = ARENA_ARRAY(a, RunTensor, k->nparams + 1);
    for (int i = 0; i < k->nparams; i++) {
        g->dev.tensors[i] = args->tensors[i];
        if (!ast_param_is_buffer(k->params[i]))
            continue;
        g->dev.tensors[i].data = NULL;
        size_t bytes = run_gpu_bytes(&args->tensors[i]);
        if (bytes == 0)
            continue;
        if ((rc = accl_gpu_malloc(g->vendor, &g->dev.tensors[i].data, bytes)) != ACCL_OK)
            return run_gpu_failed("device memory for the tensors", rc);
        if ((rc = accl_gpu_copy_to_device(g->vendor, g->dev.tensors[i].data, args->tensors[i].data, bytes)))
            return run_gpu_failed("copying the inputs to the device", rc);
    }
    g->packed = pack(k, &g->dev, a);
    g->packed[k->nparams + k->nsizes] = &g->stream;
    return true;
}

bool run_gpu_call(RunGpu *g, double *ms)
{
    void *ev[2] = {NULL, NULL};
    int rc = ACCL_OK;
    for (int i = 0; ms && i < 2 && rc == ACCL_OK; i++)
        rc = accl_gpu_event_create(g->vendor, &ev[i]);
    if (ms && rc == ACCL_OK)
        rc = accl_gpu_event_record(g->vendor, ev[0], g->stream);
    if (rc != ACCL_OK)
        return run_gpu_failed("GPU events", rc);
    rc = g->fn(g->packed);
    if (rc != ACCL_OK) {
        fprintf(stderr, "accl: error: the compiled kernel failed: %s (code %d)", accl_strerror(rc), rc);
        fprintf(stderr, "%s%s%s\n", *accl_gpu_error_detail() ? " (" : "", accl_gpu_error_detail(),
                *accl_gpu_error_detail() ? ")" : "");
    } else if (ms) {
        float t = 0;
        if ((rc = accl_gpu_event_record(g->vendor, ev[1], g->stream)) == ACCL_OK &&
            (rc = accl_gpu_event_elapsed(g->vendor, &t, ev[0], ev[1])) == ACCL_OK)
            *ms = t;
        else
            run_gpu_failed("the kernel on the GPU", rc);
    } else if ((rc = accl_gpu_synchronize(g->vendor, g->stream)) != ACCL_OK) {
        run_gpu_failed("the kernel on the GPU", rc);
    }
    for (int i = 0; i < 2; i++)
        accl_gpu_event_destroy(g->vendor, ev[i]);
    return rc == ACCL_OK;
}

bool run_gpu_read(RunGpu *g, RunArgs *args)
{
    const Kernel *k = args->kernel;
    for (int i = 0; i < k->nparams; i++) {
        const Param *p = k->params[i];
        size_t bytes = ast_param_is_buffer(p) ? run_gpu_bytes(&args->tensors[i]) : 0;
        if (p->mode == MODE_IN || bytes == 0)
            continue;
        int rc = accl_gpu_copy_to_host(g->vendor, args->tensors[i].data, g->dev.tensors[i].data, bytes);
        if (rc != ACCL_OK)
            return run_gpu_failed("copying the results from the device", rc);
    }
    return true;
}

void run_gpu_close(RunGpu *g)
{
    const Kernel *k = g->dev.kernel;
    for (int i = 0; k && g->dev.tensors && i < k->nparams; i++)
        if (ast_param_is_buffer(k->params[i]) && g->dev.tensors[i].data)
            accl_gpu_free(g->vendor, g->dev.tensors[i].data);
    jit_free(g->jit);
    memset(g, 0, sizeof *g);
}
