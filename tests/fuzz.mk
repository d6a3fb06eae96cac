# tests/fuzz.mk - fuzz harnesses of every parser of a user's file
# (tests/fuzz/fuzz_<parser>.c; SPEC §13), included by the Makefile.
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ="pairs h5"]
#       runs each harness under libFuzzer (clang, ASan, UBSan) for
#       FUZZ_SECONDS, starting from tests/fuzz/corpus/<parser>/; new inputs
#       go to build/fuzz/corpus/<parser>/, crashes to build/fuzz/crash/.
#   make fuzz-replay   (part of `make check`)
#       feeds every committed corpus file once to each harness built
#       without libFuzzer (tests/fuzz/replay.c) under ASan/UBSan.
# A crash is fixed in the library, then its (minimized) input is copied
# into tests/fuzz/corpus/<parser>/ so the replay keeps guarding the fix.

FUZZ_SECONDS ?= 60# seconds per harness for `make fuzz`
FUZZ_CC      ?= clang# libFuzzer needs clang
FUZZ_ALL     := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ         ?= $(FUZZ_ALL)# harnesses `make fuzz` runs

FUZZ_HDRS    := tests/fuzz/fuzz_util.h $(HDRS)
FUZZ_SAN     := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
                -fno-sanitize-recover=undefined
FUZZ_LIB_OBJS := $(patsubst src/%.c,build/fuzz/obj/%.o,$(LIB_SRCS))
REPLAY_BINS  := $(patsubst %,build/san/fuzz/replay-%,$(FUZZ_ALL))

.PHONY: fuzz fuzz-replay fuzz-build

check: fuzz-replay

# ---- replay (gcc or clang, no libFuzzer) -----------------------------------
build/san/fuzz/replay-%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(FUZZ_HDRS) $(SAN_LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(EAP_CPPFLAGS) $(CPPFLAGS) $(EAP_CFLAGS) -O1 -g $(SAN_FLAGS) \
	  tests/fuzz/fuzz_$*.c tests/fuzz/replay.c $(SAN_LIB_OBJS) -o $@ \
	  $(LDFLAGS) $(EAP_LDLIBS) $(LDLIBS)

fuzz-replay: $(REPLAY_BINS)
	@for h in $(FUZZ_ALL); do \
	  [ -d tests/fuzz/corpus/$$h ] || { echo "fuzz-replay: no corpus for $$h"; exit 1; }; \
	  OPENBLAS_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1:max_allocation_size_mb=1024 UBSAN_OPTIONS=print_stacktrace=1 \
	    build/san/fuzz/replay-$$h tests/fuzz/corpus/$$h || exit 1; \
	done

# ---- libFuzzer --------------------------------------------------------------
build/fuzz/obj/%.o: src/%.c $(HDRS) build/config.mk
	@mkdir -p $(@D)
	$(FUZZ_CC) $(EAP_CPPFLAGS) $(CPPFLAGS) $(EAP_CFLAGS) -O1 -g $(FUZZ_SAN) -c $< -o $@

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HDRS) $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(EAP_CPPFLAGS) $(CPPFLAGS) $(EAP_CFLAGS) -O1 -g \
	  -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer \
	  -fno-sanitize-recover=undefined tests/fuzz/fuzz_$*.c $(FUZZ_LIB_OBJS) -o $@ \
	  $(LDFLAGS) $(EAP_LDLIBS) $(LDLIBS)

build/fuzz/.cc-ok:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || sh build-aux/ensure-deps.sh clang
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { echo "fuzz: $(FUZZ_CC) not found (FUZZ_CC=...)" >&2; exit 1; }
	@mkdir -p $(@D) && touch $@

fuzz-build: build/fuzz/.cc-ok
	$(MAKE) --no-print-directory $(patsubst %,build/fuzz/fuzz_%,$(FUZZ))

# One harness at a time: each gets the machine.  -timeout catches hangs,
# -rss_limit_mb runaway allocations.
fuzz: fuzz-build
	@for h in $(FUZZ); do \
	  mkdir -p build/fuzz/corpus/$$h build/fuzz/crash/$$h; \
	  echo "== fuzz_$$h for $(FUZZ_SECONDS) s"; \
	  OPENBLAS_NUM_THREADS=1 build/fuzz/fuzz_$$h -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix=build/fuzz/crash/$$h/ \
	    build/fuzz/corpus/$$h tests/fuzz/corpus/$$h || exit 1; \
	done

help::
	@echo "  fuzz            every parser's libFuzzer harness for FUZZ_SECONDS each (clang;"
	@echo "                  not part of check; fuzz-replay, in check, replays the corpus)"
