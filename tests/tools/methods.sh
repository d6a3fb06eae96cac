#!/bin/sh
# The table and figure of `make fig-methods` (experiments/methods.mk):
# plots/methods.awk joins each task's and method's summary, correlation
# and cost CSVs into methods.csv and methods.md (columns found by name,
# whatever their order; per-method means), refuses a missing file or
# column with one error line and leaves no output; the stability table's
# jaccard_f80 joins by task and method (nan where it has no row);
# plots/methods.gp draws
# the figure from methods.csv.  Run from the repository root.
set -u
. tests/tools/lib/harness.sh

mk() { # task method auc f80 pearson spearman fwd bwd gflop examples cpu seconds
	printf 'method,metric,circuits,auc_log,cpr,cmd,min_edges_f80,min_edges_f90\n%s,logit_diff,28,%s,0.9,0.1,%s,-1\n' \
		"$2" "$3" "$4" > "$T/s-$1-$2.csv"
	printf 'spearman,pearson,method,ref_method\n%s,%s,%s,exact\n' "$6" "$5" "$2" > "$T/c-$1-$2.csv"
	printf 'method,metric,steps,examples,threads,forwards,backwards,gflop,seconds,cpu_seconds,seconds_per_example\n%s,logit_diff,0,%s,1,%s,%s,%s,%s,%s,%s\n' \
		"$2" "${10}" "$7" "$8" "$9" "${12}" "${11}" "$(awk -v s="${12}" -v n="${10}" 'BEGIN { print s / n }')" > "$T/k-$1-$2.csv"
	args="$args $1 $2 $T/s-$1-$2.csv $T/c-$1-$2.csv $T/k-$1-$2.csv"
}
args=
mk ioi eap 0.50 40 0.8 0.6 2 1 0.1 20 0.2 0.4
mk ioi relp 0.60 -1 0.9 0.5 2 1 0.09 20 0.3 0.6
mk sva eap 0.70 30 0.6 0.4 2 1 0.1 20 0.4 0.8
mk sva relp 0.80 20 1.0 0.7 2 1 0.09 20 0.5 1.0
# the stability table (plots/stability.awk's columns, in another order
# than methods.awk's): sva relp and both eap rows; ioi relp has none
printf 'method,task,jaccard_f80,resamples\neap,ioi,0.5,20\nrelp,sva,0.9,20\neap,sva,0.7,20\n' > "$T/stab.csv"
run awk -v OUT="$T/methods" -v STAB="$T/stab.csv" -f plots/methods.awk $args
[ "$rc" = 0 ] && ok || bad "methods.awk failed"
check "csv rows" [ "$(wc -l < "$T/methods.csv")" = 5 ]
check "csv row" grep -qx 'sva,relp,logit_diff,0.80,20,1.0,0.7,2,1,0.09,0.025,0.05,0.9' "$T/methods.csv"
check "csv row without stability" grep -qx 'ioi,relp,logit_diff,0.60,-1,0.9,0.5,2,1,0.09,0.015,0.03,nan' "$T/methods.csv"
check "md: no F>=0.8 circuit" grep -q '| ioi | relp | 0.600 | none | 0.900 | 0.500 | - |' "$T/methods.md"
check "md: relp's mean" grep -q '| relp | 0.700 | 0.950 | 0.600 | 0.900 | 2 | 1 | 0.09 | 20 |' "$T/methods.md"
check "md: eap's mean" grep -q '| eap | 0.600 | 0.700 | 0.500 | 0.600 | 2 | 1 | 0.1 | 15 |' "$T/methods.md"
if command -v gnuplot >/dev/null; then
	run gnuplot -e "CSV='$T/methods.csv'; OUT='$T/fig'; TASKS='ioi sva'; METHODS='eap relp'; MODEL='test'" plots/methods.gp
	[ "$rc" = 0 ] && [ -s "$T/fig.png" ] && [ -s "$T/fig.pdf" ] && ! grep -qi "error\|invalid\|undefined" "$T/err" && ok ||
		bad "methods.gp: $(head -c 300 "$T/err")"
fi

# a stability table without the column: one error line, exit 1, no output
rm -f "$T/methods.csv" "$T/methods.md"
printf 'task,method\nioi,eap\n' > "$T/stab2.csv"
run awk -v OUT="$T/methods" -v STAB="$T/stab2.csv" -f plots/methods.awk $args
[ "$rc" = 1 ] && [ "$(wc -l < "$T/err")" = 1 ] && grep -q "stab2.csv: no column" "$T/err" &&
	absent "$T/methods.csv" && absent "$T/methods.md" && ok || bad "a stability table without jaccard_f80"

# a missing column, a missing file: one error line, exit 1, no output
rm -f "$T/methods.csv" "$T/methods.md"
printf 'method,metric\neap,logit_diff\n' > "$T/c-ioi-eap.csv"
run awk -v OUT="$T/methods" -f plots/methods.awk $args
[ "$rc" = 1 ] && [ "$(wc -l < "$T/err")" = 1 ] && grep -q "c-ioi-eap.csv: no column pearson" "$T/err" &&
	absent "$T/methods.csv" && absent "$T/methods.md" && ok || bad "a missing column"
rm -f "$T/c-ioi-eap.csv"
run awk -v OUT="$T/methods" -f plots/methods.awk $args
[ "$rc" = 1 ] && [ "$(wc -l < "$T/err")" = 1 ] && absent "$T/methods.csv" && ok || bad "a missing file"
finish
