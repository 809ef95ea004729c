/* Kernel checks: names, types, shapes, bounds, write-before-read and
 * reductions, kernel by kernel; then the schedule checks (schedule.c).
 *
 *   sema.c        the entry point, kernel-level names (params, sizes, vars, labels)
 *   affine.c      affine expressions and the in-bounds prover
 *   check_expr.c  names and types in expressions; accesses
 *   check_nest.c  nests and statements: ranges, writes, ifs, reductions
 *
 * Decisions where the design is silent (to be copied into lang/SPEC.md):
 * - Names. Params, sizes and vars share one kernel-wide namespace; loop
 *   indices and lets add to it inside a nest. Any redefinition is an error,
 *   including a let in an inner block reusing an outer let's name; lets in
 *   sibling blocks may reuse a name. Intrinsics live in their own namespace
 *   (call syntax only), as do kernel names and nest labels.
 * - Sizes. Every bare name in a parameter's shape binds a size; Kernel.sizes
 *   lists them in order of first appearance. An expression dimension may use
 *   sizes bound anywhere in the parameter list. A name bound as a size cannot
 *   also be a parameter. Var shapes use sizes but never bind them. Expression
 *   dimensions of parameters and vars are known to be >= 0 when proving
 *   bounds (they are checked at call time); a constant negative dimension is
 *   an error. Scalar parameters are values, not sizes: they may not appear in
 *   shapes, ranges or subscripts.
 * - Literals take the type of their context; each integer literal must fit
 *   it (a negated literal is checked with its sign). Float constants (float
 *   literals, inf, pi) need a float context. With no context (an untyped
 *   `let`, both sides of a comparison untyped, a cast's argument), an integer
 *   literal is i64 and a float one f32; a cast's literal argument takes the
 *   cast's type where it can. `bool` is never numeric: true/false are bool.
 * - f16/bf16: reading an element, a conversion to f16/bf16 or a let declared
 *   f16/bf16 gives an f32 value (Expr.type is f32); storing an f32 into an
 *   f16/bf16 element rounds. `+=`, `-=`, `*=` into them are errors; `/=` and
 *   `=` are allowed.
 * - Intrinsics: all but abs, min and max need float arguments (an integer
 *   literal argument becomes a float). All arguments have one type.
 * - Subscripts, ranges and shapes must be affine (i64) in sizes, the indices
 *   (to the left, for ranges) and lets whose value is such an expression. A
 *   subscript that reads an element (A[B[i]]) or a scalar is an error: its
 *   bounds cannot be proven.
 * - Bounds are proven with the facts: lo <= i <= hi - 1 for each loop, the
 *   loop is not empty (lo <= hi - 1: accesses under it happen only then),
 *   conditions of enclosing ifs (comparisons of affine i64 expressions joined
 *   by &&; in an else branch the negation of a comparison, or of a || of
 *   comparisons), expression dimensions >= 0 and sizes >= 0. Anything else in
 *   a condition is ignored (which is safe).
 * - Write before read: a "full write" of an out tensor or var is an `=` that
 *   is not under an `if`, whose subscripts are distinct plain indices of the
 *   nest whose ranges are exactly 0..dim, in a nest whose other loops are
 *   never empty (hi - lo - 1 >= 0 for every size >= 0). Within one nest iteration, an
 *   element written with `=` may be read afterwards by the statements it
 *   encloses (same block or nested blocks) when the subscripts are the same
 *   affine expressions. A scalar var or `out` scalar parameter is fully
 *   written by an `=` not under an `if` in a nest whose loops are never empty,
 *   and a kernel that never writes its `out` scalar so is an error. Each tensor's
 *   read-before-write is reported once.
 * - Scalars a kernel writes (`out`, `inout`) are tensors of no dimensions
 *   (SYM_TENSOR, ndims 0): read and written without indices.
 * - Reductions: also `x = max(e, x)` and `min(e, x)`; x must be the same
 *   element as the target.
 */
#include <string.h>

#include "sema/schedule.h"
#include "sema/sema_internal.h"


const char *sema_name_kind(const Name *n)
{
    if (n->kind == SYM_TENSOR && !((const Param *)n->decl)->type.is_tensor)
        return "scalar parameter";
    return sema_kind_name(n->kind);
}

