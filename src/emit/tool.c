/* External tools for the GPU back ends (see tool.h). */
#include "emit/tool.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

char *tool_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = malloc((size_t)n + 1);
    if (!s)
        abort();
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

static bool tool_executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

char *tool_find(const char *env_var, const char *name, const char *fallback)
{
    const char *env = getenv(env_var);
    if (env && *env)
        return tool_executable(env) ? tool_printf("%s", env) : NULL;
    const char *path = getenv("PATH");
    while (path && *path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len) {
            char *cand = tool_printf("%.*s/%s", (int)len, path, name);
            if (tool_executable(cand))
                return cand;
            free(cand);
        }
        path = end ? end + 1 : NULL;
    }
    return fallback && tool_executable(fallback) ? tool_printf("%s", fallback) : NULL;
}

char *tool_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *d = malloc(cap + 1);
    if (!d)
        abort();
    while ((got = fread(d + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            cap *= 2;
            d = realloc(d, cap + 1);
            if (!d)
                abort();
        }
    }
    fclose(f);
    d[n] = '\0';
    if (size)
        *size = n;
    return d;
}

bool tool_write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok;
}

bool tool_files_open(ToolFiles *t, const char *what, const char *in_name, const char *out_name,
                     const void *data, size_t size, char **err)
{
    const char *tmpdir = getenv("TMPDIR");
    *t = (ToolFiles){0};
    t->dir = tool_printf("%s/accl-%s-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp", what);
    if (!mkdtemp(t->dir)) {
        *err = tool_printf("cannot create a temporary folder for %s: %s", what, strerror(errno));
        free(t->dir);
        t->dir = NULL;
        return false;
    }
    t->in = tool_printf("%s/%s", t->dir, in_name);
    t->out = tool_printf("%s/%s", t->dir, out_name);
    t->log = tool_printf("%s/log", t->dir);
    if (tool_write_file(t->in, data, size))
        return true;
    *err = tool_printf("cannot write '%s': %s", t->in, strerror(errno));
    tool_files_close(t);
    return false;
}

void tool_files_close(ToolFiles *t)
{
    if (!t->dir)
        return;
    unlink(t->in);
    unlink(t->out);
    unlink(t->log);
    rmdir(t->dir);
    free(t->in);
    free(t->out);
    free(t->log);
    free(t->dir);
    *t = (ToolFiles){0};
}

bool tool_run(char *const *argv, const char *log, int *exit_code, char **err)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ), status = -1;
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        *err = tool_printf("cannot run '%s': %s", argv[0], strerror(rc));
        return false;
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return true;
}
