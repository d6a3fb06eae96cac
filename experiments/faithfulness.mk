# experiments/faithfulness.mk - the paper's main figure: normalized
# faithfulness against circuit size, one panel per task, one curve per
# method variant (SPEC §9, §12).  Variants: eap, eap-ig, eap-ig-kl (EAP-IG
# attributing KL, evaluated with the task metric), exact.
FIG_FAITHFULNESS := $(FIGURES)/$(MODEL_NAME)/faithfulness.png $(FIGURES)/$(MODEL_NAME)/faithfulness.pdf

.PHONY: fig-faithfulness
fig-faithfulness: $(FIG_FAITHFULNESS)

$(FIG_FAITHFULNESS) &: plots/faithfulness.gp $(ALL_CURVES)
	@mkdir -p $(@D)
	$(GNUPLOT) -e "R='$(R)'; OUT='$(FIGURES)/$(MODEL_NAME)/faithfulness'; TASKS='$(TASKS)'; \
	  METRICS='$(foreach t,$(TASKS),$(call task_metric,$(t)))'; VARIANTS='$(METHODS)'; \
	  MODEL='$(MODEL_NAME)'" plots/faithfulness.gp

help::
	@echo "  fig-faithfulness  faithfulness vs circuit size, every task and method:"
	@echo "                  plots/<model>/faithfulness.{png,pdf}"
