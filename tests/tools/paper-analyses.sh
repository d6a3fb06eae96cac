#!/bin/sh
# paper-analyses.sh - the analyses of issue #16 through Make, on
# tests/fixtures/models/tiny-bpe (GPT-2's BPE vocabulary, 2 x 12) with the
# paper's pairs and on the built-in organism with its own tasks:
#  - make fig-cross-task: cross-task.csv has one cell per task pair, its
#    diagonal is each task's own curve at the circuit's size, the IoU
#    matrix is symmetric with 1 on the diagonal, the paper's cells
#    (PAPER_POINTS=yes) are its matrix normalized by the evaluation task's
#    baselines, and absent without PAPER_POINTS; the figure is drawn;
#  - PAPER_POINTS overlays the paper's points only on the shapes it ran
#    (GPT-2 small, GPT-2-XL, Pythia-2.8B), with those shapes' files, and
#    the GPT-2-XL columns draw;
#  - make tables SEEDS="1 2" (its seeds.csv): one row per task, its AUCs those of the
#    summaries (the second seed model here is the same weights);
#  - the manual circuits (eap-prune --from-json --as-is) are refused on
#    tiny-bpe with one line, and fig-manual-overlap takes the tasks that
#    have one (their counts and precision/recall: eap-compare.sh).
# Run from the repository root after `make`.
set -u
. tests/tools/lib/harness.sh

M=$T/gpt2
mkdir -p "$M"
for f in config.json model.safetensors; do ln -s "$PWD/tests/fixtures/models/tiny-bpe/$f" "$M/$f"; done
for f in encoder.json vocab.bpe; do ln -s "$PWD/data/tokenizers/gpt2/$f" "$M/$f"; done
V="MODEL=$M RESULTS=$T/results FIGURES=$T/plots N=8 BATCH=4 SIZES=10,100,606 METHODS=eap\\ eap-ig"
run_make() { eval make --no-print-directory "$V" "$@"; }
# what make decided, read from its variables: make_var VAR [make args...]
make_var() { _v=$1; shift; run_make --eval "'print-var: ; @printf \"%s\\n\" \"\$($_v)\"'" "$@" print-var; }
R=$T/results/gpt2
# near A B [TOL]: |A - B| < TOL (1e-6)
near() { awk -v a="$1" -v b="$2" -v t="${3:-1e-6}" 'BEGIN { d = a - b; exit !(d < t && d > -t) }'; }
# within t relative to max(1, |b|): a curve's circuits run stacked in one
# eap-eval (the rows of shared matmuls), a cell's circuit alone, and BLAS
# rounds a row a little differently in a taller matmul
nearrel() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; d = d < 0 ? -d : d; s = b < 0 ? -b : b; exit !(d <= t * (s > 1 ? s : 1)) }'; }

# ---- cross-task on the paper's pairs: two greater-than kinds and capital ----
# greater-than at F >= 0.8 of its curve (or the largest size), capital
# at 100 edges, greater-than-price at the paper's 300 (not a curve size)
TK="TASKS=greater-than\\ capital\\ greater-than-price CROSS_EDGES_greater-than=f80 CROSS_EDGES_capital=100"
run_make fig-cross-task "$R/capital/curve-eap-ig-logit_diff.csv" "$TK" PAPER_POINTS=yes >"$T/log" 2>&1 && ok ||
	{ bad "make fig-cross-task"; tail -20 "$T/log"; finish; }
X=$R/cross-task.csv
check "cross-task header" test "$(head -1 "$X")" = \
	"circuit_task,eval_task,edges_requested,edges,faithfulness,ci_low,ci_high,edge_iou,node_iou,paper_faithfulness"
check "one cell per task pair" test "$(tail -n +2 "$X" | cut -d, -f1,2 | sort -u | wc -l)" -eq 9
check "nine rows" test "$(tail -n +2 "$X" | wc -l)" -eq 9
for t in greater-than capital greater-than-price; do
	m=prob_diff; [ $t = capital ] && m=logit_diff
	row=$(awk -F, -v t=$t '$1 == t && $2 == t' "$X")
	n=$(echo "$row" | cut -d, -f3)
	case $t in
	capital) [ "$n" = 100 ] && ok || bad "capital: size $n, expected CROSS_EDGES_capital=100" ;;
	greater-than-price) [ "$n" = 300 ] && ok || bad "greater-than-price: size $n, expected the paper's 300" ;;
	greater-than)
		want=$(awk -F, 'NR > 1 { n = $2; if ($7 >= 0.8) { print n; f = 1; exit } } END { if (!f) print n }' \
			"$R/$t/curve-eap-ig-$m.csv")
		[ "$n" = "$want" ] && ok || bad "greater-than: size $n, expected f80's $want" ;;
	esac
	# the diagonal is the task's own curve at that size (a size of the curve)
	if [ $t != greater-than-price ]; then
		c=$(awk -F, -v n="$n" 'NR > 1 && $2 == n { print $7 }' "$R/$t/curve-eap-ig-$m.csv")
		[ -n "$c" ] && nearrel "$(echo "$row" | cut -d, -f5)" "$c" 1e-5 && ok ||
			bad "$t: diagonal F $(echo "$row" | cut -d, -f5), curve '$c'"
	fi
	[ "$(echo "$row" | cut -d, -f8,9)" = "1.000000,1.000000" ] && ok || bad "$t: diagonal IoU not 1"
