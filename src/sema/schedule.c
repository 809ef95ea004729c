/* Schedule checks: kernels and targets, params, assumes, and each nest's
 * clauses replayed once, in order, into a SchedRecord (see schedule.h).
 *
 *   schedule KERNEL for TARGET { param ...; assume ...; in LABEL { clause* } fuse ... into ...; }
 *
 * Every clause is checked against the loop list that exists when it applies;
 * target-dependent checks use the actual target when the schedule applies to
 * it, and the schedule's own target otherwise. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sema/schedule.h"

enum { MAX_UNROLL = 64, NAME_BUF = 512 };

/* Every loop name the nest has had, for "must be new". */
typedef struct LoopName {
    const char *name;
    Span span;
} LoopName;

typedef struct SchedCtx {
    Diag *d;
    Arena *a;
    const SemaOptions *opt;
    Schedule *s;
    Kernel *k;
    Target target;          /* the target the checks use */
    const char **sizes;
    int nsizes;
} SchedCtx;

typedef struct NestCtx {
    SchedCtx *c;
    Nest *nest;
    SchedState st;
    PtrVec names;           /* LoopName * */
    SchedDeriv *derivs;     /* NestSched.derivs in the making */
    int nderivs, cap_derivs;
    Span hw_span[HW_COUNT]; /* where each hw index was bound; hi == 0 when not */
    const char *hw_loop[HW_COUNT];
    bool threads_reported;
} NestCtx;

/* ---- small helpers ---- */

static void pos_of(const SchedCtx *c, Span s, int *line, int *col)
{
    source_position(c->d->src, s.lo, line, col);
}

/* The span of a clause's keyword. */
static Span keyword_span(const Clause *cl)
{
    return (Span){cl->span.lo, cl->span.lo + (uint32_t)strlen(clause_keyword(cl->kind))};
}

static void suggest(SchedCtx *c, Span span, const char *name, const char *const *cands, int n)
{
    const char *s = diag_suggest(name, cands, n);
    if (s)
        diag_note(c->d, span, "did you mean '%s'?", s);
}

static const char *nest_desc(const Nest *n, char *buf, size_t len)
{
    if (n->label.name)
        snprintf(buf, len, "nest '%s'", n->label.name);
    else
        snprintf(buf, len, "this nest");
    return buf;
}

/* ---- extents ---- */

static const Extent *ext_const(Arena *a, int64_t v)
{
    Extent *e = ARENA_NEW(a, Extent);
    e->kind = EXT_CONST;
    e->value = v < 0 ? 0 : v;
    return e;
}

static const Extent *ext_range(Arena *a, const Iter *it)
{
    if (it->lo->kind == EXPR_INT && it->hi->kind == EXPR_INT)
        return ext_const(a, it->hi->ival - it->lo->ival);
    Extent *e = ARENA_NEW(a, Extent);
    e->kind = EXT_RANGE;
    e->iter = it;
    return e;
}

static const Extent *ext_ceildiv(Arena *a, const Extent *x, int64_t f)
{
    if (x->kind == EXT_CONST)
        /* Not im_ceil_div: a negative (empty) extent truncates toward zero
         * here, as it always has, where the ceiling would stay negative. */
        return ext_const(a, (x->value + f - 1) / f);
    Extent *e = ARENA_NEW(a, Extent);
    e->kind = EXT_CEILDIV;
    e->a = x;
    e->value = f;
    return e;
}

static const Extent *ext_mul(Arena *a, const Extent *x, const Extent *y)
{
    if (x->kind == EXT_CONST && y->kind == EXT_CONST)
        return ext_const(a, x->value * y->value);
    Extent *e = ARENA_NEW(a, Extent);
    e->kind = EXT_MUL;
    e->a = x;
    e->b = y;
    return e;
}

typedef struct StrBuf {
    char *p;
    size_t n, len;
} StrBuf;

