/* Legality: the dependence rules of the design's Legality section, checked on
 * the checked AST and the schedule records before lowering. Errors point at
 * the clause and name the conflicting accesses.
 *
 * Accesses and distances. Every read and write of a tensor or `var` in a nest
 * is an access. For each pair of accesses to one tensor with at least one
 * write (a write paired with itself included), lg_distance builds a distance
 * vector over the nest's loops as written: per dimension, `i + a` against
 * `i + b` (the same index, the same coefficient k) gives the exact distance
 * (a - b) / k on i (none when k does not divide it: the pair is independent);
 * two constants that differ make the pair independent; anything else marks
 * the indices it uses as '*'. A loop that no dimension constrains is '*'; a
 * subscript that is not affine makes every loop '*'. The pair of a reduction
 * statement's target with itself is left out (Reductions: the combining
 * order is the schedule's to choose) when its subscripts are affine.
 *
 * Loops after a schedule. The derivation that sema recorded for each loop
 * (SchedDeriv: split, tile, fuse) gives it its *digits*: (original loop, path). An
 * original loop is one digit with path ""; splitting a loop appends "0" to
 * the paths of its outer piece and "1" to its inner piece, so an original's
 * distance is the lexicographic value of its digits in path order (a mixed
 * radix number: i = io * F + ii); a fused loop holds the digits of both of
 * its loops. For a dependence whose original distances have signs c (after
 * orienting it lexicographically positive), the schedule reverses it when
 * some choice of digit values that realises c is lexicographically negative
 * in the new loop order: every loop before a position q is zero, and a digit
 * of q is negative (its original is negative, or an earlier digit of that
 * original is still free to carry the positive sign), while every other
 * nonzero original keeps a digit outside the zero prefix. So split keeps
 * order, reorder of whole loops is the textbook permutation test, and a tile
 * over a dependence like (1, -1) is rejected. A '*' component is tried as
 * -, 0 and +; at most two '*' loops need to be nonzero for a witness (the one
 * at q and the one that makes the original order positive), so the search is
 * quadratic in the '*' loops.
 *
 * The rules, in the order they are checked:
 *   triangular: a loop whose bounds use another loop's index stays inside it
 *     (the outermost piece of each is compared after every reorder);
 *   regular nest (every written tensor indexed by distinct plain loop
 *     indices, every other access to it by the same list): split, tile,
 *     reorder, unroll always legal; parallel, vectorize, bind and tensorize
 *     legal on loops whose originals index every written tensor, or that a
 *     reduction statement reduces over;
 *   reduction loops (any nest): parallel, vectorize, bind and tensorize on a
 *     loop that a reduction statement reduces over only when no other
 *     statement reads or writes the reduced element (the distance test finds
 *     the two accesses dependent) inside it;
 *   other nests: a split, tile, fuse or reorder may not reverse a dependence;
 *     parallel, vectorize and tensorize may not sit on a loop q that carries
 *     one (a realisation with every loop before q zero and q nonzero); bind
 *     the same, except that only the bound loops before q count, since
 *     threads run the serial loops around them independently;
 *   fuse P into R at L: every loop of R at or outside L must not iterate a
 *     reduction of R, when P is an epilogue (written after R) and when P is
 *     an init (written before R, setting with `=` what R reduces into); and
 *     no nest between P and R (other than those fused into R too) may touch
 *     what P writes or write what P reads, since P moves past it. */
#include <stdio.h>
#include <string.h>

#include "sema/legality.h"
#include "sema/schedule.h"
#include "sema/sema_internal.h"

enum { LG_TEXT = 60, LG_BUF = 512 };

/* ---- affine subscripts ---------------------------------------------- */

static int lg_iter_index(const Nest *n, const void *decl)
{
    for (int i = 0; i < n->niters; i++)
        if (n->iters[i] == decl)
            return i;
    return -1;
}

/* Where a subscript's names are read: one nest of one kernel, after sema. */
typedef struct LgScope {
    const Kernel *k;
    const Nest *n;
} LgScope;

/* Legality's names for aff_from_expr, with sema's keys: an index of the nest
 * by its position there, a size by its position in Kernel.sizes. A let is not
 * affine here: sema's value for it is gone, so a subscript through a let
 * makes its pair '*' on every loop (conservative). */
static bool nest_name(void *ctx, const Expr *e, Affine *out)
{
    const LgScope *s = ctx;
    if (e->sym == SYM_INDEX) {
        int i = lg_iter_index(s->n, e->decl);
        if (i >= 0)
            *out = aff_term(AFF_INDEX(i));
        return i >= 0;
    }
    for (int i = 0; e->sym == SYM_SIZE && i < s->k->nsizes; i++)
        if (e->decl == &s->k->sizes[i]) {
            *out = aff_term(i);
            return true;
        }
    return false;
}

static bool lg_affine(const LgScope *s, const Expr *e, Arena *ar, Affine *out)
{
    return aff_from_expr(e, nest_name, (void *)s, ar, out);
}

/* ---- distance vectors ----------------------------------------------- */

