/* accl: the driver. Reads options, runs the pipeline in order, prints dumps,
 * and decides the exit code: 0 success, 1 errors in the input, 2 usage errors.
 *
 *   source -> tokens -> AST -> checked AST + schedule records -> (later: loop IR)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/compile.h"
#include "driver/driver.h"
#include "driver/fmt_cmd.h"
#include "driver/gpu_code.h"
#include "grammar.h"

#define ACCL_VERSION "0.1.0-dev"

enum { MAX_PARAMS = DRIVER_MAX_PARAMS };

typedef enum Emit {
    EMIT_NONE, EMIT_TOKENS, EMIT_AST, EMIT_SCHEDULE, EMIT_IR,
    EMIT_LLVM, EMIT_ASM, EMIT_OBJ,   /* code for a CPU target (src/driver/compile.c); llvm:
                                        a GPU target's device module (src/driver/gpu_code.c) */
    EMIT_PTX, EMIT_CUBIN,            /* device code for an Nvidia target (src/driver/gpu_code.c) */
    EMIT_AMDGCN, EMIT_HSACO,         /* device code for an AMD target (src/driver/gpu_code.c) */
} Emit;

typedef struct Options {
    const char *input;
    const char *output;
    const char *header;     /* --header FILE */
    const char *emit_name;  /* --emit=KIND as written */
    const char *target_name;
    Target target;
    Emit emit;
    bool check;
    bool print_resources;   /* --print-resources (Nvidia targets) */
    Color color;
    ParamOverride params[MAX_PARAMS];
    int nparams;
    DumpOptions dump;
} Options;

static const char usage_text[] =
    "usage: accl [options] FILE.acc     (FILE may be '-' for standard input)\n"
    "       accl run FILE.acc --kernel K --size M=77,N=33 [options]   (see 'accl run --help')\n"
    "       accl bench FILE.acc --kernel K --size M=2048,N=2048,K=2048 [options]   (see 'accl bench --help')\n"
    "       accl fmt [-w | --check] FILE...   print the canonical layout   (see 'accl fmt --help')\n"
    "\n"
    "  --check                 run every check a compile makes (the front end, the pass\n"
    "                          list, GPU targets: the GPU form) for the target; write nothing\n"
    "  --emit=KIND             print a stage: tokens, ast, schedule, ir; or the code for a CPU\n"
    "                          target: llvm (LLVM IR after O3), asm, obj (the object file);\n"
    "                          for a GPU target the device code: llvm (the device module),\n"
    "                          Nvidia: ptx, cubin (through ptxas); AMD: amdgcn (assembly),\n"
    "                          hsaco (the code object, through ld.lld)\n"
    "  --print-resources       Nvidia: print registers, shared memory and spills of each\n"
    "                          device kernel (from ptxas -v) to standard error\n"
    "  --dump=after-all        print the IR after every pass\n"
    "  --dump=after:PASS       print the IR after one pass (lower, schedule-loops, ...)\n"
    "  --target=TARGET         cpu (default: the host), cpu:x86_64|aarch64 (cross emission),\n"
    "                          nvidia:sm_80|sm_86|sm_89|sm_90|sm_90a,\n"
    "                          amd:gfx90a|gfx942|gfx1100\n"
    "  --param NAME=VALUE      override a schedule param (repeatable)\n"
    "  -o FILE                 write the output to FILE (replaced only on success); without\n"
    "                          --emit: the object file (GPU targets: for the host, holding\n"
    "                          the device code)\n"
    "  --header FILE           write the C header declaring every kernel\n"
    "  --color=auto|always|never\n"
    "                          colour diagnostics (auto: only on a terminal)\n"
    "  --help                  print this help\n"
    "  --version               print the version\n"
    "\n"
    "exit status: 0 success, 1 errors in the input, 2 usage errors\n";

static void usage_error(const char *fmt, const char *arg)
{
    fputs("accl: error: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n(run 'accl --help' for the options)\n", stderr);
}