static void sb_printf(StrBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(StrBuf *b, const char *fmt, ...)
{
    if (b->len >= b->n)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(b->p + b->len, b->n - b->len, fmt, ap);
    va_end(ap);
    if (w > 0)
        b->len += (size_t)w;
}

static int op_prec(Op op)
{
    switch (op) {
    case OP_OR: return 1;
    case OP_AND: return 2;
    case OP_EQ: case OP_NE: case OP_LT: case OP_LE: case OP_GT: case OP_GE: return 3;
    case OP_ADD: case OP_SUB: return 4;
    default: return 5;
    }
}

/* Integer expressions (bounds, assumes) as written, with only the parentheses
 * that precedence needs. */
static void expr_str(StrBuf *b, const Expr *e, int prec)
{
    switch (e->kind) {
    case EXPR_INT: sb_printf(b, "%lld", (long long)e->ival); break;
    case EXPR_NAME: sb_printf(b, "%s", e->name.name); break;
    case EXPR_UNARY:
        sb_printf(b, "%s", op_spelling(e->op));
        expr_str(b, e->args[0], 6);
        break;
    case EXPR_BINARY: {
        int p = op_prec(e->op);
        if (p < prec)
            sb_printf(b, "(");
        expr_str(b, e->args[0], p);
        sb_printf(b, " %s ", op_spelling(e->op));
        expr_str(b, e->args[1], p + 1);
        if (p < prec)
            sb_printf(b, ")");
        break;
    }
    default: sb_printf(b, "?"); break;
    }
}

/* prec 5 asks for an operand of '*' or '/': compound extents get parentheses. */
static void extent_sb(StrBuf *b, const Extent *e, int prec)
{
    switch (e->kind) {
    case EXT_CONST: sb_printf(b, "%lld", (long long)e->value); break;
    case EXT_RANGE:
        if (e->iter->lo->kind == EXPR_INT && e->iter->lo->ival == 0) {
            expr_str(b, e->iter->hi, prec);
        } else {
            if (prec > 4)
                sb_printf(b, "(");
            expr_str(b, e->iter->hi, 4);
            sb_printf(b, " - ");
            expr_str(b, e->iter->lo, 5);
            if (prec > 4)
                sb_printf(b, ")");
        }
        break;
    case EXT_CEILDIV:
        sb_printf(b, "ceil(");
        extent_sb(b, e->a, 5);
        sb_printf(b, "/%lld)", (long long)e->value);
        break;
    case EXT_MUL:
        if (prec > 5)
            sb_printf(b, "(");
        extent_sb(b, e->a, 5);
        sb_printf(b, "*");
        extent_sb(b, e->b, 6);
        if (prec > 5)
            sb_printf(b, ")");
        break;
    }
}

static const char *extent_str(const Extent *e, char *buf, size_t n)
{
    StrBuf b = {buf, n, 0};
    buf[0] = '\0';
    extent_sb(&b, e, 0);
    return buf;
}

/* ---- kernels: sizes, tensors, accesses ---- */

static void collect_sizes(SchedCtx *c, const Expr *e, PtrVec *out)
{
    if (e->kind == EXPR_NAME) {
        for (int i = 0; i < out->len; i++)
            if (strcmp(out->items[i], e->name.name) == 0)
                return;
        vec_push(c->a, out, (void *)e->name.name);
        return;
    }
    for (int i = 0; i < e->nargs; i++)
        collect_sizes(c, e->args[i], out);
}

static void kernel_sizes(SchedCtx *c)
{
    PtrVec v = {0};
    for (int i = 0; i < c->k->nparams; i++)
        for (int j = 0; j < c->k->params[i]->type.ndims; j++)
            collect_sizes(c, c->k->params[i]->type.dims[j], &v);
    c->sizes = (const char **)v.items;
    c->nsizes = v.len;
}

static bool expr_uses(const Expr *e, const char *name)
{
    if ((e->kind == EXPR_NAME || e->kind == EXPR_INDEX) && strcmp(e->name.name, name) == 0)
        return true;
    for (int i = 0; i < e->nargs; i++)
        if (expr_uses(e->args[i], name))
            return true;
    return false;
}

static bool stmts_use(const StmtList *l, const char *name)
{
    for (int i = 0; i < l->len; i++) {
        const Stmt *s = l->items[i];
        if ((s->lhs && expr_uses(s->lhs, name)) || (s->rhs && expr_uses(s->rhs, name)) ||
            (s->cond && expr_uses(s->cond, name)) || stmts_use(&s->then_body, name) ||
            stmts_use(&s->else_body, name) || stmts_use(&s->body, name))
            return true;
    }
    return false;
}

static int find_nest(const Kernel *k, const char *label)
{
    for (int i = 0; i < k->nnests; i++)
        if (k->nests[i]->label.name && strcmp(k->nests[i]->label.name, label) == 0)
            return i;
    return -1;
}

/* Whether nest n, or a nest that a `fuse ... into n` clause of the schedule
 * names, accesses `name`: a fused nest uses n's caches (the fuse clauses are
 * checked after the nests' clauses, so they are read as written here).
 * *fused: some such clause names n. */
static bool nest_or_fused_use(const SchedCtx *c, const Nest *n, const char *name, bool *fused)
{
    *fused = false;
    bool used = stmts_use(&n->body, name);
    for (int i = 0; n->label.name && i < c->s->nfuses && !used; i++) {
        const FuseInto *fu = c->s->fuses[i];
        if (strcmp(fu->into.name, n->label.name) != 0)
            continue;
        *fused = true;
        for (int j = 0; j < fu->nnests && !used; j++) {
            int p = find_nest(c->k, fu->nests[j].name);
            used = p >= 0 && stmts_use(&c->k->nests[p]->body, name);
        }
    }
    return used;
}

/* Reports an unknown nest label with a suggestion; returns its index or -1. */
static int lookup_nest(SchedCtx *c, const Ident *id)
{
    int i = find_nest(c->k, id->name);
    if (i >= 0)
        return i;
    diag_error(c->d, id->span, "unknown nest '%s' in kernel '%s'", id->name, c->k->name.name);
    const char **labels = ARENA_ARRAY(c->a, const char *, c->k->nnests);
    int n = 0;
    for (int j = 0; j < c->k->nnests; j++)
        if (c->k->nests[j]->label.name)
            labels[n++] = c->k->nests[j]->label.name;
    suggest(c, id->span, id->name, labels, n);
    return -1;
}

/* ---- targets ---- */

static Target check_target(SchedCtx *c, Schedule *s)
{
    const char *v = s->vendor.name;
    if (strcmp(v, "cpu") == 0) {
        if (s->arch.name) {
            diag_error(c->d, s->arch.span, "target 'cpu' takes no architecture");
            return TARGET_NONE;
        }
        return TARGET_CPU;
    }
    if (strcmp(v, "nvidia") != 0 && strcmp(v, "amd") != 0) {
        diag_error(c->d, s->vendor.span, "unknown target '%s'; expected cpu, nvidia or amd", v);
        static const char *const vendors[] = {"cpu", "nvidia", "amd"};
        suggest(c, s->vendor.span, v, vendors, 3);
        return TARGET_NONE;
    }
    const char *archs[TARGET_COUNT];
    int narchs = 0;
    char list[NAME_BUF];
    StrBuf b = {list, sizeof list, 0};
    list[0] = '\0';
    for (int t = 0; t < TARGET_COUNT; t++)
        if (strcmp(target_vendor((Target)t), v) == 0)
            archs[narchs++] = target_arch((Target)t);
    for (int i = 0; i < narchs; i++)
        sb_printf(&b, "%s%s", i == 0 ? "" : i == narchs - 1 ? " or " : ", ", archs[i]);
    if (!s->arch.name) {
        diag_error(c->d, s->vendor.span, "target '%s' needs an architecture: %s", v, list);
        return TARGET_NONE;
    }
    for (int t = 0; t < TARGET_COUNT; t++)
        if (strcmp(target_vendor((Target)t), v) == 0 &&
            strcmp(target_arch((Target)t), s->arch.name) == 0)
            return (Target)t;
    diag_error(c->d, s->arch.span, "unknown %s architecture '%s'; expected %s", v, s->arch.name,
               list);
    suggest(c, s->arch.span, s->arch.name, archs, narchs);
    return TARGET_NONE;
}

/* ---- params and factors ---- */

static SchedParam *find_param(const Schedule *s, const char *name)
{
    for (int i = 0; i < s->nparams; i++)
        if (strcmp(s->params[i]->name.name, name) == 0)
            return s->params[i];
    return NULL;
}

static void check_params(SchedCtx *c, bool applies)
{
    Schedule *s = c->s;
    for (int i = 0; i < s->nparams; i++) {
        SchedParam *p = s->params[i];
        SchedParam *first = find_param(s, p->name.name);
        if (first != p) {
            diag_error(c->d, p->name.span, "param '%s' is already defined", p->name.name);
            diag_note(c->d, first->name.span, "first defined here");
            continue;
        }
        bool in_set = false;
        for (int j = 0; j < p->nset; j++) {
            in_set |= p->set[j] == p->value;
            for (int k = 0; k < j; k++)
                if (p->set[k] == p->set[j]) {
                    diag_error(c->d, p->set_span, "duplicate value %lld in the set of '%s'",
                               (long long)p->set[j], p->name.name);
                    break;
                }
        }
        if (p->set && !in_set)
            diag_error(c->d, p->value_span, "default %lld of '%s' is not in its set",
                       (long long)p->value, p->name.name);
        if (!applies)
            continue;
        for (int j = 0; j < c->opt->nparams; j++)
            if (strcmp(c->opt->params[j].name, p->name.name) == 0)
                p->value = c->opt->params[j].value;
    }
}

/* A factor is a positive literal or a param of this schedule; sets its value. */
static bool resolve_factor(SchedCtx *c, Factor *f)
{
    if (f->param) {
        SchedParam *p = find_param(c->s, f->param);
        if (!p) {
            diag_error(c->d, f->span, "unknown param '%s'", f->param);
            const char **names = ARENA_ARRAY(c->a, const char *, c->s->nparams);
            for (int i = 0; i < c->s->nparams; i++)
                names[i] = c->s->params[i]->name.name;
            suggest(c, f->span, f->param, names, c->s->nparams);
            return false;
        }
        f->value = p->value;
    }
    if (f->value <= 0) {
        diag_error(c->d, f->span, "factor must be positive, got %lld", (long long)f->value);
        return false;
    }
    return true;
}

/* ---- assume: sizes, params, integer literals, arithmetic, comparisons, && ---- */

static bool is_comparison(Op op) { return op >= OP_EQ && op <= OP_GE; }

static void check_assume_expr(SchedCtx *c, const Expr *e, bool want_bool)
{
    switch (e->kind) {
    case EXPR_INT:
        if (want_bool)
            diag_error(c->d, e->span, "an assume must be a comparison");
        return;
    case EXPR_NAME: {
        const char *n = e->name.name;
        bool size = false;
        for (int i = 0; i < c->nsizes; i++)
            size |= strcmp(c->sizes[i], n) == 0;
        if (size || find_param(c->s, n)) {
            if (want_bool)
                diag_error(c->d, e->span, "an assume must be a comparison");
            return;
        }
        const char *what = NULL;
        for (int i = 0; i < c->k->nparams && !what; i++)
            if (strcmp(c->k->params[i]->name.name, n) == 0)
                what = c->k->params[i]->type.is_tensor ? "a tensor" : "a scalar parameter";
        for (int i = 0; i < c->k->nvars && !what; i++)
            if (strcmp(c->k->vars[i]->name.name, n) == 0)
                what = "a var";
        for (int i = 0; i < c->k->nnests && !what; i++)
            for (int j = 0; j < c->k->nests[i]->niters; j++)
                if (strcmp(c->k->nests[i]->iters[j]->name.name, n) == 0)
                    what = "a loop index";
        if (what) {
            diag_error(c->d, e->span, "'%s' is %s; an assume may use only sizes, params and literals",
                       n, what);
            return;
        }
        diag_error(c->d, e->span, "unknown name '%s' in assume", n);
        int np = c->s->nparams;
        const char **cands = ARENA_ARRAY(c->a, const char *, c->nsizes + np + 1);
        for (int i = 0; i < c->nsizes; i++)
            cands[i] = c->sizes[i];
        for (int i = 0; i < np; i++)
            cands[c->nsizes + i] = c->s->params[i]->name.name;
        suggest(c, e->span, n, cands, c->nsizes + np);
        return;
    }
    case EXPR_UNARY:
        if (e->op == OP_NEG && !want_bool) {
            check_assume_expr(c, e->args[0], false);
            return;
        }
        break;
    case EXPR_BINARY:
        if (e->op == OP_AND && want_bool) {
            check_assume_expr(c, e->args[0], true);
            check_assume_expr(c, e->args[1], true);
            return;
        }
        if (is_comparison(e->op) && want_bool) {
            check_assume_expr(c, e->args[0], false);
            check_assume_expr(c, e->args[1], false);
            return;
        }
        if (e->op >= OP_ADD && e->op <= OP_REM) {
            if (want_bool) {
                diag_error(c->d, e->span, "an assume must be a comparison");
                return;
            }
            check_assume_expr(c, e->args[0], false);
            check_assume_expr(c, e->args[1], false);
            return;
        }
        diag_error(c->d, e->span, "'%s' is not allowed in an assume", op_spelling(e->op));
        return;
    default: break;
    }
    diag_error(c->d, e->span,
               "an assume may use only sizes, params, integer literals, arithmetic, "
               "comparisons and '&&'");
}

/* ---- the loop list of one nest ---- */

static int loop_index(const SchedState *st, const char *name)
{
    for (int i = 0; i < st->nloops; i++)
        if (strcmp(st->loops[i].name, name) == 0)
            return i;
    return -1;
}

/* The first clause that replaced a loop named name (split, tile, fuse), from
 * the derivations; *pos: the loop's position among the clause's loops. */
static const Clause *replaced_by(const SchedDeriv *dv, int n, const char *name, int *pos)
{
    for (int e = 0; e < n; e++)
        for (int k = 0; k < 2 && dv[e].kind != DERIV_WRITTEN; k++) {
            if (dv[e].from[k] < 0 || strcmp(dv[dv[e].from[k]].name, name) != 0)
                continue;
            const Clause *cl = dv[e].clause;
            for (*pos = 0; strcmp(cl->loops[*pos].name, name) != 0; (*pos)++)
                ;
            return cl;
        }
    return NULL;
}

/* "'i' was split into 'io', 'ii' at 3:5" at a later use of a replaced name;
 * false when no clause replaced it. */
static bool describe_replacement(SchedCtx *c, const SchedDeriv *dv, int n, const char *name, Span at)
{
    int pos;
    const Clause *cl = replaced_by(dv, n, name, &pos);
    if (!cl)
        return false;
    char outs[NAME_BUF];
    StrBuf b = {outs, sizeof outs, 0};
    outs[0] = '\0';
    const char *verb = "split";
    if (cl->kind == CLAUSE_TILE) {
        verb = "tiled";
        sb_printf(&b, "'%s', '%s'", cl->outs[pos].name, cl->outs[cl->nloops + pos].name);
    } else if (cl->kind == CLAUSE_FUSE) {
        verb = "fused";
        sb_printf(&b, "'%s'", cl->outs[0].name);
    } else {
        sb_printf(&b, "'%s', '%s'", cl->outs[0].name, cl->outs[1].name);
    }
    int line, col;
    pos_of(c, cl->span, &line, &col);
    diag_error(c->d, at, "'%s' was %s into %s at %d:%d", name, verb, outs, line, col);
    return true;
}

/* The index of the loop id names now, or -1 after an error. */
static int lookup_loop(NestCtx *nc, const Ident *id)
{
    int i = loop_index(&nc->st, id->name);
    if (i >= 0)
        return i;
    if (describe_replacement(nc->c, nc->derivs, nc->nderivs, id->name, id->span))
        return -1;
    char nd[NAME_BUF];
    diag_error(nc->c->d, id->span, "unknown loop '%s' in %s", id->name,
               nest_desc(nc->nest, nd, sizeof nd));
    const char **names = ARENA_ARRAY(nc->c->a, const char *, nc->st.nloops);
    for (int j = 0; j < nc->st.nloops; j++)
        names[j] = nc->st.loops[j].name;
    suggest(nc->c, id->span, id->name, names, nc->st.nloops);
    return -1;
}

/* Looks up every loop a clause names; false after an error. */
static bool lookup_loops(NestCtx *nc, const Clause *cl, int *idx)
{
    bool ok = true;
    for (int i = 0; i < cl->nloops; i++) {
        idx[i] = lookup_loop(nc, &cl->loops[i]);
        ok &= idx[i] >= 0;
    }
    return ok;
}

static bool distinct_loops(NestCtx *nc, const Clause *cl, const int *idx)
{
    for (int i = 0; i < cl->nloops; i++)
        for (int j = 0; j < i; j++)
            if (idx[i] == idx[j]) {
                diag_error(nc->c->d, cl->loops[i].span, "'%s' is listed twice",
                           cl->loops[i].name);
                return false;
            }
    return true;
}

/* A name a clause creates must be new in its nest. */
static bool new_names(NestCtx *nc, const Clause *cl)
{
    bool ok = true;
    for (int i = 0; i < cl->nouts; i++) {
        const Ident *o = &cl->outs[i];
        const LoopName *prev = NULL;
        for (int j = 0; j < nc->names.len && !prev; j++)
            if (strcmp(((LoopName *)nc->names.items[j])->name, o->name) == 0)
                prev = nc->names.items[j];
        if (prev) {
            char nd[NAME_BUF];
            diag_error(nc->c->d, o->span, "loop name '%s' is already used in %s", o->name,
                       nest_desc(nc->nest, nd, sizeof nd));
            diag_note(nc->c->d, prev->span, "'%s' first defined here", o->name);
            ok = false;
            continue;
        }
        LoopName *n = ARENA_NEW(nc->c->a, LoopName);
        n->name = o->name;
        n->span = o->span;
        vec_push(nc->c->a, &nc->names, n);
    }
    return ok;
}

/* Each loop kind and the clause that gives it. */
static const struct {
    LoopKind loop;
    ClauseKind clause;
} kind_clauses[] = {
    {LOOP_PARALLEL, CLAUSE_PARALLEL}, {LOOP_VECTORIZED, CLAUSE_VECTORIZE},
    {LOOP_UNROLLED, CLAUSE_UNROLL},   {LOOP_BOUND, CLAUSE_BIND},
    {LOOP_TENSORIZED, CLAUSE_TENSORIZE},
};

enum { NKIND_CLAUSES = sizeof kind_clauses / sizeof kind_clauses[0] };

/* A kind or clause outside the table is a compiler bug: stop rather than read past it. */
ClauseKind sched_kind_clause(LoopKind k)
{
    for (int i = 0; i < NKIND_CLAUSES; i++)
        if (kind_clauses[i].loop == k)
            return kind_clauses[i].clause;
    abort();
}

/* The kind clause k gives; k is one of kind_clauses. */
static LoopKind clause_loop_kind(ClauseKind k)
{
    for (int i = 0; i < NKIND_CLAUSES; i++)
        if (kind_clauses[i].clause == k)
            return kind_clauses[i].loop;
    abort();
}

static const char *kind_desc(const SchedLoop *l, char *buf, size_t n)
{
    switch (l->kind) {
    case LOOP_SERIAL: snprintf(buf, n, "serial"); break;
    case LOOP_PARALLEL: snprintf(buf, n, "parallel"); break;
    case LOOP_VECTORIZED: snprintf(buf, n, "vectorized"); break;
    case LOOP_UNROLLED: snprintf(buf, n, "unrolled"); break;
    case LOOP_TENSORIZED: snprintf(buf, n, "tensorized"); break;
    case LOOP_BOUND: snprintf(buf, n, "bound to %s.%s", hw_unit(l->hw), hw_axis(l->hw)); break;
    }
    return buf;
}

static const SchedCache *cache_at(const SchedState *st, const char *loop)
{
    for (int i = 0; i < st->ncaches; i++)
        if (strcmp(st->caches[i].at, loop) == 0)
            return &st->caches[i];
    return NULL;
}

/* split, tile and fuse replace a loop: only a plain serial loop with no cache. */
static bool replaceable(NestCtx *nc, const Clause *cl, int i, int li)
{
    const SchedLoop *l = &nc->st.loops[li];
    const Span at = cl->loops[i].span;
    int line, col;
    char kd[64];
    if (l->kind != LOOP_SERIAL) {
        pos_of(nc->c, l->kind_span, &line, &col);
        diag_error(nc->c->d, at, "cannot %s '%s' after it was made %s at %d:%d",
                   clause_keyword(cl->kind), l->name, kind_desc(l, kd, sizeof kd), line, col);
        return false;
    }
    const SchedCache *ca = cache_at(&nc->st, l->name);
    if (ca) {
        pos_of(nc->c, ca->span, &line, &col);
        diag_error(nc->c->d, at, "cannot %s '%s' after a cache was placed at it at %d:%d",
                   clause_keyword(cl->kind), l->name, line, col);
        return false;
    }
    return true;
}

/* A loop made as d describes (d.name and d.span unset: name's). */
static SchedLoop new_loop(NestCtx *nc, const Ident *name, const Extent *e, SchedDeriv d)
{
    if (nc->nderivs == nc->cap_derivs) {
        nc->cap_derivs = nc->cap_derivs ? 2 * nc->cap_derivs : 16;
        SchedDeriv *grown = ARENA_ARRAY(nc->c->a, SchedDeriv, nc->cap_derivs);
        if (nc->nderivs)
            memcpy(grown, nc->derivs, sizeof *grown * (size_t)nc->nderivs);
        nc->derivs = grown;
    }
    d.name = name->name;
    d.span = name->span;
    nc->derivs[nc->nderivs] = d;
    return (SchedLoop){.name = name->name, .extent = e, .hw = HW_NONE, .deriv = nc->nderivs++};
}

/* Replaces loops [at, at+nold) with the n loops in repl. */
static void splice(NestCtx *nc, int at, int nold, const SchedLoop *repl, int n)
{
    SchedState *st = &nc->st;
    SchedLoop *loops = ARENA_ARRAY(nc->c->a, SchedLoop, st->nloops - nold + n);
    memcpy(loops, st->loops, sizeof *loops * (size_t)at);
    memcpy(loops + at, repl, sizeof *loops * (size_t)n);
    memcpy(loops + at + n, st->loops + at + nold, sizeof *loops * (size_t)(st->nloops - at - nold));
    st->loops = loops;
    st->nloops += n - nold;
}

static bool resolve_factors(NestCtx *nc, Clause *cl)
{
    bool ok = true;
    for (int i = 0; i < cl->nfactors; i++)
        ok &= resolve_factor(nc->c, &cl->factors[i]);
    return ok;
}

/* split L by F -> o, i; tile a, b by Fa, Fb -> ao, bo, ai, bi */
static void apply_tile(NestCtx *nc, Clause *cl, int *idx)
{
    Diag *d = nc->c->d;
    int n = cl->nloops;
    bool ok = resolve_factors(nc, cl);
    if (cl->nfactors != n) {
        diag_error(d, cl->factors[0].span, "tile of %d loops needs %d factors, got %d", n, n,
                   cl->nfactors);
        ok = false;
    }
    if (cl->nouts != 2 * n) {
        diag_error(d, cl->outs[0].span, "tile of %d loops needs %d names, got %d", n, 2 * n,
                   cl->nouts);
        ok = false;
    }
    if (!ok || !lookup_loops(nc, cl, idx) || !distinct_loops(nc, cl, idx))
        return;
    for (int i = 1; i < n; i++)
        if (idx[i] != idx[0] + i) {
            diag_error(d, cl->loops[i].span,
                       "tile needs adjacent loops in order; '%s' is not directly inside '%s'",
                       cl->loops[i].name, cl->loops[i - 1].name);
            return;
        }
    for (int i = 0; i < n; i++)
        if (!replaceable(nc, cl, i, idx[i]))
            return;
    if (!new_names(nc, cl))
        return;
    SchedLoop *repl = ARENA_ARRAY(nc->c->a, SchedLoop, 2 * n);
    for (int i = 0; i < n; i++) {
        const SchedLoop *l = &nc->st.loops[idx[i]];
        int64_t f = cl->factors[i].value;
        repl[i] = new_loop(nc, &cl->outs[i], ext_ceildiv(nc->c->a, l->extent, f),
                           (SchedDeriv){DERIV_OUTER, .from = {l->deriv, -1}, .factor = f, .clause = cl});
        repl[n + i] = new_loop(nc, &cl->outs[n + i], ext_const(nc->c->a, f),
                               (SchedDeriv){DERIV_INNER, .from = {l->deriv, -1}, .factor = f, .clause = cl});
    }
    splice(nc, idx[0], n, repl, 2 * n);
}

/* reorder x, y, z: the listed loops take the positions they hold, in the listed order. */
static void apply_reorder(NestCtx *nc, Clause *cl, int *idx)
{
    if (!lookup_loops(nc, cl, idx) || !distinct_loops(nc, cl, idx))
        return;
    int n = cl->nloops;
    int *pos = ARENA_ARRAY(nc->c->a, int, n);
    memcpy(pos, idx, sizeof *pos * (size_t)n);
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && pos[j - 1] > pos[j]; j--) {
            int t = pos[j];
            pos[j] = pos[j - 1];
            pos[j - 1] = t;
        }
    SchedLoop *loops = ARENA_ARRAY(nc->c->a, SchedLoop, nc->st.nloops);
    memcpy(loops, nc->st.loops, sizeof *loops * (size_t)nc->st.nloops);
    for (int i = 0; i < n; i++)
        loops[pos[i]] = nc->st.loops[idx[i]];
    nc->st.loops = loops;
}

