#!/bin/sh
# eap-compare.sh - end-to-end tests of bin/eap-compare and bin/eap-table
# (issue #9): a scores file against itself correlates with r = rho = 1,
# a circuits file against itself overlaps with IoU 1 at every size, EAP
# against exact gives numbers in range with the whole graph at IoU 1;
# eap-table joins summaries and correlations into CSV, Markdown and a
# booktabs LaTeX fragment; files that do not belong together (another
# graph shape, other pairs, other sizes, another method), a missing file
# and a non-HDF5 file give exit 1, one error line naming the file, and no
# output; usage errors exit 2.
# Run from the repository root after `make` (as `make tool-tests` does).

# EAP_BIN=DIR tests the eap-compare and eap-table of DIR (`make check`
# also runs this on the ASan/UBSan builds: tests/san-compare.mk); the
# inputs are made with bin/'s eap-score and eap-prune.
BIN=${EAP_BIN:-bin}/eap-compare
TAB=${EAP_BIN:-bin}/eap-table
MODEL=tests/fixtures/models/tiny-word
IOI=tests/fixtures/reference-graphs/ioi-eap-ig.json
. tests/tools/lib/harness.sh

# expect_err MSG RC TEXT [TOOL]: exit code, one stderr line "TOOL: ...TEXT..."
expect_err() { expect_tool_err "$1" "$2" "${4:-eap-compare}" "$3"; }

# col FILE NAME: the values of CSV column NAME, one per line
col() {
	awk -F, -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next }
		{ print $c }' "$1"
}

for b in "$BIN" "$TAB" bin/eap-score bin/eap-prune; do
	[ -x "$b" ] || { echo "eap-compare.sh: $b not built"; exit 1; }
done

# ---- help and usage errors: exit 0 / 2 ----
run "$BIN" --help
if [ "$rc" -eq 0 ] && head -n 1 "$tmp/out" | grep -q '^Usage: eap-compare (--scores FILE | --circuits FILE) --ref FILE' &&
	[ ! -s "$tmp/err" ]; then ok; else bad "--help"; fi
run "$BIN"
expect_err "no arguments" 2 "give one of --scores FILE, --circuits FILE and --curves FILE"
run "$BIN" --scores a.h5 --circuits b.h5 --ref c.h5 -o d.csv
expect_err "both kinds" 2 "give one of --scores FILE, --circuits FILE and --curves FILE"
run "$BIN" --scores a.h5 -o d.csv
expect_err "no --ref" 2 "--ref FILE is required"
run "$BIN" --scores a.h5 --ref c.h5
expect_err "no -o" 2 "-o FILE is required"
run "$BIN" --scores a.h5 --ref c.h5 -o d.csv --method 'a,b'
expect_err "bad --method" 2 "--method wants a plain name"
run "$BIN" --scores a.h5 --ref c.h5 -o d.csv --frobnicate
expect_err "unknown option" 2 "unknown option '--frobnicate'"
run "$BIN" --scores a.h5 --ref c.h5 -o d.csv extra
expect_err "extra argument" 2 "unexpected argument 'extra'"
run "$BIN" --scores a.h5 --ref
expect_err "missing argument" 2 "requires an argument"
run "$BIN" --scores a.h5 --ref c.h5 -o /dev/null
expect_err "-o not a regular file" 2 "/dev/null: output must be a regular file"
check "usage errors write nothing" absent d.csv

# ---- inputs: eap and exact on the tiny model, their curves ----
cat >"$tmp/pairs.csv" <<'CSV'
clean,corrupted,answers,foils
when mary and john went to the store john gave a drink to,when mary and john went to the store he gave a drink to,mary,john
the king saw a bird in the park,the queen saw a bird in the park,he,she
the cat sat on the mat,the dog sat on the mat,and|with,to
CSV
sed '4d' "$tmp/pairs.csv" >"$tmp/pairs2.csv"
for m in eap exact; do
	bin/eap-score --model "$MODEL" --pairs "$tmp/pairs.csv" --method $m -o "$tmp/s-$m.h5" 2>"$tmp/err" ||
		{ echo "eap-compare.sh: eap-score $m failed: $(cat "$tmp/err")"; exit 1; }
