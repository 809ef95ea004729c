/* The runtime's types and error codes: one list, expanded by accl.h (the
 * runtime's header) and by the header generator (src/emit/header.c), so a
 * generated header and the runtime always agree.
 *
 *   ACCL_TYPEDEFS(X): X(name, C type, meaning)
 *   ACCL_CODES(X):    X(NAME, value, meaning, message) gives ACCL_NAME = value;
 *                     the meaning documents it in headers, accl_strerror says the message */
#ifndef ACCL_CODES_H
#define ACCL_CODES_H

#define ACCL_TYPEDEFS(X)                                        \
    X(accl_f16, uint16_t, "the bits of an IEEE binary16 value")  \
    X(accl_bf16, uint16_t, "the bits of a bfloat16 value")

#define ACCL_CODES(X) \
    X(OK, 0, \
        "success", \
        "success") \
    X(ERR_BAD_SIZE, 1, \
        "a size < 0, or a shape entry that is < 0", \
        "a size or a shape entry is negative") \
    X(ERR_ASSUME, 2, \
        "a schedule's `assume` does not hold", \
        "an assumption of the schedule does not hold for these sizes") \
    X(ERR_NULL, 3, \
        "a tensor pointer is NULL (with a nonzero element count)", \
        "a tensor pointer is NULL") \
    X(ERR_OUT_OF_MEMORY, 4, \
        "a `var` or a per-thread buffer could not be allocated", \
        "out of memory") \
    X(ERR_NO_DEVICE, 5, \
        "GPU targets: the driver found no device", \
        "the GPU driver found no device") \
    X(ERR_LAUNCH, 6, \
        "GPU targets: a grid beyond the launch limits or a failed launch", \
        "a grid exceeds the launch limits (x <= 2^31-1, y and z <= 65535) or the launch failed") \
    X(ERR_NO_DRIVER, 7, \
        "GPU targets: the driver library (libcuda, libamdhip64) is missing", \
        "no GPU driver: libcuda.so.1 (Nvidia) or libamdhip64.so (AMD) not found") \
    X(ERR_DRIVER, 8, \
        "GPU targets: the driver reported an error (accl_gpu_error_detail)", \
        "the GPU driver reported an error")

#endif
