/* accl: the driver. Reads options, runs the pipeline in order, prints dumps,
 * and decides the exit code: 0 success, 1 errors in the input, 2 usage errors.
 *
 *   source -> tokens -> AST -> checked AST + schedule records -> (later: loop IR)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grammar.h"
#include "parser/parse.h"
#include "sema/schedule.h"
#include "sema/sema.h"

#define ACCL_VERSION "0.1.0-dev"

enum { EXIT_INPUT = 1, EXIT_USAGE = 2, MAX_PARAMS = 64 };
enum { FILE_LIMIT = 1u << 30 };

typedef enum Emit { EMIT_NONE, EMIT_TOKENS, EMIT_AST, EMIT_SCHEDULE } Emit;
typedef enum Color { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER } Color;

typedef struct Options {
    const char *input;
    const char *output;
    const char *target_name;
    Target target;
    Emit emit;
    bool check;
    Color color;
    ParamOverride params[MAX_PARAMS];
    Span param_spans[MAX_PARAMS];
    int nparams;
} Options;

static const char usage_text[] =
    "usage: accl [options] FILE.acc     (FILE may be '-' for standard input)\n"
    "\n"
    "  --check                 run the front end and every check; write nothing\n"
    "  --emit=KIND             print a stage: tokens, ast, schedule\n"
    "  --target=TARGET         cpu (default), nvidia:sm_80|sm_86|sm_89|sm_90|sm_90a,\n"
    "                          amd:gfx90a|gfx942|gfx1100\n"
    "  --param NAME=VALUE      override a schedule param (repeatable)\n"
    "  -o FILE                 write the output to FILE (replaced only on success)\n"
    "  --color=auto|always|never\n"
    "                          colour diagnostics (auto: only on a terminal)\n"
    "  --help                  print this help\n"
    "  --version               print the version\n"
    "\n"
    "exit status: 0 success, 1 errors in the input, 2 usage errors\n";

static void usage_error(const char *fmt, const char *arg)
{
    fputs("accl: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(run 'accl --help' for the options)\n", stderr);
}

static bool parse_int64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

/* Returns 0 on success, EXIT_USAGE (after a message) otherwise; -1 when done (help). */
static int parse_options(int argc, char **argv, Options *o)
{
    memset(o, 0, sizeof *o);
    o->target = TARGET_CPU;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return -1;
        } else if (strcmp(a, "--version") == 0) {
            printf("accl %s\n", ACCL_VERSION);
            return -1;
        } else if (strcmp(a, "--check") == 0) {
            o->check = true;
        } else if (strncmp(a, "--emit=", 7) == 0) {
            value = a + 7;
            if (strcmp(value, "tokens") == 0)
                o->emit = EMIT_TOKENS;
            else if (strcmp(value, "ast") == 0)
                o->emit = EMIT_AST;
            else if (strcmp(value, "schedule") == 0)
                o->emit = EMIT_SCHEDULE;
            else {
                usage_error("unknown --emit kind '%s' (expected tokens, ast or schedule)", value);
                return EXIT_USAGE;
            }
        } else if (strncmp(a, "--target=", 9) == 0) {
            o->target_name = a + 9;
            o->target = sema_parse_target(a + 9);
            if (o->target == TARGET_NONE) {
                usage_error("unknown target '%s' (expected cpu, nvidia:sm_80, sm_86, sm_89, "
                            "sm_90, sm_90a, amd:gfx90a, gfx942 or gfx1100)",
                            a + 9);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--param") == 0 || strncmp(a, "--param=", 8) == 0) {
            value = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
            if (!value) {
                usage_error("%s needs NAME=VALUE", "--param");
                return EXIT_USAGE;
            }
            const char *eq = strchr(value, '=');
            int64_t v;
            if (!eq || eq == value || !parse_int64(eq + 1, &v)) {
                usage_error("--param expects NAME=INTEGER, got '%s'", value);
                return EXIT_USAGE;
            }
            if (o->nparams == MAX_PARAMS) {
                usage_error("too many --param options (the limit is %s)", "64");
                return EXIT_USAGE;
            }
            o->params[o->nparams].name = strndup(value, (size_t)(eq - value));
            o->params[o->nparams].value = v;
            o->nparams++;
        } else if (strcmp(a, "-o") == 0) {
            if (i + 1 >= argc) {
                usage_error("%s needs a file name", "-o");
                return EXIT_USAGE;
            }
            o->output = argv[++i];
        } else if (strncmp(a, "--color=", 8) == 0) {
            value = a + 8;
            if (strcmp(value, "auto") == 0)
                o->color = COLOR_AUTO;
            else if (strcmp(value, "always") == 0)
                o->color = COLOR_ALWAYS;
            else if (strcmp(value, "never") == 0)
                o->color = COLOR_NEVER;
            else {
                usage_error("unknown --color value '%s' (expected auto, always or never)", value);
                return EXIT_USAGE;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            usage_error("unknown option '%s'", a);
            return EXIT_USAGE;
        } else if (o->input) {
            usage_error("more than one input file ('%s')", a);
            return EXIT_USAGE;
        } else {
            o->input = a;
        }
    }
    if (!o->input) {
        usage_error("%s", "no input file");
        return EXIT_USAGE;
    }
    return 0;
}