done
# the graph's edge count: a threshold of 0 keeps every edge
bin/eap-prune --scores "$tmp/s-eap.h5" --threshold 0 -o "$tmp/all.h5" ||
	{ echo "eap-compare.sh: eap-prune --threshold 0 failed"; exit 1; }
n_edges=$(h5dump -a /n_edges_requested "$tmp/all.h5" | sed -n 's/^ *(0): //p')
sizes=5,10,20,40,$n_edges
for m in eap exact; do
	bin/eap-prune --scores "$tmp/s-$m.h5" --sizes $sizes -o "$tmp/c-$m.h5" 2>"$tmp/err" ||
		{ echo "eap-compare.sh: eap-prune $m failed: $(cat "$tmp/err")"; exit 1; }
done
bin/eap-score --model "$MODEL" --pairs "$tmp/pairs2.csv" --method eap -o "$tmp/s-other.h5" &&
	bin/eap-prune --scores "$tmp/s-eap.h5" --sizes 5,10,20,40 -o "$tmp/c-fewer.h5" &&
	bin/eap-prune --scores "$tmp/s-eap.h5" --sizes 5,10,30,40,$n_edges -o "$tmp/c-other.h5" &&
	bin/eap-prune --from-json "$IOI" -o "$tmp/s-12x12.h5" &&
	bin/eap-prune --scores "$tmp/s-12x12.h5" --sizes $sizes -o "$tmp/c-12x12.h5" ||
	{ echo "eap-compare.sh: cannot build the bad inputs"; exit 1; }

# ---- scores: r = rho = 1 against itself ----
S=$tmp/corr.csv
run "$BIN" --scores "$tmp/s-eap.h5" --ref "$tmp/s-eap.h5" -o "$S"
expect_silent "scores vs themselves"
check "correlation header" test "$(head -1 "$S")" = \
	"method,ref_method,metric,ref_metric,steps,edges,pearson,spearman,pearson_abs,spearman_abs"
check "one row" test "$(wc -l <"$S")" -eq 2
check "self: r = rho = 1" test "$(tail -1 "$S" | cut -d, -f7-10)" = "1.000000,1.000000,1.000000,1.000000"
check "self: every edge" test "$(col "$S" edges)" = "$n_edges"
check "method from the file" test "$(col "$S" method)" = eap

run "$BIN" --scores "$tmp/s-eap.h5" --ref "$tmp/s-exact.h5" --method myeap -o "$S"
expect_silent "eap vs exact"
check "eap vs exact: labels" test "$(tail -1 "$S" | cut -d, -f1-4)" = "myeap,exact,logit_diff,logit_diff"
check "eap vs exact: correlations in [-1, 1]" awk -F, 'NR == 2 {
	for (i = 7; i <= 10; i++) if (!($i >= -1 && $i <= 1)) exit 1 }' "$S"

# ---- circuits: IoU 1 against themselves, at every size ----
O=$tmp/overlap.csv
run "$BIN" --circuits "$tmp/c-eap.h5" --ref "$tmp/c-eap.h5" -o "$O"
expect_silent "circuits vs themselves"
check "overlap header" test "$(head -1 "$O")" = \
	"method,ref_method,edges_requested,edges,ref_edges,common_edges,edge_iou,nodes,ref_nodes,common_nodes,node_iou,edge_precision,edge_recall,node_precision,node_recall"
check "one row per size" test "$(col "$O" edges_requested | tr '\n' ',')" = "$sizes,"
check "self: edge IoU 1 everywhere" test "$(col "$O" edge_iou | sort -u)" = "1.000000"
check "self: node IoU 1 everywhere" test "$(col "$O" node_iou | sort -u)" = "1.000000"
check "self: common = edges" awk -F, 'NR > 1 && ($4 != $6 || $5 != $6 || $8 != $10) { exit 1 }' "$O"

