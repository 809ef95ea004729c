/* `accl run`: runs one kernel on test data with an executor and checks every
 * element it writes against the reference evaluator (lang/SPEC.md, Command
 * line and Checking results). `accl bench`: times the compiled kernel.
 *
 *   options -> front end -> sizes, shapes, scalars -> data -> lower
 *     run:   -> reference | executor (JIT or interpreter, on a copy) -> compare -> PASS / FAIL
 *     bench: -> JIT -> warm-up, timed runs on rotated copies -> time, GB/s and GFLOP/s, bound */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver/driver.h"
#include "driver/run_gpu.h"
#include "emit/jit.h"
#include "run/data.h"
#include "run/emulate.h"
#include "run/interp.h"
#include "util/numbers.h"
#include "run/reference.h"
#include "runtime/accl.h"

static const char run_usage_text[] =
    "usage: accl run FILE.acc --kernel K --size M=77,N=33,K=65 [options]\n"
    "\n"
    "Runs kernel K on deterministic test data with an executor and checks every\n"
    "element it writes against the reference evaluator; prints the worst element\n"
    "of each output and PASS or FAIL.\n"
    "\n"
    "  --kernel K              the kernel to run (required)\n"
    "  --size NAME=N,...       every size of the kernel (repeatable)\n"
    "  --arg NAME=VALUE        an in scalar parameter (required for each; repeatable)\n"
    "  --seed S                the seed of the random inputs (default 1)\n"
    "  --input NAME=V,V,...    a tensor's contents, row-major, instead of random data\n"
    "  --print                 print every output element of the reference and the executor\n"
    "  --interpret             execute the lowered loop IR with the interpreter instead of\n"
    "                          the compiled kernel (LLVM's ORC JIT; CPU targets only)\n"
    "  --emulate               run the GPU execution form of a GPU target's kernel on the\n"
    "                          CPU in the GPU emulator (blocks, threads, shared memory,\n"
    "                          barriers); races, deadlocks and reads of unwritten shared\n"
    "                          memory are errors; --seed also orders blocks and threads\n"
    "  --target=TARGET         the target whose schedule is applied (default cpu); a GPU\n"
    "                          target runs on this machine's GPU unless --interpret or\n"
    "                          --emulate\n"
    "  --param NAME=VALUE      override a schedule param (repeatable)\n"
    "  --color=auto|always|never\n"
    "  --help                  print this help\n"
    "\n"
    "exit status: 0 PASS, 1 FAIL or errors in the input or an executor error, 2 usage errors\n";

static const char bench_usage_text[] =
    "usage: accl bench FILE.acc --kernel K --size M=2048,N=2048,K=2048 [options]\n"
    "\n"
    "Compiles kernel K for the host CPU (LLVM's ORC JIT), or for a GPU target this\n"
    "machine's GPU, and times it on test data:\n"
    "one warm-up run, then timed runs on copies of the inputs used in turn (so that\n"
    "caches do not flatter it); prints the compile time, the median and best time,\n"
    "GB/s and GFLOP/s (the bounding resource's first), and the bound: memory or\n"
    "compute, by float operations per byte against a nominal machine balance.\n"
    "\n"
    "  --kernel K              the kernel to time (required)\n"
    "  --size NAME=N,...       every size of the kernel (repeatable)\n"
    "  --arg NAME=VALUE        an in scalar parameter (required for each; repeatable)\n"
    "  --seed S, --input NAME=V,V,...   the data, as for accl run\n"
    "  --threads N             threads of parallel loops (sets ACCL_NUM_THREADS)\n"
    "  --runs R                timed runs (default: 10, more for fast kernels, up to 1 s)\n"
    "  --target=TARGET         cpu (default), or a GPU target: timed on this machine's GPU\n"
    "                          with events (data on the device; no rotation)\n"
    "  --param NAME=VALUE      override a schedule param (repeatable)\n"
    "  --color=auto|always|never\n"
    "  --help                  print this help\n"
    "\n"
    "exit status: 0 timed, 1 errors in the input or a kernel error, 2 usage errors\n";

/* One NAME=VALUE option as written. */
typedef struct RunNamed {
    const char *name;   /* malloc'd */
    const char *value;  /* points into argv */
    int64_t num;        /* --size: the value */
} RunNamed;

typedef struct RunOptions {
    bool bench;             /* accl bench */
    const char *input;
    const char *kernel;
    Target target;
    const char *target_text;  /* as written after --target= */
    bool target_given;
    int64_t threads, runs;  /* bench: 0 when not given */
    double start;           /* bench: when loading the source began (seconds) */
    bool interpret;
    bool emulate;           /* the GPU emulator (GPU targets) */
    bool print;
    uint64_t seed;
    Color color;
    ParamOverride params[DRIVER_MAX_PARAMS];
    int nparams;
    RunNamed *sizes, *args, *inputs;  /* each holds at most argc entries */
    int nsizes, nargs, ninputs;
} RunOptions;

static int usage_hint(const RunOptions *o)
{
    fprintf(stderr, "(run 'accl %s --help' for the options)\n", o->bench ? "bench" : "run");
    return EXIT_USAGE;
}

/* NAME=VALUE into *out (the name malloc'd). */
static bool split_named(const char *s, RunNamed *out)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return false;
    out->name = strndup(s, (size_t)(eq - s));
    out->value = eq + 1;
    return true;
}

/* --size M=77,N=33: each entry becomes one RunNamed (values are re-parsed later). */
static bool split_sizes(const char *s, RunOptions *o)
{
    char *copy = strdup(s);
    bool ok = true;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
        RunNamed n;
        int64_t v;
        ok = split_named(tok, &n);
        if (ok && !driver_parse_int64(n.value, &v)) {
            free((char *)n.name);
            ok = false;
        }
        if (ok) {
            n.num = v;
            n.value = NULL;
            o->sizes[o->nsizes++] = n;
        }
    }
    free(copy);
    return ok && s[0] != '\0';
}

