/* GPU objects from accl (tests/capi/gpu_kernels.acc and examples/softmax.acc
 * for nvidia:sm_80) linked with libaccrt.a, called with no GPU. gpu.sh runs it
 * with no driver and with the stand-in driver (fake_cuda.c) and reads the
 * stand-in's log.
 *
 *   gpu_stubs checks        the entry checks and the grid limit give their codes
 *                           before any device work (gpu.sh: the log stays empty)
 *   gpu_stubs fail CODE     a valid call returns CODE, with accl_strerror's and
 *                           the runtime's messages (printed); an empty one is OK
 *   gpu_stubs launch        valid calls on the stand-in's device succeed (gpu.sh
 *                           checks the launches it logged)
 * Ends with `gpu_stubs: N passed, N failed`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_kernels.h"
#include "softmax.h"
#include "runtime/accl.h"

/* The uniform entry of a GPU kernel takes the stream last too. */
int twice_packed(void **args) __asm__("twice.packed");

#include "check.h"

static void expect(const char *what, int rc, int want)
{
    CHECK(rc == want, "%s: %d (%s), expected %d (%s); detail: %s", what, rc, accl_strerror(rc), want,
          accl_strerror(want), accl_gpu_error_detail());
}

/* Any non-NULL address: no check dereferences a device pointer. */
static float *const dev = (float *)(uintptr_t)4096;

static void checks(void)
{
    expect("twice, N < 0", twice(dev, 2.0f, true, dev, -1, NULL), ACCL_ERR_BAD_SIZE);
    expect("twice, X NULL", twice(NULL, 2.0f, true, dev, 8, NULL), ACCL_ERR_NULL);
    expect("twice, Y NULL", twice(dev, 2.0f, true, NULL, 8, NULL), ACCL_ERR_NULL);
    expect("shift, N % 4 != 0", shift(dev, dev, 8, 6, NULL), ACCL_ERR_ASSUME);
    expect("shift, M < 0 before the assume", shift(dev, dev, -8, 6, NULL), ACCL_ERR_BAD_SIZE);
    expect("softmax, R < 0", softmax(dev, dev, -1, 4, NULL), ACCL_ERR_BAD_SIZE);
    /* (M + 15) / 16 = 65536 blocks in y: beyond the limit, nothing launched. */
    expect("shift, grid.y 65536", shift(dev, dev, 1048576 + 1, 4, NULL), ACCL_ERR_LAUNCH);
    expect("shift, grid.y 65535", shift(dev, dev, 1048560, 0, NULL), ACCL_OK);
    expect("total, s NULL", total(dev, NULL, 8, NULL), ACCL_ERR_NULL);
    expect("total, s NULL and no elements", total(NULL, NULL, 0, NULL), ACCL_ERR_NULL);
    expect("total, N < 0", total(dev, dev, -1, NULL), ACCL_ERR_BAD_SIZE);
    /* No elements, no launch: success without a device. */
    expect("twice, N = 0", twice(NULL, 1.0f, false, NULL, 0, NULL), ACCL_OK);
    expect("softmax, R = 0", softmax(NULL, NULL, 0, 77, NULL), ACCL_OK);
}

static void fail(int code)
{
    int rc = twice(dev, 2.0f, true, dev, 100, NULL);
    expect("twice", rc, code);
    printf("twice: %s; %s\n", accl_strerror(rc), accl_gpu_error_detail());
    rc = softmax(dev, dev, 3, 5, NULL);
    expect("softmax", rc, code);
    CHECK(strlen(accl_gpu_error_detail()) > 0, "no detail");
    /* The same again: a failed set-up (or load) is kept, not retried. */
    expect("softmax again", softmax(dev, dev, 3, 5, NULL), code);
}

static void launch(void)
{
    enum { N = 1000 };
    float *x = calloc(N, sizeof *x), *y = calloc(N, sizeof *y);
    expect("twice", twice(x, 2.5f, true, y, N, NULL), ACCL_OK);
    expect("shift", shift(x, y, 33, 100, NULL), ACCL_OK);
    expect("softmax", softmax(x, y, 7, 129, NULL), ACCL_OK);
    /* K.packed: args[i] points to K's i-th argument, the stream last. */
    float a = 0.5f;
    bool on = false;
    int64_t n = 17;
    void *stream = NULL;
    void *args[] = {&x, &a, &on, &y, &n, &stream};
    expect("twice.packed", twice_packed(args), ACCL_OK);
    expect("synchronize", accl_gpu_synchronize(ACCL_GPU_NVIDIA, NULL), ACCL_OK);
    free(x);
    free(y);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "checks") == 0)
        checks();
    else if (argc == 3 && strcmp(argv[1], "fail") == 0)
        fail(atoi(argv[2]));
    else if (argc == 2 && strcmp(argv[1], "launch") == 0)
        launch();
    else {
        fprintf(stderr, "usage: gpu_stubs checks | fail CODE | launch\n");
        return 2;
    }
    printf("gpu_stubs: %d passed, %d failed\n", passed, failed);
    return failed != 0;
}