run "$BIN" --circuits "$tmp/c-eap.h5" --ref "$tmp/c-exact.h5" -o "$O"
expect_silent "eap circuits vs exact"
check "eap vs exact: IoU in [0, 1], = common / union" awk -F, 'NR > 1 {
	if (!($7 >= 0 && $7 <= 1 && $11 >= 0 && $11 <= 1)) exit 1
	u = $4 + $5 - $6; if (u > 0 && ($7 - $6 / u > 1e-6 || $6 / u - $7 > 1e-6)) exit 1 }' "$O"
check "eap vs exact: precision = common / edges, recall = common / ref_edges" awk -F, 'function d(a, b) { return a - b < -1e-6 || a - b > 1e-6 }
	NR > 1 && $4 > 0 && $5 > 0 && (d($12, $6 / $4) || d($13, $6 / $5) || d($14, $10 / $8) || d($15, $10 / $9)) { exit 1 }' "$O"
check "the whole graph: IoU 1" test "$(tail -1 "$O" | cut -d, -f3,7,11)" = "$n_edges,1.000000,1.000000"

# ---- --fixed-ref: the manual circuits (issue #16), against themselves ----
MAN=data/paper/manual-circuits
bin/eap-prune --from-json $MAN/ioi.json --as-is -o "$tmp/m-ioi.h5" &&
	bin/eap-prune --from-json $MAN/greater-than.json --as-is -o "$tmp/m-gt.h5" ||
	{ echo "eap-compare.sh: cannot load the manual circuits"; exit 1; }
run "$BIN" --circuits "$tmp/m-ioi.h5" --ref "$tmp/m-ioi.h5" --fixed-ref -o "$O"
expect_silent "manual IOI vs itself"
# 215 edges; 26 heads + m11, input not counted; precision = recall = 1
check "IOI: 215 edges, 27 nodes, P = R = 1" test "$(tail -1 "$O" | cut -d, -f4-6,8-10,12-15)" = \
	"215,215,215,27,27,27,1.000000,1.000000,1.000000,1.000000"
run "$BIN" --circuits "$tmp/m-ioi.h5" --ref "$tmp/m-ioi.h5" --fixed-ref --no-mlp -o "$O"
expect_silent "manual IOI vs itself, no MLP"
# the paper's IOI protocol: 26 heads; the 2 edges of m11 leave FILE's side only
check "IOI --no-mlp: 26 heads, 213 of 215 edges" test "$(tail -1 "$O" | cut -d, -f4-6,8-10,12-15)" = \
	"213,215,213,26,26,26,1.000000,0.990698,1.000000,1.000000"
run "$BIN" --circuits "$tmp/m-gt.h5" --ref "$tmp/m-gt.h5" --fixed-ref -o "$O"
check "greater-than: 240 edges, 19 nodes, P = R = 1" test "$(tail -1 "$O" | cut -d, -f4-6,8-10,12-15)" = \
	"240,240,240,19,19,19,1.000000,1.000000,1.000000,1.000000"
run "$BIN" --circuits "$tmp/m-gt.h5" --ref "$tmp/m-ioi.h5" --fixed-ref -o "$O"
check "greater-than vs IOI: precision = common / 240, recall = common / 215" awk -F, 'NR == 2 {
	c = $6; if ($4 != 240 || $5 != 215 || c >= 215) exit 1
	p = c / 240; r = c / 215; if ($12 - p > 1e-6 || p - $12 > 1e-6 || $13 - r > 1e-6 || r - $13 > 1e-6) exit 1 }' "$O"
# the manual IOI against a curve of the MIB EAP-IG scores, unpruned top-n
bin/eap-prune --scores "$tmp/s-12x12.h5" --sizes 1,2,3,50,199 --unpruned -o "$tmp/topn.h5" ||
	{ echo "eap-compare.sh: eap-prune --unpruned failed"; exit 1; }