done
# the IoU matrix is symmetric
awk -F, 'NR > 1 { e[$1 "|" $2] = $8; n[$1 "|" $2] = $9 }
	END { for (k in e) { split(k, p, "|"); r = p[2] "|" p[1]; if (e[k] != e[r] || n[k] != n[r]) exit 1 } }' "$X" &&
	ok || bad "IoU not symmetric"
# an off-diagonal cell is eap-eval of the row's circuit on the column's pairs, column's metric
off=$(awk -F, '$1 == "capital" && $2 == "greater-than" { print $5 }' "$X")
bin/eap-eval --model "$M" --pairs "$R/greater-than/pairs-test.csv" --metric prob_diff \
	--circuit "$R/cross-task/circuit-capital.h5" --batch 4 -o "$T/off.csv" 2>/dev/null
near "$off" "$(awk -F, 'NR == 2 { print $7 }' "$T/off.csv")" && ok || bad "capital on greater-than: $off"
# the paper's cell: raw(a, b) normalized by b's own baselines, computed here from its matrix
P=data/paper/results/cross-task/faithfulness.csv
want=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
	{ r[NR - 1] = $0 }
	END { split(r[c["greater-than-price"]], a, ","); split(r[c["greater-than"]], b, ",")
		printf "%.6f", (a[c["greater-than"]] - b[c["corrupted_baseline"]]) / (b[c["baseline"]] - b[c["corrupted_baseline"]]) }' "$P")
got=$(awk -F, '$1 == "greater-than-price" && $2 == "greater-than" { print $10 }' "$X")
[ -n "$got" ] && [ "$got" = "$want" ] && ok || bad "paper cell greater-than-price on greater-than: '$got', expected $want"
got=$(awk -F, '$1 == "capital" && $2 == "capital" { print $10 }' "$X")
near "$got" 0.968594 && ok || bad "paper cell fact-retrieval-comma on itself: '$got'"
for f in png pdf; do [ -s "$T/plots/gpt2/cross-task.$f" ] && ok || bad "cross-task.$f missing"; done
# without PAPER_POINTS the paper column is empty, nothing else changes
rm "$X"
run_make "$R/cross-task.csv" "$TK" PAPER_POINTS=no >"$T/log" 2>&1 || bad "cross-task.csv without paper"
[ -z "$(tail -n +2 "$X" | cut -d, -f10 | tr -d '\n')" ] && ok || bad "paper column without PAPER_POINTS"
run_make -n fig-cross-task TASKS=ioi CROSS_EDGES_ioi=ten >"$T/log" 2>&1 && bad "CROSS_EDGES=ten accepted" ||
	{ grep -q "CROSS_EDGES must be f80 or a whole number" "$T/log" && ok || bad "CROSS_EDGES=ten: $(cat "$T/log")"; }

# ---- the overlays: only the paper's shapes, each with its own files ----
shape() { # DIR LAYERS HEADS WIDTH [neox]: a config.json of that shape, GPT-2 tokenizer
	mkdir -p "$1"
	if [ "${5:-}" = neox ]; then
		printf '{"num_hidden_layers": %s, "num_attention_heads": %s, "hidden_size": %s, "max_position_embeddings": 2048}\n' "$2" "$3" "$4"
	else
		printf '{"n_layer": %s, "n_head": %s, "n_embd": %s, "n_positions": 1024, "vocab_size": 50257}\n' "$2" "$3" "$4"
	fi >"$1/config.json"
	touch "$1/vocab.json" "$1/merges.txt"
}
shape "$T/s-small" 12 12 768
shape "$T/s-xl" 48 25 1600
shape "$T/s-pythia" 32 32 2560 neox
shape "$T/s-wide" 12 12 1600
shape "$T/s-xl-heads" 48 24 1600
for c in "s-small real" "s-xl pareto-big/gpt2-xl" "s-pythia pareto-big/pythia-2.8B" "s-wide -" "s-xl-heads -"; do
	set -- $c
	want=data/paper/results/$2/ioi.csv; [ "$2" = - ] && want=
	got=$(make_var FIG_PAPER_CSVS MODEL="$T/$1" TASKS=ioi)
	[ "$got" = "$want" ] && ok || bad "$1: overlay '$got', expected '$want'"
