/* The AST's own tables and the --emit=ast printer. */
#include "parser/ast.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

bool ast_param_is_buffer(const Param *p) { return p->type.is_tensor || p->mode != MODE_IN; }

const char *op_spelling(Op op)
{
    static const char *const s[] = {"-", "!", "+", "-", "*", "/", "%", "==", "!=",
                                    "<", "<=", ">", ">=", "&&", "||"};
    return s[op];
}

const char *assign_op_spelling(AssignOp op)
{
    static const char *const s[] = {"=", "+=", "-=", "*=", "/="};
    return s[op];
}

/* Every keyword's spelling by its token name (keywords.SPLIT == "split"), so
 * that a clause's keyword is spelled only in ACC_KEYWORDS. */
static const struct {
#define X(tok, s, cat) const char *tok;
    ACC_KEYWORDS(X)
#undef X
} keywords = {
#define X(tok, s, cat) .tok = s,
    ACC_KEYWORDS(X)
#undef X
};

const char *clause_keyword(ClauseKind k)
{
    switch (k) {
#define X(kind, effect, targets) case CLAUSE_##kind: return keywords.kind;
        ACC_CLAUSES(X)
#undef X
    }
    return "?";
}

ClauseEffect clause_effect(ClauseKind k)
{
    static const ClauseEffect e[] = {
#define X(kind, effect, targets) EFFECT_##effect,
        ACC_CLAUSES(X)
#undef X
    };
    return e[k];
}

ClauseTargets clause_targets(ClauseKind k)
{
    static const ClauseTargets t[] = {
#define X(kind, effect, targets) TARGETS_##targets,
        ACC_CLAUSES(X)
#undef X
    };
    return t[k];
}

bool clause_replaces_loops(ClauseKind k)
{
    return clause_effect(k) == EFFECT_PIECES || clause_effect(k) == EFFECT_FUSED;
}

/* ---- the printer ---- */

typedef struct Dumper {
    FILE *out;
    const Source *src;
} Dumper;

static void indent(Dumper *d, int depth)
{
    for (int i = 0; i < depth; i++)
        fputs("  ", d->out);
}

static void at(Dumper *d, Span s)
{
    int line, col;
    source_position(d->src, s.lo, &line, &col);
    fprintf(d->out, " @%d:%d\n", line, col);
}

static void dump_args(FILE *out, Expr **args, int n)
{
    for (int i = 0; i < n; i++) {
        if (i)
            fputs(", ", out);
        ast_dump_expr(out, args[i]);
    }
}

void ast_dump_expr(FILE *out, const Expr *e)
{
    switch (e->kind) {
    case EXPR_INT: fprintf(out, "%lld", (long long)e->ival); break;
    case EXPR_FLOAT: text_print_float(out, e->fval); break;
    case EXPR_BOOL: fputs(e->ival ? "true" : "false", out); break;
    case EXPR_INF: fputs("inf", out); break;
    case EXPR_PI: fputs("pi", out); break;
    case EXPR_NAME: fputs(e->name.name, out); break;
    case EXPR_INDEX:
        fprintf(out, "%s[", e->name.name);
        dump_args(out, e->args, e->nargs);
        fputc(']', out);
        break;
    case EXPR_CALL:
        fprintf(out, "%s(", e->name.name);
        dump_args(out, e->args, e->nargs);
        fputc(')', out);
        break;
    case EXPR_CAST:
        fprintf(out, "%s(", elem_type_name(e->cast));
        dump_args(out, e->args, e->nargs);
        fputc(')', out);
        break;
    case EXPR_UNARY:
        fprintf(out, "(%s", op_spelling(e->op));
        ast_dump_expr(out, e->args[0]);
        fputc(')', out);
        break;
    case EXPR_BINARY:
        fputc('(', out);
        ast_dump_expr(out, e->args[0]);
        fprintf(out, " %s ", op_spelling(e->op));
        ast_dump_expr(out, e->args[1]);
        fputc(')', out);
        break;
    case EXPR_COND:
        fputc('(', out);
        ast_dump_expr(out, e->args[0]);
        fputs(" ? ", out);
        ast_dump_expr(out, e->args[1]);
        fputs(" : ", out);
        ast_dump_expr(out, e->args[2]);
        fputc(')', out);
        break;
    }
}