const char *sema_kind_name(SymKind k)
{
    switch (k) {
    case SYM_TENSOR: return "tensor parameter";
    case SYM_SCALAR: return "scalar parameter";
    case SYM_SIZE: return "size";
    case SYM_VAR: return "var";
    case SYM_INDEX: return "loop index";
    case SYM_LET: return "let";
    case SYM_NONE: break;
    }
    return "name";
}

Name *sema_lookup(SemaCtx *c, const char *name)
{
    for (int i = c->names.len - 1; i >= 0; i--) {
        Name *n = c->names.items[i];
        if (strcmp(n->name, name) == 0)
            return n;
    }
    return NULL;
}

/* Defines a name; a redefinition is reported and the new name shadows the
 * old one, so that later uses do not cascade into more errors. */
Name *sema_define(SemaCtx *c, const char *name, SymKind kind, void *decl, Span span)
{
    Name *old = sema_lookup(c, name);
    if (old) {
        diag_error(c->d, span, "'%s' is already defined as a %s", name, sema_name_kind(old));
        diag_note(c->d, old->span, "first defined here");
    }
    Name *n = ARENA_NEW(c->a, Name);
    n->name = name;
    n->kind = kind;
    n->decl = decl;
    n->span = span;
    n->elem = ELEM_I64;
    vec_push(c->a, &c->names, n);
    return n;
}

void sema_unknown_name(SemaCtx *c, const char *name, Span span, bool calls)
{
    const char *best;
    if (calls) {
        const char *cands[INTR_COUNT];
        for (int i = 0; i < INTR_COUNT; i++)
            cands[i] = intrinsic_name((Intrinsic)i);
        diag_error(c->d, span, "unknown function '%s'", name);
        best = diag_suggest(name, cands, INTR_COUNT);
    } else {
        const char **cands = ARENA_ARRAY(c->a, const char *, c->names.len + 1);
        for (int i = 0; i < c->names.len; i++)
            cands[i] = ((Name *)c->names.items[i])->name;
        diag_error(c->d, span, "unknown name '%s'", name);
        best = c->in_shape ? NULL : diag_suggest(name, cands, c->names.len);
    }
    if (best)
        diag_note(c->d, span, "did you mean '%s'?", best);
    if (c->in_shape && !calls)
        diag_note(c->d, span, "only a bare name in a parameter's shape binds a size (as in 'f32[%s]')",
                  name);
}

/* ---- shapes ---- */

/* Binds the bare names of a parameter's shape as sizes. */
static void bind_sizes(SemaCtx *c, PtrVec *sizes, Param *p)
{
    for (int i = 0; i < p->type.ndims; i++) {
        Expr *e = p->type.dims[i];
        if (e->kind != EXPR_NAME)
            continue;
        Name *n = sema_lookup(c, e->name.name);
        if (!n || n->kind != SYM_SIZE) {
            n = sema_define(c, e->name.name, SYM_SIZE, NULL, e->name.span);
            n->pos = sizes->len;
            Ident *id = ARENA_NEW(c->a, Ident);
            *id = e->name;
            vec_push(c->a, sizes, id);
        }
    }
}

/* grammar: type ::= TYPE [ exprs ]: each entry a literal, a size or an
 * affine expression of sizes. */
static void check_shape(SemaCtx *c, Name *n, TypeExpr *t)
{
    c->in_shape = true;
    n->elem = t->elem;
    n->ndims = t->ndims;
    n->dim_exprs = t->dims;
    n->dims = ARENA_ARRAY(c->a, Affine, t->ndims > 0 ? t->ndims : 1);
    for (int i = 0; i < t->ndims; i++) {
        Expr *e = t->dims[i];
        n->dims[i].ok = false;
        int ty = sema_expr(c, e, ELEM_I64);
        if (ty == TY_ERROR)
            continue;
        if (ty != ELEM_I64 || !sema_affine(c, e, &n->dims[i])) {
            diag_error(c->d, e->span,
                       "dimension %d of '%s' must be a literal, a size or an affine expression of sizes",
                       i, n->name);
            n->dims[i].ok = false;
            continue;
        }
        if (aff_is_const(&n->dims[i]) && n->dims[i].c < 0) {
            diag_error(c->d, e->span, "dimension %d of '%s' is negative (%lld)", i, n->name,
                       (long long)n->dims[i].c);
            n->dims[i].ok = false;
            continue;
        }
        if (e->kind != EXPR_NAME && !aff_is_const(&n->dims[i]))
            aff_system_push(&c->sys, &n->dims[i]);
    }
    c->in_shape = false;
}

