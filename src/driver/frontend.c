/* Loading a file through the front end, and what the driver's commands share. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/driver.h"

enum { FILE_LIMIT = 1u << 30 };

static const char *target_spelling(Target t, char *buf, size_t n)
{
    const char *arch = target_arch(t);
    snprintf(buf, n, "%s%s%s", target_vendor(t), *arch ? ":" : "", arch);
    return buf;
}

bool driver_parse_int64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end)
        return false;
    *out = v;
    return true;
}

bool driver_parse_param(const char *s, ParamOverride *out)
{
    const char *eq = strchr(s, '=');
    int64_t v;
    if (!eq || eq == s || !driver_parse_int64(eq + 1, &v))
        return false;
    out->name = strndup(s, (size_t)(eq - s));
    out->value = v;
    return true;
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
bool output_open(Output *out, const char *path)
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

bool output_close(Output *out, bool ok)
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

/* A --param must name a param of a schedule that applies to the target, and
 * hold a value of its set. Returns false after a usage message. */
static bool check_param_overrides(const ParamOverride *params, int nparams, Target target, Program *p)
{
    for (int i = 0; i < nparams; i++) {
        const ParamOverride *ov = &params[i];
        bool found = false;
        for (int s = 0; s < p->nschedules && !found; s++) {
            Schedule *sc = p->schedules[s];
            char name[64];
            snprintf(name, sizeof name, "%s:%s", sc->vendor.name, sc->arch.name ? sc->arch.name : "");
            Target written = sema_parse_target(sc->arch.name ? name : sc->vendor.name);
            if (written == TARGET_NONE || !sema_schedule_applies(written, target))
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
            char tn[32];
            fprintf(stderr, "accl: error: --param %s: no schedule for target %s has a param '%s'\n",
                    ov->name, target_spelling(target, tn, sizeof tn), ov->name);
            return false;
        }
    }
    return true;
}

int frontend_load(Frontend *fe, const char *path, Target target, bool target_given,
                  const ParamOverride *params, int nparams, Color color, FrontendStage stage)
{
    memset(fe, 0, sizeof *fe);
    arena_init(&fe->arena);
    fe->target = target;
    uint32_t len = 0;
    fe->text = read_input(path, &len);
    if (!fe->text)
        return EXIT_INPUT;
    source_init(&fe->src, &fe->arena, strcmp(path, "-") == 0 ? "<stdin>" : path, fe->text, len);
    bool on_tty = color == COLOR_ALWAYS || (color == COLOR_AUTO && isatty(fileno(stderr)));
    diag_init(&fe->diag, &fe->src, stderr, on_tty);
    if (stage == FE_READ)
        return 0;
    fe->prog = parse_program(&fe->src, &fe->diag, &fe->arena);
    if (fe->diag.nerrors)
        return EXIT_INPUT;
    if (stage == FE_PARSE)
        return 0;
    if (!check_param_overrides(params, nparams, target, fe->prog))
        return EXIT_USAGE;
    SemaOptions sopt = {.target = target_given ? target : TARGET_NONE,
                        .params = params,
                        .nparams = nparams};
    if (!sema_check(fe->prog, &sopt, &fe->diag, &fe->arena, &fe->checked))
        return EXIT_INPUT;
    if (!legality_check(&fe->checked, &fe->diag))
        return EXIT_INPUT;
    return 0;
}

void frontend_free(Frontend *fe)
{
    if (fe->text)
        diag_finish(&fe->diag);
    arena_free(&fe->arena);
    free(fe->text);
    fe->text = NULL;
}

Kernel *frontend_kernel(const Frontend *fe, const char *name)
{
    for (int i = 0; fe->prog && i < fe->prog->nkernels; i++)
        if (strcmp(fe->prog->kernels[i]->name.name, name) == 0)
            return fe->prog->kernels[i];
    return NULL;
}
