#!/bin/sh
# The Make pipeline end to end on a small model trained here from the task
# folders (so the test needs nothing but the tools): every artifact of
# `make fig-faithfulness` exists, the curves have the SPEC §2 columns and
# one row per size, F = 1 for the whole graph, a second run rebuilds
# nothing, and touching one pairs file rebuilds exactly its dependents.
# Run from the repository root after `make`.
set -u
. tests/tools/lib/harness.sh

bin/eap-corrupt --vocab -o "$T/vocab.txt" &&
	bin/eap-corrupt --corpus -n 3000 --seed 1 -o "$T/corpus.txt" &&
	bin/eap-train --corpus "$T/corpus.txt" --vocab "$T/vocab.txt" --layers 2 --heads 2 \
		--dim 16 --steps 20 --batch 16 --threads 1 -o "$T/m" || { echo "cannot train"; exit 1; }
# 2 layers x 2 heads: 7 forward nodes, 15 inputs, 6+3+24+6+7 = 46 edges
V="MODEL=$T/m RESULTS=$T/results FIGURES=$T/plots TASKS=ioi\ greater-than N=8 BATCH=4 SIZES=5,20,46"
run_make() { eval make --no-print-directory "$V" "$@"; }
run_make fig-faithfulness >"$T/log" 2>&1 && ok || { bad "make fig-faithfulness"; tail -20 "$T/log"; echo "pipeline.sh: $pass passed, $fail failed"; exit 1; }

R=$T/results/m
# what a make run redid, read from the files it wrote (not from echoed
# recipes, which `make -s` hides): newer NAME-PATTERN [DIR], one per line
newer() { find "${2:-$R}" -type f -name "$1" -newer "$T/stamp" | sort; }
for t in ioi greater-than; do
	m=logit_diff; [ $t = greater-than ] && m=prob_diff
	for f in pairs-train.csv pairs-test.csv acts.h5; do
		[ -s "$R/$t/$f" ] && ok || bad "$t/$f missing"
	done
	for v in eap-$m eap-ig-$m eap-ig-kl exact-$m; do
		for f in scores-$v.h5 circuits-$v.h5 curve-$v.csv curve-$v.h5 summary-$v.csv; do
			[ -s "$R/$t/$f" ] && ok || bad "$t/$f missing"
		done
		c=$R/$t/curve-$v.csv
		head -1 "$c" | grep -q '^method,edges_requested,edges,metric,clean_baseline,corrupted_baseline,faithfulness' && ok || bad "$c columns"
		[ "$(tail -n +2 "$c" | wc -l)" -eq 3 ] && ok || bad "$c: not one row per size"
		awk -F, '$2 == 46 { d = $7 - 1; if (d < 0) d = -d; f = (d < 1e-4) } END { exit !f }' "$c" && ok || bad "$c: F(all edges) != 1"
	done
	# each step recorded what it read
	h5dump -a /pairs_path "$R/$t/acts.h5" | grep -q "pairs-train.csv" && ok || bad "$t: acts.h5 provenance"
done
[ -s "$T/plots/m/faithfulness.png" ] && [ -s "$T/plots/m/faithfulness.pdf" ] && ok || bad "figure missing"

# nothing to redo
run_make -q fig-faithfulness && ok || bad "second run would rebuild"
# a touched test split redoes exactly its task's evaluations and the figure
# (a real run: make 4.3's -n does not follow grouped targets)
touch "$T/stamp"
sleep 1
touch "$R/ioi/pairs-test.csv"
run_make fig-faithfulness > "$T/n" 2>&1
n_eval=$(newer 'curve-*.csv' "$R/ioi" | wc -l)
[ "$n_eval" -eq 4 ] && ok || bad "touching ioi/pairs-test.csv reruns $n_eval evaluations, expected 4"
[ -z "$(newer '*' "$R/greater-than")" ] && ok || bad "greater-than rebuilt"
[ -z "$(newer 'scores-*'; newer 'acts.h5'; newer 'circuits-*')" ] && ok || bad "scores rebuilt"
[ -n "$(newer 'faithfulness.png' "$T/plots")" ] && ok || bad "figure not redone"

# issue #9 on the same artifacts: tables, fig-overlap, fig-ig-steps (IG
# steps 1 and 2 as extra variants); every file with its columns, then
# nothing left to do
# (run_make evals its arguments, hence the quoted backslash)
S9="tables fig-overlap fig-ig-steps"
run_make $S9 'IG_STEPS_LIST=1\ 2' > "$T/log9" 2>&1 && ok || { bad "make $S9"; tail -20 "$T/log9"; }
head -1 "$R/tables.csv" | grep -qx 'task,method,metric,auc_log,cpr,cmd,min_edges_f80,min_edges_f90,pearson,spearman,pearson_abs,spearman_abs' &&
	ok || bad "tables.csv columns"
