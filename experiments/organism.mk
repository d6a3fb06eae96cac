# experiments/organism.mk - `make organism` retrains the built-in model
# organism (SPEC §3) from the task folders: the vocabulary and a corpus of
# training sentences from every task's train split (data/tasks/mix.txt),
# then eap-train with the settings of the organism notes.  Same seed and
# thread count give the same weights byte for byte.  The pipeline never
# runs this unless asked.
ORGANISM_SENTENCES ?= 720000
ORGANISM_STEPS     ?= 4000

.PHONY: organism
organism: bin/eap-corrupt bin/eap-train
	@mkdir -p build/organism
	bin/eap-corrupt --vocab -o build/organism/vocab.txt
	bin/eap-corrupt --corpus -n $(ORGANISM_SENTENCES) --seed 1 -o build/organism/corpus.txt
	rm -rf build/organism/model
	$(call step,TRAIN,build/organism/model)
	$(SUBMIT) bin/eap-train --corpus build/organism/corpus.txt --vocab build/organism/vocab.txt \
	  --layers 4 --heads 8 --dim 128 --ctx 32 --steps $(ORGANISM_STEPS) --batch 64 \
	  --lr 3e-3 --warmup 100 --seed 1 --threads 2 --progress -o build/organism/model
	rm -rf data/models/organism
	cp -r build/organism/model data/models/organism

# `make organisms SEEDS="1 2 3"`: seed variants of the organism, the same
# recipe with the corpus and the initialisation drawn from seed S, in
# data/models/organism-sS/ (seed 1 is data/models/organism itself).  With
# MODEL=data/models/organism-llama (or -neox) the variants of that
# organism: data/models/organism-llama-sS/, its --arch options
# (experiments/families.mk).  They are committed, so the tool is an
# order-only prerequisite: a rebuilt bin/eap-train does not retrain them;
# delete a directory to retrain it.  Each run takes THREADS_OPT's threads
# (cores / make -j jobs), so `make -j2 organisms` trains two seeds at once,
# one core each.
SEEDS ?= 1
ORGANISM_NAMES := organism organism-llama organism-neox
ORGANISM_SEED_MODELS := $(foreach s,$(filter-out 1,$(SEEDS)),$(patsubst %/,%,$(MODEL))-s$(s)/model.safetensors)

.PHONY: organisms
organisms: $(ORGANISM_SEED_MODELS)
ifneq ($(filter organisms,$(MAKECMDGOALS)),)
ifeq ($(filter $(MODEL_NAME),$(ORGANISM_NAMES)),)
$(error make organisms: MODEL=$(MODEL) is not an organism ($(ORGANISM_NAMES) in data/models); seed variants of other models are trained by hand)
endif
endif

# $(1) organism name, $(2) its eap-train architecture options
define organism_seed_rule
data/models/$(1)-s%/model.safetensors: | bin/eap-corrupt bin/eap-train
	@mkdir -p build/$(1)-s$$*
	bin/eap-corrupt --vocab -o build/$(1)-s$$*/vocab.txt
	bin/eap-corrupt --corpus -n $$(ORGANISM_SENTENCES) --seed $$* -o build/$(1)-s$$*/corpus.txt
	rm -rf build/$(1)-s$$*/model
	$$(call step,TRAIN,$$@)
	$$(SUBMIT) bin/eap-train $(2) --corpus build/$(1)-s$$*/corpus.txt --vocab build/$(1)-s$$*/vocab.txt \
	  --layers 4 --heads 8 --dim 128 --ctx 32 --steps $$(ORGANISM_STEPS) --batch 64 \
	  --lr 3e-3 --warmup 100 --seed $$* $$(THREADS_OPT) --progress -o build/$(1)-s$$*/model
	rm -rf $$(@D)
	cp -r build/$(1)-s$$*/model $$(@D)
endef
$(eval $(call organism_seed_rule,organism,))
$(eval $(call organism_seed_rule,organism-llama,$$(ORGANISM_ARCH_llama)))
$(eval $(call organism_seed_rule,organism-neox,$$(ORGANISM_ARCH_neox)))

help::
	@echo "  organisms       seed variants of the organism, SEEDS=\"1 2 3\": data/models/organism-s<seed>/"
	@echo "                  (MODEL=data/models/organism-llama or -neox: that organism's, <name>-s<seed>/)"
	@echo "                  (seed 1 is data/models/organism; each about 20-30 minutes of one core)"
	@echo "  organism        retrain the built-in model organism into data/models/organism"
	@echo "                  (about 20 minutes on 2 cores; same seed, same bytes)"

# ---- the methods compared over seeds (make tables) ----------------------------
# RESULTS/<model>/seeds.{csv,md,tex}: per task, AUC(EAP-IG) - AUC(EAP) of
# the faithfulness curves (the summaries' auc_log), the mean over the
# models MODEL (seed 1) and MODEL-s<seed> for the other SEEDS, with a 95%
# interval over seeds and, within each, test examples (eap-compare
# --curves: a two-level bootstrap of the per-example metrics in
# curve-*.h5).  SEEDS=1 (the default): one model, the interval over
# examples alone.  The seed models' curves come from a sub-make with
# MODEL=MODEL-s<seed> (their own RESULTS/<model>-s<seed>/ folder); a
# missing seed model of the organism is trained first (as by `make
# organisms`; committed ones are not retrained).
SEED_A ?= eap-ig
SEED_B ?= eap
SEED_BOOT ?= 1000
seed_model = $(patsubst %/,%,$(MODEL))-s$(1)
seed_r = $(RESULTS)/$(MODEL_NAME)-s$(1)
seed_curve = $(if $(filter 1,$(1)),$(R),$(call seed_r,$(1)))/$(2)/curve-$(call variant_stem,$(3),$(2)).h5
SEED_OTHERS := $(filter-out 1,$(SEEDS))

