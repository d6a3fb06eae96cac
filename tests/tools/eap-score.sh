#!/bin/sh
# eap-dump and eap-score end to end on the tiny-word fixture model: the
# acts.h5 path gives the same scores as recomputing dy, batch size does not
# change scores, --edges scores a subset, --shard I/K and --merge give the
# scores of one run, and bad input gets one error line, exit 1 and no
# output file.  Run from the repository root after `make`.
set -u
M=tests/fixtures/models/tiny-word
. tests/tools/lib/harness.sh

{ cat tests/fixtures/pairs/tiny-word.csv; cat <<'CSV'; } > "$T/pairs.csv"
a big red house,a small red house,with,of|in
CSV

# same scores with and without acts.h5, and with batch 1 vs 3
bin/eap-dump --model $M --pairs "$T/pairs.csv" -o "$T/acts.h5" --batch 3 && ok || bad "eap-dump failed"
for m in eap eap-ig eap-ig-act clean-corrupted exact relp eap-gp; do
	bin/eap-score --model $M --pairs "$T/pairs.csv" --method $m -o "$T/s-$m.h5" --batch 3 &&
	bin/eap-score --model $M --pairs "$T/pairs.csv" --method $m --acts "$T/acts.h5" -o "$T/a-$m.h5" --batch 2 &&
	bin/eap-score --model $M --pairs "$T/pairs.csv" --method $m -o "$T/b-$m.h5" --batch 1 || bad "eap-score $m failed"
	h5diff -d 2e-6 "$T/s-$m.h5" "$T/a-$m.h5" /scores /scores >/dev/null && ok || bad "$m: --acts changes scores"
	h5diff -d 2e-6 "$T/s-$m.h5" "$T/b-$m.h5" /scores /scores >/dev/null && ok || bad "$m: batch 1 changes scores"
done
# weights streamed from the mapped checkpoint layer by layer: the same
# scores bit for bit (README "Big models"); a bad EAP_WEIGHTS is one line
for m in eap-ig exact; do
	EAP_WEIGHTS=stream bin/eap-score --model $M --pairs "$T/pairs.csv" --method $m -o "$T/st-$m.h5" --batch 3 || bad "streamed $m failed"
	h5diff "$T/s-$m.h5" "$T/st-$m.h5" /scores /scores >/dev/null && ok || bad "$m: streamed weights change scores"
done
# per-layer contraction (on by itself when all gradients would take more
# than 256 MiB; EAP_CONTRACT=layer forces it): every gradient method's
# scores equal the full contraction's within float summation order, dy
# computed or read from acts.h5; not bit for bit (else the variable did
# nothing); EAP_CONTRACT=full is the default path bit for bit; node scores
# and --bootstrap need every gradient and keep the full contraction
differ=0
for m in eap eap-ig eap-ig-act clean-corrupted relp eap-gp; do
	EAP_CONTRACT=layer bin/eap-score --model $M --pairs "$T/pairs.csv" --method $m -o "$T/pl-$m.h5" --batch 3 &&
	EAP_CONTRACT=layer bin/eap-score --model $M --pairs "$T/pairs.csv" --method $m --acts "$T/acts.h5" -o "$T/pla-$m.h5" --batch 2 &&
	EAP_CONTRACT=full bin/eap-score --model $M --pairs "$T/pairs.csv" --method $m -o "$T/pf-$m.h5" --batch 3 || bad "EAP_CONTRACT $m failed"
	h5diff -d 2e-6 "$T/s-$m.h5" "$T/pl-$m.h5" /scores /scores >/dev/null && ok || bad "$m: per-layer contraction changes scores"
	h5diff -d 2e-6 "$T/a-$m.h5" "$T/pla-$m.h5" /scores /scores >/dev/null && ok || bad "$m: per-layer contraction with --acts changes scores"
	h5diff "$T/s-$m.h5" "$T/pf-$m.h5" /scores /scores >/dev/null && ok || bad "$m: EAP_CONTRACT=full is not the default"
	h5diff -q "$T/s-$m.h5" "$T/pl-$m.h5" /scores /scores >/dev/null || differ=$((differ + 1))
