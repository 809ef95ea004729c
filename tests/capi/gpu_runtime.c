/* The GPU runtime's calls (accl.h) without a GPU: each returns the code
 * gpu.sh expects for the driver it finds (none, or tests/capi/fake_cuda.c in
 * one of its modes) with a detail naming the cause, and never crashes.
 *
 *   gpu_runtime EXPECTED-CODE DETAIL-SUBSTRING
 * Ends with `gpu_runtime: N passed, N failed`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/accl.h"

#include "check.h"

/* rc is the expected code and the detail names the cause. */
static void expect(const char *call, int rc, int want, const char *detail)
{
    CHECK(rc == want, "%s: %d (%s), expected %d; detail: %s", call, rc, accl_strerror(rc), want,
          accl_gpu_error_detail());
    if (want != ACCL_OK)
        CHECK(strstr(accl_gpu_error_detail(), detail), "%s: detail '%s' lacks '%s'", call,
              accl_gpu_error_detail(), detail);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gpu_runtime EXPECTED-CODE DETAIL\n");
        return 2;
    }
    int want = atoi(argv[1]);
    const char *detail = argv[2];
    int v = ACCL_GPU_NVIDIA;
    CHECK(strcmp(accl_gpu_error_detail(), "") == 0, "a detail before any failure");

    void *p = (void *)1, *ev = (void *)1;
    char name[64] = "";
    float ms = -1;
    expect("accl_gpu_malloc", accl_gpu_malloc(v, &p, 64), want, detail);
    CHECK(want == ACCL_OK ? p != NULL : p == NULL, "malloc's pointer");
    expect("accl_gpu_device_name", accl_gpu_device_name(v, name, sizeof name), want, detail);
    if (want == ACCL_OK) {
        float host[16], back[16];
        for (int i = 0; i < 16; i++)
            host[i] = (float)i;
        expect("copy_to_device", accl_gpu_copy_to_device(v, p, host, sizeof host), want, detail);
        expect("memset", accl_gpu_memset(v, (char *)p + 32, 0, 32), want, detail);
        expect("copy_to_host", accl_gpu_copy_to_host(v, back, p, sizeof back), want, detail);
        CHECK(back[3] == 3 && back[7] == 7 && back[8] == 0 && back[15] == 0, "data back: %g %g %g",
              back[3], back[8], back[15]);
        CHECK(strcmp(name, "Fake GPU") == 0, "name '%s'", name);
    }
    expect("accl_gpu_free", accl_gpu_free(v, want == ACCL_OK ? p : NULL), want, detail);
    expect("event_create", accl_gpu_event_create(v, &ev), want, detail);
    expect("event_record", accl_gpu_event_record(v, ev, NULL), want, detail);
    expect("event_elapsed", accl_gpu_event_elapsed(v, &ms, ev, ev), want, detail);
    CHECK(want == ACCL_OK ? ms == 1.5f : ms == 0, "elapsed %g", (double)ms);
    expect("event_destroy", accl_gpu_event_destroy(v, ev), want, detail);
    expect("synchronize", accl_gpu_synchronize(v, NULL), want, detail);

    /* Launch limits are checked before the driver is asked anything. */
    CHECK(accl_gpu_grid_ok(2147483647, 65535, 65535), "largest grid");
    CHECK(!accl_gpu_grid_ok(2147483648LL, 1, 1) && !accl_gpu_grid_ok(1, 65536, 1) &&
              !accl_gpu_grid_ok(1, 1, 65536) && !accl_gpu_grid_ok(-1, 1, 1),
          "grids beyond the limits");
    const char *names[] = {"accl_k_0"};
    AcclGpuModule m = {.vendor = v, .nkernels = 1, .arch = "sm_80", .kernels = names, .ptx = "//"};
    expect("launch 65536 blocks in y", accl_gpu_launch(&m, 0, 1, 65536, 1, 32, 0, NULL, NULL), ACCL_ERR_LAUNCH,
           "exceeds the limits");
    CHECK(m.cache == NULL, "nothing loaded for a grid beyond the limits");
    expect("empty grid", accl_gpu_launch(&m, 0, 0, 1, 1, 32, 0, NULL, NULL), ACCL_OK, "");

    /* The vendor that is not there (AMD here) says so. */
    expect("AMD", accl_gpu_malloc(ACCL_GPU_AMD, &p, 4), ACCL_ERR_NO_DRIVER, "libamdhip64.so not found");
    expect("vendor 0", accl_gpu_malloc(0, &p, 4), ACCL_ERR_NO_DRIVER, "unknown GPU vendor");

    printf("gpu_runtime: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
