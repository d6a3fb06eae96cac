# EAP-C: edge attribution patching in C.  `make help` lists the targets.
#
# CC CFLAGS CPPFLAGS LDFLAGS LDLIBS belong to the user; the flags the build
# needs live in EAP_* variables.

# ---- user variables ---------------------------------------------------------
PREFIX  ?= /usr/local# where `make install` puts bin/
MODEL   ?= data/models/organism# model directory used by the pipeline
TASKS   ?= ioi greater-than gender sva capital hypernymy# tasks of the pipeline
METHODS ?= eap eap-ig eap-ig-kl exact# method variants of the figures
N       ?= 200# examples per split
N_EXACT ?= 50# of them, scored by exact patching (one forward per edge)
EXACT_BUDGET ?= 100# TFLOP of exact scoring per task: fewer than N_EXACT examples where theirs would exceed it (empty: no limit)
STEPS   ?= 5# integrated-gradient steps
J       ?= 1# parallel jobs for sub-makes

SEED    ?= 1# seed of the generated pairs
BATCH   ?= 20# examples per batch in eap-dump/score/eval
ACTS    ?=# node outputs in acts.h5 (eap-dump --keep): empty, the first examples that fit in 256 MiB; all (the full dump); or a number
SIZES   ?= default,mib# circuit sizes of the curves (eap-prune --sizes): SPEC §9's list and MIB's fractions
SUBMIT  ?=# prefix of heavy recipes, e.g. 'srun -Q --input=none -n1 -c2' (may use $@)
SHARDS  ?= 1# exact scoring split into this many jobs, merged by eap-score --merge
THREADS ?=# BLAS threads per heavy step (empty: cores / make -j jobs; under SUBMIT the job's CPUs)
RESULTS ?= results# where the pipeline's artifacts go
FIGURES ?= plots# where the figures go (as FIGURES/<model>/...)
GNUPLOT ?= gnuplot

CFLAGS  ?= -O2 -g

# ---- system packages (Debian names) -----------------------------------------
DEB_PKGS := libhdf5-dev libopenblas-dev check libcjson-dev libpcre2-dev \
            libutf8proc-dev libcsv-dev libssl-dev pkg-config hdf5-tools gnuplot-nox \
            graphviz libxml2-utils
PC_PKGS  := openblas hdf5 libcjson libpcre2-8 libutf8proc libcrypto

EAP_CPPFLAGS = -Iinclude -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(PC_CFLAGS)
EAP_CFLAGS   = -std=c11 -Wall -Wextra -Wno-unused-parameter
EAP_LDLIBS   = $(PC_LIBS) -lcsv -lm -lpthread

SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# build/config.mk records the pkg-config flags once the packages are there.
# It is remade (installing packages if needed) before anything is compiled.
.DEFAULT_GOAL := all

NODEPS_GOALS := help clean clean-results distclean
ifneq ($(filter-out $(NODEPS_GOALS),$(or $(MAKECMDGOALS),all)),)
# a stamp named by the package lists: adding a package remakes config.mk
# (a prerequisite would not do: .SECONDARY leaves missing ones alone)
PKG_STAMP := build/pkgs-$(shell echo '$(DEB_PKGS) $(PC_PKGS)' | cksum | cut -d' ' -f1)
ifeq ($(wildcard $(PKG_STAMP)),)
$(shell rm -f build/config.mk build/pkgs-*; mkdir -p build && touch $(PKG_STAMP))
endif
-include build/config.mk
endif

build/config.mk: build-aux/ensure-deps.sh
	@sh build-aux/ensure-deps.sh $(DEB_PKGS)
	@mkdir -p $(@D)
	@{ echo "PC_CFLAGS := $$(pkg-config --cflags $(PC_PKGS))"; \
	   echo "PC_LIBS := $$(pkg-config --libs $(PC_PKGS))"; \
	   echo "CHECK_CFLAGS := $$(pkg-config --cflags check)"; \
	   echo "CHECK_LIBS := $$(pkg-config --libs check)"; } > $@.tmp
	@mv $@.tmp $@

