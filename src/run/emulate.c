/* The GPU emulator (lang/SPEC.md, Emulator): the GPU execution form run on
 * the CPU by the interpreter's own evaluation and execution (src/run/interp.h),
 * one Interp per emulated thread, with hooks for what differs from serial
 * execution.
 *
 *   host      an Interp with the sizes, scalars and tensors bound; it runs the
 *             top-level statements that are not launches (`alloc global`)
 *   launches  in order; the grid's blocks in a random order (seeded), one
 *             block at a time
 *   threads   a block's T threads are user-level threads (ucontext, one
 *             mmap'd stack each) on this OS thread. Each runs the launch's
 *             statement as a copy of the host: a loop bound to block.x/y/z runs
 *             only the block's iteration, the thread loop only the thread's
 *             own. A thread runs until it reaches a barrier or finishes; the
 *             next one is picked at random, so a run is deterministic per seed
 *   shuffles  the lanes of a warp (tid / wave equal) exchange values: each
 *             posts its value and waits until every lane has posted that
 *             shuffle (counted per thread), then reads its partner's. Lanes at
 *             different shuffles, or waiting while a lane of the warp finished
 *             or waits at a barrier: an error naming file:line:col
 *   barriers  a block's threads wait at a barrier until all have arrived. When
 *             no thread can run and some wait while others have finished, or
 *             they wait at different barrier statements, that is a deadlock
 *   epochs    a counter, advanced at the start of each block and each time
 *             a block's barrier releases its threads: two accesses in one
 *             epoch are not ordered
 *   shadows   per byte of shared memory and per element of every tensor and
 *             `var`: the epoch, thread and block of the last write, the epoch,
 *             block and up to two threads of the reads since. In one epoch, a write and
 *             another thread's read or write of the same element is a race;
 *             a shared read with no write since the block began reads poison;
 *             an element of a tensor or var that one block writes and another
 *             block of the same launch reads or writes is a race too
 *   copies    a spread copy's elements are split among the threads by the
 *             interpreter. An async copy's stores are held per thread, in
 *             issue order, as in flight: a barrier commits them as a group and
 *             lands every group but the newest `pending` before it waits;
 *             between thread switches a random prefix of a random thread's
 *             held stores lands. A read before landing sees the old contents
 *   budget    loop iterations and thread starts (EMULATE_THREAD_STEPS each)
 *             are counted over the whole run; beyond EmulateOptions.max_steps
 *             the run stops with an error, and a launch whose threads would
 *             exceed what is left fails before it starts */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "run/emulate.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "run/interp.h"
#include "runtime/accl.h"

#if defined(__SANITIZE_ADDRESS__)
#define EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EMU_ASAN 1
#endif
#endif
#ifdef EMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

enum {
    EMU_STACK_BYTES = 256 * 1024,
    EMU_NO_THREAD = -1,
};

/* The last write and the reads since, of one element (shared: one byte):
 * epochs, threads, and blocks (the linear index in the launch's grid). */
typedef struct Shadow {
    uint32_t w_epoch, r_epoch;
    int32_t writer, r1, r2;
    int64_t w_block, r_block;
} Shadow;

/* One element of an async copy, stored but not yet landed. */
typedef struct InFlight {
    const IrBuffer *buf;
    char *data;
    int64_t off;
    int64_t group;
    unsigned char bytes[16];
} InFlight;

typedef enum ThreadState { TH_READY, TH_BARRIER, TH_SHUFFLE, TH_DONE } ThreadState;

/* A value a lane posted at a shuffle: its seq-th shuffle, at expression e. */
typedef struct ShflPost {
    const IrExpr *e;
    int64_t seq;
    uint64_t bits;
} ShflPost;

typedef struct EmuThread {
    Interp *in;
    ucontext_t uc;
    char *stack;           /* EMU_STACK_BYTES, the lowest page a guard */
    ThreadState state;
    const IrStmt *barrier; /* where it waits (TH_BARRIER), or the shuffle's statement (TH_SHUFFLE) */
    int64_t nshfl;         /* shuffles posted so far */
    ShflPost post[2];      /* the last two, by seq % 2 */
    int64_t tid;
    InFlight *flight;      /* held async stores, oldest first */
    int64_t nflight, capflight;
    int64_t committed;     /* async groups committed by its barriers */
    void *fake_stack;      /* AddressSanitizer's, while switched away */
} EmuThread;