/* The value of an option written `--opt V` or `--opt=V`; NULL after a message. */
static const char *option_value(int argc, char **argv, int *i, const char *opt, const RunOptions *o)
{
    const char *a = argv[*i];
    size_t n = strlen(opt);
    if (a[n] == '=')
        return a + n + 1;
    if (*i + 1 < argc)
        return argv[++*i];
    fprintf(stderr, "accl: error: %s needs a value\n", opt);
    usage_hint(o);
    return NULL;
}

static bool is_option(const char *a, const char *opt)
{
    size_t n = strlen(opt);
    return strncmp(a, opt, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

/* bench: --threads N or --runs R, N and R at least 1. */
static int parse_count(int argc, char **argv, int *i, RunOptions *o)
{
    const char *opt = is_option(argv[*i], "--threads") ? "--threads" : "--runs";
    const char *v = option_value(argc, argv, i, opt, o);
    int64_t n;
    if (!v)
        return EXIT_USAGE;
    if (!driver_parse_int64(v, &n) || n < 1 || n > 1000000) {
        fprintf(stderr, "accl: error: %s expects an integer from 1 to 1000000, got '%s'\n", opt, v);
        return usage_hint(o);
    }
    *(strcmp(opt, "--threads") == 0 ? &o->threads : &o->runs) = n;
    return 0;
}

/* One option at argv[*i]. Returns 0, EXIT_USAGE after a message, or -1 after --help. */
static int parse_one(int argc, char **argv, int *i, RunOptions *o)
{
    const char *a = argv[*i], *v;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        fputs(o->bench ? bench_usage_text : run_usage_text, stdout);
        return -1;
    } else if (o->bench && (strcmp(a, "--interpret") == 0 || strcmp(a, "--print") == 0 ||
                            strcmp(a, "--emulate") == 0)) {
        fprintf(stderr, "accl: error: %s is not an option of accl bench\n", a);
        return usage_hint(o);
    } else if (strcmp(a, "--interpret") == 0) {
        o->interpret = true;
    } else if (strcmp(a, "--emulate") == 0) {
        o->emulate = true;
    } else if (strcmp(a, "--print") == 0) {
        o->print = true;
    } else if (o->bench && (is_option(a, "--threads") || is_option(a, "--runs"))) {
        return parse_count(argc, argv, i, o);
    } else if (is_option(a, "--kernel")) {
        if (!(v = option_value(argc, argv, i, "--kernel", o)))
            return EXIT_USAGE;
        o->kernel = v;
    } else if (is_option(a, "--size")) {
        if (!(v = option_value(argc, argv, i, "--size", o)))
            return EXIT_USAGE;
        if (!split_sizes(v, o)) {
            fprintf(stderr, "accl: error: --size expects NAME=INTEGER,NAME=INTEGER,..., got '%s'\n", v);
            return usage_hint(o);
        }
    } else if (is_option(a, "--arg") || is_option(a, "--input")) {
        bool arg = is_option(a, "--arg");
        if (!(v = option_value(argc, argv, i, arg ? "--arg" : "--input", o)))
            return EXIT_USAGE;
        if (!split_named(v, arg ? &o->args[o->nargs] : &o->inputs[o->ninputs])) {
            if (arg)
                fprintf(stderr, "accl: error: --arg expects NAME=VALUE, got '%s'\n", v);
            else
                fprintf(stderr, "accl: error: --input expects NAME=V,V,..., got '%s'\n", v);
            return usage_hint(o);
        }
        *(arg ? &o->nargs : &o->ninputs) += 1;
    } else if (is_option(a, "--seed")) {
        int64_t s;
        if (!(v = option_value(argc, argv, i, "--seed", o)))
            return EXIT_USAGE;
        if (!driver_parse_int64(v, &s)) {
            fprintf(stderr, "accl: error: --seed expects an integer, got '%s'\n", v);
            return usage_hint(o);
        }
        o->seed = (uint64_t)s;
    } else if (strncmp(a, "--target=", 9) == 0) {
        o->target = sema_parse_target(a + 9);
        o->target_text = a + 9;
        o->target_given = true;
        if (o->target == TARGET_NONE) {
            fprintf(stderr, "accl: error: unknown target '%s' (expected cpu, nvidia:sm_80, sm_86, "
                            "sm_89, sm_90, sm_90a, amd:gfx90a, gfx942 or gfx1100)\n",
                    a + 9);
            return usage_hint(o);
        }
    } else if (is_option(a, "--param")) {
        if (!(v = option_value(argc, argv, i, "--param", o)))
            return EXIT_USAGE;
        if (o->nparams == DRIVER_MAX_PARAMS) {
            fprintf(stderr, "accl: error: too many --param options (the limit is 64)\n");
            return usage_hint(o);
        }
        if (!driver_parse_param(v, &o->params[o->nparams])) {
            fprintf(stderr, "accl: error: --param expects NAME=INTEGER, got '%s'\n", v);
            return usage_hint(o);
        }
        o->nparams++;
    } else if (strncmp(a, "--color=", 8) == 0) {
        v = a + 8;
        if (strcmp(v, "auto") == 0)
            o->color = COLOR_AUTO;
        else if (strcmp(v, "always") == 0)
            o->color = COLOR_ALWAYS;
        else if (strcmp(v, "never") == 0)
            o->color = COLOR_NEVER;
        else {
            fprintf(stderr, "accl: error: unknown --color value '%s' (expected auto, always or never)\n", v);
            return usage_hint(o);
        }
    } else if (a[0] == '-' && a[1] != '\0') {
        fprintf(stderr, "accl: error: unknown option '%s'\n", a);
        return usage_hint(o);
    } else if (o->input) {
        fprintf(stderr, "accl: error: more than one input file ('%s')\n", a);
        return usage_hint(o);
    } else {
        o->input = a;
    }
    return 0;
}

static int parse_options(int argc, char **argv, bool bench, RunOptions *o)
{
    memset(o, 0, sizeof *o);
    o->bench = bench;
    o->target = TARGET_CPU;
    o->target_text = "cpu";
    o->seed = 1;
    /* Each option adds at most one name, except --size, whose entries are separated by commas. */
    size_t nsizes = 1;
    for (int i = 1; i < argc; i++)
        nsizes += strlen(argv[i]) / 2 + 1;
    o->sizes = calloc(nsizes, sizeof *o->sizes);
    o->args = calloc((size_t)argc, sizeof *o->args);
    o->inputs = calloc((size_t)argc, sizeof *o->inputs);
    for (int i = 1; i < argc; i++) {
        int rc = parse_one(argc, argv, &i, o);
        if (rc != 0)
            return rc;
    }
    if (!o->input) {
        fprintf(stderr, "accl: error: no input file\n");
        return usage_hint(o);
    }
    /* The emulator runs a GPU target's execution form; it is an executor of its own. */
    if (o->emulate && o->interpret) {
        fprintf(stderr, "accl: error: --emulate and --interpret exclude each other\n");
        return usage_hint(o);
    }
    if (o->emulate && !target_is_gpu(o->target)) {
        fprintf(stderr, "accl: error: --emulate needs a GPU target (--target=nvidia:... or amd:...)\n");
        return usage_hint(o);
    }
    return 0;
}

static void free_options(RunOptions *o)
{
    for (int i = 0; i < o->nparams; i++)
        free((char *)o->params[i].name);
    for (int i = 0; i < o->nsizes; i++)
        free((char *)o->sizes[i].name);
    for (int i = 0; i < o->nargs; i++)
        free((char *)o->args[i].name);
    for (int i = 0; i < o->ninputs; i++)
        free((char *)o->inputs[i].name);
    free(o->sizes);
    free(o->args);
    free(o->inputs);
}

/* "a, b, c": the kernels of the file. */
static void print_kernels(const Frontend *fe)
{
    for (int i = 0; i < fe->prog->nkernels; i++)
        fprintf(stderr, "%s%s", i ? ", " : "", fe->prog->kernels[i]->name.name);
    fputc('\n', stderr);
}

static const Kernel *find_kernel(const Frontend *fe, const RunOptions *o)
{
    if (!o->kernel) {
        fprintf(stderr, "accl: error: --kernel is required; the kernels in '%s' are: ", o->input);
        print_kernels(fe);
        return NULL;
    }
    const Kernel *k = frontend_kernel(fe, o->kernel);
    if (!k) {
        fprintf(stderr, "accl: error: unknown kernel '%s'; the kernels in '%s' are: ", o->kernel,
                o->input);
        print_kernels(fe);
    }
    return k;
}

/* Every size of the kernel must be given, and nothing else. */
static bool bind_sizes(const Kernel *k, const RunOptions *o, int64_t *sizes)
{
    bool *given = calloc((size_t)k->nsizes + 1, 1);
    bool ok = true;
    for (int i = 0; i < o->nsizes && ok; i++) {
        int s = -1;
        for (int j = 0; j < k->nsizes; j++)
            if (strcmp(k->sizes[j].name, o->sizes[i].name) == 0)
                s = j;
        if (s < 0) {
            fprintf(stderr, "accl: error: kernel '%s' has no size '%s'\n", k->name.name, o->sizes[i].name);
            ok = false;
            break;
        }
        sizes[s] = o->sizes[i].num;
        if (sizes[s] < 0) {
            fprintf(stderr, "accl: error: size %s=%lld is negative\n", o->sizes[i].name,
                    (long long)sizes[s]);
            ok = false;
        }
        given[s] = true;
    }
    int missing = 0;
    for (int j = 0; j < k->nsizes && ok; j++)
        missing += !given[j];
    if (ok && missing) {
        fprintf(stderr, "accl: error: kernel '%s' needs --size for: ", k->name.name);
        for (int j = 0, n = 0; j < k->nsizes; j++)
            if (!given[j])
                fprintf(stderr, "%s%s", n++ ? ", " : "", k->sizes[j].name);
        fputc('\n', stderr);
        ok = false;
    }
    free(given);
    return ok;
}

/* The shape of every tensor parameter under the sizes. */
static bool shape_tensors(const Kernel *k, RunArgs *args)
{
    for (int i = 0; i < k->nparams; i++) {
        const Param *p = k->params[i];
        if (!ast_param_is_buffer(p))
            continue;
        int dim;
        int64_t value;
        DataShapeErr err = data_shape(&p->type, k, args->sizes, &args->tensors[i], &dim, &value);
        if (err == DATA_NEGATIVE) {
            fprintf(stderr, "accl: error: dimension %d of '%s' is %lld, which is negative\n", dim,
                    p->name.name, (long long)value);
            return false;
        }
        if (err != DATA_OK) {
            fprintf(stderr, "accl: error: '%s' would have more than 2^28 elements\n", p->name.name);
            return false;
        }
    }
    return true;
}

/* One value of type t as written on the command line: bool is true, false,
 * 1 or 0; integers are decimal and must fit t; floats (nan and inf too) are
 * rounded to t. */
static bool parse_value(const char *s, ElemType t, double *f, int64_t *i)
{
    *f = 0, *i = 0;
    if (t == ELEM_BOOL) {
        bool yes = strcmp(s, "true") == 0 || strcmp(s, "1") == 0;
        *i = yes;
        return yes || strcmp(s, "false") == 0 || strcmp(s, "0") == 0;
    }
    if (!elem_is_float(t))
        return driver_parse_int64(s, i) && num_wrap_int(*i, t) == *i;
    char *end;
    errno = 0;
    *f = strtod(s, &end);
    if (end == s || *end)
        return false;
    *f = num_round_float(*f, t);
    return true;
}

static int param_named(const Kernel *k, const char *name)
{
    for (int i = 0; i < k->nparams; i++)
        if (strcmp(k->params[i]->name.name, name) == 0)
            return i;
    return -1;
}

/* --arg NAME=VALUE for every `in` scalar parameter (out and inout scalars are results). */
static bool bind_scalars(const Kernel *k, const RunOptions *o, RunArgs *args)
{
    bool *given = calloc((size_t)k->nparams + 1, 1);
    bool ok = true;
    for (int a = 0; a < o->nargs && ok; a++) {
        int i = param_named(k, o->args[a].name);
        if (i >= 0 && !k->params[i]->type.is_tensor && k->params[i]->mode != MODE_IN) {
            fprintf(stderr, "accl: error: --arg %s: '%s' is an '%s' scalar, a result of kernel '%s'%s\n",
                    o->args[a].name, o->args[a].name, k->params[i]->mode == MODE_OUT ? "out" : "inout",
                    k->name.name,
                    k->params[i]->mode == MODE_OUT ? "" : "; --input gives its value on entry");
            ok = false;
            break;
        }
        if (i < 0 || ast_param_is_buffer(k->params[i])) {
            fprintf(stderr, "accl: error: '%s' is not a scalar parameter of kernel '%s'\n",
                    o->args[a].name, k->name.name);
            ok = false;
            break;
        }
        RunScalar *s = &args->scalars[i];
        s->elem = k->params[i]->type.elem;
        if (!parse_value(o->args[a].value, s->elem, &s->f, &s->i)) {
            fprintf(stderr, "accl: error: --arg %s: '%s' is not a valid %s\n", o->args[a].name,
                    o->args[a].value, elem_type_name(s->elem));
            ok = false;
        }
        given[i] = true;
    }
    for (int i = 0; i < k->nparams && ok; i++)
        if (!ast_param_is_buffer(k->params[i]) && !given[i]) {
            fprintf(stderr, "accl: error: scalar parameter '%s' needs --arg %s=VALUE\n",
                    k->params[i]->name.name, k->params[i]->name.name);
            ok = false;
        }
    free(given);
    return ok;
}

/* --input NAME=V,V,...: exactly count values, row-major, into an in or inout tensor. */
static bool apply_input(const Kernel *k, const RunNamed *in, RunArgs *args)
{
    int i = param_named(k, in->name);
    if (i < 0 || !ast_param_is_buffer(k->params[i])) {
        fprintf(stderr, "accl: error: '%s' is not a tensor parameter of kernel '%s'\n", in->name,
                k->name.name);
        return false;
    }
    if (k->params[i]->mode == MODE_OUT) {
        fprintf(stderr, "accl: error: --input %s: an out tensor has no contents on entry\n", in->name);
        return false;
    }
    RunTensor *t = &args->tensors[i];
    char *copy = strdup(in->value), *save = NULL;
    int64_t n = 0;
    bool ok = true;
    for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save), n++) {
        double f;
        int64_t v;
        if (!parse_value(tok, t->elem, &f, &v)) {
            fprintf(stderr, "accl: error: --input %s: '%s' is not a valid %s\n", in->name, tok,
                    elem_type_name(t->elem));
            ok = false;
        } else if (n < t->count) {
            if (elem_is_float(t->elem))
                num_store(t->data, n, t->elem, f);
            else
                num_store_int(t->data, n, t->elem, v);
        }
    }
    free(copy);
    if (ok && n != t->count) {
        fprintf(stderr, "accl: error: --input %s: expected %lld values, got %lld\n", in->name,
                (long long)t->count, (long long)n);
        ok = false;
    }
    return ok;
}

