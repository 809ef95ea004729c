# accl: the .acc kernel compiler.
#   make run    install what is needed, build, then check, interpret, compile and time every example
#   make test   install, build, run every test (Criterion + golden)
#   make asan   the same tests built with AddressSanitizer and UBSan
#   make fuzz   the libFuzzer targets of tests/fuzz/, FUZZ_SECONDS each

BUILD   ?= build
CC      ?= cc
OPT     ?= -O2 -g
SAN     ?=
# The bad-input tests must each end within this many milliseconds.
TIME_LIMIT_MS ?= 1000
# tests/run/emulate.sh: the largest product of sizes of a run in the GPU emulator.
EMULATE_BUDGET ?= 300000
# ... and for the other GPU targets' sweep (sm_86..sm_90a, gfx90a, gfx1100).
EMULATE_BUDGET_OTHER ?= 20000
LLVM_DIR := /usr/lib/llvm-19
CFLAGS  := -std=c11 $(OPT) -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -D_POSIX_C_SOURCE=200809L -Isrc -I$(BUILD) -I$(LLVM_DIR)/include $(SAN)
# Generated code follows Lemon's and re2c's own style; it keeps -Werror for all else.
GENFLAGS := -Wno-unused-parameter -Wno-unused-variable -Wno-shadow
LDFLAGS := $(SAN)
LDLIBS  := -L$(LLVM_DIR)/lib -Wl,-rpath,$(LLVM_DIR)/lib -lLLVM-19 -lpthread -lm

DEB_PACKAGES := re2c lemon libcriterion-dev llvm-19-dev llvm-19-tools clang-19 lld-19 libopenblas-dev groff-base
# libFuzzer's runtime (make fuzz).
DEB_PACKAGES += libclang-rt-19-dev
# The editor-grammar tests (tests/editors/run.sh): Node for vscode-textmate, Vim, Emacs.
DEB_PACKAGES += nodejs vim emacs-nox
# npm: Debian's package, unless the Node install brings its own (NodeSource's nodejs does).
DEB_PACKAGES += $(if $(shell command -v npm),,npm)
# make difftest: the schedule generator (tests/difftest/gen.py, standard library only).
DEB_PACKAGES += python3

