# tests/san-tools.mk - the tools built with ASan/UBSan (build/san/bin/),
# and the bad-input matrix run on them in `make check`: every error path
# of every tool's main() under the sanitizers, leaks included.
# Included by the Makefile.

SAN_TOOLS := $(patsubst src/tools/%.c,build/san/bin/%,$(TOOL_SRCS))

.PHONY: san-bad-input

check: san-bad-input

build/san/bin/%: src/tools/%.c src/tools/tool.h $(HDRS) $(SAN_LIB_OBJS)
	@mkdir -p $(@D)
	$(CC) $(EAP_CPPFLAGS) $(CPPFLAGS) $(EAP_CFLAGS) -O1 -g $(SAN_FLAGS) $< $(SAN_LIB_OBJS) -o $@ \
	  $(LDFLAGS) $(EAP_LDLIBS) $(LDLIBS)

san-bad-input: $(SAN_TOOLS)
	@echo "== tests/tools/bad-input.sh on build/san/bin (ASan/UBSan)"
	@EAP_BIN=build/san/bin OPENBLAS_NUM_THREADS=1 \
	  ASAN_OPTIONS=detect_leaks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1 sh tests/tools/bad-input.sh
