/* What the GPU back ends need from the system: finding and running an external
 * tool (ptxas, ld.lld) on files in a temporary folder, and reading its output.
 * Every string returned is malloc'd; out of memory aborts. */
#ifndef ACCL_TOOL_H
#define ACCL_TOOL_H

#include <stdbool.h>
#include <stddef.h>

char *tool_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The tool's path: $env_var when set (the only place looked at then), else
 * `name` in a folder of $PATH, else `fallback`; NULL if none is executable. */
char *tool_find(const char *env_var, const char *name, const char *fallback);

/* The whole file, NUL-terminated, its length in *size (size may be NULL);
 * NULL if unreadable. */
char *tool_read_file(const char *path, size_t *size);
bool tool_write_file(const char *path, const void *data, size_t size);

/* A tool's files in a new folder $TMPDIR/accl-<what>-XXXXXX (or under /tmp):
 * its input, its output and its log, by path. */
typedef struct ToolFiles {
    char *dir, *in, *out, *log;
} ToolFiles;

/* Makes the folder and writes the input file `in_name` from data (size
 * bytes); `out_name` names the output. False with *err set, nothing left. */
bool tool_files_open(ToolFiles *t, const char *what, const char *in_name, const char *out_name,
                     const void *data, size_t size, char **err);
/* Removes the files and the folder; frees the paths. */
void tool_files_close(ToolFiles *t);

/* Runs argv (argv[0] a path) with stdout and stderr into the file `log` and
 * waits. False with *err set when it cannot start; else true with its exit
 * status in *exit_code (-1 when it did not exit normally). */
bool tool_run(char *const *argv, const char *log, int *exit_code, char **err);

#endif