/* fuse a, b -> f */
static void apply_fuse(NestCtx *nc, Clause *cl, int *idx)
{
    Diag *d = nc->c->d;
    if (cl->nloops != 2) {
        diag_error(d, cl->loops[0].span, "fuse needs 2 loops, got %d", cl->nloops);
        return;
    }
    if (cl->nouts != 1) {
        diag_error(d, cl->outs[0].span, "fuse makes 1 loop, got %d names", cl->nouts);
        return;
    }
    if (!lookup_loops(nc, cl, idx) || !distinct_loops(nc, cl, idx))
        return;
    if (idx[1] != idx[0] + 1) {
        diag_error(d, cl->loops[1].span,
                   "fuse needs adjacent loops in order; '%s' is not directly inside '%s'",
                   cl->loops[1].name, cl->loops[0].name);
        return;
    }
    if (!replaceable(nc, cl, 0, idx[0]) || !replaceable(nc, cl, 1, idx[1]) || !new_names(nc, cl))
        return;
    const SchedLoop *a = &nc->st.loops[idx[0]], *b = &nc->st.loops[idx[1]];
    SchedLoop f = new_loop(nc, &cl->outs[0], ext_mul(nc->c->a, a->extent, b->extent),
                           (SchedDeriv){DERIV_FUSED, .from = {a->deriv, b->deriv}, .clause = cl});
    splice(nc, idx[0], 2, &f, 1);
}