done
[ $differ -gt 0 ] && ok || bad "EAP_CONTRACT=layer changed no bit of any method's scores"
for o in "--bootstrap 3" "--level node"; do
	bin/eap-score --model $M --pairs "$T/pairs.csv" --method relp $o -o "$T/o1.h5" --batch 3 &&
	EAP_CONTRACT=layer bin/eap-score --model $M --pairs "$T/pairs.csv" --method relp $o -o "$T/o2.h5" --batch 3 &&
	h5diff --exclude-attribute / "$T/o1.h5" "$T/o2.h5" >/dev/null && ok || bad "EAP_CONTRACT=layer $o differs"
done
run env EAP_CONTRACT=half bin/eap-score --model $M --pairs "$T/pairs.csv" --method eap -o "$T/bc.h5"
[ "$rc" = 1 ] && [ "$(wc -l < "$tmp/err")" = 1 ] && grep -q 'EAP_CONTRACT: "half"' "$tmp/err" && absent "$T/bc.h5" && ok || bad "bad EAP_CONTRACT: rc $rc, $(cat "$tmp/err")"
EAP_WEIGHTS=fast bin/eap-score --model $M --pairs "$T/pairs.csv" --method eap -o "$T/bw.h5" 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$T/err")" -eq 1 ] && grep -q 'EAP_WEIGHTS: "fast"' "$T/err" && [ ! -e "$T/bw.h5" ] && ok || bad "bad EAP_WEIGHTS: rc $rc, $(cat "$T/err")"
# the methods really differ (a test that could not fail otherwise)
h5diff -q -d 1e-3 "$T/s-eap.h5" "$T/s-exact.h5" /scores /scores >/dev/null && bad "eap == exact?" || ok
# attributes say what made the file
h5dump -a /method "$T/s-eap-ig.h5" | grep -q '"eap-ig"' && ok || bad "method attribute"
h5dump -a /steps "$T/s-eap-ig.h5" | grep -q ' 5$' && ok || bad "steps attribute"
h5dump -a /method "$T/s-eap-ig-act.h5" | grep -q '"eap-ig-act"' && ok || bad "eap-ig-act method attribute"
h5dump -a /steps "$T/s-eap-ig-act.h5" | grep -q ' 5$' && ok || bad "eap-ig-act steps attribute"
h5diff -q -d 1e-4 "$T/s-eap-ig.h5" "$T/s-eap-ig-act.h5" /scores /scores >/dev/null && bad "eap-ig-act == eap-ig?" || ok
h5dump -a /method "$T/s-relp.h5" | grep -q '"relp"' && ok || bad "relp method attribute"
h5dump -a /method "$T/s-eap-gp.h5" | grep -q '"eap-gp"' && ok || bad "eap-gp method attribute"
h5dump -a /steps "$T/s-eap-gp.h5" | grep -q ' 5$' && ok || bad "eap-gp steps attribute"
h5diff -q -d 1e-4 "$T/s-eap.h5" "$T/s-relp.h5" /scores /scores >/dev/null && bad "relp == eap?" || ok
h5diff -q -d 1e-4 "$T/s-eap-ig.h5" "$T/s-eap-gp.h5" /scores /scores >/dev/null && bad "eap-gp == eap-ig?" || ok
# --cost: one row, the passes of each method's definition per example
for m in eap relp eap-ig eap-gp clean-corrupted; do
	bin/eap-score --model $M --pairs "$T/pairs.csv" --method $m --cost "$T/c-$m.csv" -o "$T/c-$m.h5" &&
	h5diff -d 2e-6 "$T/s-$m.h5" "$T/c-$m.h5" /scores /scores >/dev/null || bad "--cost $m changes the scores"
