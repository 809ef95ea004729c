/* Error codes of compiled kernels, as text. */
#include "runtime/accl.h"

const char *accl_strerror(int code)
{
    switch (code) {
    case ACCL_OK: return "success";
    case ACCL_ERR_BAD_SIZE: return "a size or a shape entry is negative";
    case ACCL_ERR_ASSUME: return "an assumption of the schedule does not hold for these sizes";
    case ACCL_ERR_NULL: return "a tensor pointer is NULL";
    case ACCL_ERR_OUT_OF_MEMORY: return "out of memory";
    case ACCL_ERR_NO_DEVICE: return "the GPU driver found no device";
    case ACCL_ERR_LAUNCH:
        return "a grid exceeds the launch limits (x <= 2^31-1, y and z <= 65535) or the launch failed";
    case ACCL_ERR_NO_DRIVER: return "no GPU driver: libcuda.so.1 (Nvidia) or libamdhip64.so (AMD) not found";
    case ACCL_ERR_DRIVER: return "the GPU driver reported an error";
    }
    return "unknown accl error code";
}