LgDistance lg_distance(const Kernel *k, const Nest *n, const Expr *a, const Expr *b, Arena *ar)
{
    int ni = n->niters;
    LgDistance d = {.dependent = true, .n = ni};
    d.value = ARENA_ARRAY(ar, int64_t, ni > 0 ? ni : 1);
    d.star = ARENA_ARRAY(ar, bool, ni > 0 ? ni : 1);
    bool *exact = ARENA_ARRAY(ar, bool, ni > 0 ? ni : 1);
    LgScope scope = {k, n};
    int na = a->kind == EXPR_INDEX ? a->nargs : 0, nb = b->kind == EXPR_INDEX ? b->nargs : 0;
    for (int p = 0; p < na && p < nb; p++) {
        Affine sa, sb;
        if (!lg_affine(&scope, a->args[p], ar, &sa) || !lg_affine(&scope, b->args[p], ar, &sb)) {
            /* A non-affine index counts as a dependence on every loop. */
            for (int i = 0; i < ni; i++)
                d.star[i] = true, d.value[i] = 0;
            return d;
        }
        Affine diff = aff_sub(&sa, &sb);
        bool const_diff = aff_is_const(&diff);
        int la = aff_only_index(&sa), lb = aff_only_index(&sb);
        if (la >= 0 && la == lb && const_diff) {
            /* k*i_a + r_a = k*i_b + r_b  =>  i_b - i_a = (r_a - r_b) / k */
            int64_t ka = aff_coeff(&sa, AFF_INDEX(la));
            if (!aff_divisible(&diff, ka)) {
                d.dependent = false;
                return d;
            }
            Affine q = aff_div_exact(&diff, ka);
            if (!q.ok)
                continue;   /* INT64_MIN / -1: this dimension constrains nothing */
            if (exact[la] && d.value[la] != q.c) {
                d.dependent = false;
                return d;
            }
            exact[la] = true;
            d.value[la] = q.c;
        } else if (aff_innermost_index(&sa) < 0 && aff_innermost_index(&sb) < 0) {
            if (const_diff && diff.c != 0) {
                d.dependent = false;
                return d;
            }
        }
        /* otherwise: different indices or non-uniform, '*' in those loops
         * (every loop not made exact below is '*') */
    }
    for (int i = 0; i < ni; i++)
        d.star[i] = !exact[i];
    return d;
}

void lg_distance_print(char *buf, size_t size, const LgDistance *d, bool negate)
{
    size_t at = 0;
    at += (size_t)snprintf(buf + at, at < size ? size - at : 0, "(");
    for (int i = 0; i < d->n; i++) {
        const char *sep = i ? ", " : "";
        if (d->star[i])
            at += (size_t)snprintf(buf + at, at < size ? size - at : 0, "%s*", sep);
        else
            at += (size_t)snprintf(buf + at, at < size ? size - at : 0, "%s%lld", sep,
                                   (long long)(negate ? -d->value[i] : d->value[i]));
    }
    snprintf(buf + at, at < size ? size - at : 0, ")");
}

/* ---- the accesses of a nest ----------------------------------------- */

typedef struct LgAccess {
    const Expr *e;
    const void *decl;
    bool write;
    const Stmt *stmt;
    bool reduction_self;    /* the target of the reduction statement stmt */
} LgAccess;

typedef struct LgPair {
    const LgAccess *a, *b;
    LgDistance d;
} LgPair;

typedef struct LgNest {
    const Nest *nest;
    LgAccess *acc;
    int nacc, cap;
    LgPair *pairs;
    int npairs;
    bool regular;
    bool *uses;             /* uses[o * n + p]: the bounds of loop o use index p */
} LgNest;

typedef struct LgCtx {
    Diag *d;
    Arena ar;               /* freed when the check ends */
    const Kernel *k;        /* the kernel of the schedule being checked */
} LgCtx;

static bool is_tensor_ref(const Expr *e)
{
    return (e->kind == EXPR_INDEX || e->kind == EXPR_NAME) &&
           (e->sym == SYM_TENSOR || e->sym == SYM_VAR);
}

static void add_access(LgCtx *c, LgNest *ln, const Expr *e, bool write, const Stmt *s)
{
    if (ln->nacc == ln->cap) {
        int cap = ln->cap ? 2 * ln->cap : 16;
        LgAccess *n = ARENA_ARRAY(&c->ar, LgAccess, cap);
        if (ln->nacc)
            memcpy(n, ln->acc, sizeof *n * (size_t)ln->nacc);
        ln->acc = n;
        ln->cap = cap;
    }
    bool self = s->kind == STMT_ASSIGN && s->is_reduction && e->decl == s->lhs->decl;
    ln->acc[ln->nacc++] = (LgAccess){e, e->decl, write, s, self};
}

/* Every tensor read in e (iteratively: expressions may be long chains). */
static void collect_reads(LgCtx *c, LgNest *ln, const Expr *root, const Stmt *s)
{
    PtrVec work = {0};
    vec_push(&c->ar, &work, (void *)root);
    while (work.len) {
        const Expr *e = work.items[--work.len];
        if (is_tensor_ref(e))
            add_access(c, ln, e, false, s);
        for (int i = 0; i < e->nargs; i++)
            vec_push(&c->ar, &work, e->args[i]);
    }
}