static void dump_type(FILE *out, const TypeExpr *t)
{
    fputs(elem_type_name(t->elem), out);
    if (t->is_tensor) {
        fputc('[', out);
        dump_args(out, t->dims, t->ndims);
        fputc(']', out);
    }
}

static void dump_iters(Dumper *d, Iter **iters, int n)
{
    for (int i = 0; i < n; i++) {
        fprintf(d->out, "%s%s in ", i ? ", " : " ", iters[i]->name.name);
        ast_dump_expr(d->out, iters[i]->lo);
        fputs("..", d->out);
        ast_dump_expr(d->out, iters[i]->hi);
    }
}

static void dump_stmts(Dumper *d, const StmtList *body, int depth);

static void dump_stmt(Dumper *d, const Stmt *s, int depth)
{
    indent(d, depth);
    switch (s->kind) {
    case STMT_ASSIGN:
        ast_dump_expr(d->out, s->lhs);
        fprintf(d->out, " %s ", assign_op_spelling(s->aop));
        ast_dump_expr(d->out, s->rhs);
        at(d, s->span);
        break;
    case STMT_LET:
        fprintf(d->out, "let %s", s->name.name);
        if (s->let_type != ELEM_NONE)
            fprintf(d->out, ": %s", elem_type_name(s->let_type));
        fputs(" = ", d->out);
        ast_dump_expr(d->out, s->rhs);
        at(d, s->span);
        break;
    case STMT_IF:
        fputs("if ", d->out);
        ast_dump_expr(d->out, s->cond);
        at(d, s->span);
        dump_stmts(d, &s->then_body, depth + 1);
        if (s->has_else) {
            indent(d, depth);
            fputs("else\n", d->out);
            dump_stmts(d, &s->else_body, depth + 1);
        }
        break;
    case STMT_FOR:
        fputs("for", d->out);
        dump_iters(d, s->iters, s->niters);
        at(d, s->span);
        dump_stmts(d, &s->body, depth + 1);
        break;
    }
}

static void dump_stmts(Dumper *d, const StmtList *body, int depth)
{
    for (int i = 0; i < body->len; i++)
        dump_stmt(d, body->items[i], depth);
}

static void dump_kernel(Dumper *d, const Kernel *k)
{
    static const char *const modes[] = {"in", "out", "inout"};
    fprintf(d->out, "kernel %s", k->name.name);
    at(d, k->span);
    for (int i = 0; i < k->nparams; i++) {
        const Param *p = k->params[i];
        fprintf(d->out, "  param %s %s ", p->name.name, modes[p->mode]);
        dump_type(d->out, &p->type);
        at(d, p->span);
    }
    for (int i = 0; i < k->nvars; i++) {
        fprintf(d->out, "  var %s ", k->vars[i]->name.name);
        dump_type(d->out, &k->vars[i]->type);
        at(d, k->vars[i]->span);
    }
    for (int i = 0; i < k->nnests; i++) {
        const Nest *n = k->nests[i];
        fprintf(d->out, "  nest %s for", n->label.name ? n->label.name : "_");
        dump_iters(d, n->iters, n->niters);
        at(d, n->span);
        dump_stmts(d, &n->body, 2);
    }
}

static void dump_idents(FILE *out, const Ident *ids, int n)
{
    for (int i = 0; i < n; i++)
        fprintf(out, "%s%s", i ? ", " : "", ids[i].name);
}

static void dump_factor(FILE *out, const Factor *f)
{
    if (f->param)
        fputs(f->param, out);
    else
        fprintf(out, "%lld", (long long)f->value);
}

static void dump_factors(FILE *out, const Factor *f, int n)
{
    for (int i = 0; i < n; i++) {
        if (i)
            fputs(", ", out);
        dump_factor(out, &f[i]);
    }
}

