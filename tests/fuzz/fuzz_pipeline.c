/* libFuzzer target: valid kernels and schedules, built from the input bytes, through
 * the whole pipeline to the loop IR.
 *
 * The bytes pick a target (cpu, nvidia:sm_80, amd:gfx942), a kernel family
 * (elementwise, reduction, matmul-like, stencil) and its number of dimensions, then a
 * sequence of clauses (split, tile, reorder, fuse, unroll, vectorize, parallel or bind,
 * cache, assume, fuse ... into) over the loops that exist at that point, with factors
 * from the bytes. The program is printed to a buffer and run through parse_program,
 * compile_check_program (sema and legality) and compile_check (every pass, verified
 * after each, and for a GPU target every step of the GPU execution form).
 * A rejected schedule is fine; a crash, a sanitizer report, a leak, a syntax error in
 * the generated text or an "internal error:" diagnostic aborts, so libFuzzer reports it
 * with the input (print the program with FUZZ_PIPELINE_PRINT=1). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lower/compile.h"
#include "parser/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_LOOPS = 16, MAX_CLAUSES = 12, NAME_LEN = 16 };

typedef struct Bytes {
    const uint8_t *p;
    size_t n;
} Bytes;

/* The next byte reduced to [0, m); 0 once the input is used up. */
static int pick(Bytes *b, int m)
{
    if (b->n == 0)
        return 0;
    b->n--;
    return *b->p++ % m;
}

typedef struct Text {
    char *buf;
    size_t len;
    FILE *f;
} Text;

/* The main nest's loops, outermost first, as the clauses so far left them. */
typedef struct Loops {
    char name[MAX_LOOPS][NAME_LEN];
    int n;
    int fresh;             /* counter for new names */
} Loops;

static void fresh_name(Loops *l, char *out)
{
    snprintf(out, NAME_LEN, "l%d", l->fresh++);
}

static const int factors[] = {1, 2, 3, 4, 7, 8, 16, 32, 64, 128, 256};

static int pick_factor(Bytes *b)
{
    return factors[pick(b, (int)(sizeof factors / sizeof factors[0]))];
}

typedef enum Family { FAM_ELEMENTWISE, FAM_REDUCTION, FAM_MATMUL, FAM_STENCIL, FAM_COUNT } Family;

/* The kernel; fills the main nest's loops. */
static void print_kernel(FILE *f, Family fam, int dims, Loops *l)
{
    static const char *ix[] = {"i0", "i1", "i2"};
    static const char *sz[] = {"N0", "N1", "N2"};
    l->n = 0;
    switch (fam) {
    case FAM_ELEMENTWISE:
    case FAM_STENCIL: {
        int halo = fam == FAM_STENCIL ? 2 : 0;
        fprintf(f, "kernel k(X: f32[");
        for (int d = 0; d < dims; d++)
            fprintf(f, "%s%s%s", d ? ", " : "", sz[d], halo ? " + 2" : "");
        fprintf(f, "], Y: out f32[");
        for (int d = 0; d < dims; d++)
            fprintf(f, "%s%s", d ? ", " : "", sz[d]);
        fprintf(f, "]) {\n    main: for ");
        for (int d = 0; d < dims; d++)
            fprintf(f, "%s%s in 0..%s", d ? ", " : "", ix[d], sz[d]);
        fprintf(f, " {\n        Y[");
        for (int d = 0; d < dims; d++)
            fprintf(f, "%s%s", d ? ", " : "", ix[d]);
        fprintf(f, "] = ");
        int terms = halo ? 3 : 1;
        for (int t = 0; t < terms; t++) {
            fprintf(f, "%sX[", t ? " + " : "");
            for (int d = 0; d < dims; d++)
                fprintf(f, "%s%s%s", d ? ", " : "", ix[d], t && d == dims - 1 ? (t == 1 ? " + 1" : " + 2") : "");
            fprintf(f, "]");
        }
        fprintf(f, " * 2.0;\n    }\n}\n");
        for (int d = 0; d < dims; d++)
            strcpy(l->name[l->n++], ix[d]);
        break;
    }
    case FAM_REDUCTION: {
        int outer = dims - 1;   /* 0..2 outer loops and one reduction loop */
        fprintf(f, "kernel k(X: f32[");
        for (int d = 0; d < outer; d++)
            fprintf(f, "%s, ", sz[d]);
        fprintf(f, "R], Y: out f32[");
        if (outer == 0)
            fprintf(f, "1");
        for (int d = 0; d < outer; d++)
            fprintf(f, "%s%s", d ? ", " : "", sz[d]);
        fprintf(f, "]) {\n    init: for ");
        if (outer == 0)
            fprintf(f, "z in 0..1");
        for (int d = 0; d < outer; d++)
            fprintf(f, "%s%s in 0..%s", d ? ", " : "", ix[d], sz[d]);
        fprintf(f, " {\n        Y[");
        if (outer == 0)
            fprintf(f, "z");
        for (int d = 0; d < outer; d++)
            fprintf(f, "%s%s", d ? ", " : "", ix[d]);
        fprintf(f, "] = 0.0;\n    }\n    main: for ");
        for (int d = 0; d < outer; d++)
            fprintf(f, "%s in 0..%s, ", ix[d], sz[d]);
        fprintf(f, "r in 0..R {\n        Y[");
        if (outer == 0)
            fprintf(f, "0");
        for (int d = 0; d < outer; d++)
            fprintf(f, "%s%s", d ? ", " : "", ix[d]);
        fprintf(f, "] += X[");
        for (int d = 0; d < outer; d++)
            fprintf(f, "%s, ", ix[d]);
        fprintf(f, "r];\n    }\n}\n");
        for (int d = 0; d < outer; d++)
            strcpy(l->name[l->n++], ix[d]);
        strcpy(l->name[l->n++], "r");
        break;
    }
    default:
        fprintf(f, "kernel k(A: f32[M, K], B: f32[K, N], C: out f32[M, N]) {\n"
                   "    init: for i in 0..M, j in 0..N {\n        C[i, j] = 0.0;\n    }\n"
                   "    main: for i in 0..M, j in 0..N, k in 0..K {\n"
                   "        C[i, j] += A[i, k] * B[k, j];\n    }\n}\n");
        strcpy(l->name[l->n++], "i");
        strcpy(l->name[l->n++], "j");
        strcpy(l->name[l->n++], "k");
        break;
    }
}

