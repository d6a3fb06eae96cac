#!/bin/sh
# eap-eval end to end on the tiny-word fixture: a curve from eap-prune
# circuits, F = 1 for the whole graph and 0 for the empty circuit, the
# ablation kinds, the summary, and bad input.  Run from the repo root
# after `make`.
set -u
M=tests/fixtures/models/tiny-word
U=tests/fixtures/models/tiny-untied
. tests/tools/lib/harness.sh

{ cat tests/fixtures/pairs/tiny-word.csv; cat <<'CSV'; } > "$T/pairs.csv"
a big red house,a small red house,with,of|in
the dog ran to the park,the cat ran to the park,with,to
CSV

bin/eap-score --model $M --pairs "$T/pairs.csv" --method eap-ig -o "$T/s.h5" || bad "eap-score"
bin/eap-prune --scores "$T/s.h5" --sizes 5,20,60,110 -o "$T/c.h5" || bad "eap-prune --sizes"
bin/eap-prune --scores "$T/s.h5" --threshold 1e30 -o "$T/empty.h5" || bad "eap-prune empty"
bin/eap-eval --model $M --pairs "$T/pairs.csv" --circuit "$T/c.h5" --summary "$T/sum.csv" -o "$T/curve.csv" && ok || bad "eap-eval curve"
head -1 "$T/curve.csv" | grep -q '^method,edges_requested,edges,metric,clean_baseline,corrupted_baseline,faithfulness' && ok || bad "CSV columns"
[ "$(tail -n +2 "$T/curve.csv" | wc -l)" -eq 4 ] && ok || bad "one row per circuit"
# the whole graph (110 edges) reproduces the clean model: F = 1
awk -F, '$3 == 110 { d = $7 - 1; if (d < 0) d = -d; exit !(d < 1e-5) }' "$T/curve.csv" && ok || bad "F(all edges) != 1"
awk -F, 'NR > 1 && $2 == 110 && $1 == "eap-ig" { f = 1 } END { exit !f }' "$T/curve.csv" && ok || bad "method column from scores"
# bootstrap interval brackets F
awk -F, 'NR > 1 && !($9 <= $7 + 1e-9 && $7 <= $10 + 1e-9) { exit 1 }' "$T/curve.csv" && ok || bad "CI does not bracket F"
bin/eap-eval --model $M --pairs "$T/pairs.csv" --circuit "$T/empty.h5" -o "$T/e.csv" && ok || bad "eval empty"
awk -F, 'NR == 2 { d = $7; if (d < 0) d = -d; exit !($3 == 0 && d < 1e-5) }' "$T/e.csv" && ok || bad "F(no edges) != 0"
grep -q '^method,metric,circuits,auc_log,cpr,cmd,min_edges_f80,min_edges_f90' "$T/sum.csv" && ok || bad "summary header"
# the HDF5 twin: per-example metrics whose mean is the CSV's circuit metric
bin/eap-eval --model $M --pairs "$T/pairs.csv" --circuit "$T/c.h5" --h5 "$T/curve.h5" -o "$T/curve3.csv" && ok || bad "--h5"
h5dump -H "$T/curve.h5" | grep -q 'DATASPACE  SIMPLE { ( 4, 5 ) / ( 4, 5 ) }' && ok || bad "/metric/circuit is not 4 x 5"
h5mean=$(h5dump -d /metric/circuit -s 3,0 -c 1,5 -y -w 0 "$T/curve.h5" | sed -n '/DATA {/,/}/p' | tr ',' '\n' | grep -E '^ *-?[0-9]' | awk '{ s += $1; n++ } END { printf "%.6f", s / n }')
csvm=$(awk -F, 'NR == 5 { printf "%.6f", $8 }' "$T/curve3.csv")
awk -v a="$h5mean" -v b="$csvm" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d < 1e-5 && a != "") }' && ok || bad "/metric/circuit mean $h5mean != CSV $csvm"
# same seed, same bytes
bin/eap-eval --model $M --pairs "$T/pairs.csv" --circuit "$T/c.h5" -o "$T/curve2.csv" 2>"$T/quiet.err" && cmp -s "$T/curve.csv" "$T/curve2.csv" && ok || bad "not reproducible"
[ ! -s "$T/quiet.err" ] && ok || bad "output on stderr without --progress: $(cat "$T/quiet.err")"
# --progress: the progress line (eap/progress.h), ending in done; same curve
n=$(($(wc -l < "$T/pairs.csv") - 1))
bin/eap-eval --model $M --pairs "$T/pairs.csv" --circuit "$T/c.h5" --progress -o "$T/curve4.csv" 2>"$T/prog.err" &&
	tail -1 "$T/prog.err" | grep -q "^eap-eval $T/curve4.csv: $n/$n examples (100%), [0-9]*s elapsed, done$" &&
	cmp -s "$T/curve.csv" "$T/curve4.csv" && ok || bad "--progress: $(cat "$T/prog.err")"