done
# --cost naming a directory: a usage error before any work, no scores file
run bin/eap-score --model $M --pairs "$T/pairs.csv" --method eap --cost "$T" -o "$T/cd.h5"
[ "$rc" = 2 ] && absent "$T/cd.h5" && [ "$(wc -l < "$tmp/err")" = 1 ] && ok || bad "--cost DIR"
for want in "eap 2 1" "relp 2 1" "eap-ig 6 5" "eap-gp 7 10" "clean-corrupted 3 2"; do
	set -- $want
	awk -F, -v f="$2" -v b="$3" 'NR == 1 && $6 == "forwards" && $7 == "backwards" && $8 == "gflop" { h = 1 }
		NR == 2 && h && $6 == f && $7 == b && $8 > 0 && $9 >= 0 && $10 >= 0 { ok = 1 }
		END { exit !(ok && NR == 2) }' "$T/c-$1.csv" && ok || bad "--cost $1: $(cat "$T/c-$1.csv")"
done

# --limit K scores the first K pairs: the same as a file of those rows
head -3 "$T/pairs.csv" > "$T/first2.csv"
bin/eap-score --model $M --pairs "$T/first2.csv" --method exact -o "$T/l1.h5" &&
	bin/eap-score --model $M --pairs "$T/pairs.csv" --acts "$T/acts.h5" --method exact --limit 2 -o "$T/l2.h5" || bad "--limit runs"
h5diff -d 2e-6 "$T/l1.h5" "$T/l2.h5" /scores /scores >/dev/null && ok || bad "--limit 2 differs from the first two rows"
h5diff -q -d 1e-4 "$T/l2.h5" "$T/s-exact.h5" /scores /scores >/dev/null && bad "--limit changed nothing" || ok

# --budget TFLOP: the first pairs whose counted work fits, at least one:
# below one pair's work it scores the first pair (as --limit 1 does), above
# all of theirs everything; shards of a budgeted run keep the same pairs
# and merge into the budgeted run's scores; a bad budget is a usage error
bin/eap-score --model $M --pairs "$T/pairs.csv" --method exact --limit 1 -o "$T/lim1.h5" &&
	bin/eap-score --model $M --pairs "$T/pairs.csv" --method exact --budget 1e-12 -o "$T/bud1.h5" &&
	bin/eap-score --model $M --pairs "$T/pairs.csv" --method exact --budget 1000 --batch 3 -o "$T/budall.h5" || bad "--budget runs"
h5diff "$T/lim1.h5" "$T/bud1.h5" /scores /scores >/dev/null && ok || bad "--budget below one pair is not --limit 1"
h5dump -a /n_examples "$T/bud1.h5" | grep -q '(0): 1$' && ok || bad "--budget below one pair: n_examples is not 1"
h5diff "$T/s-exact.h5" "$T/budall.h5" /scores /scores >/dev/null && ok || bad "--budget above all pairs changed the scores"
for i in 1 2; do
	bin/eap-score --model $M --pairs "$T/pairs.csv" --method exact --budget 1e-12 --shard $i/2 -o "$T/bsh$i.h5" || bad "--budget --shard $i/2"
done
bin/eap-score --merge -o "$T/bm.h5" "$T/bsh1.h5" "$T/bsh2.h5" && h5diff "$T/bud1.h5" "$T/bm.h5" /scores /scores >/dev/null &&
	ok || bad "shards of a budgeted run do not merge into its scores"
# at the boundary: the work --cost counts for the first two pairs (GFLOP
# per example x 2, one batch as the run makes it) keeps two just above it
# and one just below
bin/eap-score --model $M --pairs "$T/pairs.csv" --method exact --limit 2 --batch 3 --cost "$T/bc2.csv" -o "$T/bc2.h5" ||
	bad "--cost of two pairs"
