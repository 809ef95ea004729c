/* Targets: names on the command line and in schedule headers, and which
 * schedule applies to which target. */
#include <string.h>

#include "sema/sema.h"

Target sema_parse_target(const char *s)
{
    if (strcmp(s, "cpu") == 0)
        return TARGET_CPU;
    const char *sep = strpbrk(s, ":(");
    if (!sep)
        return TARGET_NONE;
    size_t vlen = (size_t)(sep - s);
    const char *arch = sep + 1;
    size_t alen = strlen(arch);
    if (*sep == '(') {
        if (alen == 0 || arch[alen - 1] != ')')
            return TARGET_NONE;
        alen--;
    }
    for (int t = TARGET_CPU + 1; t < TARGET_COUNT; t++) {
        const char *v = target_vendor((Target)t), *a = target_arch((Target)t);
        if (strlen(v) == vlen && memcmp(v, s, vlen) == 0 && strlen(a) == alen &&
            memcmp(a, arch, alen) == 0)
            return (Target)t;
    }
    return TARGET_NONE;
}

bool sema_schedule_applies(Target written, Target actual)
{
    if (written == actual)
        return true;
    if (strcmp(target_vendor(written), "nvidia") != 0 ||
        strcmp(target_vendor(actual), "nvidia") != 0)
        return false;
    /* sm_90a schedules use sm_90a-only instructions. The table lists sms in order. */
    return written != TARGET_SM_90A && written < actual;
}

Schedule *sema_select_schedule(Program *p, Kernel *k, Target t)
{
    Schedule *best = NULL;
    for (int i = 0; i < p->nschedules; i++) {
        Schedule *s = p->schedules[i];
        if (s->kdecl != k || s->target == TARGET_NONE || !sema_schedule_applies(s->target, t))
            continue;
        if (!best || s->target > best->target)
            best = s;
    }
    return best;
}
