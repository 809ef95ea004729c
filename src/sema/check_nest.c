/* Nests and their statements: index ranges, assignments and what they may
 * write, lets, ifs and the facts their conditions give, reductions, and the
 * full writes that make out tensors and vars readable in later nests. */
#include <string.h>

#include "sema/sema_internal.h"

static void check_stmts(SemaCtx *c, StmtList *l);

/* The node of e that names `name`, or NULL. */
static Expr *find_name(Expr *e, const char *name)
{
    for (;;) {  /* loops down the first operand: left chains are long */
        if ((e->kind == EXPR_NAME || e->kind == EXPR_INDEX) && strcmp(e->name.name, name) == 0)
            return e;
        if (e->nargs == 0)
            return NULL;
        for (int i = 1; i < e->nargs; i++) {
            Expr *f = find_name(e->args[i], name);
            if (f)
                return f;
        }
        e = e->args[0];
    }
}

/* Whether e reads the tensor or var decl. */
static bool reads_decl(const Expr *e, const void *decl)
{
    for (;;) {  /* loops down the first operand: left chains are long */
        if ((e->kind == EXPR_NAME || e->kind == EXPR_INDEX) && e->decl == decl)
            return true;
        if (e->nargs == 0)
            return false;
        for (int i = 1; i < e->nargs; i++)
            if (reads_decl(e->args[i], decl))
                return true;
        e = e->args[0];
    }
}

/* grammar: iter ::= IDENT in expr .. expr; a bound is affine in sizes and
 * the indices to its left. */
static bool check_bound(SemaCtx *c, Nest *n, int p, Expr *b, Affine *out)
{
    for (int q = p; q < n->niters; q++) {
        Expr *f = find_name(b, n->iters[q]->name.name);
        if (f && !sema_lookup(c, f->name.name)) {
            diag_error(c->d, f->span,
                       "the range of '%s' cannot use '%s': a bound may use only the indices to its left",
                       n->iters[p]->name.name, f->name.name);
            return false;
        }
    }
    int t = sema_expr(c, b, ELEM_I64);
    if (t == TY_ERROR)
        return false;
    if (t != ELEM_I64 || !sema_affine(c, b, out)) {
        diag_error(c->d, b->span, "loop bound must be an affine expression of sizes and outer indices");
        return false;
    }
    return true;
}

static bool is_minmax_of(SemaCtx *c, const Stmt *st, const Expr **other)
{
    const Expr *r = st->rhs;
    if (r->kind != EXPR_CALL || r->nargs != 2 ||
        (r->intrinsic != INTR_MIN && r->intrinsic != INTR_MAX) || r->type == (ElemType)TY_ERROR)
        return false;
    for (int i = 0; i < 2; i++) {
        const Expr *x = r->args[i];
        if (x->kind != st->lhs->kind || x->decl != st->lhs->decl || x->nargs != st->lhs->nargs)
            continue;
        bool same = true;
        for (int j = 0; j < x->nargs && same; j++) {
            Affine p, q;
            same = sema_affine(c, x->args[j], &p) && sema_affine(c, st->lhs->args[j], &q) &&
                   aff_equal(&p, &q);
        }
        if (same) {
            *other = r->args[1 - i];
            return true;
        }
    }
    return false;
}

/* A reduction (design: Reductions): x += e, x -= e, x *= e, x = max(x, e),
 * x = min(x, e), where some loop of the nest does not index x and e does
 * not read x. */
static bool is_reduction(SemaCtx *c, const Stmt *st)
{
    const Expr *e = st->rhs;
    if (st->aop == ASSIGN_DIV || (st->aop == ASSIGN_SET && !is_minmax_of(c, st, &e)))
        return false;
    if (reads_decl(e, st->lhs->decl))
        return false;
    for (int p = 0; p < c->nest->niters; p++) {
        bool used = false;
        for (int j = 0; j < st->lhs->nargs; j++) {
            Affine a;
            if (!sema_affine(c, st->lhs->args[j], &a) || aff_coeff(&a, AFF_INDEX(p)) != 0)
                used = true;
        }
        if (!used)
            return true;
    }
    return false;
}