/* Returns 0 on success, EXIT_USAGE (after a message) otherwise; -1 when done (help). */
static int parse_options(int argc, char **argv, Options *o)
{
    memset(o, 0, sizeof *o);
    o->target = TARGET_CPU;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return -1;
        } else if (strcmp(a, "--version") == 0) {
            printf("accl %s\n", ACCL_VERSION);
            return -1;
        } else if (strcmp(a, "--check") == 0) {
            o->check = true;
        } else if (strncmp(a, "--emit=", 7) == 0) {
            value = a + 7;
            o->emit_name = a;
            if (strcmp(value, "tokens") == 0)
                o->emit = EMIT_TOKENS;
            else if (strcmp(value, "ast") == 0)
                o->emit = EMIT_AST;
            else if (strcmp(value, "schedule") == 0)
                o->emit = EMIT_SCHEDULE;
            else if (strcmp(value, "ir") == 0)
                o->emit = EMIT_IR;
            else if (strcmp(value, "llvm") == 0)
                o->emit = EMIT_LLVM;
            else if (strcmp(value, "asm") == 0)
                o->emit = EMIT_ASM;
            else if (strcmp(value, "obj") == 0)
                o->emit = EMIT_OBJ;
            else if (strcmp(value, "ptx") == 0)
                o->emit = EMIT_PTX;
            else if (strcmp(value, "cubin") == 0)
                o->emit = EMIT_CUBIN;
            else if (strcmp(value, "amdgcn") == 0)
                o->emit = EMIT_AMDGCN;
            else if (strcmp(value, "hsaco") == 0)
                o->emit = EMIT_HSACO;
            else {
                usage_error("unknown --emit kind '%s' (expected tokens, ast, schedule, ir, llvm, "
                            "asm, obj, ptx, cubin, amdgcn or hsaco)",
                            value);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--print-resources") == 0) {
            o->print_resources = true;
        } else if (strcmp(a, "--dump=after-all") == 0) {
            o->dump.all = true;
        } else if (strncmp(a, "--dump=after:", 13) == 0) {
            o->dump.after = a + 13;
            if (!compile_has_pass(o->dump.after)) {
                usage_error("unknown pass '%s' in --dump=after:PASS", o->dump.after);
                return EXIT_USAGE;
            }
        } else if (strncmp(a, "--target=", 9) == 0) {
            o->target_name = a + 9;
            /* cpu:ARCH is the cpu target; the architecture only picks the
             * machine code (compile.c reads it from target_name). */
            o->target = strcmp(a + 9, "cpu:x86_64") == 0 || strcmp(a + 9, "cpu:aarch64") == 0
                            ? TARGET_CPU
                            : sema_parse_target(a + 9);
            if (o->target == TARGET_NONE) {
                usage_error("unknown target '%s' (expected cpu, cpu:x86_64, cpu:aarch64, "
                            "nvidia:sm_80, sm_86, sm_89, sm_90, sm_90a, amd:gfx90a, gfx942 or "
                            "gfx1100)",
                            a + 9);
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--param") == 0 || strncmp(a, "--param=", 8) == 0) {
            value = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
            if (!value) {
                usage_error("%s needs NAME=VALUE", "--param");
                return EXIT_USAGE;
            }
            if (o->nparams == MAX_PARAMS) {
                usage_error("too many --param options (the limit is %s)", "64");
                return EXIT_USAGE;
            }
            if (!driver_parse_param(value, &o->params[o->nparams])) {
                usage_error("--param expects NAME=INTEGER, got '%s'", value);
                return EXIT_USAGE;
            }
            o->nparams++;
        } else if (strcmp(a, "--header") == 0 || strncmp(a, "--header=", 9) == 0) {
            o->header = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!o->header || !*o->header) {
                usage_error("%s needs a file name", "--header");
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "-o") == 0) {
            if (i + 1 >= argc) {
                usage_error("%s needs a file name", "-o");
                return EXIT_USAGE;
            }
            o->output = argv[++i];
        } else if (strncmp(a, "--color=", 8) == 0) {
            value = a + 8;
            if (strcmp(value, "auto") == 0)
                o->color = COLOR_AUTO;
            else if (strcmp(value, "always") == 0)
                o->color = COLOR_ALWAYS;
            else if (strcmp(value, "never") == 0)
                o->color = COLOR_NEVER;
            else {
                usage_error("unknown --color value '%s' (expected auto, always or never)", value);
                return EXIT_USAGE;
            }
        } else if (a[0] == '-' && a[1] != '\0') {
            usage_error("unknown option '%s'", a);
            return EXIT_USAGE;
        } else if (o->input) {
            usage_error("more than one input file ('%s')", a);
            return EXIT_USAGE;
        } else {
            o->input = a;
        }
    }
    if (!o->input) {
        usage_error("%s", "no input file");
        return EXIT_USAGE;
    }
    /* --check writes nothing; its checks do not stop at a stage (--dump may
     * still print the IR: golden tests of one pass use it). */
    if (o->check && ((o->emit >= EMIT_TOKENS && o->emit <= EMIT_IR) || (o->output && o->emit == EMIT_NONE))) {
        usage_error("%s cannot be combined with --check", o->emit != EMIT_NONE ? o->emit_name : "-o");
        return EXIT_USAGE;
    }
    bool code = o->emit == EMIT_LLVM || o->emit == EMIT_ASM || o->emit == EMIT_OBJ;
    if (code && (o->check || (target_is_gpu(o->target) && o->emit != EMIT_LLVM))) {
        usage_error("%s needs a CPU target and no --check", o->emit_name);
        return EXIT_USAGE;
    }
    /* Device code: --emit=llvm for any GPU target; ptx, cubin and
     * --print-resources for Nvidia ones; never with a header. */
    bool ptx = o->emit == EMIT_PTX || o->emit == EMIT_CUBIN;
    bool nvidia = target_is_gpu(o->target) && strcmp(target_vendor(o->target), "nvidia") == 0;
    if ((ptx || o->print_resources) && (o->check || !nvidia)) {
        usage_error("%s needs an Nvidia target and no --check", ptx ? o->emit_name : "--print-resources");
        return EXIT_USAGE;
    }
    /* amdgcn and hsaco for AMD ones. */
    bool amdcode = o->emit == EMIT_AMDGCN || o->emit == EMIT_HSACO;
    if (amdcode && (o->check || !target_is_gpu(o->target) || strcmp(target_vendor(o->target), "amd") != 0)) {
        usage_error("%s needs an AMD target and no --check", o->emit_name);
        return EXIT_USAGE;
    }
    bool device = target_is_gpu(o->target) && (o->emit == EMIT_LLVM || ptx || amdcode);
    const char *alone = o->emit != EMIT_NONE && !device ? o->emit_name
                      : o->emit == EMIT_NONE && o->output ? "-o without --emit"
                      : o->emit == EMIT_NONE && o->header ? "--header" : NULL;
    if (o->print_resources && alone) {
        usage_error("--print-resources cannot be combined with %s", alone);
        return EXIT_USAGE;
    }
    if (device && o->header) {
        usage_error("--header cannot be combined with %s", o->emit_name);
        return EXIT_USAGE;
    }
    /* The header goes with the code (a GPU target's: the host object). */
    const char *clash = o->check ? "--check" : o->emit != EMIT_NONE && !code ? o->emit_name : NULL;
    if (o->header && clash) {
        usage_error("--header cannot be combined with %s", clash);
        return EXIT_USAGE;
    }
    return 0;
}

