# experiments/tasks.mk - the six paper tasks on the built-in model organism:
# each task's metric (SPEC §7: the paper's choice per task) and where its
# pairs come from.  A new task is a folder data/tasks/<task>/ plus a line
# METRIC_<task> here (logit_diff when absent).
METRIC_ioi          := logit_diff
METRIC_greater-than := prob_diff
METRIC_gender       := logit_diff
METRIC_sva          := prob_diff
METRIC_capital      := logit_diff
METRIC_hypernymy    := prob_diff

# ---- real GPT-2: the paper's pairs (README: Running on real GPT-2) ---------
# PAIRS_FROM=tasks generates the pairs from data/tasks/<task>/ (the
# word-level organism); PAIRS_FROM=paper imports the paper's CSV
# data/paper/<task>/gpt2.csv, whose labels are GPT-2 BPE ids.  Default:
# paper when MODEL holds a GPT-2 BPE tokenizer (vocab.json + merges.txt or
# encoder.json + vocab.bpe), tasks otherwise (the organism's vocab.txt).
PAIRS_FROM ?= $(if $(wildcard $(MODEL)/vocab.json $(MODEL)/encoder.json),paper,tasks)
ifeq ($(filter tasks paper,$(PAIRS_FROM)),)
$(error PAIRS_FROM must be tasks or paper, not '$(PAIRS_FROM)')
endif

# TASKS may name a paper task by the paper's name or by the name of the
# organism task of the same kind (gender, capital, hypernymy): both import
# the same file, and the results folder is the name given.
PAPER_TASK_gender    := gender-bias
PAPER_TASK_capital   := fact-retrieval-comma
PAPER_TASK_hypernymy := hypernymy-comma
paper_task = $(or $(PAPER_TASK_$(1)),$(1))
METRIC_gender-bias          := logit_diff
METRIC_fact-retrieval-comma := logit_diff
METRIC_hypernymy-comma      := prob_diff

# train and test: disjoint seeded samples of the paper's rows, N each (half
# the distinct prompts each where the file has fewer than 2N; eap-corrupt
# --import --split)
define pairs_rules_paper
$(if $(wildcard data/paper/$(call paper_task,$(1))/gpt2.csv),,$(error TASKS: '$(1)' has no data/paper/$(call paper_task,$(1))/gpt2.csv (PAIRS_FROM=paper)))
$(R)/$(1)/pairs-train.csv $(R)/$(1)/pairs-test.csv: $(R)/$(1)/pairs-%.csv: \
  $(wildcard data/paper/$(call paper_task,$(1))/*.csv) | bin/eap-corrupt
	@mkdir -p $$(@D)
	bin/eap-corrupt --import $(call paper_task,$(1)) --model $(MODEL) \
	  data/paper/$(call paper_task,$(1))/gpt2.csv --split $$* -n $(N) --seed $(SEED) -o $$@
endef

# PAPER_POINTS=yes overlays the paper's published faithfulness on GPT-2
# small (data/paper/results/real/<task>.csv) on fig-faithfulness.  Default:
# yes for paper pairs on a model of GPT-2 small's shape (config.json: 12
# layers, 12 heads, n_embd 768).
gpt2_small_shape = $(shell f='$(MODEL)/config.json'; [ -f "$$f" ] && c=$$(tr -d ' \t\r\n' < "$$f") && \
  for p in '"n_layer":12' '"n_head":12' '"n_embd":768'; do \
    echo "$$c" | grep -qE "$$p[,}]" || exit 0; done && echo yes)
PAPER_POINTS ?= $(if $(and $(filter paper,$(PAIRS_FROM)),$(gpt2_small_shape)),yes,no)
PAPER_RESULTS := data/paper/results/real
