/* header: the C header for an object (`--header FILE`).
 *
 *   guard, <stdbool.h> <stdint.h>, extern "C" for C++
 *   the runtime's types, codes and accl_strerror, from the one list in
 *     runtime/accl_codes.h, under accl.h's own guard (ACCL_RUNTIME_TYPES_H):
 *     the header stands alone, and including accl.h too is harmless
 *   per kernel: a comment with its parameters' shapes and its assumptions,
 *     and the prototype of the design's calling convention (entry.c)
 *
 * The header depends on nothing but the kernels' declarations, so it is the
 * same for every target architecture of the CPU; for a GPU target the
 * tensors are device pointers and every prototype ends with `void *stream`
 * (NULL: the default stream). */
#include <string.h>

#include "emit/emit.h"
#include "parser/ast.h"
#include "runtime/accl_codes.h"

/* The runtime's part, expanded from the shared list. */
static void header_runtime(FILE *out)
{
    fputs("#ifndef ACCL_RUNTIME_TYPES_H\n#define ACCL_RUNTIME_TYPES_H\n", out);
#define X(name, ctype, doc) fprintf(out, "typedef %s %s; /* %s */\n", #ctype, #name, doc);
    ACCL_TYPEDEFS(X)
#undef X
    fputs("/* What a kernel returns; nothing is written when a check on entry fails. */\n"
          "enum accl_code {\n",
          out);
#define X(name, value, doc) fprintf(out, "    ACCL_%s = %d, /* %s */\n", #name, value, doc);
    ACCL_CODES(X)
#undef X
    fputs("};\n/* The meaning of a code, as text. */\nconst char *accl_strerror(int code);\n"
          "#endif\n",
          out);
}

/* Binding strength of a binary operator, for printing with few parentheses. */
static int header_prec(Op op)
{
    switch (op) {
    case OP_OR: return 1;
    case OP_AND: return 2;
    case OP_EQ:
    case OP_NE: return 3;
    case OP_LT:
    case OP_LE:
    case OP_GT:
    case OP_GE: return 4;
    case OP_ADD:
    case OP_SUB: return 5;
    default: return 6;   /* * / % */
    }
}

/* A shape entry or an assume (sizes, params, literals, operators) as the
 * language writes it, with parentheses only where they are needed. */
static void header_expr(FILE *out, const Expr *e, int min_prec)
{
    switch (e->kind) {
    case EXPR_INT: fprintf(out, "%lld", (long long)e->ival); return;
    case EXPR_BOOL: fputs(e->ival ? "true" : "false", out); return;
    case EXPR_NAME: fputs(e->name.name, out); return;
    case EXPR_UNARY:
        fputs(op_spelling(e->op), out);
        header_expr(out, e->args[0], 7);
        return;
    case EXPR_BINARY: {
        int p = header_prec(e->op);
        if (p < min_prec)
            fputc('(', out);
        header_expr(out, e->args[0], p);
        fprintf(out, " %s ", op_spelling(e->op));
        header_expr(out, e->args[1], p + 1);
        if (p < min_prec)
            fputc(')', out);
        return;
    }
    default: ast_dump_expr(out, e); return;
    }
}

static const char *header_mode(ParamMode m)
{
    return m == MODE_OUT ? "out " : m == MODE_INOUT ? "inout " : "";
}

static const char *header_ctype(ElemType t)
{
    switch (t) {
#define X(e, s, bytes, cls, ctype) \
    case ELEM_##e: return ctype;
        ACC_ELEM_TYPES(X)
#undef X
    default: return "void";
    }
}

/* C keywords a parameter name may not be in a prototype: such a name gets a
 * trailing underscore (the name has no meaning to the caller). */
