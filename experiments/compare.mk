# experiments/compare.mk - the pipeline's figures and tables beside the
# faithfulness curves (issue #9), all measured against exact patching:
#
#   make fig-overlap   FIGURES/<model>/overlap.{png,pdf}: edge and node IoU
#                      of each method's circuit with exact patching's
#                      circuit of the same requested size, next to the
#                      faithfulness of both (overlap is not faithfulness)
#   make fig-ig-steps  FIGURES/<model>/ig-steps.{png,pdf}: EAP-IG's area
#                      under the faithfulness curve and the correlation of
#                      its scores with exact patching's, over IG steps
#   make tables        RESULTS/<model>/tables.{csv,md,tex}: per task and
#                      method the curve summary and the score correlations
#
# New artifacts per task T, each its own target (bin/eap-compare):
#   correlation-<stem>.csv  scores-<stem>.h5 vs scores-exact-<metric>.h5
#   overlap-<stem>.csv      circuits-<stem>.h5 vs circuits-exact-<metric>.h5
#   ig-steps.csv            per step count: summary + correlation (eap-table)
# and the variants eap-ig-s<k> (EAP-IG with k steps; the Makefile's
# variant_steps), scored, pruned and evaluated like any method.
IG_STEPS_LIST   ?= 1 2 5 10 20 50
OVERLAP_METHODS ?= $(filter-out exact,$(METHODS))

IG_VARIANTS := $(foreach k,$(IG_STEPS_LIST),eap-ig-s$(k))
ifneq ($(shell echo '$(IG_STEPS_LIST)' | grep -Eq '^ *[1-9][0-9]*( +[1-9][0-9]*)* *$$' && echo ok),ok)
$(error IG_STEPS_LIST must be whole numbers >= 1, got '$(IG_STEPS_LIST)')
endif

# exact patching is the reference even where METHODS leaves it out, and
# the IG step variants are extra methods
$(foreach t,$(TASKS),$(foreach v,$(filter-out $(METHODS),exact $(IG_VARIANTS)),\
  $(eval $(call variant_rules,$(t),$(v)))))

stem_of  = $(call variant_stem,$(2),$(1))
exact_of = $(call variant_stem,exact,$(1))

# $(1) task, $(2) variant: its scores and its circuits against exact's
define compare_rules
$(R)/$(1)/correlation-$(call stem_of,$(1),$(2)).csv: $(R)/$(1)/scores-$(call stem_of,$(1),$(2)).h5 \
  $(R)/$(1)/scores-$(call exact_of,$(1)).h5 bin/eap-compare
	bin/eap-compare --scores $$< --ref $(R)/$(1)/scores-$(call exact_of,$(1)).h5 --method $(2) -o $$@
$(R)/$(1)/overlap-$(call stem_of,$(1),$(2)).csv: $(R)/$(1)/circuits-$(call stem_of,$(1),$(2)).h5 \
  $(R)/$(1)/circuits-$(call exact_of,$(1)).h5 bin/eap-compare
	bin/eap-compare --circuits $$< --ref $(R)/$(1)/circuits-$(call exact_of,$(1)).h5 --method $(2) -o $$@
endef
$(foreach t,$(TASKS),$(foreach v,$(sort $(METHODS) exact $(IG_VARIANTS)),\
  $(eval $(call compare_rules,$(t),$(v)))))

# "LABEL summary correlation" triples of eap-table for task $(1), variant $(2)
table_triple = $(R)/$(1)/summary-$(call stem_of,$(1),$(2)).csv $(R)/$(1)/correlation-$(call stem_of,$(1),$(2)).csv

# ---- make tables ----
TABLES := $(R)/tables.csv $(R)/tables.md $(R)/tables.tex
.PHONY: tables
tables: $(TABLES)
$(TABLES) &: $(foreach t,$(TASKS),$(foreach v,$(METHODS),$(call table_triple,$(t),$(v)))) bin/eap-table
	@mkdir -p $(@D)
	bin/eap-table -o $(R)/tables.csv --md $(R)/tables.md --tex $(R)/tables.tex \
	  $(foreach t,$(TASKS),$(foreach v,$(METHODS),$(t) $(call table_triple,$(t),$(v))))

# ---- make fig-ig-steps ----
define ig_steps_rules
$(R)/$(1)/ig-steps.csv: $(foreach v,$(IG_VARIANTS),$(call table_triple,$(1),$(v))) bin/eap-table
	bin/eap-table --key steps -o $$@ \
	  $(foreach k,$(IG_STEPS_LIST),$(k) $(call table_triple,$(1),eap-ig-s$(k)))
endef
$(foreach t,$(TASKS),$(eval $(call ig_steps_rules,$(t))))

FIG_IG_STEPS := $(FIGURES)/$(MODEL_NAME)/ig-steps.png $(FIGURES)/$(MODEL_NAME)/ig-steps.pdf
.PHONY: fig-ig-steps
fig-ig-steps: $(FIG_IG_STEPS)
$(FIG_IG_STEPS) &: plots/ig-steps.gp $(foreach t,$(TASKS),$(R)/$(t)/ig-steps.csv)
	@mkdir -p $(@D)
	$(GNUPLOT) -e "R='$(R)'; OUT='$(FIGURES)/$(MODEL_NAME)/ig-steps'; TASKS='$(TASKS)'; \
	  STEPS='$(IG_STEPS_LIST)'; MODEL='$(MODEL_NAME)'" plots/ig-steps.gp

# ---- make fig-overlap ----
FIG_OVERLAP := $(FIGURES)/$(MODEL_NAME)/overlap.png $(FIGURES)/$(MODEL_NAME)/overlap.pdf
.PHONY: fig-overlap
fig-overlap: $(FIG_OVERLAP)
$(FIG_OVERLAP) &: plots/overlap.gp \
  $(foreach t,$(TASKS),$(foreach v,$(OVERLAP_METHODS),$(R)/$(t)/overlap-$(call stem_of,$(t),$(v)).csv) \
    $(foreach v,$(OVERLAP_METHODS) exact,$(R)/$(t)/curve-$(call stem_of,$(t),$(v)).csv))
	@mkdir -p $(@D)
	$(GNUPLOT) -e "R='$(R)'; OUT='$(FIGURES)/$(MODEL_NAME)/overlap'; TASKS='$(TASKS)'; \
	  METRICS='$(foreach t,$(TASKS),$(call task_metric,$(t)))'; VARIANTS='$(OVERLAP_METHODS)'; \
	  MODEL='$(MODEL_NAME)'" plots/overlap.gp

help::
	@echo "  fig-overlap     edge/node IoU of each method's circuits with exact patching's,"
	@echo "                  next to faithfulness: plots/<model>/overlap.{png,pdf}"
	@echo "  fig-ig-steps    EAP-IG's faithfulness AUC and correlation with exact scores"
	@echo "                  over IG_STEPS_LIST ($(IG_STEPS_LIST)): plots/<model>/ig-steps.{png,pdf}"
	@echo "  tables          per task and method: AUC, CPR, CMD, edges for F>=0.8, Pearson and"
	@echo "                  Spearman vs exact: results/<model>/tables.{csv,md,tex}"
