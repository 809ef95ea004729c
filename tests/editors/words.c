/* Prints the word lists of src/parser/langdefs.h, one category a line:
 * "NAME word word ...". The editor-grammar tests compare them with the words
 * each grammar lists (tests/editors/run.sh). Targets hold vendors and archs. */
#include <stdio.h>
#include <string.h>

#include "parser/langdefs.h"

/* Prints s unless an earlier entry of the same list spelled it (vendors repeat). */
static void print_once(const char *const *list, size_t i)
{
    if (list[i][0] == '\0')
        return;
    for (size_t j = 0; j < i; j++)
        if (strcmp(list[j], list[i]) == 0)
            return;
    printf(" %s", list[i]);
}

static void print_list(const char *name, const char *const *list, size_t n)
{
    printf("%s", name);
    for (size_t i = 0; i < n; i++)
        print_once(list, i);
    printf("\n");
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void print_keywords(const char *name, const char *category)
{
    static const char *const words[][2] = {
#define X(tok, s, cat) {s, #cat},
        ACC_KEYWORDS(X)
#undef X
    };
    printf("%s", name);
    for (size_t i = 0; i < COUNT(words); i++)
        if (strcmp(words[i][1], category) == 0)
            printf(" %s", words[i][0]);
    printf("\n");
}

int main(void)
{
    static const char *const types[] = {
#define X(e, s, bytes, cls, ctype) s,
        ACC_ELEM_TYPES(X)
#undef X
    };
    static const char *const intrinsics[] = {
#define X(e, s, arity) s,
        ACC_INTRINSICS(X)
#undef X
    };
    static const char *const hardware[] = {
#define X(e, unit, axis, ok) unit "." axis,
        ACC_HW_INDICES(X)
#undef X
    };
    static const char *const targets[] = {
#define X(e, vendor, arch, wave, smem, optin) vendor, arch,
        ACC_TARGETS(X)
#undef X
    };
    static const char *const shapes[] = {
#define X(family, s, m, n, k, cls) s,
        ACC_MMA_SHAPES(X)
#undef X
    };
    print_keywords("decl", "DECL");
    print_keywords("clause", "CLAUSE");
    print_keywords("const", "CONST");
    print_list("types", types, COUNT(types));
    print_list("intrinsics", intrinsics, COUNT(intrinsics));
    print_list("hardware", hardware, COUNT(hardware));
    print_list("targets", targets, COUNT(targets));
    print_list("shapes", shapes, COUNT(shapes));
    return 0;
}
