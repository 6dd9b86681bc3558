# truce build: one static library of the modules, the `truce` program, unit tests, benchmarks
# and fuzz harnesses. Dependencies come from Debian packages through pkg-config.
#
#   make            build ./truce
#   make demo       install missing packages, build truce and the dashboard, create ./demo-data
#                   from examples/minsk-2015, ingest its observations, print the daily report and
#                   serve the dashboard on http://127.0.0.1:8080/ until Ctrl-C
#   make check      install missing packages, build, run every test (plain and ASan+UBSan),
#                   replay the fuzz corpora; ends with "N passed, N failed"
#   make web        build the dashboard (web/, npm ci + esbuild) into web/dist, served by truce serve
#   make bench      build and run the benchmarks in bench/
#   make bench-deps install what the HTTP benchmarks compare against (wrk, nginx; not for CI)
#   make SAN=1 ...  build with AddressSanitizer and UndefinedBehaviorSanitizer

PKGS      := sqlite3 geos proj jansson libsodium libcrypto libmicrohttpd libcurl
DEB_PKGS  := build-essential pkg-config libsqlite3-dev libgeos-dev libproj-dev libjansson-dev \
             libsodium-dev libssl-dev libmicrohttpd-dev libcurl4-openssl-dev libexpat1-dev tzdata clang libclang-rt-14-dev \
             valgrind sqlite3 curl golang-go golang-golang-x-mod-dev gdal-bin jq nodejs npm chromium poppler-utils \
             python3 openssl xxd

CC        ?= cc
BUILD     ?= build
ifeq ($(SAN),1)
BUILD     := build-san
SANFLAGS  := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
OPT       ?= -O2 -g
# Truncation of snprintf into fixed message buffers is intended (messages are bounded).
WARN      := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wno-format-truncation -Werror
CFLAGS    += -pthread -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) $(WARN) $(SANFLAGS) \
             -Isrc $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDFLAGS   += $(SANFLAGS)
LDLIBS    += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -pthread

LIB_SRC   := $(filter-out src/cli/main.c,$(wildcard src/*/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
TEST_SRC  := $(wildcard tests/unit/test_*.c)
TEST_BIN  := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
BENCH_SRC := $(wildcard bench/bench_*.c)
BENCH_BIN := $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
FUZZ_SRC  := $(wildcard fuzz/fuzz_*.c)

.PHONY: all deps demo check test test-plain test-san fuzz-regress bench bench-deps clean web
all: truce

truce: $(BUILD)/truce
	@if [ "$(BUILD)" = build ]; then cp $(BUILD)/truce truce; fi

$(BUILD)/truce: $(BUILD)/src/cli/main.o $(BUILD)/libtruce.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libtruce.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/%.o: %.c $(wildcard src/*/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/t.h tests/geo_fixtures.h tests/splitmix.h $(BUILD)/libtruce.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(BUILD)/libtruce.a $(LDLIBS)

$(BUILD)/bench/%: bench/%.c bench/bench_util.h tests/geo_fixtures.h tests/splitmix.h $(BUILD)/libtruce.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(BUILD)/libtruce.a $(LDLIBS)

# Install the Debian packages the build needs when any is missing (root or sudo). A Node.js
# with npm already on PATH (e.g. from nodesource, whose nodejs conflicts with Debian's npm)
# stands in for Debian's nodejs and npm.
deps:
	@missing=""; for p in $(DEB_PKGS); do \
	  case $$p in nodejs|npm) command -v node >/dev/null && command -v npm >/dev/null && continue;; esac; \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

tests-bin: $(TEST_BIN) $(BUILD)/truce

test-plain:
	@$(MAKE) --no-print-directory tests-bin
	@BUILD=$(BUILD) tests/run

test-san:
	@$(MAKE) --no-print-directory SAN=1 tests-bin
	@BUILD=build-san tests/run

check: deps
	@$(MAKE) --no-print-directory truce
	@$(MAKE) --no-print-directory web
	@$(MAKE) --no-print-directory tests-bin
	@$(MAKE) --no-print-directory SAN=1 tests-bin
	@$(MAKE) --no-print-directory fuzz-build
	@tests/run-all

demo: deps
	@$(MAKE) --no-print-directory truce
	@$(MAKE) --no-print-directory web
	@./examples/demo.sh

# Runs every benchmark (from the repository root, as they load data/ and examples/), then says
# which missed a target. bench_ingest needs about 40 s and 1 GB of space in $$TMPDIR;
# bench_http_post needs wrk and nginx (make bench-deps); bench_http_reliability runs 20 kills
# under load and the issue's 10-minute soak (--soak-seconds to shorten it by hand).
bench: $(BENCH_BIN) $(BUILD)/truce
	@failed=""; for b in $(BENCH_BIN); do echo "== $$b"; $$b || failed="$$failed $$(basename $$b)"; done; \
	if [ -n "$$failed" ]; then echo "missed a target:$$failed"; exit 1; else echo "all targets met"; fi

# The HTTP benchmarks (bench_http_*) load the server with wrk and compare it with nginx on the
# same machine. Not in DEB_PKGS: CI does not need them.
BENCH_DEB_PKGS := wrk nginx-light curl
bench-deps:
	@missing=""; for p in $(BENCH_DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# libFuzzer harnesses (clang), built with ASan+UBSan; `make check` replays their corpora briefly.
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build-fuzz/%)
fuzz-build: $(FUZZ_BIN)
build-fuzz/%: fuzz/%.c $(LIB_SRC) $(wildcard src/*/*.h)
	@mkdir -p build-fuzz
	clang -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -g -O1 -Isrc \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  $(shell pkg-config --cflags $(PKGS)) -o $@ $< $(LIB_SRC) $(LDLIBS)

# The dashboard: npm ci (exact versions of web/package-lock.json, only when the lock changed),
# then esbuild into web/dist. Node 18 (Debian 12) or later.
WEB_SRC := $(wildcard web/src/*) web/build.mjs data/geo/ukraine.geojson
web: web/dist/index.html
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	@node -e 'if (+process.versions.node.split(".")[0] < 18) { console.error("web: Node.js 18 or later is needed, this is " + process.version); process.exit(1) }'
	cd web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@
web/dist/index.html: web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && node build.mjs

clean:
	rm -rf build build-san build-fuzz truce web/dist
