# hwc3d: `make` builds build/hwc3d; `make run` sets up and serves;
# `make test` runs every test; `make bench` measures.
CC      ?= cc
PKGS     = libmicrohttpd jansson sqlite3 libpq libsodium libjwt hiredis libcurl libxml-2.0 assimp vips libmagic zlib libclamav \
	   cairo fontconfig egl glesv2
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
PY      := /usr/bin/python3

WARN     = -Wall -Wextra -Werror -Wshadow -Wvla -Wformat=2 -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wundef -Wno-unused-parameter
CFLAGS_COMMON = -std=gnu17 $(WARN) -D_GNU_SOURCE $(PKG_CFLAGS) -Isrc -pthread
RELEASE_CFLAGS = $(CFLAGS_COMMON) -O2 -g -fstack-protector-strong -D_FORTIFY_SOURCE=2
TEST_CFLAGS    = $(CFLAGS_COMMON) -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                 -fno-sanitize-recover=undefined
# wslay: Debian ships no .pc file for it.
LIBS     = $(PKG_LIBS) -lwslay -lm -pthread

SRCS     := $(shell find src -name '*.c' | sort)
LIB_SRCS := $(filter-out src/main.c,$(SRCS))
MIGRATIONS := $(sort $(wildcard migrations/*.sql))
GEN      := build/gen/embedded.c

REL_OBJS  := $(patsubst %.c,build/obj/%.o,$(SRCS) $(GEN))
TEST_OBJS := $(patsubst %.c,build/tobj/%.o,$(SRCS) $(GEN))
TEST_LIB_OBJS := $(filter-out build/tobj/src/main.o,$(TEST_OBJS))
UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
UNIT_OBJS := $(patsubst %.c,build/tobj/%.o,$(UNIT_SRCS))

.PHONY: all run test test-e2e test-cluster unit api-test bench deps clean test-build test-openapi fuzz fuzz-build
all: build/hwc3d

build/hwc3d: $(REL_OBJS)
	@echo "  LD      $@"
	@$(CC) $(RELEASE_CFLAGS) -o $@ $^ $(LIBS)

build/test/hwc3d: $(TEST_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD/test $@"
	@$(CC) $(TEST_CFLAGS) -o $@ $^ $(LIBS)

build/test/unit: $(UNIT_OBJS) $(TEST_LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD/test $@"
	@$(CC) $(TEST_CFLAGS) -o $@ $^ $(LIBS)

$(GEN): scripts/embed.py docs/openapi.yaml $(MIGRATIONS)
	@mkdir -p $(dir $@)
	$(PY) scripts/embed.py $@ docs/openapi.yaml $(MIGRATIONS)

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(RELEASE_CFLAGS) -MMD -MP -c -o $@ $<

build/tobj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/test $<"
	@$(CC) $(TEST_CFLAGS) -Itests/unit -MMD -MP -c -o $@ $<

-include $(REL_OBJS:.o=.d) $(TEST_OBJS:.o=.d) $(UNIT_OBJS:.o=.d)

deps:
	@scripts/install-deps.sh build

# Install what is missing, build, migrate, load demo data into an empty
# database, serve on http://localhost:8000.
run:
	@scripts/install-deps.sh build web
	@if [ -f package-lock.json ] && { [ ! -f node_modules/.package-lock.json ] || \
		[ package-lock.json -nt node_modules/.package-lock.json ]; }; then \
		npm ci --no-audit --no-fund --ignore-scripts; fi
	@$(MAKE) --no-print-directory all
	./build/hwc3d migrate
	./build/hwc3d seed-demo
	./build/hwc3d fingerprint-backfill
	FRONTEND_URL=$${FRONTEND_URL:-http://localhost:8000} ./build/hwc3d serve

test-build: build/test/hwc3d build/test/unit

# The OpenAPI document against the real route table (both ways: operationId,
# security, error responses), then Redocly's lint (redocly.yaml), offline.
test-openapi: build/test/hwc3d
	@$(PY) scripts/check-openapi.py --binary build/test/hwc3d
	@test -x node_modules/.bin/redocly || { echo "test-openapi: no node_modules/.bin/redocly: run npm ci" >&2; exit 1; }
	@REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true node_modules/.bin/redocly lint --format=stylish docs/openapi.yaml

# The OpenAPI checks, unit tests, then the API suite against SQLite and PostgreSQL.
test:
	@scripts/install-deps.sh build runtime test
	@$(MAKE) --no-print-directory test-build
	@$(MAKE) --no-print-directory test-openapi
	@scripts/run-tests.sh

# The browser tests alone (tests/api/test_browser*.py driving tests/e2e/*.mjs
# in Chromium), against SQLite and PostgreSQL; screenshots in build/screenshots/.
test-e2e:
	@scripts/install-deps.sh build runtime test
	@if [ -f package-lock.json ] && [ ! -d node_modules/playwright-core ]; then \
		npm ci --no-audit --no-fund --ignore-scripts; fi
	@$(MAKE) --no-print-directory test-build
	@scripts/run-tests.sh --e2e

# Two instances on PostgreSQL, Redis and a local S3 behind nginx, configured
# as docs/deployment.md ships it (tests/api/test_cluster.py); also in `make test`.
test-cluster:
	@scripts/install-deps.sh build runtime test
	@if [ -f package-lock.json ] && [ ! -d node_modules/s3rver ]; then \
		npm ci --no-audit --no-fund --ignore-scripts; fi
	@$(MAKE) --no-print-directory test-build
	@scripts/run-tests.sh --cluster

bench:
	@scripts/install-deps.sh build runtime bench
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh

clean:
	rm -rf build

# ---- fuzzing: libFuzzer targets in tests/fuzz (docs/architecture.md, "Fuzzing").
# `make fuzz` builds every target with clang under ASan and UBSan and runs
# each for FUZZ_SECONDS on its seed corpus; a crash fails it, and the input
# is kept in build/fuzz/crashes/.  `make fuzz-build` only builds.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
# clang counts vsnprintf(fmt) in a va_list wrapper as a non-literal format
# (gcc does not); the wrappers carry format attributes, so their callers are
# checked.
FUZZ_CFLAGS   = $(CFLAGS_COMMON) -Wno-format-nonliteral -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
                -fno-sanitize-recover=undefined
FUZZ_TARGETS := $(sort $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c)))
FUZZ_BINS    := $(addprefix build/fuzz/bin/,$(FUZZ_TARGETS))
FUZZ_LIB_OBJS := $(patsubst %.c,build/fuzz/obj/%.o,$(LIB_SRCS) $(GEN))
FUZZ_ALL_OBJS := $(FUZZ_LIB_OBJS) $(patsubst %.c,build/fuzz/obj/%.o,$(wildcard tests/fuzz/*.c))
# fuzz_model compiles src/media/model_child.c into itself (its parser is static).
FUZZ_SKIP_fuzz_model = build/fuzz/obj/src/media/model_child.o

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC/fuzz $<"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Itests/fuzz -MMD -MP -c -o $@ $<

build/fuzz/bin/%: build/fuzz/obj/tests/fuzz/%.o build/fuzz/obj/tests/fuzz/fuzz.o $(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	@echo "  LD/fuzz $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $(filter-out $(FUZZ_SKIP_$*),$^) $(LIBS)

fuzz-build: $(FUZZ_BINS)

.SECONDARY: $(FUZZ_ALL_OBJS)

-include $(FUZZ_ALL_OBJS:.o=.d)

fuzz:
	@scripts/install-deps.sh build test
	@$(MAKE) --no-print-directory fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_TARGETS)