/* The statements of a nest, ifs included (iteratively). */
static void collect_accesses(LgCtx *c, LgNest *ln)
{
    PtrVec work = {0};
    const StmtList *body = &ln->nest->body;
    for (int i = body->len - 1; i >= 0; i--)
        vec_push(&c->ar, &work, body->items[i]);
    while (work.len) {
        const Stmt *s = work.items[--work.len];
        switch (s->kind) {
        case STMT_ASSIGN:
            if (is_tensor_ref(s->lhs))
                add_access(c, ln, s->lhs, true, s);
            for (int i = 0; i < s->lhs->nargs; i++)
                collect_reads(c, ln, s->lhs->args[i], s);
            collect_reads(c, ln, s->rhs, s);
            break;
        case STMT_LET:
            collect_reads(c, ln, s->rhs, s);
            break;
        case STMT_IF:
            collect_reads(c, ln, s->cond, s);
            for (int i = s->else_body.len - 1; i >= 0; i--)
                vec_push(&c->ar, &work, s->else_body.items[i]);
            for (int i = s->then_body.len - 1; i >= 0; i--)
                vec_push(&c->ar, &work, s->then_body.items[i]);
            break;
        case STMT_FOR:      /* rejected by sema ("not yet supported") */
            break;
        }
    }
}

static bool is_plain_index(const Expr *e) { return e->kind == EXPR_NAME && e->sym == SYM_INDEX; }

/* Regular: each written tensor is indexed by distinct plain loop indices and
 * every other access to it uses the same index list. */
static bool nest_is_regular(const LgNest *ln)
{
    for (int w = 0; w < ln->nacc; w++) {
        const LgAccess *wa = &ln->acc[w];
        if (!wa->write)
            continue;
        int nd = wa->e->kind == EXPR_INDEX ? wa->e->nargs : 0;
        for (int p = 0; p < nd; p++) {
            if (!is_plain_index(wa->e->args[p]))
                return false;
            for (int q = 0; q < p; q++)
                if (wa->e->args[q]->decl == wa->e->args[p]->decl)
                    return false;
        }
        for (int x = 0; x < ln->nacc; x++) {
            const LgAccess *xa = &ln->acc[x];
            if (xa->decl != wa->decl)
                continue;
            int xd = xa->e->kind == EXPR_INDEX ? xa->e->nargs : 0;
            if (xd != nd)
                return false;
            for (int p = 0; p < nd; p++)
                if (!is_plain_index(xa->e->args[p]) || xa->e->args[p]->decl != wa->e->args[p]->decl)
                    return false;
        }
    }
    return true;
}

static bool subscripts_affine(LgCtx *c, const Nest *n, const Expr *e)
{
    LgScope scope = {c->k, n};
    Affine x;
    for (int p = 0; e->kind == EXPR_INDEX && p < e->nargs; p++)
        if (!lg_affine(&scope, e->args[p], &c->ar, &x))
            return false;
    return true;
}

/* Pairs with at least one write whose distance test finds a dependence. */
static void collect_pairs(LgCtx *c, LgNest *ln)
{
    ln->pairs = ARENA_ARRAY(&c->ar, LgPair, ln->nacc * (ln->nacc + 1) / 2 + 1);
    for (int i = 0; i < ln->nacc; i++)
        for (int j = i; j < ln->nacc; j++) {
            const LgAccess *a = &ln->acc[i], *b = &ln->acc[j];
            if (a->decl != b->decl || !(a->write || b->write))
                continue;
            if (a->reduction_self && b->reduction_self && a->stmt == b->stmt &&
                subscripts_affine(c, ln->nest, a->stmt->lhs))
                continue;
            LgDistance d = lg_distance(c->k, ln->nest, a->e, b->e, &c->ar);
            if (d.dependent)
                ln->pairs[ln->npairs++] = (LgPair){a, b, d};
        }
}

/* Whether expression e names index decl (iteratively). */
static bool expr_uses(LgCtx *c, const Expr *root, const void *decl)
{
    PtrVec work = {0};
    vec_push(&c->ar, &work, (void *)root);
    while (work.len) {
        const Expr *e = work.items[--work.len];
        if (e->kind == EXPR_NAME && e->sym == SYM_INDEX && e->decl == decl)
            return true;
        for (int i = 0; i < e->nargs; i++)
            vec_push(&c->ar, &work, e->args[i]);
    }
    return false;
}

static LgNest *analyze_nest(LgCtx *c, const Nest *nest)
{
    LgNest *ln = ARENA_NEW(&c->ar, LgNest);
    ln->nest = nest;
    collect_accesses(c, ln);
    ln->regular = nest_is_regular(ln);
    collect_pairs(c, ln);
    int n = nest->niters;
    ln->uses = ARENA_ARRAY(&c->ar, bool, n * n + 1);
    for (int o = 0; o < n; o++)
        for (int p = 0; p < n; p++)
            ln->uses[o * n + p] = p != o && (expr_uses(c, nest->iters[o]->lo, nest->iters[p]) ||
                                             expr_uses(c, nest->iters[o]->hi, nest->iters[p]));
    return ln;
}

/* ---- loops and their digits ----------------------------------------- */

typedef struct LgDigit {
    int orig;               /* index of the original loop in the nest */
    const char *path;
} LgDigit;

typedef struct LgOrigin {
    LgDigit *d;
    int nd;
} LgOrigin;

