# experiments/families.mk - organisms of two more model families (issue
# #14): `make organism-neox` (GPT-NeoX: parallel attention and MLP, rotary
# on a quarter of each head, exact GELU, untied) and `make organism-llama`
# (Llama: RMSNorm, rotary, SwiGLU, 2 key/value heads for 8 query heads,
# untied), trained by eap-train on the same vocabulary, corpus, shape and
# schedule as the GPT-2 organism (experiments/organism.mk), into
# data/models/organism-<name>.  Same seed and thread count, same bytes.
ORGANISM_ARCH_neox  = --arch gpt_neox
ORGANISM_ARCH_llama = --arch llama --kv-heads 2

.PHONY: organism-neox organism-llama
organism-neox organism-llama: organism-%: bin/eap-corrupt bin/eap-train
	@mkdir -p build/organism-$*
	bin/eap-corrupt --vocab -o build/organism-$*/vocab.txt
	bin/eap-corrupt --corpus -n $(ORGANISM_SENTENCES) --seed 1 -o build/organism-$*/corpus.txt
	rm -rf build/organism-$*/model
	$(SUBMIT) bin/eap-train $(ORGANISM_ARCH_$*) --corpus build/organism-$*/corpus.txt \
	  --vocab build/organism-$*/vocab.txt \
	  --layers 4 --heads 8 --dim 128 --ctx 32 --steps $(ORGANISM_STEPS) --batch 64 \
	  --lr 3e-3 --warmup 100 --seed 1 --threads $(or $(THREADS),2) --progress \
	  -o build/organism-$*/model
	rm -rf data/models/organism-$*
	cp -r build/organism-$*/model data/models/organism-$*

help::
	@echo "  organism-neox   train the GPT-NeoX-style organism into data/models/organism-neox"
	@echo "  organism-llama  train the Llama-style organism (GQA, SwiGLU) into data/models/organism-llama"
