#!/bin/sh
# gpt2-pipeline.sh - the Make pipeline on a GPT-2 model (README: Running on
# real GPT-2), end to end on tests/fixtures/models/tiny-bpe (2 layers x 12
# heads, GPT-2's 50257-token BPE vocabulary) with the GPT-2 tokenizer files
# beside it, as a Hugging Face GPT-2 directory has them:
#  - eap-corrupt --import --split: train and test are N rows each of the
#    full import, share no clean prompt, reproduce per seed, change with
#    the seed, and halve a file with fewer than 2N distinct prompts;
#  - the model's BPE tokenizer selects the paper's pairs (PAIRS_FROM=paper)
#    and the organism names map to the paper's files (capital ->
#    fact-retrieval-comma); PAIRS_FROM=tasks overrides; bad values fail;
#  - make fig-faithfulness: every artifact exists, the pairs are the
#    paper's rows, the curves have one row per size and F = 1 on the whole
#    graph, no overlay by default (not GPT-2 small's shape), and
#    PAPER_POINTS=yes draws the paper's points into the figure;
#  - the numbers `make paper` quotes (paper-numbers.tex, no TeX needed)
#    equal those of the curve, summary, ig-steps and overlap CSVs.
# Run from the repository root after `make`.
set -u
. tests/tools/lib/harness.sh

# the clean prompts (field COL, default 1) of a CSV
cleans() { csv_fields "${2:-1}" "$1"; }
rows() { echo $(($(wc -l <"$1") - 1)); }

M=$T/gpt2
mkdir -p "$M"
for f in config.json model.safetensors; do ln -s "$PWD/tests/fixtures/models/tiny-bpe/$f" "$M/$f"; done
for f in encoder.json vocab.bpe; do ln -s "$PWD/data/tokenizers/gpt2/$f" "$M/$f"; done
P=data/paper

# ---- eap-corrupt --import --split ----
C="bin/eap-corrupt --model $M"
for t in ioi greater-than; do
	$C --import $t $P/$t/gpt2.csv -o "$T/$t-all.csv" || bad "$t: import"
	for s in train test; do
		$C --import $t $P/$t/gpt2.csv --split $s -n 30 --seed 3 -o "$T/$t-$s.csv" || bad "$t $s"
		[ "$(rows "$T/$t-$s.csv")" -eq 30 ] && ok || bad "$t $s: not 30 rows"
		# every row is an imported row, and no clean prompt twice
		[ -z "$(tail -n +2 "$T/$t-$s.csv" | sort | comm -23 - "$(sort "$T/$t-all.csv" >"$T/all.s"; echo "$T/all.s")")" ] &&
			ok || bad "$t $s: a row that the plain import does not have"
		[ -z "$(cleans "$T/$t-$s.csv" | sort | uniq -d)" ] && ok || bad "$t $s: a clean prompt twice"
	done
	[ -z "$( (cleans "$T/$t-train.csv" | sort -u; cleans "$T/$t-test.csv" | sort -u) | sort | uniq -d)" ] &&
		ok || bad "$t: a clean prompt in both splits"
	$C --import $t $P/$t/gpt2.csv --split train -n 30 --seed 3 -o "$T/again.csv"
	cmp -s "$T/again.csv" "$T/$t-train.csv" && ok || bad "$t: same seed, different bytes"
	$C --import $t $P/$t/gpt2.csv --split train -n 30 --seed 4 -o "$T/other.csv"
	cmp -s "$T/other.csv" "$T/$t-train.csv" && bad "$t: seed 4 = seed 3" || ok
done
# greater-than repeats 25 rows: the splits sample the 975 distinct prompts
$C --import greater-than $P/greater-than/gpt2.csv --split test -n 600 -o "$T/gt.csv"
[ "$(rows "$T/gt.csv")" -eq 487 ] && ok || bad "greater-than -n 600: $(rows "$T/gt.csv") rows, expected 975/2 = 487"
# fact-retrieval-comma has 190 rows: -n 200 gives 95 each, disjoint
for s in train test; do
	$C --import fact-retrieval-comma $P/fact-retrieval-comma/gpt2.csv --split $s -n 200 -o "$T/fr-$s.csv"
	[ "$(rows "$T/fr-$s.csv")" -eq 95 ] && ok || bad "fact-retrieval-comma $s: $(rows "$T/fr-$s.csv") rows, expected 95"