/* Whether cl is allowed on the target (ACC_CLAUSES); reported when not. */
static bool on_its_target(NestCtx *nc, const Clause *cl)
{
    ClauseTargets t = clause_targets(cl->kind);
    bool gpu = target_is_gpu(nc->c->target);
    if (t == TARGETS_ANY || gpu == (t == TARGETS_GPU))
        return true;
    if (gpu && cl->kind == CLAUSE_PARALLEL)
        diag_error(nc->c->d, keyword_span(cl), "'parallel' is not allowed on GPU targets; use 'bind'");
    else if (cl->kind == CLAUSE_BIND)
        diag_error(nc->c->d, keyword_span(cl), "'bind' is not allowed on the CPU; use 'parallel'");
    else
        diag_error(nc->c->d, keyword_span(cl), "'%s' is not allowed on the CPU",
                   clause_keyword(cl->kind));
    return false;
}

/* Gives loop li a kind; a loop takes one. */
static bool set_kind(NestCtx *nc, const Clause *cl, const Ident *id, int li, LoopKind k, HwIndex hw)
{
    SchedLoop *l = &nc->st.loops[li];
    if (l->kind != LOOP_SERIAL) {
        char kd[64];
        int line, col;
        pos_of(nc->c, l->kind_span, &line, &col);
        diag_error(nc->c->d, id->span, "'%s' is already %s at %d:%d", l->name,
                   kind_desc(l, kd, sizeof kd), line, col);
        return false;
    }
    l->kind = k;
    l->hw = hw;
    l->kind_span = cl->span;
    return true;
}

static void copy_loops(NestCtx *nc)
{
    SchedLoop *loops = ARENA_ARRAY(nc->c->a, SchedLoop, nc->st.nloops);
    memcpy(loops, nc->st.loops, sizeof *loops * (size_t)nc->st.nloops);
    nc->st.loops = loops;
}

static bool constant_extent(NestCtx *nc, const Ident *id, const SchedLoop *l, const char *why)
{
    if (l->extent->kind == EXT_CONST)
        return true;
    char buf[NAME_BUF];
    diag_error(nc->c->d, id->span, "'%s' needs a constant extent for %s; its extent is %s",
               l->name, why, extent_str(l->extent, buf, sizeof buf));
    return false;
}

