# experiments/stability.mk - issue #18 items 4 and 5 in the pipeline:
# every approximate method's own exactness check and its stability under
# resampling of the attribution prompts (README "Built-in exactness check
# and stability").
#
#   make tables          also RESULTS/<model>/stability.{csv,md}: per task
#                        and method Pearson, Spearman, sign agreement and
#                        top-k recall against CHECK_EXACT exactly scored
#                        edges, and the mean pairwise Jaccard of the
#                        BOOTSTRAP resamples' circuits at the smallest
#                        size with F >= 0.8
#   make fig-stability   FIGURES/<model>/stability.{png,pdf}: mean Jaccard
#                        against circuit size, one panel per task
#
# New artifacts per task T and variant V of STABILITY_METHODS, all from
# one eap-score run on the train split (the scores themselves are the
# pipeline's; this run only adds the check and the resamples):
#   check-<stem>.csv      eap-score --check-csv
#   bootstrap-<stem>.csv  eap-score --bootstrap-csv, one row per SIZES
#   stability-<stem>.h5   its scores.h5 (/check_exact*, /bootstrap*)
CHECK_EXACT       ?= 200
BOOTSTRAP         ?= 20
STABILITY_METHODS ?= $(filter-out exact,$(METHODS))

ifneq ($(shell [ "$(CHECK_EXACT)" -ge 1 ] 2>/dev/null && [ "$(BOOTSTRAP)" -ge 2 ] 2>/dev/null && echo ok),ok)
$(error CHECK_EXACT must be >= 1 and BOOTSTRAP >= 2, got '$(CHECK_EXACT)', '$(BOOTSTRAP)')
endif
# their values shape the files (as VAR_FILES in the Makefile)
$(foreach v,CHECK_EXACT BOOTSTRAP,$(shell f='$(R)/.vars/$(v)'; [ ! -f "$$f" ] || \
  [ "$$(cat "$$f")" = '$($(v))' ] || printf '%s\n' '$($(v))' > "$$f"))

stab_files = $(R)/$(1)/check-$(2).csv $(R)/$(1)/bootstrap-$(2).csv $(R)/$(1)/stability-$(2).h5

# $(1) task, $(2) variant
define stability_rules
$(call stab_files,$(1),$(call variant_stem,$(2),$(1))) &: $(call score_deps,$(1)) \
  $(R)/.vars/CHECK_EXACT $(R)/.vars/BOOTSTRAP $(R)/.vars/SIZES $(R)/.vars/SEED $(call variant_vars,$(2))
	$$(call step,CHECK,$(R)/$(1)/check-$(call variant_stem,$(2),$(1)).csv)
	$$(SUBMIT) $(call score_cmd,$(1),$(2)) $$(THREADS_OPT) --check-exact $(CHECK_EXACT) \
	  --bootstrap $(BOOTSTRAP) --sizes $(SIZES) --seed $(SEED) \
	  --check-csv $(R)/$(1)/check-$(call variant_stem,$(2),$(1)).csv \
	  --bootstrap-csv $(R)/$(1)/bootstrap-$(call variant_stem,$(2),$(1)).csv \
	  -o $(R)/$(1)/stability-$(call variant_stem,$(2),$(1)).h5
endef
# (also for the methods `make fig-methods` compares, experiments/methods.mk)
$(foreach t,$(TASKS),$(foreach v,$(sort $(STABILITY_METHODS) $(METHODS_FIG_STAB)),\
  $(eval $(call stability_rules,$(t),$(v)))))

# "task variant check bootstrap curve" quintuples for plots/stability.awk,
# of the methods $(1)
stab_args = $(foreach t,$(TASKS),$(foreach v,$(1),$(t) $(v) \
  $(addprefix $(R)/$(t)/,check-$(call variant_stem,$(v),$(t)).csv bootstrap-$(call variant_stem,$(v),$(t)).csv \
  curve-$(call variant_stem,$(v),$(t)).csv)))
STABILITY_TABLES := $(R)/stability.csv $(R)/stability.md
tables: $(STABILITY_TABLES)
$(STABILITY_TABLES) &: plots/stability.awk $(filter %.csv,$(call stab_args,$(STABILITY_METHODS)))
	@mkdir -p $(@D)
	awk -f plots/stability.awk -v csv=$(R)/stability.csv.tmp -v md=$(R)/stability.md.tmp \
	  $(call stab_args,$(STABILITY_METHODS))
	mv $(R)/stability.csv.tmp $(R)/stability.csv
	mv $(R)/stability.md.tmp $(R)/stability.md

# fig-methods' stability axis: the same table for METHODS_FIG_STAB
$(R)/methods-stability.csv: plots/stability.awk $(filter %.csv,$(call stab_args,$(METHODS_FIG_STAB)))
	@mkdir -p $(@D)
	awk -f plots/stability.awk -v csv=$@.tmp -v md=/dev/null $(call stab_args,$(METHODS_FIG_STAB))
	mv $@.tmp $@

FIG_STABILITY := $(FIGURES)/$(MODEL_NAME)/stability.png $(FIGURES)/$(MODEL_NAME)/stability.pdf
.PHONY: fig-stability
fig-stability: $(FIG_STABILITY)
$(FIG_STABILITY) &: plots/stability.gp $(R)/stability.csv
	@mkdir -p $(@D)
	$(GNUPLOT) -e "R='$(R)'; OUT='$(FIGURES)/$(MODEL_NAME)/stability'; TASKS='$(TASKS)'; \
	  STEMS='$(foreach t,$(TASKS),$(foreach v,$(STABILITY_METHODS),$(call variant_stem,$(v),$(t))))'; \
	  VARIANTS='$(STABILITY_METHODS)'; MODEL='$(MODEL_NAME)'" plots/stability.gp

help::
	@echo "  fig-stability   mean pairwise Jaccard of BOOTSTRAP ($(BOOTSTRAP)) resampled circuits"
	@echo "                  against size: plots/<model>/stability.{png,pdf}; make tables adds"
	@echo "                  results/<model>/stability.{csv,md} (and the CHECK_EXACT ($(CHECK_EXACT))"
	@echo "                  edges' exactness check)"
