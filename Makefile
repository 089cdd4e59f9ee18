# kiln — one plain Makefile.  `make` builds ./kiln; `make check` tests it.

CC ?= gcc
CFLAGS ?= -O2 -g
OUT := out

# Debian packages the build and the tests need (`make deps` installs them).
DEPS_PKGS := build-essential pkg-config clang \
	libcurl4-openssl-dev libssl-dev libarchive-dev libzstd-dev zlib1g-dev \
	liblzma-dev libbz2-dev liblz4-dev \
	libjansson-dev libsqlite3-dev libseccomp-dev libyaml-dev libsodium-dev \
	libmicrohttpd-dev libmnl-dev libnftables-dev libgpgme-dev libisal-dev \
	libcmocka-dev bats busybox-static tar gzip zstd sqlite3 python3 \
	podman skopeo runc crun docker-registry apache2-utils openssl buildah debootstrap python3-docker \
	uidmap passt slirp4netns nftables iproute2

PKGS := jansson libcrypto libarchive sqlite3 libzstd libseccomp libcurl zlib
PKGS += gpgme yaml-0.1 libsodium libmnl
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

KCFLAGS := -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
	-D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 -I. -MMD -MP $(PKG_CFLAGS)
SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

MODULES := common image storage registry sign run build api
LIB_SRCS := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
CLI_SRCS := $(wildcard cli/*.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(OUT)/unit/%)
ASAN_BINS := $(UNIT_SRCS:tests/unit/%.c=$(OUT)/asan-unit/%)

LIB_OBJS := $(LIB_SRCS:%.c=$(OUT)/obj/%.o)
ASAN_OBJS := $(LIB_SRCS:%.c=$(OUT)/asan/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(OUT)/obj/%.o)

.PHONY: all deps check unit unit-asan system system-asan kiln-asan stress demo bench fuzz fuzz-smoke clean
all: kiln

$(OUT)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KCFLAGS) -c $< -o $@

$(OUT)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g $(SAN) $(KCFLAGS) -c $< -o $@

$(OUT)/libkiln.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(OUT)/libkiln-asan.a: $(ASAN_OBJS)
	@rm -f $@
	ar rcs $@ $^

# kiln links libarchive's read side statically: the shared library would load
# libxml2, ICU and libstdc++ into every command (about 3 ms of start-up).
ARCHIVE_STATIC := -Wl,-Bstatic -larchive -Wl,-Bdynamic -llzma -lbz2 -lz -l:liblz4.so.1 -lzstd
# libcurl is loaded on first use (registry/curl_shim.c), not linked.
KILN_LIBS := $(filter-out -larchive -lcurl,$(PKG_LIBS)) $(ARCHIVE_STATIC) -ldl -lpthread

kiln: $(CLI_OBJS) $(OUT)/libkiln.a
	$(CC) $(CFLAGS) -Wl,--as-needed -o $@ $(CLI_OBJS) $(OUT)/libkiln.a $(KILN_LIBS)

# The same binary under ASan+UBSan, for the system tests (make check runs
# them with it instead of ./kiln).
ASAN_CLI_OBJS := $(CLI_SRCS:%.c=$(OUT)/asan/%.o)
$(OUT)/kiln-asan: $(ASAN_CLI_OBJS) $(OUT)/libkiln-asan.a
	$(CC) -O1 -g $(SAN) -o $@ $(ASAN_CLI_OBJS) $(OUT)/libkiln-asan.a $(KILN_LIBS)

kiln-asan: $(OUT)/kiln-asan

$(OUT)/unit/%: tests/unit/%.c $(OUT)/libkiln.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(KCFLAGS) -o $@ $< $(OUT)/libkiln.a $(PKG_LIBS) -lcmocka -lpthread

$(OUT)/asan-unit/%: tests/unit/%.c $(OUT)/libkiln-asan.a
	@mkdir -p $(dir $@)
	$(CC) -O1 -g $(SAN) $(KCFLAGS) -o $@ $< $(OUT)/libkiln-asan.a $(PKG_LIBS) -lcmocka -lpthread

# Installs what is missing, and is a quick no-op otherwise.
deps:
	@missing=$$(for p in $(DEPS_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi; \
	if ! command -v docker >/dev/null; then \
		echo "installing: docker.io (the docker client, for the API tests)"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends docker.io; \
	fi

unit: $(UNIT_BINS)
	@tests/run-unit.sh "unit" $(UNIT_BINS)

unit-asan: $(ASAN_BINS)
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		tests/run-unit.sh "unit (asan+ubsan)" $(ASAN_BINS)

# Two .bats files at a time (tests/run-system.sh): most of the time is
# spent waiting on containers, registries and sleeps, not on the CPU.
KILN_SYSTEM_JOBS ?= 2
export KILN_SYSTEM_JOBS
system: kiln
	@tests/run-system.sh tests/system

# The system tests with the ASan+UBSan binary: any report aborts the
# command (and fails its test); leaks are not checked here (a command
# exits with its store open on purpose), they are in unit-asan.  The
# rootless tests (090-rootless.bats) run the ASan binary too, as the test
# user with a clean environment: there LeakSanitizer is on.
SYSTEM_ASAN_ENV := KILN_BIN=$(CURDIR)/$(OUT)/kiln-asan KILN_ROOTLESS_BIN=$(CURDIR)/$(OUT)/kiln-asan \
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:disable_coredump=1 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
system-asan: kiln $(OUT)/kiln-asan
	@$(SYSTEM_ASAN_ENV) tests/run-system.sh tests/system

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory unit-asan
	@$(MAKE) --no-print-directory fuzz-smoke
	@$(MAKE) --no-print-directory system-asan

# The crash, concurrency and power-loss tests, longer: 50 SIGKILLs and 10
# power cuts per command.
stress: kiln
	@KILN_CRASH_RUNS=$${KILN_CRASH_RUNS:-50} KILN_POWER_RUNS=$${KILN_POWER_RUNS:-10} \
		KILN_SYSTEM_JOBS=1 BATS_TEST_TIMEOUT=$${BATS_TEST_TIMEOUT:-3600} \
		KILN_SYSTEM_DEADLINE=$${KILN_SYSTEM_DEADLINE:-10800} tests/run-system.sh tests/system/090-crash.bats \
		tests/system/091-concurrency.bats tests/system/093-power-loss.bats

demo: deps kiln
	@tests/demo.sh

bench: kiln
	@for b in bench/*.sh; do echo "== $$b"; bash $$b || exit 1; done

# Fuzz targets: tests/fuzz/fuzz_<name>.c with a seed corpus in
# tests/fuzz/corpus/<name>/ (inputs that ever crashed stay there).  New inputs
# go to out/fuzz/, never into the repository.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(OUT)/fuzz/%)
FUZZ_OBJS := $(LIB_SRCS:%.c=$(OUT)/fuzzobj/%.o)
# Only pattern rules name them: without this make deletes them after each run.
.SECONDARY: $(FUZZ_OBJS)
# make fuzz: every target at least FUZZ_TIME seconds; make check's smoke
# run: every target FUZZ_SMOKE_SECONDS.  Two targets run at once
# (FUZZ_JOBS), one per core.
FUZZ_TIME ?= 600
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_JOBS ?= 2
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer

$(OUT)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) $(filter-out -Werror,$(KCFLAGS)) -c $< -o $@

$(OUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined $(filter-out -MMD -MP,$(KCFLAGS)) \
		-o $@ $< $(FUZZ_OBJS) $(PKG_LIBS) -lpthread

fuzz: $(FUZZ_BINS)
	@FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh $(FUZZ_TIME) $(OUT)/fuzz $(FUZZ_BINS)

fuzz-smoke: $(FUZZ_BINS)
	@FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(OUT)/fuzz $(FUZZ_BINS)

clean:
	rm -rf $(OUT) kiln

-include $(UNIT_BINS:=.d) $(ASAN_BINS:=.d) $(LIB_OBJS:.o=.d) $(ASAN_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(ASAN_CLI_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d)