done
[ -z "$(cat "$T/fr-train.csv" "$T/fr-test.csv" | sort | uniq -d | grep -v '^clean,')" ] && ok || bad "fact-retrieval-comma: a row in both"
# one row cannot be split: one error line naming the file, no output
head -2 $P/ioi/gpt2.csv >"$T/one.csv"
$C --import ioi "$T/one.csv" --split train -o "$T/one-out.csv" 2>"$T/err"
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "one.csv: 1 distinct clean prompts" "$T/err" &&
	[ ! -e "$T/one-out.csv" ] && [ ! -e "$T/one-out.csv.tmp" ] && ok || bad "one-row split: rc=$rc $(cat "$T/err")"

# ---- what the Makefile decides ----
V="MODEL=$M RESULTS=$T/results FIGURES=$T/plots N=8 N_EXACT=4 BATCH=4 SIZES=10,100,606 IG_STEPS_LIST=1\\ 5"
run_make() { eval make --no-print-directory "$V" "$@"; }
R=$T/results/gpt2
# what make decided, read from its variables (never from echoed recipes,
# which `make -s` hides): make_var VAR [make args...]
make_var() { _v=$1; shift; run_make --eval "'print-var: ; @printf \"%s\\n\" \"\$($_v)\"'" "$@" print-var; }
# the pairs the Makefile makes are those of the tool run by hand
run_make "$R/capital/pairs-train.csv" TASKS=capital >"$T/log" 2>&1 || bad "capital pairs: $(cat "$T/log")"
$C --import fact-retrieval-comma $P/fact-retrieval-comma/gpt2.csv --split train -n 8 --seed 1 -o "$T/fr8.csv"
cmp -s "$T/fr8.csv" "$R/capital/pairs-train.csv" && ok || bad "capital is not imported from fact-retrieval-comma"
run_make "$T/results-tasks/gpt2/ioi/pairs-test.csv" RESULTS=$T/results-tasks TASKS=ioi PAIRS_FROM=tasks >"$T/log" 2>&1 ||
	bad "PAIRS_FROM=tasks: $(cat "$T/log")"
bin/eap-corrupt --task data/tasks/ioi --split test -n 8 --seed 1 -o "$T/ioi8.csv"
cmp -s "$T/ioi8.csv" "$T/results-tasks/gpt2/ioi/pairs-test.csv" && ok || bad "PAIRS_FROM=tasks does not override"
run_make -n fig-faithfulness PAIRS_FROM=both >"$T/log" 2>&1 && bad "PAIRS_FROM=both accepted" ||
	{ grep -q "PAIRS_FROM must be tasks or paper, not 'both'" "$T/log" && ok || bad "PAIRS_FROM=both: $(cat "$T/log")"; }
run_make -n fig-faithfulness TASKS=nosuch >"$T/log" 2>&1 && bad "TASKS=nosuch accepted" ||
	{ grep -q "no data/paper/nosuch/gpt2.csv" "$T/log" && ok || bad "TASKS=nosuch: $(cat "$T/log")"; }
run_make -n fig-faithfulness PAPER_POINTS=maybe >"$T/log" 2>&1 && bad "PAPER_POINTS=maybe accepted" ||
	{ grep -q "PAPER_POINTS must be yes or no" "$T/log" && ok || bad "PAPER_POINTS=maybe: $(cat "$T/log")"; }

# ---- the pipeline: greater-than (prob_diff) and capital (logit_diff) ----
# 2 layers x 12 heads: 36 + 13 + 36 * 14 + 26 + 27 = 606 edges
run_make fig-faithfulness "TASKS=greater-than\ capital" >"$T/log" 2>&1 && ok ||
	{ bad "make fig-faithfulness"; tail -20 "$T/log"; finish; }
