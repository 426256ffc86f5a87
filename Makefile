# inflight: build, test, demo.
#
#   make            build build/inflight
#   make demo       install what is missing, build, run the demo
#   make test       install what is missing, build, run every test (plain, then ASan+UBSan,
#                   then each parser fuzzer for 15 s, then make check-deploy)
#   make fuzz       each fuzzer for 5 minutes
#   make check      run the tests on the current build only (SAN=1 for the sanitizer build)
#
#   BUILD=DIR       build into DIR (default build/, build/san/ with SAN=1)
#   V=1             print each command in full (default: a line per step)
#
# Every object records the headers it read (-MMD), so a header change
# rebuilds exactly what depends on it, the BPF object and skeleton included
# (bpf/*.bpf.h too).

# PLAIN_BUILD: the plain build's directory. SAN=1 builds into its san/, and
# the test workers stay plain (what the probes see is what production code
# looks like): both builds' tests run the same ones, in PLAIN_BUILD/workers.
SAN ?= 0
ifeq ($(SAN),1)
PLAIN_BUILD ?= build
BUILD ?= $(PLAIN_BUILD)/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD ?= build
PLAIN_BUILD ?= $(BUILD)
SANFLAGS :=
endif

# Quiet by default, as the kernel's build: "  CC      user/util/buf.c";
# make -s: silent. A failing command's own output (the compiler's errors)
# shows either way. (MAKEFLAGS starts with the one-letter flags, s among them.)
V ?= 0
ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-7s %s\n' '$(1)' '$(2)'
ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
msg =
endif
MAKEFLAGS += --no-print-directory
endif

CC ?= gcc
CXX ?= g++
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= bpftool
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux

VERSION := $(shell cat VERSION)

# x86-64 only: the BPF programs read x86-64 pt_regs (and the Go ABI's
# %r14), decide exits from decoded x86 instructions and unmangle glibc's
# x86-64 jmp_buf. Another architecture is refused here rather than built
# with the wrong __TARGET_ARCH. The machine is the one $(CC) builds for.
TARGET_TRIPLE := $(shell $(CC) -dumpmachine 2>/dev/null)
TARGET_MACHINE := $(firstword $(subst -, ,$(TARGET_TRIPLE)) $(shell uname -m))
BPF_ARCH_x86_64 := x86
BPF_ARCH := $(BPF_ARCH_$(TARGET_MACHINE))
# (make clean still runs)
ifeq ($(BPF_ARCH),)
ifneq ($(MAKECMDGOALS),clean)
$(error $(CC) builds for $(TARGET_MACHINE); inflight supports x86_64 only (its BPF programs read x86-64 registers and decode x86 instructions))
endif
endif

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Iinclude -Iuser -I$(BUILD) \
	  -DINFLIGHT_VERSION='"$(VERSION)"' $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS += $(SANFLAGS)
# capstone and libcurl are opened with dlopen, only when needed (memory)
LDLIBS := -lbpf -lelf -lz -lpthread -ldl
# usdt.bpf.h pulls in <asm/errno.h>, which lives under the multiarch dir
# -mcpu=v3: atomic fetch-and-add with a result (chain ids), kernel 5.12+
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Werror \
	      -idirafter /usr/include/$(TARGET_TRIPLE) \
	      -Iinclude -I$(BUILD) -DINFLIGHT_VERSION='"$(VERSION)"' $(EXTRA_CFLAGS)

