#!/bin/sh
# families.sh - the tools on models of the other families (issue #14):
# eap-train --arch gpt_neox, llama, qwen2, qwen3, gemma2, gemma3 and olmo2
# write Hugging Face folders (config.json with the family's model_type)
# that load back; every scoring method, pruning and evaluation run on them
# end to end; a GPT-NeoX scores file carries parallel = 1 and its graph has no
# same-layer attention -> MLP edges, so eap-prune and eap-eval rebuild it;
# the whole graph's circuit gives F = 1; bad folders (unknown model_type, a missing
# config field, a missing shard, a tensor of the wrong shape) give exit 1,
# one error line naming the file, and no output.
# Run from the repository root after `make`.
. tests/tools/lib/harness.sh

for b in bin/eap-train bin/eap-corrupt bin/eap-score bin/eap-prune bin/eap-eval; do
	[ -x "$b" ] || { echo "families.sh: $b not built"; exit 1; }
done

bin/eap-corrupt --vocab -o "$T/vocab.txt" &&
	bin/eap-corrupt --corpus -n 400 --seed 1 -o "$T/corpus.txt" &&
	bin/eap-corrupt --task data/tasks/greater-than --split test -n 6 --seed 2 \
		-o "$T/pairs.csv" || { echo "families.sh: cannot make inputs"; exit 1; }

for a in gpt_neox llama qwen2 qwen3 gemma2 gemma3 olmo2; do
	kv="--kv-heads 1" mt=$a
	[ $a = gpt_neox ] && kv=
	[ $a = gemma3 ] && mt=gemma3_text
	run bin/eap-train --arch $a $kv --corpus "$T/corpus.txt" --vocab "$T/vocab.txt" \
		--layers 2 --heads 2 --dim 16 --ctx 16 --steps 3 --batch 4 --threads 1 \
		-o "$T/$a"
	[ "$rc" -eq 0 ] && grep -q "\"model_type\":[[:space:]]*\"$mt\"" "$T/$a/config.json" &&
		ok || bad "$a: eap-train"
	for m in eap eap-ig clean-corrupted eap-ig-act exact; do
		run bin/eap-score --model "$T/$a" --pairs "$T/pairs.csv" --method $m \
			--metric prob_diff --steps 2 -o "$T/$a-$m.h5"
		[ "$rc" -eq 0 ] && [ -s "$T/$a-$m.h5" ] && ok || bad "$a: eap-score --method $m"
	done
	run bin/eap-prune --scores "$T/$a-eap-ig.h5" --sizes 1,5,mib -o "$T/$a-c.h5"
	[ "$rc" -eq 0 ] && ok || bad "$a: eap-prune"
	run bin/eap-eval --model "$T/$a" --pairs "$T/pairs.csv" --metric prob_diff \
		--circuit "$T/$a-c.h5" -o "$T/$a-curve.csv"
	# the whole graph is the clean model: F = 1
	[ "$rc" -eq 0 ] && tail -n 1 "$T/$a-curve.csv" |
		awk -F, '{ exit !($7 > 0.9999 && $7 < 1.0001) }' &&
		ok || bad "$a: eap-eval, F of the whole graph: $(tail -n 1 "$T/$a-curve.csv")"
done

# the windows are gemma2's and gemma3's: the local layers see --window keys
grep -q '"sliding_window":[[:space:]]*8' "$T/gemma3/config.json" &&
	grep -q '"layer_types":[[:space:]]*\["sliding_attention", "full_attention"\]' \
		"$T/gemma3/config.json" && ok || bad "gemma3: window of ctx / 2, a global layer"
run bin/eap-train --arch llama --window 4 --corpus "$T/corpus.txt" --vocab "$T/vocab.txt" -o "$T/x"
expect_tool_err "--window without a windowed arch" 2 eap-train "--window needs --arch gemma2 or gemma3"
run bin/eap-train --arch gpt_neox --kv-heads 1 --corpus "$T/corpus.txt" --vocab "$T/vocab.txt" -o "$T/x"
expect_tool_err "--kv-heads on gpt_neox" 2 eap-train "--kv-heads needs --arch llama"
run bin/eap-train --arch bert --corpus "$T/corpus.txt" --vocab "$T/vocab.txt" -o "$T/x"
expect_tool_err "unknown --arch" 2 eap-train "--arch: invalid value \"bert\""
check "no output after usage errors" absent "$T/x"