/* unroll L; vectorize L; parallel L */
static void apply_simple(NestCtx *nc, Clause *cl, int *idx)
{
    if (!on_its_target(nc, cl))
        return;
    if (!lookup_loops(nc, cl, idx) || !distinct_loops(nc, cl, idx))
        return;
    copy_loops(nc);
    for (int i = 0; i < cl->nloops; i++) {
        SchedLoop *l = &nc->st.loops[idx[i]];
        LoopKind k = clause_loop_kind(cl->kind);
        if (k != LOOP_PARALLEL && !constant_extent(nc, &cl->loops[i], l, clause_keyword(cl->kind)))
            continue;
        if (k == LOOP_UNROLLED && l->extent->value > MAX_UNROLL) {
            diag_error(nc->c->d, cl->loops[i].span,
                       "unroll needs an extent of at most %d; '%s' has %lld", MAX_UNROLL, l->name,
                       (long long)l->extent->value);
            continue;
        }
        set_kind(nc, cl, &cl->loops[i], idx[i], k, HW_NONE);
    }
}

static HwIndex resolve_hw(NestCtx *nc, HwRef *h)
{
    if (strcmp(h->unit.name, "warpgroup") == 0) {
        diag_error(nc->c->d, h->unit.span, "'warpgroup' is not yet supported");
        return HW_NONE;
    }
    const char *names[HW_COUNT];
    char bufs[HW_COUNT][32];
    int n = 0;
    for (int i = 0; i < HW_COUNT; i++) {
        if (strcmp(hw_unit((HwIndex)i), "warpgroup") == 0)
            continue;
        if (strcmp(hw_unit((HwIndex)i), h->unit.name) == 0 &&
            strcmp(hw_axis((HwIndex)i), h->axis.name) == 0)
            return (HwIndex)i;
        snprintf(bufs[n], sizeof bufs[n], "%s.%s", hw_unit((HwIndex)i), hw_axis((HwIndex)i));
        names[n] = bufs[n];
        n++;
    }
    char written[NAME_BUF];
    snprintf(written, sizeof written, "%s.%s", h->unit.name, h->axis.name);
    diag_error(nc->c->d, h->span, "unknown hardware index '%s'", written);
    suggest(nc->c, h->span, written, names, n);
    return HW_NONE;
}

static bool hw_is(HwIndex h, const char *unit) { return strcmp(hw_unit(h), unit) == 0; }

/* Threads per block: wave size x warp extents when warps are bound, else the
 * product of thread extents. Reported once per nest. */
static void check_threads(NestCtx *nc, Span at)
{
    if (nc->threads_reported)
        return;
    bool warps = false;
    for (int i = 0; i < nc->st.nloops; i++)
        warps |= nc->st.loops[i].kind == LOOP_BOUND && hw_is(nc->st.loops[i].hw, "warp");
    char text[NAME_BUF];
    StrBuf b = {text, sizeof text, 0};
    text[0] = '\0';
    int64_t total = 1;
    int nfactors = 0;
    if (warps) {
        total = target_wave_size(nc->c->target);
        sb_printf(&b, "%lld", (long long)total);
        nfactors = 1;
    }
    for (int i = 0; i < nc->st.nloops; i++) {
        const SchedLoop *l = &nc->st.loops[i];
        if (l->kind != LOOP_BOUND || l->extent->kind != EXT_CONST ||
            !hw_is(l->hw, warps ? "warp" : "thread"))
            continue;
        total *= l->extent->value;
        sb_printf(&b, "%s%lld", nfactors++ ? " x " : "", (long long)l->extent->value);
        if (total > (int64_t)1 << 40)
            break;
    }
    if (total <= TARGET_MAX_THREADS)
        return;
    char tn[32];
    diag_error(nc->c->d, at, "%s = %lld threads per block exceeds the limit of %d on %s", text,
               (long long)total, TARGET_MAX_THREADS, target_spelling(nc->c->target, tn, sizeof tn));
    nc->threads_reported = true;
}

/* bind L -> block.x, ... */
static void apply_bind(NestCtx *nc, Clause *cl, int *idx)
{
    if (!on_its_target(nc, cl))
        return;
    if (!lookup_loops(nc, cl, idx) || !distinct_loops(nc, cl, idx))
        return;
    copy_loops(nc);
    Span last = cl->span;
    for (int i = 0; i < cl->nloops; i++) {
        HwRef *h = &cl->hw[i];
        HwIndex hw = h->index = resolve_hw(nc, h);
        if (hw == HW_NONE)
            continue;
        if (nc->hw_loop[hw]) {
            char nd[NAME_BUF];
            diag_error(nc->c->d, h->span, "'%s.%s' is already bound in %s", hw_unit(hw),
                       hw_axis(hw), nest_desc(nc->nest, nd, sizeof nd));
            diag_note(nc->c->d, nc->hw_span[hw], "bound to '%s' here", nc->hw_loop[hw]);
            continue;
        }
        SchedLoop *l = &nc->st.loops[idx[i]];
        if (!hw_is(hw, "block") && l->extent->kind != EXT_CONST) {
            char buf[NAME_BUF];
            diag_error(nc->c->d, cl->loops[i].span,
                       "'%s' is bound to %s.%s and needs a constant extent; its extent is %s",
                       l->name, hw_unit(hw), hw_axis(hw), extent_str(l->extent, buf, sizeof buf));
            continue;
        }
        if (!set_kind(nc, cl, &cl->loops[i], idx[i], LOOP_BOUND, hw))
            continue;
        nc->hw_loop[hw] = l->name;
        nc->hw_span[hw] = h->span;
        if (!hw_is(hw, "block"))
            last = h->span;
    }
    check_threads(nc, last);
}

/* The span of a word inside a clause, for reserved words the AST keeps as flags. */
static Span word_span(const SchedCtx *c, const Clause *cl, const char *word)
{
    const char *text = c->d->src->text;
    size_t n = strlen(word);
    for (uint32_t i = cl->span.lo; i + n <= cl->span.hi; i++)
        if (memcmp(text + i, word, n) == 0)
            return (Span){i, i + (uint32_t)n};
    return cl->span;
}

static void *find_tensor(const Kernel *k, const char *name, bool *is_var, bool *scalar)
{
    *is_var = *scalar = false;
    for (int i = 0; i < k->nparams; i++)
        if (strcmp(k->params[i]->name.name, name) == 0) {
            *scalar = !k->params[i]->type.is_tensor;
            return k->params[i];
        }
    for (int i = 0; i < k->nvars; i++)
        if (strcmp(k->vars[i]->name.name, name) == 0) {
            *is_var = true;
            return k->vars[i];
        }
    return NULL;
}

/* cache X at L in shared|registers [pad P | swizzle] */
static void apply_cache(NestCtx *nc, Clause *cl, int *idx)
{
    SchedCtx *c = nc->c;
    const Kernel *k = c->k;
    bool is_var, scalar;
    void *decl = find_tensor(k, cl->tensor.name, &is_var, &scalar);
    if (!decl) {
        diag_error(c->d, cl->tensor.span, "unknown tensor '%s' in kernel '%s'", cl->tensor.name,
                   k->name.name);
        const char **names = ARENA_ARRAY(c->a, const char *, k->nparams + k->nvars);
        int n = 0;
        for (int i = 0; i < k->nparams; i++)
            if (k->params[i]->type.is_tensor)
                names[n++] = k->params[i]->name.name;
        for (int i = 0; i < k->nvars; i++)
            names[n++] = k->vars[i]->name.name;
        suggest(c, cl->tensor.span, cl->tensor.name, names, n);
        return;
    }
    if (scalar) {
        diag_error(c->d, cl->tensor.span, "'%s' is a scalar; only tensors can be cached",
                   cl->tensor.name);
        return;
    }
    bool fused;
    if (!nest_or_fused_use(c, nc->nest, cl->tensor.name, &fused)) {
        char nd[NAME_BUF];
        if (fused)
            diag_error(c->d, cl->tensor.span, "%s does not access '%s', nor does a nest fused into it",
                       nest_desc(nc->nest, nd, sizeof nd), cl->tensor.name);
        else
            diag_error(c->d, cl->tensor.span, "%s does not access '%s'",
                       nest_desc(nc->nest, nd, sizeof nd), cl->tensor.name);
        return;
    }
    if (!lookup_loops(nc, cl, idx))
        return;
    if (cl->has_pad && !resolve_factors(nc, cl))
        return;
    if (cl->mem != MEM_SHARED && (cl->has_pad || cl->swizzle)) {
        diag_error(c->d, cl->has_pad ? word_span(c, cl, "pad") : word_span(c, cl, "swizzle"),
                   "'%s' is only for shared caches", cl->has_pad ? "pad" : "swizzle");
        return;
    }
    for (int i = 0; i < nc->st.ncaches; i++) {
        const SchedCache *o = &nc->st.caches[i];
        if (strcmp(o->tensor, cl->tensor.name) == 0 && strcmp(o->at, cl->loops[0].name) == 0) {
            diag_error(c->d, cl->tensor.span, "'%s' is already cached at '%s'", o->tensor, o->at);
            diag_note(c->d, o->span, "previous cache here");
            return;
        }
    }
    SchedCache *caches = ARENA_ARRAY(c->a, SchedCache, nc->st.ncaches + 1);
    if (nc->st.ncaches)
        memcpy(caches, nc->st.caches, sizeof *caches * (size_t)nc->st.ncaches);
    caches[nc->st.ncaches] = (SchedCache){.tensor = cl->tensor.name,
                                          .decl = decl,
                                          .is_var = is_var,
                                          .at = nc->st.loops[idx[0]].name,
                                          .mem = cl->mem,
                                          .pad = cl->has_pad ? cl->factors[0].value : 0,
                                          .swizzle = cl->swizzle,
                                          .span = cl->span};
    nc->st.caches = caches;
    nc->st.ncaches++;
}

