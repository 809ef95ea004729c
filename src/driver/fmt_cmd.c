/* accl fmt [-w | --check] FILE...: the canonical layout (lang/SPEC.md, Layout).
 * Each file is parsed first; one with errors is reported and left untouched. */
#include "driver/fmt_cmd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "driver/driver.h"
#include "fmt/fmt.h"

typedef enum FmtMode { FMT_PRINT, FMT_WRITE, FMT_CHECK } FmtMode;

static const char fmt_usage_text[] =
    "usage: accl fmt [options] FILE...   (FILE may be '-' for standard input)\n"
    "\n"
    "Prints each FILE in the canonical layout (lang/SPEC.md, Layout) to standard output.\n"
    "\n"
    "  -w                      rewrite each FILE whose layout changes, in place (atomically)\n"
    "  --check                 write nothing; list each FILE whose layout would change\n"
    "  --help                  print this help\n"
    "\n"
    "exit status: 0 success; 1 errors in a file, or with --check a file would change;\n"
    "2 usage errors\n";

static void usage_error(const char *fmt, const char *arg)
{
    fputs("accl: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(run 'accl fmt --help' for the options)\n", stderr);
}

/* Writes text over path through a temporary file beside it, keeping its mode. */
static int write_in_place(const char *path, const char *text, size_t len)
{
    struct stat st;
    Output out;
    if (!output_open(&out, path))
        return EXIT_INPUT;
    if (stat(path, &st) == 0)
        fchmod(fileno(out.f), st.st_mode & 07777);
    bool ok = fwrite(text, 1, len, out.f) == len;
    if (!ok)
        fprintf(stderr, "accl: error: cannot write '%s': %s\n", path, strerror(errno));
    return output_close(&out, ok) ? 0 : EXIT_INPUT;
}

/* Formats one file as the mode says; returns its exit code. */
static int fmt_file(const char *path, FmtMode mode)
{
    Frontend fe;
    int rc = frontend_load(&fe, path, TARGET_CPU, false, NULL, 0, COLOR_AUTO, FE_PARSE);
    char *text = NULL;
    size_t len = 0;
    if (rc == 0 && !fmt_source(&fe.src, &fe.arena, &text, &len)) {
        fprintf(stderr, "accl: error: internal error: formatting '%s' changed its tokens\n",
                fe.src.name);
        rc = EXIT_INPUT;
    }
    if (rc == 0) {
        bool changed = len != fe.src.len || memcmp(text, fe.src.text, len) != 0;
        if (mode == FMT_PRINT) {
            fwrite(text, 1, len, stdout);
            rc = fflush(stdout) == 0 ? 0 : EXIT_INPUT;
        } else if (mode == FMT_CHECK && changed) {
            printf("%s\n", fe.src.name);
            rc = EXIT_INPUT;
        } else if (mode == FMT_WRITE && changed) {
            rc = write_in_place(path, text, len);
        }
    }
    free(text);
    frontend_free(&fe);
    return rc;
}

int fmt_main(int argc, char **argv)
{
    FmtMode mode = FMT_PRINT;
    bool write = false, check = false, stdin_named = false;
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(fmt_usage_text, stdout);
            return 0;
        } else if (strcmp(a, "-w") == 0) {
            write = true;
        } else if (strcmp(a, "--check") == 0) {
            check = true;
        } else if (a[0] == '-' && a[1] != '\0') {
            usage_error("unknown option '%s'", a);
            return EXIT_USAGE;
        } else {
            stdin_named |= strcmp(a, "-") == 0;
            nfiles++;
        }
    }
    if (write && check) {
        usage_error("%s", "-w and --check cannot be combined");
        return EXIT_USAGE;
    }
    if (write && stdin_named) {
        usage_error("%s", "-w cannot rewrite standard input");
        return EXIT_USAGE;
    }
    if (nfiles == 0) {
        usage_error("%s", "no input file");
        return EXIT_USAGE;
    }
    mode = write ? FMT_WRITE : check ? FMT_CHECK : FMT_PRINT;
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-") == 0 || a[0] != '-') {
            int r = fmt_file(a, mode);
            rc = r > rc ? r : rc;
        }
    }
    return rc;
}