# GPT-NeoX: parallel blocks, and so no m0 <- a0.h0 edge
h5dump -a /parallel "$T/gpt_neox-eap.h5" 2>/dev/null | grep -q "(0): 1" &&
	ok || bad "neox scores lack parallel = 1"
run bin/eap-prune --scores "$T/gpt_neox-eap.h5" --topn 3 -o "$T/n3.h5" --dot "$T/n3.dot"
[ "$rc" -eq 0 ] && ! grep -q '"a0.h[01]" -> "m0"' "$T/n3.dot" && ok || bad "neox prune"

# a Hugging Face cache folder (refs/main names the snapshot) works for every
# tool that takes --model, and the provenance hash is the snapshot's weights'
c="$T/hub/models--org--llama"
mkdir -p "$c/refs" "$c/snapshots/0123abcd"
printf '0123abcd\n' > "$c/refs/main"
cp "$T/llama/config.json" "$T/llama/model.safetensors" "$T/llama/vocab.txt" "$c/snapshots/0123abcd/"
run bin/eap-score --model "$c" --pairs "$T/pairs.csv" --method eap --metric prob_diff -o "$T/hub.h5"
want=$(sha256sum "$T/llama/model.safetensors" | cut -d' ' -f1)
[ "$rc" -eq 0 ] && h5dump -a /model_sha256 "$T/hub.h5" 2>/dev/null | grep -q "\"$want\"" &&
	ok || bad "eap-score on a cache folder: rc $rc, $(cat "$tmp/err")"
run bin/eap-eval --model "$c" --pairs "$T/pairs.csv" --metric prob_diff --circuit "$T/llama-c.h5" -o "$T/hub.csv"
[ "$rc" -eq 0 ] && cmp -s "$T/hub.csv" "$T/llama-curve.csv" && ok || bad "eap-eval on a cache folder"

# bad folders: one line naming the file, exit 1, nothing written
mkdir -p "$T/bad1" "$T/bad2" "$T/bad3"
printf '{"model_type": "bert"}\n' > "$T/bad1/config.json"
run bin/eap-score --model "$T/bad1" --pairs "$T/pairs.csv" --method eap --metric prob_diff -o "$T/x.h5"
expect_tool_err "unknown model_type" 1 eap-score "bad1/config.json: unknown model_type \"bert\""
check "no output after unknown model_type" absent "$T/x.h5"
sed 's/"intermediate_size"/"intermediate"/' "$T/llama/config.json" > "$T/bad2/config.json"
cp "$T/llama/model.safetensors" "$T/llama/vocab.txt" "$T/bad2/"
run bin/eap-score --model "$T/bad2" --pairs "$T/pairs.csv" --method eap --metric prob_diff -o "$T/x.h5"
expect_tool_err "missing field" 1 eap-score "bad2/config.json: missing key \"intermediate_size\""
cp "$T/llama/config.json" "$T/llama/vocab.txt" "$T/bad3/"
printf '{"weight_map": {"model.norm.weight": "model-00002-of-00002.safetensors"}}\n' \
	> "$T/bad3/model.safetensors.index.json"
run bin/eap-score --model "$T/bad3" --pairs "$T/pairs.csv" --method eap --metric prob_diff -o "$T/x.h5"
expect_tool_err "missing shard" 1 eap-score "names shard \"model-00002-of-00002.safetensors\", which is not there"
sed 's/"hidden_size":[[:space:]]*16/"hidden_size": 32/' "$T/llama/config.json" > "$T/bad2/config.json"
run bin/eap-eval --model "$T/bad2" --pairs "$T/pairs.csv" --metric prob_diff --circuit "$T/llama-c.h5" -o "$T/x.csv"
expect_tool_err "wrong shape" 1 eap-eval "has shape [762, 16]"
check "no output after errors" absent "$T/x.h5" "$T/x.csv"
finish
