/* Error codes of compiled kernels, as text (the messages of accl_codes.h). */
#include "runtime/accl.h"

const char *accl_strerror(int code)
{
    switch (code) {
#define ACCL_CODE_MESSAGE_(name, value, doc, message) \
    case ACCL_##name: return message;
        ACCL_CODES(ACCL_CODE_MESSAGE_)
#undef ACCL_CODE_MESSAGE_
    }
    return "unknown accl error code";
}