static void remove_at(Loops *l, int at)
{
    memmove(l->name[at], l->name[at + 1], (size_t)(l->n - at - 1) * NAME_LEN);
    l->n--;
}

static void insert_at(Loops *l, int at, const char *name)
{
    memmove(l->name[at + 1], l->name[at], (size_t)(l->n - at) * NAME_LEN);
    snprintf(l->name[at], NAME_LEN, "%s", name);
    l->n++;
}

/* One clause over the current loops, written to f; updates the loop list. */
static void print_clause(FILE *f, Bytes *b, Loops *l, bool gpu, const char *tensors, int *nbinds)
{
    int at = pick(b, l->n);
    const char *L = l->name[at];
    switch (pick(b, 10)) {
    case 0: { /* split */
        if (l->n + 1 > MAX_LOOPS)
            return;
        char o[NAME_LEN], i[NAME_LEN];
        fresh_name(l, o);
        fresh_name(l, i);
        fprintf(f, "        split %s by %d -> %s, %s;\n", L, pick_factor(b), o, i);
        remove_at(l, at);
        insert_at(l, at, i);
        insert_at(l, at, o);
        return;
    }
    case 1: { /* tile two adjacent loops */
        if (at + 1 >= l->n || l->n + 2 > MAX_LOOPS)
            return;
        char ao[NAME_LEN], bo[NAME_LEN], ai[NAME_LEN], bi[NAME_LEN];
        fresh_name(l, ao), fresh_name(l, bo), fresh_name(l, ai), fresh_name(l, bi);
        fprintf(f, "        tile %s, %s by %d, %d -> %s, %s, %s, %s;\n", l->name[at], l->name[at + 1],
                pick_factor(b), pick_factor(b), ao, bo, ai, bi);
        remove_at(l, at);
        remove_at(l, at);
        insert_at(l, at, bi);
        insert_at(l, at, ai);
        insert_at(l, at, bo);
        insert_at(l, at, ao);
        return;
    }
    case 2: { /* reorder: the loops from `at` on, in a shuffled order */
        int k = l->n - at;
        if (k < 2)
            return;
        if (k > 4)
            k = 4;
        int pos[4], perm[4];
        for (int i = 0; i < k; i++)
            pos[i] = at + i, perm[i] = at + i;
        for (int i = k - 1; i > 0; i--) {
            int j = pick(b, i + 1), t = perm[i];
            perm[i] = perm[j], perm[j] = t;
        }
        char names[4][NAME_LEN];
        fprintf(f, "        reorder");
        for (int i = 0; i < k; i++) {
            fprintf(f, "%s %s", i ? "," : "", l->name[perm[i]]);
            memcpy(names[i], l->name[perm[i]], NAME_LEN);
        }
        fprintf(f, ";\n");
        for (int i = 0; i < k; i++)
            memcpy(l->name[pos[i]], names[i], NAME_LEN);
        return;
    }
    case 3: { /* fuse two adjacent loops */
        if (at + 1 >= l->n)
            return;
        char fu[NAME_LEN];
        fresh_name(l, fu);
        fprintf(f, "        fuse %s, %s -> %s;\n", l->name[at], l->name[at + 1], fu);
        remove_at(l, at);
        remove_at(l, at);
        insert_at(l, at, fu);
        return;
    }
    case 4:
        fprintf(f, "        unroll %s;\n", L);
        return;
    case 5:
        fprintf(f, "        vectorize %s;\n", L);
        return;
    case 6:
    case 7:
        if (!gpu) {
            fprintf(f, "        parallel %s;\n", L);
        } else {
            static const char *hw[] = {"block.x", "block.y", "thread.x", "thread.y", "warp.x"};
            int h = pick(b, 5);
            /* Usually a unit not bound yet; sometimes a duplicate, which must be an error. */
            if (pick(b, 8) != 0)
                h = (*nbinds)++ % 5;
            fprintf(f, "        bind %s -> %s;\n", L, hw[h]);
        }
        return;
    default: { /* cache one of the kernel's tensors */
        int nt = (int)strlen(tensors);
        char t = tensors[pick(b, nt)];
        bool shared = pick(b, 2);
        fprintf(f, "        cache %c at %s in %s", t, L, shared ? "shared" : "registers");
        if (shared && pick(b, 4) == 0)
            fprintf(f, " pad %d", pick(b, 4) + 1);
        fprintf(f, ";\n");
        return;
    }
    }
}