run "$BIN" --circuits "$tmp/topn.h5" --ref "$tmp/m-ioi.h5" --fixed-ref --no-mlp -o "$O"
expect_silent "top-n vs the manual IOI"
check "one row per n, recall never falls" awk -F, 'NR > 1 { n++; if ($13 < r) exit 1; r = $13 } END { exit n != 5 }' "$O"
run "$BIN" --circuits "$tmp/c-eap.h5" --ref "$tmp/c-eap.h5" --fixed-ref -o "$X"
expect_err "--fixed-ref: a curve as the reference" 1 "$tmp/c-eap.h5: 5 circuits, but --fixed-ref wants one"
run "$BIN" --scores "$tmp/s-eap.h5" --ref "$tmp/s-eap.h5" --fixed-ref -o "$X"
expect_err "--fixed-ref with --scores" 2 "--fixed-ref and --no-mlp go with --circuits"
run "$BIN" --circuits "$tmp/m-ioi.h5" --ref "$tmp/m-ioi.h5" --no-mlp -o "$X"
expect_err "--no-mlp alone" 2 "--no-mlp goes with --fixed-ref"

# ---- --curves: AUC differences over seeds (issue #16) ----
for m in eap exact; do
	bin/eap-eval --model "$MODEL" --pairs "$tmp/pairs.csv" --circuit "$tmp/c-$m.h5" --bootstrap 0 \
		--summary "$tmp/sum-$m.csv" --h5 "$tmp/curve-$m.h5" -o "$tmp/curve-$m.csv" 2>"$tmp/err" ||
		{ echo "eap-compare.sh: eap-eval $m failed: $(cat "$tmp/err")"; exit 1; }
done
bin/eap-eval --model "$MODEL" --pairs "$tmp/pairs2.csv" --circuit "$tmp/c-eap.h5" --bootstrap 0 \
	--h5 "$tmp/curve-other.h5" -o "$tmp/curve-other.csv" 2>"$tmp/err" ||
	{ echo "eap-compare.sh: eap-eval on pairs2 failed: $(cat "$tmp/err")"; exit 1; }
D=$tmp/diff.csv
run "$BIN" --curves "$tmp/curve-eap.h5" --ref "$tmp/curve-exact.h5" --curves "$tmp/curve-eap.h5" \
	--ref "$tmp/curve-exact.h5" --bootstrap 200 -o "$D"
expect_silent "--curves, two seeds"
check "--curves header" test "$(head -1 "$D")" = "method,ref_method,metric,seeds,examples,auc,ref_auc,auc_diff,ci_low,ci_high"
# the areas are eap-eval's own auc_log; the difference theirs
check "--curves: the summaries' AUCs, their difference, inside the interval" awk -F, '
	FILENAME ~ /sum-eap/ && FNR == 2 { a = $4 } FILENAME ~ /sum-exact/ && FNR == 2 { b = $4 }
	FILENAME ~ /diff/ && FNR == 2 { ok = $4 == 2 && $5 == 6 && ($6 - a) ^ 2 < 1e-10 && ($7 - b) ^ 2 < 1e-10 &&
		($8 - (a - b)) ^ 2 < 1e-10 && $9 <= $8 + 1e-9 && $8 <= $10 + 1e-9 }
	END { exit !ok }' "$tmp/sum-eap.csv" "$tmp/sum-exact.csv" "$D"