done
[ -z "$(make_var FIG_PAPER_CSVS TASKS=ioi)" ] && ok || bad "tiny-bpe: an overlay"
# the GPT-2-XL columns draw: the same curves with its points
G="R='$R'; TASKS='greater-than'; METRICS='prob_diff'; VARIANTS='eap-ig'; MODEL='gpt2'; PTASKS='greater-than'"
gnuplot -e "$G; OUT='$T/plain'" plots/faithfulness.gp 2>"$T/gp.err" &&
	gnuplot -e "$G; OUT='$T/xl'; PAPER='data/paper/results/pareto-big/gpt2-xl'; PSHAPE='gpt2-xl'" plots/faithfulness.gp 2>>"$T/gp.err" &&
	[ ! -s "$T/gp.err" ] && ok || bad "faithfulness.gp with the GPT-2-XL points: $(cat "$T/gp.err")"
[ "$(wc -c <"$T/xl.png")" -gt "$(wc -c <"$T/plain.png")" ] && ok || bad "GPT-2-XL overlay adds nothing"

# ---- seeds: the tables' AUC difference over seed models ----
mkdir -p "$M-s2"
for f in "$M"/*; do ln -s "$(readlink "$f")" "$M-s2/$(basename "$f")"; done
run_make "$R/seeds.csv" SEEDS=1\\ 2 "TASKS=greater-than\\ capital" >"$T/log" 2>&1 && ok ||
	{ bad "make seeds.csv SEEDS=1 2"; tail -20 "$T/log"; }
S=$R/seeds.csv
check "seeds.csv header" test "$(head -1 "$S")" = "task,method,ref_method,metric,seeds,examples,auc,ref_auc,auc_diff,ci_low,ci_high"
check "seeds.csv: one row per task" test "$(tail -n +2 "$S" | cut -d, -f1 | tr '\n' ' ')" = "greater-than capital "
for t in greater-than capital; do
	m=prob_diff; [ $t = capital ] && m=logit_diff
	a=$(awk -F, 'NR == 2 { print $4 }' "$R/$t/summary-eap-ig-$m.csv")
	b=$(awk -F, 'NR == 2 { print $4 }' "$R/$t/summary-eap-$m.csv")
	row=$(awk -F, -v t=$t '$1 == t' "$S")
	[ "$(echo "$row" | cut -d, -f2-6)" = "eap-ig,eap,$m,2,16" ] && ok || bad "$t: $row"
	near "$(echo "$row" | cut -d, -f7)" "$a" && near "$(echo "$row" | cut -d, -f8)" "$b" &&
		near "$(echo "$row" | cut -d, -f9)" "$(awk -v a="$a" -v b="$b" 'BEGIN { print a - b }')" 1e-5 &&
		ok || bad "$t: AUCs $row, summaries $a $b"
	[ -s "$T/results/gpt2-s2/$t/curve-eap-ig-$m.h5" ] && ok || bad "$t: the seed model's curve"
done
grep -q '^\\begin{tabular}' "$R/seeds.tex" && grep -q '^| capital |' "$R/seeds.md" && ok || bad "seeds.tex / seeds.md"

# ---- manual circuits: a GPT-2-small shape only ----
run bin/eap-prune --from-json data/paper/manual-circuits/ioi.json --model "$M" --as-is -o "$T/m.h5"
[ "$rc" -eq 1 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && [ ! -e "$T/m.h5" ] && ok ||
	bad "the manual IOI circuit on a 2-layer model"
[ "$(make_var MANUAL_TASKS "TASKS=ioi\\ sva\\ greater-than")" = "ioi greater-than" ] && ok || bad "manual tasks"

# ---- the organism: cross-task over two of its tasks ----
O="MODEL=data/models/organism RESULTS=$T/ores FIGURES=$T/oplots N=12 BATCH=12 SIZES=10,100,1519 METHODS=eap-ig TASKS=ioi\\ greater-than"
eval make --no-print-directory "$O" fig-cross-task >"$T/log" 2>&1 && ok || { bad "organism fig-cross-task"; tail -20 "$T/log"; }
X=$T/ores/organism/cross-task.csv
check "organism: one cell per task pair" test "$(tail -n +2 "$X" | cut -d, -f1,2 | sort -u | wc -l)" -eq 4
for t in ioi greater-than; do
	m=logit_diff; [ $t = greater-than ] && m=prob_diff
	row=$(awk -F, -v t=$t '$1 == t && $2 == t' "$X")
	c=$(awk -F, -v n="$(echo "$row" | cut -d, -f3)" 'NR > 1 && $2 == n { print $7 }' "$T/ores/organism/$t/curve-eap-ig-$m.csv")
	[ -n "$c" ] && nearrel "$(echo "$row" | cut -d, -f5)" "$c" 1e-5 && ok || bad "organism $t: diagonal $row, curve '$c'"
done
finish