# ---- sources ----------------------------------------------------------------
LIB_SRCS  := $(wildcard src/*.c)
TOOL_SRCS := $(wildcard src/tools/eap-*.c)
TEST_SRCS := $(wildcard tests/test_*.c) tests/check_main.c
TOOLS     := $(patsubst src/tools/%.c,bin/%,$(TOOL_SRCS))
HDRS      := $(wildcard include/eap/*.h)

LIB_OBJS     := $(patsubst src/%.c,build/obj/%.o,$(LIB_SRCS))
SAN_LIB_OBJS := $(patsubst src/%.c,build/san/%.o,$(LIB_SRCS))
SAN_TEST_OBJS := $(patsubst tests/%.c,build/san/tests/%.o,$(TEST_SRCS))

.PHONY: all check unit-tests tool-tests bench bench-big install clean clean-results distclean help
.DELETE_ON_ERROR:
.SECONDARY:

# Each experiments/*.mk adds its own lines with a `help::` rule of its own.
help::
	@echo "EAP-C make targets:"
	@echo "  all (default)   build libeap.a and the tools in bin/"
	@echo "  check           unit tests (ASan/UBSan) and tool tests"
	@echo "  bench           benchmarks against FLOP bounds and PyTorch (bench/README.md)"
	@echo "  bench-big       EAP-IG on random GPT-2-XL and Llama-3.1-8B shapes (22 GB of disk, opt-in)"
	@echo "  install         copy the tools to \$$(DESTDIR)\$$(PREFIX)/bin"
	@echo "  clean           remove build products; clean-results removes results/"

all: libeap.a $(TOOLS)

build/obj/%.o: src/%.c $(HDRS) build/config.mk
	@mkdir -p $(@D)
	$(CC) $(EAP_CPPFLAGS) $(CPPFLAGS) $(EAP_CFLAGS) $(CFLAGS) -c $< -o $@

# ops.c: without -fno-trapping-math GCC will not if-convert the clamps of
# the vectorised GELU; the flag changes no result (nothing reads the
# floating-point exception flags).
build/obj/ops.o build/san/ops.o: EAP_CFLAGS += -fno-trapping-math

libeap.a: $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

bin/%: src/tools/%.c src/tools/tool.h libeap.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EAP_CPPFLAGS) $(CPPFLAGS) $(EAP_CFLAGS) $(CFLAGS) $< libeap.a -o $@ $(LDFLAGS) $(EAP_LDLIBS) $(LDLIBS)

# eap-viewer carries its page (src/viewer/) inside the binary: a generated
# header of byte arrays, so bin/ needs no data files.
VIEWER_ASSETS := src/viewer/viewer.html src/viewer/viewer.css src/viewer/viewer.js
build/gen/viewer-assets.h: $(VIEWER_ASSETS) build-aux/embed.sh
	@mkdir -p $(@D)
	sh build-aux/embed.sh viewer_html=src/viewer/viewer.html viewer_css=src/viewer/viewer.css \
	  viewer_js=src/viewer/viewer.js > $@.tmp && mv $@.tmp $@
bin/eap-viewer build/san/bin/eap-viewer: build/gen/viewer-assets.h
bin/eap-viewer build/san/bin/eap-viewer: EAP_CPPFLAGS += -Ibuild/gen

# ---- tests: unit tests under ASan/UBSan, then the tools end to end ----------
build/san/%.o: src/%.c $(HDRS) build/config.mk
	@mkdir -p $(@D)
	$(CC) $(EAP_CPPFLAGS) $(CPPFLAGS) $(EAP_CFLAGS) -O1 -g $(SAN_FLAGS) -c $< -o $@

build/san/tests/%.o: tests/%.c $(HDRS) tests/test_util.h build/config.mk
	@mkdir -p $(@D)
	$(CC) $(EAP_CPPFLAGS) $(CHECK_CFLAGS) $(CPPFLAGS) $(EAP_CFLAGS) -O1 -g $(SAN_FLAGS) -c $< -o $@

build/san/run-tests: $(SAN_TEST_OBJS) $(SAN_LIB_OBJS)
	$(CC) $(SAN_FLAGS) $^ -o $@ $(LDFLAGS) $(CHECK_LIBS) $(EAP_LDLIBS) $(LDLIBS)

check: unit-tests tool-tests

# Large fixtures are committed gzipped (tests/fixtures/**/X.gz) and
# unpacked into build/fixtures/ (tests/reference/hf_tokenize.js).
GZ_FIXTURES := $(patsubst tests/fixtures/%.gz,build/fixtures/%,\
  $(wildcard tests/fixtures/tokenizer/hf/*.gz tests/fixtures/tokenizer/hf/*/*.gz))