run "$BIN" --curves "$tmp/curve-eap.h5" --ref "$tmp/curve-eap.h5" -o "$D"
check "--curves: a method against itself differs by 0" test "$(tail -1 "$D" | cut -d, -f8-10)" = "0.000000,0.000000,0.000000"
run "$BIN" --curves "$tmp/curve-eap.h5" --curves "$tmp/curve-eap.h5" --ref "$tmp/curve-exact.h5" -o "$X"
expect_err "--curves without a --ref each" 2 "give one --ref FILE for each --curves FILE"
run "$BIN" --curves "$tmp/curve-eap.h5" --ref "$tmp/curve-other.h5" -o "$X"
expect_err "--curves of other pairs" 1 "$tmp/curve-other.h5: pairs_sha256 differs"
run "$BIN" --curves "$tmp/c-eap.h5" --ref "$tmp/curve-eap.h5" -o "$X"
expect_err "--curves given a circuits file" 1 "$tmp/c-eap.h5"
run "$BIN" --curves "$tmp/curve-eap.h5" --ref "$tmp/curve-eap.h5" --bootstrap x -o "$X"
expect_err "bad --bootstrap" 2 "--bootstrap wants a whole number"

# ---- files that do not belong together: exit 1, one line, no output ----
X=$tmp/x.csv
run "$BIN" --scores "$tmp/s-eap.h5" --ref "$tmp/s-12x12.h5" -o "$X"
expect_err "scores of another graph shape" 1 "$tmp/s-12x12.h5: graph is 12 x 12 (n_layer x n_head), but"
run "$BIN" --circuits "$tmp/c-12x12.h5" --ref "$tmp/c-eap.h5" -o "$X"
expect_err "circuits of another graph shape" 1 "$tmp/c-eap.h5: graph is 2 x 4"
run "$BIN" --scores "$tmp/s-eap.h5" --ref "$tmp/s-other.h5" -o "$X"
expect_err "scores of other pairs" 1 "pairs_sha256"
run "$BIN" --circuits "$tmp/c-eap.h5" --ref "$tmp/c-fewer.h5" -o "$X"
expect_err "a curve of fewer sizes" 1 "$tmp/c-fewer.h5: 4 circuits, but"
run "$BIN" --circuits "$tmp/c-eap.h5" --ref "$tmp/c-other.h5" -o "$X"
expect_err "a curve of other sizes" 1 "$tmp/c-other.h5: circuit 3 was requested with 30 edges"
run "$BIN" --scores "$tmp/missing.h5" --ref "$tmp/s-eap.h5" -o "$X"
expect_err "missing file" 1 "$tmp/missing.h5: cannot open"
run "$BIN" --circuits "$tmp/c-eap.h5" --ref "$tmp/missing.h5" -o "$X"
expect_err "missing reference" 1 "$tmp/missing.h5: cannot open"
run "$BIN" --scores "$tmp/pairs.csv" --ref "$tmp/s-eap.h5" -o "$X"
expect_err "not HDF5" 1 "$tmp/pairs.csv: not a readable HDF5 file"
run "$BIN" --circuits "$tmp/s-eap.h5" --ref "$tmp/c-eap.h5" -o "$X"
expect_err "scores given as circuits" 1 "$tmp/s-eap.h5"
run "$BIN" --scores "$tmp/s-eap.h5" --ref "$tmp/s-eap.h5" -o "$tmp/no-such-dir/x.csv"
expect_err "unwritable -o" 1 "no-such-dir/x.csv"
check "nothing written on bad input" absent "$X"

# ---- eap-table: join, formats, mismatches ----
printf 'method,metric,circuits,auc_log,cpr,cmd,min_edges_f80,min_edges_f90\nmyeap,logit_diff,5,0.812345,0.700000,0.250000,10,-1\n' >"$tmp/sum.csv"
cp "$S" "$tmp/cor.csv"  # method myeap (eap vs exact above)
run "$TAB" --help
if [ "$rc" -eq 0 ] && head -n 1 "$tmp/out" | grep -q '^Usage: eap-table ' &&
	[ ! -s "$tmp/err" ]; then ok; else bad "eap-table --help"; fi
run "$TAB" -o "$tmp/t.csv" --md "$tmp/t.md" --tex "$tmp/t.tex" \
	my_task "$tmp/sum.csv" "$tmp/cor.csv" my_task "$tmp/sum.csv" "$tmp/cor.csv"