LIB_SRCS := $(wildcard src/util/*.c src/parser/*.c src/sema/*.c src/lower/*.c src/run/*.c src/emit/*.c src/fmt/*.c)
# The runtime generated code links against: no LLVM, no compiler code.
RT_SRCS := $(wildcard src/runtime/*.c)
RT_OBJS := $(RT_SRCS:%.c=$(BUILD)/%.o)
GEN_SRCS := $(BUILD)/lexer.c $(BUILD)/grammar.c
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o) $(GEN_SRCS:.c=.o)
DRIVER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/driver/*.c))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/%.o)

.PHONY: all deps run test unit golden golden-update asan fuzz clean bench install uninstall

all: $(BUILD)/accl

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "installing:$$missing"; \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@[ -d tests/editors/node_modules ] || npm ci --prefix tests/editors --no-audit --no-fund

$(BUILD)/grammar.c $(BUILD)/grammar.h &: src/parser/grammar.y
	@mkdir -p $(BUILD)
	lemon -q -T/usr/share/lemon/lempar.c -d$(BUILD) src/parser/grammar.y
	@touch $(BUILD)/grammar.c $(BUILD)/grammar.h

$(BUILD)/lexer.c: src/parser/lexer.re
	@mkdir -p $(BUILD)
	re2c -W --no-generation-date --no-version -o $@ $<

$(BUILD)/%.o: $(BUILD)/%.c $(BUILD)/grammar.h
	$(CC) $(CFLAGS) $(GENFLAGS) -Isrc/parser -c -o $@ $<

$(BUILD)/%.o: %.c $(BUILD)/grammar.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/libaccl.a: $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/libaccrt.a: $(RT_OBJS)
	rm -f $@
	ar rcs $@ $^

# accl links the runtime too: the JIT resolves generated code's calls into it.
$(BUILD)/accl: $(DRIVER_OBJS) $(BUILD)/libaccl.a $(BUILD)/libaccrt.a
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(DRIVER_OBJS) -Wl,--whole-archive $(BUILD)/libaccrt.a \
	    -Wl,--no-whole-archive $(BUILD)/libaccl.a $(LDLIBS)

# The unit tests JIT kernels too: the runtime whole and its symbols exported. They
# compile through lower/compile.h as the driver does, and link no driver code.
$(BUILD)/unit-tests: $(UNIT_OBJS) $(BUILD)/libaccl.a $(BUILD)/libaccrt.a
	$(CC) $(LDFLAGS) -rdynamic -o $@ $(UNIT_OBJS) -Wl,--whole-archive $(BUILD)/libaccrt.a \
	    -Wl,--no-whole-archive $(BUILD)/libaccl.a -lcriterion $(LDLIBS)

run: deps
	$(MAKE) all
	@bash tests/check-examples.sh $(BUILD)/accl
	@bash tests/run/examples-table.sh $(BUILD)/accl
	@bash tests/run/examples-cpu.sh $(BUILD)/accl

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests --jobs=2

# make golden [CASE=spmd/]: every golden case, or those CASE picks (see tests/golden/run.sh).
golden: $(BUILD)/accl
	@bash tests/golden/run.sh $(BUILD)/accl $(CASE)

# Every suite runs even when an earlier one fails; the target fails if any did.
test: deps
	$(MAKE) all $(BUILD)/unit-tests
	@failed=""; \
	$(BUILD)/unit-tests --jobs=2 || failed="$$failed unit"; \
	bash tests/golden/run.sh $(BUILD)/accl || failed="$$failed golden"; \
	bash tests/check.sh $(BUILD)/accl || failed="$$failed check"; \
	ACCL_TIME_LIMIT_MS=$(TIME_LIMIT_MS) bash tests/badinput.sh $(BUILD)/accl || failed="$$failed badinput"; \
	bash tests/spec-errors.sh || failed="$$failed spec-errors"; \
	bash tests/run/values.sh $(BUILD)/accl || failed="$$failed values"; \
	bash tests/run/cli.sh $(BUILD)/accl || failed="$$failed run-cli"; \
	bash tests/run/correctness.sh $(BUILD)/accl || failed="$$failed correctness"; \
	bash tests/run/correctness.sh $(BUILD)/accl tests/run/tutorials/*.acc || failed="$$failed tutorials"; \
	bash tests/run/correctness.sh --jit $(BUILD)/accl tests/run/tutorials/*.acc || failed="$$failed tutorials-jit"; \
	ACCL_RUN_BUDGET=300000 bash tests/run/correctness.sh $(BUILD)/accl $$(for f in tests/golden/lower/*.acc \
	    tests/golden/legality/*.acc tests/golden/schedule/*.acc; do b=$${f%.acc}; \
	    if [ -e $$b.ir ] || [ -e $$b.ok ] || [ -e $$b.sched ]; then echo $$f; fi; done) \
	    || failed="$$failed correctness-golden"; \
	CAPI_CFLAGS="$(SAN)" bash tests/capi/run.sh $(BUILD)/accl || failed="$$failed capi"; \
	CAPI_CFLAGS="$(SAN)" bash tests/capi/gpu.sh $(BUILD)/accl || failed="$$failed capi-gpu"; \
	CAPI_CFLAGS="$(SAN)" bash tests/capi/gpu_bundle.sh $(BUILD)/accl || failed="$$failed gpu-bundle"; \
	bash tests/run/correctness.sh --jit $(BUILD)/accl || failed="$$failed correctness-jit"; \
	ACCL_RUN_BUDGET=$(EMULATE_BUDGET) ACCL_RUN_BUDGET_OTHER=$(EMULATE_BUDGET_OTHER) bash tests/run/emulate.sh $(BUILD)/accl || failed="$$failed emulate"; \
	bash tests/emit/check.sh $(BUILD)/accl || failed="$$failed emit"; \
	bash tests/emit/gpu.sh $(BUILD)/accl || failed="$$failed emit-gpu"; \
	bash tests/emit/amdgpu.sh $(BUILD)/accl || failed="$$failed emit-amdgpu"; \
	bash tests/emit/spmd-examples.sh $(BUILD)/accl || failed="$$failed spmd-examples"; \
	bash tests/editors/run.sh $(BUILD)/accl || failed="$$failed editors"; \
	bash tests/fmt/run.sh $(BUILD)/accl || failed="$$failed fmt"; \
	bash tests/man/run.sh $(BUILD)/accl || failed="$$failed man"; \
	INSTALL_CFLAGS="$(SAN)" bash tests/man/install.sh $(BUILD)/accl || failed="$$failed install"; \
	if [ -n "$$failed" ]; then echo "FAILED:$$failed"; exit 1; fi; echo "all test suites passed"

golden-update: $(BUILD)/accl
	@bash tests/golden/run.sh $(BUILD)/accl --update $(CASE)

# make difftest [N=200] [SEED=1]: random schedules for every example kernel, each checked
# against the reference when accepted, plus schedules illegal by construction that must be
# rejected (tests/difftest/gen.py). Prints `N passed, N failed` and a shrunk reproducer
# for each failure.
N    ?= 200
SEED ?= 1
.PHONY: difftest
difftest: $(BUILD)/accl
	python3 tests/difftest/gen.py --accl $(BUILD)/accl -n $(N) --seed $(SEED)

# Leak detection on (LeakSanitizer), with tests/unit/lsan.supp for Criterion's own leak.
asan: deps
	ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/unit/lsan.supp \
	$(MAKE) test BUILD=build/asan OPT="-O1 -g" TIME_LIMIT_MS=10000 EMULATE_BUDGET=20000 EMULATE_BUDGET_OTHER=3000 \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"

# make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="frontend pipeline"]: the libFuzzer targets
# (tests/fuzz/fuzz_*.c), each for FUZZ_SECONDS.
# The library is built with clang-19 and the sanitizers into build/fuzzlib; the front-end
# target starts from examples/ and the golden inputs (build/fuzz-corpus/frontend), the
# pipeline target from nothing. A crash leaves its input in build/fuzz/ and fails.
FUZZ_SECONDS ?= 60
# libFuzzer's -seed: 0 picks one from the clock; CI fixes it so its run is reproducible.
FUZZ_SEED ?= 0
FUZZ_TARGETS ?= frontend pipeline
FUZZ_LIB := build/fuzzlib
FUZZ_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

fuzz: deps
	$(MAKE) BUILD=$(FUZZ_LIB) CC=clang-19 OPT="-O1 -g" \
	    SAN="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" $(FUZZ_LIB)/libaccl.a
	@mkdir -p build/fuzz build/fuzz-corpus/frontend build/fuzz-corpus/pipeline
	for t in frontend pipeline; do \
	    clang-19 -std=c11 -O1 -g -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -Isrc -I$(FUZZ_LIB) \
	        -I$(LLVM_DIR)/include -fsanitize=fuzzer $(FUZZ_SAN) -o build/fuzz/fuzz_$$t \
	        tests/fuzz/fuzz_$$t.c $(FUZZ_LIB)/libaccl.a $(LDLIBS) || exit 1; \
	done
	@for f in examples/*.acc $$(find tests/golden -name '*.acc'); do \
	    cp "$$f" build/fuzz-corpus/frontend/$$(echo "$$f" | tr / _); done
	@for t in $(FUZZ_TARGETS); do \
	    echo "fuzzing $$t for $(FUZZ_SECONDS) s"; \
	    (cd build/fuzz && ./fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -seed=$(FUZZ_SEED) \
	        -print_final_stats=1 ../fuzz-corpus/$$t) || exit 1; \
	done

bench: deps
	$(MAKE) all
	bash bench/frontend.sh $(BUILD)/accl
	bash bench/cpu_gemm.sh $(BUILD)/accl

# make gpu-bundle [GPU_ARCH=sm_90]: into $(BUILD)/gpu-bundle, what a machine with an
# Nvidia GPU, nvcc and cuBLAS (no LLVM) needs to check and time the examples there:
# each GPU example's host object (device code for GPU_ARCH) and header, its CPU
# reference object, libaccrt.a and the harness; run `bash run.sh` in that folder
# (bench/gpu/run.sh).
GPU_ARCH ?= sm_90
.PHONY: gpu-bundle
gpu-bundle: $(BUILD)/accl $(BUILD)/libaccrt.a
	bash bench/gpu/bundle.sh $(BUILD)/accl $(BUILD)/gpu-bundle $(GPU_ARCH)

# make install [PREFIX=/usr/local] [DESTDIR=]: accl, the runtime library and headers, the
# man page, stdlib/*.acc and lang/editors/ (as it is). Each file and each folder it had to
# create is listed in PREFIX/share/accl/install-manifest; make uninstall removes exactly
# those (a folder only once empty). Installing again adds to the list.
PREFIX  ?= /usr/local
DESTDIR ?=
MANIFEST = $(PREFIX)/share/accl/install-manifest

install: $(BUILD)/accl $(BUILD)/libaccrt.a
	@set -e; log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	mkdirs() { [ -d "$(DESTDIR)$$1" ] && return 0; mkdirs "$$(dirname "$$1")"; \
	    mkdir "$(DESTDIR)$$1"; echo "d $$1" >>"$$log"; }; \
	put() { d='$(PREFIX)'/$$3; mkdirs "$$d"; echo "install -m $$1 $$2 $(DESTDIR)$$d"; \
	    install -m "$$1" "$$2" "$(DESTDIR)$$d/"; echo "f $$d/$$(basename "$$2")" >>"$$log"; }; \
	put 755 $(BUILD)/accl bin; \
	put 644 $(BUILD)/libaccrt.a lib; \
	put 644 src/runtime/accl.h include; \
	put 644 src/runtime/accl_codes.h include; \
	put 644 man/accl.1 share/man/man1; \
	for f in stdlib/*.acc; do [ ! -e "$$f" ] || put 644 "$$f" share/accl/stdlib; done; \
	[ ! -d lang/editors ] || (cd lang/editors && find . -name node_modules -prune -o -type f -print) \
	    | sed 's|^\./||' | sort | while IFS= read -r f; do \
	    sub=$$(dirname "$$f"); [ "$$sub" = . ] && sub= || sub=/$$sub; \
	    put 644 "lang/editors/$$f" "share/accl/editors$$sub"; done; \
	mkdirs "$$(dirname '$(MANIFEST)')"; m='$(DESTDIR)$(MANIFEST)'; \
	{ [ ! -f "$$m" ] || cat "$$m"; cat "$$log"; } | awk '!seen[$$0]++' >"$$m.tmp"; mv "$$m.tmp" "$$m"

uninstall:
	@set -e; m='$(DESTDIR)$(MANIFEST)'; \
	if [ ! -f "$$m" ]; then echo "nothing to uninstall: no $$m"; exit 0; fi; \
	dirs=$$(sed -n 's/^d //p' "$$m" | tac); \
	{ sed -n 's/^f //p' "$$m"; echo '$(MANIFEST)'; } | while IFS= read -r f; do \
	    echo "rm -f $(DESTDIR)$$f"; rm -f "$(DESTDIR)$$f"; done; \
	printf '%s\n' "$$dirs" | while IFS= read -r d; do \
	    [ -z "$$d" ] || ! rmdir "$(DESTDIR)$$d" 2>/dev/null || echo "rmdir $(DESTDIR)$$d"; done

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
