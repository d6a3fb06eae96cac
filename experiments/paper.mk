# experiments/paper.mk - `make paper`: paper/paper.pdf, the report, built by
# pdflatex from paper/paper.tex over the figures and tables of the current
# MODEL (SPEC §2, §12).  It pulls in
#   FIGURES/<model>/faithfulness.pdf       make fig-faithfulness
#   FIGURES/<model>/overlap.pdf            make fig-overlap   (compare.mk)
#   FIGURES/<model>/ig-steps.pdf           make fig-ig-steps  (compare.mk)
#   RESULTS/<model>/tables.tex             make tables        (compare.mk)
#   RESULTS/<model>/<task>/circuit-*.pdf   fig-circuits' DOT drawn as PDF
#   RESULTS/<model>/paper-numbers.tex      every number the text quotes,
#                                          read from the CSVs by
#                                          plots/paper-numbers.gp
# A figure or table whose target no experiments/*.mk defines is left out of
# the prerequisites, and the paper prints a note in its place.  TeX comes
# from Debian's packages, installed like the build's (ensure-deps.sh);
# `make check` does not need it.
PDFLATEX     ?= pdflatex
TEX_DEB_PKGS := texlive-latex-base texlive-latex-recommended texlive-fonts-recommended

PAPER_NUMBERS  := $(R)/paper-numbers.tex
PAPER_NUMBERS16 := $(R)/paper-numbers-16.tex
PAPER_CIRCUITS := $(CIRCUIT_SVGS:.svg=.pdf)
# the manual circuits only on GPT-2 small's shape (experiments/manual.mk)
PAPER_MANUAL   := $(if $(filter gpt2-small,$(PAPER_SHAPE)),$(if $(MANUAL_TASKS),$(FIG_MANUAL)))
PAPER_DEPS     := $(FIG_FAITHFULNESS) $(FIG_OVERLAP) $(FIG_IG_STEPS) $(TABLES) \
                  $(PAPER_CIRCUITS) $(PAPER_NUMBERS) $(FIG_CROSS_TASK) $(SEED_TABLES) \
                  $(PAPER_MANUAL) $(PAPER_NUMBERS16)
comma := ,

.PHONY: paper
paper: paper/paper.pdf

build/texlive.stamp: build-aux/ensure-deps.sh
	@sh build-aux/ensure-deps.sh $(TEX_DEB_PKGS)
	@mkdir -p $(@D)
	@touch $@

$(R)/%-top$(CIRCUIT_EDGES).pdf: $(R)/%-top$(CIRCUIT_EDGES).dot
	dot -Tpdf $< -o $@.tmp
	mv $@.tmp $@

# with compare.mk, also the IG-step and overlap numbers (overlap and F at
# PAPER_AT requested edges, a size of SIZES=default)
PAPER_AT := 100
PAPER_IG_CSVS := $(if $(IG_VARIANTS),$(foreach t,$(TASKS),$(R)/$(t)/ig-steps.csv))
PAPER_OVERLAP_CSVS := $(if $(FIG_OVERLAP),$(foreach t,$(TASKS),$(foreach v,$(OVERLAP_METHODS),\
  $(R)/$(t)/overlap-$(call variant_stem,$(v),$(t)).csv)))
$(PAPER_NUMBERS): plots/paper-numbers.gp $(ALL_CURVES) $(PAPER_IG_CSVS) $(PAPER_OVERLAP_CSVS)
	@mkdir -p $(@D)
	$(GNUPLOT) -e "R='$(R)'; OUT='$@.tmp'; TASKS='$(TASKS)'; \
	  METRICS='$(foreach t,$(TASKS),$(call task_metric,$(t)))'; VARIANTS='$(METHODS)'; \
	  IGSTEPS='$(if $(PAPER_IG_CSVS),$(IG_STEPS_LIST))'; \
	  OVERLAP='$(if $(PAPER_OVERLAP_CSVS),$(OVERLAP_METHODS))'; AT=$(PAPER_AT)" \
	  plots/paper-numbers.gp
	mv $@.tmp $@

# issue #16's numbers: cross-task, seeds, smallest circuits, manual circuits
PAPER_NUMBERS16_IN := $(R)/cross-task.csv $(R)/seeds.csv $(R)/tables.csv \
  $(if $(PAPER_MANUAL),$(filter %.csv,$(MANUAL_CSVS)))
$(PAPER_NUMBERS16): plots/paper-numbers-16.awk $(PAPER_NUMBERS16_IN)
	@mkdir -p $(@D)
	awk -f plots/paper-numbers-16.awk $(PAPER_NUMBERS16_IN) > $@.tmp
	mv $@.tmp $@

# pdflatex runs twice (references) in build/paper/; the settings of this
# run reach the text as \eap... macros defined before paper.tex is read.
PAPER_SETTINGS = \def\eapModel{$(MODEL_NAME)}\def\eapFig{$(FIGURES)/$(MODEL_NAME)}\def\eapRes{$(R)}\
  \def\eapTasks{$(subst $() ,$(comma),$(strip $(TASKS)))}\
  \def\eapVariants{$(subst $() ,$(comma),$(strip $(METHODS)))}\
  \def\eapCircuits{$(subst $() ,$(comma),$(strip $(join $(addsuffix :,$(TASKS)),$(PAPER_CIRCUITS))))}\
  \def\eapN{$(N)}\def\eapNexact{$(N_EXACT)}\def\eapExactBudget{$(or $(EXACT_BUDGET),no)}\def\eapSteps{$(STEPS)}\def\eapSeed{$(SEED)}\
  \def\eapCircuitEdges{$(CIRCUIT_EDGES)}\def\eapPairsFrom{$(PAIRS_FROM)}\
  \def\eapIgSteps{$(subst $() ,$(comma),$(strip $(IG_STEPS_LIST)))}\def\eapPaperAt{$(PAPER_AT)}\
  \def\eapSeeds{$(subst $() ,$(comma),$(strip $(SEEDS)))}\def\eapShape{$(or $(PAPER_SHAPE),none)}\
  \def\eapCrossEdges{$(CROSS_EDGES)}\def\eapCrossMethod{$(CROSS_METHOD)}
paper/paper.pdf: paper/paper.tex $(PAPER_DEPS) | build/texlive.stamp
	@mkdir -p build/paper
	@for pass in 1 2; do \
	  $(PDFLATEX) -interaction=batchmode -halt-on-error -output-directory=build/paper \
	    -jobname=paper '$(PAPER_SETTINGS)\input{paper/paper.tex}' >/dev/null || \
	  { echo "pdflatex failed; the end of build/paper/paper.log:" >&2; \
	    tail -20 build/paper/paper.log >&2; exit 1; }; \
	done
	mv build/paper/paper.pdf $@
	@echo "$@: $$(grep -o '([0-9]* pages*' build/paper/paper.log | tr -d '(')"

help::
	@echo "  paper           paper/paper.pdf by pdflatex (installs texlive-latex-{base,recommended}"
	@echo "                  and texlive-fonts-recommended) over the figures, tables and circuits"
	@echo "  PAIRS_FROM=$(PAIRS_FROM)  pairs from 'paper' (data/paper/<task>/gpt2.csv; real GPT-2, README) or"
	@echo "                  'tasks' (data/tasks/<task>/); default paper when MODEL has a GPT-2 BPE tokenizer"
	@echo "  PAPER_POINTS=$(PAPER_POINTS)  overlay the paper's GPT-2-small points on fig-faithfulness"
	@echo "                  (default: yes for paper pairs on a 12-layer, 12-head, 768-wide model)"