/* from's digits (then from2's) with piece appended to each path. */
static LgOrigin *origin_new(LgCtx *c, const LgOrigin *from, const LgOrigin *from2, const char *piece)
{
    LgOrigin *o = ARENA_NEW(&c->ar, LgOrigin);
    int n1 = from->nd, n2 = from2 ? from2->nd : 0;
    o->d = ARENA_ARRAY(&c->ar, LgDigit, n1 + n2 + 1);
    for (int i = 0; i < n1 + n2; i++) {
        LgDigit d = i < n1 ? from->d[i] : from2->d[i - n1];
        o->d[o->nd++] = (LgDigit){d.orig, arena_printf(&c->ar, "%s%s", d.path, piece)};
    }
    return o;
}

/* The digits of every loop ns ever had, indexed like ns->derivs. */
static LgOrigin **origins_all(LgCtx *c, const NestSched *ns)
{
    LgOrigin **org = ARENA_ARRAY(&c->ar, LgOrigin *, ns->nderivs + 1);
    for (int i = 0; i < ns->nderivs; i++) {
        const SchedDeriv *dv = &ns->derivs[i];
        switch (dv->kind) {
        case DERIV_WRITTEN:
            org[i] = origin_new(c, &(LgOrigin){&(LgDigit){i, ""}, 1}, NULL, "");
            break;
        case DERIV_OUTER: org[i] = origin_new(c, org[dv->from[0]], NULL, "0"); break;
        case DERIV_INNER: org[i] = origin_new(c, org[dv->from[0]], NULL, "1"); break;
        case DERIV_FUSED: org[i] = origin_new(c, org[dv->from[0]], org[dv->from[1]], ""); break;
        }
    }
    return org;
}

/* The digits of the loops of st, in its order. */
static LgOrigin **origins_of(LgCtx *c, LgOrigin **all, const SchedState *st)
{
    LgOrigin **o = ARENA_ARRAY(&c->ar, LgOrigin *, st->nloops + 1);
    for (int i = 0; i < st->nloops; i++)
        o[i] = all[st->loops[i].deriv];
    return o;
}

static bool digits_have(const LgOrigin *o, int orig)
{
    for (int k = 0; k < o->nd; k++)
        if (o->d[k].orig == orig)
            return true;
    return false;
}

/* ---- text for messages ---------------------------------------------- */

static const char *span_text(LgCtx *c, Span s)
{
    const char *t = c->d->src->text + s.lo;
    uint32_t len = s.hi - s.lo;
    char *out = arena_alloc(&c->ar, LG_TEXT + 4);
    uint32_t j = 0;
    for (uint32_t i = 0; i < len && j < LG_TEXT; i++) {
        char ch = t[i] == '\n' || t[i] == '\t' || t[i] == '\r' ? ' ' : t[i];
        if (ch == ' ' && j > 0 && out[j - 1] == ' ')
            continue;
        out[j++] = ch;
    }
    if (j == LG_TEXT)
        memcpy(out + j, "...", 3), j += 3;
    out[j] = '\0';
    return out;
}

static void loop_names(char *buf, size_t size, const Nest *n)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < n->niters && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? ", " : "", n->iters[i]->name.name);
}

/* What the dependence from src (earlier) to snk (later) is. */
static void describe(LgCtx *c, char *buf, size_t size, const LgAccess *src, const LgAccess *snk)
{
    const char *a = span_text(c, src->e->span), *b = span_text(c, snk->e->span);
    if (src == snk)
        snprintf(buf, size, "'%s' writes one element in several iterations", a);
    else if (src->write && snk->write)
        snprintf(buf, size, "'%s' and '%s' write the same element in different iterations", b, a);
    else if (src->write)
        snprintf(buf, size, "'%s' reads what '%s' writes in an earlier iteration", b, a);
    else
        snprintf(buf, size, "'%s' overwrites what '%s' reads in an earlier iteration", b, a);
}

static void note_accesses(LgCtx *c, const LgAccess *src, const LgAccess *snk)
{
    diag_note(c->d, snk->e->span, "the later access");
    if (src != snk)
        diag_note(c->d, src->e->span, "the earlier access");
}

/* ---- triangular nests ------------------------------------------------ */

/* Position of the outermost piece of original o (loop index * 64 + digit). */
static int first_piece(LgOrigin **org, int m, int o)
{
    for (int p = 0; p < m; p++)
        for (int k = 0; k < org[p]->nd; k++)
            if (org[p]->d[k].orig == o)
                return p * 64 + k;
    return -1;
}

/* In a triangular nest, a loop whose bounds use another loop's index must
 * stay inside it. */
static bool check_triangular(LgCtx *c, const LgNest *ln, const Clause *cl, const SchedState *st,
                             LgOrigin **org)
{
    int n = ln->nest->niters;
    for (int o = 0; o < n; o++)
        for (int p = 0; p < n; p++) {
            if (!ln->uses[o * n + p])
                continue;
            int fo = first_piece(org, st->nloops, o), fp = first_piece(org, st->nloops, p);
            if (fo < 0 || fp < 0 || fo > fp)
                continue;
            diag_error(c->d, cl->span, "%s puts '%s' outside '%s', but the bounds of '%s' use '%s'",
                       clause_keyword(cl->kind), st->loops[fo / 64].name, st->loops[fp / 64].name,
                       ln->nest->iters[o]->name.name, ln->nest->iters[p]->name.name);
            diag_note(c->d, ln->nest->iters[o]->span, "'%s' is defined here",
                      ln->nest->iters[o]->name.name);
            return false;
        }
    return true;
}

/* ---- reversed dependences --------------------------------------------- */

