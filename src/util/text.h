/* Printing shared by every dump. */
#ifndef ACCL_TEXT_H
#define ACCL_TEXT_H

#include <stdio.h>

/* v in the shortest decimal form that reads back as the same double, always
 * with a '.', an exponent, "inf" or "nan" so it reads as a float. */
void text_print_float(FILE *out, double v);

#endif
