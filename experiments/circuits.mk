# experiments/circuits.mk - `make fig-circuits`: each task's EAP-IG circuit
# of CIRCUIT_EDGES edges (top-n, pruned) as circuit.h5, Graphviz DOT (nodes
# by layer, edge colour by q/k/v/mlp/logits, width by |score|) and SVG.
CIRCUIT_EDGES ?= 100

define circuit_rules
$(R)/$(1)/circuit-$(2)-top$(CIRCUIT_EDGES).h5 $(R)/$(1)/circuit-$(2)-top$(CIRCUIT_EDGES).dot &: \
  $(R)/$(1)/scores-$(2).h5 bin/eap-prune
	bin/eap-prune --scores $$< --topn $(CIRCUIT_EDGES) \
	  --dot $(R)/$(1)/circuit-$(2)-top$(CIRCUIT_EDGES).dot \
	  -o $(R)/$(1)/circuit-$(2)-top$(CIRCUIT_EDGES).h5
endef
$(foreach t,$(TASKS),$(eval $(call circuit_rules,$(t),$(call variant_stem,eap-ig,$(t)))))

%.svg: %.dot
	dot -Tsvg $< -o $@

CIRCUIT_SVGS := $(foreach t,$(TASKS),$(R)/$(t)/circuit-$(call variant_stem,eap-ig,$(t))-top$(CIRCUIT_EDGES).svg)

.PHONY: fig-circuits
fig-circuits: $(CIRCUIT_SVGS)

help::
	@echo "  fig-circuits    each task's EAP-IG circuit drawn by Graphviz: results/<model>/<task>/circuit-*.svg"
