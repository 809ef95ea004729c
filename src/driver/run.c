/* `accl run`: runs one kernel on test data with an executor and checks every
 * element it writes against the reference evaluator (lang/SPEC.md, Command
 * line and Checking results).
 *
 *   options -> front end -> sizes, shapes, scalars -> data -> lower
 *           -> reference | executor (on a copy) -> compare -> PASS / FAIL */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"
#include "run/data.h"
#include "run/interp.h"
#include "run/numbers.h"
#include "run/reference.h"

static const char run_usage_text[] =
    "usage: accl run FILE.acc --kernel K --size M=77,N=33,K=65 --interpret [options]\n"
    "\n"
    "Runs kernel K on deterministic test data with an executor and checks every\n"
    "element it writes against the reference evaluator; prints the worst element\n"
    "of each output and PASS or FAIL.\n"
    "\n"
    "  --kernel K              the kernel to run (required)\n"
    "  --size NAME=N,...       every size of the kernel (repeatable)\n"
    "  --arg NAME=VALUE        a scalar parameter (required for each; repeatable)\n"
    "  --seed S                the seed of the random inputs (default 1)\n"
    "  --input NAME=V,V,...    a tensor's contents, row-major, instead of random data\n"
    "  --print                 print every output element of the reference and the executor\n"
    "  --interpret             execute the lowered loop IR with the interpreter (the only\n"
    "                          executor until the CPU backend lands)\n"
    "  --target=TARGET         the target whose schedule is applied (default cpu)\n"
    "  --param NAME=VALUE      override a schedule param (repeatable)\n"
    "  --color=auto|always|never\n"
    "  --help                  print this help\n"
    "\n"
    "exit status: 0 PASS, 1 FAIL or errors in the input or an executor error, 2 usage errors\n";

/* One NAME=VALUE option as written. */
typedef struct RunNamed {
    const char *name;   /* malloc'd */
    const char *value;  /* points into argv */
    int64_t num;        /* --size: the value */
} RunNamed;

typedef struct RunOptions {
    const char *input;
    const char *kernel;
    Target target;
    bool target_given;
    bool interpret;
    bool print;
    uint64_t seed;
    Color color;
    ParamOverride params[DRIVER_MAX_PARAMS];
    int nparams;
    RunNamed *sizes, *args, *inputs;  /* each holds at most argc entries */
    int nsizes, nargs, ninputs;
} RunOptions;

static int usage_hint(void)
{
    fputs("(run 'accl run --help' for the options)\n", stderr);
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
static const char *option_value(int argc, char **argv, int *i, const char *opt)
{
    const char *a = argv[*i];
    size_t n = strlen(opt);
    if (a[n] == '=')
        return a + n + 1;
    if (*i + 1 < argc)
        return argv[++*i];
    fprintf(stderr, "accl: error: %s needs a value\n", opt);
    usage_hint();
    return NULL;
}

static bool is_option(const char *a, const char *opt)
{
    size_t n = strlen(opt);
    return strncmp(a, opt, n) == 0 && (a[n] == '\0' || a[n] == '=');
}

/* One option at argv[*i]. Returns 0, EXIT_USAGE after a message, or -1 after --help. */
static int parse_one(int argc, char **argv, int *i, RunOptions *o)
{
    const char *a = argv[*i], *v;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
        fputs(run_usage_text, stdout);
        return -1;
    } else if (strcmp(a, "--interpret") == 0) {
        o->interpret = true;
    } else if (strcmp(a, "--print") == 0) {
        o->print = true;
    } else if (is_option(a, "--kernel")) {
        if (!(v = option_value(argc, argv, i, "--kernel")))
            return EXIT_USAGE;
        o->kernel = v;
    } else if (is_option(a, "--size")) {
        if (!(v = option_value(argc, argv, i, "--size")))
            return EXIT_USAGE;
        if (!split_sizes(v, o)) {
            fprintf(stderr, "accl: error: --size expects NAME=INTEGER,NAME=INTEGER,..., got '%s'\n", v);
            return usage_hint();
        }
    } else if (is_option(a, "--arg") || is_option(a, "--input")) {
        bool arg = is_option(a, "--arg");
        if (!(v = option_value(argc, argv, i, arg ? "--arg" : "--input")))
            return EXIT_USAGE;
        if (!split_named(v, arg ? &o->args[o->nargs] : &o->inputs[o->ninputs])) {
            if (arg)
                fprintf(stderr, "accl: error: --arg expects NAME=VALUE, got '%s'\n", v);
            else
                fprintf(stderr, "accl: error: --input expects NAME=V,V,..., got '%s'\n", v);
            return usage_hint();
        }
        *(arg ? &o->nargs : &o->ninputs) += 1;
    } else if (is_option(a, "--seed")) {
        int64_t s;
        if (!(v = option_value(argc, argv, i, "--seed")))
            return EXIT_USAGE;
        if (!driver_parse_int64(v, &s)) {
            fprintf(stderr, "accl: error: --seed expects an integer, got '%s'\n", v);
            return usage_hint();
        }
        o->seed = (uint64_t)s;
    } else if (strncmp(a, "--target=", 9) == 0) {
        o->target = sema_parse_target(a + 9);
        o->target_given = true;
        if (o->target == TARGET_NONE) {
            fprintf(stderr, "accl: error: unknown target '%s' (expected cpu, nvidia:sm_80, sm_86, "
                            "sm_89, sm_90, sm_90a, amd:gfx90a, gfx942 or gfx1100)\n",
                    a + 9);
            return usage_hint();
        }
    } else if (is_option(a, "--param")) {
        if (!(v = option_value(argc, argv, i, "--param")))
            return EXIT_USAGE;
        if (o->nparams == DRIVER_MAX_PARAMS) {
            fprintf(stderr, "accl: error: too many --param options (the limit is 64)\n");
            return usage_hint();
        }
        if (!driver_parse_param(v, &o->params[o->nparams])) {
            fprintf(stderr, "accl: error: --param expects NAME=INTEGER, got '%s'\n", v);
            return usage_hint();
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
            return usage_hint();
        }
    } else if (a[0] == '-' && a[1] != '\0') {
        fprintf(stderr, "accl: error: unknown option '%s'\n", a);
        return usage_hint();
    } else if (o->input) {
        fprintf(stderr, "accl: error: more than one input file ('%s')\n", a);
        return usage_hint();
    } else {
        o->input = a;
    }
    return 0;
}