GZ_FIXTURES += $(patsubst tests/fixtures/%,build/fixtures/%,\
  $(wildcard tests/fixtures/tokenizer/hf/*/tokenizer_config.json))
build/fixtures/%: tests/fixtures/%.gz
	@mkdir -p $(@D)
	gzip -dc $< > $@.tmp && mv $@.tmp $@
build/fixtures/%/tokenizer_config.json: tests/fixtures/%/tokenizer_config.json
	@mkdir -p $(@D)
	cp $< $@
fixtures: $(GZ_FIXTURES)
.PHONY: fixtures

# One BLAS thread keeps the sanitised run deterministic and light on CI.
unit-tests: build/san/run-tests fixtures
	OPENBLAS_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  build/san/run-tests

tool-tests: all fixtures
	@for t in tests/tools/*.sh; do \
	  [ -f "$$t" ] || continue; \
	  echo "== $$t"; sh "$$t" || exit 1; \
	done


# ---- the pipeline (SPEC §12) --------------------------------------------------
# Every artifact is a target: eap-corrupt -> pairs-{train,test}.csv ->
# eap-dump -> acts.h5 (ACTS) -> eap-score --acts -> scores-<method>-<metric>.h5 ->
# eap-prune --sizes -> circuits-<method>-<metric>.h5 -> eap-eval ->
# curve-<method>-<metric>.csv -> gnuplot.  Attribution runs on the train
# split, evaluation on the held-out test split.
MODEL_NAME := $(notdir $(patsubst %/,%,$(MODEL)))
R          := $(RESULTS)/$(MODEL_NAME)
# The folder of config.json and the weights: MODEL, or for a Hugging Face
# cache folder (models--<org>--<name>) the snapshot its refs/main names, as
# the tools resolve it.  The weights are model.safetensors or the shards and
# their index, whichever the folder holds (model.safetensors when it holds
# none yet: a seed organism's rule makes it).
MODEL_SNAP := $(if $(wildcard $(MODEL)/config.json),$(MODEL),$(if $(wildcard $(MODEL)/refs/main),$(MODEL)/snapshots/$(shell cat '$(MODEL)/refs/main'),$(MODEL)))
MODEL_DEPS := $(or $(wildcard $(MODEL_SNAP)/*.safetensors $(MODEL_SNAP)/model.safetensors.index.json),$(MODEL_SNAP)/model.safetensors) $(MODEL_SNAP)/config.json

# experiments/tasks.mk configures the tasks; the other experiments/*.mk
# add figure targets over the artifacts defined below.
include experiments/tasks.mk

# Heavy recipes run as $(SUBMIT) bin/... $(THREADS_OPT): SUBMIT is
# expanded when the recipe runs, so it may name the job after $@.
# BLAS threads: THREADS if set; under SUBMIT none, so that each tool
# takes its job's SLURM_CPUS_PER_TASK; locally cores / make's -j jobs, at
# least 1, so that parallel jobs do not oversubscribe the cores (plain -j:
# 1).  MAKEFLAGS holds -jN only inside recipes, hence the recursive '='.
NPROC      := $(shell nproc 2>/dev/null || echo 1)
MAKE_JOBS   = $(if $(filter -j,$(MAKEFLAGS)),$(NPROC),$(or $(patsubst -j%,%,$(filter -j%,$(MAKEFLAGS))),1))
THREADS_OPT = $(if $(THREADS),--threads $(THREADS),$(if $(SUBMIT),,--threads \
  $(shell n=$(NPROC) j=$(MAKE_JOBS); echo $$((n / j > 1 ? n / j : 1)))))

# `make` names each heavy step as it starts, on a line of its own
# ("  SCORE results/organism/ioi/scores-eap-ig-logit_diff.h5"), besides
# the command it echoes; `make -s` shows neither.  The tools' own progress
# lines (stderr, on a terminal) say how far each step is.
step = $(if $(findstring s,$(firstword -$(MAKEFLAGS))),,@printf '  %-5s %s\n' $(1) '$(2)')

task_metric = $(or $(METRIC_$(1)),logit_diff)
# variant -> "<method>-<metric>" file stem: eap-ig-kl is EAP-IG on KL
variant_stem = $(if $(filter eap-ig-kl,$(1)),eap-ig-kl,$(1)-$(call task_metric,$(2)))
# eap-ig-s<k> is EAP-IG with k steps (make fig-ig-steps), the rest STEPS
variant_method = $(if $(filter eap-ig-kl eap-ig-s%,$(1)),eap-ig,$(1))
variant_steps = $(if $(filter eap-ig-s%,$(1)),$(patsubst eap-ig-s%,%,$(1)),$(STEPS))
variant_metric = $(if $(filter eap-ig-kl,$(1)),kl,$(call task_metric,$(2)))

# The pairs come from the task folder (PAIRS_FROM=tasks) or from the
# paper's CSV (PAIRS_FROM=paper: pairs_rules_paper of experiments/tasks.mk).
define pairs_rules_tasks
$(R)/$(1)/pairs-train.csv: $(wildcard data/tasks/$(1)/*) | bin/eap-corrupt
	@mkdir -p $$(@D)
	bin/eap-corrupt --task data/tasks/$(1) --split train -n $(N) --seed $(SEED) -o $$@
$(R)/$(1)/pairs-test.csv: $(wildcard data/tasks/$(1)/*) | bin/eap-corrupt
	@mkdir -p $$(@D)
	bin/eap-corrupt --task data/tasks/$(1) --split test -n $(N) --seed $(SEED) -o $$@
endef

define task_rules
$(call pairs_rules_$(PAIRS_FROM),$(1))
$(R)/$(1)/pairs-train.csv $(R)/$(1)/pairs-test.csv: $(R)/.vars/N $(R)/.vars/SEED
$(R)/$(1)/acts.h5: $(R)/$(1)/pairs-train.csv $(MODEL_DEPS) bin/eap-dump $(R)/.vars/ACTS
	$$(call step,DUMP,$$@)
	$$(SUBMIT) bin/eap-dump --model $(MODEL) --pairs $$< --metric $(call task_metric,$(1)) --batch $(BATCH) $(if $(ACTS),--keep $(ACTS)) $$(THREADS_OPT) -o $$@
endef

# $(1) task, $(2) variant: eap-score on the train split, without -o
score_cmd = bin/eap-score --model $(MODEL) --pairs $(R)/$(1)/pairs-train.csv --acts $(R)/$(1)/acts.h5 \
  --method $(call variant_method,$(2)) --metric $(call variant_metric,$(2),$(1)) \
  --steps $(call variant_steps,$(2)) --batch $(BATCH) $(if $(filter exact,$(2)),--limit $(N_EXACT) $(if $(EXACT_BUDGET),--budget $(EXACT_BUDGET)))
score_deps = $(R)/$(1)/pairs-train.csv $(R)/$(1)/acts.h5 $(MODEL_DEPS) bin/eap-score

# $(1) task, $(2) variant: its scores in one job
define scores_rules
$(R)/$(1)/scores-$(call variant_stem,$(2),$(1)).h5: $(call score_deps,$(1))
	$$(call step,SCORE,$$@)
	$$(SUBMIT) $(call score_cmd,$(1),$(2)) $$(THREADS_OPT) -o $$@
endef

# SHARDS=K > 1, exact: shard i of K (eap-score --shard i/K: the edges into
# every K-th backward input) is its own target and job,
# scores-exact-<metric>.shard-<i>-of-<K>.h5, so a failed shard is redone
# alone; eap-score --merge checks that the shards belong together and
# cover every edge once, and writes the same /scores as one job would.
shard_files = $(foreach i,$(shell seq 1 $(SHARDS)),$(R)/$(1)/scores-$(call variant_stem,$(2),$(1)).shard-$(i)-of-$(SHARDS).h5)
define shard_rules
$(call shard_files,$(1),$(2)): $(R)/$(1)/scores-$(call variant_stem,$(2),$(1)).shard-%-of-$(SHARDS).h5: $(call score_deps,$(1))
	$$(call step,SCORE,$$@)
	$$(SUBMIT) $(call score_cmd,$(1),$(2)) --shard $$*/$(SHARDS) $$(THREADS_OPT) -o $$@
$(R)/$(1)/scores-$(call variant_stem,$(2),$(1)).h5: $(call shard_files,$(1),$(2)) bin/eap-score
	$$(call step,MERGE,$$@)
	bin/eap-score --merge -o $$@ $(call shard_files,$(1),$(2))
endef
ifneq ($(shell [ "$(SHARDS)" -ge 1 ] 2>/dev/null && echo ok),ok)
$(error SHARDS must be a whole number >= 1, got '$(SHARDS)')
endif
scores_rule_of = $(if $(and $(filter exact,$(1)),$(filter-out 1,$(SHARDS))),shard_rules,scores_rules)

# Changing a variable that shapes an artifact remakes the artifact: each
# such variable's value is kept in $(R)/.vars/NAME, rewritten (when make
# reads this file) only if the value changed, and the artifacts it shapes
# depend on that file.  A missing one is made with the current value.
VAR_FILES := N SEED STEPS N_EXACT EXACT_BUDGET SIZES ACTS
$(foreach v,$(VAR_FILES),$(shell f='$(R)/.vars/$(v)'; [ ! -f "$$f" ] || \
  [ "$$(cat "$$f")" = '$($(v))' ] || printf '%s\n' '$($(v))' > "$$f"))
$(R)/.vars/%:
	@mkdir -p $(@D)
	@printf '%s\n' '$($*)' > $@
# ACTS is newer than the results it may find: its default file is dated
# 1970, so acts.h5 made before it existed (full dumps) are kept
$(R)/.vars/ACTS:
	@mkdir -p $(@D)
	@printf '%s\n' '$(ACTS)' > $@
	@$(if $(ACTS),:,touch -d @0 $@)
# so is EXACT_BUDGET: exact scores made before it keep their N_EXACT examples
$(R)/.vars/EXACT_BUDGET:
	@mkdir -p $(@D)
	@printf '%s\n' '$(EXACT_BUDGET)' > $@
	@touch -d @0 $@
# $(1) variant: the files of the variables its scores depend on
variant_vars = $(if $(filter exact,$(1)),$(R)/.vars/N_EXACT $(R)/.vars/EXACT_BUDGET) \
  $(if $(filter eap-ig eap-ig-act eap-gp,$(call variant_method,$(1))),$(if $(filter eap-ig-s%,$(1)),,$(R)/.vars/STEPS))

# $(1) task, $(2) variant
define variant_rules
$(call $(call scores_rule_of,$(2)),$(1),$(2))
$(R)/$(1)/scores-$(call variant_stem,$(2),$(1)).h5 $(if $(filter shard_rules,$(call scores_rule_of,$(2))),$(call shard_files,$(1),$(2))): $(call variant_vars,$(2))
$(R)/$(1)/circuits-$(call variant_stem,$(2),$(1)).h5: $(R)/.vars/SIZES
$(R)/$(1)/circuits-$(call variant_stem,$(2),$(1)).h5: $(R)/$(1)/scores-$(call variant_stem,$(2),$(1)).h5 bin/eap-prune
	$$(call step,PRUNE,$$@)
	bin/eap-prune --scores $$< --sizes $(SIZES) -o $$@
$(R)/$(1)/curve-$(call variant_stem,$(2),$(1)).csv $(R)/$(1)/curve-$(call variant_stem,$(2),$(1)).h5 \
  $(R)/$(1)/summary-$(call variant_stem,$(2),$(1)).csv &: \
  $(R)/$(1)/circuits-$(call variant_stem,$(2),$(1)).h5 $(R)/$(1)/pairs-test.csv $(MODEL_DEPS) bin/eap-eval
	$$(call step,EVAL,$(R)/$(1)/curve-$(call variant_stem,$(2),$(1)).csv)
	$$(SUBMIT) bin/eap-eval --model $(MODEL) --pairs $(R)/$(1)/pairs-test.csv \
	  --metric $(call task_metric,$(1)) --circuit $(R)/$(1)/circuits-$(call variant_stem,$(2),$(1)).h5 \
	  --method $(2) --batch $(BATCH) $$(THREADS_OPT) --summary $(R)/$(1)/summary-$(call variant_stem,$(2),$(1)).csv \
	  --h5 $(R)/$(1)/curve-$(call variant_stem,$(2),$(1)).h5 \
	  -o $(R)/$(1)/curve-$(call variant_stem,$(2),$(1)).csv
endef

$(foreach t,$(TASKS),$(eval $(call task_rules,$(t))))
$(foreach t,$(TASKS),$(foreach v,$(METHODS),$(eval $(call variant_rules,$(t),$(v)))))

ALL_CURVES := $(foreach t,$(TASKS),$(foreach v,$(METHODS),$(R)/$(t)/curve-$(call variant_stem,$(v),$(t)).csv))

include $(filter-out experiments/tasks.mk,$(wildcard experiments/*.mk))

# Further test targets (e.g. `make fuzz`) live beside the tests.
include $(wildcard tests/*.mk)

# ---- benchmarks (not part of check) ------------------------------------------
bin/eap-bench: bench/eap-bench.c bench/bench.h libeap.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EAP_CPPFLAGS) $(CPPFLAGS) $(EAP_CFLAGS) $(CFLAGS) $< libeap.a -o $@ $(LDFLAGS) $(EAP_LDLIBS) $(LDLIBS)

bin/eap-bigbench: bench/eap-bigbench.c bench/bench.h libeap.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EAP_CPPFLAGS) $(CPPFLAGS) $(EAP_CFLAGS) $(CFLAGS) $< libeap.a -o $@ $(LDFLAGS) $(EAP_LDLIBS) $(LDLIBS)

bin/eap-genmodel: bench/eap-genmodel.c libeap.a $(HDRS)
	@mkdir -p $(@D)
	$(CC) $(EAP_CPPFLAGS) $(CPPFLAGS) $(EAP_CFLAGS) $(CFLAGS) $< libeap.a -o $@ $(LDFLAGS) $(EAP_LDLIBS) $(LDLIBS)

bench: all bin/eap-bench
	bin/eap-bench --threads $$(nproc)
	sh bench/memory.sh

# Opt-in big shapes (bench/README.md "Big shapes"; not part of `make
# bench`): a random GPT-2-XL (F32, 6.2 GB) and Llama-3.1-8B (BF16, 16 GB)
# model written to build/, EAP-IG timed on each, each deleted after.
bench-big: bin/eap-genmodel bin/eap-bigbench
	rm -rf build/big-xl build/big-8b
	bin/eap-genmodel --family gpt2 --layers 48 --heads 25 --d 1600 --shards 3 -o build/big-xl
	bin/eap-bigbench --model build/big-xl --prompts 20 --batch 4 --threads $$(nproc); \
		rc=$$?; rm -rf build/big-xl; exit $$rc
	bin/eap-genmodel --family llama --layers 32 --heads 32 --kv-heads 8 --d 4096 \
		--mlp 14336 --vocab 128256 --ctx 8192 --dtype bf16 --shards 4 -o build/big-8b
	bin/eap-bigbench --model build/big-8b --prompts 2 --batch 1 --threads $$(nproc); \
		rc=$$?; rm -rf build/big-8b; exit $$rc

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin
	cp $(TOOLS) $(DESTDIR)$(PREFIX)/bin/

clean:
	rm -rf build bin libeap.a

clean-results:
	rm -rf results/*/

distclean: clean clean-results

# after every experiments/*.mk help:: rule
help::
	@echo "Variables (current value):"
	@echo "  PREFIX=$(PREFIX)  MODEL=$(MODEL)"
	@echo "  TASKS=$(TASKS)"
	@echo "  METHODS=$(METHODS)  N=$(N)  STEPS=$(STEPS)  J=$(J)"
	@echo "  N_EXACT=$(N_EXACT)  EXACT_BUDGET=$(EXACT_BUDGET)  SEED=$(SEED)  BATCH=$(BATCH)  SIZES=$(SIZES)  SHARDS=$(SHARDS)"
	@echo "  ACTS=$(ACTS)"
	@echo '  SUBMIT=$(value SUBMIT)  THREADS=$(THREADS)'
