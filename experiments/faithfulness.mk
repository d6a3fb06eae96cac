# experiments/faithfulness.mk - the paper's main figure: normalized
# faithfulness against circuit size, one panel per task, one curve per
# method variant (SPEC §9, §12).  Variants: eap, eap-ig, eap-ig-kl (EAP-IG
# attributing KL, evaluated with the task metric), exact.
FIG_FAITHFULNESS := $(FIGURES)/$(MODEL_NAME)/faithfulness.png $(FIGURES)/$(MODEL_NAME)/faithfulness.pdf

.PHONY: fig-faithfulness
fig-faithfulness: $(FIG_FAITHFULNESS)

# PAPER_POINTS=yes (experiments/tasks.mk) adds the paper's published points
# for the model's shape (GPT-2 small, GPT-2-XL or Pythia-2.8B), read from
# $(PAPER_RESULTS)/<paper task>.csv.
ifeq ($(filter yes no,$(PAPER_POINTS)),)
$(error PAPER_POINTS must be yes or no, not '$(PAPER_POINTS)')
endif
FIG_PAPER_DIR := $(if $(filter yes,$(PAPER_POINTS)),$(PAPER_RESULTS))
FIG_PAPER_CSVS := $(if $(FIG_PAPER_DIR),$(wildcard $(foreach t,$(TASKS),$(PAPER_RESULTS)/$(call paper_task,$(t)).csv)))

$(FIG_FAITHFULNESS) &: plots/faithfulness.gp $(ALL_CURVES) $(FIG_PAPER_CSVS)
	@mkdir -p $(@D)
	$(GNUPLOT) -e "R='$(R)'; OUT='$(FIGURES)/$(MODEL_NAME)/faithfulness'; TASKS='$(TASKS)'; \
	  METRICS='$(foreach t,$(TASKS),$(call task_metric,$(t)))'; VARIANTS='$(METHODS)'; \
	  MODEL='$(MODEL_NAME)'; PAPER='$(FIG_PAPER_DIR)'; PSHAPE='$(or $(PAPER_SHAPE),gpt2-small)'; \
	  PTASKS='$(foreach t,$(TASKS),$(call paper_task,$(t)))'" plots/faithfulness.gp

help::
	@echo "  fig-faithfulness  faithfulness vs circuit size, every task and method:"
	@echo "                  plots/<model>/faithfulness.{png,pdf}"