w2=$(awk -F, 'NR == 2 { printf "%.9g", $8 * 2 / 1000 }' "$T/bc2.csv")
for k in "1.0001 2" "0.9999 1"; do
	set -- $k
	bin/eap-score --model $M --pairs "$T/pairs.csv" --method exact --batch 3 \
		--budget "$(awk -v w="$w2" -v f="$1" 'BEGIN { printf "%.9g", w * f }')" -o "$T/bk.h5" &&
		h5dump -a /n_examples "$T/bk.h5" | grep -q "(0): $2\$" && ok ||
		bad "--budget $1 x the first two pairs' work ($w2 TFLOP) does not keep $2"
done
for b in 0 -1 x 1e99; do
	bin/eap-score --model $M --pairs "$T/pairs.csv" --method exact --budget "$b" -o "$T/bb.h5" 2>"$T/err"; rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q -- "--budget '$b'" "$T/err" && [ ! -e "$T/bb.h5" ] &&
		ok || bad "--budget $b: rc $rc, $(cat "$T/err")"
done

# --edges: the listed edges equal the full exact run, the rest are 0
printf 'input->logits\n# a comment\nm0->m1\n\na0.h1->a1.h2<q>\n' > "$T/edges.txt"
bin/eap-score --model $M --pairs "$T/pairs.csv" --method exact --edges "$T/edges.txt" -o "$T/e.h5" && ok || bad "--edges run"
nz=$(h5dump -d /scores -y -w 0 "$T/e.h5" | sed -n '/DATA {/,/}/p' | tr ',' '\n' | grep -E '[0-9]' | grep -vcE '^ *0 *$|DATA|}')
[ "$nz" -eq 3 ] && ok || bad "--edges: $nz nonzero scores, expected 3"

# --shard I/K + --merge: the same /scores as one run, bit for bit; shards
# of an --edges list split that list
S="bin/eap-score --model $M --pairs $T/pairs.csv --acts $T/acts.h5 --method exact"
$S -o "$T/full.h5" || bad "exact with --acts"
for i in 1 2 3; do $S --shard $i/3 -o "$T/sh$i.h5" || bad "--shard $i/3"; done
bin/eap-score --merge -o "$T/merged.h5" "$T/sh3.h5" "$T/sh1.h5" "$T/sh2.h5" && ok || bad "--merge"
h5diff "$T/full.h5" "$T/merged.h5" /scores /scores >/dev/null && ok || bad "merged shards differ from one run"
h5dump -d /scored "$T/merged.h5" >/dev/null 2>&1 && bad "merged file has /scored" || ok
h5dump -a /pairs_sha256 "$T/merged.h5" | grep -q "$(sha256sum "$T/pairs.csv" | cut -c1-64)" && ok || bad "merged provenance"
# each shard scores whole backward inputs (columns), together all edges
ones() { h5dump -d "$1" -y -w 0 "$2" | tr ',' '\n' | grep -c '^ *1 *$'; }
cols() { # backward inputs (of 27) with a scored edge
	h5dump -d /scored -y -w 0 "$1" | sed -n '/DATA {/,/}/p' | tr ',' '\n' | grep -E '^ *[01] *$' |
		awk '$1 == 1 { c[(NR - 1) % 27] = 1 } END { n = 0; for (i in c) n++; print n }'; }
n1=$(ones /scored "$T/sh1.h5") n2=$(ones /scored "$T/sh2.h5") n3=$(ones /scored "$T/sh3.h5")
[ "$n1" -gt 0 ] && [ "$n2" -gt 0 ] && [ "$n3" -gt 0 ] &&
	[ $((n1 + n2 + n3)) -eq "$(ones /edge_mask "$T/full.h5")" ] && ok || bad "shards of $n1, $n2, $n3 edges"
[ $(($(cols "$T/sh1.h5") + $(cols "$T/sh2.h5") + $(cols "$T/sh3.h5"))) -eq 27 ] && ok || bad "shards share backward inputs"
$S --edges "$T/edges.txt" --shard 1/2 -o "$T/es1.h5" && $S --edges "$T/edges.txt" --shard 2/2 -o "$T/es2.h5" &&
	bin/eap-score --merge -o "$T/em.h5" "$T/es1.h5" "$T/es2.h5" 2>"$T/err"