/* --print: NAME[i, j] ref=R got=G, one line per element; `unwritten` where
 * the reference never wrote, `-` where the executor gave nothing. */
static void print_elements(const char *name, const RefTensor *ref, const RunTensor *got)
{
    char elem[512];
    for (int64_t i = 0; i < ref->count; i++) {
        data_element_text(got, name, i, elem, sizeof elem);
        printf("%s ref=", elem);
        const RefVal *v = &ref->vals[i];
        bool is_float = elem_is_float(ref->elem);
        if (!ref->written[i])
            printf("unwritten");
        else if (is_float)
            printf("%.17g", v->f);
        else
            printf("%lld", (long long)v->i);
        if (!got)
            printf(" got=-\n");
        else if (is_float)
            printf(" got=%.17g\n", num_load(got->data, i, got->elem));
        else
            printf(" got=%lld\n", (long long)num_load_int(got->data, i, got->elem));
    }
}

/* NAME: N compared, N failed; worst NAME[i, j]: got G ref R bound B ratio Q */
static void print_report(const char *name, const RunTensor *t, const DataReport *r)
{
    printf("%s: %lld compared, %lld failed", name, (long long)r->compared, (long long)r->failed);
    if (r->unwritten)
        printf(", %lld not written by the kernel (not compared)", (long long)r->unwritten);
    if (r->worst >= 0) {
        char elem[512];
        data_element_text(t, name, r->worst, elem, sizeof elem);
        if (elem_is_float(t->elem))
            printf("; worst %s: got %.9g ref %.9g bound %.3g ratio %.3g", elem, r->got, r->ref,
                   r->bound, r->ratio);
        else
            printf("; worst %s: got %lld ref %lld (exact)", elem, (long long)r->got_i,
                   (long long)r->ref_i);
    }
    putchar('\n');
}