/* Digit (p, k) is in the zero prefix that ends before digit k of loop q. */
static bool in_prefix(int p, int k, int q, int kq) { return p < q || (p == q && k < kq); }

/* Whether original o has a digit outside the prefix; before: only digits
 * whose path sorts before `path`. */
static bool free_digit(LgOrigin **org, int m, int o, int q, int kq, const char *before)
{
    for (int p = 0; p < m; p++)
        for (int k = 0; k < org[p]->nd; k++)
            if (org[p]->d[k].orig == o && !in_prefix(p, k, q, kq) && !(p == q && k == kq) &&
                (!before || strcmp(org[p]->d[k].path, before) < 0))
                return true;
    return false;
}

/* Whether signs c (lexicographically positive over the originals) can be
 * realised lexicographically negative in the loop order org; *q_out: the
 * position of the first nonzero (negative) loop. */
static bool final_negative(const int *sg, int n, LgOrigin **org, int m, int *q_out)
{
    for (int q = 0; q < m; q++)
        for (int k = 0; k < org[q]->nd; k++) {
            for (int o = 0; o < n; o++)
                if (sg[o] != 0 && !free_digit(org, m, o, q, k, NULL) &&
                    !(org[q]->d[k].orig == o))
                    return false;       /* a nonzero original has no digit left */
            const LgDigit *dg = &org[q]->d[k];
            int s = sg[dg->orig];
            if (s < 0 || (s > 0 && free_digit(org, m, dg->orig, q, k, dg->path))) {
                *q_out = q;
                return true;
            }
            if (s > 0 && !free_digit(org, m, dg->orig, q, k, NULL))
                return false;           /* this digit must carry the positive sign */
        }
    return false;
}

/* Signs of one realisation of d: exact loops their sign, the '*' loops x and
 * y (-1: none) sx and sy, the other '*' loops 0. Oriented lexicographically
 * positive; returns false for the zero vector; *neg: it was negated. */
static bool realise(const LgDistance *d, int x, int sx, int y, int sy, int *sg, bool *neg)
{
    int first = 0;
    for (int o = 0; o < d->n; o++) {
        sg[o] = d->star[o] ? (o == x ? sx : o == y ? sy : 0) : (d->value[o] > 0) - (d->value[o] < 0);
        if (!first)
            first = sg[o];
    }
    *neg = first < 0;
    for (int o = 0; *neg && o < d->n; o++)
        sg[o] = -sg[o];
    return first != 0;
}

typedef struct LgWitness {
    int q;
    bool neg;               /* the dependence runs from b to a */
} LgWitness;

static bool reversal(LgCtx *c, const LgDistance *d, LgOrigin **org, int m, LgWitness *w)
{
    int *sg = ARENA_ARRAY(&c->ar, int, d->n + 1);
    for (int x = -1; x < d->n; x++) {
        if (x >= 0 && !d->star[x])
            continue;
        for (int y = x < 0 ? -1 : x; y < d->n; y++) {
            if (y >= 0 && (y == x || !d->star[y]))
                continue;
            for (int s = 0; s < 4; s++) {
                if ((x < 0 && (s & 1)) || (y < 0 && (s & 2)))
                    continue;
                if (realise(d, x, s & 1 ? -1 : 1, y, s & 2 ? -1 : 1, sg, &w->neg) &&
                    final_negative(sg, d->n, org, m, &w->q))
                    return true;
            }
        }
    }
    return false;
}

/* The realisation in the new order: zeros before q, negative at q. */
static void print_final(char *buf, size_t size, const LgDistance *d, bool neg, const SchedState *st,
                        LgOrigin **org, int q)
{
    size_t at = (size_t)snprintf(buf, size, "(");
    for (int p = 0; p < st->nloops && at < size; p++) {
        const char *sep = p ? ", " : "";
        const LgOrigin *o = org[p];
        bool whole = o->nd == 1 && o->d[0].path[0] == '\0' && !d->star[o->d[0].orig];
        if (p < q)
            at += (size_t)snprintf(buf + at, size - at, "%s0", sep);
        else if (whole)
            at += (size_t)snprintf(buf + at, size - at, "%s%lld", sep,
                                   (long long)(neg ? -d->value[o->d[0].orig] : d->value[o->d[0].orig]));
        else
            at += (size_t)snprintf(buf + at, size - at, "%s%s", sep, p == q ? "-" : "*");
    }
    if (at < size)
        snprintf(buf + at, size - at, ")");
}

static void state_names(char *buf, size_t size, const SchedState *st)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < st->nloops && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? ", " : "", st->loops[i].name);
}

/* Other nests: a reorder (or a tile, which reorders pieces) is legal when
 * every distance vector stays lexicographically positive. */
static bool check_order(LgCtx *c, const LgNest *ln, const Clause *cl, const SchedState *st,
                        LgOrigin **org)
{
    for (int i = 0; i < ln->npairs; i++) {
        const LgPair *pr = &ln->pairs[i];
        LgWitness w;
        if (!reversal(c, &pr->d, org, st->nloops, &w))
            continue;
        const LgAccess *src = w.neg ? pr->b : pr->a, *snk = w.neg ? pr->a : pr->b;
        char what[LG_BUF], dist[LG_BUF], loops[LG_BUF], fin[LG_BUF], order[LG_BUF];
        describe(c, what, sizeof what, src, snk);
        lg_distance_print(dist, sizeof dist, &pr->d, w.neg);
        loop_names(loops, sizeof loops, ln->nest);
        print_final(fin, sizeof fin, &pr->d, w.neg, st, org, w.q);
        state_names(order, sizeof order, st);
        diag_error(c->d, cl->span,
                   "%s would reverse a dependence: %s; the distance %s over (%s) would become %s over (%s)",
                   clause_keyword(cl->kind), what, dist, loops, fin, order);
        note_accesses(c, src, snk);
        return false;
    }
    return true;
}