/* grammar: stmt ::= lvalue assign_op expr ; */
static void check_assign(SemaCtx *c, Stmt *st)
{
    Expr *lhs = st->lhs;
    const char *aop = assign_op_spelling(st->aop);
    Name *n = sema_lookup(c, lhs->name.name);
    const char *why = NULL;
    if (!n)
        sema_unknown_name(c, lhs->name.name, lhs->name.span, false);
    else if (n->kind == SYM_TENSOR && n->mode == MODE_IN)
        why = "it is an 'in' parameter";
    else if (n->kind == SYM_SCALAR)
        why = "it is an 'in' scalar parameter; declare it 'out' or 'inout' to write it";
    else if (n->kind == SYM_SIZE)
        why = "it is a size";
    else if (n->kind == SYM_INDEX)
        why = "it is a loop index";
    else if (n->kind == SYM_LET)
        why = "a 'let' is immutable";
    if (why)
        diag_error(c->d, lhs->name.span, "cannot write to '%s': %s", n->name, why);
    if (!n || why) {
        for (int i = 0; i < lhs->nargs; i++)
            sema_expr(c, lhs->args[i], ELEM_I64);
        sema_expr(c, st->rhs, ELEM_NONE);
        return;
    }
    lhs->sym = n->kind;
    lhs->decl = n->decl;
    bool ok = true;
    if (lhs->kind == EXPR_NAME && n->ndims > 0) {
        diag_error(c->d, lhs->span, "'%s' is a tensor and needs indices", n->name);
        ok = false;
    } else if (lhs->kind == EXPR_INDEX && n->ndims == 0) {
        diag_error(c->d, lhs->name.span, "'%s' is a %s and cannot be indexed", n->name,
                   n->kind == SYM_VAR ? "scalar var" : sema_name_kind(n));
        ok = false;
    }
    for (int i = 0; i < lhs->nargs; i++)
        sema_expr(c, lhs->args[i], ELEM_I64);
    ElemType t = sema_arith_type(n->elem);
    lhs->type = t;
    if (ok)
        sema_access(c, lhs, n, st->aop != ASSIGN_SET);
    if (n->elem == ELEM_BOOL && st->aop != ASSIGN_SET) {
        diag_error(c->d, lhs->span, "operator '%s' needs numbers, got bool", aop);
        ok = false;
    } else if ((n->elem == ELEM_F16 || n->elem == ELEM_BF16) &&
               (st->aop == ASSIGN_ADD || st->aop == ASSIGN_SUB || st->aop == ASSIGN_MUL)) {
        diag_error(c->d, lhs->span,
                   "cannot accumulate into '%s' with '%s': %s is a storage type; accumulate in f32 "
                   "and convert in a later nest",
                   n->name, aop, elem_type_name(n->elem));
        ok = false;
    }
    int r = sema_expr(c, st->rhs, t);
    if (r != TY_ERROR && r != (int)t) {
        diag_error(c->d, st->rhs->span, "mismatched types %s and %s in '%s'", elem_type_name(t),
                   elem_type_name((ElemType)r), aop);
        ok = false;
    }
    if (!ok || r == TY_ERROR)
        return;
    if (st->aop == ASSIGN_SET) {
        vec_push(c->a, &c->dom_writes, lhs);
        if (c->if_depth == 0)
            vec_push(c->a, &c->full_writes, st);
    }
    st->is_reduction = is_reduction(c, st);
}

/* grammar: stmt ::= let IDENT [: TYPE] = expr ; (scoped to the rest of its block) */
static void check_let(SemaCtx *c, Stmt *st)
{
    ElemType declared = st->let_type == ELEM_NONE ? ELEM_NONE : sema_arith_type(st->let_type);
    int t = sema_expr(c, st->rhs, declared);
    if (t != TY_ERROR && declared != ELEM_NONE && t != (int)declared) {
        diag_error(c->d, st->rhs->span, "'%s' is declared %s but its initializer has type %s",
                   st->name.name, elem_type_name(st->let_type), elem_type_name((ElemType)t));
        t = declared;
    }
    Name *n = sema_define(c, st->name.name, SYM_LET, st, st->name.span);
    n->elem = t == TY_ERROR ? (declared != ELEM_NONE ? declared : ELEM_NONE) : (ElemType)t;
    if (n->elem == ELEM_NONE)
        n->elem = (ElemType)TY_ERROR;
    Affine a;
    if (t == ELEM_I64 && sema_affine(c, st->rhs, &a)) {
        n->aff = ARENA_NEW(c->a, Affine);
        *n->aff = a;
    }
}

/* grammar: if_stmt ::= if expr { stmts } [else { stmts } | else if_stmt] */
static void check_if(SemaCtx *c, Stmt *st)
{
    int t = sema_expr(c, st->cond, ELEM_NONE);
    if (t != TY_ERROR && t != ELEM_BOOL)
        diag_error(c->d, st->cond->span, "condition of 'if' must be bool, got %s",
                   elem_type_name((ElemType)t));
    bool facts = t == ELEM_BOOL;
    int mark = c->sys.ncons;
    c->if_depth++;
    if (facts)
        sema_add_condition(c, st->cond, true);
    check_stmts(c, &st->then_body);
    c->sys.ncons = mark;
    if (facts)
        sema_add_condition(c, st->cond, false);
    check_stmts(c, &st->else_body);
    c->sys.ncons = mark;
    c->if_depth--;
}