/* K.packed's arguments (src/emit/emit.h): args[i] points to the i-th argument
 * of K: each tensor's data pointer and each scalar in its C type, in
 * declaration order, then each size as int64_t. */
static void **packed_args(const Kernel *k, const RunArgs *args, Arena *a)
{
    void **p = ARENA_ARRAY(a, void *, k->nparams + k->nsizes + 1);
    void **ptrs = ARENA_ARRAY(a, void *, k->nparams + 1);
    uint64_t *scalars = ARENA_ARRAY(a, uint64_t, k->nparams + 1);  /* zeroed: narrow types fit */
    for (int i = 0; i < k->nparams; i++) {
        const RunScalar *sc = &args->scalars[i];
        if (ast_param_is_buffer(k->params[i])) {
            ptrs[i] = args->tensors[i].data;
            p[i] = &ptrs[i];
            continue;
        }
        if (elem_is_float(sc->elem))
            num_store(&scalars[i], 0, sc->elem, sc->f);
        else
            num_store_int(&scalars[i], 0, sc->elem, sc->i);
        p[i] = &scalars[i];
    }
    for (int s = 0; s < k->nsizes; s++)
        p[k->nparams + s] = &args->sizes[s];
    return p;
}

/* f compiled for the host and K.packed looked up; NULL after a message (or
 * the code generator's diagnostics). *jit must be freed by the caller. */