static bool header_c_keyword(const char *s)
{
    static const char *const kw[] = {
        "auto",     "break",   "case",     "char",       "const",    "continue", "default",
        "do",       "double",  "else",     "enum",       "extern",   "float",    "for",
        "goto",     "if",      "inline",   "int",        "long",     "register", "restrict",
        "return",   "short",   "signed",   "sizeof",     "static",   "struct",   "switch",
        "typedef",  "union",   "unsigned", "void",       "volatile", "while",    "bool",
        "true",     "false",   "_Bool",    "_Complex",   "_Atomic",  "class",    "new",
        "delete",   "this",    "template", "namespace",  "operator", "private",  "public",
    };
    for (size_t i = 0; i < sizeof kw / sizeof kw[0]; i++)
        if (strcmp(s, kw[i]) == 0)
            return true;
    return false;
}

static void header_name(FILE *out, const char *name)
{
    fprintf(out, "%s%s", name, header_c_keyword(name) ? "_" : "");
}

/* The comment above a prototype: each parameter with its type and shape,
 * then the schedule's assumptions. */
static void header_comment(FILE *out, const IrFunc *f)
{
    const Kernel *k = f->kernel;
    fprintf(out, "/* %s\n", f->name);
    for (int i = 0; i < f->nparams; i++) {
        const IrParam *p = &f->params[i];
        fprintf(out, " *   %s: %s%s", p->name, header_mode(p->mode), elem_type_name(p->elem));
        if (p->tensor) {
            fputc('[', out);
            for (int d = 0; d < p->buf->ndims; d++) {
                if (d)
                    fputs(", ", out);
                header_expr(out, k->params[i]->type.dims[d], 0);
            }
            fputc(']', out);
        }
        fputc('\n', out);
    }
    const Schedule *s = f->schedule;
    for (int i = 0; s && i < s->nassumes; i++) {
        fputs(" *   assumes ", out);
        header_expr(out, s->assumes[i], 0);
        fputs(" (else ACCL_ERR_ASSUME)\n", out);
    }
    fputs(" */\n", out);
}

/* int K(const T *in, T *out, scalars by value, int64_t sizes...); GPU
 * targets take device pointers and end with `void *stream`. */
static void header_prototype(FILE *out, const IrFunc *f)
{
    fprintf(out, "int %s(", f->name);
    int written = 0;
    for (int i = 0; i < f->nparams; i++, written++) {
        const IrParam *p = &f->params[i];
        fputs(written ? ", " : "", out);
        if (p->buf)
            fprintf(out, "%s%s *", p->mode == MODE_IN ? "const " : "", header_ctype(p->elem));
        else
            fprintf(out, "%s ", header_ctype(p->elem));
        header_name(out, p->name);
    }
    for (int i = 0; i < f->nsizes; i++, written++) {
        fprintf(out, "%sint64_t ", written ? ", " : "");
        header_name(out, f->sizes[i]->name);
    }
    if (target_is_gpu(f->target))
        fprintf(out, "%svoid *stream", written++ ? ", " : "");
    fputs(written ? ");\n" : "void);\n", out);
}

void emit_header(FILE *out, const char *guard, IrFunc *const *funcs, int n)
{
    fputs("/* Generated by accl. Every function returns ACCL_OK or an ACCL_ERR_* code;\n"
          " * link with the object and libaccrt.a (-lpthread). */\n",
          out);
    if (n > 0 && target_is_gpu(funcs[0]->target))
        fprintf(out,
                "/* For %s:%s. Tensors are device pointers; the last argument is the stream\n"
                " * (NULL: the default stream). A call checks its arguments, then enqueues the\n"
                " * launches on the stream and returns: synchronize the stream before reading\n"
                " * results. The GPU code is in the object; libaccrt.a loads the driver with\n"
                " * dlopen (-ldl on older C libraries). */\n",
                target_vendor(funcs[0]->target), target_arch(funcs[0]->target));
    fprintf(out,
            "#ifndef %s\n#define %s\n\n"
            "#include <stdbool.h>\n#include <stdint.h>\n\n"
            "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
            guard, guard);
    header_runtime(out);
    for (int i = 0; i < n; i++) {
        fputc('\n', out);
        header_comment(out, funcs[i]);
        header_prototype(out, funcs[i]);
    }
    fputs("\n#ifdef __cplusplus\n}\n#endif\n\n#endif\n", out);
}
