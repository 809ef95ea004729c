/* The IR interpreter: executes a lowered (and possibly scheduled, flattened)
 * loop IR function serially, in the kernel's own types, checking every buffer
 * access against its buffer's extent. Used by `accl run --interpret` to test
 * that the passes preserve the kernel's meaning.
 *
 * The GPU emulator (src/run/emulate.c) runs the same expression evaluation and
 * statement execution once per emulated GPU thread: each thread has an
 * Interp of its own (variables and register buffers) forked from a host
 * Interp (sizes, scalars, tensors, `var` temporaries), and hooks let it
 * decide what a thread does at the points where GPU execution differs from
 * serial execution: loops bound to hardware, barriers, shared allocations,
 * accesses to shared and global memory, and the stores of copies. */
#ifndef ACCL_INTERP_H
#define ACCL_INTERP_H

#include "lower/ir.h"
#include "run/runargs.h"
#include "util/arena.h"

/* Runs f on args (tensors in memory in their C representation, see src/run/runargs.h).
 * Returns NULL on success or an error message (in arena a). */
const char *interp_run(const IrFunc *f, RunArgs *args, Arena *a);

/* ---- for the GPU emulator ---------------------------------------------- */

typedef struct Interp Interp;

/* Each hook returns false after interp_fail to stop the thread. */
typedef struct InterpHooks {
    void *ctx;
    /* An IR_BOUND loop [lo, lo + extent): the one iteration this thread runs,
     * *index in [0, extent), or *index = -1 to run none. */
    bool (*bound_loop)(void *ctx, Interp *in, const IrStmt *loop, int64_t extent, int64_t *index);
    /* IR_BARRIER: returns once every thread of the block has arrived. */
    bool (*barrier)(void *ctx, Interp *in, const IrStmt *s);
    /* alloc of an IR_MEM_SHARED buffer of `bytes` bytes: its storage (the
     * block's shared memory; not poisoned by the interpreter), or NULL after
     * interp_fail. */
    char *(*alloc_shared)(void *ctx, Interp *in, const IrBuffer *b, int64_t bytes);
    /* A load (write false) or store of element `off` of a shared, global or
     * param buffer (registers are private and not reported), before it happens. */
    bool (*access)(void *ctx, Interp *in, const IrBuffer *b, int64_t off, bool write);
    /* The store of one copied element: `elem` holds its bytes in dst's type.
     * The hook stores it at element `off` of `data` (now, or later for an
     * async copy) and does the checks of `access` for it. */
    bool (*copy_store)(void *ctx, Interp *in, const IrCopy *c, char *data, int64_t off,
                       const void *elem);
    /* IR_SHUFFLE e in statement `at`: this thread's value (its 8 bytes) is
     * `bits`; returns once the partner lane's is in *out (false after
     * interp_fail). */
    bool (*shuffle)(void *ctx, Interp *in, const IrExpr *e, const IrStmt *at, uint64_t bits, uint64_t *out);
} InterpHooks;

/* The host: sizes, scalars and tensors bound and the assumptions checked, as
 * interp_run does before executing. NULL when out of memory; otherwise check
 * interp_error. Free with interp_free. */
Interp *interp_host_new(const IrFunc *f, RunArgs *args, Arena *a, const InterpHooks *hooks);
/* A thread: a copy of the host's variables and buffers, with register (and
 * shared) buffers of its own. NULL when out of memory. */
Interp *interp_thread_new(const Interp *host);
/* A thread made a copy of the host again (its register storage is kept for reuse). */
void interp_thread_reset(Interp *thread, const Interp *host);
void interp_free(Interp *in);

/* Executes one statement; false on an error (interp_error says which). */
bool interp_exec(Interp *in, const IrStmt *s);
const char *interp_error(const Interp *in);
/* Records msg as the error unless one is recorded (msg in the Interp's arena). */
void interp_fail(Interp *in, const char *msg);
void interp_clear_error(Interp *in);
Arena *interp_arena(const Interp *in);
int64_t interp_var(const Interp *in, const IrVar *v);       /* an integer variable's value */
int64_t interp_eval_int(Interp *in, const IrExpr *e);       /* an integer expression's value */
/* The element count of a buffer as laid out (padding and stages included). */
int64_t interp_buffer_count(const Interp *in, const IrBuffer *b);
/* Loop iterations (over every Interp sharing *counter) before the run stops
 * with "the emulation exceeded its budget of <limit> steps"; counter NULL: no
 * limit. */
void interp_set_budget(Interp *in, int64_t *counter, int64_t limit);

#endif
