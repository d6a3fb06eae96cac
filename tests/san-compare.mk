# tests/san-compare.mk - tests/tools/eap-compare.sh (eap-compare and
# eap-table: good and bad inputs) run in `make check` on the ASan/UBSan
# builds of the two tools (build/san/bin/, rule in tests/san-tools.mk),
# leaks included.  Included by the Makefile.
.PHONY: san-compare
check: san-compare
san-compare: build/san/bin/eap-compare build/san/bin/eap-table all
	@echo "== tests/tools/eap-compare.sh on build/san/bin (ASan/UBSan)"
	@EAP_BIN=build/san/bin OPENBLAS_NUM_THREADS=1 \
	  ASAN_OPTIONS=detect_leaks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1 sh tests/tools/eap-compare.sh