grep -q "edges are in none of the 2 files" "$T/err" && ok || bad "merge of a partial edge list: $(cat "$T/err")"
$S --edges "$T/edges.txt" -o "$T/e-acts.h5" && h5diff "$T/e-acts.h5" "$T/es1.h5" /scores /scores >/dev/null &&
	bad "--shard 1/2 of 3 edges scored all 3" || ok
$S --metric prob_diff --shard 3/3 -o "$T/sh3p.h5" || bad "--shard prob_diff"
# bad input: exit 1, exactly one line on stderr naming the problem, no output
expect_err() { # name pattern args...
	name=$1 pat=$2; shift 2
	rm -f "$T/out.h5" "$T/out.h5.tmp"
	"$@" -o "$T/out.h5" 2>"$T/err"; rc=$?
	if [ $rc -ne 1 ]; then bad "$name: exit $rc"; return; fi
	if [ "$(wc -l < "$T/err")" -ne 1 ]; then bad "$name: stderr has $(wc -l < "$T/err") lines"; cat "$T/err"; return; fi
	grep -q -- "$pat" "$T/err" || { bad "$name: stderr lacks '$pat': $(cat "$T/err")"; return; }
	[ ! -e "$T/out.h5" ] && [ ! -e "$T/out.h5.tmp" ] || { bad "$name: left an output file"; return; }
	ok
}
printf 'clean,corrupted,answers,foils\nthe cat sat,the cat sat on,mat,dog\n' > "$T/len.csv"
expect_err "different lengths" "len.csv:2: clean and corrupted prompts tokenize to different lengths (4 vs 5)" \
	bin/eap-score --model $M --pairs "$T/len.csv" --method eap