expect_silent "eap-table"
check "table header" test "$(head -1 "$tmp/t.csv")" = \
	"task,method,metric,auc_log,cpr,cmd,min_edges_f80,min_edges_f90,pearson,spearman,pearson_abs,spearman_abs"
check "table values copied" test "$(sed -n 2p "$tmp/t.csv" | cut -d, -f1-8)" = \
	"my_task,myeap,logit_diff,0.812345,0.700000,0.250000,10,-1"
check "table correlations copied" test "$(sed -n 2p "$tmp/t.csv" | cut -d, -f9-10)" = \
	"$(tail -1 "$S" | cut -d, -f7-8)"
check "markdown rows" test "$(grep -c '^| my\\_task | myeap | logit\\_diff | 0.812 | 0.700 | 0.250 | 10 |' "$tmp/t.md")" -eq 2
check "tex: booktabs tabular" sh -c "grep -q '^\\\\begin{tabular}' '$tmp/t.tex' &&
	grep -q '^\\\\toprule' '$tmp/t.tex' && grep -q '^\\\\midrule' '$tmp/t.tex' &&
	grep -q '^\\\\bottomrule' '$tmp/t.tex' && grep -q '^\\\\end{tabular}' '$tmp/t.tex'"
check "tex: underscores escaped, task named once" test \
	"$(grep -c 'my\\_task & myeap & logit\\_diff & 0.812' "$tmp/t.tex")" -eq 1
check "tex: no bare underscore" sh -c "! grep -v '^%' '$tmp/t.tex' | grep -q '[^\\\\]_[^{]'"
run "$TAB" --key steps -o "$tmp/k.csv" 5 "$tmp/sum.csv" "$tmp/cor.csv"
expect_silent "eap-table --key"
check "--key names the first column" test "$(head -1 "$tmp/k.csv" | cut -d, -f1)" = steps

Y=$tmp/y.csv
run "$TAB" -o "$Y" ioi "$tmp/sum.csv"
expect_err "not triples" 2 "give LABEL SUMMARY CORRELATION triples" eap-table
run "$TAB" ioi "$tmp/sum.csv" "$tmp/cor.csv"
expect_err "eap-table without -o" 2 "-o FILE is required" eap-table
sed 's/^myeap/eap/' "$tmp/sum.csv" >"$tmp/sum-eap.csv"
run "$TAB" -o "$Y" --md "$tmp/y.md" ioi "$tmp/sum-eap.csv" "$tmp/cor.csv"
expect_err "method mismatch" 1 "$tmp/cor.csv:2: method 'myeap', but $tmp/sum-eap.csv is of method 'eap'" eap-table
sed 's/0.812345/zero/' "$tmp/sum.csv" >"$tmp/sum-bad.csv"
run "$TAB" -o "$Y" ioi "$tmp/sum-bad.csv" "$tmp/cor.csv"
expect_err "not a number" 1 "$tmp/sum-bad.csv:2: auc_log 'zero' is not a number" eap-table
cut -d, -f1-6 "$tmp/sum.csv" >"$tmp/sum-short.csv"
run "$TAB" -o "$Y" ioi "$tmp/sum-short.csv" "$tmp/cor.csv"
expect_err "missing column" 1 "$tmp/sum-short.csv:1: no column 'min_edges_f80'" eap-table
run "$TAB" -o "$Y" ioi "$tmp/sum.csv" "$tmp/missing.csv"
expect_err "missing CSV" 1 "$tmp/missing.csv" eap-table
run "$TAB" -o "$Y" --tex "$tmp/no-such-dir/y.tex" ioi "$tmp/sum.csv" "$tmp/cor.csv"
expect_err "unwritable --tex" 1 "no-such-dir/y.tex" eap-table
check "eap-table leaves nothing on failure" absent "$Y" "$tmp/y.md"

finish
