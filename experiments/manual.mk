# experiments/manual.mk - `make fig-manual-overlap` (issue #16): the
# paper's comparison of each method's circuits with the manually found
# circuits of IOI (Wang et al. 2023) and greater-than (Hanna et al.
# 2023) on a model of GPT-2 small's shape, and the manual circuits' own
# faithfulness on the same prompts (overlap is not faithfulness).
#
# The manual circuits are data/paper/manual-circuits/<paper task>.json
# in the reference library's graph JSON, loaded by eap-prune --from-json
# --as-is (checked against MODEL's config.json: they are 12 x 12 graphs).
# The paper's protocol: each method's top-n edges by |score|, n = 1..199
# (MANUAL_SIZES), not pruned; edge and node precision and recall against
# the manual circuit, nodes without input (and logits, which is no
# forward node); for IOI leave out MLP nodes and the method's edges that
# touch an MLP (eap-compare --fixed-ref --no-mlp).
#
# Per task T of TASKS that has a manual circuit, under RESULTS/<model>/T/:
#   manual.h5                        the manual circuit (circuit.h5)
#   topn-<stem>.h5                   the unpruned top-n circuits
#   manual-overlap-<stem>.csv        eap-compare: precision and recall per n
#   manual-faith.csv                 eap-eval of the manual circuit
# and FIGURES/<model>/manual-overlap.{png,pdf}: precision against recall,
# edges and nodes, one line per method of MANUAL_METHODS, the paper's
# published curves (data/paper/results/manual-overlap/) dashed when
# PAPER_POINTS=yes.
MANUAL_DIR     := data/paper/manual-circuits
MANUAL_METHODS ?= eap eap-ig
MANUAL_SIZES   ?= $(shell seq -s, 1 199)
MANUAL_TASKS   := $(strip $(foreach t,$(TASKS),$(if $(wildcard $(MANUAL_DIR)/$(call paper_task,$(t)).json),$(t))))
MANUAL_PAPER   := data/paper/results/manual-overlap
MANUAL_NO_MLP_ioi := --no-mlp

# $(1) task
define manual_task_rules
$(R)/$(1)/manual.h5: $(MANUAL_DIR)/$(call paper_task,$(1)).json $(MODEL_SNAP)/config.json bin/eap-prune
	@mkdir -p $$(@D)
	bin/eap-prune --from-json $$< --model $(MODEL) --as-is -o $$@
$(R)/$(1)/manual-faith.csv: $(R)/$(1)/manual.h5 $(R)/$(1)/pairs-test.csv $(MODEL_DEPS) bin/eap-eval
	$$(call step,EVAL,$$@)
	$$(SUBMIT) bin/eap-eval --model $(MODEL) --pairs $(R)/$(1)/pairs-test.csv \
	  --metric $(call task_metric,$(1)) --circuit $$< --method manual \
	  --batch $(BATCH) $$(THREADS_OPT) -o $$@
endef
# $(1) task, $(2) variant
define manual_variant_rules
$(R)/$(1)/topn-$(call variant_stem,$(2),$(1)).h5: $(R)/$(1)/scores-$(call variant_stem,$(2),$(1)).h5 bin/eap-prune
	bin/eap-prune --scores $$< --sizes $(MANUAL_SIZES) --unpruned -o $$@
$(R)/$(1)/manual-overlap-$(call variant_stem,$(2),$(1)).csv: $(R)/$(1)/topn-$(call variant_stem,$(2),$(1)).h5 \
  $(R)/$(1)/manual.h5 bin/eap-compare
	bin/eap-compare --circuits $$< --ref $(R)/$(1)/manual.h5 --fixed-ref \
	  $(MANUAL_NO_MLP_$(call paper_task,$(1))) --method $(2) -o $$@
endef
$(foreach t,$(MANUAL_TASKS),$(eval $(call manual_task_rules,$(t))))
$(foreach t,$(MANUAL_TASKS),$(foreach v,$(MANUAL_METHODS),$(eval $(call manual_variant_rules,$(t),$(v)))))

MANUAL_CSVS := $(foreach t,$(MANUAL_TASKS),$(R)/$(t)/manual-faith.csv \
  $(foreach v,$(MANUAL_METHODS),$(R)/$(t)/manual-overlap-$(call variant_stem,$(v),$(t)).csv))
MANUAL_PAPER_USED := $(if $(filter yes,$(PAPER_POINTS)),$(wildcard \
  $(foreach t,$(MANUAL_TASKS),$(MANUAL_PAPER)/$(call paper_task,$(t))_node_edge_precision_recall.csv)))

FIG_MANUAL := $(FIGURES)/$(MODEL_NAME)/manual-overlap.png $(FIGURES)/$(MODEL_NAME)/manual-overlap.pdf
.PHONY: fig-manual-overlap
fig-manual-overlap: $(FIG_MANUAL)
$(FIG_MANUAL) &: plots/manual-overlap.gp $(MANUAL_CSVS) $(MANUAL_PAPER_USED)
	$(if $(MANUAL_TASKS),,$(error fig-manual-overlap: none of TASKS ($(TASKS)) has a manual circuit in $(MANUAL_DIR)))
	@mkdir -p $(@D)
	$(GNUPLOT) -e "R='$(R)'; OUT='$(FIGURES)/$(MODEL_NAME)/manual-overlap'; TASKS='$(MANUAL_TASKS)'; \
	  PTASKS='$(foreach t,$(MANUAL_TASKS),$(call paper_task,$(t)))'; \
	  METRICS='$(foreach t,$(MANUAL_TASKS),$(call task_metric,$(t)))'; VARIANTS='$(MANUAL_METHODS)'; \
	  MODEL='$(MODEL_NAME)'; PAPER='$(if $(MANUAL_PAPER_USED),$(MANUAL_PAPER))'" plots/manual-overlap.gp

help::
	@echo "  fig-manual-overlap  precision/recall of each method's top-n circuits against the manual"
	@echo "                  IOI and greater-than circuits (GPT-2-small shape): plots/<model>/manual-overlap.{png,pdf}"
