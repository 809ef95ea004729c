/* Loading a file through the front end, and what the driver's commands share. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/driver.h"

enum { FILE_LIMIT = 1u << 30 };

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

int frontend_load(Frontend *fe, const char *path, Target target, bool target_given,
                  const ParamOverride *params, int nparams, Color color, FrontendStage stage)
{
    memset(fe, 0, sizeof *fe);
    arena_init(&fe->arena);
    fe->target = target;
    fe->compile = (CompileCtx){.checked = &fe->checked, .target = target, .diag = &fe->diag, .arena = &fe->arena};
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
    if (!compile_check_params(fe->prog, target, params, nparams))
        return EXIT_USAGE;
    SemaOptions sopt = {.target = target_given ? target : TARGET_NONE,
                        .params = params,
                        .nparams = nparams};
    if (!compile_check_program(fe->prog, &sopt, &fe->diag, &fe->arena, &fe->checked))
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