USER_SRCS := $(sort $(wildcard user/*/*.c))
LIB_OBJS := $(patsubst user/%.c,$(BUILD)/user/%.o,$(filter-out user/cli/main.c,$(USER_SRCS)))
MAIN_OBJ := $(BUILD)/user/cli/main.o

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
INTEG_SRCS := $(sort $(wildcard tests/integration/test_*.c))
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(UNIT_SRCS) $(INTEG_SRCS))
TEST_SUPPORT_OBJS := $(patsubst tests/%.c,$(BUILD)/tests/%.o,$(wildcard tests/support/*.c))

# Test workers are the observed programs: built plainly (no sanitizers), so
# what the probes see is what production code looks like; the tests find
# them through INFLIGHT_WORKERS.
WORKER_DIR := $(PLAIN_BUILD)/workers
# Go workers, one per Debian Go (tools/install-deps.sh installs them)
GO_VERSIONS := 1.19 1.22
WORKERS := $(WORKER_DIR)/native_worker $(WORKER_DIR)/native_worker_cet \
	   $(WORKER_DIR)/native_worker_shared \
	   $(WORKER_DIR)/libworker_handler.so $(WORKER_DIR)/cxx_worker \
	   $(WORKER_DIR)/chaos_worker $(WORKER_DIR)/demo_worker \
	   $(patsubst %,$(WORKER_DIR)/go_worker_%,$(GO_VERSIONS)) \
	   $(WORKER_DIR)/fifo_trap
WORKER_CFLAGS := -O2 -g -Wall -Wextra -Werror -fno-omit-frame-pointer -pthread

.PHONY: FORCE all deps demo test check check-layers test-binaries workers bench fuzz fuzz-check clean upgrade-builds
.DELETE_ON_ERROR:
# test objects are intermediate in a pattern chain: keep them for incremental builds
.SECONDARY:

all: $(BUILD)/inflight

deps:
	@tools/install-deps.sh
	@tests/receiver/install.sh
	@tools/sid-root.sh
	@tests/deploy/install.sh

$(BUILD) $(BUILD)/user $(BUILD)/tests/unit $(BUILD)/tests/integration $(BUILD)/tests/support $(WORKER_DIR):
	@mkdir -p $@

$(BUILD)/vmlinux.h: | $(BUILD)
	@test -r $(VMLINUX_BTF) || { echo "error: $(VMLINUX_BTF) missing: the kernel has no BTF, CO-RE cannot build" >&2; exit 2; }
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@

# One object per job: inflight.bpf.c (every probe program and the maps) and
# pending_iter.bpf.c (reads the pending frames). Each -MMD file lists the
# bpf/*.bpf.h and include/inflight.h it read, so a change to any of them
# rebuilds the object and its skeleton.
BPF_SKELS := $(BUILD)/inflight.skel.h $(BUILD)/pending_iter.skel.h

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BUILD)/vmlinux.h | $(BUILD)
	$(call msg,BPF,$<)
	$(Q)$(CLANG) $(BPF_CFLAGS) -MMD -MP -MF $(BUILD)/$*.bpf.d -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

# the skeleton of bpf/NAME.bpf.c is struct NAME_bpf
$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@

# The skeleton must exist before any user file that includes it is compiled;
# after the first build, -MMD records the real dependency.
$(BUILD)/user/%.o: user/%.c | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

# The archive is made anew, and also when a source file is added or removed
# (the list file changes), so a removed file's object never lingers in it.
$(BUILD)/libinflight.objs: FORCE | $(BUILD)
	@echo '$(LIB_OBJS)' | cmp -s - $@ || echo '$(LIB_OBJS)' > $@

$(BUILD)/libinflight.a: $(LIB_OBJS) $(BUILD)/libinflight.objs
	@rm -f $@
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $(LIB_OBJS)

$(BUILD)/inflight: $(MAIN_OBJ) $(BUILD)/libinflight.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%.o: tests/%.c | $(BUILD)/tests/unit $(BUILD)/tests/integration $(BUILD)/tests/support $(BPF_SKELS)
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) -Itests -MMD -MP -c $< -o $@

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_SUPPORT_OBJS) $(BUILD)/libinflight.a
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -lcmocka -lcurl -o $@

workers: $(WORKERS)

$(WORKER_DIR)/native_worker: tests/workers/worker_main.c tests/workers/handler.c tests/workers/worker.h | $(WORKER_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(WORKER_CFLAGS) tests/workers/worker_main.c tests/workers/handler.c -o $@

# as CET-enabled distributions build: every function starts with endbr64
$(WORKER_DIR)/native_worker_cet: tests/workers/worker_main.c tests/workers/handler.c tests/workers/worker.h | $(WORKER_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(WORKER_CFLAGS) -fcf-protection=full tests/workers/worker_main.c tests/workers/handler.c -o $@

$(WORKER_DIR)/libworker_handler.so: tests/workers/handler.c tests/workers/worker.h | $(WORKER_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(WORKER_CFLAGS) -fPIC -shared tests/workers/handler.c -o $@

$(WORKER_DIR)/native_worker_shared: tests/workers/worker_main.c $(WORKER_DIR)/libworker_handler.so | $(WORKER_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(WORKER_CFLAGS) tests/workers/worker_main.c -L$(WORKER_DIR) -lworker_handler -Wl,-rpath,'$$ORIGIN' -o $@

$(WORKER_DIR)/cxx_worker: tests/workers/cxx_worker.cpp | $(WORKER_DIR)
	$(call msg,CXX,$@)
	$(Q)$(CXX) -O2 -g -Wall -Wextra -Werror -pthread $< -o $@

$(WORKER_DIR)/chaos_worker: tests/workers/chaos_worker.cpp tests/workers/chaos_shm.h | $(WORKER_DIR)
	$(call msg,CXX,$@)
	$(Q)$(CXX) -std=c++17 -O2 -g -Wall -Wextra -Werror -pthread $< -o $@

# GOPATH mode, no network, caches beside the workers
$(WORKER_DIR)/go_worker_%: tests/workers/go_worker.go | $(WORKER_DIR)
	@test -x /usr/lib/go-$*/bin/go || { echo "error: Go $* missing (/usr/lib/go-$*/bin/go): run tools/install-deps.sh" >&2; exit 2; }
	$(call msg,GO,$@)
	$(Q)GOCACHE=$(abspath $(PLAIN_BUILD)/gocache) GOPATH=$(abspath $(PLAIN_BUILD)/gopath) GO111MODULE=off \
	GOTOOLCHAIN=local GOFLAGS= /usr/lib/go-$*/bin/go build -o $@ $<

$(WORKER_DIR)/demo_worker: tools/demo/demo_worker.c | $(WORKER_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(WORKER_CFLAGS) $< -o $@

$(WORKER_DIR)/fifo_trap: tests/workers/fifo_trap.c | $(WORKER_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) $(WORKER_CFLAGS) $< -o $@

# The benchmark: its workers, the floor (empty probes), then tools/bench/run.sh.
BENCH_DIR := $(BUILD)/bench
BENCH_BINS := $(BENCH_DIR)/bench_worker $(BENCH_DIR)/floor

$(BENCH_DIR):
	@mkdir -p $@

$(BENCH_DIR)/bench_worker: tools/bench/bench_worker.c tools/bench/handlers.S | $(BENCH_DIR)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -g -Wall -Wextra -Werror -pthread $^ -o $@

$(BENCH_DIR)/floor.bpf.o: tools/bench/floor.bpf.c $(BUILD)/vmlinux.h | $(BENCH_DIR)
	$(call msg,BPF,$<)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@

$(BENCH_DIR)/floor.skel.h: $(BENCH_DIR)/floor.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name floor_bpf > $@

$(BENCH_DIR)/floor: tools/bench/floor.c $(BENCH_DIR)/floor.skel.h $(BUILD)/libinflight.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BENCH_DIR) $< $(BUILD)/libinflight.a $(LDLIBS) -o $@

bench: deps $(BUILD)/inflight $(BENCH_BINS)
	@tools/install-deps.sh bench
	@tools/bench/run.sh $(BUILD)/inflight $(BENCH_DIR)

# libFuzzer targets for the parsers that take operator or network input, or
# what a watched process controls (ELF files, maps lines, cgroup paths, the
# memory `inflight stuck` reads: its stack, CPython objects and debug offsets),
# built with clang against the collector's own sources (ASan+UBSan).
FUZZ_DIR := $(BUILD)/fuzz
# in `make test` each fuzzer replays its corpus (seeds and past finds) and
# explores a few seconds more; `make fuzz` runs each for five minutes
FUZZ_SECONDS ?= 6
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(wildcard tests/fuzz/fuzz_*.c))
# undefined behaviour stops a fuzzer (as in the SAN=1 build), not a line in its log
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined \
	       -Wall -Iinclude -Iuser \
	       -I$(BUILD) -DINFLIGHT_VERSION='"$(VERSION)"'
FUZZ_LIB_OBJS := $(patsubst user/%.c,$(FUZZ_DIR)/user/%.o,$(filter-out user/cli/main.c,$(USER_SRCS)))

$(FUZZ_DIR)/user/%.o: user/%.c | $(BPF_SKELS)
	@mkdir -p $(@D)
	$(call msg,CC-FUZZ,$<)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/libinflight.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_DIR)/libinflight.a
	$(call msg,LD-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_DIR)/libinflight.a $(LDLIBS) -o $@