printf 'clean,corrupted,answers,foils\nthe cat sat,the dog sat,zebra,dog\n' > "$T/ans.csv"
expect_err "unknown answer" "ans.csv:2" bin/eap-score --model $M --pairs "$T/ans.csv" --method eap
printf 'clean,corrupted,answers,foils\nthe cat sat,the dog sat,mat dog,dog\n' > "$T/two.csv"
expect_err "two-token answer" "two.csv:2" bin/eap-score --model $M --pairs "$T/two.csv" --method eap
: > "$T/empty.csv"
expect_err "empty pairs" "empty.csv" bin/eap-score --model $M --pairs "$T/empty.csv" --method eap
mkdir "$T/badmodel" && cp $M/* "$T/badmodel/" &&
	sed -i 's/"n_embd": *32/"n_embd": 64/' "$T/badmodel/config.json"
expect_err "config mismatch" 'tensor "wte.weight" has shape' \
	bin/eap-score --model "$T/badmodel" --pairs "$T/pairs.csv" --method eap
head -3 "$T/pairs.csv" > "$T/other.csv"
expect_err "acts of other pairs" "acts.h5" \
	bin/eap-score --model $M --pairs "$T/other.csv" --acts "$T/acts.h5" --method eap
printf 'm0->a0.h0<q>\n' > "$T/notedge.txt"
expect_err "non-edge" "notedge.txt:1" \
	bin/eap-score --model $M --pairs "$T/pairs.csv" --method exact --edges "$T/notedge.txt"
expect_err "dump: bad pairs" "len.csv:2" bin/eap-dump --model $M --pairs "$T/len.csv"

expect_err "merge: missing shard" "in none of the 2 files" bin/eap-score --merge "$T/sh1.h5" "$T/sh2.h5"
expect_err "merge: overlap" "sh1.h5 as well" bin/eap-score --merge "$T/sh1.h5" "$T/sh2.h5" "$T/sh3.h5" "$T/sh1.h5"
expect_err "merge: other metric" "scored with another metric (metric) than" \
	bin/eap-score --merge "$T/sh1.h5" "$T/sh2.h5" "$T/sh3p.h5"
expect_err "merge: other pairs" "scored with other pairs (pairs_sha256)" \
	bin/eap-score --merge "$T/sh1.h5" "$T/sh2.h5" "$T/l1.h5"
expect_err "merge: not scores" "not a readable HDF5 file" bin/eap-score --merge "$T/pairs.csv"

# a bounded dump (eap-dump --keep K < N: node outputs of the first K
# examples, everything else of all N) is an audit: eap-score recomputes
# dy, giving the scores of a run without --acts on the dump's full-width
# batches (the full dump's, within rounding), and refuses a dump whose
# baselines or node outputs are not this run's
bin/eap-dump --model $M --pairs "$T/pairs.csv" --keep 1 --batch 3 -o "$T/k1.h5" && ok || bad "eap-dump --keep 1"
h5dump -H -d /acts/clean "$T/k1.h5" | grep -q 'SIMPLE { ( 1, ' && ok || bad "--keep 1: /acts/clean is not 1 example"
h5dump -H -d /metric/clean "$T/k1.h5" | grep -q 'SIMPLE { ( 4 )' && ok || bad "--keep 1: /metric is not 4 examples"
[ "$(stat -c %s "$T/k1.h5")" -lt "$(stat -c %s "$T/acts.h5")" ] && ok || bad "--keep 1 is not smaller than the full dump"
for m in eap eap-ig clean-corrupted; do
	bin/eap-score --model $M --pairs "$T/pairs.csv" --method $m --acts "$T/k1.h5" -o "$T/k-$m.h5" --batch 2 || bad "$m from a bounded dump"
	h5diff -d 2e-6 "$T/a-$m.h5" "$T/k-$m.h5" /scores /scores >/dev/null && ok || bad "$m: bounded dump changes scores"
done
bin/eap-dump --model $M --pairs "$T/pairs.csv" --keep 99 -o "$T/k99.h5" &&
	h5dump -H -d /acts/clean "$T/k99.h5" | grep -q 'SIMPLE { ( 4, ' && ok || bad "--keep 99 of 4 is not all 4"
bin/eap-dump --model $M --pairs "$T/pairs.csv" --keep 0 -o "$T/x.h5" 2>/dev/null; [ $? -eq 2 ] && ok || bad "--keep 0 must be a usage error"
# example 2's clean baseline, a contiguous float32 in the file, set to 1000
off=$(h5dump -p -H -d /metric/clean "$T/k1.h5" | sed -n 's/^ *OFFSET \([0-9]*\)$/\1/p')
cp "$T/k1.h5" "$T/k1-bad.h5" &&
	printf '\000\000\172\104' | dd of="$T/k1-bad.h5" bs=1 seek=$((off + 8)) conv=notrunc 2>/dev/null
expect_err "audit: baselines" "k1-bad.h5: example 2: this run's baselines" \
	bin/eap-score --model $M --pairs "$T/pairs.csv" --acts "$T/k1-bad.h5" --method eap
# same weights (same SHA-256), another LayerNorm epsilon: other activations
mkdir "$T/eps" && cp $M/* "$T/eps/" && sed -i 's/"layer_norm_epsilon": 1e-05/"layer_norm_epsilon": 0.5/' "$T/eps/config.json"
expect_err "audit: node outputs" "k1.h5: example 0: this run's node outputs differ" \
	bin/eap-score --model "$T/eps" --pairs "$T/pairs.csv" --acts "$T/k1.h5" --method eap-ig --metric prob_diff
expect_err "audit: baselines of another config" "k1.h5: example 0: this run's baselines" \
	bin/eap-score --model "$T/eps" --pairs "$T/pairs.csv" --acts "$T/k1.h5" --method exact

# progress (eap/progress.h): with --progress, lines "TOOL OUT: d/n UNIT
# (p%), Ts elapsed, ..." ending in done; exact counts the FLOPs of its
# patched passes (as src/cost.c counts them, here MFLOP) and reports within
# a batch, and ends where it started to count; without --progress (not a
# terminal) nothing at all
pl='[0-9]*/[0-9]* [a-z-]* ([0-9]*%), [0-9hms]* elapsed, '
bin/eap-dump --model $M --pairs "$T/pairs.csv" --batch 2 --progress -o "$T/pd.h5" 2>"$T/pd.err" &&
	grep -q "^eap-dump $T/pd.h5: 0/4 examples (0%), [0-9]*s elapsed, estimating$" "$T/pd.err" &&
	tail -1 "$T/pd.err" | grep -q "^eap-dump $T/pd.h5: 4/4 examples (100%), [0-9]*s elapsed, done$" &&
	[ "$(grep -vc "^eap-dump $T/pd.h5: $pl" "$T/pd.err")" -eq 0 ] && ok || bad "eap-dump --progress: $(cat "$T/pd.err")"