static void free_options(Options *o)
{
    for (int i = 0; i < o->nparams; i++)
        free((char *)o->params[i].name);
}

/* Reads the whole input, NUL-terminated. */
static char *read_input(const char *path, uint32_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "accl: error: cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            if (cap >= FILE_LIMIT) {
                fprintf(stderr, "accl: error: '%s' is larger than 1 GiB\n", path);
                free(buf);
                buf = NULL;
                break;
            }
            cap *= 2;
            buf = realloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                fprintf(stderr, "accl: error: cannot read '%s': %s\n", path, strerror(errno));
                free(buf);
                buf = NULL;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    if (buf) {
        buf[n] = '\0';
        *len = (uint32_t)n;
    }
    return buf;
}

/* Output goes to a temporary file beside -o and is renamed only on success. */
typedef struct Output {
    FILE *f;
    char *tmp;
    const char *path;
} Output;

static bool output_open(Output *out, const char *path)
{
    memset(out, 0, sizeof *out);
    if (!path) {
        out->f = stdout;
        return true;
    }
    out->path = path;
    size_t n = strlen(path);
    out->tmp = malloc(n + 16);
    snprintf(out->tmp, n + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(out->tmp);
    if (fd < 0 || !(out->f = fdopen(fd, "w"))) {
        fprintf(stderr, "accl: error: cannot write '%s': %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(out->tmp);
        out->tmp = NULL;
        return false;
    }
    return true;
}

static bool output_close(Output *out, bool ok)
{
    if (!out->tmp)
        return ok && fflush(stdout) == 0;
    ok = (fclose(out->f) == 0) && ok;
    if (ok && rename(out->tmp, out->path) != 0) {
        fprintf(stderr, "accl: error: cannot write '%s': %s\n", out->path, strerror(errno));
        ok = false;
    }
    if (!ok)
        remove(out->tmp);
    free(out->tmp);
    return ok;
}

static const char *token_code_name(int kind)
{
    switch (kind) {
    case TK_EOF: return "EOF";
    case TK_COMMENT: return "COMMENT";
    case TK_IDENT: return "IDENT";
    case TK_INT: return "INT";
    case TK_FLOAT: return "FLOAT";
    case TK_TYPE: return "TYPE";
#define X(tok, s, cat) case TK_##tok: return #tok;
    ACC_KEYWORDS(X)
#undef X
#define X(tok, s) case TK_##tok: return #tok;
    ACC_PUNCT(X)
#undef X
    }
    return "?";
}

static void dump_tokens(FILE *out, const Source *src, Diag *diag)
{
    Lexer lx;
    lex_init(&lx, src, diag);
    Token t;
    do {
        lex_next(&lx, &t);
        int line, col;
        source_position(src, t.span.lo, &line, &col);
        fprintf(out, "%d:%d %s", line, col, token_code_name(t.kind));
        if (t.kind != TK_EOF) {
            fputs(" '", out);
            for (uint32_t i = t.span.lo; i < t.span.hi; i++) {
                char c = src->text[i];
                if (c == '\n')
                    fputs("\\n", out);
                else if (c == '\t')
                    fputs("\\t", out);
                else if (c == '\\' || c == '\'')
                    fprintf(out, "\\%c", c);
                else
                    fputc(c, out);
            }
            fputc('\'', out);
        }
        fputc('\n', out);
    } while (t.kind != TK_EOF);
}

/* A --param must name a param of a schedule that applies to the target, and
 * hold a value of its set. Returns false after a usage message. */
static bool check_param_overrides(const Options *o, Program *p)
{
    for (int i = 0; i < o->nparams; i++) {
        const ParamOverride *ov = &o->params[i];
        bool found = false;
        for (int s = 0; s < p->nschedules && !found; s++) {
            Schedule *sc = p->schedules[s];
            char name[64];
            snprintf(name, sizeof name, "%s:%s", sc->vendor.name, sc->arch.name ? sc->arch.name : "");
            Target written = sema_parse_target(sc->arch.name ? name : sc->vendor.name);
            if (written == TARGET_NONE || !sema_schedule_applies(written, o->target))
                continue;
            for (int j = 0; j < sc->nparams; j++) {
                SchedParam *sp = sc->params[j];
                if (strcmp(sp->name.name, ov->name) != 0)
                    continue;
                found = true;
                if (!sp->set)
                    continue;
                bool in_set = false;
                for (int k = 0; k < sp->nset; k++)
                    in_set |= sp->set[k] == ov->value;
                if (!in_set) {
                    fprintf(stderr, "accl: error: --param %s=%lld is not in the set of '%s' {",
                            ov->name, (long long)ov->value, ov->name);
                    for (int k = 0; k < sp->nset; k++)
                        fprintf(stderr, "%s%lld", k ? ", " : "", (long long)sp->set[k]);
                    fputs("}\n", stderr);
                    return false;
                }
            }
        }
        if (!found) {
            fprintf(stderr, "accl: error: --param %s: no schedule for target %s has a param '%s'\n",
                    ov->name, o->target_name ? o->target_name : "cpu", ov->name);
            return false;
        }
    }
    return true;
}

int main(int argc, char **argv)
{
    Options opt;
    int rc = parse_options(argc, argv, &opt);
    if (rc != 0) {
        free_options(&opt);
        return rc < 0 ? 0 : rc;
    }

    uint32_t len = 0;
    char *text = read_input(opt.input, &len);
    if (!text) {
        free_options(&opt);
        return EXIT_INPUT;
    }

    Arena arena;
    arena_init(&arena);
    Source src;
    source_init(&src, &arena, strcmp(opt.input, "-") == 0 ? "<stdin>" : opt.input, text, len);
    Diag diag;
    bool color = opt.color == COLOR_ALWAYS || (opt.color == COLOR_AUTO && isatty(fileno(stderr)));
    diag_init(&diag, &src, stderr, color);

    Output out;
    bool ok = true;
    rc = 0;
    if (opt.emit == EMIT_TOKENS) {
        ok = output_open(&out, opt.output);
        if (ok) {
            dump_tokens(out.f, &src, &diag);
            ok = output_close(&out, diag.nerrors == 0);
        }
        rc = diag.nerrors ? EXIT_INPUT : ok ? 0 : EXIT_INPUT;
        goto done;
    }

    Program *prog = parse_program(&src, &diag, &arena);
    if (diag.nerrors) {
        rc = EXIT_INPUT;
        goto done;
    }
    if (opt.emit == EMIT_AST) {
        ok = output_open(&out, opt.output);
        if (ok) {
            ast_dump(out.f, &src, prog);
            ok = output_close(&out, true);
        }
        rc = ok ? 0 : EXIT_INPUT;
        goto done;
    }
    if (!check_param_overrides(&opt, prog)) {
        rc = EXIT_USAGE;
        goto done;
    }

    SemaOptions sopt = {.target = opt.target_name ? opt.target : TARGET_NONE,
                        .params = opt.params,
                        .nparams = opt.nparams};
    Checked checked;
    if (!sema_check(prog, &sopt, &diag, &arena, &checked)) {
        rc = EXIT_INPUT;
        goto done;
    }
    if (opt.emit == EMIT_SCHEDULE) {
        ok = output_open(&out, opt.output);
        if (ok) {
            sched_dump(out.f, &src, &checked);
            ok = output_close(&out, true);
        }
        rc = ok ? 0 : EXIT_INPUT;
        goto done;
    }
    /* --check, or no action: the front end is the whole pipeline for now. */

done:
    diag_finish(&diag);
    arena_free(&arena);
    free(text);
    free_options(&opt);
    return rc;
}