static JitPackedFn jit_kernel(Frontend *fe, IrFunc *f, Jit **jit)
{
    char *err = NULL;
    JitPackedFn fn = NULL;
    *jit = jit_compile(&f, 1, &fe->diag, &err);
    if (*jit)
        fn = jit_lookup(*jit, f->name, &err);
    if (err)
        fprintf(stderr, "accl: error: the JIT failed: %s\n", err);
    free(err);
    return fn;
}

/* A GPU target's kernel on this machine's GPU: inputs copied in, one call,
 * outputs copied back into got. False after a message. */
static bool run_on_gpu(Frontend *fe, IrFunc *f, RunArgs *got, Arena *a)
{
    RunGpu g;
    bool ok = run_gpu_open(&g, fe, f, got, packed_args, a) && run_gpu_call(&g, NULL) && run_gpu_read(&g, got);
    run_gpu_close(&g);
    return ok;
}

/* The executor: the compiled kernel (JIT; on a GPU for a GPU target), or with
 * --interpret the interpreter, or with --emulate the GPU emulator. False
 * after a message: compilation failed, the kernel returned an error code, or
 * the interpreter failed. */
static bool run_executor(Frontend *fe, IrFunc *f, const RunOptions *o, RunArgs *got, Arena *a)
{
    if (o->emulate) {
        /* ACCL_EMULATE_STEPS: the emulator's budget (lang/SPEC.md, Emulator). */
        EmulateOptions eo = {.seed = o->seed, .src = &fe->src};
        const char *steps = getenv("ACCL_EMULATE_STEPS");
        int64_t n;
        if (steps && driver_parse_int64(steps, &n) && n > 0)
            eo.max_steps = n;
        const char *err = emulate_run(f, got, &eo, a);
        if (err)
            fprintf(stderr, "accl: error: the emulator failed: %s\n", err);
        return !err;
    }
    if (o->interpret) {
        const char *err = interp_run(f, got, a);
        if (err)
            fprintf(stderr, "accl: error: the interpreter failed: %s\n", err);
        return !err;
    }
    if (target_is_gpu(o->target))
        return run_on_gpu(fe, f, got, a);
    Jit *jit;
    JitPackedFn fn = jit_kernel(fe, f, &jit);
    int rc = fn ? fn(packed_args(f->kernel, got, a)) : ACCL_OK;
    if (rc != ACCL_OK)
        fprintf(stderr, "accl: error: the compiled kernel failed: %s (code %d)\n", accl_strerror(rc), rc);
    jit_free(jit);
    return fn && rc == ACCL_OK;
}

/* ACCL_RUN_MUTATE=NAME,I,HOW, for tests of the check only (lang/SPEC.md,
 * accl run): after the executor, element I (row-major) of output NAME is made
 * wrong, so that a test can show the check catches it. HOW is `swap` (with
 * element I + 1) or a whole number N (N units added to the element's bits:
 * N ulps away from zero for floats, N for integers). False after a message. */
static bool mutate_for_tests(const Kernel *k, RunArgs *got)
{
    const char *spec = getenv("ACCL_RUN_MUTATE");
    if (!spec || !*spec)
        return true;
    char name[128], how[32];
    long long at;
    int p = -1;
    if (sscanf(spec, "%127[^,],%lld,%31s", name, &at, how) == 3)
        p = param_named(k, name);
    RunTensor *t = p >= 0 && k->params[p]->type.is_tensor ? &got->tensors[p] : NULL;
    bool swap = strcmp(how, "swap") == 0;
    int64_t steps = 0;
    if (!t || k->params[p]->mode == MODE_IN || at < 0 || at + swap >= t->count ||
        (!swap && !driver_parse_int64(how, &steps))) {
        fprintf(stderr, "accl: error: ACCL_RUN_MUTATE=%s: expected OUTPUT,INDEX,swap|N\n", spec);
        return false;
    }
    size_t w = (size_t)elem_type_bytes(t->elem);
    unsigned char *x = (unsigned char *)t->data + (size_t)at * w;
    if (swap) {
        unsigned char tmp[8];
        memcpy(tmp, x, w);
        memcpy(x, x + w, w);
        memcpy(x + w, tmp, w);
    } else if (elem_is_float(t->elem)) {
        uint64_t bits = 0;  /* little-endian: the low bytes are the element's */
        memcpy(&bits, x, w);
        bits += (uint64_t)steps;
        memcpy(x, &bits, w);
    } else {
        num_store_int(t->data, at, t->elem, num_load_int(t->data, at, t->elem) + steps);
    }
    fprintf(stderr, "accl: note: ACCL_RUN_MUTATE changed %s[%lld] (a test of the check)\n", name,
            at);
    return true;
}