static void free_options(Options *o)
{
    for (int i = 0; i < o->nparams; i++)
        free((char *)o->params[i].name);
}

static const char *token_code_name(int kind)
{
    switch (kind) {
    case TK_EOF: return "EOF";
    case TK_COMMENT: return "COMMENT";
    case TK_IDENT: return "IDENT";
    case TK_INT: return "INT";
    case TK_FLOAT: return "FLOAT";
    case TK_TYPE: return "TYPE";
#define X(tok, s, cat) case TK_##tok: return #tok;
    ACC_KEYWORDS(X)
#undef X
#define X(tok, s) case TK_##tok: return #tok;
    ACC_PUNCT(X)
#undef X
    }
    return "?";
}

static void dump_tokens(FILE *out, const Source *src, Diag *diag)
{
    Lexer lx;
    lex_init(&lx, src, diag);
    Token t;
    do {
        lex_next(&lx, &t);
        int line, col;
        source_position(src, t.span.lo, &line, &col);
        fprintf(out, "%d:%d %s", line, col, token_code_name(t.kind));
        if (t.kind != TK_EOF) {
            fputs(" '", out);
            for (uint32_t i = t.span.lo; i < t.span.hi; i++) {
                char c = src->text[i];
                if (c == '\n')
                    fputs("\\n", out);
                else if (c == '\t')
                    fputs("\\t", out);
                else if (c == '\\' || c == '\'')
                    fprintf(out, "\\%c", c);
                else
                    fputc(c, out);
            }
            fputc('\'', out);
        }
        fputc('\n', out);
    } while (t.kind != TK_EOF);
}