static void check_stmts(SemaCtx *c, StmtList *l)
{
    int names = c->names.len, writes = c->dom_writes.len;
    for (int i = 0; i < l->len; i++) {
        Stmt *st = l->items[i];
        switch (st->kind) {
        case STMT_ASSIGN: check_assign(c, st); break;
        case STMT_LET: check_let(c, st); break;
        case STMT_IF: check_if(c, st); break;
        case STMT_FOR: {
            Span kw = {st->span.lo, st->span.lo + 3};
            diag_error(c->d, kw, "'for' inside a nest body is not yet supported");
            break;
        }
        }
    }
    c->names.len = names;
    c->dom_writes.len = writes;
}

/* Marks what the nest writes in full (see the decisions in sema.c). */
static void note_full_writes(SemaCtx *c, Nest *n, Affine *lo, Affine *hi, bool *range_ok)
{
    for (int s = 0; s < c->full_writes.len; s++) {
        Stmt *st = c->full_writes.items[s];
        Name *x = sema_lookup(c, st->lhs->name.name);
        if (!x || x->decl != st->lhs->decl || (x->kind != SYM_VAR && x->mode != MODE_OUT))
            continue;
        bool full = true;
        unsigned long long seen = 0;
        for (int d = 0; d < st->lhs->nargs && full; d++) {
            Expr *e = st->lhs->args[d];
            if (e->kind != EXPR_NAME || e->sym != SYM_INDEX) {
                full = false;
                break;
            }
            int p = 0;
            while (p < n->niters && n->iters[p] != e->decl)
                p++;
            Affine zero = aff_const(0);
            full = p < n->niters && p < 64 && !(seen >> p & 1) && range_ok[p] &&
                   aff_equal(&lo[p], &zero) && x->dims[d].ok && aff_equal(&hi[p], &x->dims[d]);
            if (p < 64)
                seen |= 1ull << p;
        }
        /* Every element is written only if the loops that do not index x
         * run: `for r in 0..R, c in 0..N { m[r] = ... }` writes nothing when
         * N = 0 (and an `out` scalar, indexed by no loop, needs a nest that
         * always runs). */
        for (int p = 0; p < n->niters && full; p++) {
            if (p < 64 && (seen >> p & 1))
                continue;
            Affine g = aff_sub(&hi[p], &lo[p]);
            g.c -= 1;
            if (!range_ok[p] || !g.ok || !aff_trivially_nonneg(&g)) {
                full = false;
                if (!x->empty_write) {
                    x->empty_write = st;
                    x->empty_iter = n->iters[p];
                }
            }
        }
        if (full)
            x->full_pending = true;
    }
}

void sema_check_nest(SemaCtx *c, Nest *n)
{
    c->nest = n;
    int names = c->names.len, cons = c->sys.ncons;
    c->full_writes.len = 0;
    c->dom_writes.len = 0;
    c->if_depth = 0;
    c->no_bounds = false;
    c->index_names = ARENA_ARRAY(c->a, Name *, n->niters);
    c->index_str = ARENA_ARRAY(c->a, const char *, n->niters);
    Affine *lo = ARENA_ARRAY(c->a, Affine, n->niters);
    Affine *hi = ARENA_ARRAY(c->a, Affine, n->niters);
    bool *range_ok = ARENA_ARRAY(c->a, bool, n->niters);
    for (int p = 0; p < n->niters; p++) {
        Iter *it = n->iters[p];
        bool ok_lo = check_bound(c, n, p, it->lo, &lo[p]);
        bool ok_hi = check_bound(c, n, p, it->hi, &hi[p]);
        range_ok[p] = ok_lo && ok_hi;
        c->no_bounds |= !range_ok[p];
        Name *x = sema_define(c, it->name.name, SYM_INDEX, it, it->name.span);
        x->pos = p;
        c->index_names[p] = x;
        c->index_str[p] = it->name.name;
        Affine i = aff_term(AFF_INDEX(p));
        if (ok_lo) {
            Affine g = aff_sub(&i, &lo[p]);            /* i - lo >= 0 */
            aff_system_push(&c->sys, &g);
        }
        if (ok_hi) {
            Affine g = aff_sub(&hi[p], &i);            /* hi - 1 - i >= 0 */
            g.c -= 1;
            aff_system_push(&c->sys, &g);
        }
        if (range_ok[p]) {
            Affine g = aff_sub(&hi[p], &lo[p]);        /* not empty: hi - lo - 1 >= 0 */
            g.c -= 1;
            aff_system_push(&c->sys, &g);
        }
    }
    check_stmts(c, &n->body);
    note_full_writes(c, n, lo, hi, range_ok);
    c->names.len = names;
    c->sys.ncons = cons;
    c->nest = NULL;
}
