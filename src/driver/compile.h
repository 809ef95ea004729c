/* Code for the CPU (src/driver/compile.c): the object, assembly or LLVM IR of
 * every kernel of a file, and its C header. */
#ifndef ACCL_DRIVER_COMPILE_H
#define ACCL_DRIVER_COMPILE_H

#include "driver/driver.h"

typedef enum CodeKind { CODE_OBJ, CODE_ASM, CODE_LLVM } CodeKind;

typedef struct CodeOptions {
    bool want_code;           /* write the code (else only the header) */
    CodeKind kind;
    const char *output;       /* the code's file; NULL: standard output */
    const char *header;       /* the C header's file, or NULL */
    const char *target_name;  /* "cpu", "cpu:x86_64", "cpu:aarch64"; NULL: the host */
} CodeOptions;

/* Lowers every kernel of the front end's file for a CPU target and writes
 * what o asks. Every output is replaced only when all succeed. Returns 0 or
 * EXIT_INPUT after diagnostics or a message. */
int driver_compile(Frontend *fe, const CodeOptions *o);

#endif