# the two methods' curves even where METHODS leaves them out
$(foreach t,$(TASKS),$(foreach v,$(filter-out $(METHODS) exact $(IG_VARIANTS),$(SEED_A) $(SEED_B)),\
  $(eval $(call variant_rules,$(t),$(v)))))

# $(1) seed: every curve of its model, made by one sub-make
define seed_rules
$(foreach t,$(TASKS),$(foreach v,$(SEED_A) $(SEED_B),$(call seed_curve,$(1),$(t),$(v)))) &: \
  $(call seed_model,$(1))/model.safetensors bin/eap-eval bin/eap-score
	$$(MAKE) --no-print-directory MODEL=$(call seed_model,$(1)) 'METHODS=$(SEED_A) $(SEED_B)' SEEDS=1 \
	  $(foreach t,$(TASKS),$(foreach v,$(SEED_A) $(SEED_B),$(call seed_curve,$(1),$(t),$(v))))
endef
$(foreach s,$(SEED_OTHERS),$(eval $(call seed_rules,$(s))))

# $(1) task
seed_pairs = $(foreach s,1 $(SEED_OTHERS),--curves $(call seed_curve,$(s),$(1),$(SEED_A)) --ref $(call seed_curve,$(s),$(1),$(SEED_B)))
define seed_task_rules
$(R)/$(1)/seeds-$(SEED_A)-vs-$(SEED_B).csv: $(foreach s,1 $(SEED_OTHERS),$(call seed_curve,$(s),$(1),$(SEED_A)) $(call seed_curve,$(s),$(1),$(SEED_B))) \
  bin/eap-compare $(R)/.vars/SEEDS
	bin/eap-compare $(call seed_pairs,$(1)) --bootstrap $(SEED_BOOT) --method $(SEED_A) -o $$@
endef
$(foreach t,$(TASKS),$(eval $(call seed_task_rules,$(t))))
$(shell f='$(R)/.vars/SEEDS'; [ ! -f "$$f" ] || [ "$$(cat "$$f")" = '$(SEEDS)' ] || printf '%s\n' '$(SEEDS)' > "$$f")

SEED_TABLES := $(R)/seeds.csv $(R)/seeds.md $(R)/seeds.tex
$(SEED_TABLES) &: $(foreach t,$(TASKS),$(R)/$(t)/seeds-$(SEED_A)-vs-$(SEED_B).csv)
	@mkdir -p $(@D)
	for t in $(TASKS); do awk -F, -v t=$$t 'NR == 2 { print t "," $$0 }' $(R)/$$t/seeds-$(SEED_A)-vs-$(SEED_B).csv; done | \
	awk -F, -v A=$(SEED_A) -v B=$(SEED_B) -v csv=$(R)/seeds.csv.tmp -v md=$(R)/seeds.md.tmp -v tex=$(R)/seeds.tex.tmp ' \
	  function esc(s) { gsub(/_/, "\\_", s); return s } \
	  BEGIN { print "task,method,ref_method,metric,seeds,examples,auc,ref_auc,auc_diff,ci_low,ci_high" > csv; \
	    print "| task | metric | seeds | examples | AUC " A " | AUC " B " | difference | 95% interval |" > md; \
	    print "|---|---|---|---|---|---|---|---|" > md; \
	    print "\\begin{tabular}{llrrrrrl}" > tex; print "\\toprule" > tex; \
	    print "task & metric & seeds & examples & AUC " A " & AUC " B " & difference & 95\\% interval \\\\" > tex; \
	    print "\\midrule" > tex } \
	  { print > csv; \
	    printf "| %s | %s | %d | %d | %.3f | %.3f | %+.3f | [%+.3f, %+.3f] |\n", $$1, esc($$4), $$5, $$6, $$7, $$8, $$9, $$10, $$11 > md; \
	    printf "%s & %s & %d & %d & %.3f & %.3f & %+.3f & [%+.3f, %+.3f] \\\\\n", esc($$1), esc($$4), $$5, $$6, $$7, $$8, $$9, $$10, $$11 > tex } \
	  END { print "\\bottomrule" > tex; print "\\end{tabular}" > tex }'
	mv $(R)/seeds.csv.tmp $(R)/seeds.csv
	mv $(R)/seeds.md.tmp $(R)/seeds.md
	mv $(R)/seeds.tex.tmp $(R)/seeds.tex

tables: $(SEED_TABLES)

help::
	@echo "  tables SEEDS=\"1 2 3\"  also results/<model>/seeds.{csv,md,tex}: AUC($(SEED_A)) - AUC($(SEED_B)) per"
	@echo "                  task, mean over the seed models <MODEL>-s<seed>, 95% interval over seeds and examples"
