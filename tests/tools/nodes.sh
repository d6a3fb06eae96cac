#!/bin/sh
# Node and neuron scores (eap-score --level) and node circuits (eap-prune
# --level node) on the tiny-word fixture model: a node's score is the sum
# of its outgoing edge scores and of its neurons' for the gradient
# methods, --level leaves the edge scores unchanged, exact node scores
# score no edge unless asked, node circuits hold exactly the edges among
# the kept nodes, the JSON carries the node scores in the reference's
# sign, and bad input gets one error line, exit 1 or 2 and no output.
# Run from the repository root after `make`.
set -u
M=tests/fixtures/models/tiny-word
. tests/tools/lib/harness.sh

cp tests/fixtures/pairs/tiny-word.csv "$T/pairs.csv"
S="bin/eap-score --model $M --pairs $T/pairs.csv --batch 2"

# one number per line of a dataset
vals() { h5dump -m %.9g -d "$1" -y -w 0 "$2" | sed -n '/DATA {/,/}/p' | tr ',' '\n' |
	grep -E '[0-9]' | grep -vE 'DATA|}' | tr -d ' '; }
# row sums of a dataset with $3 columns, one per line
rowsum() { vals "$1" "$2" | awk -v c="$3" '{ s += $1 } NR % c == 0 { printf "%.9g\n", s; s = 0 }'; }
# whether two columns of numbers agree within rel 1e-5 + abs 1e-7
agree() { paste "$1" "$2" | awk '{ d = $1 - $2; if (d < 0) d = -d; a = $2 < 0 ? -$2 : $2
	if (d > 1e-5 * a + 1e-7) { print "row " NR ": " $1 " vs " $2; bad = 1 } } END { exit bad }'; }

NB=27 # backward inputs of the 2 x 4 graph
for m in eap eap-ig eap-ig-act clean-corrupted; do
	$S --method $m -o "$T/e-$m.h5" && $S --method $m --level neuron -o "$T/n-$m.h5" ||
		bad "$m: eap-score --level neuron failed"
	h5diff "$T/e-$m.h5" "$T/n-$m.h5" /scores /scores >/dev/null && ok || bad "$m: --level changes /scores"
	h5dump -d /node_scores "$T/e-$m.h5" >/dev/null 2>&1 && bad "$m: edge level wrote /node_scores" || ok
	vals /node_scores "$T/n-$m.h5" > "$T/node"
	rowsum /scores "$T/n-$m.h5" $NB > "$T/edges"
	rowsum /neuron_scores "$T/n-$m.h5" 32 > "$T/neurons"
	[ "$(wc -l < "$T/node")" -eq 11 ] && ok || bad "$m: $(wc -l < "$T/node") node scores, want 11"
	agree "$T/edges" "$T/node" && ok || bad "$m: node score != sum of its edges' scores"
	agree "$T/neurons" "$T/node" && ok || bad "$m: node score != sum of its neurons' scores"
done
# node level alone: no /neuron_scores
$S --method eap --level node -o "$T/node.h5" && ok || bad "--level node"
h5dump -d /neuron_scores "$T/node.h5" >/dev/null 2>&1 && bad "--level node wrote /neuron_scores" || ok

# exact at node level: no edge scored (a partial file), unless --edges
$S --method exact --level node -o "$T/x.h5" && ok || bad "exact --level node"
[ "$(vals /scored "$T/x.h5" | grep -c '^1$')" -eq 0 ] && ok || bad "exact --level node scored edges"
printf 'm1->logits\n' > "$T/one.txt"
$S --method exact --level node --edges "$T/one.txt" -o "$T/x1.h5" && ok || bad "exact --level node --edges"
# m1 has one outgoing edge: its exact node score is that edge's exact score
node_m1=$(vals /node_scores "$T/x1.h5" | sed -n 11p)
edge_m1=$(vals /scores "$T/x1.h5" | sed -n "$((10 * NB + 27))p")
awk -v a="$node_m1" -v b="$edge_m1" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-5 * (b < 0 ? -b : b) + 1e-7) }' &&
	ok || bad "exact: m1's node score $node_m1 != m1->logits $edge_m1"
