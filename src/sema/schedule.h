/* The schedule record: each nest's clauses replayed once, in order, with the
 * loop list after every clause. Lowering uses this record and never resolves
 * loop names again. */
#ifndef ACCL_SCHEDULE_H
#define ACCL_SCHEDULE_H

#include <stdio.h>

#include "sema/sema.h"

void sched_dump(FILE *out, const Source *src, const Checked *c);

#endif