# circuits stacked along the rows (the default) or one at a time, on one
# or two threads: the same per-example metrics up to BLAS's rounding
metrics() { h5dump -m %.17g -d /metric/circuit -y -w 0 "$1" | sed -n '/DATA {/,/}/p' | tr ',' '\n' | grep -E '^ *-?[0-9]'; }
bin/eap-eval --model $M --pairs "$T/pairs.csv" --circuit "$T/c.h5" --stack 1 --threads 1 --h5 "$T/one.h5" -o "$T/one.csv" && ok || bad "--stack 1"
bin/eap-eval --model $M --pairs "$T/pairs.csv" --circuit "$T/c.h5" --threads 2 --h5 "$T/two.h5" -o "$T/two.csv" && ok || bad "--threads 2"
for f in curve one two; do metrics "$T/$f.h5" > "$T/$f.txt"; done
for f in one two; do
	paste "$T/curve.txt" "$T/$f.txt" | awk 'NF != 2 { exit 1 } { d = $1 - $2; d = d < 0 ? -d : d; s = $1 < 0 ? -$1 : $1; if (d > 1e-5 * (s > 1 ? s : 1)) exit 1; n++ } END { exit n != 20 }' && ok || bad "stacked vs $f: metrics differ"
done
# zero and mean ablation run and differ from patching at a small circuit
bin/eap-eval --model $M --pairs "$T/pairs.csv" --circuit "$T/c.h5" --ablation zero -o "$T/z.csv" && ok || bad "zero ablation"
bin/eap-eval --model $M --pairs "$T/pairs.csv" --circuit "$T/c.h5" --ablation mean --mean-pairs "$T/pairs.csv" -o "$T/m.csv" && ok || bad "mean ablation"
[ "$(sed -n 2p "$T/z.csv" | cut -d, -f8)" != "$(sed -n 2p "$T/curve.csv" | cut -d, -f8)" ] && ok || bad "zero == patching"

expect_err() { # name pattern args...
	name=$1 pat=$2; shift 2
	rm -f "$T/out.csv" "$T/out.csv.tmp"
	"$@" -o "$T/out.csv" 2>"$T/err"; rc=$?
	if [ $rc -ne 1 ]; then bad "$name: exit $rc"; return; fi
	[ "$(wc -l < "$T/err")" -eq 1 ] || { bad "$name: stderr: $(cat "$T/err")"; return; }
	grep -q -- "$pat" "$T/err" || { bad "$name: stderr lacks '$pat': $(cat "$T/err")"; return; }
	[ ! -e "$T/out.csv" ] && [ ! -e "$T/out.csv.tmp" ] || { bad "$name: left an output"; return; }
	ok
}
printf 'clean,corrupted,answers,foils\none sun up,two sun up,rain,snow\n' > "$T/u.csv"
bin/eap-score --model $U --pairs "$T/u.csv" --method eap -o "$T/su.h5" 2>/dev/null &&
	bin/eap-prune --scores "$T/su.h5" --topn 5 -o "$T/cu.h5" 2>/dev/null
if [ -f "$T/cu.h5" ]; then
	expect_err "circuit of another graph" "graph" \
		bin/eap-eval --model $M --pairs "$T/pairs.csv" --circuit "$T/cu.h5"
else
	bad "could not build a tiny-untied circuit"
fi
expect_err "missing circuit" "nope.h5" bin/eap-eval --model $M --pairs "$T/pairs.csv" --circuit "$T/nope.h5"
printf 'not hdf5\n' > "$T/text.h5"
expect_err "text as circuit" "text.h5" bin/eap-eval --model $M --pairs "$T/pairs.csv" --circuit "$T/text.h5"
bin/eap-eval --model $M --pairs "$T/pairs.csv" --circuit "$T/c.h5" -o /dev/null 2>/dev/null; [ $? -eq 2 ] && ok || bad "-o /dev/null"
bin/eap-eval --model $M --pairs "$T/pairs.csv" --circuit "$T/c.h5" --ablation half -o "$T/x.csv" 2>/dev/null; [ $? -eq 2 ] && ok || bad "bad --ablation"
bin/eap-eval --help | grep -q '^Usage: eap-eval' && ok || bad "--help"

finish
