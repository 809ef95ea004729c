/* Device code for a GPU target:
 *
 *   every kernel -> pass list -> GPU execution form (compile_kernel)
 *     -> gpu_compile (emit/gpu.c and the vendor's file) -> the code asked for
 *
 * --print-resources writes the vendor's report (one line per kernel, see
 * emit/nvptx.c) to standard error, after the code is written. */
#include <stdio.h>
#include <string.h>

#include "driver/gpu_code.h"
#include "emit/gpu.h"

/* The bytes of kind k in img, or NULL. */
static const void *gpu_code_bytes(const GpuImage *img, GpuCodeKind k, size_t *size)
{
    switch (k) {
    case GPU_CODE_LLVM: *size = img->llvm_ir ? strlen(img->llvm_ir) : 0; return img->llvm_ir;
    case GPU_CODE_PTX: *size = img->ptx ? strlen(img->ptx) : 0; return img->ptx;
    case GPU_CODE_CUBIN: *size = img->cubin_size; return img->cubin;
    case GPU_CODE_AMDGCN: *size = img->amdgcn ? strlen(img->amdgcn) : 0; return img->amdgcn;
    case GPU_CODE_HSACO: *size = img->hsaco_size; return img->hsaco;
    default: *size = 0; return NULL;
    }
}

int driver_gpu_code(Frontend *fe, const GpuCodeOptions *o)
{
    int n = fe->prog->nkernels;
    IrFunc **funcs = ARENA_ARRAY(&fe->arena, IrFunc *, n ? n : 1);
    for (int i = 0; i < n; i++)
        if (!(funcs[i] = compile_kernel(&fe->compile, fe->prog->kernels[i], true, NULL)))
            return EXIT_INPUT;
    GpuOptions go = {.want_cubin = o->kind == GPU_CODE_CUBIN, .want_resources = o->print_resources};
    GpuImage img;
    if (!gpu_compile(funcs, n, fe->target, &go, &img, &fe->diag))
        return EXIT_INPUT;
    bool ok = true;
    if (o->kind != GPU_CODE_NONE) {
        size_t size;
        const void *bytes = gpu_code_bytes(&img, o->kind, &size);
        Output out;
        ok = output_open(&out, o->output);
        if (ok) {
            ok = bytes && fwrite(bytes, 1, size, out.f) == size;
            ok = output_close(&out, ok) && ok;
        }
    }
    if (ok && o->print_resources && img.resources)
        fputs(img.resources, stderr);
    gpu_image_free(&img);
    return ok ? 0 : EXIT_INPUT;
}