h5diff -q "$T/x.h5" "$T/x1.h5" /node_scores /node_scores >/dev/null && ok || bad "--edges changed the node scores"

# node circuits: all 11 nodes, unpruned = every edge; top 3 = the edges
# among them, pruned
P="bin/eap-prune --scores $T/n-eap-ig.h5 --level node"
$P --topn 11 --unpruned -o "$T/all.h5" && ok || bad "--level node --topn 11"
h5dump -a n_edges "$T/all.h5" | grep -q '(0): 110$' && ok || bad "all nodes: not all 110 edges"
$P --topn 3 -o "$T/c3.h5" --json "$T/c3.json" --dot "$T/c3.dot" && ok || bad "--level node --topn 3"
h5dump -a selection "$T/c3.h5" | grep -q '"node topn 3"' && ok || bad "node selection attribute"
# the kept edges' sources are at most 3 nodes, all among the top 3 |score|
top3=$(vals /node_scores "$T/n-eap-ig.h5" | awk '{ a = $1 < 0 ? -$1 : $1; print a, NR - 1 }' |
	sort -g -r -k1,1 | head -3 | awk '{ print $2 }' | sort -n | tr '\n' ' ')
srcs=$(vals /in_graph "$T/c3.h5" | awk -v c=$NB '$1 == 1 { print int((NR - 1) / c) }' | sort -n -u | tr '\n' ' ')
for u in $srcs; do
	case " $top3" in *" $u "*) ok ;; *) bad "node circuit has edges out of node $u, top 3 are $top3" ;; esac
done
[ -n "$srcs" ] && ok || bad "node circuit of 3 is empty"
# the JSON's node scores are the file's, in the reference's sign
first=$(vals /node_scores "$T/n-eap-ig.h5" | head -1)
sed 's/.*"input": {"in_graph": [a-z]*, "score": \([^,]*\),.*/\1/' "$T/c3.json" |
	awk -v s="$first" '{ d = $1 + s; if (d < 0) d = -d; exit !(d <= 1e-6 * (s < 0 ? -s : s) + 1e-9) }' &&
	ok || bad "JSON input score is not -($first)"
grep -q '"neurons_scores": \[' "$T/c3.json" && ok || bad "JSON has no neurons_scores"
# a curve of node counts
$P --sizes 1,2,5,11 -o "$T/cs.h5" && ok || bad "--level node --sizes"
[ "$(vals /edges_requested "$T/cs.h5" | tail -1)" -eq 110 ] && ok || bad "node curve: 11 nodes != 110 edges"

# bad input: one line, exit 2 (usage) or 1, nothing written
run $S --method eap --level nodes -o "$T/bad.h5"
expect_tool_err "--level nodes" 2 eap-score "unknown --level"
check "no output after a bad --level" absent "$T/bad.h5"
run $S --method exact --level node --shard 1/2 -o "$T/bad.h5"
expect_tool_err "--level with --shard" 2 eap-score "cannot be sharded"
run bin/eap-prune --scores "$T/e-eap.h5" --level node --topn 3 -o "$T/bad.h5"
expect_tool_err "node circuit without node scores" 1 eap-prune "no /node_scores"
check "no output without node scores" absent "$T/bad.h5"
run $P --sizes 1,12 -o "$T/bad.h5"
expect_tool_err "node size beyond the graph" 1 eap-prune "exceeds the graph's 11 forward nodes"
check "no output for a size beyond the graph" absent "$T/bad.h5"
run $P --greedy 3 -o "$T/bad.h5"
expect_tool_err "node greedy" 2 eap-prune "--level node takes"
run $P --level neuron --topn 3 -o "$T/bad.h5"
expect_tool_err "neuron circuits" 2 eap-prune "--level wants edge or node"
finish