/* pipeline L stages S [specialize] */
static void apply_pipeline(NestCtx *nc, Clause *cl, int *idx)
{
    SchedCtx *c = nc->c;
    if (cl->specialize) {
        diag_error(c->d, word_span(c, cl, "specialize"), "'specialize' is not yet supported");
        return;
    }
    if (!on_its_target(nc, cl) || !lookup_loops(nc, cl, idx) || !resolve_factors(nc, cl))
        return;
    SchedLoop *l = &nc->st.loops[idx[0]];
    if (cl->factors[0].value < 2) {
        diag_error(c->d, cl->factors[0].span, "pipeline needs at least 2 stages, got %lld",
                   (long long)cl->factors[0].value);
        return;
    }
    if (!cache_at(&nc->st, l->name)) {
        diag_error(c->d, cl->loops[0].span, "no cache is at '%s'; declare one before 'pipeline'",
                   l->name);
        return;
    }
    if (l->stages) {
        int line, col;
        pos_of(c, l->pipeline_span, &line, &col);
        diag_error(c->d, cl->loops[0].span, "'%s' is already pipelined at %d:%d", l->name, line,
                   col);
        return;
    }
    copy_loops(nc);
    l = &nc->st.loops[idx[0]];
    l->stages = cl->factors[0].value;
    l->pipeline_span = cl->span;
}

typedef enum MmaFamily { MMA_NVIDIA, MMA_CDNA, MMA_RDNA, MMA_NONE } MmaFamily;

static MmaFamily mma_family(Target t)
{
    if (t == TARGET_GFX90A || t == TARGET_GFX942)
        return MMA_CDNA;
    if (t == TARGET_GFX1100)
        return MMA_RDNA;
    if (t == TARGET_CPU)
        return MMA_NONE;
    return MMA_NVIDIA;
}

static const struct {
    MmaFamily family;
    int m, n, k;
    const char *inputs;     /* "f16/bf16" or "i8" */
} mma_shapes[] = {
#define X(fam, name, m, n, k, cls) {MMA_##fam, m, n, k, cls},
    ACC_MMA_SHAPES(X)
#undef X
};

/* The element type a tensor access reads (a tensor or var), or ELEM_NONE. */
static ElemType stored_type(const Expr *e)
{
    if (e->kind != EXPR_INDEX || !e->decl)
        return ELEM_NONE;
    if (e->sym == SYM_TENSOR)
        return ((const Param *)e->decl)->type.elem;
    if (e->sym == SYM_VAR)
        return ((const VarDecl *)e->decl)->type.elem;
    return ELEM_NONE;
}

/* An operand of the product: A[..] or T(A[..]). */
static const Expr *mma_operand(const Expr *e)
{
    if (e->kind == EXPR_CAST && e->nargs == 1)
        e = e->args[0];
    return e->kind == EXPR_INDEX ? e : NULL;
}

/* The body tensorize replaces is one C[..] += T(A[..]) * T(B[..]) whose inputs
 * are of the instruction's class: f16/bf16 into f32, or i8 into i32. */
static bool check_tensorize_body(NestCtx *nc, const Clause *cl, const char *inputs)
{
    SchedCtx *c = nc->c;
    const StmtList *body = &nc->nest->body;
    const Stmt *s = body->len == 1 ? body->items[0] : NULL;
    const Expr *a = NULL, *b = NULL;
    if (s && s->kind == STMT_ASSIGN && s->aop == ASSIGN_ADD && s->lhs->kind == EXPR_INDEX &&
        s->rhs->kind == EXPR_BINARY && s->rhs->op == OP_MUL) {
        a = mma_operand(s->rhs->args[0]);
        b = mma_operand(s->rhs->args[1]);
    }
    if (!a || !b) {
        diag_error(c->d, keyword_span(cl),
                   "tensorize needs a nest body of one 'C[..] += T(A[..]) * T(B[..])'");
        return false;
    }
    bool want_i8 = strcmp(inputs, "i8") == 0;
    ElemType acc = want_i8 ? ELEM_I32 : ELEM_F32;
    const Expr *ops[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        ElemType t = stored_type(ops[i]);
        bool ok = want_i8 ? t == ELEM_I8 : (t == ELEM_F16 || t == ELEM_BF16);
        if (!ok) {
            diag_error(c->d, keyword_span(cl), "'%s' is %s, but this mma shape takes %s inputs",
                       ops[i]->name.name, elem_type_name(t), inputs);
            diag_note(c->d, ops[i]->span, "'%s' is read here", ops[i]->name.name);
            return false;
        }
    }
    if (stored_type(a) != stored_type(b)) {
        diag_error(c->d, keyword_span(cl), "'%s' is %s but '%s' is %s; mma inputs must have one type",
                   a->name.name, elem_type_name(stored_type(a)), b->name.name,
                   elem_type_name(stored_type(b)));
        diag_note(c->d, b->span, "'%s' is read here", b->name.name);
        return false;
    }
    if (stored_type(s->lhs) != acc) {
        diag_error(c->d, keyword_span(cl), "'%s' is %s, but mma with %s inputs accumulates in %s",
                   s->lhs->name.name, elem_type_name(stored_type(s->lhs)), inputs,
                   elem_type_name(acc));
        diag_note(c->d, s->lhs->span, "'%s' is written here", s->lhs->name.name);
        return false;
    }
    return true;
}

