# experiments/methods.mk - every scoring method on the same axes (issue
# #18): `make fig-methods` writes
#   RESULTS/<model>/methods.{csv,md}   per task and method: faithfulness
#       AUC and the smallest F >= 0.8 circuit (eap-eval --summary), Pearson
#       and Spearman of the edge scores with exact patching's (eap-compare),
#       and the cost: forward and backward passes and GFLOP per example
#       (counted) and CPU and wall-clock seconds per example (measured)
#       and the stability: the mean pairwise Jaccard of BOOTSTRAP
#       resamples' circuits at the smallest F >= 0.8 size (the runs of
#       experiments/stability.mk, for every method but exact patching)
#   FIGURES/<model>/methods.{png,pdf}  the same as five panels
# The cost is measured by its own scoring run, cost-<stem>.csv (eap-score
# --cost), on the first COST_N training pairs with one BLAS thread, so
# that every method is timed on the same examples and the same footing.
METHODS_FIG ?= eap eap-ig eap-ig-act relp eap-gp exact
COST_N      ?= 20
METHODS_FIG_STAB = $(filter-out exact,$(METHODS_FIG))

# the methods that the Makefile and compare.mk do not define already
METHODS_FIG_NEW := $(filter-out $(METHODS) exact $(IG_VARIANTS),$(METHODS_FIG))
$(foreach t,$(TASKS),$(foreach v,$(METHODS_FIG_NEW),\
  $(eval $(call variant_rules,$(t),$(v)))$(eval $(call compare_rules,$(t),$(v)))))

# $(1) task, $(2) variant: its cost, measured
define cost_rules
$(R)/$(1)/cost-$(call stem_of,$(1),$(2)).csv: $(R)/$(1)/pairs-train.csv $(MODEL_DEPS) bin/eap-score \
  $(R)/.vars/COST_N $(call variant_vars,$(2))
	$$(call step,COST,$$@)
	bin/eap-score --model $(MODEL) --pairs $(R)/$(1)/pairs-train.csv \
	  --method $(call variant_method,$(2)) --metric $(call variant_metric,$(2),$(1)) \
	  --steps $(call variant_steps,$(2)) --batch $(BATCH) --limit $(COST_N) --threads 1 \
	  --cost $$@ -o $$@.h5 && rm -f $$@.h5
endef
$(foreach t,$(TASKS),$(foreach v,$(METHODS_FIG),$(eval $(call cost_rules,$(t),$(v)))))
$(R)/.vars/COST_N:
	@mkdir -p $(@D)
	@printf '%s\n' '$(COST_N)' > $@
$(shell f='$(R)/.vars/COST_N'; [ ! -f "$$f" ] || [ "$$(cat "$$f")" = '$(COST_N)' ] || \
  printf '%s\n' '$(COST_N)' > "$$f")

methods_five = $(1) $(2) $(R)/$(1)/summary-$(call stem_of,$(1),$(2)).csv \
  $(R)/$(1)/correlation-$(call stem_of,$(1),$(2)).csv $(R)/$(1)/cost-$(call stem_of,$(1),$(2)).csv
METHODS_INPUTS := $(foreach t,$(TASKS),$(foreach v,$(METHODS_FIG),$(call methods_five,$(t),$(v))))

METHODS_TABLE := $(R)/methods.csv $(R)/methods.md
$(METHODS_TABLE) &: plots/methods.awk $(filter %.csv,$(METHODS_INPUTS)) $(R)/methods-stability.csv
	@mkdir -p $(@D)
	awk -v OUT=$(R)/methods -v STAB=$(R)/methods-stability.csv -f plots/methods.awk $(METHODS_INPUTS)

FIG_METHODS := $(FIGURES)/$(MODEL_NAME)/methods.png $(FIGURES)/$(MODEL_NAME)/methods.pdf
.PHONY: fig-methods
fig-methods: $(FIG_METHODS) $(METHODS_TABLE)
$(FIG_METHODS) &: plots/methods.gp $(R)/methods.csv
	@mkdir -p $(@D)
	$(GNUPLOT) -e "CSV='$(R)/methods.csv'; OUT='$(FIGURES)/$(MODEL_NAME)/methods'; \
	  TASKS='$(TASKS)'; METHODS='$(METHODS_FIG)'; MODEL='$(MODEL_NAME)'" plots/methods.gp

help::
	@echo "  fig-methods     every method ($(METHODS_FIG)) per task: AUC, Pearson and"
	@echo "                  Spearman with exact, passes, GFLOP, seconds (COST_N=$(COST_N) pairs):"
	@echo "                  results/<model>/methods.{csv,md}, plots/<model>/methods.{png,pdf}"
