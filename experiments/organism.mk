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

help::
	@echo "  organism        retrain the built-in model organism into data/models/organism"
	@echo "                  (about 20 minutes on 2 cores; same seed, same bytes)"