/* tensorize a, b, c with mma(M, N, K) */
static void apply_tensorize(NestCtx *nc, Clause *cl, int *idx)
{
    SchedCtx *c = nc->c;
    if (strcmp(cl->instr.name, "wgmma") == 0) {
        diag_error(c->d, cl->instr.span, "'wgmma' is not yet supported");
        return;
    }
    if (strcmp(cl->instr.name, "mma") != 0) {
        diag_error(c->d, cl->instr.span, "unknown instruction '%s'; expected 'mma'",
                   cl->instr.name);
        return;
    }
    if (!on_its_target(nc, cl))
        return;
    if (cl->nloops != 3) {
        diag_error(c->d, cl->loops[0].span, "tensorize needs 3 loops, got %d", cl->nloops);
        return;
    }
    bool ok = true;
    for (int i = 0; i < 3; i++)
        ok &= resolve_factor(c, &cl->shape[i]);
    if (!ok || !lookup_loops(nc, cl, idx) || !distinct_loops(nc, cl, idx))
        return;
    if (nc->st.tensorize.on) {
        int line, col;
        pos_of(c, nc->st.tensorize.span, &line, &col);
        diag_error(c->d, keyword_span(cl), "this nest is already tensorized at %d:%d", line, col);
        return;
    }
    int64_t m = cl->shape[0].value, n = cl->shape[1].value, k = cl->shape[2].value;
    MmaFamily fam = mma_family(c->target);
    bool allowed = false;
    const char *inputs = NULL;
    char list[NAME_BUF];
    StrBuf b = {list, sizeof list, 0};
    list[0] = '\0';
    for (size_t i = 0; i < sizeof mma_shapes / sizeof mma_shapes[0]; i++) {
        if (mma_shapes[i].family != fam)
            continue;
        if (mma_shapes[i].m == m && mma_shapes[i].n == n && mma_shapes[i].k == k) {
            allowed = true;
            inputs = mma_shapes[i].inputs;
        }
        sb_printf(&b, "%smma(%d, %d, %d)", b.len ? ", " : "", mma_shapes[i].m, mma_shapes[i].n,
                  mma_shapes[i].k);
    }
    if (!allowed) {
        char tn[32];
        Span sp = {cl->instr.span.lo, cl->shape[2].span.hi + 1};
        diag_error(c->d, sp,
                   "mma(%lld, %lld, %lld) is not a shape of %s; its shapes are %s", (long long)m,
                   (long long)n, (long long)k, target_spelling(c->target, tn, sizeof tn), list);
        return;
    }
    for (int i = 0; i < 3; i++)
        if (idx[i] != nc->st.nloops - 3 + i) {
            diag_error(c->d, cl->loops[i].span,
                       "tensorize needs the three innermost loops in order; they are '%s', '%s', "
                       "'%s'",
                       nc->st.loops[nc->st.nloops - 3].name, nc->st.loops[nc->st.nloops - 2].name,
                       nc->st.loops[nc->st.nloops - 1].name);
            return;
        }
    for (int i = 0; i < 3; i++) {
        const SchedLoop *l = &nc->st.loops[idx[i]];
        if (!constant_extent(nc, &cl->loops[i], l, "tensorize"))
            return;
        if (l->extent->value != cl->shape[i].value) {
            diag_error(c->d, cl->loops[i].span, "'%s' has extent %lld, but mma(%lld, %lld, %lld) needs %lld",
                       l->name, (long long)l->extent->value, (long long)m, (long long)n,
                       (long long)k, (long long)cl->shape[i].value);
            return;
        }
    }
    if (!check_tensorize_body(nc, cl, inputs))
        return;
    copy_loops(nc);
    for (int i = 0; i < 3; i++)
        if (!set_kind(nc, cl, &cl->loops[i], idx[i], LOOP_TENSORIZED, HW_NONE))
            return;
    nc->st.tensorize = (SchedTensorize){.on = true,
                                        .loops = {cl->loops[0].name, cl->loops[1].name,
                                                  cl->loops[2].name},
                                        .m = m, .n = n, .k = k, .span = cl->span};
}

static void apply_clause(NestCtx *nc, Clause *cl)
{
    int *idx = ARENA_ARRAY(nc->c->a, int, cl->nloops + 1);
    switch (cl->kind) {
    case CLAUSE_SPLIT:
    case CLAUSE_TILE: apply_tile(nc, cl, idx); break;
    case CLAUSE_REORDER: apply_reorder(nc, cl, idx); break;
    case CLAUSE_FUSE: apply_fuse(nc, cl, idx); break;
    case CLAUSE_UNROLL:
    case CLAUSE_VECTORIZE:
    case CLAUSE_PARALLEL: apply_simple(nc, cl, idx); break;
    case CLAUSE_BIND: apply_bind(nc, cl, idx); break;
    case CLAUSE_CACHE: apply_cache(nc, cl, idx); break;
    case CLAUSE_PIPELINE: apply_pipeline(nc, cl, idx); break;
    case CLAUSE_TENSORIZE: apply_tensorize(nc, cl, idx); break;
    case CLAUSE_RFACTOR:
        diag_error(nc->c->d, keyword_span(cl), "'rfactor' is not yet supported");
        break;
    }
}

/* block.* loops are outermost: no unbound or other loop sits outside one. */
static void check_block_outermost(NestCtx *nc)
{
    int outer_other = -1;
    for (int i = 0; i < nc->st.nloops; i++) {
        const SchedLoop *l = &nc->st.loops[i];
        bool block = l->kind == LOOP_BOUND && hw_is(l->hw, "block");
        if (!block) {
            if (outer_other < 0)
                outer_other = i;
            continue;
        }
        if (outer_other >= 0) {
            diag_error(nc->c->d, nc->hw_span[l->hw],
                       "'%s' is bound to %s.%s but '%s' is outside it; block loops must be outermost",
                       l->name, hw_unit(l->hw), hw_axis(l->hw), nc->st.loops[outer_other].name);
            return;
        }
    }
}

static void replay_nest(SchedCtx *c, NestSched *ns, const InBlock *blk)
{
    NestCtx nc = {.c = c, .nest = ns->nest};
    Nest *n = ns->nest;
    nc.st.loops = ARENA_ARRAY(c->a, SchedLoop, n->niters);
    nc.st.nloops = n->niters;
    for (int i = 0; i < n->niters; i++) {
        nc.st.loops[i] = new_loop(&nc, &n->iters[i]->name, ext_range(c->a, n->iters[i]),
                                  (SchedDeriv){DERIV_WRITTEN, .from = {-1, -1}});
        LoopName *ln = ARENA_NEW(c->a, LoopName);
        ln->name = n->iters[i]->name.name;
        ln->span = n->iters[i]->name.span;
        vec_push(c->a, &nc.names, ln);
    }
    ns->start = nc.st;
    ns->block = blk;
    if (blk) {
        ns->steps = ARENA_ARRAY(c->a, SchedStep, blk->nclauses);
        ns->nsteps = blk->nclauses;
        for (int i = 0; i < blk->nclauses; i++) {
            apply_clause(&nc, blk->clauses[i]);
            ns->steps[i].clause = blk->clauses[i];
            ns->steps[i].after = nc.st;
        }
        check_block_outermost(&nc);
    }
    ns->derivs = nc.derivs;
    ns->nderivs = nc.nderivs;
}

const SchedState *sched_final(const NestSched *ns)
{
    return ns->nsteps ? &ns->steps[ns->nsteps - 1].after : &ns->start;
}

/* ---- fuse P, Q into R at L ---- */

static void check_fuse(SchedCtx *c, SchedRecord *r, const FuseInto *f)
{
    int into = lookup_nest(c, &f->into);
    int *idx = ARENA_ARRAY(c->a, int, f->nnests);
    bool ok = into >= 0;
    for (int i = 0; i < f->nnests; i++) {
        idx[i] = lookup_nest(c, &f->nests[i]);
        if (idx[i] < 0) {
            ok = false;
            continue;
        }
        for (int j = 0; j < i; j++)
            if (idx[j] == idx[i]) {
                diag_error(c->d, f->nests[i].span, "'%s' is listed twice", f->nests[i].name);
                idx[i] = -1;
                ok = false;
            }
        if (idx[i] >= 0 && idx[i] == into) {
            diag_error(c->d, f->nests[i].span, "cannot fuse '%s' into itself", f->nests[i].name);
            idx[i] = -1;
            ok = false;
        }
    }
    if (!ok)
        return;
    NestSched *rn = &r->nests[into];
    if (rn->fused_into >= 0) {
        diag_error(c->d, f->into.span, "'%s' is itself fused into '%s'; fuse into that nest",
                   f->into.name, c->k->nests[rn->fused_into]->label.name);
        return;
    }
    const SchedState *st = sched_final(rn);
    if (loop_index(st, f->at.name) < 0) {
        if (!describe_replacement(c, rn->derivs, rn->nderivs, f->at.name, f->at.span)) {
            diag_error(c->d, f->at.span, "unknown loop '%s' in nest '%s'", f->at.name,
                       f->into.name);
            const char **names = ARENA_ARRAY(c->a, const char *, st->nloops);
            for (int j = 0; j < st->nloops; j++)
                names[j] = st->loops[j].name;
            suggest(c, f->at.span, f->at.name, names, st->nloops);
        }
        return;
    }
    for (int i = 0; i < f->nnests; i++) {
        NestSched *pn = &r->nests[idx[i]];
        if (pn->fused_into >= 0) {
            int line, col;
            pos_of(c, pn->fuse->span, &line, &col);
            diag_error(c->d, f->nests[i].span, "'%s' is already fused into '%s' at %d:%d",
                       f->nests[i].name, c->k->nests[pn->fused_into]->label.name, line, col);
            continue;
        }
        bool has_fused = false;
        for (int j = 0; j < r->nnests; j++)
            has_fused |= r->nests[j].fused_into == idx[i];
        if (has_fused) {
            diag_error(c->d, f->nests[i].span,
                       "'%s' has nests fused into it and cannot be fused into '%s'",
                       f->nests[i].name, f->into.name);
            continue;
        }
        pn->fused_into = into;
        pn->fused_at = f->at.name;
        pn->fuse = f;
    }
}