[ "$(tail -n +2 "$R/tables.csv" | wc -l)" -eq 8 ] && ok || bad "tables.csv: not one row per task and method"
[ "$(awk -F, '$2 == "exact" { print $9 "," $10 }' "$R/tables.csv" | sort -u)" = "1.000000,1.000000" ] &&
	ok || bad "tables.csv: exact does not correlate 1 with itself"
grep -q '^| ioi | eap | logit\\_diff |' "$R/tables.md" && ok || bad "tables.md rows"
grep -q '^\\toprule' "$R/tables.tex" && grep -q '^greater-than & eap & prob\\_diff' "$R/tables.tex" &&
	ok || bad "tables.tex rows"
for t in ioi greater-than; do
	m=logit_diff; [ $t = greater-than ] && m=prob_diff
	for v in eap-$m eap-ig-$m eap-ig-kl; do
		o=$R/$t/overlap-$v.csv
		head -1 "$o" | grep -qx 'method,ref_method,edges_requested,edges,ref_edges,common_edges,edge_iou,nodes,ref_nodes,common_nodes,node_iou,edge_precision,edge_recall,node_precision,node_recall' &&
			ok || bad "$o columns"
		[ "$(tail -n +2 "$o" | cut -d, -f3 | tr '\n' ' ')" = "5 20 46 " ] && ok || bad "$o: not one row per size"
		[ "$(tail -1 "$o" | cut -d, -f7,11)" = "1.000000,1.000000" ] && ok || bad "$o: whole graph IoU != 1"
		[ -s "$R/$t/correlation-$v.csv" ] && ok || bad "$t/correlation-$v.csv missing"
	done
	g=$R/$t/ig-steps.csv
	head -1 "$g" | grep -qx 'steps,method,metric,auc_log,cpr,cmd,min_edges_f80,min_edges_f90,pearson,spearman,pearson_abs,spearman_abs' &&
		ok || bad "$g columns"
	[ "$(tail -n +2 "$g" | cut -d, -f1,2 | tr '\n' ' ')" = "1,eap-ig-s1 2,eap-ig-s2 " ] && ok || bad "$g rows"
	h5dump -a /steps "$R/$t/scores-eap-ig-s2-$m.h5" | grep -q '(0): 2$' && ok || bad "$t: eap-ig-s2 not scored with 2 steps"
done
for f in overlap ig-steps; do
	[ -s "$T/plots/m/$f.png" ] && [ -s "$T/plots/m/$f.pdf" ] && ok || bad "$f figure missing"
done
run_make -q $S9 'IG_STEPS_LIST=1\ 2' && ok || bad "second run of $S9 would rebuild"

# a changed variable remakes what it shapes and nothing else: SIZES the 8
# circuit curves (2 tasks x 4 variants) and their evaluations, not the
# scores; STEPS the EAP-IG scores (eap-ig and eap-ig-kl of 2 tasks)
touch "$T/stamp"
sleep 1
run_make SIZES=5,46 fig-faithfulness > "$T/s" 2>&1
[ "$(newer 'circuits-*.h5' | wc -l)" -eq 8 ] && ok || bad "SIZES changed: $(newer 'circuits-*.h5' | wc -l) prunes, expected 8"
[ -z "$(newer 'scores-*'; newer 'acts.h5'; newer 'pairs-*')" ] && ok || bad "SIZES changed: scores or pairs rebuilt"
[ "$(tail -n +2 "$R/ioi/curve-eap-logit_diff.csv" | wc -l)" -eq 2 ] && ok || bad "SIZES=5,46: not 2 rows"
run_make -q SIZES=5,46 fig-faithfulness && ok || bad "same SIZES again would rebuild"
touch "$T/stamp"
sleep 1
run_make SIZES=5,46 STEPS=3 fig-faithfulness > "$T/st" 2>&1
[ "$(newer 'scores-*.h5' | wc -l)" -eq 4 ] && ok || bad "STEPS changed: $(newer 'scores-*.h5' | wc -l) scorings, expected 4"
newer 'scores-*.h5' | grep -q 'scores-exact-\|scores-eap-[lp]' && bad "STEPS changed: eap or exact rescored" || ok
h5dump -a /steps "$R/ioi/scores-eap-ig-logit_diff.h5" | grep -q ' 3$' && ok || bad "STEPS=3 not in the scores"

[ $fail -eq 0 ] || cat "$T/n" "$T/s" "$T/st"
finish
