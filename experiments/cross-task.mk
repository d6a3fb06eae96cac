# experiments/cross-task.mk - `make fig-cross-task` (issue #16): each
# task's circuit evaluated on every task's held-out test prompts, and how
# much the tasks' circuits share.
#
#   FIGURES/<model>/cross-task.{png,pdf}  heatmaps: normalized faithfulness
#       (rows: the circuit's task, columns: the task it is evaluated on),
#       edge IoU and node IoU of the two tasks' circuits; with
#       PAPER_POINTS=yes the paper's GPT-2-small matrix beside ours
#   RESULTS/<model>/cross-task.csv  one row per (circuit task, evaluation
#       task): circuit_task,eval_task,edges_requested,edges,faithfulness,
#       ci_low,ci_high,edge_iou,node_iou,paper_faithfulness (empty without
#       the paper's numbers)
#
# Each task's circuit is the top-n circuit of CROSS_METHOD's scores
# (pruned, as the curves' circuits are) at one size per task:
# CROSS_EDGES_<task> if set, else CROSS_EDGES, a number of edges or f80:
# the smallest size of the task's own CROSS_METHOD curve with F >= 0.8
# (its largest size if none reaches it).  On the paper's pairs the default
# sizes are the paper's (800, 200, 200, 400, 500, 1600, 300, 200 edges;
# the paper selected them greedily, we take the top n).  A cell is
# eap-eval of that circuit on the column task's pairs-test.csv with the
# column task's metric, so F is normalized by the column task's clean and
# corrupted means; the diagonal is the task's own curve at that size.
#   RESULTS/<model>/cross-task/circuit-<task>.h5      the circuit
#   RESULTS/<model>/cross-task/<task>/on-<task2>.csv  its eap-eval row
#   RESULTS/<model>/cross-task/<task>/overlap-<task2>.csv  eap-compare
#       --fixed-ref of the two circuits (nodes without input)
CROSS_METHOD ?= eap-ig
CROSS_EDGES  ?= f80
CROSS_TASKS  := $(TASKS)
CROSS_PAPER  := data/paper/results/cross-task/faithfulness.csv
# the paper's sizes, by its task names (used with PAIRS_FROM=paper)
PAPER_CROSS_EDGES_ioi                  := 800
PAPER_CROSS_EDGES_greater-than         := 200
PAPER_CROSS_EDGES_gender-bias          := 200
PAPER_CROSS_EDGES_sva                  := 400
PAPER_CROSS_EDGES_fact-retrieval-comma := 500
PAPER_CROSS_EDGES_hypernymy-comma      := 1600
PAPER_CROSS_EDGES_greater-than-price   := 300
PAPER_CROSS_EDGES_greater-than-sequence := 200
cross_edges = $(or $(CROSS_EDGES_$(1)),$(if $(filter paper,$(PAIRS_FROM)),$(PAPER_CROSS_EDGES_$(call paper_task,$(1)))),$(CROSS_EDGES))
ifneq ($(shell printf '%s\n' $(foreach t,$(CROSS_TASKS),$(call cross_edges,$(t))) | grep -Evx 'f80|[1-9][0-9]*'),)
$(error CROSS_EDGES must be f80 or a whole number of edges >= 1, got '$(foreach t,$(CROSS_TASKS),$(call cross_edges,$(t)))')
endif

CT := $(R)/cross-task
cross_curve = $(R)/$(1)/curve-$(call variant_stem,$(CROSS_METHOD),$(1)).csv
cross_scores = $(R)/$(1)/scores-$(call variant_stem,$(CROSS_METHOD),$(1)).h5