static int parse_options(int argc, char **argv, RunOptions *o)
{
    memset(o, 0, sizeof *o);
    o->target = TARGET_CPU;
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
        return usage_hint();
    }
    if (!o->interpret) {
        fprintf(stderr, "accl: error: only --interpret is available until the CPU backend (issue 5) lands\n");
        return EXIT_USAGE;
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
        if (!p->type.is_tensor)
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

/* --arg NAME=VALUE for every scalar parameter. */
static bool bind_scalars(const Kernel *k, const RunOptions *o, RunArgs *args)
{
    bool *given = calloc((size_t)k->nparams + 1, 1);
    bool ok = true;
    for (int a = 0; a < o->nargs && ok; a++) {
        int i = param_named(k, o->args[a].name);
        if (i < 0 || k->params[i]->type.is_tensor) {
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
        if (!k->params[i]->type.is_tensor && !given[i]) {
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
    if (i < 0 || !k->params[i]->type.is_tensor) {
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
    char idx[256];
    for (int64_t i = 0; i < ref->count; i++) {
        data_index_text(got, i, idx, sizeof idx);
        printf("%s[%s] ref=", name, idx);
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
        char idx[256];
        data_index_text(t, r->worst, idx, sizeof idx);
        if (elem_is_float(t->elem))
            printf("; worst %s[%s]: got %.9g ref %.9g bound %.3g ratio %.3g", name, idx, r->got,
                   r->ref, r->bound, r->ratio);
        else
            printf("; worst %s[%s]: got %lld ref %lld (exact)", name, idx, (long long)r->got_i,
                   (long long)r->ref_i);
    }
    putchar('\n');
}

/* Reference, executor on a copy, comparison. Returns the exit code. */
static int execute(Frontend *fe, const Kernel *k, const RunOptions *o, RunArgs *args, Arena *a)
{
    IrFunc *f = pipeline_lower(fe, k, NULL);
    if (!f)
        return EXIT_INPUT;
    RefTensor *ref = ARENA_ARRAY(a, RefTensor, k->nparams + 1);
    const char *err = ref_run(args, ref, a);
    if (err) {
        fprintf(stderr, "accl: error: the reference evaluator failed: %s\n", err);
        return EXIT_INPUT;
    }
    RunArgs got = data_copy(args, a);
    const char *ierr = interp_run(f, &got, a);
    bool pass = !ierr;
    for (int i = 0; i < k->nparams; i++) {
        const Param *p = k->params[i];
        if (!p->type.is_tensor || p->mode == MODE_IN)
            continue;
        if (o->print)
            print_elements(p->name.name, &ref[i], ierr ? NULL : &got.tensors[i]);
        if (ierr)
            continue;
        DataReport r;
        data_compare(&ref[i], &got.tensors[i], &r);
        print_report(p->name.name, &got.tensors[i], &r);
        pass = pass && r.failed == 0;
    }
    if (ierr) {
        fprintf(stderr, "accl: error: the interpreter failed: %s\n", ierr);
        return EXIT_INPUT;
    }
    puts(pass ? "PASS" : "FAIL");
    return pass ? 0 : EXIT_INPUT;
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
        return usage_hint();
    data_alloc(&args, a);
    data_fill(&args, o->seed);
    for (int i = 0; i < o->ninputs; i++)
        if (!apply_input(k, &o->inputs[i], &args))
            return usage_hint();
    return execute(fe, k, o, &args, a);
}

int run_main(int argc, char **argv)
{
    RunOptions o;
    int rc = parse_options(argc, argv, &o);
    if (rc != 0) {
        free_options(&o);
        return rc < 0 ? 0 : rc;
    }
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
