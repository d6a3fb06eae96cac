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
# data/paper/<task>/gpt2.csv, whose labels are GPT-2 BPE ids, re-tokenized
# for the model (eap-corrupt --import; a GPT-NeoX model (config.json
# model_type gpt_neox) reads the paper's pythia.csv where there is one,
# whose ids are its own).  Default: paper when MODEL holds a BPE tokenizer
# (tokenizer.json, vocab.json + merges.txt or encoder.json + vocab.bpe),
# tasks otherwise (the organism's vocab.txt).
PAIRS_FROM ?= $(if $(wildcard $(MODEL_SNAP)/vocab.json $(MODEL_SNAP)/encoder.json $(MODEL_SNAP)/tokenizer.json),paper,tasks)
MODEL_IS_NEOX := $(shell grep -qE '"model_type" *: *"gpt_neox"' '$(MODEL_SNAP)/config.json' 2>/dev/null && echo yes)
# $(1) paper task: its CSV for this model, and --ids-from when the CSV's ids
# are GPT-2's but the model's tokenizer is another
paper_csv = data/paper/$(1)/$(if $(and $(MODEL_IS_NEOX),$(wildcard data/paper/$(1)/pythia.csv)),pythia,gpt2).csv
paper_ids_from = $(if $(filter %/gpt2.csv,$(call paper_csv,$(1))),$(if $(wildcard $(MODEL_SNAP)/vocab.json $(MODEL_SNAP)/encoder.json),,--ids-from data/tokenizers/gpt2))
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
# the paper's two greater-than variants (its cross-task analysis): the
# same columns and answer rule as greater-than, imported as it is
METRIC_greater-than-price    := prob_diff
METRIC_greater-than-sequence := prob_diff
IMPORT_AS_greater-than-price    := greater-than
IMPORT_AS_greater-than-sequence := greater-than
import_as = $(or $(IMPORT_AS_$(call paper_task,$(1))),$(call paper_task,$(1)))

# train and test: disjoint seeded samples of the paper's rows, N each (half
# the distinct prompts each where the file has fewer than 2N; eap-corrupt
# --import --split)
define pairs_rules_paper
$(if $(wildcard data/paper/$(call paper_task,$(1))/gpt2.csv),,$(error TASKS: '$(1)' has no data/paper/$(call paper_task,$(1))/gpt2.csv (PAIRS_FROM=paper)))
$(R)/$(1)/pairs-train.csv $(R)/$(1)/pairs-test.csv: $(R)/$(1)/pairs-%.csv: \
  $(wildcard data/paper/$(call paper_task,$(1))/*.csv) | bin/eap-corrupt
	@mkdir -p $$(@D)
	bin/eap-corrupt --import $(call import_as,$(1)) --model $(MODEL) $(call paper_ids_from,$(call paper_task,$(1))) \
	  $(call paper_csv,$(call paper_task,$(1))) --split $$* -n $(N) --seed $(SEED) -o $$@
endef

# PAPER_POINTS=yes overlays the paper's published faithfulness on
# fig-faithfulness when the model has the shape of one the paper ran
# (config.json, GPT-2 or GPT-NeoX key names):
#   GPT-2 small  12 layers, 12 heads, width 768   data/paper/results/real
#   GPT-2-XL     48 layers, 25 heads, width 1600  data/paper/results/pareto-big/gpt2-xl
#   Pythia-2.8B  32 layers, 32 heads, width 2560  data/paper/results/pareto-big/pythia-2.8B
# Default: yes for paper pairs on a model of one of these shapes.
# $(1) layers, $(2) heads, $(3) width: yes if MODEL/config.json says so
model_shape_is = $(shell f='$(MODEL_SNAP)/config.json'; [ -f "$$f" ] && c=$$(tr -d ' \t\r\n' < "$$f") && \
  for p in '"(n_layer|num_hidden_layers)":$(1)' '"(n_head|num_attention_heads)":$(2)' '"(n_embd|hidden_size)":$(3)'; do \
    echo "$$c" | grep -qE "$$p[,}]" || exit 0; done && echo yes)
PAPER_SHAPE := $(if $(call model_shape_is,12,12,768),gpt2-small,$(if $(call model_shape_is,48,25,1600),gpt2-xl,$(if $(call model_shape_is,32,32,2560),pythia-2.8B)))
PAPER_POINTS ?= $(if $(and $(filter paper,$(PAIRS_FROM)),$(PAPER_SHAPE)),yes,no)
# where the points of each shape are; forced on another shape, GPT-2 small's
PAPER_RESULTS := $(if $(filter gpt2-xl pythia-2.8B,$(PAPER_SHAPE)),data/paper/results/pareto-big/$(PAPER_SHAPE),data/paper/results/real)
