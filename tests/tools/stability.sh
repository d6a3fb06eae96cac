#!/bin/sh
# eap-score --check-exact and --bootstrap on the tiny-word fixture model:
# the check's sampled exact scores equal --method exact --edges on the same
# edges, its Pearson r and sign agreement agree with an awk recomputation
# from /check_exact, the sample follows --seed; the bootstrap's selection
# frequencies sum to the mean circuit size, one example gives identical
# resamples (Jaccard 1), the CSVs hold the file's numbers; bad input gets
# one error line, exit 1 or 2 and no output.  Run from the repository root
# after `make`.
set -u
M=tests/fixtures/models/tiny-word
. tests/tools/lib/harness.sh

cp tests/fixtures/pairs/tiny-word.csv "$T/pairs.csv"
S="bin/eap-score --model $M --pairs $T/pairs.csv --batch 2 --threads 1"
vals() { h5dump -m %.9g -d "$1" -y -w 0 "$2" | sed -n '/DATA {/,/}/p' | tr ',' '\n' |
	grep -E '[0-9]' | grep -vE 'DATA|}' | tr -d ' '; }
names() { h5dump -d "$1" -y -w 0 "$2" | sed -n '/DATA {/,/}/p' | tr ',' '\n' |
	grep '"' | sed 's/.*"\(.*\)".*/\1/'; }
NB=27

# the check: 25 edges of eap-ig, then exact on exactly those edges
$S --method eap-ig --check-exact 25 --seed 7 --check-csv "$T/chk.csv" -o "$T/ig.h5" &&
	ok || bad "eap-ig --check-exact failed"
vals /check_exact "$T/ig.h5" | paste - - - - > "$T/rows"
[ "$(wc -l < "$T/rows")" -eq 25 ] && ok || bad "/check_exact has $(wc -l < "$T/rows") rows, want 25"
names /forward_nodes "$T/ig.h5" > "$T/fwd"
names /backward_nodes "$T/ig.h5" > "$T/bwd"
awk 'FILENAME == ARGV[1] { f[NR - 1] = $0; next } FILENAME == ARGV[2] { b[FNR - 1] = $0; next }
	{ print f[$1] "->" b[$2] }' "$T/fwd" "$T/bwd" "$T/rows" > "$T/edges.txt"
$S --method exact --edges "$T/edges.txt" -o "$T/ex.h5" && ok || bad "exact --edges failed"
vals /scores "$T/ex.h5" > "$T/exs"
awk -v nb=$NB 'FILENAME == ARGV[1] { s[NR - 1] = $1; next }
	{ want = s[$1 * nb + $2]; if (want != $4) { print "edge " $1 "," $2 ": check " $4 ", exact " want; bad = 1 } }
	END { exit bad }' "$T/exs" "$T/rows" && ok || bad "the check's exact scores differ from --method exact --edges"
# the method's own scores of those edges are its /scores
vals /scores "$T/ig.h5" > "$T/igs"
awk -v nb=$NB 'FILENAME == ARGV[1] { s[NR - 1] = $1; next } s[$1 * nb + $2] != $3 { bad = 1 } END { exit bad }' \
	"$T/igs" "$T/rows" && ok || bad "/check_exact's method column is not /scores"
# Pearson and sign agreement recomputed from the rows
stats=$(vals /check_exact_stats "$T/ig.h5" | tr '\n' ' ')
awk -v st="$stats" '{ x[NR] = $3; y[NR] = $4; sa += (($3 > 0) - ($3 < 0)) == (($4 > 0) - ($4 < 0)) }
	END { n = NR; for (i = 1; i <= n; i++) { mx += x[i] / n; my += y[i] / n }
	for (i = 1; i <= n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ^ 2; syy += (y[i] - my) ^ 2 }
	r = sxy / sqrt(sxx * syy); split(st, s, " ")
	d = r - s[3]; if (d < 0) d = -d; e = sa / n - s[5]; if (e < 0) e = -e
	if (s[1] != 25 || s[2] != 3 || d > 1e-5 || e > 1e-6) { print "stats " st " vs r " r " sign " sa / n; exit 1 } }' \
	"$T/rows" && ok || bad "check statistics differ from a recomputation"
# the CSV holds the same numbers
awk -F, -v st="$stats" 'NR == 2 { split(st, s, " "); d = $8 - s[3]; if (d < 0) d = -d
	exit !($1 == "eap-ig" && $6 == 25 && $7 == 3 && d < 1e-5) }' "$T/chk.csv" && ok || bad "check CSV"
# the seed picks the sample; the same seed the same one
$S --method eap-ig --check-exact 25 --seed 7 -o "$T/ig2.h5" && $S --method eap-ig --check-exact 25 --seed 8 -o "$T/ig3.h5" ||
	bad "seeded checks"
h5diff "$T/ig.h5" "$T/ig2.h5" /check_exact /check_exact >/dev/null && ok || bad "same seed, other sample"
h5diff -q "$T/ig.h5" "$T/ig3.h5" /check_exact /check_exact >/dev/null && bad "other seed, same sample" || ok
h5diff "$T/ig.h5" "$T/ig3.h5" /scores /scores >/dev/null && ok || bad "--check-exact changed /scores"