/* ---- loop kinds --------------------------------------------------------- */

/* The keyword of the clause that gave a loop kind k. */
static const char *kind_word(LoopKind k) { return clause_keyword(sched_kind_clause(k)); }

static bool index_appears(const Expr *e, const void *iter)
{
    for (int p = 0; e->kind == EXPR_INDEX && p < e->nargs; p++)
        if (is_plain_index(e->args[p]) && e->args[p]->decl == iter)
            return true;
    return false;
}

/* Regular nest: parallel, bind, vectorize (and tensorize) are legal on loops
 * that index every written tensor, and on reduction loops. */
static bool check_kind_regular(LgCtx *c, const LgNest *ln, const SchedLoop *l, const LgOrigin *o)
{
    for (int w = 0; w < ln->nacc; w++) {
        const LgAccess *wa = &ln->acc[w];
        if (!wa->write || wa->stmt->is_reduction)
            continue;
        for (int k = 0; k < o->nd; k++) {
            const Iter *it = ln->nest->iters[o->d[k].orig];
            if (index_appears(wa->e, it))
                continue;
            diag_error(c->d, l->kind_span,
                       "%s '%s' would write one element from several iterations at once: "
                       "'%s' does not depend on '%s' and is not a reduction",
                       kind_word(l->kind), l->name, span_text(c, wa->e->span), it->name.name);
            diag_note(c->d, wa->e->span, "written here");
            return false;
        }
    }
    return true;
}

/* The original loop of q that carries pair d (every loop before q that
 * counts is zero, q is not), or -1. zero[p]: loop p is held at zero. */
static int carried_by(const LgDistance *d, LgOrigin **org, int m, int q, const bool *zero)
{
    for (int k = 0; k < org[q]->nd; k++) {
        int o = org[q]->d[k].orig;
        if (!d->star[o] && d->value[o] == 0)
            continue;
        bool ok = true;
        for (int o2 = 0; o2 < d->n && ok; o2++) {
            if (o2 == o || d->star[o2] || d->value[o2] == 0)
                continue;
            bool has = false;
            for (int p = 0; p < m && !has; p++)
                has = !zero[p] && digits_have(org[p], o2);
            ok = has;
        }
        if (ok)
            return o;
    }
    return -1;
}

/* Other nests: loops that carry a dependence stay serial. */
static bool check_kind_deps(LgCtx *c, const LgNest *ln, const SchedState *st, LgOrigin **org, int q)
{
    const SchedLoop *l = &st->loops[q];
    bool *zero = ARENA_ARRAY(&c->ar, bool, st->nloops + 1);
    for (int p = 0; p < q; p++)
        zero[p] = l->kind != LOOP_BOUND || st->loops[p].kind == LOOP_BOUND;
    for (int i = 0; i < ln->npairs; i++) {
        const LgPair *pr = &ln->pairs[i];
        int o = carried_by(&pr->d, org, st->nloops, q, zero);
        if (o < 0)
            continue;
        /* orient: q's original positive (or its exact sign), the rest exact */
        int first = 0;
        for (int o2 = 0; o2 < pr->d.n && !first; o2++) {
            if (o2 == o)
                first = pr->d.star[o2] ? 1 : (pr->d.value[o2] > 0 ? 1 : -1);
            else if (!pr->d.star[o2] && pr->d.value[o2] != 0)
                first = pr->d.value[o2] > 0 ? 1 : -1;
        }
        bool neg = first < 0;
        const LgAccess *src = neg ? pr->b : pr->a, *snk = neg ? pr->a : pr->b;
        char what[LG_BUF], dist[LG_BUF], loops[LG_BUF];
        describe(c, what, sizeof what, src, snk);
        lg_distance_print(dist, sizeof dist, &pr->d, neg);
        loop_names(loops, sizeof loops, ln->nest);
        diag_error(c->d, l->kind_span,
                   "%s '%s' would run iterations of a carried dependence at once: %s "
                   "(distance %s over (%s))",
                   kind_word(l->kind), l->name, what, dist, loops);
        note_accesses(c, src, snk);
        return false;
    }
    return true;
}

/* A reduction loop made parallel, vectorized, bound or tensorized splits
 * each element's reduction into private partials that are combined only
 * after the loop: no other statement of the nest may read or write the
 * reduced element inside it (its reads would see partial results; a second
 * reduction into it would keep partials of its own). */