# the harnesses that play a remote process share its addresses with their seeds' generator
$(FUZZ_BINS): tests/fuzz/fuzz_addrs.h

fuzz-check: $(FUZZ_BINS)
	@tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

fuzz:
	$(Q)$(MAKE) fuzz-check FUZZ_SECONDS=300

# The upgrade test's other builds of this tree: another release with the same
# pin layout (adopts the pinned state), and one with another layout (replaces
# it, saying what is lost). Always remade: their own make knows what changed.
upgrade-builds:
	@$(MAKE) -s --no-print-directory BUILD=$(BUILD)/upgrade-release VERSION=$(VERSION)+next \
		$(BUILD)/upgrade-release/inflight
	@$(MAKE) -s --no-print-directory BUILD=$(BUILD)/upgrade-layout VERSION=$(VERSION)+layout \
		EXTRA_CFLAGS=-DINFLIGHT_PIN_LAYOUT=999999 $(BUILD)/upgrade-layout/inflight

# everything the tests run, built but not run
test-binaries: $(BUILD)/inflight $(TEST_BINS) workers upgrade-builds

check: check-layers test-binaries
	@INFLIGHT_WORKERS=$(WORKER_DIR) tests/run_tests.sh $(BUILD)

# user/'s folders are layers: no file includes from a folder above its own
check-layers:
	@tools/check-layers.sh