[ -z "$(make_var FIG_PAPER_CSVS "TASKS=greater-than\\ capital")" ] && ok || bad "overlay drawn for a model not shaped like GPT-2 small"
for t in greater-than capital; do
	m=logit_diff; p=fact-retrieval-comma
	[ $t = greater-than ] && { m=prob_diff; p=greater-than; }
	for f in pairs-train.csv pairs-test.csv acts.h5; do
		[ -s "$R/$t/$f" ] && ok || bad "$t/$f missing"
	done
	bin/eap-corrupt --import $p --model "$M" $P/$p/gpt2.csv -o "$T/all.csv"
	sort "$T/all.csv" >"$T/all.s"
	cleans $P/$p/gpt2.csv | sort >"$T/paper-cleans"
	for s in train test; do
		f=$R/$t/pairs-$s.csv
		[ "$(rows "$f")" -eq 8 ] && ok || bad "$t/pairs-$s.csv: not 8 rows"
		[ -z "$(tail -n +2 "$f" | sort | comm -23 - "$T/all.s")" ] && ok || bad "$t/pairs-$s.csv: not the imported rows"
		[ -z "$(cleans "$f" | sort | comm -23 - "$T/paper-cleans")" ] && ok || bad "$t/pairs-$s.csv: a prompt not in $p/gpt2.csv"
	done
	[ -z "$( (cleans "$R/$t/pairs-train.csv"; cleans "$R/$t/pairs-test.csv") | sort | uniq -d)" ] &&
		ok || bad "$t: a prompt in train and test"
	for v in eap-$m eap-ig-$m eap-ig-kl exact-$m; do
		for f in scores-$v.h5 circuits-$v.h5 curve-$v.csv curve-$v.h5 summary-$v.csv; do
			[ -s "$R/$t/$f" ] && ok || bad "$t/$f missing"
		done
		c=$R/$t/curve-$v.csv
		[ "$(rows "$c")" -eq 3 ] && ok || bad "$c: not one row per size"
		awk -F, -v m=$m 'NR > 1 && $4 != m { exit 1 }' "$c" && ok || bad "$c: metric is not $m"
		awk -F, '$2 == 606 { d = $7 - 1; if (d < 0) d = -d; f = (d < 1e-4) } END { exit !f }' "$c" && ok || bad "$c: F(all edges) != 1"
	done
done
[ -s "$T/plots/gpt2/faithfulness.png" ] && [ -s "$T/plots/gpt2/faithfulness.pdf" ] && ok || bad "figure missing"

# ---- the numbers make paper quotes (no TeX needed): the CSVs' values ----
run_make "$R/paper-numbers.tex" "TASKS=greater-than\\ capital" >"$T/log" 2>&1 && ok || { bad "paper-numbers.tex"; tail -5 "$T/log"; }
NUMS=$R/paper-numbers.tex
num() { sed -n "s/^\\\\pnumset{$1}{$2}{\\(.*\\)}\$/\\1/p" "$NUMS"; }
for t in greater-than capital; do
	m=logit_diff; [ $t = greater-than ] && m=prob_diff
	[ "$(num $t edges)" = 606 ] && ok || bad "$t: edges '$(num $t edges)' in paper-numbers.tex, expected 606"
	want=$(awk -F, 'NR == 2 { printf "%.3g", $5 }' "$R/$t/curve-eap-$m.csv")
	[ "$(num $t clean)" = "$want" ] && ok || bad "$t: clean baseline '$(num $t clean)', expected $want"
	for v in eap eap-ig eap-ig-kl exact; do
		s=$v-$m; [ $v = eap-ig-kl ] && s=eap-ig-kl
		want=$(awk -F, 'NR == 2 { print ($7 < 0 ? "---" : $7) }' "$R/$t/summary-$s.csv")
		[ "$(num $t $v-f80)" = "$want" ] && ok || bad "$t $v: f80 '$(num $t $v-f80)', expected $want"
		want=$(awk -F, 'NR == 2 { printf "%.3f", $4 }' "$R/$t/summary-$s.csv")
		[ "$(num $t $v-auc)" = "$want" ] && ok || bad "$t $v: auc '$(num $t $v-auc)', expected $want"
	done