/* Reference, executor on a copy, comparison. Returns the exit code. */
static int execute(Frontend *fe, const Kernel *k, const RunOptions *o, RunArgs *args, Arena *a)
{
    /* the emulator and the CPU's code generator take their target's steps; a
     * GPU run takes the GPU execution form in run_on_gpu */
    bool codegen = o->emulate || !(o->interpret || target_is_gpu(o->target));
    IrFunc *f = compile_kernel(&fe->compile, k, codegen, NULL);
    if (!f)
        return EXIT_INPUT;
    RefTensor *ref = ARENA_ARRAY(a, RefTensor, k->nparams + 1);
    const char *err = ref_run(args, ref, a);
    if (err) {
        fprintf(stderr, "accl: error: the reference evaluator failed: %s\n", err);
        return EXIT_INPUT;
    }
    RunArgs got = data_copy(args, a);
    bool ran = run_executor(fe, f, o, &got, a);
    if (ran && !mutate_for_tests(k, &got))
        return EXIT_INPUT;
    bool pass = ran;
    for (int i = 0; i < k->nparams; i++) {
        const Param *p = k->params[i];
        if (!ast_param_is_buffer(p) || p->mode == MODE_IN)
            continue;
        if (o->print)
            print_elements(p->name.name, &ref[i], ran ? &got.tensors[i] : NULL);
        if (!ran)
            continue;
        DataReport r;
        data_compare(&ref[i], &got.tensors[i], &r);
        print_report(p->name.name, &got.tensors[i], &r);
        pass = pass && r.failed == 0;
    }
    /* The interpreter's and the emulator's failures are errors (exit 1, no
     * verdict), and so are a GPU's (no device, a failed launch); the CPU's
     * compiled kernel's are a verdict on the code generator. */
    if (ran || !(o->interpret || o->emulate || target_is_gpu(o->target)))
        puts(pass ? "PASS" : "FAIL");
    return pass ? 0 : EXIT_INPUT;
}

/* ---- accl bench ------------------------------------------------------ */

/* Float operations of one evaluation of e: 1 per float + - * / and per float
 * intrinsic (fma 2); negation, comparisons, conversions and index arithmetic
 * count nothing. A conditional counts its larger arm. */
static int64_t expr_flops(const Expr *e)
{
    int64_t n = 0;
    if (e->kind == EXPR_COND) {
        int64_t a = expr_flops(e->args[1]), b = expr_flops(e->args[2]);
        return expr_flops(e->args[0]) + (a > b ? a : b);
    }
    for (int i = 0; i < e->nargs; i++)
        n += expr_flops(e->args[i]);
    if (!elem_is_float(e->type))
        return n;
    if (e->kind == EXPR_BINARY && e->op >= OP_ADD && e->op <= OP_DIV)
        n += 1;
    else if (e->kind == EXPR_CALL)
        n += e->intrinsic == INTR_FMA ? 2 : 1;
    return n;
}

/* Float operations of one execution of a statement list (an if counts its
 * larger branch; `x += e` on a float adds one, so `C += A * B` counts 2). */
static int64_t stmts_flops(const StmtList *l)
{
    int64_t n = 0;
    for (int i = 0; i < l->len; i++) {
        const Stmt *st = l->items[i];
        if (st->kind == STMT_IF) {
            int64_t a = stmts_flops(&st->then_body);
            int64_t b = st->has_else ? stmts_flops(&st->else_body) : 0;
            n += expr_flops(st->cond) + (a > b ? a : b);
            continue;
        }
        if (st->rhs)
            n += expr_flops(st->rhs);
        if (st->kind == STMT_ASSIGN && st->aop != ASSIGN_SET && elem_is_float(st->lhs->type))
            n += 1;
    }
    return n;
}

/* The float operations of one run: each nest's body count times its
 * iterations (the product of its loops' trip counts). False when a loop's
 * bounds are not expressions of sizes (a triangular nest). */
static bool kernel_flops(const Kernel *k, const int64_t *sizes, Arena *a, double *flops)
{
    *flops = 0;
    for (int i = 0; i < k->nnests; i++) {
        const Nest *n = k->nests[i];
        double trips = 1;
        for (int l = 0; l < n->niters; l++) {
            int64_t lo, hi;
            if (!ref_eval_size_expr(n->iters[l]->lo, k, sizes, &lo, a) ||
                !ref_eval_size_expr(n->iters[l]->hi, k, sizes, &hi, a))
                return false;
            trips *= hi > lo ? (double)(hi - lo) : 0;
        }
        *flops += trips * (double)stmts_flops(&n->body);
    }
    return true;
}

/* Bytes moved by one run if every tensor is read (in), written (out) or
 * both (inout) exactly once. */