/* ---- one schedule ---- */

static void check_blocks(SchedCtx *c, SchedRecord *r)
{
    Schedule *s = c->s;
    Kernel *k = c->k;
    const InBlock **of = ARENA_ARRAY(c->a, const InBlock *, k->nnests);
    for (int i = 0; i < s->nblocks; i++) {
        const InBlock *b = s->blocks[i];
        int n;
        if (!b->label.name) {
            if (k->nnests != 1) {
                diag_error(c->d, b->clauses[0]->span,
                           "clauses outside 'in' need a kernel with exactly one nest; '%s' has %d",
                           k->name.name, k->nnests);
                continue;
            }
            n = 0;
        } else if ((n = lookup_nest(c, &b->label)) < 0) {
            continue;
        }
        if (of[n]) {
            diag_error(c->d, b->label.name ? b->label.span : b->clauses[0]->span,
                       "clauses for %s%s%s are already given", k->nests[n]->label.name ? "nest '" : "",
                       k->nests[n]->label.name ? k->nests[n]->label.name : "this nest",
                       k->nests[n]->label.name ? "'" : "");
            diag_note(c->d, of[n]->label.name ? of[n]->label.span : of[n]->span, "previous clauses here");
            continue;
        }
        of[n] = b;
    }
    r->nnests = k->nnests;
    r->nests = ARENA_ARRAY(c->a, NestSched, k->nnests);
    for (int i = 0; i < k->nnests; i++) {
        r->nests[i].nest = k->nests[i];
        r->nests[i].fused_into = -1;
        replay_nest(c, &r->nests[i], of[i]);
    }
    for (int i = 0; i < s->nfuses; i++)
        check_fuse(c, r, s->fuses[i]);
}

static Kernel *find_kernel(SchedCtx *c, Program *p, Schedule *s)
{
    for (int i = 0; i < p->nkernels; i++)
        if (strcmp(p->kernels[i]->name.name, s->kernel.name) == 0)
            return p->kernels[i];
    diag_error(c->d, s->kernel.span, "unknown kernel '%s'", s->kernel.name);
    const char **names = ARENA_ARRAY(c->a, const char *, p->nkernels);
    for (int i = 0; i < p->nkernels; i++)
        names[i] = p->kernels[i]->name.name;
    suggest(c, s->kernel.span, s->kernel.name, names, p->nkernels);
    return NULL;
}

bool sched_check(Program *p, const SemaOptions *opt, Diag *d, Arena *a, Checked *out)
{
    int errors = d->nerrors;
    out->nrecords = p->nschedules;
    out->records = ARENA_ARRAY(a, SchedRecord *, p->nschedules);
    for (int i = 0; i < p->nschedules; i++) {
        Schedule *s = p->schedules[i];
        SchedRecord *r = out->records[i] = ARENA_NEW(a, SchedRecord);
        r->schedule = s;
        SchedCtx c = {.d = d, .a = a, .opt = opt, .s = s};
        s->kdecl = c.k = find_kernel(&c, p, s);
        s->target = check_target(&c, s);
        if (s->kdecl && s->target != TARGET_NONE)
            for (int j = 0; j < i; j++) {
                Schedule *o = p->schedules[j];
                if (o->kdecl == s->kdecl && o->target == s->target) {
                    char tn[32];
                    diag_error(d, s->target_span, "'%s' already has a schedule for %s",
                               s->kernel.name, target_spelling(s->target, tn, sizeof tn));
                    diag_note(d, o->target_span, "previous schedule here");
                    break;
                }
            }
        r->applies = s->target != TARGET_NONE && opt->target != TARGET_NONE &&
                     sema_schedule_applies(s->target, opt->target);
        r->checked_for = c.target = r->applies ? opt->target : s->target;
        /* --param was checked against the target compiled for: cpu when not given. */
        Target actual = opt->target == TARGET_NONE ? TARGET_CPU : opt->target;
        check_params(&c, s->target != TARGET_NONE && sema_schedule_applies(s->target, actual));
        if (!c.k || c.target == TARGET_NONE)
            continue;
        kernel_sizes(&c);
        for (int j = 0; j < s->nassumes; j++)
            check_assume_expr(&c, s->assumes[j], true);
        check_blocks(&c, r);
    }
    return d->nerrors == errors;
}

/* ---- --emit=schedule ---- */

static void dump_loops(FILE *out, const SchedState *st)
{
    char buf[NAME_BUF];
    for (int i = 0; i < st->nloops; i++) {
        const SchedLoop *l = &st->loops[i];
        fprintf(out, " %s[%s]", l->name, extent_str(l->extent, buf, sizeof buf));
        switch (l->kind) {
        case LOOP_SERIAL: break;
        case LOOP_PARALLEL:
        case LOOP_VECTORIZED:
        case LOOP_UNROLLED: fprintf(out, ":%s", clause_keyword(sched_kind_clause(l->kind))); break;
        case LOOP_TENSORIZED: fputs(":mma", out); break;
        case LOOP_BOUND: fprintf(out, ":%s.%s", hw_unit(l->hw), hw_axis(l->hw)); break;
        }
        if (l->stages)
            fprintf(out, ":stages=%lld", (long long)l->stages);
    }
    fputc('\n', out);
}

static void dump_caches(FILE *out, const SchedState *st)
{
    fputs("      caches:", out);
    for (int i = 0; i < st->ncaches; i++) {
        const SchedCache *ca = &st->caches[i];
        fprintf(out, "%s %s@%s %s", i ? "," : "", ca->tensor, ca->at,
                ca->mem == MEM_SHARED ? "shared" : "registers");
        if (ca->pad)
            fprintf(out, " pad %lld", (long long)ca->pad);
        if (ca->swizzle)
            fputs(" swizzle", out);
    }
    fputc('\n', out);
}

static void dump_schedule(FILE *out, const Source *src, const SchedRecord *r)
{
    const Schedule *s = r->schedule;
    char tn[32];
    fprintf(out, "schedule %s for %s", s->kernel.name, s->vendor.name);
    if (s->arch.name)
        fprintf(out, "(%s)", s->arch.name);
    fprintf(out, " (%s %s)\n", r->applies ? "applied to" : "checked for",
            target_spelling(r->checked_for, tn, sizeof tn));
    for (int i = 0; i < s->nparams; i++) {
        const SchedParam *p = s->params[i];
        fputs("  ", out);
        ast_print_sched_param(out, p);
        fputc('\n', out);
    }
    for (int i = 0; i < s->nassumes; i++) {
        char buf[NAME_BUF];
        StrBuf b = {buf, sizeof buf, 0};
        buf[0] = '\0';
        expr_str(&b, s->assumes[i], 0);
        fprintf(out, "  assume %s\n", buf);
    }
    for (int i = 0; i < r->nnests; i++) {
        const NestSched *ns = &r->nests[i];
        if (!ns->block)
            continue;
        fprintf(out, "  nest %s\n", ns->nest->label.name ? ns->nest->label.name : "(unlabelled)");
        fputs("    start:", out);
        dump_loops(out, &ns->start);
        for (int j = 0; j < ns->nsteps; j++) {
            const SchedStep *st = &ns->steps[j];
            int line, col;
            source_position(src, st->clause->span.lo, &line, &col);
            fprintf(out, "    %d:%d %s:", line, col, clause_keyword(st->clause->kind));
            dump_loops(out, &st->after);
            if (st->clause->kind == CLAUSE_CACHE && st->after.ncaches)
                dump_caches(out, &st->after);
        }
        const SchedTensorize *tz = &sched_final(ns)->tensorize;
        if (tz->on)
            fprintf(out, "    tensorize %s, %s, %s with mma(%lld, %lld, %lld)\n", tz->loops[0],
                    tz->loops[1], tz->loops[2], (long long)tz->m, (long long)tz->n,
                    (long long)tz->k);
    }
    for (int i = 0; i < r->nnests; i++) {
        const NestSched *ns = &r->nests[i];
        if (ns->fused_into >= 0)
            fprintf(out, "  fuse %s into %s at %s\n", ns->nest->label.name,
                    r->nests[ns->fused_into].nest->label.name, ns->fused_at);
    }
}

void sched_dump(FILE *out, const Source *src, const Checked *c)
{
    for (int i = 0; i < c->nrecords; i++)
        dump_schedule(out, src, c->records[i]);
}
