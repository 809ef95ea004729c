/* `accl fmt ...`: the formatter's command line (src/driver/fmt_cmd.c). */
#ifndef ACCL_FMT_CMD_H
#define ACCL_FMT_CMD_H

/* argv[0] is "fmt". Returns the exit code: 0, 1 (errors in a file, or with
 * --check a file to change) or 2 (usage). */
int fmt_main(int argc, char **argv);

#endif