static bool check_kind_reduction(LgCtx *c, const LgNest *ln, const SchedLoop *l, const LgOrigin *o)
{
    for (int w = 0; w < ln->nacc; w++) {
        const LgAccess *red = &ln->acc[w];
        if (!red->write || !red->reduction_self)
            continue;
        const Iter *over = NULL;
        for (int k = 0; k < o->nd && !over; k++)
            if (!expr_uses(c, red->e, ln->nest->iters[o->d[k].orig]))
                over = ln->nest->iters[o->d[k].orig];
        if (!over)
            continue;   /* the loop indexes the element: no partials */
        /* A loop fused from one the reduction runs over and one that indexes
         * the element would need partials per element and iteration: the
         * iterations that update one element would run at once. */
        for (int k = 0; k < o->nd; k++) {
            const Iter *idx = ln->nest->iters[o->d[k].orig];
            if (!expr_uses(c, red->e, idx))
                continue;
            diag_error(c->d, l->kind_span,
                       "%s '%s' would update one element from several iterations at once: it "
                       "fuses '%s', which the reduction into '%s' runs over, with '%s', which "
                       "indexes it",
                       kind_word(l->kind), l->name, over->name.name, span_text(c, red->e->span),
                       idx->name.name);
            diag_note(c->d, red->stmt->span, "the reduction over '%s'", over->name.name);
            return false;
        }
        for (int x = 0; x < ln->nacc; x++) {
            const LgAccess *other = &ln->acc[x];
            if (other->decl != red->decl || other->stmt == red->stmt ||
                !lg_distance(c->k, ln->nest, red->e, other->e, &c->ar).dependent)
                continue;
            char *stmt = (char *)span_text(c, other->stmt->span);
            size_t len = strlen(stmt);
            if (len > 0 && stmt[len - 1] == ';')
                stmt[len - 1] = '\0';
            diag_error(c->d, l->kind_span,
                       "%s '%s' would split the reduction into '%s' into private partials, but "
                       "'%s' %s it inside '%s'",
                       kind_word(l->kind), l->name, span_text(c, red->e->span), stmt,
                       other->write ? "also writes" : "reads", l->name);
            diag_note(c->d, other->e->span, other->write ? "written here" : "read here");
            diag_note(c->d, red->stmt->span, "the reduction over '%s'", over->name.name);
            return false;
        }
    }
    return true;
}

static void check_kinds(LgCtx *c, const LgNest *ln, const SchedState *st, LgOrigin **org)
{
    for (int q = 0; q < st->nloops; q++) {
        LoopKind k = st->loops[q].kind;
        if (k != LOOP_PARALLEL && k != LOOP_VECTORIZED && k != LOOP_BOUND && k != LOOP_TENSORIZED)
            continue;
        if (!check_kind_reduction(c, ln, &st->loops[q], org[q]))
            continue;
        if (ln->regular)
            check_kind_regular(c, ln, &st->loops[q], org[q]);
        else
            check_kind_deps(c, ln, st, org, q);
    }
}

/* ---- one nest's clauses --------------------------------------------------- */

static bool changes_order(ClauseKind k)
{
    return clause_replaces_loops(k) || clause_effect(k) == EFFECT_ORDER;
}

static void check_nest(LgCtx *c, const NestSched *ns)
{
    const LgNest *ln = analyze_nest(c, ns->nest);
    LgOrigin **all = origins_all(c, ns);
    for (int s = 0; s < ns->nsteps; s++) {
        const Clause *cl = ns->steps[s].clause;
        if (!changes_order(cl->kind))
            continue;
        const SchedState *st = &ns->steps[s].after;
        LgOrigin **org = origins_of(c, all, st);
        if (cl->kind == CLAUSE_REORDER && !check_triangular(c, ln, cl, st, org))
            return;
        if (!ln->regular && !check_order(c, ln, cl, st, org))
            return;
    }
    const SchedState *fin = sched_final(ns);
    check_kinds(c, ln, fin, origins_of(c, all, fin));
}

/* ---- fuse P into R at L ------------------------------------------------- */

/* Reduction statements of a nest (ifs included), into out. */
static void nest_statements(LgCtx *c, const Nest *n, PtrVec *out)
{
    PtrVec work = {0};
    for (int i = n->body.len - 1; i >= 0; i--)
        vec_push(&c->ar, &work, n->body.items[i]);
    while (work.len) {
        const Stmt *s = work.items[--work.len];
        if (s->kind == STMT_ASSIGN)
            vec_push(&c->ar, out, (void *)s);
        for (int i = 0; s->kind == STMT_IF && i < s->else_body.len; i++)
            vec_push(&c->ar, &work, s->else_body.items[i]);
        for (int i = 0; s->kind == STMT_IF && i < s->then_body.len; i++)
            vec_push(&c->ar, &work, s->then_body.items[i]);
    }
}

/* Whether P sets with `=` the tensor that reduction s reduces into. */
static bool initialises(const PtrVec *pstmts, const Stmt *s)
{
    for (int i = 0; i < pstmts->len; i++) {
        const Stmt *p = pstmts->items[i];
        if (p->aop == ASSIGN_SET && p->lhs->decl == s->lhs->decl)
            return true;
    }
    return false;
}

/* The outermost loop of R at or outside position at that iterates the
 * reduction of s (one of its originals does not index s's target); -1. */
static int reduction_loop_outside(LgCtx *c, const Nest *r, const Stmt *s, LgOrigin **org, int at,
                                  int *orig)
{
    for (int p = 0; p <= at; p++)
        for (int k = 0; k < org[p]->nd; k++) {
            int o = org[p]->d[k].orig;
            if (o >= 0 && !expr_uses(c, s->lhs, r->iters[o])) {
                *orig = o;
                return p;
            }
        }
    return -1;
}