/* Prints the IR of every kernel for the target, in file order. */
static int emit_ir(Frontend *fe, const Options *opt)
{
    Output out;
    if (!output_open(&out, opt->output))
        return EXIT_INPUT;
    /* Dumps go to standard output, before the final IR of their kernel. */
    DumpOptions dump = opt->dump;
    dump.out = stdout;
    bool ok = true;
    /* the GPU execution form or the CPU steps only for a dump of one of their steps */
    bool steps = dump.after && (compile_gpu_has_step(dump.after) || compile_cpu_has_step(dump.after));
    for (int i = 0; i < fe->prog->nkernels && ok; i++) {
        IrFunc *f = compile_kernel(&fe->compile, fe->prog->kernels[i], steps, &dump);
        if (!f)
            ok = false;
        else if (!dump.after)   /* --dump=after:PASS shows that pass's IR only */
            ir_print(out.f, f);
    }
    return output_close(&out, ok) ? 0 : EXIT_INPUT;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "run") == 0)
        return run_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "bench") == 0)
        return bench_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "fmt") == 0)
        return fmt_main(argc - 1, argv + 1);

    Options opt;
    int rc = parse_options(argc, argv, &opt);
    if (rc != 0) {
        free_options(&opt);
        return rc < 0 ? 0 : rc;
    }

    Frontend fe;
    FrontendStage stage = opt.emit == EMIT_TOKENS ? FE_READ
                          : opt.emit == EMIT_AST  ? FE_PARSE
                                                  : FE_CHECK;
    rc = frontend_load(&fe, opt.input, opt.target, opt.target_name != NULL, opt.params,
                       opt.nparams, opt.color, stage);
    Output out;
    if (rc == 0 && opt.emit == EMIT_TOKENS) {
        if (output_open(&out, opt.output)) {
            dump_tokens(out.f, &fe.src, &fe.diag);
            rc = output_close(&out, fe.diag.nerrors == 0) ? 0 : EXIT_INPUT;
        } else {
            rc = EXIT_INPUT;
        }
    } else if (rc == 0 && (opt.emit == EMIT_AST || opt.emit == EMIT_SCHEDULE)) {
        if (output_open(&out, opt.output)) {
            if (opt.emit == EMIT_AST)
                ast_dump(out.f, &fe.src, fe.prog);
            else
                sched_dump(out.f, &fe.src, &fe.checked);
            rc = output_close(&out, true) ? 0 : EXIT_INPUT;
        } else {
            rc = EXIT_INPUT;
        }
    } else if (rc == 0 && (opt.emit == EMIT_IR || opt.dump.all || opt.dump.after)) {
        rc = emit_ir(&fe, &opt);
        /* --check with a dump: the dump stops where it is asked to, the checks do not. */
        if (rc == 0 && opt.check && !compile_check(&fe.compile))
            rc = EXIT_INPUT;
    } else if (rc == 0 && target_is_gpu(opt.target) && (opt.emit >= EMIT_LLVM || opt.print_resources)) {
        /* --emit=llvm|ptx|cubin|amdgcn|hsaco, --print-resources: the device code. */
        GpuCodeOptions gc = {.kind = opt.emit == EMIT_PTX      ? GPU_CODE_PTX
                                     : opt.emit == EMIT_CUBIN  ? GPU_CODE_CUBIN
                                     : opt.emit == EMIT_AMDGCN ? GPU_CODE_AMDGCN
                                     : opt.emit == EMIT_HSACO  ? GPU_CODE_HSACO
                                     : opt.emit == EMIT_LLVM   ? GPU_CODE_LLVM
                                                               : GPU_CODE_NONE,
                             .output = opt.output, .print_resources = opt.print_resources};
        rc = driver_gpu_code(&fe, &gc);
    } else if (rc == 0 && opt.emit >= EMIT_LLVM) {
        /* --emit=llvm|asm|obj: the code (and the header if asked). */
        CodeKind kind = opt.emit == EMIT_LLVM ? CODE_LLVM : opt.emit == EMIT_ASM ? CODE_ASM : CODE_OBJ;
        CodeOptions code = {.want_code = true, .kind = kind, .output = opt.output,
                            .header = opt.header, .target_name = opt.target_name};
        rc = driver_compile(&fe, &code);
    } else if (rc == 0 && !opt.check && (opt.output || opt.header)) {
        /* No --emit and -o or --header: the object and the header (for a GPU
         * target, the host object holding the device code). */
        CodeOptions code = {.want_code = opt.output != NULL, .kind = CODE_OBJ, .output = opt.output,
                            .header = opt.header, .target_name = opt.target_name};
        rc = driver_compile(&fe, &code);
    } else if (rc == 0 && !compile_check(&fe.compile)) {
        /* --check, or no --emit, -o or --header: every kernel lowered for the
         * target (the pass list, and the GPU execution form for a GPU target),
         * which checks what needs the loop IR (cache regions, fusion, barriers
         * and shared memory, resource limits), and nothing written. */
        rc = EXIT_INPUT;
    }
    frontend_free(&fe);
    free_options(&opt);
    return rc;
}