# the bootstrap
$S --method eap --bootstrap 8 --sizes 5,20,60,110 --bootstrap-csv "$T/boot.csv" -o "$T/b.h5" && ok || bad "--bootstrap failed"
vals /bootstrap "$T/b.h5" | paste - - - > "$T/brows"
vals /bootstrap_frequency "$T/b.h5" | awk '{ s[int((NR - 1) / 297)] += $1; if ($1 < 0 || $1 > 1) bad = 1 }
	END { for (k = 0; k < 4; k++) print s[k]; exit bad }' > "$T/fsum" && ok || bad "a frequency outside [0, 1]"
paste "$T/fsum" "$T/brows" | awk '{ d = $1 - $3; if (d < 0) d = -d; if (d > 1e-3) bad = 1 } END { exit bad }' &&
	ok || bad "frequencies do not sum to the mean circuit size"
awk '$1 == 110 { exit !($3 == 1) }' "$T/brows" && ok || bad "the whole graph is not the same in every resample"
awk '$3 < 1 { n++ } END { exit !(n > 0) }' "$T/brows" && ok || bad "every size perfectly stable: nothing resampled?"
[ "$(sed 1d "$T/boot.csv" | wc -l)" -eq 4 ] && ok || bad "bootstrap CSV rows"
# one example: every resample is that example, Jaccard 1 and frequencies 0 or 1
head -2 "$T/pairs.csv" > "$T/one.csv"
bin/eap-score --model $M --pairs "$T/one.csv" --method eap --bootstrap 5 --sizes 5,20 -o "$T/b1.h5" && ok || bad "one-example bootstrap"
vals /bootstrap "$T/b1.h5" | paste - - - | awk '$3 != 1 { bad = 1 } END { exit bad }' && ok || bad "one example: Jaccard != 1"
vals /bootstrap_frequency "$T/b1.h5" | awk '$1 != 0 && $1 != 1 { bad = 1 } END { exit bad }' && ok || bad "one example: fractional frequency"

# make tables' join (plots/stability.awk): the F >= 0.8 size is the
# curve's first size reaching 0.8, its Jaccard the bootstrap row of that
# requested size; a curve that never reaches 0.8 gives none and nan
cat > "$T/c.csv" <<'CSV'
method,metric,steps,n_examples,seed,edges_checked,k,pearson,spearman,sign_agreement,topk_recall
eap-ig,logit_diff,5,40,1,200,20,0.900000,0.800000,0.700000,0.600000
CSV
cat > "$T/b.csv" <<'CSV'
method,metric,steps,n_examples,seed,resamples,edges_requested,edges_mean,jaccard_mean
eap-ig,logit_diff,5,40,1,20,10,8.00,0.500000
eap-ig,logit_diff,5,40,1,20,20,15.50,0.750000
eap-ig,logit_diff,5,40,1,20,30,26.00,0.900000
CSV
cat > "$T/cur.csv" <<'CSV'
method,edges_requested,edges,metric,clean_baseline,corrupted_baseline,faithfulness,circuit_metric,ci_low,ci_high,ablation
eap-ig,10,8,logit_diff,1,0,0.5,0.5,0.4,0.6,patching
eap-ig,20,16,logit_diff,1,0,0.85,0.85,0.8,0.9,patching
eap-ig,30,27,logit_diff,1,0,0.95,0.95,0.9,1.0,patching
CSV
sed 's/0.85/0.75/; s/0.95/0.79/' "$T/cur.csv" > "$T/cur2.csv"
awk -f plots/stability.awk -v csv="$T/st.csv" -v md="$T/st.md" \
	ioi eap-ig "$T/c.csv" "$T/b.csv" "$T/cur.csv" sva eap "$T/c.csv" "$T/b.csv" "$T/cur2.csv" &&
	ok || bad "stability.awk failed"
sed -n 2p "$T/st.csv" | grep -qx 'ioi,eap-ig,logit_diff,200,0.900000,0.800000,0.700000,0.600000,20,16,0.750000,20' &&
	ok || bad "stability.csv row: $(sed -n 2p "$T/st.csv")"
sed -n 3p "$T/st.csv" | grep -q '^sva,eap,.*,-1,-1,nan,20$' && ok || bad "no F >= 0.8: $(sed -n 3p "$T/st.csv")"
grep -qF '| ioi | eap-ig | 200 | 0.900 | 0.800 | 0.700 | 0.600 | 20 (16) | 0.750 |' "$T/st.md" && ok || bad "stability.md row"

# bad input
run $S --method exact --check-exact 5 -o "$T/bad.h5"
expect_tool_err "--check-exact on exact" 2 eap-score "checks an approximate method"
# more edges than the graph has: every edge is checked
$S --method eap --check-exact 500 -o "$T/all.h5" && ok || bad "--check-exact beyond the graph"
[ "$(vals /check_exact_stats "$T/all.h5" | head -1)" = 110 ] && ok || bad "--check-exact 500: not all 110 edges"
run $S --method eap --bootstrap 1 -o "$T/bad.h5"
expect_tool_err "--bootstrap 1" 2 eap-score "at least 2 resamples"
run $S --method eap --check-csv "$T/bad.csv" -o "$T/bad.h5"
expect_tool_err "--check-csv alone" 2 eap-score "--check-csv goes with --check-exact"
run $S --method eap --bootstrap 3 --sizes 5,200 -o "$T/bad.h5" --bootstrap-csv "$T/bad.csv"
expect_tool_err "bootstrap size beyond the graph" 1 eap-score "exceeds the graph's 110 edges"
check "no output for a bad size" absent "$T/bad.h5" "$T/bad.csv"
run $S --method eap --bootstrap 3 --sizes 5,x -o "$T/bad.h5"
expect_tool_err "bad --sizes" 1 eap-score "x"
finish