# the sanitized build beside this one, sharing its workers; its chaos run is
# half as long (the same steps, at the same fractions of it)
test: deps
	$(Q)$(MAKE) check
	$(Q)CHAOS_SECONDS=$${CHAOS_SECONDS:-30} $(MAKE) check SAN=1 PLAIN_BUILD=$(PLAIN_BUILD) BUILD=$(PLAIN_BUILD)/san
	$(Q)$(MAKE) fuzz-check
	$(Q)$(MAKE) check-deploy

demo: deps $(BUILD)/inflight $(WORKER_DIR)/demo_worker
	@tools/demo/run.sh $(BUILD)/inflight $(WORKER_DIR)/demo_worker

# the plain build's directory holds the others (san/, workers/, fuzz/, ...)
clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/*.d $(BUILD)/user/*/*.d $(BUILD)/tests/*/*.d $(FUZZ_DIR)/user/*/*.d)

# Installing and packaging: the binary, its man page (from its own --help)
# and the systemd unit, under PREFIX (/usr/local) in DESTDIR.
#   make install PREFIX=/usr DESTDIR=/tmp/root
#   make deb          $(BUILD)/inflight_$(VERSION)_ARCH.deb (dpkg-deb)
#   make image        the container image, tools/deploy/Dockerfile (see tools/deploy/image.sh)
#   make check-deploy manifests, unit, rules, dashboard, the .deb in a fresh Debian 12, the image
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/inflight
UNITDIR ?= $(PREFIX)/lib/systemd/system
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB := $(BUILD)/inflight_$(VERSION)_$(DEB_ARCH).deb

.PHONY: install deb image check-deploy

$(BUILD)/inflight.1: $(BUILD)/inflight tools/deploy/manpage.sh
	$(call msg,GEN,$@)
	$(Q)tools/deploy/manpage.sh $(BUILD)/inflight > $@

install: $(BUILD)/inflight $(BUILD)/inflight.1
	install -D -m 0755 $(BUILD)/inflight $(DESTDIR)$(BINDIR)/inflight
	install -D -m 0644 $(BUILD)/inflight.1 $(DESTDIR)$(MANDIR)/man1/inflight.1
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/bin/inflight|$(BINDIR)/inflight|g' tools/deploy/inflight.service \
		> $(DESTDIR)$(UNITDIR)/inflight.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/inflight.service
	install -D -m 0644 README.md $(DESTDIR)$(DOCDIR)/README.md

$(DEB): $(BUILD)/inflight $(BUILD)/inflight.1 tools/deploy/deb.sh tools/deploy/inflight.service VERSION
	$(call msg,DEB,$@)
	$(Q)tools/deploy/deb.sh $(VERSION) $(DEB_ARCH) $@

deb: $(DEB)

image:
	tools/deploy/image.sh

$(BUILD)/tests/deploy:
	@mkdir -p $@

$(BUILD)/tests/deploy/test_image.o: | $(BUILD)/tests/deploy

check-deploy: $(DEB) $(BUILD)/tests/deploy/test_image workers
	@TEST_IMAGE_BIN=$(BUILD)/tests/deploy/test_image INFLIGHT_BIN=$(abspath $(BUILD)/inflight) \
		INFLIGHT_WORKERS=$(abspath $(WORKER_DIR)) tests/deploy/run.sh $(DEB)
