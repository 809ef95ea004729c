/* Tables over the shared enums (util/lang.h). */
#include "util/lang.h"

#include <stdio.h>

static const char *const elem_names[] = {
#define X(e, s, bytes, cls, ctype) s,
    ACC_ELEM_TYPES(X)
#undef X
};
static const int elem_bytes[] = {
#define X(e, s, bytes, cls, ctype) bytes,
    ACC_ELEM_TYPES(X)
#undef X
};
static const char elem_class[] = {
#define X(e, s, bytes, cls, ctype) #cls[0],
    ACC_ELEM_TYPES(X)
#undef X
};

const char *elem_type_name(ElemType t) { return t >= 0 && t < ELEM_COUNT ? elem_names[t] : "literal"; }
int elem_type_bytes(ElemType t) { return t >= 0 && t < ELEM_COUNT ? elem_bytes[t] : 0; }
bool elem_is_float(ElemType t) { return t >= 0 && t < ELEM_COUNT && elem_class[t] == 'F'; }
bool elem_is_int(ElemType t)
{
    return t >= 0 && t < ELEM_COUNT && (elem_class[t] == 'S' || elem_class[t] == 'U');
}
bool elem_is_signed(ElemType t) { return t >= 0 && t < ELEM_COUNT && elem_class[t] == 'S'; }

static const struct {
    const char *vendor, *arch;
    int wave;
    int64_t shared_limit;
} targets[] = {
#define X(e, vendor, arch, wave, smem, optin) {vendor, arch, wave, optin},
    ACC_TARGETS(X)
#undef X
};

const char *target_vendor(Target t) { return targets[t].vendor; }
const char *target_arch(Target t) { return targets[t].arch; }
int target_wave_size(Target t) { return targets[t].wave; }
int64_t target_shared_limit(Target t) { return t >= 0 && t < TARGET_COUNT ? targets[t].shared_limit : 0; }
bool target_is_gpu(Target t) { return t != TARGET_CPU; }

const char *target_spelling(Target t, char *buf, size_t n)
{
    const char *arch = target_arch(t);
    snprintf(buf, n, "%s%s%s", target_vendor(t), *arch ? ":" : "", arch);
    return buf;
}

static const struct {
    const char *name;
    int arity;
} intrinsics[] = {
#define X(e, s, arity) {s, arity},
    ACC_INTRINSICS(X)
#undef X
};

const char *intrinsic_name(Intrinsic i) { return intrinsics[i].name; }
int intrinsic_arity(Intrinsic i) { return intrinsics[i].arity; }

static const struct {
    const char *unit, *axis;
} hw_indices[] = {
#define X(e, unit, axis, ok) {unit, axis},
    ACC_HW_INDICES(X)
#undef X
};

const char *hw_unit(HwIndex h) { return hw_indices[h].unit; }
const char *hw_axis(HwIndex h) { return hw_indices[h].axis; }
