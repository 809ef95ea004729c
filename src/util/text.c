#include "util/text.h"

#include <stdlib.h>
#include <string.h>

void text_print_float(FILE *out, double v)
{
    char buf[64];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    fputs(buf, out);
    if (!strpbrk(buf, ".eEni"))
        fputs(".0", out);
}