bin/eap-score --model $M --pairs "$T/pairs.csv" --method exact --batch 3 --progress -o "$T/pe.h5" 2>"$T/pe.err" &&
	tail -1 "$T/pe.err" | grep -q "^eap-score $T/pe.h5: \([0-9]*\.[0-9]\)/\1 MFLOP (100%), [0-9]*s elapsed, done$" &&
	head -1 "$T/pe.err" | grep -q "^eap-score $T/pe.h5: 0\.0/[1-9][0-9]*\.[0-9] MFLOP (0%), [0-9]*s elapsed, estimating$" &&
	h5diff "$T/pe.h5" "$T/s-exact.h5" /scores /scores >/dev/null && ok || bad "eap-score exact --progress: $(cat "$T/pe.err")"
bin/eap-score --model $M --pairs "$T/pairs.csv" --method eap-ig --batch 2 -o "$T/pq.h5" 2>"$T/pq.err" &&
	bin/eap-dump --model $M --pairs "$T/pairs.csv" -o "$T/pq-acts.h5" 2>>"$T/pq.err" &&
	[ ! -s "$T/pq.err" ] && ok || bad "progress without --progress on a pipe: $(cat "$T/pq.err")"

# usage errors exit 2; --help exits 0
bin/eap-score --model $M --pairs "$T/pairs.csv" --method nope -o "$T/x.h5" 2>/dev/null; [ $? -eq 2 ] && ok || bad "unknown method"
bin/eap-score --model $M --pairs "$T/pairs.csv" --method eap --steps 0 -o "$T/x.h5" 2>/dev/null; [ $? -eq 2 ] && ok || bad "--steps 0"
bin/eap-score --pairs "$T/pairs.csv" --method eap -o "$T/x.h5" 2>/dev/null; [ $? -eq 2 ] && ok || bad "missing --model"
bin/eap-score --model $M --pairs "$T/pairs.csv" --method eap -o /dev/null 2>/dev/null; [ $? -eq 2 ] && [ -c /dev/null ] && ok || bad "-o /dev/null must be refused"
for a in 0/2 3/2 1 1/ x/2; do
	$S --shard $a -o "$T/x.h5" 2>/dev/null; [ $? -eq 2 ] && ok || bad "--shard $a must be a usage error"
done
bin/eap-score --model $M --pairs "$T/pairs.csv" --method eap --shard 1/2 -o "$T/x.h5" 2>/dev/null; [ $? -eq 2 ] && ok || bad "--shard with eap"
bin/eap-score --merge --method exact -o "$T/x.h5" "$T/sh1.h5" 2>/dev/null; [ $? -eq 2 ] && ok || bad "--merge with --method"
bin/eap-score --merge -o "$T/x.h5" 2>/dev/null; [ $? -eq 2 ] && ok || bad "--merge without files"
bin/eap-score --help | grep -q '^Usage: eap-score' && ok || bad "--help"
bin/eap-dump --help | grep -q '^Usage: eap-dump' && ok || bad "dump --help"

finish