static double kernel_bytes(const Kernel *k, const RunArgs *args)
{
    double bytes = 0;
    for (int i = 0; i < k->nparams; i++) {
        const Param *p = k->params[i];
        if (!ast_param_is_buffer(p))
            continue;
        double b = (double)args->tensors[i].count * elem_type_bytes(args->tensors[i].elem);
        bytes += p->mode == MODE_INOUT ? 2 * b : b;
    }
    return bytes;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

enum {
    BENCH_COPIES = 4,              /* input copies used in turn ... */
    BENCH_MAX_RUNS = 1000,         /* default runs: at most this many ... */
    BENCH_MIN_RUNS = 3,            /* ... and at least this many, */
};
static const double BENCH_ROTATE_LIMIT = 64e6;  /* ... when the tensors take at most 64 MB */
static const double BENCH_SECONDS = 1.0;        /* ... stopping after about 1 s */

/* Copies of the arguments, each tensor 64-byte aligned (malloc'd: free with
 * free_copies). The first copy is args' data, copied too. */
static RunArgs *make_copies(const RunArgs *args, int ncopies, Arena *a)
{
    const Kernel *k = args->kernel;
    RunArgs *c = ARENA_ARRAY(a, RunArgs, ncopies);
    for (int j = 0; j < ncopies; j++) {
        c[j] = *args;
        c[j].tensors = ARENA_ARRAY(a, RunTensor, k->nparams + 1);
        for (int i = 0; i < k->nparams; i++) {
            c[j].tensors[i] = args->tensors[i];
            if (!ast_param_is_buffer(k->params[i]))
                continue;
            size_t bytes = (size_t)args->tensors[i].count * (size_t)elem_type_bytes(args->tensors[i].elem);
            size_t rounded = (bytes + 63) / 64 * 64 + 64;
            c[j].tensors[i].data = aligned_alloc(64, rounded);
            if (!c[j].tensors[i].data) {
                fprintf(stderr, "accl: error: out of memory for copies of the benchmark data\n");
                exit(EXIT_INPUT);
            }
            memcpy(c[j].tensors[i].data, args->tensors[i].data, bytes);
        }
    }
    return c;
}

static void free_copies(RunArgs *c, int ncopies)
{
    for (int j = 0; j < ncopies; j++)
        for (int i = 0; i < c[j].kernel->nparams; i++)
            if (ast_param_is_buffer(c[j].kernel->params[i]))
                free(c[j].tensors[i].data);
}

/* Timed runs of fn over the copies in turn, after one warm-up run: exactly
 * o->runs, or by default until about 1 s has passed (at least 3 runs, at
 * most 1000). Fills times (seconds, sorted) and returns their number, or -1
 * after a message when the kernel returns an error code. */
static int time_runs(JitPackedFn fn, void ***packed, int ncopies, const RunOptions *o, double *times)
{
    int rc = fn(packed[0]);
    int max = o->runs ? (int)o->runs : BENCH_MAX_RUNS, n = 0;
    double start = now_seconds();
    while (rc == ACCL_OK && n < max) {
        double t0 = now_seconds();
        rc = fn(packed[(n + 1) % ncopies]);
        double t1 = now_seconds();
        times[n++] = t1 - t0;
        if (!o->runs && n >= BENCH_MIN_RUNS && t1 - start >= BENCH_SECONDS)
            break;
    }
    if (rc != ACCL_OK) {
        fprintf(stderr, "accl: error: the compiled kernel failed: %s (code %d)\n", accl_strerror(rc), rc);
        return -1;
    }
    qsort(times, (size_t)n, sizeof *times, compare_doubles);
    return n;
}

static void print_sizes(const Kernel *k, const int64_t *sizes)
{
    for (int s = 0; s < k->nsizes; s++)
        printf("%s%s=%lld", s ? "," : " ", k->sizes[s].name, (long long)sizes[s]);
    putchar('\n');
}

/* The machine balance bench compares a kernel's arithmetic intensity with:
 * the flops per byte of memory traffic at which a typical machine of the kind
 * runs out of compute as it runs out of bandwidth (f32, no tensor cores: a
 * recent server CPU about 10; an A100 19.5 TFLOP/s over 1.56 TB/s, an H100
 * or MI300X about 20). Nominal: only which resource is named depends on it. */
static const double BENCH_CPU_BALANCE = 10.0;
static const double BENCH_GPU_BALANCE = 15.0;

static void print_gbs(double bytes, double median, double best)
{
    printf("GB/s: %.4g (median), %.4g (best); %.6g MB per run\n", bytes / median * 1e-9,
           bytes / best * 1e-9, bytes * 1e-6);
}

static void print_gflops(double flops, double median, double best)
{
    printf("GFLOP/s: %.4g (median), %.4g (best); %.6g GFLOP per run\n", flops / median * 1e-9,
           flops / best * 1e-9, flops * 1e-9);
}

/* time, then the rate of the resource that bounds the kernel first, the other
 * after it, then `bound:`: memory (GB/s first) when the kernel's float
 * operations per byte moved are below the target kind's nominal balance,
 * else compute (GFLOP/s first). A kernel without float operations (a copy),
 * or whose operations cannot be counted, gets GB/s only. */
static void print_rates(const Kernel *k, const RunArgs *args, Target target, double median,
                        double best, Arena *a)
{
    printf("time: median %.6g ms, min %.6g ms\n", median * 1e3, best * 1e3);
    double flops, bytes = kernel_bytes(k, args);
    bool counted = kernel_flops(k, args->sizes, a, &flops);
    if (!counted || flops == 0) {
        print_gbs(bytes, median, best);
        printf("bound: memory, GB/s (%s)\n", counted ? "no float operations"
                                               : "float operations not counted: a loop's bounds "
                                                 "are not expressions of sizes");
        return;
    }
    double balance = target_is_gpu(target) ? BENCH_GPU_BALANCE : BENCH_CPU_BALANCE;
    double intensity = bytes > 0 ? flops / bytes : INFINITY;
    bool memory = intensity < balance;
    if (memory)
        print_gbs(bytes, median, best);
    print_gflops(flops, median, best);
    if (!memory && bytes > 0)
        print_gbs(bytes, median, best);
    printf("bound: %s, %s (%.3g flop/byte; %s's nominal balance is %g)\n",
           memory ? "memory" : "compute", memory ? "GB/s" : "GFLOP/s", intensity,
           target_is_gpu(target) ? "a GPU" : "a CPU", balance);
}

/* GPU targets: compiles, copies the data to the device once, then one
 * warm-up call and timed calls (events on the stream around each), as many
 * as for the CPU. */
static int bench_gpu(Frontend *fe, IrFunc *f, const RunOptions *o, RunArgs *args, Arena *a)
{
    const Kernel *k = f->kernel;
    RunGpu g;
    int rc = EXIT_INPUT;
    if (run_gpu_open(&g, fe, f, args, packed_args, a) && run_gpu_call(&g, NULL)) {
        double compiled = now_seconds();
        int max = o->runs ? (int)o->runs : BENCH_MAX_RUNS, n = 0;
        double *times = ARENA_ARRAY(a, double, max), start = now_seconds(), ms = 0;
        bool ok = true;
        while (n < max && (ok = run_gpu_call(&g, &ms))) {
            times[n++] = ms * 1e-3;
            if (!o->runs && n >= BENCH_MIN_RUNS && now_seconds() - start >= BENCH_SECONDS)
                break;
        }
        if (ok) {
            qsort(times, (size_t)n, sizeof *times, compare_doubles);
            printf("kernel: %s (%s)", k->name.name, o->target_text);
            print_sizes(k, args->sizes);
            printf("device: %s\n", g.device);
            printf("compile: %.3f s (source to device code, data copied in, one warm-up run)\n",
                   compiled - o->start);
            printf("runs: %d, timed with GPU events\n", n);
            print_rates(k, args, o->target, times[(n - 1) / 2], times[0], a);
            rc = 0;
        }
    }
    run_gpu_close(&g);
    return rc;
}

/* Compiles, then times the kernel on rotated copies of the data. */
static int bench(Frontend *fe, const Kernel *k, const RunOptions *o, RunArgs *args, Arena *a)
{
    /* the CPU steps here; a GPU's execution form in bench_gpu */
    IrFunc *f = compile_kernel(&fe->compile, k, !target_is_gpu(o->target), NULL);
    if (!f)
        return EXIT_INPUT;
    if (target_is_gpu(o->target))
        return bench_gpu(fe, f, o, args, a);
    Jit *jit;
    JitPackedFn fn = jit_kernel(fe, f, &jit);
    double compiled = now_seconds();
    int rc = EXIT_INPUT;
    if (fn) {
        double ws = kernel_bytes(k, args);
        int ncopies = ws <= BENCH_ROTATE_LIMIT ? BENCH_COPIES : 1;
        RunArgs *copies = make_copies(args, ncopies, a);
        void ***packed = ARENA_ARRAY(a, void **, ncopies);
        for (int j = 0; j < ncopies; j++)
            packed[j] = packed_args(k, &copies[j], a);
        double *times = ARENA_ARRAY(a, double, o->runs ? o->runs : BENCH_MAX_RUNS);
        int n = time_runs(fn, packed, ncopies, o, times);
        if (n > 0) {
            printf("kernel: %s (%s)", k->name.name, o->target_text);
            print_sizes(k, args->sizes);
            printf("threads: %d\n", accl_num_threads());
            printf("compile: %.3f s (source to machine code)\n", compiled - o->start);
            printf("runs: %d, inputs rotated over %d cop%s (%.4g MB each)\n", n, ncopies,
                   ncopies == 1 ? "y" : "ies", ws * 1e-6);
            print_rates(k, args, o->target, times[(n - 1) / 2], times[0], a);
            rc = 0;
        }
        free_copies(copies, ncopies);
    }
    jit_free(jit);
    return rc;
}

/* From the checked kernel to the arguments: sizes, shapes, scalars, data. */
static int prepare(Frontend *fe, const RunOptions *o, Arena *a)
{
    const Kernel *k = find_kernel(fe, o);
    if (!k)
        return EXIT_USAGE;
    RunArgs args = {.kernel = k};
    args.sizes = ARENA_ARRAY(a, int64_t, k->nsizes + 1);
    args.tensors = ARENA_ARRAY(a, RunTensor, k->nparams + 1);
    args.scalars = ARENA_ARRAY(a, RunScalar, k->nparams + 1);
    if (!bind_sizes(k, o, args.sizes) || !shape_tensors(k, &args) || !bind_scalars(k, o, &args))
        return usage_hint(o);
    data_alloc(&args, a);
    data_fill(&args, o->seed);
    for (int i = 0; i < o->ninputs; i++)
        if (!apply_input(k, &o->inputs[i], &args))
            return usage_hint(o);
    return o->bench ? bench(fe, k, o, &args, a) : execute(fe, k, o, &args, a);
}

/* accl run and accl bench; argv[0] is the command. */
static int command_main(int argc, char **argv, bool is_bench)
{
    RunOptions o;
    int rc = parse_options(argc, argv, is_bench, &o);
    if (rc != 0) {
        free_options(&o);
        return rc < 0 ? 0 : rc;
    }
    /* The thread pool reads ACCL_NUM_THREADS when it starts, at the first run. */
    if (o.threads) {
        char n[32];
        snprintf(n, sizeof n, "%lld", (long long)o.threads);
        setenv("ACCL_NUM_THREADS", n, 1);
    }
    o.start = now_seconds();
    Frontend fe;
    rc = frontend_load(&fe, o.input, o.target, o.target_given, o.params, o.nparams, o.color,
                       FE_CHECK);
    if (rc == 0) {
        Arena a;
        arena_init(&a);
        rc = prepare(&fe, &o, &a);
        arena_free(&a);
    }
    frontend_free(&fe);
    free_options(&o);
    return rc;
}

int run_main(int argc, char **argv) { return command_main(argc, argv, false); }

int bench_main(int argc, char **argv) { return command_main(argc, argv, true); }
