# experiments/viewer.mk - `make fig-viewer`: each task's circuits in one
# self-contained HTML file, results/<model>/<task>/circuits.html (issue
# #17): every method of METHODS, the circuits of the curve's sizes beside
# their faithfulness, no network needed.  eap-viewer writes no time and no
# path into it, so a rerun gives the same bytes.  Graphs with more than
# VIEWER_MAX_EDGES edges keep only the sizes up to it.
VIEWER_MAX_EDGES ?= 50000

# $(1) task: the artifacts of each method variant
viewer_deps = $(foreach v,$(METHODS),$(foreach f,scores-%.h5 circuits-%.h5 curve-%.csv summary-%.csv,\
  $(R)/$(1)/$(subst %,$(call variant_stem,$(v),$(1)),$(f))))

define viewer_rules
$(R)/$(1)/circuits.html: $(call viewer_deps,$(1)) bin/eap-viewer
	bin/eap-viewer --dir $(R)/$(1) --max-edges $(VIEWER_MAX_EDGES) -o $$@ \
	  $(foreach v,$(METHODS),$(call variant_stem,$(v),$(1)))
endef
$(foreach t,$(TASKS),$(eval $(call viewer_rules,$(t))))

VIEWER_HTMLS := $(foreach t,$(TASKS),$(R)/$(t)/circuits.html)

.PHONY: fig-viewer
fig-viewer: $(VIEWER_HTMLS)

help::
	@echo "  fig-viewer      each task's circuits, curve and methods in one offline HTML file:"
	@echo "                  results/<model>/<task>/circuits.html (VIEWER_MAX_EDGES=$(VIEWER_MAX_EDGES))"