typedef struct Emu {
    const IrFunc *f;
    Arena *arena;
    const EmulateOptions *o;
    uint64_t rng;
    InterpHooks hooks;
    Interp *host;
    const IrLaunch *launch;
    int64_t block[3], grid[3];
    int64_t block_index;   /* linear, x fastest */
    EmuThread *th;
    int64_t nth;           /* threads made (stacks mapped) */
    EmuThread *cur;        /* the running thread; NULL: the scheduler or the host */
    ucontext_t sched;
    const void *sched_bottom;  /* the scheduler's stack, for AddressSanitizer */
    size_t sched_size;
    void *sched_fake;
    char *smem;            /* the block's shared memory */
    int64_t smem_bytes;
    Shadow *smem_shadow;   /* per byte */
    int64_t *smem_base;    /* per buffer id: its byte offset in smem */
    Shadow **shadow;       /* per buffer id: per element (tensors and vars) */
    int64_t *shadow_count;
    uint32_t epoch, block_epoch, launch_epoch;
    const IrStmt *last_barrier;  /* the barrier that began the epoch; NULL: the block did */
    int64_t steps, max_steps;
    const char *error;
} Emu;

/* ---- helpers ----------------------------------------------------------- */

static uint64_t emu_random(Emu *e)
{
    /* splitmix64 */
    uint64_t z = (e->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int64_t emu_below(Emu *e, int64_t n) { return n <= 1 ? 0 : (int64_t)(emu_random(e) % (uint64_t)n); }

static void emu_fail(Emu *e, const char *msg)
{
    if (!e->error)
        e->error = msg;
}

/* file:line:col of a statement's origin. */
static const char *emu_where(Emu *e, const IrStmt *s)
{
    const Source *src = e->o->src;
    if (!src || s->origin.lo > src->len)
        return arena_printf(e->arena, "offset %u", s->origin.lo);
    int line, col;
    source_position(src, s->origin.lo, &line, &col);
    return arena_printf(e->arena, "%s:%d:%d", src->name, line, col);
}

static const char *emu_block_text(Emu *e)
{
    return arena_printf(e->arena, "block (%lld, %lld, %lld)", (long long)e->block[0],
                        (long long)e->block[1], (long long)e->block[2]);
}

/* "since the barrier at F:L:C" or "since the block began". */
static const char *emu_epoch_text(Emu *e)
{
    if (!e->last_barrier)
        return "since the block began";
    return arena_printf(e->arena, "since the barrier at %s", emu_where(e, e->last_barrier));
}

static bool emu_count_steps(Emu *e, int64_t n)
{
    e->steps += n;
    if (e->steps <= e->max_steps)
        return true;
    emu_fail(e, arena_printf(e->arena, "the emulation exceeded its budget of %lld steps",
                             (long long)e->max_steps));
    return false;
}

/* ---- user-level threads -------------------------------------------------- */

/* The switches between the scheduler and a thread, announced to
 * AddressSanitizer so that it follows the change of stacks. */
static void emu_switch_to_thread(Emu *e, EmuThread *t)
{
    e->cur = t;
#ifdef EMU_ASAN
    __sanitizer_start_switch_fiber(&e->sched_fake, t->stack, EMU_STACK_BYTES);
#endif
    swapcontext(&e->sched, &t->uc);
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(e->sched_fake, NULL, NULL);
#endif
    e->cur = NULL;
}

/* From a thread back to the scheduler; `finished`: never resumed. */
static void emu_switch_to_scheduler(Emu *e, EmuThread *t, bool finished)
{
#ifdef EMU_ASAN
    __sanitizer_start_switch_fiber(finished ? NULL : &t->fake_stack, e->sched_bottom, e->sched_size);
#else
    (void)finished;
#endif
    swapcontext(&t->uc, &e->sched);
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(t->fake_stack, &e->sched_bottom, &e->sched_size);
#endif
}

static bool emu_land_prefix(Emu *e, EmuThread *t, int64_t n);

/* A thread's life: the launch's statement, then its held stores land. */
static void emu_thread_main(unsigned hi, unsigned lo)
{
    Emu *e = (Emu *)(((uintptr_t)hi << 16 << 16) | (uintptr_t)lo);
#ifdef EMU_ASAN
    __sanitizer_finish_switch_fiber(NULL, &e->sched_bottom, &e->sched_size);
#endif
    EmuThread *t = e->cur;
    if (interp_exec(t->in, e->launch->root))
        emu_land_prefix(e, t, t->nflight);
    t->state = TH_DONE;
    emu_switch_to_scheduler(e, t, true);
}

static bool emu_make_threads(Emu *e, int64_t n)
{
    if (n <= e->nth)
        return true;
    EmuThread *th = realloc(e->th, (size_t)n * sizeof *th);
    if (!th) {
        emu_fail(e, "out of memory for the emulated threads");
        return false;
    }
    e->th = th;
    for (; e->nth < n; e->nth++) {
        EmuThread *t = &e->th[e->nth];
        memset(t, 0, sizeof *t);
        t->in = interp_thread_new(e->host);
        void *stack = mmap(NULL, EMU_STACK_BYTES, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (!t->in || stack == MAP_FAILED) {
            interp_free(t->in);
            emu_fail(e, arena_printf(e->arena, "cannot make %lld emulated threads (out of memory)",
                                     (long long)n));
            return false;
        }
        t->stack = stack;
        mprotect(t->stack, 4096, PROT_NONE);  /* a guard page below the stack */
    }
    return true;
}

static void emu_free_threads(Emu *e)
{
    for (int64_t i = 0; i < e->nth; i++) {
        EmuThread *t = &e->th[i];
#ifdef EMU_ASAN
        /* A thread abandoned at an error leaves its frames poisoned. */
        ASAN_UNPOISON_MEMORY_REGION(t->stack + 4096, EMU_STACK_BYTES - 4096);
#endif
        munmap(t->stack, EMU_STACK_BYTES);
        interp_free(t->in);
        free(t->flight);
    }
    free(e->th);
}

static bool emu_start_thread(Emu *e, EmuThread *t, int64_t tid)
{
    interp_thread_reset(t->in, e->host);
    t->state = TH_READY;
    t->barrier = NULL;
    t->tid = tid;
    t->nflight = 0;
    t->committed = 0;
    t->nshfl = 0;
    memset(t->post, 0, sizeof t->post);
    if (getcontext(&t->uc) != 0) {
        emu_fail(e, "getcontext failed");
        return false;
    }
    t->uc.uc_stack.ss_sp = t->stack + 4096;
    t->uc.uc_stack.ss_size = EMU_STACK_BYTES - 4096;
    t->uc.uc_link = NULL;
    uintptr_t p = (uintptr_t)e;
    makecontext(&t->uc, (void (*)(void))emu_thread_main, 2, (unsigned)(p >> 16 >> 16),
                (unsigned)(p & 0xFFFFFFFFu));
    return emu_count_steps(e, EMULATE_THREAD_STEPS);
}

/* ---- shadows: races and poison ------------------------------------------ */

static const char *emu_mem_name(const IrBuffer *b)
{
    return b->mem == IR_MEM_SHARED ? "shared" : b->mem == IR_MEM_GLOBAL ? "var" : "tensor";
}

static void emu_race(Emu *e, Interp *in, const IrBuffer *b, int64_t off, int64_t t1,
                     const char *what1, int64_t t2, const char *what2)
{
    const char *msg = arena_printf(e->arena, "race on %s %s[%lld] in %s: thread %lld %s it and "
                                   "thread %lld %s it %s, with no barrier between",
                                   emu_mem_name(b), b->name, (long long)off, emu_block_text(e),
                                   (long long)t1, what1, (long long)t2, what2, emu_epoch_text(e));
    emu_fail(e, msg);
    if (in)
        interp_fail(in, msg);
}

/* Rule: in one epoch, a write and another thread's read or write of the
 * same element race. */
static bool emu_check(Emu *e, Interp *in, const IrBuffer *b, int64_t off, Shadow *sh,
                      int64_t tid, bool write)
{
    uint32_t now = e->epoch;
    int32_t me = (int32_t)tid;
    if (write) {
        if (sh->w_epoch == now && sh->writer != me) {
            emu_race(e, in, b, off, sh->writer, "writes", tid, "writes");
            return false;
        }
        if (sh->r_epoch == now) {
            int32_t other = sh->r1 != me ? sh->r1 : sh->r2 != EMU_NO_THREAD && sh->r2 != me ? sh->r2
                                                                                     : EMU_NO_THREAD;
            if (other != EMU_NO_THREAD) {
                emu_race(e, in, b, off, other, "reads", tid, "writes");
                return false;
            }
        }
        sh->w_epoch = now;
        sh->writer = me;
        return true;
    }
    if (sh->w_epoch == now && sh->writer != me) {
        emu_race(e, in, b, off, sh->writer, "writes", tid, "reads");
        return false;
    }
    if (sh->r_epoch != now) {
        sh->r_epoch = now;
        sh->r1 = me;
        sh->r2 = EMU_NO_THREAD;
    } else if (sh->r1 != me && sh->r2 == EMU_NO_THREAD) {
        sh->r2 = me;
    }
    return true;
}

/* Rule: the blocks of a launch are unordered: an element of a tensor or
 * var that one block writes and another block reads or writes, in one
 * launch, is a race. */
static bool emu_check_blocks(Emu *e, Interp *in, const IrBuffer *b, int64_t off, const Shadow *sh,
                             int64_t tid, bool write)
{
    bool w_other = sh->w_epoch >= e->launch_epoch && sh->w_epoch < e->block_epoch;
    bool r_other = write && sh->r_epoch >= e->launch_epoch && sh->r_epoch < e->block_epoch;
    if (!w_other && !r_other)
        return true;
    int64_t ob = w_other ? sh->w_block : sh->r_block, g0 = e->grid[0], g1 = e->grid[1];
    const char *msg = arena_printf(e->arena, "race on %s %s[%lld] between blocks of one launch: "
                                   "thread %lld of %s %s it and thread %lld of block (%lld, %lld, "
                                   "%lld) %s it (blocks are not ordered)", emu_mem_name(b), b->name,
                                   (long long)off, (long long)tid, emu_block_text(e),
                                   write ? "writes" : "reads",
                                   (long long)(w_other ? sh->writer : sh->r1), (long long)(ob % g0),
                                   (long long)(ob / g0 % g1), (long long)(ob / g0 / g1),
                                   w_other ? "wrote" : "read");
    emu_fail(e, msg);
    if (in)
        interp_fail(in, msg);
    return false;
}

/* The shadow of element off of a tensor or var (made on first use). */
static Shadow *emu_global_shadow(Emu *e, Interp *in, const IrBuffer *b, int64_t off)
{
    if (!e->shadow[b->id]) {
        int64_t n = interp_buffer_count(in, b);
        e->shadow[b->id] = calloc((size_t)(n > 0 ? n : 1), sizeof(Shadow));
        e->shadow_count[b->id] = n;
        if (!e->shadow[b->id]) {
            emu_fail(e, arena_printf(e->arena, "out of memory for the shadow of '%s'", b->name));
            interp_fail(in, e->error);
            return NULL;
        }
    }
    if (off < 0 || off >= e->shadow_count[b->id])
        return NULL;
    return &e->shadow[b->id][off];
}

/* Rule: a shared element read before any thread of the block wrote it
 * holds poison. */
static bool emu_shared_access(Emu *e, Interp *in, const IrBuffer *b, int64_t byte, int64_t off,
                              int64_t tid, bool write)
{
    Shadow *sh = &e->smem_shadow[byte];
    if (!write && sh->w_epoch < e->block_epoch) {
        const char *msg = arena_printf(e->arena, "read of shared %s[%lld] before any thread wrote "
                                       "it (poison), by thread %lld of %s", b->name, (long long)off,
                                       (long long)tid, emu_block_text(e));
        emu_fail(e, msg);
        if (in)
            interp_fail(in, msg);
        return false;
    }
    return emu_check(e, in, b, off, sh, tid, write);
}

static bool emu_access_as(Emu *e, Interp *in, const IrBuffer *b, int64_t off, int64_t tid, bool write)
{
    if (b->mem == IR_MEM_SHARED)
        return emu_shared_access(e, in, b, e->smem_base[b->id] + off * elem_type_bytes(b->elem), off,
                                 tid, write);
    Shadow *sh = emu_global_shadow(e, in, b, off);
    if (!sh)
        return !e->error;
    if (!emu_check_blocks(e, in, b, off, sh, tid, write) || !emu_check(e, in, b, off, sh, tid, write))
        return false;
    *(write ? &sh->w_block : &sh->r_block) = e->block_index;
    return true;
}

/* ---- async copies ---------------------------------------------------------- */

/* The oldest n held stores of t land, in order, as t's writes now. */
static bool emu_land_prefix(Emu *e, EmuThread *t, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        InFlight *x = &t->flight[i];
        if (!emu_access_as(e, NULL, x->buf, x->off, t->tid, true)) {
            t->nflight = 0;
            return false;
        }
        int64_t size = elem_type_bytes(x->buf->elem);
        memcpy(x->data + x->off * size, x->bytes, (size_t)size);
    }
    if (n > 0 && n < t->nflight)
        memmove(t->flight, t->flight + n, (size_t)(t->nflight - n) * sizeof *t->flight);
    t->nflight -= n;
    return true;
}

/* Between switches: a random prefix of a random thread's held stores lands. */
static bool emu_land_some(Emu *e, int64_t nthreads)
{
    EmuThread *t = &e->th[emu_below(e, nthreads)];
    if (t->nflight == 0)
        return true;
    return emu_land_prefix(e, t, emu_below(e, t->nflight + 1));
}

/* ---- hooks ------------------------------------------------------------------ */

static bool hook_bound_loop(void *ctx, Interp *in, const IrStmt *s, int64_t extent, int64_t *index)
{
    Emu *e = ctx;
    const IrLaunch *l = e->launch;
    const char *bad = NULL;
    if (!e->cur)
        bad = "outside every launch";
    else if (s->hw == HW_BLOCK_X || s->hw == HW_BLOCK_Y || s->hw == HW_BLOCK_Z)
        *index = e->block[s->hw - HW_BLOCK_X];
    else if (s->var == l->tid)
        *index = e->cur->tid;
    else
        bad = "inside a launch, other than its block and thread loops";
    if (!bad && *index >= extent)
        bad = arena_printf(e->arena, "with extent %lld, less than the launch's %s (%lld)",
                           (long long)extent, s->var == l->tid ? "threads" : "grid",
                           (long long)*index + 1);
    if (bad) {
        const char *msg = arena_printf(e->arena, "the loop '%s' bound to hardware at %s is %s",
                                       s->var->name, emu_where(e, s), bad);
        emu_fail(e, msg);
        interp_fail(in, msg);
        return false;
    }
    return true;
}

/* A barrier: commit the thread's async stores as a group, land all but the
 * newest `pending` groups, then wait for the block. */
static bool hook_barrier(void *ctx, Interp *in, const IrStmt *s)
{
    Emu *e = ctx;
    EmuThread *t = e->cur;
    if (!t) {
        interp_fail(in, arena_printf(e->arena, "a barrier at %s outside every launch", emu_where(e, s)));
        return false;
    }
    t->committed++;
    int64_t n = 0;
    while (n < t->nflight && t->flight[n].group < t->committed - s->pending)
        n++;
    if (!emu_land_prefix(e, t, n)) {
        interp_fail(in, e->error);
        return false;
    }
    t->state = TH_BARRIER;
    t->barrier = s;
    emu_switch_to_scheduler(e, t, false);
    return true;
}

/* ---- shuffles -------------------------------------------------------------- */

/* The lanes of t's warp: threads [*lo, *hi) (tid / wave equal). */
static void emu_warp(const Emu *e, const EmuThread *t, int64_t *lo, int64_t *hi)
{
    int64_t wave = target_wave_size(e->f->target);
    *lo = t->tid / wave * wave;
    *hi = *lo + wave < e->launch->threads ? *lo + wave : e->launch->threads;
}

/* Whether every lane of t's warp has posted its shuffle number seq. */
static bool emu_warp_posted(const Emu *e, const EmuThread *t, int64_t seq)
{
    int64_t lo, hi;
    emu_warp(e, t, &lo, &hi);
    for (int64_t i = lo; i < hi; i++)
        if (e->th[i].nshfl <= seq)
            return false;
    return true;
}

static const char *emu_shfl_where(Emu *e, const IrStmt *at)
{
    return at ? emu_where(e, at) : "?";
}

/* Rule: a shuffle is an exchange point of the warp. A lane posts its value
 * (its seq-th shuffle, at expression e), waits until every lane of its warp
 * has posted that one, then reads its partner's (tid XOR mask). Lanes that
 * meet their seq-th shuffle at different expressions diverge: an error.
 * Two posts per lane suffice: a lane cannot post seq + 2 before every lane
 * has posted seq + 1, which each does only after reading seq. */
static bool hook_shuffle(void *ctx, Interp *in, const IrExpr *x, const IrStmt *at, uint64_t bits, uint64_t *out)
{
    Emu *e = ctx;
    EmuThread *t = e->cur;
    if (!t) {
        interp_fail(in, "a shuffle outside every launch");
        return false;
    }
    int64_t seq = t->nshfl, lo, hi;
    t->post[seq % 2] = (ShflPost){x, seq, bits};
    t->nshfl++;
    emu_warp(e, t, &lo, &hi);
    for (int64_t i = lo; i < hi; i++) {
        const EmuThread *o = &e->th[i];
        const ShflPost *p = &o->post[seq % 2];
        if (o->nshfl > seq && p->seq == seq && p->e != x) {
            const char *msg = arena_printf(e->arena, "divergent shuffles in %s: thread %lld is at the "
                                           "shuffle at %s while thread %lld of its warp is at the one "
                                           "at %s", emu_block_text(e), (long long)t->tid,
                                           emu_shfl_where(e, at), (long long)o->tid,
                                           emu_shfl_where(e, o->barrier ? o->barrier : at));
            emu_fail(e, msg);
            interp_fail(in, msg);
            return false;
        }
    }
    t->barrier = at;
    if (emu_warp_posted(e, t, seq)) {
        for (int64_t i = lo; i < hi; i++)
            if (e->th[i].state == TH_SHUFFLE)
                e->th[i].state = TH_READY;
    } else {
        t->state = TH_SHUFFLE;
        emu_switch_to_scheduler(e, t, false);
        if (e->error)
            return false;
    }
    int64_t partner = t->tid ^ x->ival;
    const EmuThread *o = partner >= lo && partner < hi ? &e->th[partner] : NULL;
    if (!o || o->post[seq % 2].seq != seq || o->nshfl <= seq) {
        const char *msg = arena_printf(e->arena, "the shuffle at %s in %s: thread %lld's partner %lld "
                                       "is not a lane of its warp", emu_shfl_where(e, at),
                                       emu_block_text(e), (long long)t->tid, (long long)partner);
        emu_fail(e, msg);
        interp_fail(in, msg);
        return false;
    }
    *out = o->post[seq % 2].bits;
    return true;
}

static char *hook_alloc_shared(void *ctx, Interp *in, const IrBuffer *b, int64_t bytes)
{
    Emu *e = ctx;
    if (!e->cur || b->smem_offset < 0 || b->smem_offset + bytes > e->smem_bytes) {
        const char *msg = arena_printf(e->arena, "shared buffer '%s' (%lld bytes at offset %lld) "
                                       "lies outside the launch's %lld bytes of shared memory",
                                       b->name, (long long)bytes, (long long)b->smem_offset,
                                       (long long)e->smem_bytes);
        emu_fail(e, msg);
        interp_fail(in, msg);
        return NULL;
    }
    e->smem_base[b->id] = b->smem_offset;
    return e->smem + b->smem_offset;
}

static bool hook_access(void *ctx, Interp *in, const IrBuffer *b, int64_t off, bool write)
{
    Emu *e = ctx;
    if (!e->cur)
        return true;  /* the host, outside every launch */
    return emu_access_as(e, in, b, off, e->cur->tid, write);
}

static bool hook_copy_store(void *ctx, Interp *in, const IrCopy *c, char *data, int64_t off,
                            const void *elem)
{
    Emu *e = ctx;
    EmuThread *t = e->cur;
    int64_t size = elem_type_bytes(c->dst->elem);
    if (t && c->async) {
        if (t->nflight == t->capflight) {
            int64_t cap = t->capflight ? 2 * t->capflight : 256;
            InFlight *p = realloc(t->flight, (size_t)cap * sizeof *p);
            if (!p) {
                interp_fail(in, "out of memory for async copies");
                return false;
            }
            t->flight = p;
            t->capflight = cap;
        }
        InFlight *x = &t->flight[t->nflight++];
        x->buf = c->dst;
        x->data = data;
        x->off = off;
        x->group = t->committed;
        memcpy(x->bytes, elem, (size_t)size);
        return true;
    }
    if (t && !emu_access_as(e, in, c->dst, off, t->tid, true))
        return false;
    memcpy(data + off * size, elem, (size_t)size);
    return true;
}

/* ---- blocks and launches ------------------------------------------------- */

/* Rule: no thread can run and a lane waits at a shuffle: a lane of its warp
 * finished, waits at a barrier, or never posts that shuffle: a deadlock.
 * False after the error. */
static bool emu_shuffle_stuck(Emu *e, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        EmuThread *t = &e->th[i];
        if (t->state != TH_SHUFFLE)
            continue;
        int64_t lo, hi, seq = t->nshfl - 1;
        emu_warp(e, t, &lo, &hi);
        const EmuThread *o = NULL;
        for (int64_t k = lo; k < hi && !o; k++)
            if (e->th[k].nshfl <= seq)
                o = &e->th[k];
        const char *why = !o ? "which its warp passed"
                          : o->state == TH_DONE
                              ? arena_printf(e->arena, "which thread %lld of its warp never reaches (it finished)",
                                             (long long)o->tid)
                              : arena_printf(e->arena, "while thread %lld of its warp waits at the barrier at %s",
                                             (long long)o->tid, emu_where(e, o->barrier));
        emu_fail(e, arena_printf(e->arena, "deadlock in %s: thread %lld waits at the shuffle at %s, %s",
                                 emu_block_text(e), (long long)t->tid, emu_shfl_where(e, t->barrier), why));
        return false;
    }
    return true;
}

/* Rule: no thread can run; if every thread finished, the block is done; if
 * all wait at one barrier statement, it releases them (a new epoch);
 * otherwise a thread waits for one that will never come: a deadlock. */
static bool emu_release(Emu *e, int64_t n, bool *done)
{
    EmuThread *waiting = NULL, *finished = NULL, *other = NULL;
    *done = false;
    for (int64_t i = 0; i < n; i++)
        if (e->th[i].state == TH_READY)
            return true;     /* woken by a shuffle after its turn: another round */
    if (!emu_shuffle_stuck(e, n))
        return false;
    for (int64_t i = 0; i < n; i++) {
        EmuThread *t = &e->th[i];
        if (t->state == TH_DONE && !finished)
            finished = t;
        if (t->state == TH_BARRIER) {
            if (!waiting)
                waiting = t;
            else if (t->barrier != waiting->barrier && !other)
                other = t;
        }
    }
    *done = !waiting;
    if (!waiting)
        return true;
    if (finished || other) {
        const char *b = arena_printf(e->arena, "deadlock in %s: thread %lld waits at the barrier at %s",
                                     emu_block_text(e), (long long)waiting->tid,
                                     emu_where(e, waiting->barrier));
        if (other)
            emu_fail(e, arena_printf(e->arena, "%s while thread %lld waits at the barrier at %s",
                                     b, (long long)other->tid, emu_where(e, other->barrier)));
        else
            emu_fail(e, arena_printf(e->arena, "%s, which thread %lld never reaches (it finished)",
                                     b, (long long)finished->tid));
        return false;
    }
    e->epoch++;
    e->last_barrier = waiting->barrier;
    for (int64_t i = 0; i < n; i++)
        e->th[i].state = TH_READY;
    return true;
}

/* One block: every thread runs until it waits or finishes, in a random order,
 * round after round until all have finished. */
static bool emu_block(Emu *e, int64_t nthreads, int64_t *order)
{
    e->epoch++;
    e->block_epoch = e->epoch;
    e->last_barrier = NULL;
    for (int64_t i = 0; i < nthreads; i++)
        if (!emu_start_thread(e, &e->th[i], i))
            return false;
    for (;;) {
        for (int64_t i = 0; i < nthreads; i++)
            order[i] = i;
        for (int64_t i = nthreads - 1; i > 0; i--) {
            int64_t j = emu_below(e, i + 1), x = order[i];
            order[i] = order[j];
            order[j] = x;
        }
        for (int64_t i = 0; i < nthreads; i++) {
            EmuThread *t = &e->th[order[i]];
            if (t->state != TH_READY)
                continue;
            emu_switch_to_thread(e, t);
            const char *err = interp_error(t->in);
            if (err && !e->error)
                e->error = arena_printf(e->arena, "%s (thread %lld of %s)", err, (long long)t->tid,
                                        emu_block_text(e));
            if (e->error || !emu_land_some(e, nthreads))
                return false;
        }
        bool done;
        if (!emu_release(e, nthreads, &done))
            return false;
        if (done)
            return true;
    }
}

/* Rule: a launch whose blocks times threads exceed what is left of the
 * budget fails before it starts, naming the numbers. */
static bool emu_launch(Emu *e, const IrLaunch *l)
{
    int64_t grid[3], nblocks = 1;
    bool over = false;
    for (int d = 0; d < 3; d++) {
        grid[d] = l->grid[d] ? interp_eval_int(e->host, l->grid[d]) : 1;
        if (grid[d] < 0) {
            emu_fail(e, arena_printf(e->arena, "the grid of a launch has %lld blocks along %c",
                                     (long long)grid[d], "xyz"[d]));
            return false;
        }
        over = over || (grid[d] && nblocks > INT64_MAX / grid[d]);
        nblocks = over ? 0 : nblocks * grid[d];
    }
    /* the device would refuse it (the generated code returns ACCL_ERR_LAUNCH) */
    if (!accl_gpu_grid_ok(grid[0], grid[1], grid[2])) {
        emu_fail(e, arena_printf(e->arena, "the grid of a launch, %lld x %lld x %lld blocks, is beyond the "
                                 "launch limits (x at most 2^31 - 1, y and z at most 65535)",
                                 (long long)grid[0], (long long)grid[1], (long long)grid[2]));
        return false;
    }
    int64_t left = e->max_steps - e->steps;
    if (l->threads < 1 || l->threads > 65536 || over ||
        nblocks > left / (l->threads * EMULATE_THREAD_STEPS)) {
        emu_fail(e, arena_printf(e->arena, "a launch of %lld x %lld x %lld blocks of %lld threads "
                                 "exceeds what is left of the emulation's budget of %lld steps "
                                 "(%lld)", (long long)grid[0], (long long)grid[1], (long long)grid[2],
                                 (long long)l->threads, (long long)e->max_steps, (long long)left));
        return false;
    }
    if (!emu_make_threads(e, l->threads))
        return false;
    /* Shared memory and its shadow, for the launch's size. */
    free(e->smem);
    free(e->smem_shadow);
    e->smem_bytes = l->shared_bytes > 0 ? l->shared_bytes : 0;
    e->smem = calloc((size_t)e->smem_bytes + 16, 1);
    e->smem_shadow = calloc((size_t)e->smem_bytes + 16, sizeof(Shadow));
    int64_t *order = calloc((size_t)l->threads, sizeof *order);
    int64_t *blocks = calloc((size_t)nblocks + 1, sizeof *blocks);
    bool ok = e->smem && e->smem_shadow && order && blocks;
    if (!ok)
        emu_fail(e, "out of memory for the launch's shared memory");
    for (int64_t i = 0; ok && i < nblocks; i++) {
        int64_t j = emu_below(e, i + 1);
        blocks[i] = blocks[j];
        blocks[j] = i;
    }
    e->launch = l;
    e->launch_epoch = e->epoch + 1;
    memcpy(e->grid, grid, sizeof grid);
    for (int64_t i = 0; ok && i < nblocks; i++) {
        int64_t b = blocks[i];
        e->block_index = b;
        e->block[0] = b % grid[0];
        e->block[1] = b / grid[0] % grid[1];
        e->block[2] = b / grid[0] / grid[1];
        ok = emu_block(e, l->threads, order);
    }
    free(order);
    free(blocks);
    return ok;
}

static const IrLaunch *emu_launch_of(const IrFunc *f, const IrStmt *s)
{
    for (int i = 0; i < f->nlaunches; i++)
        if (f->launches[i].root == s)
            return &f->launches[i];
    return NULL;
}

const char *emulate_run(const IrFunc *f, RunArgs *args, const EmulateOptions *o, Arena *a)
{
    if (!f->spmd)
        return "the function is not in the GPU execution form";
    Emu e = {.f = f, .arena = a, .o = o, .rng = o->seed ^ 0x5DEECE66Dull};
    e.max_steps = o->max_steps > 0 ? o->max_steps : EMULATE_DEFAULT_STEPS;
    e.hooks = (InterpHooks){.ctx = &e, .bound_loop = hook_bound_loop, .barrier = hook_barrier,
                            .alloc_shared = hook_alloc_shared, .access = hook_access,
                            .copy_store = hook_copy_store, .shuffle = hook_shuffle};
    e.smem_base = calloc((size_t)f->nbuffers + 1, sizeof *e.smem_base);
    e.shadow = calloc((size_t)f->nbuffers + 1, sizeof *e.shadow);
    e.shadow_count = calloc((size_t)f->nbuffers + 1, sizeof *e.shadow_count);
    e.host = interp_host_new(f, args, a, &e.hooks);
    if (!e.smem_base || !e.shadow || !e.shadow_count || !e.host)
        emu_fail(&e, "out of memory");
    else if (interp_error(e.host))
        emu_fail(&e, interp_error(e.host));
    else
        interp_set_budget(e.host, &e.steps, e.max_steps);
    /* The top level: launches in order; anything else (alloc global) on the host. */
    for (int i = 0; !e.error && i < f->body.len; i++) {
        const IrStmt *s = f->body.items[i];
        const IrLaunch *l = emu_launch_of(f, s);
        if (l)
            emu_launch(&e, l);
        else if (!interp_exec(e.host, s))
            emu_fail(&e, interp_error(e.host));
    }
    for (int i = 0; e.shadow && i < f->nbuffers; i++)
        free(e.shadow[i]);
    emu_free_threads(&e);
    interp_free(e.host);
    free(e.smem);
    free(e.smem_shadow);
    free(e.smem_base);
    free(e.shadow);
    free(e.shadow_count);
    return e.error;
}
