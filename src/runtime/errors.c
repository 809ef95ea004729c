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
    case ACCL_ERR_NO_DEVICE: return "no GPU driver or device";
    case ACCL_ERR_LAUNCH: return "a GPU launch failed or exceeds a launch limit";
    }
    return "unknown accl error code";
}