# $(1) task: its circuit; f80 reads the size from the curve (column 2
# requested edges, 7 faithfulness of eap-eval's CSV)
define cross_circuit_rules
$(CT)/circuit-$(1).h5: $(call cross_scores,$(1)) $(if $(filter f80,$(call cross_edges,$(1))),$(call cross_curve,$(1))) bin/eap-prune
	@mkdir -p $$(@D)
	n=$(if $(filter f80,$(call cross_edges,$(1))),$$$$(awk -F, 'NR > 1 { n = $$$$2; if ($$$$7 >= 0.8) { print n; f = 1; exit } } \
	  END { if (!f) print n }' $(call cross_curve,$(1))),$(call cross_edges,$(1))) && \
	bin/eap-prune --scores $(call cross_scores,$(1)) --topn $$$$n -o $$@
endef
$(foreach t,$(CROSS_TASKS),$(eval $(call cross_circuit_rules,$(t))))

# $(1) circuit's task, $(2) evaluation task
define cross_cell_rules
$(CT)/$(1)/on-$(2).csv: $(CT)/circuit-$(1).h5 $(R)/$(2)/pairs-test.csv $(MODEL_DEPS) bin/eap-eval
	@mkdir -p $$(@D)
	$$(call step,EVAL,$$@)
	$$(SUBMIT) bin/eap-eval --model $(MODEL) --pairs $(R)/$(2)/pairs-test.csv \
	  --metric $(call task_metric,$(2)) --circuit $$< --method $(CROSS_METHOD) \
	  --batch $(BATCH) $$(THREADS_OPT) -o $$@
$(CT)/$(1)/overlap-$(2).csv: $(CT)/circuit-$(1).h5 $(CT)/circuit-$(2).h5 bin/eap-compare
	@mkdir -p $$(@D)
	bin/eap-compare --circuits $$< --ref $(CT)/circuit-$(2).h5 --fixed-ref --method $(1) -o $$@
endef
$(foreach a,$(CROSS_TASKS),$(foreach b,$(CROSS_TASKS),$(eval $(call cross_cell_rules,$(a),$(b)))))

CROSS_CELLS := $(foreach a,$(CROSS_TASKS),$(foreach b,$(CROSS_TASKS),$(CT)/$(a)/on-$(b).csv $(CT)/$(a)/overlap-$(b).csv))
CROSS_PAPER_USED := $(if $(filter yes,$(PAPER_POINTS)),$(wildcard $(CROSS_PAPER)))

# joined by plots/cross-task.awk, the paper's cells normalized by the
# evaluation task's own baselines
$(R)/cross-task.csv: plots/cross-task.awk $(CROSS_CELLS) $(CROSS_PAPER_USED)
	@mkdir -p $(@D)
	awk -v PAPER='$(CROSS_PAPER_USED)' -v PT='$(foreach t,$(CROSS_TASKS),$(t)=$(call paper_task,$(t)))' \
	  -f plots/cross-task.awk $(CROSS_CELLS) $(CROSS_PAPER_USED) > $@.tmp
	mv $@.tmp $@

FIG_CROSS_TASK := $(FIGURES)/$(MODEL_NAME)/cross-task.png $(FIGURES)/$(MODEL_NAME)/cross-task.pdf
.PHONY: fig-cross-task
fig-cross-task: $(FIG_CROSS_TASK)
$(FIG_CROSS_TASK) &: plots/cross-task.gp $(R)/cross-task.csv
	@mkdir -p $(@D)
	$(GNUPLOT) -e "IN='$(R)/cross-task.csv'; OUT='$(FIGURES)/$(MODEL_NAME)/cross-task'; \
	  TASKS='$(CROSS_TASKS)'; MODEL='$(MODEL_NAME)'; METHOD='$(CROSS_METHOD)'; \
	  PAPER='$(if $(CROSS_PAPER_USED),yes)'" plots/cross-task.gp

help::
	@echo "  fig-cross-task  each task's $(CROSS_METHOD) circuit on every task's prompts, and the circuits'"
	@echo "                  overlap: plots/<model>/cross-task.{png,pdf}, results/<model>/cross-task.csv"
	@echo "                  (CROSS_EDGES=$(CROSS_EDGES): edges per circuit, f80 = the smallest with F >= 0.8)"