static void dump_clause(Dumper *d, const Clause *c, int depth)
{
    FILE *out = d->out;
    indent(d, depth);
    fprintf(out, "%s ", clause_keyword(c->kind));
    switch (c->kind) {
    case CLAUSE_SPLIT:
    case CLAUSE_TILE:
        dump_idents(out, c->loops, c->nloops);
        fputs(" by ", out);
        dump_factors(out, c->factors, c->nfactors);
        fputs(" -> ", out);
        dump_idents(out, c->outs, c->nouts);
        break;
    case CLAUSE_FUSE:
        dump_idents(out, c->loops, c->nloops);
        fputs(" -> ", out);
        dump_idents(out, c->outs, c->nouts);
        break;
    case CLAUSE_REORDER:
    case CLAUSE_UNROLL:
    case CLAUSE_VECTORIZE:
    case CLAUSE_PARALLEL:
        dump_idents(out, c->loops, c->nloops);
        break;
    case CLAUSE_BIND:
        for (int i = 0; i < c->nloops; i++)
            fprintf(out, "%s%s -> %s.%s", i ? ", " : "", c->loops[i].name, c->hw[i].unit.name,
                    c->hw[i].axis.name);
        break;
    case CLAUSE_CACHE:
        fprintf(out, "%s at %s in %s", c->tensor.name, c->loops[0].name,
                c->mem == MEM_SHARED ? "shared" : "registers");
        if (c->has_pad) {
            fputs(" pad ", out);
            dump_factor(out, &c->factors[0]);
        }
        if (c->swizzle)
            fputs(" swizzle", out);
        break;
    case CLAUSE_PIPELINE:
        fprintf(out, "%s stages ", c->loops[0].name);
        dump_factor(out, &c->factors[0]);
        if (c->specialize)
            fputs(" specialize", out);
        break;
    case CLAUSE_TENSORIZE:
        dump_idents(out, c->loops, c->nloops);
        fprintf(out, " with %s(", c->instr.name);
        dump_factors(out, c->shape, 3);
        fputc(')', out);
        break;
    case CLAUSE_RFACTOR:
        fprintf(out, "%s into %s", c->loops[0].name, c->tensor.name);
        break;
    }
    at(d, c->span);
}

void ast_print_sched_param(FILE *out, const SchedParam *p)
{
    fprintf(out, "param %s = %lld", p->name.name, (long long)p->value);
    if (p->set) {
        fputs(" in {", out);
        for (int j = 0; j < p->nset; j++)
            fprintf(out, "%s%lld", j ? ", " : "", (long long)p->set[j]);
        fputc('}', out);
    }
}

static void dump_schedule(Dumper *d, const Schedule *s)
{
    FILE *out = d->out;
    fprintf(out, "schedule %s for %s", s->kernel.name, s->vendor.name);
    if (s->arch.name)
        fprintf(out, "(%s)", s->arch.name);
    at(d, s->span);
    for (int i = 0; i < s->nparams; i++) {
        const SchedParam *p = s->params[i];
        fputs("  ", out);
        ast_print_sched_param(out, p);
        at(d, p->span);
    }
    for (int i = 0; i < s->nassumes; i++) {
        fputs("  assume ", out);
        ast_dump_expr(out, s->assumes[i]);
        at(d, s->assumes[i]->span);
    }
    for (int i = 0; i < s->nblocks; i++) {
        const InBlock *b = s->blocks[i];
        int depth = 1;
        if (b->label.name) {
            fprintf(out, "  in %s", b->label.name);
            at(d, b->span);
            depth = 2;
        }
        for (int j = 0; j < b->nclauses; j++)
            dump_clause(d, b->clauses[j], depth);
    }
    for (int i = 0; i < s->nfuses; i++) {
        const FuseInto *f = s->fuses[i];
        fputs("  fuse ", out);
        dump_idents(out, f->nests, f->nnests);
        fprintf(out, " into %s at %s", f->into.name, f->at.name);
        at(d, f->span);
    }
}

void ast_dump(FILE *out, const Source *src, const Program *p)
{
    Dumper d = {out, src};
    for (int i = 0; i < p->nkernels; i++)
        dump_kernel(&d, p->kernels[i]);
    for (int i = 0; i < p->nschedules; i++)
        dump_schedule(&d, p->schedules[i]);
}