static void check_kernel(SemaCtx *c, Kernel *k)
{
    c->k = k;
    c->names = (PtrVec){0};
    aff_system_init(&c->sys, c->a);

    /* Parameters and the sizes their shapes bind, in declaration order. */
    PtrVec sizes = {0};
    Name **pnames = ARENA_ARRAY(c->a, Name *, k->nparams + 1);
    for (int i = 0; i < k->nparams; i++) {
        Param *p = k->params[i];
        bind_sizes(c, &sizes, p);
        pnames[i] = sema_define(c, p->name.name, ast_param_is_buffer(p) ? SYM_TENSOR : SYM_SCALAR,
                                p, p->name.span);
        pnames[i]->mode = p->mode;
        pnames[i]->elem = p->type.elem;
    }
    k->nsizes = sizes.len;
    k->sizes = ARENA_ARRAY(c->a, Ident, sizes.len + 1);
    c->size_str = ARENA_ARRAY(c->a, const char *, sizes.len + 1);
    for (int i = 0; i < sizes.len; i++) {
        k->sizes[i] = *(Ident *)sizes.items[i];
        c->size_str[i] = k->sizes[i].name;
    }
    for (int i = 0; i < c->names.len; i++) {
        Name *n = c->names.items[i];
        if (n->kind == SYM_SIZE)
            n->decl = &k->sizes[n->pos];
    }
    for (int i = 0; i < k->nparams; i++)
        if (ast_param_is_buffer(k->params[i]))
            check_shape(c, pnames[i], &k->params[i]->type);

    for (int i = 0; i < k->nvars; i++) {
        VarDecl *v = k->vars[i];
        Name *n = sema_define(c, v->name.name, SYM_VAR, v, v->name.span);
        check_shape(c, n, &v->type);
    }
    c->nkernel_names = c->names.len;

    for (int i = 0; i < k->nnests; i++) {
        Nest *n = k->nests[i];
        for (int j = 0; j < i && n->label.name; j++) {
            Nest *m = k->nests[j];
            if (m->label.name && strcmp(m->label.name, n->label.name) == 0) {
                diag_error(c->d, n->label.span, "nest label '%s' is already used in kernel '%s'",
                           n->label.name, k->name.name);
                diag_note(c->d, m->label.span, "first defined here");
                break;
            }
        }
    }

    for (int i = 0; i < k->nnests; i++) {
        sema_check_nest(c, k->nests[i]);
        for (int j = 0; j < c->nkernel_names; j++) {
            Name *n = c->names.items[j];
            n->full |= n->full_pending;
            n->full_pending = false;
        }
    }
    /* An `out` scalar is the kernel's result: some nest must write it. */
    for (int i = 0; i < k->nparams; i++) {
        Param *p = k->params[i];
        if (!p->type.is_tensor && p->mode == MODE_OUT && !pnames[i]->full && !pnames[i]->reported)
            diag_error(c->d, p->name.span,
                       "'out' scalar '%s' may be left unwritten; write it with '=', not under "
                       "an 'if', in a nest that always runs (such as 'for z in 0..1'), or "
                       "declare it 'inout'",
                       p->name.name);
    }
}

bool sema_check(Program *p, const SemaOptions *opt, Diag *d, Arena *a, Checked *out)
{
    int before = d->nerrors;
    memset(out, 0, sizeof *out);
    out->program = p;
    for (int i = 0; i < p->nkernels; i++) {
        Kernel *k = p->kernels[i];
        for (int j = 0; j < i; j++) {
            if (strcmp(p->kernels[j]->name.name, k->name.name) == 0) {
                diag_error(d, k->name.span, "kernel '%s' is already defined", k->name.name);
                diag_note(d, p->kernels[j]->name.span, "first defined here");
                break;
            }
        }
    }
    for (int i = 0; i < p->nkernels; i++) {
        SemaCtx c;
        memset(&c, 0, sizeof c);
        c.d = d;
        c.a = a;
        c.prog = p;
        check_kernel(&c, p->kernels[i]);
    }
    if (d->nerrors != before)
        return false;
    sched_check(p, opt, d, a, out);
    return d->nerrors == before;
}