done
for t in greater-than capital; do
	m=logit_diff; [ $t = greater-than ] && m=prob_diff
	for k in 1 5; do
		want=$(awk -F, -v k=$k '$1 == k { printf "%.3f", $4 }' "$R/$t/ig-steps.csv")
		[ -n "$want" ] && [ "$(num $t igs-$k-auc)" = "$want" ] && ok || bad "$t: igs-$k-auc '$(num $t igs-$k-auc)', expected '$want'"
	done
	want=$(awk -F, '$3 == 100 { printf "%.2f", $7 }' "$R/$t/overlap-eap-$m.csv")
	[ -n "$want" ] && [ "$(num $t eap-iou)" = "$want" ] && ok || bad "$t: eap-iou '$(num $t eap-iou)', expected '$want'"
done
[ "$(grep -c '^\\pnumrow{' "$NUMS")" -eq 2 ] && ok || bad "paper-numbers.tex: not one table row per task"

# ---- the overlay, forced: same curves, the paper's points added ----
touch "$T/stamp"; sleep 1
run_make fig-faithfulness "TASKS=greater-than\ capital" PAPER_POINTS=yes FIGURES=$T/plots-paper >"$T/log" 2>&1 && ok ||
	{ bad "make fig-faithfulness PAPER_POINTS=yes"; tail -5 "$T/log"; }
[ -z "$(find "$R" -type f -newer "$T/stamp")" ] && ok || bad "PAPER_POINTS=yes recomputed artifacts: $(find "$R" -type f -newer "$T/stamp")"
want="data/paper/results/real/greater-than.csv data/paper/results/real/fact-retrieval-comma.csv"
got=$(make_var FIG_PAPER_CSVS "TASKS=greater-than\\ capital" PAPER_POINTS=yes)
[ "$got" = "$want" ] && ok || bad "overlay files '$got', expected '$want'"
F=$T/plots-paper/gpt2/faithfulness
[ -s "$F.png" ] && [ -s "$F.pdf" ] && ok || bad "overlay figure missing"
# the overlay adds points and key entries to the same curves
[ "$(cat "$F.png" | wc -c)" -gt "$(cat "$T/plots/gpt2/faithfulness.png" | wc -c)" ] &&
	ok || bad "overlay figure is not larger than the plain one"
# ---- a Hugging Face cache folder of a sharded model ----
# MODEL=models--org--name: make reads config.json, the tokenizer and the
# weights' dates from the snapshot refs/main names, and depends on the
# shards and their index (there is no model.safetensors to wait for)
H=$T/models--org--tiny
S=$H/snapshots/0123abc
mkdir -p "$S" "$H/refs" && echo 0123abc >"$H/refs/main"
for f in config.json encoder.json vocab.bpe; do ln -s "$M/$f" "$S/$f"; done
for f in model-00001-of-00002.safetensors model-00002-of-00002.safetensors model.safetensors.index.json; do
	: >"$S/$f"
done
deps=$(make_var MODEL_DEPS MODEL=$H)
[ "$deps" = "$S/model-00001-of-00002.safetensors $S/model-00002-of-00002.safetensors $S/model.safetensors.index.json $S/config.json" ] &&
	ok || bad "cache folder: MODEL_DEPS is '$deps'"
run_make -n fig-faithfulness MODEL=$H >"$T/log" 2>&1 && ok || bad "cache folder: make -n: $(tail -1 "$T/log")"
[ "$(make_var PAIRS_FROM MODEL=$H)" = paper ] && ok || bad "cache folder: the snapshot's BPE tokenizer not seen"
[ "$(make_var PAPER_SHAPE MODEL=$H)" = "" ] && ok || bad "cache folder: tiny model taken for a paper shape"
run_make "$T/results/models--org--tiny/capital/pairs-train.csv" MODEL=$H TASKS=capital >"$T/log" 2>&1 &&
	cmp -s "$T/results/models--org--tiny/capital/pairs-train.csv" "$R/capital/pairs-train.csv" &&
	ok || bad "cache folder: pairs differ from the plain folder's: $(tail -1 "$T/log")"
finish
