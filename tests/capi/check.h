/* The C API tests' one check: counts passes and failures, prints each failure
 * with its place. Each test program includes it once and ends with
 * `NAME: N passed, N failed`. */
#ifndef ACCL_TESTS_CAPI_CHECK_H
#define ACCL_TESTS_CAPI_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond, ...)                                \
    do {                                                \
        if (cond) {                                     \
            passed++;                                   \
        } else {                                        \
            failed++;                                   \
            printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__);                        \
            printf("\n");                               \
        }                                               \
    } while (0)

#endif