/* Prints the program the bytes describe; returns the target. */
static Target print_program(FILE *f, Bytes *b)
{
    static const Target targets[] = {TARGET_CPU, TARGET_SM_80, TARGET_GFX942};
    static const char *spelling[] = {"cpu", "nvidia(sm_80)", "amd(gfx942)"};
    int ti = pick(b, 3);
    Family fam = (Family)pick(b, FAM_COUNT);
    int dims = 1 + pick(b, 3);
    if (fam == FAM_STENCIL && dims == 3)
        dims = 2;
    Loops l;
    memset(&l, 0, sizeof l);
    print_kernel(f, fam, dims, &l);
    const char *tensors = fam == FAM_MATMUL ? "ABC" : "XY";
    fprintf(f, "\nschedule k for %s {\n", spelling[ti]);
    if (pick(b, 4) == 0)
        fprintf(f, "    assume %s %% %d == 0;\n", fam == FAM_MATMUL ? "M" : fam == FAM_REDUCTION ? "R" : "N0",
                pick_factor(b));
    fprintf(f, "    in main {\n");
    int nclauses = pick(b, MAX_CLAUSES + 1), nbinds = 0;
    for (int i = 0; i < nclauses; i++)
        print_clause(f, b, &l, ti != 0, tensors, &nbinds);
    fprintf(f, "    }\n");
    if ((fam == FAM_MATMUL || fam == FAM_REDUCTION) && pick(b, 3) == 0)
        fprintf(f, "    fuse init into main at %s;\n", l.name[pick(b, l.n)]);
    fprintf(f, "}\n");
    return targets[ti];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Bytes b = {data, size};
    Text prog = {0};
    prog.f = open_memstream(&prog.buf, &prog.len);
    Target target = print_program(prog.f, &b);
    fclose(prog.f);
    if (getenv("FUZZ_PIPELINE_PRINT"))
        fprintf(stderr, "%s", prog.buf);

    Text diags = {0};
    diags.f = open_memstream(&diags.buf, &diags.len);
    Arena arena;
    arena_init(&arena);
    Source src;
    source_init(&src, &arena, "fuzz.acc", prog.buf, (uint32_t)prog.len);
    Diag diag;
    diag_init(&diag, &src, diags.f, false);
    Program *p = parse_program(&src, &diag, &arena);
    bool syntax_ok = diag.nerrors == 0;
    Checked checked = {0};
    SemaOptions opt = {.target = target};
    CompileCtx cc = {.checked = &checked, .target = target, .diag = &diag, .arena = &arena};
    if (syntax_ok && compile_check_program(p, &opt, &diag, &arena, &checked))
        compile_check(&cc);
    diag_finish(&diag);
    fclose(diags.f);
    bool internal = strstr(diags.buf, "internal error") != NULL;
    if (!syntax_ok || internal) {
        fprintf(stderr, "%s\n--- the program above %s:\n%s", prog.buf,
                internal ? "hits an internal error" : "does not parse", diags.buf);
        abort();
    }
    arena_free(&arena);
    free(diags.buf);
    free(prog.buf);
    return 0;
}