/* The first pair of accesses, one in P and one in Q, to one tensor with at
 * least one of them a write; false when there is none. */
static bool nests_conflict(LgCtx *c, const Nest *p, const Nest *q, const LgAccess **pa,
                           const LgAccess **qa)
{
    LgNest lp = {.nest = p}, lq = {.nest = q};
    collect_accesses(c, &lp);
    collect_accesses(c, &lq);
    for (int i = 0; i < lp.nacc; i++)
        for (int j = 0; j < lq.nacc; j++)
            if (lp.acc[i].decl == lq.acc[j].decl && (lp.acc[i].write || lq.acc[j].write)) {
                *pa = &lp.acc[i];
                *qa = &lq.acc[j];
                return true;
            }
    return false;
}

/* fuse P into R at L moves P past the nests written between P and R: none of
 * them (unless fused into R too, keeping their order) may touch what P writes
 * or write what P reads. */
static bool check_fuse_between(LgCtx *c, const SchedRecord *rec, const NestSched *pn)
{
    int pi = pn->nest->index, ri = rec->nests[pn->fused_into].nest->index;
    int lo = pi < ri ? pi : ri, hi = pi < ri ? ri : pi;
    for (int k = 0; k < rec->nnests; k++) {
        const NestSched *qn = &rec->nests[k];
        int qi = qn->nest->index;
        if (qi <= lo || qi >= hi || qn->fused_into == pn->fused_into)
            continue;
        const LgAccess *pa, *qa;
        if (!nests_conflict(c, pn->nest, qn->nest, &pa, &qa))
            continue;
        diag_error(c->d, pn->fuse->span,
                   "cannot fuse '%s' into '%s': it would move '%s' %s '%s', which %s '%s' "
                   "that '%s' %s",
                   pn->nest->label.name, rec->nests[pn->fused_into].nest->label.name,
                   pn->nest->label.name, pi < ri ? "after" : "before", qn->nest->label.name,
                   qa->write ? "writes" : "reads", span_text(c, qa->e->span),
                   pn->nest->label.name, pa->write ? "writes" : "reads");
        diag_note(c->d, qa->e->span, "the access in '%s'", qn->nest->label.name);
        return false;
    }
    return true;
}

/* fuse P into R at L: an epilogue needs all of R's reduction loops inside L,
 * and an init must not run again between updates of one element. */
static void check_fuse(LgCtx *c, const SchedRecord *rec, const NestSched *pn)
{
    if (!check_fuse_between(c, rec, pn))
        return;
    const NestSched *rn = &rec->nests[pn->fused_into];
    const Nest *r = rn->nest;
    const SchedState *fin = sched_final(rn);
    LgOrigin **org = origins_of(c, origins_all(c, rn), fin);
    int at = -1;
    for (int p = 0; p < fin->nloops; p++)
        if (strcmp(fin->loops[p].name, pn->fused_at) == 0)
            at = p;
    bool epilogue = pn->nest->index > r->index;
    PtrVec rs = {0}, ps = {0};
    nest_statements(c, r, &rs);
    nest_statements(c, pn->nest, &ps);
    for (int i = 0; i < rs.len && at >= 0; i++) {
        const Stmt *s = rs.items[i];
        if (!s->is_reduction || (!epilogue && !initialises(&ps, s)))
            continue;
        int o = -1, p = reduction_loop_outside(c, r, s, org, at, &o);
        if (p < 0)
            continue;
        char where[LG_BUF];
        if (p == at)
            snprintf(where, sizeof where, "'%s' iterates", pn->fused_at);
        else
            snprintf(where, sizeof where, "'%s' is inside '%s', which iterates", pn->fused_at,
                     fin->loops[p].name);
        const char *pname = pn->nest->label.name, *rname = r->label.name;
        const char *target = span_text(c, s->lhs->span), *red = r->iters[o]->name.name;
        if (epilogue)
            diag_error(c->d, pn->fuse->span,
                       "cannot fuse '%s' into '%s' at '%s': %s the reduction of '%s' over '%s', "
                       "so '%s' would read elements before their reduction is complete",
                       pname, rname, pn->fused_at, where, target, red, pname);
        else
            diag_error(c->d, pn->fuse->span,
                       "cannot fuse '%s' into '%s' at '%s': %s the reduction of '%s' over '%s', "
                       "so '%s' would run again between updates of one element",
                       pname, rname, pn->fused_at, where, target, red, pname);
        diag_note(c->d, s->span, "the reduction");
        return;
    }
}

/* ---- entry ----------------------------------------------------------------- */

bool legality_check(const Checked *ch, Diag *d)
{
    int before = d->nerrors;
    LgCtx c = {.d = d};
    arena_init(&c.ar);
    for (int i = 0; i < ch->nrecords; i++) {
        const SchedRecord *r = ch->records[i];
        if (!r || !r->nests)
            continue;
        c.k = r->schedule->kdecl;
        for (int n = 0; n < r->nnests; n++)
            check_nest(&c, &r->nests[n]);
        for (int n = 0; n < r->nnests; n++)
            if (r->nests[n].fused_into >= 0 && r->nests[n].fused_at)
                check_fuse(&c, r, &r->nests[n]);
    }
    arena_free(&c.ar);
    return d->nerrors == before;
}
